/**
 * The embedded store: one SQLite file through better-sqlite3 (the default for a single gateway).
 *
 * better-sqlite3 is synchronous, but a Sluice transaction awaits between its statements. So:
 * - every write (a transaction, or a single write outside one) runs between BEGIN IMMEDIATE and
 *   COMMIT on the one write connection, holding an async mutex, so transactions never interleave;
 * - reads outside a transaction use a second, read-only connection, which in WAL mode sees the last
 *   commit and never an open transaction's writes;
 * - reads inside a transaction go through the write connection and see that transaction's writes.
 * Calling a store write from inside a transaction's work would wait on itself; that is refused with
 * STORE_NESTED_TRANSACTION instead of hanging.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import Database from 'better-sqlite3';
import { SluiceError } from '../errors.js';
import type { FieldValue } from '../s3xml/model.js';
import type {
  CheckpointRecord,
  ConflictEntry,
  ConflictQuery,
  ConsoleSessionChange,
  ConsoleSessionRecord,
  DiscoveredGatewayRecord,
  JobRecord,
  LeaseRecord,
  LeaseSelector,
  RunQuery,
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
} from './store.js';
import { AsyncMutex } from './sqlite/async-mutex.js';
import { FieldIndex, filteredFields } from './sqlite/field-index.js';
import { matchesFilters } from './url-filter-match.js';
import { openConnections } from './sqlite/connections.js';
import { RecordReader } from './sqlite/record-reader.js';
import { conflictFromRow, logFromRow, repositoryFromRow, userFromRow } from './sqlite/state-rows.js';
import type { ConflictRow, LogRow, RepositoryRow, UserRow } from './sqlite/state-rows.js';
import { ConsoleStateTables } from './sqlite/console-state.js';
import { DiscoveryStateTables } from './sqlite/discovery-state.js';
import { SyncStateTables } from './sqlite/sync-state.js';
import { WriteSession } from './sqlite/write-session.js';

export interface SqliteStoreOptions {
  /** Path of the store file; created with the current schema when missing. */
  file: string;
  /** How long a write waits for another process's lock on the file before STORE_BUSY (default 5000). */
  busyTimeoutMs?: number;
}

const DEFAULT_BUSY_TIMEOUT_MS = 5000;
/** listLog without a limit returns at most this many entries. */
export const DEFAULT_LOG_LIMIT = 100;

/** Marks the async context of a running transaction's work, to catch writes that would deadlock. */
interface TransactionScope {
  store: SqliteStore;
  active: boolean;
}
const transactionScopes = new AsyncLocalStorage<readonly TransactionScope[]>();

/** Turns driver errors into SluiceErrors with a stable code; SluiceErrors pass through. */
function storeFailure(error: unknown): unknown {
  if (error instanceof SluiceError) return error;
  if (!(error instanceof Database.SqliteError)) {
    const message = error instanceof Error ? error.message : String(error);
    return new SluiceError('STORE_FAILED', `The store failed: ${message}`, { status: 500, cause: error });
  }
  if (error.code.startsWith('SQLITE_BUSY') || error.code.startsWith('SQLITE_LOCKED')) {
    return new SluiceError('STORE_BUSY', `The store file is locked by another writer: ${error.message}`, {
      status: 503,
      fix: 'Retry later; if it persists, check that no other program holds the store file open for writing, or raise busyTimeoutMs',
      cause: error,
    });
  }
  if (error.code.startsWith('SQLITE_FULL')) {
    return new SluiceError('STORE_DISK_FULL', 'The disk holding the store is full', {
      status: 507,
      fix: 'Free disk space, then retry: nothing of the failed write was kept',
      cause: error,
    });
  }
  return new SluiceError('STORE_FAILED', `The store failed: ${error.message}`, { status: 500, cause: error, details: { sqlite: error.code } });
}

function guarded<T>(work: () => T): Promise<T> {
  try {
    return Promise.resolve(work());
  } catch (error) {
    return Promise.reject(storeFailure(error));
  }
}

function closedError(): SluiceError {
  return new SluiceError('STORE_CLOSED', 'The store is closed', {
    status: 503,
    fix: 'This is a bug in the caller: the store was used after close()',
  });
}

class SqliteTransaction implements StoreTransaction {
  private open = true;

  constructor(
    private readonly session: WriteSession,
    private readonly reader: RecordReader,
    private readonly syncState: SyncStateTables,
  ) {}

  end(): void {
    this.open = false;
  }

