/**
 * How a StoredRecord is laid out in the `records` collection.
 *
 *   { resource, uuid, mci, created_on?, modified_on, deleted, replaced_by?,
 *     parent?: { resource, uuid, alias? },
 *     attributes, data, references,            the record itself (keys escaped, plain-documents.ts)
 *     seq,                                     store-wide change counter
 *     filterValues: [{ field, text, number? }] every filterable value (url-filter-match.ts), decoded
 *     referencedUuids: [uuid, …] }             targets of the references, for findReferencing
 *
 * `filterValues` is what URL filters run on (mongodb/record-filter.ts): one entry per distinct
 * (field, text), with `number` present exactly when the text is numeric, mirroring the SQLite
 * store's record_fields table.
 */
import { referenceUuids } from '../../s3xml/model.js';
import type { S3Data, S3Reference } from '../../s3xml/model.js';
import type { RecordWrite, StoredRecord } from '../store.js';
import { filterableValues, numericValue } from '../url-filter-match.js';
import { fromStorable, toStorable } from './plain-documents.js';

export interface FilterValueEntry {
  field: string;
  text: string;
  number?: number;
}

export interface RecordDocument {
  resource: string;
  uuid: string;
  mci: number;
  created_on?: string;
  modified_on: string;
  deleted: boolean;
  replaced_by?: string;
  parent?: { resource: string; uuid: string; alias?: string };
  attributes: Record<string, string>;
  data: S3Data[];
  references: S3Reference[];
  seq: number;
  filterValues: FilterValueEntry[];
  referencedUuids: string[];
}

export function recordToDocument(record: RecordWrite, seq: number): RecordDocument {
  const filterValues: FilterValueEntry[] = [];
  for (const [field, texts] of filterableValues(record)) {
    for (const text of texts) {
      const number = numericValue(text);
      filterValues.push(number === undefined ? { field, text } : { field, text, number });
    }
  }
  const document: RecordDocument = {
    resource: record.resource,
    uuid: record.uuid,
    mci: record.mci,
    modified_on: record.modified_on,
    deleted: record.deleted,
    attributes: toStorable(record.attributes) as Record<string, string>,
    data: toStorable(record.data) as S3Data[],
    references: toStorable(record.references) as S3Reference[],
    seq,
    filterValues,
    referencedUuids: [...new Set(record.references.flatMap(referenceUuids))],
  };
  if (record.created_on !== undefined) document.created_on = record.created_on;
  if (record.replaced_by !== undefined) document.replaced_by = record.replaced_by;
  if (record.parent !== undefined) {
    document.parent = { resource: record.parent.resource, uuid: record.parent.uuid };
    if (record.parent.alias !== undefined) document.parent.alias = record.parent.alias;
  }
  return document;
}

/** Fields a record read needs; the filter index stays in the database. */
export const RECORD_PROJECTION = { _id: 0, filterValues: 0, referencedUuids: 0 } as const;

export function documentToRecord(document: Omit<RecordDocument, 'filterValues' | 'referencedUuids'>): StoredRecord {
  const record: StoredRecord = {
    resource: document.resource,
    uuid: document.uuid,
    mci: document.mci,
    modified_on: document.modified_on,
    deleted: document.deleted,
    attributes: fromStorable(document.attributes),
    data: fromStorable(document.data),
    references: fromStorable(document.references),
    seq: document.seq,
  };
  if (document.created_on !== undefined && document.created_on !== null) record.created_on = document.created_on;
  if (document.replaced_by !== undefined && document.replaced_by !== null) record.replaced_by = document.replaced_by;
  if (document.parent) {
    record.parent = { resource: document.parent.resource, uuid: document.parent.uuid };
    if (document.parent.alias !== undefined && document.parent.alias !== null) record.parent.alias = document.parent.alias;
  }
  return record;
}
