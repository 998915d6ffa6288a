/**
 * The sync module put together from what the composition root hands in (store, clock, logger,
 * transport, secret box, this gateway's identity). Everything the API, the CLI and the worker use
 * goes through this object; none of it reaches for the network, the disk or the environment.
 */
import { SluiceError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { RetryOptions } from '../net/retry.js';
import type { SecretBox } from '../secrets.js';
import type { Clock } from '../s3xml/timestamps.js';
import type { JobRecord, RepositoryRecord, Store } from '../store/store.js';
import type { CaptureLimits } from './capture.js';
import { ConflictQueue } from './conflict-queue.js';
import type { SyncMappings } from './mapping-step.js';
import { pushPolicyResolver, type PushPolicies } from './push-policies.js';
import { RepositoryRegistry } from './repository-registry.js';
import type { RunOutcome } from './run.js';
import { SyncRunner, type RunRequest } from './runner.js';
import { JobScheduler } from './scheduler.js';
import { TaskRegistry } from './task-registry.js';
import type { PeerTransport } from './transport.js';

export const DEFAULT_TIMEOUT_MS = 30_000;
export const DEFAULT_PAGE_SIZE = 1000;
export const DEFAULT_LEASE_TTL_MS = 60_000;
export const DEFAULT_KEEP_CAPTURES = 50;
const PROXY_SETTING = 'sync.proxy';

/**
 * Systems that are registered like repositories but are not Eden peers (Ushahidi sources, by
 * `apitype`): their runs take the same lease, log and run history, through their own runner.
 */
export interface ExternalSources {
  handles(repository: RepositoryRecord): boolean;
  /** Sync Now and the `sync` job of such a repository. */
  run(repository: RepositoryRecord, request: RunRequest): Promise<RunOutcome>;
  /** Runs a job of a kind the sync module does not know; false when the job is not theirs. */
  runJob(job: JobRecord): Promise<boolean>;
}

/** Several kinds of external sources (Ushahidi, drop folders) behind the one `sources` slot. */
export function combineSources(all: readonly ExternalSources[]): ExternalSources {
  return {
    handles: (repository) => all.some((sources) => sources.handles(repository)),
    run(repository, request) {
      const owner = all.find((sources) => sources.handles(repository));
      if (!owner) throw new SluiceError('REPOSITORY_NOT_FOUND', `No runner handles repository ${repository.name} (${repository.apitype})`, { status: 400 });
      return owner.run(repository, request);
    },
    async runJob(job) {
      for (const sources of all) if (await sources.runJob(job)) return true;
      return false;
    },
  };
}

export interface SyncModuleDeps {
  store: Store;
  clock: Clock;
  logger: Logger;
  transport: PeerTransport;
  secrets: SecretBox;
  identity: { uuid: string; name: string };
  /** This gateway's domain (uids prefix on export, stripped on import). */
  localDomain?: string;
  /** Lease holder id of this process (`host:pid:random`). */
  holder: string;
  isHolderAlive?: (holder: string) => boolean;
  timeoutMs?: number;
  pageSize?: number;
  leaseTtlMs?: number;
  retry?: RetryOptions;
  captureLimits?: CaptureLimits;
  keepCaptures?: number;
  /** How often the worker reads the job list again. */
  schedulerReloadMs?: number;
  sources?: ExternalSources;
  /** Value mappings of repositories that link one (mapping-step.ts); built by runtime.ts. */
  mappings?: SyncMappings;
}

export interface SyncSettingsView {
  uuid: string;
  name: string;
  proxy?: string;
}

export interface SyncModule {
  readonly repositories: RepositoryRegistry;
  readonly tasks: TaskRegistry;
  readonly conflicts: ConflictQueue;
  readonly runner: SyncRunner;
  /** For the passive push endpoint (sync-endpoints.ts `pushPolicies`). */
  readonly pushPolicies: (repository: string, resource: string) => Promise<PushPolicies | undefined>;
  /** Runs a repository now (Sync Now), by uuid or name. */
  syncNow(repository: string, request?: RunRequest): Promise<RunOutcome>;
  settings(): Promise<SyncSettingsView>;
  setProxy(proxy: string | null): Promise<SyncSettingsView>;
  /** A scheduler for the worker (`sluice worker`, `sluice start`). */
  createScheduler(): JobScheduler;
}

export function createSyncModule(deps: SyncModuleDeps): SyncModule {
  const { store, clock } = deps;
  const defaultProxy = async () => (await store.getSetting(PROXY_SETTING)) || undefined;
  const common = {
    store,
    clock,
    transport: deps.transport,
    secrets: deps.secrets,
    identity: deps.identity,
    timeoutMs: deps.timeoutMs ?? DEFAULT_TIMEOUT_MS,
    ...(deps.retry ? { retry: deps.retry } : {}),
    defaultProxy,
  };
  const repositories = new RepositoryRegistry(common);
  const tasks = new TaskRegistry(store, clock, repositories);
  const conflicts = new ConflictQueue(store, clock);
  const runner = new SyncRunner({
    ...common,
    ...(deps.localDomain === undefined ? {} : { localDomain: deps.localDomain }),
    pageSize: deps.pageSize ?? DEFAULT_PAGE_SIZE,
    ...(deps.captureLimits ? { captureLimits: deps.captureLimits } : {}),
    keepCaptures: deps.keepCaptures ?? DEFAULT_KEEP_CAPTURES,
    ...(deps.mappings ? { mappings: deps.mappings } : {}),
    logger: deps.logger,
    lease: {
      holder: deps.holder,
      ttlMs: deps.leaseTtlMs ?? DEFAULT_LEASE_TTL_MS,
      ...(deps.isHolderAlive ? { isHolderAlive: deps.isHolderAlive } : {}),
    },
  });

  const settings = async (): Promise<SyncSettingsView> => {
    const proxy = await defaultProxy();
    return { uuid: deps.identity.uuid, name: deps.identity.name, ...(proxy ? { proxy } : {}) };
  };

  const runJob = async (job: JobRecord): Promise<void> => {
    try {
      if (job.kind !== 'sync') {
        if (!(await deps.sources?.runJob(job))) deps.logger.warn({ job: job.id, kind: job.kind }, 'no runner for this kind of job');
        return;
      }
      const external = await store.getRepository(job.target);
      if (external && deps.sources?.handles(external)) {
        await deps.sources.run(external, { trigger: 'schedule', job: job.id });
        return;
      }
      await runner.run(job.target, { trigger: 'schedule', job: job.id });
    } catch (error) {
      if (error instanceof SluiceError && error.code === 'SYNC_ALREADY_RUNNING') {
        deps.logger.debug({ job: job.id }, 'job is running elsewhere; skipped');
        return;
      }
      throw error;
    }
  };

  return {
    repositories,
    tasks,
    conflicts,
    runner,
    pushPolicies: pushPolicyResolver(store),
    async syncNow(reference, request = { trigger: 'manual' }) {
      const repository = await repositories.resolve(reference);
      if (deps.sources?.handles(repository)) return deps.sources.run(repository, request);
      return runner.run(repository.uuid, request);
    },
    settings,
    async setProxy(proxy) {
      if (proxy === null || proxy === '') {
        await store.setSetting(PROXY_SETTING, '');
      } else {
        let parsed: URL;
        try {
          parsed = new URL(proxy);
        } catch {
          throw new SluiceError('BAD_SETTINGS', `proxy "${proxy}" is not a URL`, { status: 400, fix: 'e.g. http://proxy.example.org:3128' });
        }
        if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new SluiceError('BAD_SETTINGS', 'the proxy must be an http(s) URL', { status: 400 });
        await store.setSetting(PROXY_SETTING, proxy);
      }
      return settings();
    },
    createScheduler() {
      return new JobScheduler({
        store,
        logger: deps.logger,
        runJob,
        // Ticks are claimed in the store, so gateways sharing it run each tick once between them.
        tickHolder: deps.holder,
        ...(deps.schedulerReloadMs === undefined ? {} : { reloadMs: deps.schedulerReloadMs }),
      });
    },
  };
}