  private use<T>(work: () => T): Promise<T> {
    if (!this.open) {
      return Promise.reject(
        new SluiceError('STORE_TRANSACTION_CLOSED', 'A transaction handle was used after its transaction ended', {
          status: 500,
          fix: 'This is a bug in the caller: await every store call inside the transaction work',
        }),
      );
    }
    return guarded(work);
  }

  getRecord(resource: string, uuid: string): Promise<StoredRecord | undefined> {
    return this.use(() => this.reader.getRecord(resource, uuid));
  }
  getRecords(resource: string, uuids: readonly string[]): Promise<StoredRecord[]> {
    return this.use(() => this.reader.getRecords(resource, uuids));
  }
  findByUuid(uuid: string): Promise<StoredRecord[]> {
    return this.use(() => this.reader.findByUuid(uuid));
  }
  queryRecords(query: RecordQuery): Promise<StoredRecord[]> {
    return this.use(() => {
      this.indexFilteredFields(query);
      return this.reader.queryRecords(query);
    });
  }
  countRecords(query: RecordQuery): Promise<number> {
    return this.use(() => {
      this.indexFilteredFields(query);
      return this.reader.countRecords(query);
    });
  }
  /** Inside the transaction its own registrations count, committed or not. */
  private indexFilteredFields(query: RecordQuery): void {
    const missing = this.session.fieldIndex.missing(query.resource, filteredFields(query));
    if (missing.length > 0) this.session.indexFields(query.resource, missing);
  }
  putRecord(record: RecordWrite): Promise<StoredRecord> {
    return this.use(() => this.session.putRecord(record));
  }
  findReferencing(uuid: string): Promise<StoredRecord[]> {
    return this.use(() => this.reader.findReferencing(uuid));
  }
  fieldValues(resource: string, field: string, limit?: number): Promise<{ value: FieldValue; text?: string; count: number }[]> {
    return this.use(() => this.reader.fieldValues(resource, field, limit));
  }
  resources(): Promise<{ resource: string; count: number }[]> {
    return this.use(() => this.reader.resources());
  }
  componentResources(): Promise<string[]> {
    return this.use(() => this.reader.componentResources());
  }
  addConflict(conflict: NewConflict): Promise<ConflictEntry> {
    return this.use(() => this.session.addConflict(conflict));
  }
  getCheckpoint(id: string): Promise<CheckpointRecord | undefined> {
    return this.use(() => this.syncState.getCheckpoint(id, true));
  }
  putCheckpoint(checkpoint: CheckpointRecord): Promise<void> {
    return this.use(() => this.syncState.putCheckpoint(checkpoint));
  }
}

class SqliteStore implements Store {
  readonly kind = 'sqlite' as const;
  private readonly mutex = new AsyncMutex();
  private readonly session: WriteSession;
  /** Reads outside a transaction: last commit only. */
  private readonly committed: RecordReader;
  /** Reads inside a transaction: its own writes included. */
  private readonly uncommitted: RecordReader;
  /** The field registrations as the reader connection sees them (last commit). */
  private readonly committedFields: FieldIndex;
  private closed = false;
  private readonly statements: ReturnType<typeof prepareStateStatements>;
  private readonly syncState: SyncStateTables;
  private readonly discoveryState: DiscoveryStateTables;
  private readonly consoleState: ConsoleStateTables;

  constructor(
    private readonly writer: Database.Database,
    private readonly reader: Database.Database,
  ) {
    this.session = new WriteSession(writer);
    this.committed = new RecordReader(reader);
    this.uncommitted = new RecordReader(writer);
    this.committedFields = new FieldIndex(reader);
    this.statements = prepareStateStatements(writer, reader);
    this.syncState = new SyncStateTables(writer, reader);
    this.discoveryState = new DiscoveryStateTables(writer, reader);
    this.consoleState = new ConsoleStateTables(writer, reader);
  }

  private assertUsable(): void {
    if (this.closed) throw closedError();
    if (this.insideOwnTransaction()) {
      throw new SluiceError('STORE_NESTED_TRANSACTION', 'A store write was started inside a transaction of the same store; it would wait for itself forever', {
        status: 500,
        fix: 'Inside transaction(work), write through the transaction handle passed to work, not through the store',
      });
    }
  }

