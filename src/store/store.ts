/**
 * The store contract. Two implementations (embedded SQLite, MongoDB) pass one contract suite
 * (test/store/contract.ts). Every method is async so that either can stand behind it.
 *
 * Records are Eden records keyed by (resource, uuid). Components are records of their own with a
 * `parent` link; the exporter nests them again. Every write stamps the record with a new `seq`
 * from one store-wide counter, so "what changed since I last looked" has an exact answer even when
 * several changes share one second of `modified_on` (Eden's msince cannot tell them apart).
 */
import type { FieldValue, S3Data, S3Reference, S3Resource } from '../s3xml/model.js';

export interface ParentLink {
  resource: string;
  uuid: string;
  /** The component alias when it differs from the table's short name. */
  alias?: string;
}

/** A record as held in the store. */
export interface StoredRecord {
  resource: string;
  uuid: string;
  /** Local master-copy index: 0 = created here; a received record keeps the mci it arrived with. */
  mci: number;
  created_on?: string;
  /** Eden timestamp; may be in a peer's clock domain for records that arrived by sync. */
  modified_on: string;
  deleted: boolean;
  replaced_by?: string;
  parent?: ParentLink;
  /** Other resource attributes kept for a faithful re-export (created_by, modified_by, …). */
  attributes: Record<string, string>;
  data: S3Data[];
  /** References with uuids only (tuids and inline resources are resolved by the importer). */
  references: S3Reference[];
  /** Store-assigned, strictly increasing across the whole store at every write. */
  seq: number;
}

/** What the importer hands to the store; `seq` is assigned by the store. */
export type RecordWrite = Omit<StoredRecord, 'seq'>;

export type FilterOp = 'eq' | 'ne' | 'lt' | 'le' | 'gt' | 'ge' | 'like' | 'belongs';

/**
 * One URL filter (`~.field__op!=value`). `field` names a data field (compared on its decoded
 * machine value, or the text when there is no value) or a reference field (compared on the
 * referenced uuid). `values` has one entry except for `belongs`; null means NONE/NULL.
 * `like` is case-insensitive with `*` for any run and `?` for one character.
 * The exact semantics (numbers, booleans, lists, NULL with `ne` and `!`) are defined once, by
 * `matchesFilters()` in url-filter-match.ts; every store must select exactly what it accepts.
 */
export interface FieldFilter {
  field: string;
  op: FilterOp;
  values: (string | null)[];
  negate: boolean;
}

export interface RecordQuery {
  resource: string;
  /** modified_on >= msince (Eden semantics). */
  msince?: string;
  /** seq > afterSeq (exact change feed, used between Sluice peers). */
  afterSeq?: number;
  includeDeleted?: boolean;
  filters?: FieldFilter[];
  /** Only components of this master record. */
  parent?: { resource: string; uuid: string };
  /** Only records without a parent (masters). */
  topLevelOnly?: boolean;
  /** Defaults to modified_on then uuid; `seq` orders by the change counter. */
  orderBy?: 'modified_on' | 'seq';
  start?: number;
  limit?: number;
}

export type ConflictStatus = 'open' | 'resolved';

/** An update that a conflict policy did not settle. Nothing is dropped silently. */
export interface ConflictEntry {
  id: number;
  resource: string;
  uuid: string;
  /** The repository (peer uuid) the remote version came from, when known. */
  repository?: string;
  method: 'update' | 'delete' | 'merge';
  policy: string;
  /** The local record when the conflict was detected. */
  local: StoredRecord | null;
  /** The incoming version as it arrived. */
  remote: S3Resource;
  /** Fields whose values differ between the two. */
  fields: string[];
  created_at: string;
  status: ConflictStatus;
  resolution?: Record<string, unknown>;
  resolved_at?: string;
}

export type NewConflict = Omit<ConflictEntry, 'id' | 'status' | 'resolution' | 'resolved_at'>;

export interface ConflictQuery {
  status?: ConflictStatus;
  resource?: string;
  /** With `resource`: the conflicts of one record. */
  uuid?: string;
  repository?: string;
  limit?: number;
}

export interface UserRecord {
  username: string;
  /** scrypt hash `scrypt$N$r$p$salt$hash` (never the password). */
  passwordHash: string;
  roles: string[];
  created_at: string;
  /** A disabled user cannot sign in (console or HTTP Basic); absent means enabled. */
  disabled?: boolean;
}

/**
 * A console sign-in shared by every gateway process on the store. Keyed by the SHA-256 of the
 * session id, so neither the store nor its backups hold an id a browser could present.
 */
export interface ConsoleSessionRecord {
  /** Lower-case hex SHA-256 of the session id the browser holds. */
  id_hash: string;
  username: string;
  /** Milliseconds since the epoch, like leases. */
  created_at: number;
  last_seen_at: number;
  /** When it ends unless used again: the earlier of the idle limit and the absolute limit. */
  expires_at: number;
  /** A one-time message for the next page the user opens (text owned by the console). */
  flash?: string;
}

