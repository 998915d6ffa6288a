/**
 * The sync module's state on MongoDB: tasks, checkpoints, jobs, leases and run history.
 *
 * Leases are what keep several gateway processes from running one job twice, so each lease
 * operation is a single conditional write on the lease document: whoever's write matches wins, and
 * an insert racing another insert loses on the `_id` key.
 */
import type { ClientSession, Filter } from 'mongodb';
import { SluiceError } from '../../errors.js';
import type { CheckpointRecord, JobRecord, LeaseRecord, LeaseSelector, RunQuery, RunRecord, SyncTaskRecord } from '../store.js';
import type { StoreCollections } from './collections.js';
import { nextCounterValue } from './record-writer.js';
import { isDuplicateKey } from './store-errors.js';
import {
  checkpointFromDocument,
  checkpointToDocument,
  jobFromDocument,
  jobToDocument,
  leaseFromDocument,
  OPTIONAL_RUN_FIELDS,
  runFields,
  runFromDocument,
  taskFromDocument,
  taskToDocument,
} from './sync-state-documents.js';
import type { JobDocument, LeaseDocument, RunDocument } from './sync-state-documents.js';

/** listRuns without a limit returns at most this many runs (as the SQLite store). */
export const DEFAULT_RUN_LIMIT = 50;

export class SyncState {
  constructor(private readonly collections: StoreCollections) {}

  // Tasks

  async getTask(id: string): Promise<SyncTaskRecord | undefined> {
    const document = await this.collections.tasks.findOne({ _id: id });
    return document ? taskFromDocument(document) : undefined;
  }

  async listTasks(query: { repository?: string }): Promise<SyncTaskRecord[]> {
    const filter = query.repository === undefined ? {} : { repository: query.repository };
    return (await this.collections.tasks.find(filter, { sort: { repository: 1, resource: 1 } }).toArray()).map(taskFromDocument);
  }

  /** The unique (repository, resource) index refuses a second task; that becomes TASK_EXISTS. */
  async putTask(task: SyncTaskRecord): Promise<void> {
    try {
      await this.collections.tasks.replaceOne({ _id: task.id }, taskToDocument(task), { upsert: true });
    } catch (error) {
      if (!isDuplicateKey(error)) throw error;
      const holder = await this.collections.tasks.findOne({ repository: task.repository, resource: task.resource }, { projection: { _id: 1 } });
      throw new SluiceError('TASK_EXISTS', `Repository ${task.repository} already has a task for ${task.resource}`, {
        status: 409,
        fix: 'Change the existing task instead of adding a second one for the same resource',
        details: holder ? { task: holder._id } : {},
        cause: error,
      });
    }
  }

  /** Inside a transaction, so the task and its checkpoints go together. */
  async deleteTask(id: string, session: ClientSession): Promise<void> {
    await this.collections.checkpoints.deleteMany({ task: id }, { session });
    await this.collections.tasks.deleteOne({ _id: id }, { session });
  }

  async deleteCheckpoints(task: string): Promise<void> {
    await this.collections.checkpoints.deleteMany({ task });
  }

  // Checkpoints (writes inside transactions go through RecordWriter)

  async getCheckpoint(id: string, session?: ClientSession): Promise<CheckpointRecord | undefined> {
    const document = await this.collections.checkpoints.findOne({ _id: id }, session ? { session } : {});
    return document ? checkpointFromDocument(document) : undefined;
  }

  async putCheckpoint(checkpoint: CheckpointRecord): Promise<void> {
    const document = checkpointToDocument(checkpoint);
    await this.collections.checkpoints.replaceOne({ _id: document._id }, document, { upsert: true });
  }

  // Jobs

  async getJob(id: string): Promise<JobRecord | undefined> {
    const document = await this.collections.jobs.findOne({ _id: id });
    return document ? jobFromDocument(document) : undefined;
  }

  async listJobs(query: { kind?: string; target?: string }): Promise<JobRecord[]> {
    const filter: Filter<JobDocument> = {};
    if (query.kind !== undefined) filter.kind = query.kind;
    if (query.target !== undefined) filter.target = query.target;
    return (await this.collections.jobs.find(filter, { sort: { _id: 1 } }).toArray()).map(jobFromDocument);
  }

