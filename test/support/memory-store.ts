/**
 * An in-memory Store for fast unit tests of the code above the store (importer, exporter, sync).
 * It keeps the contract's observable behaviour: serialised transactions with read-your-writes
 * inside and isolation outside, store-wide strictly increasing `seq`, msince/afterSeq/filters/
 * paging/ordering (filters through the shared `matchesFilters`), conflicts and checkpoints that
 * commit with their transaction. Everything handed in or out is deep-copied so a caller mutating
 * a record it got back cannot change the store behind its back (as with the SQLite store).
 */
import { SluiceError } from '../../src/errors.js';
import { dataValue, referenceUuids, type FieldValue } from '../../src/s3xml/model.js';
import { matchesFilters } from '../../src/store/url-filter-match.js';
import type {
  CheckpointRecord,
  ConflictEntry,
  ConflictQuery,
  ConsoleSessionRecord,
  DiscoveredGatewayRecord,
  JobRecord,
  LeaseRecord,
  RunRecord,
  SyncTaskRecord,
  LogEntry,
  LogQuery,
  NewConflict,
  NewLogEntry,
  PoolRecord,
  RecordQuery,
  RecordWrite,
  RepositoryRecord,
  Store,
  StoredRecord,
  StoreTransaction,
  UserRecord,
} from '../../src/store/store.js';

const clone = <T>(value: T): T => structuredClone(value);
const recordKey = (resource: string, uuid: string): string => `${resource}\u0000${uuid}`;

interface CommittedState {
  records: Map<string, StoredRecord>;
  conflicts: ConflictEntry[];
  checkpoints: Map<string, CheckpointRecord>;
  seq: number;
}

/** Pending writes of one transaction, applied to the committed state only on success. */
class PendingWrites {
  readonly records = new Map<string, StoredRecord>();
  readonly conflicts: ConflictEntry[] = [];
  readonly checkpoints = new Map<string, CheckpointRecord>();
  /** Set when the transaction has ended: its handle must not be used any more. */
  ended = false;
  constructor(public seq: number) {}
}

class RecordView implements StoreTransaction {
  constructor(
    private readonly state: CommittedState,
    private readonly pending: PendingWrites | undefined,
    private readonly nextConflictId: () => number,
  ) {}

  private all(): StoredRecord[] {
    if (!this.pending || this.pending.records.size === 0) return [...this.state.records.values()];
    const merged = new Map(this.state.records);
    for (const [key, record] of this.pending.records) merged.set(key, record);
    return [...merged.values()];
  }

  async getRecord(resource: string, uuid: string): Promise<StoredRecord | undefined> {
    const key = recordKey(resource, uuid);
    const record = this.pending?.records.get(key) ?? this.state.records.get(key);
    return record ? clone(record) : undefined;
  }

  async getRecords(resource: string, uuids: readonly string[]): Promise<StoredRecord[]> {
    const found: StoredRecord[] = [];
    for (const uuid of new Set(uuids)) {
      const record = await this.getRecord(resource, uuid);
      if (record) found.push(record);
    }
    return found;
  }

  async findByUuid(uuid: string): Promise<StoredRecord[]> {
    return this.all()
      .filter((record) => record.uuid === uuid)
      .map(clone);
  }

  async queryRecords(query: RecordQuery): Promise<StoredRecord[]> {
    const matching = this.all().filter((record) => matchesQuery(record, query));
    if (query.orderBy === 'seq') matching.sort((a, b) => a.seq - b.seq);
    else matching.sort((a, b) => compareStrings(a.modified_on, b.modified_on) || compareStrings(a.uuid, b.uuid));
    const start = query.start ?? 0;
    const end = query.limit === undefined ? undefined : start + query.limit;
    return matching.slice(start, end).map(clone);
  }

  async countRecords(query: RecordQuery): Promise<number> {
    return this.all().filter((record) => matchesQuery(record, query)).length;
  }