/** What may change in a live session; `flash: null` removes the message. */
export interface ConsoleSessionChange {
  last_seen_at?: number;
  expires_at?: number;
  flash?: string | null;
}

/** A registered peer as Eden keeps it in sync_repository (extended by the sync module). */
export interface RepositoryRecord {
  /** The peer's gateway/instance uuid (Eden's sync_repository.uuid). */
  uuid: string;
  name: string;
  apitype: string;
  url?: string;
  /** Free-form configuration owned by the sync module (credentials encrypted, proxy, policies…). */
  config: Record<string, unknown>;
  created_at: string;
  updated_at: string;
}

export type LogResult = 'success' | 'warning' | 'error' | 'fatal';

/** One sync-log line with Eden's fields. */
export interface LogEntry {
  id: number;
  timestmp: string;
  repository?: string;
  resource?: string;
  /** `pull|push|login|register|none` + `/incoming|outgoing|none` */
  mode: string;
  action: string;
  result: LogResult;
  remote: boolean;
  message: string;
  run_id?: string;
}

export type NewLogEntry = Omit<LogEntry, 'id'>;

export interface LogQuery {
  repository?: string;
  resource?: string;
  result?: LogResult;
  run_id?: string;
  limit?: number;
  beforeId?: number;
}

// ---------------------------------------------------------------------------------------------
// Sync state (the sync module's tables): tasks, checkpoints, jobs, leases, run history.
// Plain documents keyed by string ids, so any store can hold them; timestamps are passed in.

export type SyncMode = 'pull' | 'push' | 'both' | 'none';

/** One resource synchronised with one repository (Eden's sync_task); one per (repository, resource). */
export interface SyncTaskRecord {
  id: string;
  /** The peer's uuid (RepositoryRecord.uuid). */
  repository: string;
  resource: string;
  mode: SyncMode;
  /** Import methods allowed for incoming records: create, update, delete, merge. */
  strategy: string[];
  /** A policy name (THIS, OTHER, NEWER, MASTER) or a map `{__default__, field: policy}`. */
  update_policy: string | Record<string, string>;
  conflict_policy: string;
  /** URL filters as `key=value` query pairs, e.g. `~.obsolete=False` (Eden's sync_resource_filter). */
  filters: string[];
  /** Whether components travel with their masters. */
  components: boolean;
  created_at: string;
  updated_at: string;
}

/** Where a one-way replication stands; written only after the work it describes has committed. */
export interface CheckpointRecord {
  /** Derived from the replication's parameters (repository, resource, direction, filters…). */
  id: string;
  /** The task it belongs to; deleteTask removes its checkpoints. */
  task?: string;
  value: Record<string, unknown>;
  updated_at: string;
}

/** Reads and writes checkpoints; available on the store and inside a transaction. */
export interface CheckpointAccess {
  getCheckpoint(id: string): Promise<CheckpointRecord | undefined>;
  /** Insert or replace by id. */
  putCheckpoint(checkpoint: CheckpointRecord): Promise<void>;
}

/** A scheduled job (sync a repository, poll a source…), run under a lease. */
export interface JobRecord {
  id: string;
  /** What the job does, e.g. `sync`. */
  kind: string;
  /** What it works on, e.g. the repository uuid for `sync`. */
  target: string;
  /** A cron expression (node-schedule syntax, seconds optional); exclusive with interval_seconds. */
  cron?: string;
  interval_seconds?: number;
  enabled: boolean;
  created_at: string;
  updated_at: string;
}

/** A named lease: held by `holder` until `expires_at` (milliseconds since the epoch). */
export interface LeaseRecord {
  name: string;
  holder: string;
  acquired_at: number;
  expires_at: number;
}

/** One lease by name, or every lease whose name starts with a prefix. */
export type LeaseSelector = { name: string } | { prefix: string };

export type RunStatus = 'running' | 'success' | 'warning' | 'error' | 'fatal' | 'interrupted';

/** One request/response pair of a run, bodies cut to a size cap. */
export interface RunCapture {
  at: string;
  /** `pull` or `push` (or `register`, `login`…), as in the sync log. */
  mode: string;
  resource?: string;
  method: string;
  url: string;
  status?: number;
  request_bytes: number;
  response_bytes: number;
  request_body?: string;
  response_body?: string;
  /** True when a body was longer than the cap and was cut. */
  truncated: boolean;
  error?: string;
}

