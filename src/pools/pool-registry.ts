/**
 * Sync pools: named groups of partners sharing tags, a task template (resources with one set of task
 * settings, and a schedule) and optionally credentials. Gateways heard on the LAN that share a tag
 * with a pool are its candidates; an administrator accepts (which registers the gateway as a
 * repository, fingerprint first, and gives it the pool's tasks) or rejects them. Changing the pool
 * changes the tasks, schedule and credentials of every member.
 *
 * Membership lives on the repository (`config.pool`, with the resources the pool manages there in
 * `config.pool_resources`), so removing a repository removes the membership with it. A member that
 * leaves keeps its tasks as its own.
 */
import { SluiceError } from '../errors.js';
import { formatTimestamp, type Clock } from '../s3xml/timestamps.js';
import type { SecretBox } from '../secrets.js';
import type { PoolRecord, RepositoryRecord, Store, SyncTaskRecord } from '../store/store.js';
import type { RepositoryRegistry, RepositoryView } from '../sync/repository-registry.js';
import { checkCron, type ScheduleInput, type TaskRegistry } from '../sync/task-registry.js';
import { checkResourceName, normalizeTaskSettings, storeFilters, type TaskSettings } from '../sync/task-settings.js';
import { checkTag, discoveredView, type DiscoveredGatewayView } from './beacon.js';

/** The tasks every member gets: one per resource, all with the same settings. */
export interface PoolTemplate extends TaskSettings {
  resources: string[];
  schedule?: { cron?: string; interval_seconds?: number };
}

export interface PoolInput {
  name: string;
  tags: string[];
  template?: Partial<Record<keyof PoolTemplate, unknown>>;
  username?: string;
  password?: string;
}

export interface PoolPatch {
  tags?: string[];
  /** Replaces the parts given; what is not given stays. */
  template?: Partial<Record<keyof PoolTemplate, unknown>>;
  username?: string | null;
  password?: string | null;
}

export interface PoolMember {
  uuid: string;
  name: string;
  url?: string;
}

export interface PoolView {
  name: string;
  tags: string[];
  template: PoolTemplate;
  username?: string;
  has_password: boolean;
  members: PoolMember[];
  rejected: string[];
  created_at: string;
  updated_at: string;
}

export type CandidateStatus = 'pending' | 'rejected';

export interface PoolCandidate extends DiscoveredGatewayView {
  pool: string;
  /** The tags the gateway shares with the pool. */
  shared_tags: string[];
  status: CandidateStatus;
  /** Already a repository here (accepting adds it to the pool without registering again). */
  registered: boolean;
}

export interface AcceptInput {
  /** The repository name (default: the name the gateway advertised). */
  name?: string;
  /** Credentials at the candidate (default: the pool's). */
  username?: string;
  password?: string;
}

export interface PoolRegistryDeps {
  store: Store;
  clock: Clock;
  repositories: RepositoryRegistry;
  tasks: TaskRegistry;
  secrets: SecretBox;
}

const POOL_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

function secretOwner(pool: string): string {
  return `pool:${pool}`;
}

function badPool(message: string, fix?: string): SluiceError {
  return new SluiceError('BAD_POOL', message, { status: 400, ...(fix ? { fix } : {}) });
}

function checkTags(tags: unknown): string[] {
  if (!Array.isArray(tags) || tags.length === 0 || tags.some((tag) => typeof tag !== 'string')) {
    throw badPool('A pool needs at least one tag', 'e.g. ["haiti"]');
  }
  return [...new Set((tags as string[]).map(checkTag))].sort();
}

function checkSchedule(schedule: unknown): PoolTemplate['schedule'] {
  if (schedule === undefined || schedule === null) return undefined;
  const { cron, interval_seconds: interval } = schedule as ScheduleInput;
  if (typeof schedule !== 'object' || (cron === undefined) === (interval === undefined)) {
    throw new SluiceError('BAD_SCHEDULE', 'A pool schedule gives either a cron expression or an interval in seconds', { status: 400, fix: 'e.g. {"interval_seconds": 600}' });
  }
  if (interval !== undefined && (!Number.isInteger(interval) || interval < 1)) {
    throw new SluiceError('BAD_SCHEDULE', `interval_seconds ${String(interval)} is not a whole number of seconds of at least 1`, {
      status: 400,
      fix: 'e.g. {"interval_seconds": 600} for every ten minutes, or {"cron": "*/10 * * * *"}',
    });
  }
  return cron !== undefined ? { cron: checkCron(String(cron)) } : { interval_seconds: interval! };
}

