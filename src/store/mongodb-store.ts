/**
 * The MongoDB store, for deployments where several gateway processes share one database. Same
 * contract as the SQLite store (test/store/contract.ts); layouts in mongodb/*-documents.ts.
 *
 * Transactions: `transaction(work)` is one MongoDB transaction (session.withTransaction), so it
 * needs a replica set (a single-node one is fine). Within one process transactions and record
 * writes take turns on an async mutex, as in the SQLite store; across processes each transaction
 * first takes the seq counter document (mongodb/record-writer.ts), which serialises them too, so
 * seq order is commit order everywhere. A write conflict with another process therefore happens
 * before `work` runs; the driver retries that by itself. Should one happen later (a write outside
 * any transaction touching a document the transaction wrote), the driver runs `work` again with a
 * fresh handle, the previous one closed.
 *
 * A command that fails inside a transaction aborts the whole transaction (MongoDB's rule), unlike
 * SQLite where a failed put leaves the rest of the transaction usable; record validation happens
 * before anything is sent, so a refused record does not abort anything.
 *
 * Writes of gateway state (users, settings, repositories, log, jobs, leases, runs) are single
 * atomic document operations and do not wait for transactions.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { ClientSession, MongoClient, TransactionOptions } from 'mongodb';
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
  LogEntry,
  LogQuery,
  NewConflict,
  NewLogEntry,
  PoolRecord,
  RecordQuery,
  RecordWrite,
  RepositoryRecord,
  RunQuery,
  RunRecord,
  Store,
  StoredRecord,
  StoreTransaction,
  SyncTaskRecord,
  UserRecord,
} from './store.js';
import type { StoreCollections } from './mongodb/collections.js';
import { ConsoleState } from './mongodb/console-state.js';
import { DiscoveryState } from './mongodb/discovery-state.js';
import { GatewayState } from './mongodb/gateway-state.js';
import { RecordReader } from './mongodb/record-reader.js';
import { RecordWriter } from './mongodb/record-writer.js';
import { connectDatabase, databaseFromUrl } from './mongodb/connection.js';
import type { MongoStoreOptions } from './mongodb/connection.js';
import { closedError, isTransientTransactionError, storeFailure, transactionClosedError } from './mongodb/store-errors.js';
import { SyncState } from './mongodb/sync-state.js';
import { AsyncMutex } from './sqlite/async-mutex.js';

export type { MongoStoreOptions };
export { databaseFromUrl };

const TRANSACTION_OPTIONS: TransactionOptions = { readConcern: { level: 'snapshot' }, writeConcern: { w: 'majority' } };

interface TransactionScope {
  store: MongoStore;
  active: boolean;
}
const transactionScopes = new AsyncLocalStorage<readonly TransactionScope[]>();

/**
 * Inside a transaction, driver errors carrying TransientTransactionError must reach
 * withTransaction unchanged so it can run the transaction again; everything else becomes a
 * SluiceError for the caller.
 */
function failureInTransaction(error: unknown): unknown {
  return isTransientTransactionError(error) ? error : storeFailure(error);
}

class MongoTransaction implements StoreTransaction {
  private open = true;

  constructor(
    private readonly writer: RecordWriter,
    private readonly reader: RecordReader,
    private readonly syncState: SyncState,
  ) {}

  end(): void {
    this.open = false;
  }

  private async use<T>(work: () => Promise<T>): Promise<T> {
    if (!this.open) throw transactionClosedError();
    try {
      return await work();
    } catch (error) {
      throw failureInTransaction(error);
    }
  }

  // The writer holds puts back (record-writer.ts): the two lookups by uuid see them without a
  // flush; every other read sends them first.
  getRecord(resource: string, uuid: string): Promise<StoredRecord | undefined> {
    return this.use(async () => this.writer.heldRecord(resource, uuid) ?? (await this.reader.getRecord(resource, uuid)));
  }
  getRecords(resource: string, uuids: readonly string[]): Promise<StoredRecord[]> {
    return this.use(async () => {
      // Records put in this transaction and not yet sent win over what the database has.
      const held = uuids.map((uuid) => this.writer.heldRecord(resource, uuid)).filter((record) => record !== undefined);
      const heldUuids = new Set(held.map((record) => record.uuid));
      const stored = await this.reader.getRecords(resource, uuids.filter((uuid) => !heldUuids.has(uuid)));
      return [...held, ...stored];
    });
  }
  findByUuid(uuid: string): Promise<StoredRecord[]> {
    return this.use(async () => this.writer.withHeldRecords(uuid, await this.reader.findByUuid(uuid)));
  }
  queryRecords(query: RecordQuery): Promise<StoredRecord[]> {
    return this.use(() => this.afterFlush(() => this.reader.queryRecords(query)));
  }
  countRecords(query: RecordQuery): Promise<number> {
    return this.use(() => this.afterFlush(() => this.reader.countRecords(query)));
  }
  putRecord(record: RecordWrite): Promise<StoredRecord> {
    return this.use(() => this.writer.putRecord(record));
  }
  findReferencing(uuid: string): Promise<StoredRecord[]> {
    return this.use(() => this.afterFlush(() => this.reader.findReferencing(uuid)));
  }
  fieldValues(resource: string, field: string, limit?: number): Promise<{ value: FieldValue; text?: string; count: number }[]> {
    return this.use(() => this.afterFlush(() => this.reader.fieldValues(resource, field, limit)));
  }
  resources(): Promise<{ resource: string; count: number }[]> {
    return this.use(() => this.afterFlush(() => this.reader.resources()));
  }
  componentResources(): Promise<string[]> {
    return this.use(() => this.afterFlush(() => this.reader.componentResources()));
  }

