/**
 * `sluice sync REPOSITORY`: Sync Now from the command line, against the data directory (the run
 * takes the repository's lease, so it never overlaps a scheduled run of a gateway on the same
 * store) or against a running gateway (`--url`, through its admin API). Exit 0 only when the
 * whole run succeeded; 3 when it ran through with conflicts or invalid records; 69 when the peer
 * failed; 78 when the repository needs reconfiguring.
 *
 * Also home of what repo/task/worker share: one `SyncCommands` with a local and an HTTP side.
 */
import type { Command } from 'commander';
import { SluiceError } from '../../errors.js';
import { ensureIdentity } from '../../gateway-identity.js';
import { createLogger, type Logger } from '../../logger.js';
import { systemClock } from '../../s3xml/timestamps.js';
import type { JobRecord, RunRecord, Store, SyncTaskRecord } from '../../store/store.js';
import type { PeerIdentity, RepositoryInput, RepositoryPatch, RepositoryView } from '../../sync/repository-registry.js';
import { createMappingLinker } from '../../sync/mapping-link.js';
import { createSyncRuntime, type SyncRuntime } from '../../sync/runtime.js';
import { NETWORK_FAILURE_CODES, offlineFallback } from '../../sync/run.js';
import type { ScheduleInput, TaskInput } from '../../sync/task-registry.js';
import { configFrom } from '../context.js';
import { EXIT } from '../exit-codes.js';
import { openStore } from '../../start.js';

export interface GatewayOptions {
  data?: string;
  store?: string;
  /** A running gateway's base URL: commands go through its admin API. */
  url?: string;
  apiUser?: string;
  apiPassword?: string;
}

export interface RunReport {
  /** `sync`, `ushahidi`…; absent from older gateways' answers. */
  kind?: string;
  status: RunRecord['status'];
  counts: Record<string, number>;
  message?: string;
  duration_ms?: number;
  id: string;
}

/** What the sync commands need, whether the store is local or behind a running gateway. */
export interface SyncCommands {
  fingerprint(url: string, proxy?: string): Promise<PeerIdentity | undefined>;
  addRepository(input: RepositoryInput): Promise<RepositoryView>;
  listRepositories(): Promise<RepositoryView[]>;
  removeRepository(reference: string): Promise<void>;
  updateRepository(reference: string, patch: RepositoryPatch): Promise<RepositoryView>;
  /** Links a mapping instance (checked: it must exist and compile) or, with null, unlinks. */
  linkMapping(reference: string, instance: string | null): Promise<void>;
  setSchedule(reference: string, input: ScheduleInput): Promise<JobRecord>;
  addTask(reference: string, resource: string, input: TaskInput): Promise<SyncTaskRecord>;
  /** Changes the task of `resource` with the repository (TASK_NOT_FOUND when there is none). */
  updateTask(reference: string, resource: string, input: TaskInput): Promise<SyncTaskRecord>;
  /**
   * Tables this gateway holds or has heard the peer advertise (LAN discovery); undefined when it
   * cannot tell (through --url).
   */
  knownTables(reference: string): Promise<string[] | undefined>;
  listTasks(reference?: string): Promise<SyncTaskRecord[]>;
  removeTask(id: string): Promise<void>;
  syncNow(reference: string): Promise<RunReport>;
}

export function addGatewayOptions(command: Command): Command {
  return command
    .option('--data <dir>', 'data directory')
    .option('--store <locator>', 'sqlite (default) or a mongodb:// URL')
    .option('--url <gateway>', 'a running gateway (its admin API) instead of the data directory')
    .option('--api-user <user>', 'admin API user with --url (default SLUICE_ADMIN_USER or admin)')
    .option('--api-password <password>', 'admin API password with --url (default SLUICE_ADMIN_PASSWORD)');
}

function quietLogger(): Logger {
  return createLogger({ level: 'warn', destination: process.stderr });
}