/** Checks a template (Eden's task defaults for settings not given) against every resource's filters. */
export function normalizeTemplate(input: Partial<Record<keyof PoolTemplate, unknown>>, base?: PoolTemplate): PoolTemplate {
  const resourcesInput = input.resources ?? base?.resources ?? [];
  if (!Array.isArray(resourcesInput) || resourcesInput.some((resource) => typeof resource !== 'string')) {
    throw badPool('template.resources must be a list of table names', 'e.g. ["org_office", "pr_person"]');
  }
  const resources = [...new Set((resourcesInput as string[]).map(checkResourceName))].sort();
  const settings = normalizeTaskSettings(input, base);
  for (const resource of resources) storeFilters({ resource, filters: settings.filters });
  const schedule = 'schedule' in input ? checkSchedule(input.schedule) : base?.schedule;
  return { resources, ...settings, ...(schedule ? { schedule } : {}) };
}

function templateOf(pool: PoolRecord): PoolTemplate {
  return normalizeTemplate(pool.template);
}

function membership(repository: RepositoryRecord): { pool?: string; resources: string[]; schedule: boolean } {
  const config = repository.config;
  return {
    ...(typeof config.pool === 'string' ? { pool: config.pool } : {}),
    resources: Array.isArray(config.pool_resources) ? config.pool_resources.filter((item): item is string => typeof item === 'string') : [],
    schedule: config.pool_schedule === true,
  };
}

function taskSettingsOf(template: PoolTemplate): TaskSettings {
  return {
    mode: template.mode,
    strategy: template.strategy,
    update_policy: template.update_policy,
    conflict_policy: template.conflict_policy,
    filters: template.filters,
    components: template.components,
  };
}

export class PoolRegistry {
  constructor(private readonly deps: PoolRegistryDeps) {}

  private now(): string {
    return formatTimestamp(this.deps.clock.now());
  }

  private async record(name: string): Promise<PoolRecord> {
    const pool = await this.deps.store.getPool(name);
    if (!pool) throw new SluiceError('POOL_NOT_FOUND', `There is no pool "${name}"`, { status: 404, fix: 'List pools with sluice pool list (or GET /api/pools)' });
    return pool;
  }

  private async members(name: string): Promise<RepositoryRecord[]> {
    return (await this.deps.store.listRepositories()).filter((repository) => membership(repository).pool === name);
  }

  private async view(pool: PoolRecord): Promise<PoolView> {
    return {
      name: pool.name,
      tags: pool.tags,
      template: templateOf(pool),
      ...(pool.username === undefined ? {} : { username: pool.username }),
      has_password: pool.password !== undefined,
      members: (await this.members(pool.name)).map((repository) => ({ uuid: repository.uuid, name: repository.name, ...(repository.url ? { url: repository.url } : {}) })),
      rejected: pool.rejected,
      created_at: pool.created_at,
      updated_at: pool.updated_at,
    };
  }

  async list(): Promise<PoolView[]> {
    return Promise.all((await this.deps.store.listPools()).map((pool) => this.view(pool)));
  }

  async get(name: string): Promise<PoolView> {
    return this.view(await this.record(name));
  }

  async create(input: PoolInput): Promise<PoolView> {
    if (!POOL_NAME.test(input.name)) throw badPool(`"${input.name}" is not a pool name`, 'Use 1 to 64 letters, digits, ".", "-" or "_"');
    if (await this.deps.store.getPool(input.name)) {
      throw new SluiceError('POOL_EXISTS', `There is already a pool "${input.name}"`, { status: 409, fix: 'Change it with sluice pool update, or pick another name' });
    }
    if (input.password !== undefined && input.username === undefined) throw badPool('A pool password needs a username');
    const at = this.now();
    const pool: PoolRecord = {
      name: input.name,
      tags: checkTags(input.tags),
      template: { ...normalizeTemplate(input.template ?? {}) },
      ...(input.username === undefined ? {} : { username: input.username }),
      ...(input.password === undefined ? {} : { password: this.deps.secrets.seal(input.password, secretOwner(input.name)) }),
      rejected: [],
      created_at: at,
      updated_at: at,
    };
    await this.deps.store.putPool(pool);
    return this.view(pool);
  }

