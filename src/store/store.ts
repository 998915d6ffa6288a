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

export interface UserRecord {
  username: string;
  /** scrypt hash `scrypt$N$r$p$salt$hash` (never the password). */
  passwordHash: string;
  roles: string[];
  created_at: string;
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

/** Reads and writes on records; available on the store and inside a transaction. */
export interface RecordAccess {
  getRecord(resource: string, uuid: string): Promise<StoredRecord | undefined>;
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
  addConflict(conflict: NewConflict): Promise<ConflictEntry>;
}

export interface StoreTransaction extends RecordAccess {}

export interface Store extends RecordAccess {
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
  listConflicts(query?: { status?: ConflictStatus; resource?: string; limit?: number }): Promise<ConflictEntry[]>;
  getConflict(id: number): Promise<ConflictEntry | undefined>;
  /** Fails with CONFLICT_NOT_FOUND (404) or CONFLICT_ALREADY_RESOLVED (409). */
  resolveConflict(id: number, resolution: Record<string, unknown>, at: string): Promise<void>;

  // Users
  getUser(username: string): Promise<UserRecord | undefined>;
  putUser(user: UserRecord): Promise<void>;
  listUsers(): Promise<UserRecord[]>;

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

  close(): Promise<void>;
}