/** Opens the data directory's store and the sync module for one command, and closes both. */
async function withLocal<T>(options: GatewayOptions, work: (commands: SyncCommands) => Promise<T>): Promise<T> {
  const config = configFrom({ ...(options.data ? { data: options.data } : {}), ...(options.store ? { store: options.store } : {}) });
  const store = await openStore(config);
  let runtime: SyncRuntime | undefined;
  try {
    const identity = await localIdentity(store, config.name);
    runtime = createSyncRuntime({ store, config, logger: quietLogger(), clock: systemClock, identity });
    const { sync } = runtime;
    return await work({
      fingerprint: (url, proxy) => sync.repositories.fingerprint(url, proxy),
      addRepository: (input) => sync.repositories.add(input),
      listRepositories: () => sync.repositories.list(),
      removeRepository: (reference) => sync.repositories.remove(reference),
      updateRepository: (reference, patch) => sync.repositories.update(reference, patch),
      async linkMapping(reference, instance) {
        await createMappingLinker({ store, clock: systemClock, mappingsDir: config.mappingsDir, repositories: sync.repositories }).link(reference, instance);
      },
      setSchedule: (reference, input) => sync.tasks.setSchedule(reference, input),
      addTask: (reference, resource, input) => sync.tasks.add(reference, resource, input),
      async updateTask(reference, resource, input) {
        return sync.tasks.update(taskOf(await sync.tasks.list(reference), reference, resource).id, input);
      },
      async knownTables(reference) {
        const repository = await sync.repositories.resolve(reference);
        const advertised = (await store.getDiscoveredGateway(repository.uuid))?.advert['tables'];
        return [...(await store.resources()).map((entry) => entry.resource), ...(Array.isArray(advertised) ? advertised.filter((table): table is string => typeof table === 'string') : [])];
      },
      listTasks: (reference) => sync.tasks.list(reference),
      removeTask: (id) => sync.tasks.remove(id),
      async syncNow(reference) {
        const { run } = await sync.syncNow(reference, { trigger: 'cli' });
        return report(run);
      },
    });
  } finally {
    await runtime?.close();
    await store.close();
  }
}

/** The gateway's identity as stored; a fresh data directory gets one (as `sluice start` would). */
async function localIdentity(store: Store, configuredName: string): Promise<{ uuid: string; name: string }> {
  const uuid = await store.getSetting('gateway.uuid');
  if (uuid) return { uuid, name: (await store.getSetting('gateway.name')) ?? configuredName };
  return ensureIdentity(store, configuredName);
}

function report(run: RunRecord): RunReport {
  return {
    id: run.id,
    kind: run.kind,
    status: run.status,
    counts: run.counts,
    ...(run.message === undefined ? {} : { message: run.message }),
    ...(run.duration_ms === undefined ? {} : { duration_ms: run.duration_ms }),
  };
}