  /** Changes the pool, then brings every member's tasks, schedule and credentials in line. */
  async update(name: string, patch: PoolPatch): Promise<PoolView> {
    const pool = await this.record(name);
    const next: PoolRecord = { ...pool, updated_at: this.now() };
    if (patch.tags !== undefined) next.tags = checkTags(patch.tags);
    if (patch.template !== undefined) next.template = { ...normalizeTemplate(patch.template, templateOf(pool)) };
    if (patch.username !== undefined) {
      if (patch.username === null) {
        delete next.username;
        delete next.password;
      } else next.username = patch.username;
    }
    if (patch.password !== undefined) {
      if (patch.password === null) delete next.password;
      else next.password = this.deps.secrets.seal(patch.password, secretOwner(name));
    }
    if (next.password !== undefined && next.username === undefined) throw badPool('A pool password needs a username');
    await this.deps.store.putPool(next);
    const credentialsChanged = patch.username !== undefined || patch.password !== undefined;
    for (const member of await this.members(name)) await this.apply(next, member, credentialsChanged);
    return this.view(next);
  }

  /** Deletes the pool; its members stay as repositories with their tasks. */
  async remove(name: string): Promise<void> {
    await this.record(name);
    for (const member of await this.members(name)) await this.detach(member);
    await this.deps.store.deletePool(name);
  }

  /** Gateways heard on the LAN sharing a tag with the pool that are not members yet. */
  async candidates(name: string, options: { includeRejected?: boolean } = {}): Promise<PoolCandidate[]> {
    const pool = await this.record(name);
    const repositories = new Map((await this.deps.store.listRepositories()).map((repository) => [repository.uuid, repository]));
    const candidates: PoolCandidate[] = [];
    for (const record of await this.deps.store.listDiscoveredGateways()) {
      const gateway = discoveredView(record);
      const shared = gateway.interests.map((interest) => interest.tag).filter((tag) => pool.tags.includes(tag));
      if (shared.length === 0) continue;
      const repository = repositories.get(gateway.uuid);
      if (repository && membership(repository).pool === name) continue;
      const status: CandidateStatus = pool.rejected.includes(gateway.uuid) ? 'rejected' : 'pending';
      if (status === 'rejected' && !options.includeRejected) continue;
      candidates.push({ ...gateway, pool: name, shared_tags: shared, status, registered: repository !== undefined });
    }
    return candidates;
  }

  private async candidate(name: string, uuid: string): Promise<PoolCandidate> {
    const found = (await this.candidates(name, { includeRejected: true })).find((candidate) => candidate.uuid === uuid);
    if (!found) {
      throw new SluiceError('CANDIDATE_NOT_FOUND', `${uuid} is not a candidate of pool "${name}"`, {
        status: 404,
        fix: 'List candidates with sluice pool candidates POOL; a gateway becomes one when it is heard on the LAN with a tag of the pool',
      });
    }
    return found;
  }

  /**
   * Registers the candidate as a repository (fingerprint first: its URL must answer with the uuid
   * that was discovered) with the pool's credentials unless others are given, and makes it a member.
   */
  async accept(name: string, uuid: string, input: AcceptInput = {}): Promise<RepositoryView> {
    const pool = await this.record(name);
    const candidate = await this.candidate(name, uuid);
    let repository = await this.deps.store.getRepository(uuid);
    if (!repository) {
      const credentials = this.credentialsFor(pool, input);
      await this.deps.repositories.add({
        name: input.name ?? candidate.name,
        url: candidate.url,
        expect_uuid: candidate.uuid,
        ...(credentials ?? {}),
        register: credentials !== undefined,
      });
      repository = await this.deps.store.getRepository(uuid);
      if (!repository) throw new SluiceError('POOL_ACCEPT_FAILED', `The repository for ${uuid} was not stored`, { status: 500 });
    }
    const accepted: PoolRecord = { ...pool, rejected: pool.rejected.filter((rejected) => rejected !== uuid), updated_at: this.now() };
    if (accepted.rejected.length !== pool.rejected.length) await this.deps.store.putPool(accepted);
    // Credentials were just given at registration; the pool's are applied only when none were.
    await this.apply(accepted, repository, false);
    return this.deps.repositories.list().then((views) => views.find((view) => view.uuid === uuid)!);
  }

