/**
 * The collections of a Sluice database on MongoDB, their indexes, and the schema version check.
 *
 * Indexes are created when a database is first opened (or when SCHEMA_VERSION grows); the version
 * is recorded in `sluice_meta` afterwards, so a later open skips straight to work. A database
 * written by a newer Sluice is refused (STORE_SCHEMA_TOO_NEW) rather than guessed at.
 */
import type { ClientSession, Collection, Db, IndexDescription } from 'mongodb';
import { SluiceError } from '../../errors.js';
import { isDuplicateKey } from './store-errors.js';
import type { RecordDocument } from './record-documents.js';
import type { ConsoleSessionDocument } from './console-state.js';
import type { DiscoveredGatewayDocument, PoolDocument } from './discovery-state.js';
import type { ConflictDocument, LogDocument, RepositoryDocument, UserDocument } from './state-documents.js';
import type { CheckpointDocument, JobDocument, LeaseDocument, RunDocument, TaskDocument } from './sync-state-documents.js';

/** The counters of record-writer.ts (seq), gateway-state.ts (conflict, log) and sync-state.ts (run). */
const COUNTERS = ['seq', 'conflict', 'log', 'run'];

/** Bump when an index or a document layout changes, and teach prepareDatabase the step. */
export const SCHEMA_VERSION = 2;

/** Named counters; `seq` also counts `transactions` (record-writer.ts takes it at each begin). */
export interface CounterDocument {
  _id: string;
  value: number;
  transactions?: number;
}

export interface StoreCollections {
  records: Collection<RecordDocument>;
  counters: Collection<CounterDocument>;
  conflicts: Collection<ConflictDocument>;
  users: Collection<UserDocument>;
  settings: Collection<{ _id: string; value: string }>;
  repositories: Collection<RepositoryDocument>;
  syncLog: Collection<LogDocument>;
  tasks: Collection<TaskDocument>;
  checkpoints: Collection<CheckpointDocument>;
  jobs: Collection<JobDocument>;
  leases: Collection<LeaseDocument>;
  runs: Collection<RunDocument>;
  discoveredGateways: Collection<DiscoveredGatewayDocument>;
  pools: Collection<PoolDocument>;
  consoleSessions: Collection<ConsoleSessionDocument>;
  meta: Collection<{ _id: string; version: number }>;
}

const NAMES: Record<keyof StoreCollections, string> = {
  records: 'records',
  counters: 'counters',
  conflicts: 'conflicts',
  users: 'users',
  settings: 'settings',
  repositories: 'repositories',
  syncLog: 'sync_log',
  tasks: 'sync_tasks',
  checkpoints: 'checkpoints',
  jobs: 'jobs',
  leases: 'leases',
  runs: 'runs',
  discoveredGateways: 'discovered_gateways',
  pools: 'pools',
  consoleSessions: 'console_sessions',
  meta: 'sluice_meta',
};

export function storeCollections(db: Db): StoreCollections {
  const entries = Object.entries(NAMES).map(([key, name]) => [key, db.collection(name)]);
  return Object.fromEntries(entries) as StoreCollections;
}

const INDEXES: Partial<Record<keyof StoreCollections, IndexDescription[]>> = {
  records: [
    { key: { resource: 1, uuid: 1 }, name: 'resource_uuid', unique: true },
    // uuid closes the key so "ORDER BY modified_on, uuid" pages come straight off the index.
    { key: { resource: 1, modified_on: 1, uuid: 1 }, name: 'resource_modified_on' },
    { key: { resource: 1, seq: 1 }, name: 'resource_seq' },
    { key: { seq: 1 }, name: 'seq', unique: true },
    { key: { uuid: 1 }, name: 'uuid' },
    { key: { 'parent.resource': 1, 'parent.uuid': 1, resource: 1, modified_on: 1, uuid: 1 }, name: 'parent' },
    // What URL filters probe (record-query.ts): one entry per filterable value.
    { key: { resource: 1, 'filterValues.field': 1, 'filterValues.text': 1 }, name: 'filter_text' },
    { key: { resource: 1, 'filterValues.field': 1, 'filterValues.number': 1 }, name: 'filter_number' },
    { key: { referencedUuids: 1 }, name: 'referenced_uuids' },
    // componentResources(): the few resources that hold components, without walking the records.
    { key: { resource: 1 }, name: 'component_resources', partialFilterExpression: { 'parent.resource': { $exists: true } } },
  ],
  conflicts: [
    { key: { status: 1, _id: 1 }, name: 'status' },
    { key: { resource: 1, uuid: 1, status: 1 }, name: 'record' },
  ],
  repositories: [{ key: { name: 1, _id: 1 }, name: 'name' }],
  syncLog: [
    { key: { run_id: 1, _id: -1 }, name: 'run' },
    { key: { repository: 1, _id: -1 }, name: 'repository' },
  ],
  tasks: [{ key: { repository: 1, resource: 1 }, name: 'repository_resource', unique: true }],
  checkpoints: [{ key: { task: 1 }, name: 'task' }],
  jobs: [{ key: { kind: 1, target: 1 }, name: 'kind_target' }],
  // Version 2: console sessions (expiry sweep, ending a user's sessions).
  consoleSessions: [
    { key: { expires_at: 1 }, name: 'expires_at' },
    { key: { username: 1 }, name: 'username' },
  ],
  runs: [
    { key: { order: -1 }, name: 'order' },
    { key: { repository: 1, order: -1 }, name: 'repository' },
    { key: { job: 1, order: -1 }, name: 'job' },
    { key: { status: 1, order: -1 }, name: 'status' },
  ],
};

/** Creates what a fresh database lacks and refuses one from a newer Sluice. */
export async function prepareDatabase(collections: StoreCollections, session?: ClientSession): Promise<void> {
  const recorded = await collections.meta.findOne({ _id: 'schema' }, { session });
  const version = recorded?.version ?? 0;
  if (version > SCHEMA_VERSION) {
    throw new SluiceError('STORE_SCHEMA_TOO_NEW', `This database was written by a newer Sluice (schema ${version}; this one knows ${SCHEMA_VERSION})`, {
      status: 500,
      fix: 'Upgrade Sluice, or point it at another database',
    });
  }
  if (version === SCHEMA_VERSION) return;
  for (const [key, indexes] of Object.entries(INDEXES) as [keyof StoreCollections, IndexDescription[]][]) {
    await collections[key].createIndexes(indexes, { session });
  }
  // Created here, once, so that later increments never race to insert them (two upserts of a
  // missing document can collide on _id, which inside a transaction would abort it).
  for (const name of COUNTERS) {
    try {
      await collections.counters.updateOne({ _id: name }, { $setOnInsert: { value: 0 } }, { upsert: true, session });
    } catch (error) {
      if (!isDuplicateKey(error)) throw error;
    }
  }
  await collections.meta.updateOne({ _id: 'schema' }, { $max: { version: SCHEMA_VERSION } }, { upsert: true, session });
}