/** One run of a job or of Sync Now: what it did, how long it took, and what came over the wire. */
export interface RunRecord {
  id: string;
  kind: string;
  repository?: string;
  job?: string;
  /** `schedule`, `manual` (API), `cli`… */
  trigger: string;
  /** Who ran it (the lease holder). */
  holder?: string;
  status: RunStatus;
  started_at: string;
  finished_at?: string;
  duration_ms?: number;
  counts: Record<string, number>;
  bytes_in: number;
  bytes_out: number;
  message?: string;
  captures: RunCapture[];
}

export interface RunQuery {
  repository?: string;
  job?: string;
  status?: RunStatus;
  /** Default 50. */
  limit?: number;
}

// ---------------------------------------------------------------------------------------------
// LAN discovery and sync pools (src/discovery, src/pools).

/** A gateway seen on the LAN (mDNS), as last advertised. */
export interface DiscoveredGatewayRecord {
  /** The gateway's uuid as it advertised it (what a later fingerprint must confirm). */
  uuid: string;
  name: string;
  /** Base URL built from the advertisement (SRV target address, port, base path). */
  url: string;
  /** Free-form advertisement details owned by src/discovery (tables, interests, versions). */
  advert: Record<string, unknown>;
  first_seen_at: string;
  last_seen_at: string;
}

/** A sync pool: partners sharing tags, a task template and optionally credentials. */
export interface PoolRecord {
  /** The pool's key; never changes. */
  name: string;
  tags: string[];
  /** Free-form template owned by src/pools (resources, task settings, schedule). */
  template: Record<string, unknown>;
  username?: string;
  /** Sealed with the secret box (owner `pool:<name>`); never returned by the API. */
  password?: string;
  /** Gateway uuids an administrator turned down as candidates. */
  rejected: string[];
  created_at: string;
  updated_at: string;
}

/** Reads and writes on records; available on the store and inside a transaction. */
export interface RecordAccess {
  getRecord(resource: string, uuid: string): Promise<StoredRecord | undefined>;
  /**
   * The records of `resource` with these uuids, those that exist, in no particular order: one
   * round trip where an import page would otherwise ask record by record.
   */
  getRecords(resource: string, uuids: readonly string[]): Promise<StoredRecord[]>;
  /** Records with this uuid in any resource (uuids are meant to be global). */
  findByUuid(uuid: string): Promise<StoredRecord[]>;
  queryRecords(query: RecordQuery): Promise<StoredRecord[]>;
  /** Every record matching the query; `start`, `limit` and `orderBy` are ignored. */
  countRecords(query: RecordQuery): Promise<number>;
  /** Insert or replace by (resource, uuid); returns the record with its new seq. */
  putRecord(record: RecordWrite): Promise<StoredRecord>;
  /** Records (any resource) holding a reference to this uuid; the importer re-points them on a merge. */
  findReferencing(uuid: string): Promise<StoredRecord[]>;
  /**
   * Values seen for one data field of a resource, most frequent first (options.xml). Live records
   * only; NULL values left out; a list value counts as one value; `text` is its most frequent label.
   */
  fieldValues(resource: string, field: string, limit?: number): Promise<{ value: FieldValue; text?: string; count: number }[]>;
  /** Distinct resource names with counts of live records (0 when a resource holds only tombstones). */
  resources(): Promise<{ resource: string; count: number }[]>;
  /**
   * Resources holding at least one component record (deleted ones included), in name order. Cheap
   * whatever the store's size: exports and imports ask it once each.
   */
  componentResources(): Promise<string[]>;
  addConflict(conflict: NewConflict): Promise<ConflictEntry>;
}

export interface StoreTransaction extends RecordAccess, CheckpointAccess {}

export interface Store extends RecordAccess, CheckpointAccess {
  readonly kind: 'sqlite' | 'mongodb';

  /**
   * Runs `work` atomically: every write inside commits together or not at all. Transactions are
   * serialised; reads outside a transaction never see a transaction's uncommitted writes.
   */
  transaction<T>(work: (tx: StoreTransaction) => Promise<T>): Promise<T>;

  /** The highest seq assigned so far (0 for an empty store). */
  lastSeq(): Promise<number>;

  // Conflict queue
  /** Oldest first. */
  listConflicts(query?: ConflictQuery): Promise<ConflictEntry[]>;
  getConflict(id: number): Promise<ConflictEntry | undefined>;
  /** Fails with CONFLICT_NOT_FOUND (404) or CONFLICT_ALREADY_RESOLVED (409). */
  resolveConflict(id: number, resolution: Record<string, unknown>, at: string): Promise<void>;

  // Users
  getUser(username: string): Promise<UserRecord | undefined>;
  putUser(user: UserRecord): Promise<void>;
  listUsers(): Promise<UserRecord[]>;
  /** Removes the user; false when there was none. Their console sessions stay until ended apart. */
  deleteUser(username: string): Promise<boolean>;

