/**
 * Copies a whole store into an empty MongoDB database (`sluice store copy`), then counts both
 * sides again through the Store interface.
 *
 * Records keep their seq values, and conflicts and log entries their ids: peers hold checkpoints in
 * this gateway's seq, and people hold links to conflicts, so renumbering would silently break
 * both. That is why this writes the collections directly instead of going through putRecord
 * (which assigns new seqs), in batches, without transactions: the target is empty, and a copy that
 * stops half-way is simply started again on a dropped database.
 *
 * Into a brand-new database the indexes are built after the load, which is about twice as fast as
 * maintaining them insert by insert (and the unique ones still check the copied data).
 */
import type { AnyBulkWriteOperation, Collection, Document } from 'mongodb';
import { SluiceError } from '../../errors.js';
import type { CheckpointRecord, Store } from '../store.js';
import { prepareDatabase } from './collections.js';
import type { StoreCollections } from './collections.js';
import { connectDatabase } from './connection.js';
import type { MongoStoreOptions } from './connection.js';
import { recordToDocument } from './record-documents.js';
import { DiscoveryState } from './discovery-state.js';
import { conflictEntryToDocument, logToDocument, repositoryToDocument, userToDocument } from './state-documents.js';
import { checkpointToDocument, jobToDocument, runFields, taskToDocument } from './sync-state-documents.js';

/** What a copy reads: the source store, plus the state the Store interface cannot list. */
export interface CopySource {
  store: Store;
  settings: { key: string; value: string }[];
  checkpoints: CheckpointRecord[];
}

/** Progress of the record copy (the long part); cli/progress.ts fits it. */
export interface CopyProgress {
  start(total: number, label: string): void;
  update(value: number): void;
  stop(): void;
}

export interface CopyCount {
  what: string;
  source: number;
  target: number;
}

export interface CopyReport {
  database: string;
  records: number;
  elapsedMs: number;
  counts: CopyCount[];
  /** Every count and the last seq agree. */
  verified: boolean;
}

export interface CopyOptions {
  progress?: CopyProgress;
  /** Records read and inserted per batch (default 1000). */
  pageSize?: number;
  now?: () => number;
}

const DEFAULT_PAGE_SIZE = 1000;
/** listRuns and listConflicts have no paging; this stands for "all of them". */
const ALL = Number.MAX_SAFE_INTEGER;

async function insertAll<T extends Document>(collection: Collection<T>, documents: T[]): Promise<void> {
  if (documents.length === 0) return;
  const operations = documents.map((document) => ({ insertOne: { document } }) as AnyBulkWriteOperation<T>);
  await collection.bulkWrite(operations, { ordered: true });
}

async function assertEmpty(collections: StoreCollections, database: string): Promise<void> {
  for (const [name, collection] of Object.entries(collections) as [keyof StoreCollections, Collection<Document>][]) {
    // Counters and the schema version are there as soon as a gateway has opened the database once.
    if (name === 'meta' || name === 'counters') continue;
    if ((await collection.countDocuments({}, { limit: 1 })) > 0) {
      throw new SluiceError('STORE_COPY_TARGET_NOT_EMPTY', `The target database "${database}" already holds data (${collection.collectionName})`, {
        status: 409,
        fix: 'Copy into a new database (name it in the URL or with --database), or drop this one first if its contents can go',
      });
    }
  }
}

async function copyRecords(source: Store, collections: StoreCollections, pageSize: number, progress: CopyProgress | undefined): Promise<number> {
  const resources = (await source.resources()).map((entry) => entry.resource);
  const totals = await Promise.all(resources.map((resource) => source.countRecords({ resource, includeDeleted: true })));
  const total = totals.reduce((sum, count) => sum + count, 0);
  progress?.start(total, 'records');
  let copied = 0;
  try {
    for (const resource of resources) {
      let afterSeq = 0;
      for (;;) {
        const page = await source.queryRecords({ resource, includeDeleted: true, orderBy: 'seq', afterSeq, limit: pageSize });
        if (page.length === 0) break;
        await insertAll(collections.records, page.map((record) => recordToDocument(record, record.seq)));
        copied += page.length;
        afterSeq = page[page.length - 1]!.seq;
        progress?.update(copied);
        if (page.length < pageSize) break;
      }
    }
  } finally {
    progress?.stop();
  }
  return copied;
}

async function setCounter(collections: StoreCollections, name: string, value: number): Promise<void> {
  if (value > 0) await collections.counters.updateOne({ _id: name }, { $max: { value } }, { upsert: true });
}

