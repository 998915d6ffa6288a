/**
 * Writes inside one MongoDB transaction (one attempt of it: the driver may run a transaction again
 * after a transient error, and each attempt gets a fresh writer).
 *
 * `begin()`, the first operation of every attempt, writes the `seq` counter document (it counts
 * transactions in `transactions`) and reads the last seq from it. That write makes this
 * transaction the counter's only writer until it ends: another process's transaction waits
 * (DocumentDB, row lock) or fails with a WriteConflict that the driver retries (MongoDB) right at
 * its own begin(), before the caller's work has run. So transactions are serialised across
 * processes as SQLite's BEGIN IMMEDIATE serialises them, seq order is commit order, and the work of
 * a transaction is practically never run twice. Puts count on in memory; `finish()` stores the
 * last seq just before commit: one counter round trip per transaction, not per record.
 *
 * Puts are held back and written in one bulkWrite (at most FLUSH_RECORDS or FLUSH_BYTES at a time,
 * and always before commit): one round trip per record made an import page of 1000 records cost
 * 1000 round trips. Reads in the same transaction still see them: getRecord and findByUuid answer
 * from the held-back puts first (the importer asks for every record it writes), and every other
 * read flushes them before it runs (MongoTransaction in mongodb-store.ts).
 */
import { BSON } from 'mongodb';
import type { ClientSession } from 'mongodb';
import { SluiceError } from '../../errors.js';
import { assertWritableRecord } from '../sqlite/record-rows.js';
import type { CheckpointRecord, ConflictEntry, NewConflict, RecordWrite, StoredRecord } from '../store.js';
import type { StoreCollections } from './collections.js';
import { documentToRecord, recordToDocument } from './record-documents.js';
import type { RecordDocument } from './record-documents.js';
import { conflictFromDocument, conflictToDocument } from './state-documents.js';
import { checkpointToDocument } from './sync-state-documents.js';

/** MongoDB's limit on one document; the SQLite store has none, so it gets its own clear error. */
export const MAX_DOCUMENT_BYTES = 16 * 1024 * 1024;
/** Held-back puts are written once there are this many of them… */
const FLUSH_RECORDS = 500;
/** …or once they are this big (a write command's message stays well under 48 MB). */
const FLUSH_BYTES = 8 * 1024 * 1024;

function recordKey(resource: string, uuid: string): string {
  return `${resource}\u0000${uuid}`;
}

/** The document's BSON size; refuses one over MongoDB's limit. */
function assertDocumentSize(document: RecordDocument): number {
  const size = BSON.calculateObjectSize(document);
  if (size <= MAX_DOCUMENT_BYTES) return size;
  throw new SluiceError('STORE_RECORD_TOO_LARGE', `Record ${document.uuid} would take ${size} bytes; MongoDB keeps a record in one document of at most 16 MB`, {
    status: 413,
    severity: 'record',
    fix: 'Keep large files out of the record itself (uploads travel as URLs), or use the SQLite store',
    details: { resource: document.resource, uuid: document.uuid },
  });
}

/** The next value of a named counter (1 for a fresh one). */
export async function nextCounterValue(collections: StoreCollections, name: string, session?: ClientSession): Promise<number> {
  const counter = await collections.counters.findOneAndUpdate(
    { _id: name },
    { $inc: { value: 1 } },
    { upsert: true, returnDocument: 'after', ...(session ? { session } : {}) },
  );
  return counter!.value;
}

export class RecordWriter {
  /** The seq the counter document held when this transaction began. */
  private counterSeq = 0;
  /** The last seq handed out by this transaction. */
  private lastSeq = 0;
  /** Puts not yet sent, by (resource, uuid): a record put twice is written once, as last put. */
  private readonly held = new Map<string, RecordDocument>();
  private heldBytes = 0;

  constructor(
    private readonly collections: StoreCollections,
    readonly session: ClientSession,
  ) {}

  /** Takes the counter document for this transaction; must be its first operation. */
  async begin(): Promise<void> {
    const counter = await this.collections.counters.findOneAndUpdate(
      { _id: 'seq' },
      { $inc: { transactions: 1 } },
      { upsert: true, returnDocument: 'after', session: this.session },
    );
    this.counterSeq = counter?.value ?? 0;
    this.lastSeq = this.counterSeq;
  }

  async putRecord(record: RecordWrite): Promise<StoredRecord> {
    assertWritableRecord(record);
    const document = recordToDocument(record, 0);
    const size = assertDocumentSize(document);
    const seq = this.lastSeq + 1;
    document.seq = seq;
    const key = recordKey(record.resource, record.uuid);
    this.held.delete(key);
    this.held.set(key, document);
    this.heldBytes += size;
    this.lastSeq = seq;
    if (this.held.size >= FLUSH_RECORDS || this.heldBytes >= FLUSH_BYTES) await this.flush();
    // Rebuilt from the stored form, so the caller never shares objects with what was written.
    return documentToRecord(document);
  }

  /** A record put in this transaction and not yet sent, as it will be stored. */
  heldRecord(resource: string, uuid: string): StoredRecord | undefined {
    const document = this.held.get(recordKey(resource, uuid));
    return document ? documentToRecord(document) : undefined;
  }

  /** `stored` (records with this uuid as the database has them) with the held-back puts laid over. */
  withHeldRecords(uuid: string, stored: StoredRecord[]): StoredRecord[] {
    if (this.held.size === 0) return stored;
    const held = [...this.held.values()].filter((document) => document.uuid === uuid);
    if (held.length === 0) return stored;
    const heldResources = new Set(held.map((document) => document.resource));
    return [...stored.filter((record) => !heldResources.has(record.resource)), ...held.map(documentToRecord)].sort((a, b) =>
      a.resource < b.resource ? -1 : a.resource > b.resource ? 1 : 0,
    );
  }

  /** Sends the held-back puts (one bulkWrite); every read but getRecord/findByUuid must come after it. */
  async flush(): Promise<void> {
    if (this.held.size === 0) return;
    const documents = [...this.held.values()];
    this.held.clear();
    this.heldBytes = 0;
    await this.collections.records.bulkWrite(
      documents.map((document) => ({ replaceOne: { filter: { resource: document.resource, uuid: document.uuid }, replacement: document, upsert: true } })),
      { ordered: true, session: this.session },
    );
  }

  async addConflict(conflict: NewConflict): Promise<ConflictEntry> {
    const id = await nextCounterValue(this.collections, 'conflict', this.session);
    const document = conflictToDocument(id, conflict);
    await this.collections.conflicts.insertOne(document, { session: this.session });
    return conflictFromDocument(document);
  }

  async putCheckpoint(checkpoint: CheckpointRecord): Promise<void> {
    const document = checkpointToDocument(checkpoint);
    await this.collections.checkpoints.replaceOne({ _id: document._id }, document, { upsert: true, session: this.session });
  }

  /** Stores the last seq handed out; runs as the transaction's last write. */
  async finish(): Promise<void> {
    await this.flush();
    if (this.lastSeq !== this.counterSeq) {
      await this.collections.counters.updateOne({ _id: 'seq' }, { $max: { value: this.lastSeq } }, { session: this.session });
    }
  }
}