  // Console sessions (src/auth/sessions.ts)
  getConsoleSession(idHash: string): Promise<ConsoleSessionRecord | undefined>;
  /** Insert or replace by id_hash. */
  putConsoleSession(session: ConsoleSessionRecord): Promise<void>;
  /**
   * Changes a session only if it still exists (never brings back one that another process ended);
   * false when it is gone.
   */
  updateConsoleSession(idHash: string, change: ConsoleSessionChange): Promise<boolean>;
  /** False when there was none. */
  deleteConsoleSession(idHash: string): Promise<boolean>;
  /** Ends every session of a user but `exceptIdHash`; returns how many. */
  deleteUserConsoleSessions(username: string, exceptIdHash?: string): Promise<number>;
  /** Deletes at most `limit` sessions with `expires_at <= now`; returns how many. */
  deleteExpiredConsoleSessions(now: number, limit: number): Promise<number>;

  // Settings (this gateway's uuid, name, default proxy, …)
  getSetting(key: string): Promise<string | undefined>;
  setSetting(key: string, value: string): Promise<void>;

  // Registered repositories (peers)
  getRepository(uuid: string): Promise<RepositoryRecord | undefined>;
  listRepositories(): Promise<RepositoryRecord[]>;
  putRepository(repository: RepositoryRecord): Promise<void>;
  deleteRepository(uuid: string): Promise<void>;

  // Sync log (append-only)
  appendLog(entry: NewLogEntry): Promise<LogEntry>;
  /** Newest first; at most `limit` entries (default 100), `beforeId` pages further back. */
  listLog(query?: LogQuery): Promise<LogEntry[]>;

  // Sync tasks (one per repository and resource)
  getTask(id: string): Promise<SyncTaskRecord | undefined>;
  /** Ordered by repository, resource. */
  listTasks(query?: { repository?: string }): Promise<SyncTaskRecord[]>;
  /** Insert or replace by id; a second task for the same (repository, resource) fails with TASK_EXISTS (409). */
  putTask(task: SyncTaskRecord): Promise<void>;
  /** Removes the task and its checkpoints. */
  deleteTask(id: string): Promise<void>;
  /** Removes every checkpoint of a task (a changed filter starts the task over). */
  deleteCheckpoints(task: string): Promise<void>;

  // Jobs
  getJob(id: string): Promise<JobRecord | undefined>;
  /** Ordered by id. */
  listJobs(query?: { kind?: string; target?: string }): Promise<JobRecord[]>;
  putJob(job: JobRecord): Promise<void>;
  deleteJob(id: string): Promise<void>;

  // Leases: atomic across every process sharing the store
  /**
   * Takes the lease when it is free, expired (`expires_at <= now`) or already held by `holder`
   * (which renews it), and returns it; returns undefined while someone else holds it.
   */
  acquireLease(name: string, holder: string, now: number, ttlMs: number): Promise<LeaseRecord | undefined>;
  /** Extends the lease only if `holder` still holds it (even if expired and not yet taken); false if lost. */
  renewLease(name: string, holder: string, now: number, ttlMs: number): Promise<boolean>;
  /** Gives the lease up if `holder` holds it; false when it did not. */
  releaseLease(name: string, holder: string): Promise<boolean>;
  getLease(name: string): Promise<LeaseRecord | undefined>;
  /**
   * Removes lease records for good (what a deleted job or repository left behind): the lease
   * `name`, or every lease whose name starts with `prefix`. With `expiredBy`, only those expired by
   * then (`expires_at <= expiredBy`) go, so a holder still at work keeps its lease; without it they
   * go whoever holds them. Returns how many were removed.
   */
  deleteLeases(which: LeaseSelector, expiredBy?: number): Promise<number>;

  // Run history
  /** Insert or replace by id (a run is written when it starts and again when it ends). */
  putRun(run: RunRecord): Promise<void>;
  getRun(id: string): Promise<RunRecord | undefined>;
  /** Newest first (in the order runs were first written). */
  listRuns(query?: RunQuery): Promise<RunRecord[]>;
  /** Empties the captures of every run but the newest `keep`; returns how many runs were trimmed. */
  trimRunCaptures(keep: number): Promise<number>;

  // LAN discovery: gateways seen on the network
  getDiscoveredGateway(uuid: string): Promise<DiscoveredGatewayRecord | undefined>;
  /** Ordered by name, uuid. */
  listDiscoveredGateways(): Promise<DiscoveredGatewayRecord[]>;
  /** Insert or replace by uuid. */
  putDiscoveredGateway(gateway: DiscoveredGatewayRecord): Promise<void>;
  deleteDiscoveredGateway(uuid: string): Promise<void>;

  // Sync pools
  getPool(name: string): Promise<PoolRecord | undefined>;
  /** Ordered by name. */
  listPools(): Promise<PoolRecord[]>;
  /** Insert or replace by name. */
  putPool(pool: PoolRecord): Promise<void>;
  deletePool(name: string): Promise<void>;

  close(): Promise<void>;
}