  async reject(name: string, uuid: string): Promise<void> {
    const pool = await this.record(name);
    await this.candidate(name, uuid);
    if (pool.rejected.includes(uuid)) return;
    await this.deps.store.putPool({ ...pool, rejected: [...pool.rejected, uuid].sort(), updated_at: this.now() });
  }

  /** Makes an existing repository a member (its tasks for the pool's resources take the template). */
  async join(name: string, repositoryReference: string): Promise<PoolView> {
    const pool = await this.record(name);
    const repository = await this.deps.repositories.resolve(repositoryReference);
    const current = membership(repository).pool;
    if (current !== undefined && current !== name) {
      throw new SluiceError('POOL_MEMBER_ELSEWHERE', `${repository.name} is a member of pool "${current}"`, {
        status: 409,
        fix: `Take it out first: sluice pool leave ${current} ${repository.uuid}`,
      });
    }
    await this.apply(pool, repository, true);
    return this.view(pool);
  }

  /** Takes a repository out of the pool; it keeps its tasks and schedule as its own. */
  async leave(name: string, repositoryReference: string): Promise<PoolView> {
    const pool = await this.record(name);
    const repository = await this.deps.repositories.resolve(repositoryReference);
    if (membership(repository).pool !== name) {
      throw new SluiceError('POOL_MEMBER_NOT_FOUND', `${repository.name} is not a member of pool "${name}"`, { status: 404 });
    }
    await this.detach(repository);
    return this.view(pool);
  }

  private credentialsFor(pool: PoolRecord, input: AcceptInput): { username: string; password: string } | undefined {
    if (input.username !== undefined && input.password !== undefined) return { username: input.username, password: input.password };
    if (input.username !== undefined || input.password !== undefined) throw badPool('Give both a username and a password, or neither (the pool\'s are used then)');
    if (pool.username !== undefined && pool.password !== undefined) {
      return { username: pool.username, password: this.deps.secrets.open(pool.password, secretOwner(pool.name)) };
    }
    return undefined;
  }

  /** Brings one member in line with the pool: tasks per resource, the schedule, and credentials. */
  private async apply(pool: PoolRecord, repository: RepositoryRecord, withCredentials: boolean): Promise<void> {
    const template = templateOf(pool);
    const settings = taskSettingsOf(template);
    const before = membership(repository);
    if (withCredentials && pool.username !== undefined) {
      await this.deps.repositories.update(repository.uuid, {
        username: pool.username,
        ...(pool.password !== undefined ? { password: this.deps.secrets.open(pool.password, secretOwner(pool.name)) } : {}),
      });
    }
    const tasks = new Map<string, SyncTaskRecord>((await this.deps.store.listTasks({ repository: repository.uuid })).map((task) => [task.resource, task]));
    for (const resource of template.resources) {
      const existing = tasks.get(resource);
      // update() keeps the task's checkpoints unless its selection (filters, components) changed.
      if (existing) await this.deps.tasks.update(existing.id, { ...settings });
      else await this.deps.tasks.add(repository.uuid, resource, { ...settings });
    }
    const previouslyManaged = before.pool === pool.name ? before.resources : [];
    for (const resource of previouslyManaged) {
      const task = tasks.get(resource);
      if (task && !template.resources.includes(resource)) await this.deps.tasks.remove(task.id);
    }
    if (template.schedule) await this.deps.tasks.setSchedule(repository.uuid, { ...template.schedule, enabled: true });
    else if (before.pool === pool.name && before.schedule) await this.deps.tasks.removeSchedule(repository.uuid);
    const fresh = (await this.deps.store.getRepository(repository.uuid)) ?? repository;
    await this.deps.store.putRepository({
      ...fresh,
      config: { ...fresh.config, pool: pool.name, pool_resources: template.resources, pool_schedule: template.schedule !== undefined },
      updated_at: this.now(),
    });
  }

  private async detach(repository: RepositoryRecord): Promise<void> {
    const fresh = (await this.deps.store.getRepository(repository.uuid)) ?? repository;
    const config = { ...fresh.config };
    delete config.pool;
    delete config.pool_resources;
    delete config.pool_schedule;
    await this.deps.store.putRepository({ ...fresh, config, updated_at: this.now() });
  }
}
