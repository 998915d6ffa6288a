/**
 * Record reads. Without a session they see the last commit; the transaction handle passes its
 * session so they also see the transaction's own writes.
 */
import type { ClientSession } from 'mongodb';
import { tallyFieldValues } from '../field-value-tally.js';
import type { FieldValue } from '../../s3xml/model.js';
import type { RecordQuery, StoredRecord } from '../store.js';
import { compareCodePoints } from '../url-filter-match.js';
import type { StoreCollections } from './collections.js';
import { documentToRecord, RECORD_PROJECTION } from './record-documents.js';
import type { RecordDocument } from './record-documents.js';
import { recordFilter, recordHint, recordSort } from './record-query.js';

export interface FieldValueCount {
  value: FieldValue;
  text?: string;
  count: number;
}

/** Cursor batches for paged queries: one round trip for an ordinary page. */
const MAX_BATCH = 1000;

type RecordRead = Omit<RecordDocument, 'filterValues' | 'referencedUuids'>;

export class RecordReader {
  constructor(
    private readonly collections: StoreCollections,
    private readonly session?: ClientSession,
  ) {}

  private get options(): { session?: ClientSession } {
    return this.session ? { session: this.session } : {};
  }

  async getRecord(resource: string, uuid: string): Promise<StoredRecord | undefined> {
    const document = await this.collections.records.findOne<RecordRead>({ resource, uuid }, { projection: RECORD_PROJECTION, ...this.options });
    return document ? documentToRecord(document) : undefined;
  }

  async getRecords(resource: string, uuids: readonly string[]): Promise<StoredRecord[]> {
    if (uuids.length === 0) return [];
    const documents = await this.collections.records.find<RecordRead>({ resource, uuid: { $in: [...uuids] } }, { projection: RECORD_PROJECTION, ...this.options }).toArray();
    return documents.map(documentToRecord);
  }

  async findByUuid(uuid: string): Promise<StoredRecord[]> {
    const documents = await this.collections.records.find<RecordRead>({ uuid }, { projection: RECORD_PROJECTION, sort: { resource: 1 }, ...this.options }).toArray();
    return documents.map(documentToRecord);
  }

  async findReferencing(uuid: string): Promise<StoredRecord[]> {
    const documents = await this.collections.records
      .find<RecordRead>({ referencedUuids: uuid }, { projection: RECORD_PROJECTION, sort: { resource: 1, uuid: 1 }, ...this.options })
      .toArray();
    return documents.map(documentToRecord);
  }

  async queryRecords(query: RecordQuery): Promise<StoredRecord[]> {
    const filter = recordFilter(query);
    // MongoDB reads limit 0 as "no limit".
    if (query.limit === 0) return [];
    const hint = recordHint(query);
    const cursor = this.collections.records.find<RecordRead>(filter, {
      projection: RECORD_PROJECTION,
      sort: recordSort(query),
      ...(hint ? { hint } : {}),
      ...(query.start ? { skip: query.start } : {}),
      ...(query.limit !== undefined ? { limit: query.limit, batchSize: Math.min(query.limit, MAX_BATCH) } : {}),
      ...this.options,
    });
    return (await cursor.toArray()).map(documentToRecord);
  }

  countRecords(query: RecordQuery): Promise<number> {
    const hint = recordHint(query);
    return this.collections.records.countDocuments(recordFilter(query), { ...this.options, ...(hint ? { hint } : {}) });
  }

  /** Live records per resource; a resource holding only tombstones is listed with count 0. */
  async resources(): Promise<{ resource: string; count: number }[]> {
    const groups = await this.collections.records
      .aggregate<{ _id: string; count: number }>(
        [{ $group: { _id: '$resource', count: { $sum: { $cond: ['$deleted', 0, 1] } } } }, { $sort: { _id: 1 } }],
        this.options,
      )
      .toArray();
    return groups.map((group) => ({ resource: group._id, count: group.count }));
  }

  /** Resources holding component records (deleted ones included), in code point order. */
  async componentResources(): Promise<string[]> {
    const names = await this.collections.records.distinct('resource', { 'parent.resource': { $exists: true } }, this.options);
    return (names as string[]).sort(compareCodePoints);
  }

  /**
   * Distinct decoded values of a data field over the live records of a resource, most frequent
   * first (ties in value order), each with its most frequent label. Grouped on the raw attribute
   * and label in the database; decoding (dataValue) happens here so it is exactly the importer's.
   */
  async fieldValues(resource: string, field: string, limit?: number): Promise<FieldValueCount[]> {
    const samples = await this.collections.records
      .aggregate<{ _id: { raw?: string; text?: string }; count: number }>(
        [
          { $match: { resource, deleted: false, 'data.field': field } },
          { $unwind: '$data' },
          { $match: { 'data.field': field } },
          { $group: { _id: { raw: '$data.value', text: '$data.text' }, count: { $sum: 1 } } },
        ],
        this.options,
      )
      .toArray();
    return tallyFieldValues(
      field,
      samples.map((sample) => ({
        ...(sample._id.raw != null ? { raw: sample._id.raw } : {}),
        ...(sample._id.text != null ? { text: sample._id.text } : {}),
        count: sample.count,
      })),
      limit,
    );
  }
}