  async putJob(job: JobRecord): Promise<void> {
    await this.collections.jobs.replaceOne({ _id: job.id }, jobToDocument(job), { upsert: true });
  }

  async deleteJob(id: string): Promise<void> {
    await this.collections.jobs.deleteOne({ _id: id });
  }

  // Leases

  /**
   * One upsert whose filter matches only a lease this holder may take (its own, or an expired
   * one). When someone else holds it, the filter misses, the upsert tries to insert a second
   * document with the same `_id` and fails with a duplicate key: the lease is not ours.
   */
  async acquireLease(name: string, holder: string, now: number, ttlMs: number): Promise<LeaseRecord | undefined> {
    try {
      const lease = await this.collections.leases.findOneAndUpdate(
        { _id: name, $or: [{ holder }, { expires_at: { $lte: now } }] },
        [
          {
            $set: {
              // $literal: a holder name starting with `$` must not be read as a field path.
              acquired_at: { $cond: [{ $eq: ['$holder', { $literal: holder }] }, '$acquired_at', { $literal: now }] },
              holder: { $literal: holder },
              expires_at: { $literal: now + ttlMs },
            },
          },
        ],
        { upsert: true, returnDocument: 'after' },
      );
      return lease ? leaseFromDocument(lease) : undefined;
    } catch (error) {
      if (isDuplicateKey(error)) return undefined;
      throw error;
    }
  }

  async renewLease(name: string, holder: string, now: number, ttlMs: number): Promise<boolean> {
    const result = await this.collections.leases.updateOne({ _id: name, holder }, { $set: { expires_at: now + ttlMs } });
    return result.matchedCount === 1;
  }

  async releaseLease(name: string, holder: string): Promise<boolean> {
    return (await this.collections.leases.deleteOne({ _id: name, holder })).deletedCount === 1;
  }

  async deleteLeases(which: LeaseSelector, expiredBy?: number): Promise<number> {
    const filter: Filter<LeaseDocument> = {
      // Anchored and escaped, so the server can use the _id index and a `.` in a name is only a dot.
      _id: 'name' in which ? which.name : { $regex: `^${which.prefix.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}` },
      ...(expiredBy === undefined ? {} : { expires_at: { $lte: expiredBy } }),
    };
    return (await this.collections.leases.deleteMany(filter)).deletedCount;
  }

  async getLease(name: string): Promise<LeaseRecord | undefined> {
    const document = await this.collections.leases.findOne<LeaseDocument>({ _id: name });
    return document ? leaseFromDocument(document) : undefined;
  }

  // Runs

  /** Replaces the run by id; `order` (newest-first listing) is set only when it is first written. */
  async putRun(run: RunRecord): Promise<void> {
    const fields = runFields(run);
    const absent = OPTIONAL_RUN_FIELDS.filter((key) => run[key] === undefined);
    const order = await nextCounterValue(this.collections, 'run');
    await this.collections.runs.updateOne(
      { _id: run.id },
      {
        $set: fields,
        $setOnInsert: { order },
        ...(absent.length > 0 ? { $unset: Object.fromEntries(absent.map((key) => [key, ''])) } : {}),
      },
      { upsert: true },
    );
  }

  async getRun(id: string): Promise<RunRecord | undefined> {
    const document = await this.collections.runs.findOne({ _id: id });
    return document ? runFromDocument(document) : undefined;
  }

  async listRuns(query: RunQuery): Promise<RunRecord[]> {
    const filter: Filter<RunDocument> = {};
    for (const key of ['repository', 'job', 'status'] as const) {
      const value = query[key];
      if (value !== undefined) filter[key] = value;
    }
    const limit = query.limit ?? DEFAULT_RUN_LIMIT;
    if (limit === 0) return [];
    return (await this.collections.runs.find(filter, { sort: { order: -1 }, limit }).toArray()).map(runFromDocument);
  }

  async trimRunCaptures(keep: number): Promise<number> {
    const oldestKept = await this.collections.runs.find({}, { sort: { order: -1 }, skip: Math.max(0, Math.floor(keep)), limit: 1, projection: { order: 1 } }).toArray();
    const first = oldestKept[0];
    if (!first) return 0;
    const result = await this.collections.runs.updateMany({ order: { $lte: first.order }, captures: { $ne: [] } }, { $set: { captures: [] } });
    return result.modifiedCount;
  }
}