  async transaction<T>(work: (tx: StoreTransaction) => Promise<T>): Promise<T> {
    this.assertUsable();
    const release = await this.mutex.acquire();
    try {
      if (this.closed) throw closedError();
      await guarded(() => this.session.begin());
      const tx = new SqliteTransaction(this.session, this.uncommitted, this.syncState);
      const scope: TransactionScope = { store: this, active: true };
      try {
        const result = await transactionScopes.run([...(transactionScopes.getStore() ?? []), scope], () => work(tx));
        scope.active = false;
        tx.end();
        await guarded(() => this.session.commit());
        return result;
      } catch (error) {
        scope.active = false;
        tx.end();
        this.session.rollback();
        throw error;
      }
    } finally {
      release();
    }
  }

  /** A write outside any transaction: its own BEGIN IMMEDIATE … COMMIT, in turn with transactions. */
  private async write<T>(work: (session: WriteSession) => T): Promise<T> {
    this.assertUsable();
    const release = await this.mutex.acquire();
    try {
      if (this.closed) throw closedError();
      return await guarded(() => {
        this.session.begin();
        try {
          const result = work(this.session);
          this.session.commit();
          return result;
        } catch (error) {
          this.session.rollback();
          throw error;
        }
      });
    } finally {
      release();
    }
  }

  private read<T>(work: () => T): Promise<T> {
    if (this.closed) return Promise.reject(closedError());
    return guarded(work);
  }

  // Records

  getRecord(resource: string, uuid: string): Promise<StoredRecord | undefined> {
    return this.read(() => this.committed.getRecord(resource, uuid));
  }  getRecords(resource: string, uuids: readonly string[]): Promise<StoredRecord[]> {
    return this.read(() => this.committed.getRecords(resource, uuids));
  }

  findByUuid(uuid: string): Promise<StoredRecord[]> {
    return this.read(() => this.committed.findByUuid(uuid));
  }
  async queryRecords(query: RecordQuery): Promise<StoredRecord[]> {
    if (!(await this.indexFilteredFields(query))) return (await this.scanFiltered(query)).page;
    return this.read(() => this.committed.queryRecords(query));
  }
  async countRecords(query: RecordQuery): Promise<number> {
    if (!(await this.indexFilteredFields(query))) return (await this.scanFiltered(query)).count;
    return this.read(() => this.committed.countRecords(query));
  }

  /**
   * A filter on a field not indexed yet indexes it first (field-index.ts), in a write of its own;
   * checked against the last commit, which is what the read will see. False when that write cannot
   * happen now: the caller is inside a transaction of this store, which holds the writer.
   */
  private async indexFilteredFields(query: RecordQuery): Promise<boolean> {
    const fields = filteredFields(query);
    if (fields.length === 0) return true;
    const missing = await this.read(() => this.committedFields.missing(query.resource, fields));
    if (missing.length === 0) return true;
    if (this.insideOwnTransaction()) return false;
    await this.write((session) => session.indexFields(query.resource, missing));
    return true;
  }

  private insideOwnTransaction(): boolean {
    return transactionScopes.getStore()?.some((scope) => scope.store === this && scope.active) ?? false;
  }

  /** The rare answer without the index: every record of the resource, filtered here by the rules themselves. */
  private async scanFiltered(query: RecordQuery): Promise<{ page: StoredRecord[]; count: number }> {
    const { filters, start, limit, ...unfiltered } = query;
    const all = await this.read(() => this.committed.queryRecords(unfiltered));
    const matching = all.filter((record) => matchesFilters(record, filters ?? []));
    const from = start ?? 0;
    return { page: matching.slice(from, limit === undefined ? undefined : from + limit), count: matching.length };
  }
  putRecord(record: RecordWrite): Promise<StoredRecord> {
    return this.write((session) => session.putRecord(record));
  }
  findReferencing(uuid: string): Promise<StoredRecord[]> {
    return this.read(() => this.committed.findReferencing(uuid));
  }
  fieldValues(resource: string, field: string, limit?: number): Promise<{ value: FieldValue; text?: string; count: number }[]> {
    return this.read(() => this.committed.fieldValues(resource, field, limit));
  }
  resources(): Promise<{ resource: string; count: number }[]> {
    return this.read(() => this.committed.resources());
  }
  componentResources(): Promise<string[]> {
    return this.read(() => this.committed.componentResources());
  }
  lastSeq(): Promise<number> {
    return this.read(() => this.statements.lastSeq.get()!.value);
  }

  // Conflict queue

  addConflict(conflict: NewConflict): Promise<ConflictEntry> {
    return this.write((session) => session.addConflict(conflict));
  }

