/**
 * The gateway's own state on MongoDB: the conflict queue (reads and resolution), users, settings,
 * repositories and the sync log. Every write here is one atomic single-document operation, so none
 * needs a transaction; ids of conflicts and log entries come from counters.
 */
import type { Filter } from 'mongodb';
import { SluiceError } from '../../errors.js';
import type { ConflictEntry, ConflictQuery, LogEntry, LogQuery, NewLogEntry, RepositoryRecord, UserRecord } from '../store.js';
import type { StoreCollections } from './collections.js';
import { toStorable } from './plain-documents.js';
import { nextCounterValue } from './record-writer.js';
import {
  conflictFromDocument,
  logFromDocument,
  logToDocument,
  repositoryFromDocument,
  repositoryToDocument,
  userFromDocument,
  userToDocument,
} from './state-documents.js';
import type { ConflictDocument, LogDocument } from './state-documents.js';

/** listLog without a limit returns at most this many entries (as the SQLite store). */
export const DEFAULT_LOG_LIMIT = 100;

export class GatewayState {
  constructor(private readonly collections: StoreCollections) {}

  // Conflict queue

  async listConflicts(query: ConflictQuery): Promise<ConflictEntry[]> {
    const filter: Filter<ConflictDocument> = {};
    for (const key of ['status', 'resource', 'uuid', 'repository'] as const) {
      const value = query[key];
      if (value !== undefined) filter[key] = value;
    }
    if (query.limit === 0) return [];
    const documents = await this.collections.conflicts.find(filter, { sort: { _id: 1 }, ...(query.limit !== undefined ? { limit: query.limit } : {}) }).toArray();
    return documents.map(conflictFromDocument);
  }

  async getConflict(id: number): Promise<ConflictEntry | undefined> {
    const document = await this.collections.conflicts.findOne({ _id: id });
    return document ? conflictFromDocument(document) : undefined;
  }

  async resolveConflict(id: number, resolution: Record<string, unknown>, at: string): Promise<void> {
    // Only an open conflict is updated, so two people resolving at once cannot both win.
    const updated = await this.collections.conflicts.updateOne(
      { _id: id, status: 'open' },
      { $set: { status: 'resolved', resolution: toStorable(resolution), resolved_at: at } },
    );
    if (updated.matchedCount === 1) return;
    if ((await this.collections.conflicts.countDocuments({ _id: id }, { limit: 1 })) === 0) {
      throw new SluiceError('CONFLICT_NOT_FOUND', `There is no conflict ${id}`, { status: 404, fix: 'Reload the conflict queue' });
    }
    throw new SluiceError('CONFLICT_ALREADY_RESOLVED', `Conflict ${id} was already resolved`, {
      status: 409,
      fix: 'Someone else resolved it first; reload the conflict queue to see their resolution',
    });
  }

  // Users

  async getUser(username: string): Promise<UserRecord | undefined> {
    const document = await this.collections.users.findOne({ _id: username });
    return document ? userFromDocument(document) : undefined;
  }

  async putUser(user: UserRecord): Promise<void> {
    await this.collections.users.replaceOne({ _id: user.username }, userToDocument(user), { upsert: true });
  }

  async listUsers(): Promise<UserRecord[]> {
    return (await this.collections.users.find({}, { sort: { _id: 1 } }).toArray()).map(userFromDocument);
  }

  // Settings

  async getSetting(key: string): Promise<string | undefined> {
    return (await this.collections.settings.findOne({ _id: key }))?.value;
  }

  async setSetting(key: string, value: string): Promise<void> {
    await this.collections.settings.replaceOne({ _id: key }, { value }, { upsert: true });
  }

  // Repositories

  async getRepository(uuid: string): Promise<RepositoryRecord | undefined> {
    const document = await this.collections.repositories.findOne({ _id: uuid });
    return document ? repositoryFromDocument(document) : undefined;
  }

  async listRepositories(): Promise<RepositoryRecord[]> {
    return (await this.collections.repositories.find({}, { sort: { name: 1, _id: 1 } }).toArray()).map(repositoryFromDocument);
  }

  async putRepository(repository: RepositoryRecord): Promise<void> {
    await this.collections.repositories.replaceOne({ _id: repository.uuid }, repositoryToDocument(repository), { upsert: true });
  }

  async deleteRepository(uuid: string): Promise<void> {
    await this.collections.repositories.deleteOne({ _id: uuid });
  }

  // Sync log

  async appendLog(entry: NewLogEntry): Promise<LogEntry> {
    const document = logToDocument(await nextCounterValue(this.collections, 'log'), entry);
    await this.collections.syncLog.insertOne(document);
    return logFromDocument(document);
  }

  async listLog(query: LogQuery): Promise<LogEntry[]> {
    const filter: Filter<LogDocument> = {};
    for (const key of ['repository', 'resource', 'result', 'run_id'] as const) {
      const value = query[key];
      if (value !== undefined) filter[key] = value;
    }
    if (query.beforeId !== undefined) filter._id = { $lt: query.beforeId };
    const limit = query.limit ?? DEFAULT_LOG_LIMIT;
    if (limit === 0) return [];
    const documents = await this.collections.syncLog.find(filter, { sort: { _id: -1 }, limit, batchSize: Math.min(limit, 1000) }).toArray();
    return documents.map(logFromDocument);
  }
}