  private async afterFlush<T>(read: () => Promise<T>): Promise<T> {
    await this.writer.flush();
    return read();
  }
  addConflict(conflict: NewConflict): Promise<ConflictEntry> {
    return this.use(() => this.writer.addConflict(conflict));
  }
  getCheckpoint(id: string): Promise<CheckpointRecord | undefined> {
    return this.use(() => this.syncState.getCheckpoint(id, this.writer.session));
  }
  putCheckpoint(checkpoint: CheckpointRecord): Promise<void> {
    return this.use(() => this.writer.putCheckpoint(checkpoint));
  }
}

class MongoStore implements Store {
  readonly kind = 'mongodb' as const;
  private readonly mutex = new AsyncMutex();
  private readonly committed: RecordReader;
  private readonly gatewayState: GatewayState;
  private readonly syncState: SyncState;
  private readonly discoveryState: DiscoveryState;
  private readonly consoleState: ConsoleState;
  private closed = false;

  constructor(
    private readonly client: MongoClient,
    private readonly collections: StoreCollections,
  ) {
    this.committed = new RecordReader(collections);
    this.gatewayState = new GatewayState(collections);
    this.syncState = new SyncState(collections);
    this.discoveryState = new DiscoveryState(collections);
    this.consoleState = new ConsoleState(collections);
  }

  private assertUsable(): void {
    if (this.closed) throw closedError();
    const scopes = transactionScopes.getStore();
    if (scopes?.some((scope) => scope.store === this && scope.active)) {
      throw new SluiceError('STORE_NESTED_TRANSACTION', 'A store write was started inside a transaction of the same store; it would wait for itself forever', {
        status: 500,
        fix: 'Inside transaction(work), write through the transaction handle passed to work, not through the store',
      });
    }
  }

  /**
   * Runs `attempt` in a MongoDB transaction, holding the mutex throughout. Failures become
   * SluiceErrors, except those `fromCaller` claims (the caller's own work threw them).
   */
  private async inTransaction<T>(attempt: (writer: RecordWriter) => Promise<T>, fromCaller: (error: unknown) => boolean = () => false): Promise<T> {
    this.assertUsable();
    const release = await this.mutex.acquire();
    let session: ClientSession | undefined;
    try {
      if (this.closed) throw closedError();
      session = this.client.startSession();
      const active = session;
      return await active.withTransaction(async () => {
        const writer = new RecordWriter(this.collections, active);
        await writer.begin();
        const result = await attempt(writer);
        await writer.finish();
        return result;
      }, TRANSACTION_OPTIONS);
    } catch (error) {
      if (fromCaller(error)) throw error;
      throw storeFailure(error);
    } finally {
      await session?.endSession().catch(() => undefined);
      release();
    }
  }

  transaction<T>(work: (tx: StoreTransaction) => Promise<T>): Promise<T> {
    // What work threw last: it reaches the caller as it is, never wrapped.
    let workFailure: { error: unknown } | undefined;
    return this.inTransaction(
      async (writer) => {
        const tx = new MongoTransaction(writer, new RecordReader(this.collections, writer.session), this.syncState);
        const scope: TransactionScope = { store: this, active: true };
        try {
          return await transactionScopes.run([...(transactionScopes.getStore() ?? []), scope], () => work(tx));
        } catch (error) {
          // Transient driver errors are withTransaction's to retry, not the caller's.
          workFailure = isTransientTransactionError(error) ? undefined : { error };
          throw error;
        } finally {
          scope.active = false;
          tx.end();
        }
      },
      (error) => workFailure !== undefined && workFailure.error === error,
    );
  }