async function copyLog(source: Store, collections: StoreCollections, pageSize: number): Promise<{ copied: number; lastId: number }> {
  let copied = 0;
  let lastId = 0;
  let beforeId: number | undefined;
  for (;;) {
    const page = await source.listLog({ limit: pageSize, ...(beforeId !== undefined ? { beforeId } : {}) });
    if (page.length === 0) break;
    await insertAll(collections.syncLog, page.map((entry) => logToDocument(entry.id, entry)));
    copied += page.length;
    lastId = Math.max(lastId, page[0]!.id);
    beforeId = page[page.length - 1]!.id;
    if (page.length < pageSize) break;
  }
  return { copied, lastId };
}

/** Copies everything from `source` into the empty database named by `target`, then verifies the counts. */
export async function copyStoreToMongo(source: CopySource, target: MongoStoreOptions, options: CopyOptions = {}): Promise<CopyReport> {
  const now = options.now ?? Date.now;
  const pageSize = options.pageSize ?? DEFAULT_PAGE_SIZE;
  const started = now();
  const { client, collections, database } = await connectDatabase(target, { prepare: false });
  const counts: CopyCount[] = [];
  try {
    const fresh = (await collections.meta.countDocuments({ _id: 'schema' })) === 0;
    if (!fresh) await prepareDatabase(collections);
    await assertEmpty(collections, database);
    const store = source.store;
    const records = await copyRecords(store, collections, pageSize, options.progress);
    await setCounter(collections, 'seq', await store.lastSeq());

    const conflicts = await store.listConflicts({ limit: ALL });
    await insertAll(collections.conflicts, conflicts.map(conflictEntryToDocument));
    await setCounter(collections, 'conflict', Math.max(0, ...conflicts.map((conflict) => conflict.id)));

    const log = await copyLog(store, collections, pageSize);
    await setCounter(collections, 'log', log.lastId);

    const users = await store.listUsers();
    await insertAll(collections.users, users.map(userToDocument));
    await insertAll(collections.settings, source.settings.map(({ key, value }) => ({ _id: key, value })));
    const repositories = await store.listRepositories();
    await insertAll(collections.repositories, repositories.map(repositoryToDocument));
    const tasks = await store.listTasks();
    await insertAll(collections.tasks, tasks.map(taskToDocument));
    await insertAll(collections.checkpoints, source.checkpoints.map(checkpointToDocument));
    const jobs = await store.listJobs();
    await insertAll(collections.jobs, jobs.map(jobToDocument));
    // Oldest first, so `order` keeps the newest-first listing of the source.
    const runs = (await store.listRuns({ limit: ALL })).reverse();
    await insertAll(collections.runs, runs.map((run, index) => ({ _id: run.id, order: index + 1, ...runFields(run) })));
    await setCounter(collections, 'run', runs.length);
    // Pools (their shared password stays sealed: nodes need the same secret key) and what discovery heard.
    const discovery = new DiscoveryState(collections);
    const pools = await store.listPools();
    for (const pool of pools) await discovery.putPool(pool);
    const gateways = await store.listDiscoveredGateways();
    for (const gateway of gateways) await discovery.putDiscoveredGateway(gateway);
    if (fresh) await prepareDatabase(collections);

    // Counted again from the target, independently of what the copy thinks it wrote.
    const target = <T extends Document>(collection: Collection<T>): Promise<number> => collection.countDocuments({});
    for (const resource of (await store.resources()).map((entry) => entry.resource)) {
      counts.push({
        what: `records ${resource}`,
        source: await store.countRecords({ resource, includeDeleted: true }),
        target: await collections.records.countDocuments({ resource }),
      });
    }
    counts.push({ what: 'last seq', source: await store.lastSeq(), target: (await collections.counters.findOne({ _id: 'seq' }))?.value ?? 0 });
    counts.push({ what: 'conflicts', source: conflicts.length, target: await target(collections.conflicts) });
    counts.push({ what: 'sync log', source: log.copied, target: await target(collections.syncLog) });
    counts.push({ what: 'users', source: users.length, target: await target(collections.users) });
    counts.push({ what: 'settings', source: source.settings.length, target: await target(collections.settings) });
    counts.push({ what: 'repositories', source: repositories.length, target: await target(collections.repositories) });
    counts.push({ what: 'sync tasks', source: tasks.length, target: await target(collections.tasks) });
    counts.push({ what: 'checkpoints', source: source.checkpoints.length, target: await target(collections.checkpoints) });
    counts.push({ what: 'jobs', source: jobs.length, target: await target(collections.jobs) });
    counts.push({ what: 'runs', source: runs.length, target: await target(collections.runs) });
    counts.push({ what: 'sync pools', source: pools.length, target: await target(collections.pools) });
    counts.push({ what: 'discovered gateways', source: gateways.length, target: await target(collections.discoveredGateways) });
    return {
      database,
      records,
      elapsedMs: now() - started,
      counts,
      verified: counts.every((count) => count.source === count.target),
    };
  } finally {
    await client.close();
  }
}