  private writable(): PendingWrites {
    if (!this.pending) throw new Error('memory store: writes go through a transaction');
    if (this.pending.ended) throw new SluiceError('STORE_TRANSACTION_CLOSED', 'this transaction has ended', { status: 500 });
    return this.pending;
  }

  async putRecord(record: RecordWrite): Promise<StoredRecord> {
    const pending = this.writable();
    if (!record.resource || !record.uuid) throw new SluiceError('STORE_INVALID_RECORD', 'a record needs a resource and a uuid', { status: 400 });
    pending.seq += 1;
    const stored: StoredRecord = { ...clone(record), seq: pending.seq };
    pending.records.set(recordKey(record.resource, record.uuid), stored);
    return clone(stored);
  }

  async findReferencing(uuid: string): Promise<StoredRecord[]> {
    return this.all()
      .filter((record) => record.references.some((reference) => referenceUuids(reference).includes(uuid)))
      .map(clone);
  }

  async fieldValues(resource: string, field: string, limit = 100): Promise<{ value: FieldValue; text?: string; count: number }[]> {
    const counts = new Map<string, { value: FieldValue; count: number; labels: Map<string, number> }>();
    for (const record of this.all()) {
      if (record.resource !== resource || record.deleted) continue;
      const data = record.data.find((entry) => entry.field === field);
      if (!data) continue;
      const value = dataValue(data);
      if (value === null) continue;
      const key = JSON.stringify(value);
      const seen = counts.get(key) ?? { value, count: 0, labels: new Map<string, number>() };
      seen.count += 1;
      if (data.text !== undefined) seen.labels.set(data.text, (seen.labels.get(data.text) ?? 0) + 1);
      counts.set(key, seen);
    }
    return [...counts.values()]
      .sort((a, b) => b.count - a.count)
      .slice(0, limit)
      .map(({ value, count, labels }) => {
        const label = [...labels.entries()].sort((a, b) => b[1] - a[1])[0]?.[0];
        return { value, ...(label === undefined ? {} : { text: label }), count };
      });
  }

  async resources(): Promise<{ resource: string; count: number }[]> {
    const counts = new Map<string, number>();
    for (const record of this.all()) counts.set(record.resource, (counts.get(record.resource) ?? 0) + (record.deleted ? 0 : 1));
    return [...counts.entries()].sort(([a], [b]) => compareStrings(a, b)).map(([resource, count]) => ({ resource, count }));
  }

  async getCheckpoint(id: string): Promise<CheckpointRecord | undefined> {
    const checkpoint = this.pending?.checkpoints.get(id) ?? this.state.checkpoints.get(id);
    return checkpoint ? clone(checkpoint) : undefined;
  }

  async putCheckpoint(checkpoint: CheckpointRecord): Promise<void> {
    this.writable().checkpoints.set(checkpoint.id, clone(checkpoint));
  }

  async componentResources(): Promise<string[]> {
    const tables = new Set<string>();
    for (const record of this.all()) if (record.parent) tables.add(record.resource);
    return [...tables].sort(compareStrings);
  }

  async addConflict(conflict: NewConflict): Promise<ConflictEntry> {
    const pending = this.writable();
    const defined = Object.fromEntries(Object.entries(conflict).filter(([, item]) => item !== undefined)) as NewConflict;
    const entry: ConflictEntry = { ...clone(defined), id: this.nextConflictId(), status: 'open' };
    pending.conflicts.push(entry);
    return clone(entry);
  }
}

function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function matchesQuery(record: StoredRecord, query: RecordQuery): boolean {
  if (record.resource !== query.resource) return false;
  if (!query.includeDeleted && record.deleted) return false;
  if (query.msince !== undefined && record.modified_on < query.msince) return false;
  if (query.afterSeq !== undefined && record.seq <= query.afterSeq) return false;
  if (query.topLevelOnly && record.parent) return false;
  if (query.parent && (record.parent?.resource !== query.parent.resource || record.parent.uuid !== query.parent.uuid)) {
    return false;
  }
  return matchesFilters(record, query.filters ?? []);
}

