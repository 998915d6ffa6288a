/**
 * Writes inside one MongoDB transaction (one attempt of it: the driver may run a transaction again
 * after a transient error, and each attempt gets a fresh writer).
 *
 * seq: the first put of a transaction increments the `seq` counter document, which makes this
 * transaction the counter's only writer until it ends (other writers wait or get a WriteConflict
 * and retry). Later puts continue from there in memory, and `finish()` stores the last value before
 * commit. So seq order is commit order across every process sharing the database, at the cost of
 * one counter round trip per transaction rather than per record.
 */
import type { ClientSession } from 'mongodb';
import { assertWritableRecord } from '../sqlite/record-rows.js';
import type { CheckpointRecord, ConflictEntry, NewConflict, RecordWrite, StoredRecord } from '../store.js';
import type { StoreCollections } from './collections.js';
import { documentToRecord, recordToDocument } from './record-documents.js';
import { conflictFromDocument, conflictToDocument } from './state-documents.js';
import { checkpointToDocument } from './sync-state-documents.js';

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
  /** The seq the counter document holds for this transaction. */
  private counterSeq: number | undefined;
  /** The last seq handed out by this transaction. */
  private lastSeq: number | undefined;

  constructor(
    private readonly collections: StoreCollections,
    readonly session: ClientSession,
  ) {}

  private async takeSeq(): Promise<number> {
    if (this.lastSeq === undefined) {
      this.counterSeq = await nextCounterValue(this.collections, 'seq', this.session);
      return this.counterSeq;
    }
    return this.lastSeq + 1;
  }

  async putRecord(record: RecordWrite): Promise<StoredRecord> {
    assertWritableRecord(record);
    const seq = await this.takeSeq();
    const document = recordToDocument(record, seq);
    await this.collections.records.replaceOne({ resource: record.resource, uuid: record.uuid }, document, { upsert: true, session: this.session });
    this.lastSeq = seq;
    // Rebuilt from the stored form, so the caller never shares objects with what was written.
    return documentToRecord(document);
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
    if (this.lastSeq !== undefined && this.lastSeq !== this.counterSeq) {
      await this.collections.counters.updateOne({ _id: 'seq' }, { $max: { value: this.lastSeq } }, { session: this.session });
    }
  }
}