  private async read<T>(work: () => Promise<T>): Promise<T> {
    if (this.closed) throw closedError();
    try {
      return await work();
    } catch (error) {
      throw storeFailure(error);
    }
  }

  /** A single-document write: no transaction, no mutex. */
  private async writeOne<T>(work: () => Promise<T>): Promise<T> {
    if (this.closed) throw closedError();
    try {
      return await work();
    } catch (error) {
      throw storeFailure(error);
    }
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
  queryRecords(query: RecordQuery): Promise<StoredRecord[]> {
    return this.read(() => this.committed.queryRecords(query));
  }
  countRecords(query: RecordQuery): Promise<number> {
    return this.read(() => this.committed.countRecords(query));
  }
  putRecord(record: RecordWrite): Promise<StoredRecord> {
    return this.inTransaction((writer) => writer.putRecord(record));
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
    return this.read(async () => (await this.collections.counters.findOne({ _id: 'seq' }))?.value ?? 0);
  }

  // Conflict queue

  addConflict(conflict: NewConflict): Promise<ConflictEntry> {
    return this.inTransaction((writer) => writer.addConflict(conflict));
  }
  listConflicts(query: ConflictQuery = {}): Promise<ConflictEntry[]> {
    return this.read(() => this.gatewayState.listConflicts(query));
  }
  getConflict(id: number): Promise<ConflictEntry | undefined> {
    return this.read(() => this.gatewayState.getConflict(id));
  }
  resolveConflict(id: number, resolution: Record<string, unknown>, at: string): Promise<void> {
    return this.writeOne(() => this.gatewayState.resolveConflict(id, resolution, at));
  }

  // Users, settings, repositories, sync log

  getUser(username: string): Promise<UserRecord | undefined> {
    return this.read(() => this.gatewayState.getUser(username));
  }
  putUser(user: UserRecord): Promise<void> {
    return this.writeOne(() => this.gatewayState.putUser(user));
  }
  listUsers(): Promise<UserRecord[]> {
    return this.read(() => this.gatewayState.listUsers());
  }
  deleteUser(username: string): Promise<boolean> {
    return this.writeOne(() => this.consoleState.deleteUser(username));
  }
  getConsoleSession(idHash: string): Promise<ConsoleSessionRecord | undefined> {
    return this.read(() => this.consoleState.getConsoleSession(idHash));
  }
  putConsoleSession(session: ConsoleSessionRecord): Promise<void> {
    return this.writeOne(() => this.consoleState.putConsoleSession(session));
  }
  updateConsoleSession(idHash: string, change: ConsoleSessionChange): Promise<boolean> {
    return this.writeOne(() => this.consoleState.updateConsoleSession(idHash, change));
  }
  deleteConsoleSession(idHash: string): Promise<boolean> {
    return this.writeOne(() => this.consoleState.deleteConsoleSession(idHash));
  }
  deleteUserConsoleSessions(username: string, exceptIdHash?: string): Promise<number> {
    return this.writeOne(() => this.consoleState.deleteUserConsoleSessions(username, exceptIdHash));
  }
  deleteExpiredConsoleSessions(now: number, limit: number): Promise<number> {
    return this.writeOne(() => this.consoleState.deleteExpiredConsoleSessions(now, limit));
  }
  getSetting(key: string): Promise<string | undefined> {
    return this.read(() => this.gatewayState.getSetting(key));
  }
  setSetting(key: string, value: string): Promise<void> {
    return this.writeOne(() => this.gatewayState.setSetting(key, value));
  }
  getRepository(uuid: string): Promise<RepositoryRecord | undefined> {
    return this.read(() => this.gatewayState.getRepository(uuid));
  }
  listRepositories(): Promise<RepositoryRecord[]> {
    return this.read(() => this.gatewayState.listRepositories());
  }
  putRepository(repository: RepositoryRecord): Promise<void> {
    return this.writeOne(() => this.gatewayState.putRepository(repository));
  }
  deleteRepository(uuid: string): Promise<void> {
    return this.writeOne(() => this.gatewayState.deleteRepository(uuid));
  }
  appendLog(entry: NewLogEntry): Promise<LogEntry> {
    return this.writeOne(() => this.gatewayState.appendLog(entry));
  }
  listLog(query: LogQuery = {}): Promise<LogEntry[]> {
    return this.read(() => this.gatewayState.listLog(query));
  }

  // LAN discovery and sync pools (mongodb/discovery-state.ts)

  getDiscoveredGateway(uuid: string): Promise<DiscoveredGatewayRecord | undefined> {
    return this.read(() => this.discoveryState.getDiscoveredGateway(uuid));
  }
  listDiscoveredGateways(): Promise<DiscoveredGatewayRecord[]> {
    return this.read(() => this.discoveryState.listDiscoveredGateways());
  }
  putDiscoveredGateway(gateway: DiscoveredGatewayRecord): Promise<void> {
    return this.writeOne(() => this.discoveryState.putDiscoveredGateway(gateway));
  }
  deleteDiscoveredGateway(uuid: string): Promise<void> {
    return this.writeOne(() => this.discoveryState.deleteDiscoveredGateway(uuid));
  }
  getPool(name: string): Promise<PoolRecord | undefined> {
    return this.read(() => this.discoveryState.getPool(name));
  }
  listPools(): Promise<PoolRecord[]> {
    return this.read(() => this.discoveryState.listPools());
  }
  putPool(pool: PoolRecord): Promise<void> {
    return this.writeOne(() => this.discoveryState.putPool(pool));
  }
  deletePool(name: string): Promise<void> {
    return this.writeOne(() => this.discoveryState.deletePool(name));
  }

  // Sync state

  getTask(id: string): Promise<SyncTaskRecord | undefined> {
    return this.read(() => this.syncState.getTask(id));
  }
  listTasks(query: { repository?: string } = {}): Promise<SyncTaskRecord[]> {
    return this.read(() => this.syncState.listTasks(query));
  }
  putTask(task: SyncTaskRecord): Promise<void> {
    return this.writeOne(() => this.syncState.putTask(task));
  }
  deleteTask(id: string): Promise<void> {
    return this.inTransaction((writer) => this.syncState.deleteTask(id, writer.session));
  }
  deleteCheckpoints(task: string): Promise<void> {
    return this.writeOne(() => this.syncState.deleteCheckpoints(task));
  }
  getCheckpoint(id: string): Promise<CheckpointRecord | undefined> {
    return this.read(() => this.syncState.getCheckpoint(id));
  }
  putCheckpoint(checkpoint: CheckpointRecord): Promise<void> {
    return this.writeOne(() => this.syncState.putCheckpoint(checkpoint));
  }
  getJob(id: string): Promise<JobRecord | undefined> {
    return this.read(() => this.syncState.getJob(id));
  }
  listJobs(query: { kind?: string; target?: string } = {}): Promise<JobRecord[]> {
    return this.read(() => this.syncState.listJobs(query));
  }
  putJob(job: JobRecord): Promise<void> {
    return this.writeOne(() => this.syncState.putJob(job));
  }
  deleteJob(id: string): Promise<void> {
    return this.writeOne(() => this.syncState.deleteJob(id));
  }
  acquireLease(name: string, holder: string, now: number, ttlMs: number): Promise<LeaseRecord | undefined> {
    return this.writeOne(() => this.syncState.acquireLease(name, holder, now, ttlMs));
  }
  renewLease(name: string, holder: string, now: number, ttlMs: number): Promise<boolean> {
    return this.writeOne(() => this.syncState.renewLease(name, holder, now, ttlMs));
  }
  releaseLease(name: string, holder: string): Promise<boolean> {
    return this.writeOne(() => this.syncState.releaseLease(name, holder));
  }
  getLease(name: string): Promise<LeaseRecord | undefined> {
    return this.read(() => this.syncState.getLease(name));
  }
  deleteLeases(which: LeaseSelector, expiredBy?: number): Promise<number> {
    return this.writeOne(() => this.syncState.deleteLeases(which, expiredBy));
  }
  putRun(run: RunRecord): Promise<void> {
    return this.writeOne(() => this.syncState.putRun(run));
  }
  getRun(id: string): Promise<RunRecord | undefined> {
    return this.read(() => this.syncState.getRun(id));
  }
  listRuns(query: RunQuery = {}): Promise<RunRecord[]> {
    return this.read(() => this.syncState.listRuns(query));
  }
  trimRunCaptures(keep: number): Promise<number> {
    return this.writeOne(() => this.syncState.trimRunCaptures(keep));
  }

  /** Waits for the running transaction, then disconnects. Closing twice is harmless. */
  async close(): Promise<void> {
    if (this.closed) return;
    const release = await this.mutex.acquire();
    try {
      if (this.closed) return;
      this.closed = true;
      await this.client.close();
    } finally {
      release();
    }
  }
}

/**
 * Connects, checks that the server can run transactions, creates the collections' indexes on first
 * use, and refuses a database written by a newer Sluice (STORE_SCHEMA_TOO_NEW).
 */
export async function openMongoStore(options: MongoStoreOptions): Promise<Store> {
  const { client, collections } = await connectDatabase(options);
  return new MongoStore(client, collections);
}