export interface MemoryStore extends Store {
  /** Every record including deleted ones, for assertions. */
  allRecords(): StoredRecord[];
}

export function createMemoryStore(): MemoryStore {
  const state: CommittedState = { records: new Map(), conflicts: [], checkpoints: new Map(), seq: 0 };
  let conflictCounter = 0;
  const nextConflictId = () => ++conflictCounter;
  let queue: Promise<unknown> = Promise.resolve();
  const settings = new Map<string, string>();
  const users = new Map<string, UserRecord>();
  const repositories = new Map<string, RepositoryRecord>();
  const log: LogEntry[] = [];
  const tasks = new Map<string, SyncTaskRecord>();
  const jobs = new Map<string, JobRecord>();
  const leases = new Map<string, LeaseRecord>();
  const runs: RunRecord[] = [];
  const discoveredGateways = new Map<string, DiscoveredGatewayRecord>();
  const pools = new Map<string, PoolRecord>();
  const consoleSessions = new Map<string, ConsoleSessionRecord>();
  const committedView = new RecordView(state, undefined, nextConflictId);

  function transaction<T>(work: (tx: StoreTransaction) => Promise<T>): Promise<T> {
    const run = async (): Promise<T> => {
      const pending = new PendingWrites(state.seq);
      const savedConflictCounter = conflictCounter;
      try {
        const result = await work(new RecordView(state, pending, nextConflictId));
        pending.ended = true;
        for (const [key, record] of pending.records) state.records.set(key, record);
        state.conflicts.push(...pending.conflicts);
        for (const [id, checkpoint] of pending.checkpoints) state.checkpoints.set(id, checkpoint);
        state.seq = pending.seq;
        return result;
      } catch (error) {
        pending.ended = true;
        conflictCounter = savedConflictCounter;
        throw error;
      }
    };
    const result = queue.then(run, run);
    queue = result.catch(() => undefined);
    return result;
  }

  const store: MemoryStore = {
    kind: 'sqlite',
    getRecord: (resource, uuid) => committedView.getRecord(resource, uuid),
    getRecords: (resource, uuids) => committedView.getRecords(resource, uuids),
    findByUuid: (uuid) => committedView.findByUuid(uuid),
    queryRecords: (query) => committedView.queryRecords(query),
    countRecords: (query) => committedView.countRecords(query),
    putRecord: (record) => transaction((tx) => tx.putRecord(record)),
    findReferencing: (uuid) => committedView.findReferencing(uuid),
    fieldValues: (resource, field, limit) => committedView.fieldValues(resource, field, limit),
    resources: () => committedView.resources(),
    componentResources: () => committedView.componentResources(),
    addConflict: (conflict) => transaction((tx) => tx.addConflict(conflict)),
    transaction,
    lastSeq: async () => state.seq,
    listConflicts: async (query: ConflictQuery = {}) =>
      state.conflicts
        .filter(
          (entry) =>
            (query.status === undefined || entry.status === query.status) &&
            (query.resource === undefined || entry.resource === query.resource) &&
            (query.uuid === undefined || entry.uuid === query.uuid) &&
            (query.repository === undefined || entry.repository === query.repository),
        )
        .slice(0, query.limit)
        .map(clone),
    getConflict: async (id) => {
      const entry = state.conflicts.find((candidate) => candidate.id === id);
      return entry ? clone(entry) : undefined;
    },
    resolveConflict: async (id, resolution, at) => {
      const entry = state.conflicts.find((candidate) => candidate.id === id);
      if (!entry) throw new SluiceError('CONFLICT_NOT_FOUND', `no conflict ${id}`, { status: 404 });
      if (entry.status === 'resolved') throw new SluiceError('CONFLICT_ALREADY_RESOLVED', `conflict ${id} is already resolved`, { status: 409 });
      entry.status = 'resolved';
      entry.resolution = clone(resolution);
      entry.resolved_at = at;
    },
    getUser: async (username) => {
      const user = users.get(username);
      return user ? clone(user) : undefined;
    },
    putUser: async (user) => {
      users.set(user.username, clone(user));
    },
    listUsers: async () => [...users.values()].sort((a, b) => compareStrings(a.username, b.username)).map(clone),
    deleteUser: async (username) => users.delete(username),
    getConsoleSession: async (idHash) => {
      const session = consoleSessions.get(idHash);
      return session ? clone(session) : undefined;
    },
    putConsoleSession: async (session) => {
      consoleSessions.set(session.id_hash, clone(session));
    },
    updateConsoleSession: async (idHash, change) => {
      const session = consoleSessions.get(idHash);
      if (!session) return false;
      if (change.last_seen_at !== undefined) session.last_seen_at = change.last_seen_at;
      if (change.expires_at !== undefined) session.expires_at = change.expires_at;
      if (change.flash === null) delete session.flash;
      else if (change.flash !== undefined) session.flash = change.flash;
      return true;
    },
    deleteConsoleSession: async (idHash) => consoleSessions.delete(idHash),
    deleteUserConsoleSessions: async (username, exceptIdHash) => {
      let ended = 0;
      for (const [idHash, session] of consoleSessions) {
        if (session.username === username && idHash !== exceptIdHash) {
          consoleSessions.delete(idHash);
          ended += 1;
        }
      }
      return ended;
    },
    deleteExpiredConsoleSessions: async (now, limit) => {
      let ended = 0;
      for (const [idHash, session] of consoleSessions) {
        if (ended >= limit) break;
        if (session.expires_at <= now) {
          consoleSessions.delete(idHash);
          ended += 1;
        }
      }
      return ended;
    },
    getSetting: async (key) => settings.get(key),
    setSetting: async (key, value) => {
      settings.set(key, value);
    },
    getRepository: async (uuid) => {
      const repository = repositories.get(uuid);
      return repository ? clone(repository) : undefined;
    },
    listRepositories: async () =>
      [...repositories.values()].sort((a, b) => compareStrings(a.name, b.name) || compareStrings(a.uuid, b.uuid)).map(clone),
    putRepository: async (repository) => {
      repositories.set(repository.uuid, clone(repository));
    },
    deleteRepository: async (uuid) => {
      repositories.delete(uuid);
    },
    appendLog: async (entry: NewLogEntry) => {
      const stored: LogEntry = { ...clone(entry), id: log.length + 1 };
      log.push(stored);
      return clone(stored);
    },
    listLog: async (query: LogQuery = {}) =>
      log
        .filter(
          (entry) =>
            (query.repository === undefined || entry.repository === query.repository) &&
            (query.resource === undefined || entry.resource === query.resource) &&
            (query.result === undefined || entry.result === query.result) &&
            (query.run_id === undefined || entry.run_id === query.run_id) &&
            (query.beforeId === undefined || entry.id < query.beforeId),
        )
        .reverse()
        .slice(0, query.limit ?? 100)
        .map(clone),
    getTask: async (id) => {
      const task = tasks.get(id);
      return task ? clone(task) : undefined;
    },
    listTasks: async (query = {}) =>
      [...tasks.values()]
        .filter((task) => query.repository === undefined || task.repository === query.repository)
        .sort((a, b) => compareStrings(a.repository, b.repository) || compareStrings(a.resource, b.resource))
        .map(clone),
    putTask: async (task) => {
      const holder = [...tasks.values()].find((other) => other.repository === task.repository && other.resource === task.resource);
      if (holder && holder.id !== task.id) throw new SluiceError('TASK_EXISTS', `a task for ${task.resource} exists`, { status: 409 });
      tasks.set(task.id, clone(task));
    },
    deleteTask: async (id) => {
      tasks.delete(id);
      for (const [key, checkpoint] of state.checkpoints) if (checkpoint.task === id) state.checkpoints.delete(key);
    },
    deleteCheckpoints: async (task) => {
      for (const [key, checkpoint] of state.checkpoints) if (checkpoint.task === task) state.checkpoints.delete(key);
    },
    getCheckpoint: (id) => committedView.getCheckpoint(id),
    putCheckpoint: (checkpoint) => transaction((tx) => tx.putCheckpoint(checkpoint)),
    getJob: async (id) => {
      const job = jobs.get(id);
      return job ? clone(job) : undefined;
    },
    listJobs: async (query = {}) =>
      [...jobs.values()]
        .filter((job) => (query.kind === undefined || job.kind === query.kind) && (query.target === undefined || job.target === query.target))
        .sort((a, b) => compareStrings(a.id, b.id))
        .map(clone),
    putJob: async (job) => {
      jobs.set(job.id, clone(job));
    },
    deleteJob: async (id) => {
      jobs.delete(id);
    },
    acquireLease: async (name, holder, now, ttlMs) => {
      const current = leases.get(name);
      if (current && current.holder !== holder && current.expires_at > now) return undefined;
      const lease: LeaseRecord = {
        name,
        holder,
        acquired_at: current && current.holder === holder ? current.acquired_at : now,
        expires_at: now + ttlMs,
      };
      leases.set(name, lease);
      return clone(lease);
    },
    renewLease: async (name, holder, now, ttlMs) => {
      const current = leases.get(name);
      if (!current || current.holder !== holder) return false;
      current.expires_at = now + ttlMs;
      return true;
    },
    releaseLease: async (name, holder) => {
      const current = leases.get(name);
      if (!current || current.holder !== holder) return false;
      leases.delete(name);
      return true;
    },
    getLease: async (name) => {
      const lease = leases.get(name);
      return lease ? clone(lease) : undefined;
    },
    deleteLeases: async (which, expiredBy) => {
      let removed = 0;
      for (const lease of [...leases.values()]) {
        const selected = 'name' in which ? lease.name === which.name : lease.name.startsWith(which.prefix);
        if (selected && (expiredBy === undefined || lease.expires_at <= expiredBy)) {
          leases.delete(lease.name);
          removed += 1;
        }
      }
      return removed;
    },
    putRun: async (run) => {
      const index = runs.findIndex((other) => other.id === run.id);
      if (index >= 0) runs[index] = clone(run);
      else runs.push(clone(run));
    },
    getRun: async (id) => {
      const run = runs.find((other) => other.id === id);
      return run ? clone(run) : undefined;
    },
    listRuns: async (query = {}) =>
      [...runs]
        .reverse()
        .filter(
          (run) =>
            (query.repository === undefined || run.repository === query.repository) &&
            (query.job === undefined || run.job === query.job) &&
            (query.status === undefined || run.status === query.status),
        )
        .slice(0, query.limit ?? 50)
        .map(clone),
    trimRunCaptures: async (keep) => {
      let trimmed = 0;
      runs.slice(0, Math.max(0, runs.length - keep)).forEach((run) => {
        if (run.captures.length > 0) {
          run.captures = [];
          trimmed += 1;
        }
      });
      return trimmed;
    },
    getDiscoveredGateway: async (uuid) => {
      const gateway = discoveredGateways.get(uuid);
      return gateway ? clone(gateway) : undefined;
    },
    listDiscoveredGateways: async () =>
      [...discoveredGateways.values()].sort((a, b) => compareStrings(a.name, b.name) || compareStrings(a.uuid, b.uuid)).map(clone),
    putDiscoveredGateway: async (gateway) => {
      discoveredGateways.set(gateway.uuid, clone(gateway));
    },
    deleteDiscoveredGateway: async (uuid) => {
      discoveredGateways.delete(uuid);
    },
    getPool: async (name) => {
      const pool = pools.get(name);
      return pool ? clone(pool) : undefined;
    },
    listPools: async () => [...pools.values()].sort((a, b) => compareStrings(a.name, b.name)).map(clone),
    putPool: async (pool) => {
      pools.set(pool.name, clone(pool));
    },
    deletePool: async (name) => {
      pools.delete(name);
    },
    close: async () => undefined,
    allRecords: () => [...state.records.values()].map(clone),
  };
  return store;
}