  listConflicts(query: ConflictQuery = {}): Promise<ConflictEntry[]> {
    return this.read(() => {
      const conditions: string[] = [];
      const params: (string | number)[] = [];
      for (const key of ['status', 'resource', 'uuid', 'repository'] as const) {
        const value = query[key];
        if (value !== undefined) {
          conditions.push(`${key} = ?`);
          params.push(value);
        }
      }
      const where = conditions.length > 0 ? `WHERE ${conditions.join(' AND ')}` : '';
      params.push(query.limit ?? -1);
      const rows = this.reader.prepare(`SELECT * FROM conflicts ${where} ORDER BY id LIMIT ?`).all(...params) as ConflictRow[];
      return rows.map(conflictFromRow);
    });
  }

  getConflict(id: number): Promise<ConflictEntry | undefined> {
    return this.read(() => {
      const row = this.statements.conflictById.get(id);
      return row ? conflictFromRow(row) : undefined;
    });
  }

  resolveConflict(id: number, resolution: Record<string, unknown>, at: string): Promise<void> {
    return this.write(() => {
      const row = this.statements.conflictStatus.get(id);
      if (!row) {
        throw new SluiceError('CONFLICT_NOT_FOUND', `There is no conflict ${id}`, { status: 404, fix: 'Reload the conflict queue' });
      }
      if (row.status === 'resolved') {
        throw new SluiceError('CONFLICT_ALREADY_RESOLVED', `Conflict ${id} was already resolved`, {
          status: 409,
          fix: 'Someone else resolved it first; reload the conflict queue to see their resolution',
        });
      }
      this.statements.resolveConflict.run(JSON.stringify(resolution), at, id);
    });
  }

  // Users

  getUser(username: string): Promise<UserRecord | undefined> {
    return this.read(() => {
      const row = this.statements.userByName.get(username);
      return row ? userFromRow(row) : undefined;
    });
  }
  putUser(user: UserRecord): Promise<void> {
    return this.write(() => {
      this.statements.upsertUser.run(user.username, user.passwordHash, JSON.stringify(user.roles), user.created_at, user.disabled ? 1 : 0);
    });
  }
  listUsers(): Promise<UserRecord[]> {
    return this.read(() => this.statements.allUsers.all().map(userFromRow));
  }
  deleteUser(username: string): Promise<boolean> {
    return this.write(() => this.consoleState.deleteUser(username));
  }

  // Console sessions

  getConsoleSession(idHash: string): Promise<ConsoleSessionRecord | undefined> {
    return this.read(() => this.consoleState.getConsoleSession(idHash));
  }
  putConsoleSession(session: ConsoleSessionRecord): Promise<void> {
    return this.write(() => this.consoleState.putConsoleSession(session));
  }
  updateConsoleSession(idHash: string, change: ConsoleSessionChange): Promise<boolean> {
    return this.write(() => this.consoleState.updateConsoleSession(idHash, change));
  }
  deleteConsoleSession(idHash: string): Promise<boolean> {
    return this.write(() => this.consoleState.deleteConsoleSession(idHash));
  }
  deleteUserConsoleSessions(username: string, exceptIdHash?: string): Promise<number> {
    return this.write(() => this.consoleState.deleteUserConsoleSessions(username, exceptIdHash));
  }
  deleteExpiredConsoleSessions(now: number, limit: number): Promise<number> {
    return this.write(() => this.consoleState.deleteExpiredConsoleSessions(now, limit));
  }

  // Settings

  getSetting(key: string): Promise<string | undefined> {
    return this.read(() => this.statements.settingByKey.get(key)?.value);
  }
  setSetting(key: string, value: string): Promise<void> {
    return this.write(() => {
      this.statements.upsertSetting.run(key, value);
    });
  }

  // Repositories

  getRepository(uuid: string): Promise<RepositoryRecord | undefined> {
    return this.read(() => {
      const row = this.statements.repositoryByUuid.get(uuid);
      return row ? repositoryFromRow(row) : undefined;
    });
  }
  listRepositories(): Promise<RepositoryRecord[]> {
    return this.read(() => this.statements.allRepositories.all().map(repositoryFromRow));
  }
  putRepository(repository: RepositoryRecord): Promise<void> {
    return this.write(() => {
      this.statements.upsertRepository.run(
        repository.uuid,
        repository.name,
        repository.apitype,
        repository.url ?? null,
        JSON.stringify(repository.config),
        repository.created_at,
        repository.updated_at,
      );
    });
  }
  deleteRepository(uuid: string): Promise<void> {
    return this.write(() => {
      this.statements.deleteRepository.run(uuid);
    });
  }

  // Sync log

