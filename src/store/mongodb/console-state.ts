/**
 * Console sessions on MongoDB, shared by every gateway process on the database: one document per
 * session keyed by the SHA-256 of its id (never the id itself), and deleting users. Every write is
 * a single-document operation (or a bounded deleteMany), so none needs a transaction.
 */
import type { ConsoleSessionChange, ConsoleSessionRecord } from '../store.js';
import type { StoreCollections } from './collections.js';

export interface ConsoleSessionDocument {
  _id: string;
  username: string;
  created_at: number;
  last_seen_at: number;
  expires_at: number;
  flash?: string;
}

function sessionFromDocument(document: ConsoleSessionDocument): ConsoleSessionRecord {
  return {
    id_hash: document._id,
    username: document.username,
    created_at: document.created_at,
    last_seen_at: document.last_seen_at,
    expires_at: document.expires_at,
    ...(typeof document.flash === 'string' ? { flash: document.flash } : {}),
  };
}

export class ConsoleState {
  constructor(private readonly collections: StoreCollections) {}

  async deleteUser(username: string): Promise<boolean> {
    return (await this.collections.users.deleteOne({ _id: username })).deletedCount > 0;
  }

  async getConsoleSession(idHash: string): Promise<ConsoleSessionRecord | undefined> {
    const document = await this.collections.consoleSessions.findOne({ _id: idHash });
    return document ? sessionFromDocument(document) : undefined;
  }
  async putConsoleSession(session: ConsoleSessionRecord): Promise<void> {
    const { id_hash: idHash, ...rest } = session;
    await this.collections.consoleSessions.replaceOne({ _id: idHash }, rest, { upsert: true });
  }
  async updateConsoleSession(idHash: string, change: ConsoleSessionChange): Promise<boolean> {
    const set: Partial<ConsoleSessionDocument> = {};
    if (change.last_seen_at !== undefined) set.last_seen_at = change.last_seen_at;
    if (change.expires_at !== undefined) set.expires_at = change.expires_at;
    if (typeof change.flash === 'string') set.flash = change.flash;
    const update = { ...(Object.keys(set).length ? { $set: set } : {}), ...(change.flash === null ? { $unset: { flash: '' as const } } : {}) };
    // No upsert: a session another process ended stays ended.
    if (Object.keys(update).length === 0) return (await this.collections.consoleSessions.countDocuments({ _id: idHash }, { limit: 1 })) > 0;
    return (await this.collections.consoleSessions.updateOne({ _id: idHash }, update)).matchedCount > 0;
  }
  async deleteConsoleSession(idHash: string): Promise<boolean> {
    return (await this.collections.consoleSessions.deleteOne({ _id: idHash })).deletedCount > 0;
  }
  async deleteUserConsoleSessions(username: string, exceptIdHash?: string): Promise<number> {
    const filter = exceptIdHash === undefined ? { username } : { username, _id: { $ne: exceptIdHash } };
    return (await this.collections.consoleSessions.deleteMany(filter)).deletedCount;
  }
  async deleteExpiredConsoleSessions(now: number, limit: number): Promise<number> {
    const batch = Math.max(0, Math.floor(limit));
    if (batch === 0) return 0;
    // deleteMany has no limit: pick the batch first, then delete only those still expired.
    const expired = await this.collections.consoleSessions.find({ expires_at: { $lte: now } }, { projection: { _id: 1 }, limit: batch, sort: { expires_at: 1 } }).toArray();
    if (expired.length === 0) return 0;
    const ids = expired.map((document) => document._id);
    return (await this.collections.consoleSessions.deleteMany({ _id: { $in: ids }, expires_at: { $lte: now } })).deletedCount;
  }
}