async function withRemote<T>(options: GatewayOptions, work: (commands: SyncCommands) => Promise<T>): Promise<T> {
  const config = configFrom({});
  const base = options.url!.replace(/\/+$/, '');
  const user = options.apiUser ?? config.adminUser;
  const password = options.apiPassword ?? config.adminPassword;
  if (!password) {
    throw new SluiceError('BAD_CONFIG', 'The admin API needs a password', { fix: 'Give --api-password or set SLUICE_ADMIN_PASSWORD' });
  }
  const authorization = `Basic ${Buffer.from(`${user}:${password}`, 'utf8').toString('base64')}`;
  const call = async <R>(method: string, path: string, body?: unknown): Promise<R> => {
    let response: Response;
    try {
      response = await fetch(`${base}${path}`, {
        method,
        headers: { authorization, accept: 'application/json', ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
    } catch (error) {
      throw new SluiceError('PEER_UNAVAILABLE', `The gateway at ${base} cannot be reached: ${(error as Error).message}`, { status: 502, fix: 'Check --url and that the gateway runs' });
    }
    const text = await response.text();
    let parsed: unknown;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      throw new SluiceError('GATEWAY_BAD_RESPONSE', `${method} ${base}${path} answered HTTP ${response.status} with something other than JSON`, {
        status: 502,
        fix: 'Check that --url is the base URL of a Sluice gateway, e.g. http://127.0.0.1:8080',
      });
    }
    if (!response.ok) {
      const failure = (parsed ?? {}) as { code?: string; message?: string; fix?: string };
      // The gateway's fix speaks of HTTP; here the credentials come from flags or the environment.
      const fix =
        response.status === 401
          ? `Check --api-user and --api-password (by default SLUICE_ADMIN_USER, else "admin", and SLUICE_ADMIN_PASSWORD); ${user} was ${failure.code === 'AUTH_REQUIRED' ? 'not sent' : 'refused'} by ${base}`
          : failure.fix;
      throw new SluiceError(failure.code ?? 'GATEWAY_ERROR', failure.message ?? `HTTP ${response.status}`, {
        status: response.status,
        ...(fix ? { fix } : {}),
      });
    }
    return parsed as R;
  };
  const ref = (reference: string) => encodeURIComponent(reference);
  return work({
    async fingerprint(url, proxy) {
      const found = await call<{ uuid: string | null; name?: string; software: string }>('POST', '/api/repositories/fingerprint', { url, ...(proxy ? { proxy } : {}) });
      return found.uuid ? { uuid: found.uuid, ...(found.name ? { name: found.name } : {}), software: 'sluice', source: 'config.json' } : undefined;
    },
    addRepository: (input) =>
      call('POST', '/api/repositories', {
        name: input.name,
        url: input.url,
        ...(input.username === undefined ? {} : { username: input.username, password: input.password }),
        ...(input.proxy ? { proxy: input.proxy } : {}),
        ...(input.accept_push === undefined ? {} : { accept_push: input.accept_push }),
        ...(input.expect_uuid === undefined ? {} : { uuid: input.expect_uuid }),
        ...(input.register === undefined ? {} : { register: input.register }),
        ...(input.wire_format === undefined ? {} : { wire_format: input.wire_format }),
        ...(input.page_size === undefined ? {} : { page_size: input.page_size }),
        ...(input.max_bytes_per_second === undefined ? {} : { max_bytes_per_second: input.max_bytes_per_second }),
      }),
    listRepositories: () => call('GET', '/api/repositories'),
    removeRepository: (reference) => call('DELETE', `/api/repositories/${ref(reference)}`),
    // The API addresses a repository by uuid: a name is looked up first.
    async updateRepository(reference, patch) {
      const all = await call<RepositoryView[]>('GET', '/api/repositories');
      const found = all.find((repository) => repository.uuid === reference || repository.name === reference);
      if (!found) throw new SluiceError('REPOSITORY_NOT_FOUND', `No repository named ${reference}`, { status: 404, fix: 'See `sluice repo list`' });
      return call('PATCH', `/api/repositories/${ref(found.uuid)}`, patch);
    },
    async linkMapping(reference, instance) {
      const all = await call<RepositoryView[]>('GET', '/api/repositories');
      const found = all.find((repository) => repository.uuid === reference || repository.name === reference);
      if (!found) throw new SluiceError('REPOSITORY_NOT_FOUND', `No repository named ${reference}`, { status: 404, fix: 'See `sluice repo list`' });
      await call('PATCH', `/api/repositories/${ref(found.uuid)}`, { mapping: instance });
    },
    setSchedule: (reference, input) => call('PUT', `/api/repositories/${ref(reference)}/schedule`, input),
    addTask: (reference, resource, input) => call('POST', `/api/repositories/${ref(reference)}/tasks`, { resource, ...input }),
    async updateTask(reference, resource, input) {
      const task = taskOf(await call<SyncTaskRecord[]>('GET', `/api/repositories/${ref(reference)}/tasks`), reference, resource);
      return call('PATCH', `/api/tasks/${ref(task.id)}`, input);
    },
    knownTables: async () => undefined,
    listTasks: (reference) => (reference === undefined ? listAllTasks(call) : call('GET', `/api/repositories/${ref(reference)}/tasks`)),
    removeTask: (id) => call('DELETE', `/api/tasks/${ref(id)}`),
    async syncNow(reference) {
      const run = await call<RunRecord>('POST', `/api/repositories/${ref(reference)}/sync`, { wait: true });
      return report({ ...run, captures: [] });
    },
  });
}

function taskOf(tasks: SyncTaskRecord[], reference: string, resource: string): SyncTaskRecord {
  const task = tasks.find((candidate) => candidate.resource === resource);
  if (!task) {
    throw new SluiceError('TASK_NOT_FOUND', `${reference} has no task for ${resource}`, { status: 404, fix: `Add one with sluice task add ${reference} ${resource}; sluice task list ${reference} shows the others` });
  }
  return task;
}

async function listAllTasks(call: <R>(method: string, path: string) => Promise<R>): Promise<SyncTaskRecord[]> {
  const repositories = await call<RepositoryView[]>('GET', '/api/repositories');
  const tasks: SyncTaskRecord[] = [];
  for (const repository of repositories) tasks.push(...(await call<SyncTaskRecord[]>('GET', `/api/repositories/${encodeURIComponent(repository.uuid)}/tasks`)));
  return tasks;
}

export function withSyncCommands<T>(options: GatewayOptions, work: (commands: SyncCommands) => Promise<T>): Promise<T> {
  return options.url ? withRemote(options, work) : withLocal(options, work);
}

/** The exit code of a finished run: 0 only for a run that fully succeeded. */
export function exitCodeForRun(status: RunRecord['status']): number {
  switch (status) {
    case 'success':
      return EXIT.OK;
    case 'warning':
      return EXIT.PARTIAL;
    case 'fatal':
      return EXIT.CONFIG;
    case 'error':
    case 'interrupted':
    case 'running':
      return EXIT.UNAVAILABLE;
  }
}

export function registerSyncCommand(program: Command): void {
  addGatewayOptions(
    program
      .command('sync')
      .description('synchronise with a repository now: pull then push every task (exit 0 only if all of it succeeded)')
      .argument('<repository>', 'repository name or uuid')
      .option('--json', 'print the run as JSON'),
  ).action(async (repository: string, options: GatewayOptions & { json?: boolean }) => {
    const run = await withSyncCommands(options, (commands) => commands.syncNow(repository));
    if (options.json) {
      process.stdout.write(`${JSON.stringify(run, null, 2)}\n`);
    } else {
      const counts = run.counts;
      // An Ushahidi poll counts posts in, but the records it writes (tickets, locations, incident
      // types) in created/updated: say which is which.
      process.stdout.write(
        run.kind?.startsWith('ushahidi')
          ? `${repository}: ${run.status} in ${run.duration_ms ?? 0} ms; polled ${counts.pull_records ?? 0} posts (records written: ${counts.pull_created ?? 0} created, ${
              counts.pull_updated ?? 0
            } updated, ${counts.pull_unchanged ?? 0} unchanged), pushed ${counts.push_updated ?? 0} status${counts.push_updated === 1 ? '' : 'es'} (${counts.push_skipped ?? 0} already there)\n`
          : `${repository}: ${run.status} in ${run.duration_ms ?? 0} ms; pulled ${counts.pull_records ?? 0} (${counts.pull_created ?? 0} created, ${counts.pull_updated ?? 0} updated, ${
              counts.pull_deleted ?? 0
            } deleted), pushed ${counts.push_records ?? 0}; ${(counts.pull_conflicts ?? 0) + (counts.push_conflicts ?? 0)} conflicts\n`,
      );
      if (run.status !== 'success' && run.message) process.stderr.write(`  ${run.message}\n`);
      if (run.message && NETWORK_FAILURE_CODES.some((code) => run.message!.includes(`${code}:`))) {
        process.stderr.write(`  ${offlineFallback('PEER_UNAVAILABLE', repository).replace(/^\. /, '')}\n`);
      }
      process.stderr.write(`  run ${run.id}: see sluice's log (GET /api/log?run_id=${run.id})\n`);
    }
    process.exitCode = exitCodeForRun(run.status);
  });
}