  appendLog(entry: NewLogEntry): Promise<LogEntry> {
    return this.write(() => {
      const id = Number(
        this.statements.insertLog.run(
          entry.timestmp,
          entry.repository ?? null,
          entry.resource ?? null,
          entry.mode,
          entry.action,
          entry.result,
          entry.remote ? 1 : 0,
          entry.message,
          entry.run_id ?? null,
        ).lastInsertRowid,
      );
      return logFromRow(this.statements.logByIdOnWriter.get(id)!);
    });
  }

  listLog(query: LogQuery = {}): Promise<LogEntry[]> {
    return this.read(() => {
      const conditions: string[] = [];
      const params: (string | number)[] = [];
      for (const key of ['repository', 'resource', 'result', 'run_id'] as const) {
        const value = query[key];
        if (value !== undefined) {
          conditions.push(`${key} = ?`);
          params.push(value);
        }
      }
      if (query.beforeId !== undefined) {
        conditions.push('id < ?');
        params.push(query.beforeId);
      }
      const where = conditions.length > 0 ? `WHERE ${conditions.join(' AND ')}` : '';
      params.push(query.limit ?? DEFAULT_LOG_LIMIT);
      const rows = this.reader.prepare(`SELECT * FROM sync_log ${where} ORDER BY id DESC LIMIT ?`).all(...params) as LogRow[];
      return rows.map(logFromRow);
    });
  }

  // Sync state: tasks, checkpoints, jobs, leases, runs (sqlite/sync-state.ts)

  getTask(id: string): Promise<SyncTaskRecord | undefined> {
    return this.read(() => this.syncState.getTask(id));
  }
  listTasks(query: { repository?: string } = {}): Promise<SyncTaskRecord[]> {
    return this.read(() => this.syncState.listTasks(query));
  }
  putTask(task: SyncTaskRecord): Promise<void> {
    return this.write(() => this.syncState.putTask(task));
  }
  deleteTask(id: string): Promise<void> {
    return this.write(() => this.syncState.deleteTask(id));
  }
  deleteCheckpoints(task: string): Promise<void> {
    return this.write(() => this.syncState.deleteCheckpoints(task));
  }
  getCheckpoint(id: string): Promise<CheckpointRecord | undefined> {
    return this.read(() => this.syncState.getCheckpoint(id, false));
  }
  putCheckpoint(checkpoint: CheckpointRecord): Promise<void> {
    return this.write(() => this.syncState.putCheckpoint(checkpoint));
  }
  getJob(id: string): Promise<JobRecord | undefined> {
    return this.read(() => this.syncState.getJob(id));
  }
  listJobs(query: { kind?: string; target?: string } = {}): Promise<JobRecord[]> {
    return this.read(() => this.syncState.listJobs(query));
  }
  putJob(job: JobRecord): Promise<void> {
    return this.write(() => this.syncState.putJob(job));
  }
  deleteJob(id: string): Promise<void> {
    return this.write(() => this.syncState.deleteJob(id));
  }
  acquireLease(name: string, holder: string, now: number, ttlMs: number): Promise<LeaseRecord | undefined> {
    return this.write(() => this.syncState.acquireLease(name, holder, now, ttlMs));
  }
  renewLease(name: string, holder: string, now: number, ttlMs: number): Promise<boolean> {
    return this.write(() => this.syncState.renewLease(name, holder, now, ttlMs));
  }
  releaseLease(name: string, holder: string): Promise<boolean> {
    return this.write(() => this.syncState.releaseLease(name, holder));
  }
  getLease(name: string): Promise<LeaseRecord | undefined> {
    return this.read(() => this.syncState.getLease(name));
  }
  deleteLeases(which: LeaseSelector, expiredBy?: number): Promise<number> {
    return this.write(() => this.syncState.deleteLeases(which, expiredBy));
  }
  putRun(run: RunRecord): Promise<void> {
    return this.write(() => this.syncState.putRun(run));
  }
  getRun(id: string): Promise<RunRecord | undefined> {
    return this.read(() => this.syncState.getRun(id));
  }
  listRuns(query: RunQuery = {}): Promise<RunRecord[]> {
    return this.read(() => this.syncState.listRuns(query));
  }
  trimRunCaptures(keep: number): Promise<number> {
    return this.write(() => this.syncState.trimRunCaptures(keep));
  }

  // LAN discovery and sync pools (sqlite/discovery-state.ts)

  getDiscoveredGateway(uuid: string): Promise<DiscoveredGatewayRecord | undefined> {
    return this.read(() => this.discoveryState.getDiscoveredGateway(uuid));
  }
  listDiscoveredGateways(): Promise<DiscoveredGatewayRecord[]> {
    return this.read(() => this.discoveryState.listDiscoveredGateways());
  }
  putDiscoveredGateway(gateway: DiscoveredGatewayRecord): Promise<void> {
    return this.write(() => this.discoveryState.putDiscoveredGateway(gateway));
  }
  deleteDiscoveredGateway(uuid: string): Promise<void> {
    return this.write(() => this.discoveryState.deleteDiscoveredGateway(uuid));
  }
  getPool(name: string): Promise<PoolRecord | undefined> {
    return this.read(() => this.discoveryState.getPool(name));
  }
  listPools(): Promise<PoolRecord[]> {
    return this.read(() => this.discoveryState.listPools());
  }
  putPool(pool: PoolRecord): Promise<void> {
    return this.write(() => this.discoveryState.putPool(pool));
  }
  deletePool(name: string): Promise<void> {
    return this.write(() => this.discoveryState.deletePool(name));
  }

  /** Waits for the running transaction, then closes both connections. Closing twice is harmless. */
  async close(): Promise<void> {
    if (this.closed) return;
    const release = await this.mutex.acquire();
    try {
      if (this.closed) return;
      this.closed = true;
      this.reader.close();
      this.writer.close();
    } finally {
      release();
    }
  }
}

function prepareStateStatements(writer: Database.Database, reader: Database.Database) {
  return {
    lastSeq: reader.prepare<[], { value: number }>("SELECT value FROM counters WHERE name = 'seq'"),
    conflictById: reader.prepare<[number], ConflictRow>('SELECT * FROM conflicts WHERE id = ?'),
    conflictStatus: writer.prepare<[number], { status: string }>('SELECT status FROM conflicts WHERE id = ?'),
    resolveConflict: writer.prepare<[string, string, number]>(
      "UPDATE conflicts SET status = 'resolved', resolution = ?, resolved_at = ? WHERE id = ?",
    ),
    userByName: reader.prepare<[string], UserRow>('SELECT * FROM users WHERE username = ?'),
    allUsers: reader.prepare<[], UserRow>('SELECT * FROM users ORDER BY username'),
    upsertUser: writer.prepare<[string, string, string, string, number]>(
      'INSERT INTO users (username, password_hash, roles, created_at, disabled) VALUES (?, ?, ?, ?, ?) ' +
        'ON CONFLICT (username) DO UPDATE SET password_hash = excluded.password_hash, roles = excluded.roles, created_at = excluded.created_at, disabled = excluded.disabled',
    ),
    settingByKey: reader.prepare<[string], { value: string }>('SELECT value FROM settings WHERE key = ?'),
    upsertSetting: writer.prepare<[string, string]>(
      'INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value',
    ),
    repositoryByUuid: reader.prepare<[string], RepositoryRow>('SELECT * FROM repositories WHERE uuid = ?'),
    allRepositories: reader.prepare<[], RepositoryRow>('SELECT * FROM repositories ORDER BY name, uuid'),
    upsertRepository: writer.prepare<[string, string, string, string | null, string, string, string]>(
      'INSERT INTO repositories (uuid, name, apitype, url, config, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?) ' +
        'ON CONFLICT (uuid) DO UPDATE SET name = excluded.name, apitype = excluded.apitype, url = excluded.url, ' +
        'config = excluded.config, created_at = excluded.created_at, updated_at = excluded.updated_at',
    ),
    deleteRepository: writer.prepare<[string]>('DELETE FROM repositories WHERE uuid = ?'),
    insertLog: writer.prepare<[string, string | null, string | null, string, string, string, number, string, string | null]>(
      'INSERT INTO sync_log (timestmp, repository, resource, mode, action, result, remote, message, run_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
    ),
    logByIdOnWriter: writer.prepare<[number], LogRow>('SELECT * FROM sync_log WHERE id = ?'),
  };
}

/**
 * Opens (creating or migrating) the SQLite store at `options.file`: WAL, synchronous=NORMAL,
 * foreign keys on. Fails with STORE_OPEN_FAILED or STORE_SCHEMA_TOO_NEW.
 */
export async function openSqliteStore(options: SqliteStoreOptions): Promise<Store> {
  const { writer, reader } = openConnections(options.file, options.busyTimeoutMs ?? DEFAULT_BUSY_TIMEOUT_MS);
  return new SqliteStore(writer, reader);
}
