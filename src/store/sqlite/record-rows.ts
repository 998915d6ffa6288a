/**
 * How a StoredRecord is laid out in the `records` table: identity, timestamps, flags and the parent
 * link in columns (they are queried and indexed), everything else in one JSON `body`.
 */
import { SluiceError } from '../../errors.js';
import type { S3Data, S3Reference } from '../../s3xml/model.js';
import type { RecordWrite, StoredRecord } from '../store.js';

export interface RecordRow {
  resource: string;
  uuid: string;
  mci: number;
  created_on: string | null;
  modified_on: string;
  deleted: number;
  replaced_by: string | null;
  parent_resource: string | null;
  parent_uuid: string | null;
  parent_alias: string | null;
  body: string;
  seq: number;
}

/** The columns a RecordRow is read from, in a fixed order for SELECT lists. */
export const RECORD_COLUMNS =
  'r.resource, r.uuid, r.mci, r.created_on, r.modified_on, r.deleted, r.replaced_by, ' +
  'r.parent_resource, r.parent_uuid, r.parent_alias, r.body, r.seq';

interface RecordBody {
  attributes: Record<string, string>;
  data: S3Data[];
  references: S3Reference[];
}

export function rowToRecord(row: RecordRow): StoredRecord {
  const body = JSON.parse(row.body) as RecordBody;
  const record: StoredRecord = {
    resource: row.resource,
    uuid: row.uuid,
    mci: row.mci,
    modified_on: row.modified_on,
    deleted: row.deleted === 1,
    attributes: body.attributes,
    data: body.data,
    references: body.references,
    seq: row.seq,
  };
  if (row.created_on !== null) record.created_on = row.created_on;
  if (row.replaced_by !== null) record.replaced_by = row.replaced_by;
  if (row.parent_resource !== null && row.parent_uuid !== null) {
    record.parent = { resource: row.parent_resource, uuid: row.parent_uuid };
    if (row.parent_alias !== null) record.parent.alias = row.parent_alias;
  }
  return record;
}

function invalid(message: string, record: Partial<RecordWrite>): SluiceError {
  return new SluiceError('STORE_INVALID_RECORD', message, {
    status: 500,
    severity: 'record',
    fix: 'This is a bug in the code that wrote the record: records reach the store already normalised by the importer',
    details: { resource: record.resource, uuid: record.uuid },
  });
}

/** Checks the shape the store relies on; the importer normalises everything else beforehand. */
export function assertWritableRecord(record: RecordWrite): void {
  if (typeof record.resource !== 'string' || record.resource === '') throw invalid('A record needs a resource name', record);
  if (typeof record.uuid !== 'string' || record.uuid === '') throw invalid('A record needs a uuid', record);
  if (typeof record.modified_on !== 'string' || record.modified_on === '') {
    throw invalid(`Record ${record.uuid} has no modified_on`, record);
  }
  if (!Number.isInteger(record.mci)) throw invalid(`Record ${record.uuid} has a non-integer mci`, record);
  if (typeof record.deleted !== 'boolean') throw invalid(`Record ${record.uuid} has a non-boolean deleted flag`, record);
  if (!Array.isArray(record.data) || !Array.isArray(record.references) || typeof record.attributes !== 'object' || record.attributes === null) {
    throw invalid(`Record ${record.uuid} lacks attributes, data or references`, record);
  }
  if (record.data.some((data) => typeof data?.field !== 'string') || record.references.some((ref) => typeof ref?.field !== 'string')) {
    throw invalid(`Record ${record.uuid} has a data or reference element without a field name`, record);
  }
  if (record.parent !== undefined && (!record.parent.resource || !record.parent.uuid)) {
    throw invalid(`Record ${record.uuid} has an incomplete parent link`, record);
  }
}

/**
 * What putRecord returns: the record as getRecord will read it back, built without a JSON round
 * trip (the body was just serialised from these very arrays; parsing it again cost a tenth of a
 * pull's time). Only the record's own fields are kept, in the shape rowToRecord gives.
 */
export function storedForm(record: RecordWrite, seq: number): StoredRecord {
  const stored: StoredRecord = {
    resource: record.resource,
    uuid: record.uuid,
    mci: record.mci,
    modified_on: record.modified_on,
    deleted: record.deleted,
    attributes: record.attributes,
    data: record.data,
    references: record.references,
    seq,
  };
  if (record.created_on !== undefined) stored.created_on = record.created_on;
  if (record.replaced_by !== undefined) stored.replaced_by = record.replaced_by;
  if (record.parent !== undefined) {
    stored.parent = { resource: record.parent.resource, uuid: record.parent.uuid };
    if (record.parent.alias !== undefined) stored.parent.alias = record.parent.alias;
  }
  return stored;
}

/** The stored form of a write, with its new seq, as a row. */
export function recordToRow(record: RecordWrite, seq: number): RecordRow {
  const body: RecordBody = { attributes: record.attributes, data: record.data, references: record.references };
  return {
    resource: record.resource,
    uuid: record.uuid,
    mci: record.mci,
    created_on: record.created_on ?? null,
    modified_on: record.modified_on,
    deleted: record.deleted ? 1 : 0,
    replaced_by: record.replaced_by ?? null,
    parent_resource: record.parent?.resource ?? null,
    parent_uuid: record.parent?.uuid ?? null,
    parent_alias: record.parent?.alias ?? null,
    body: JSON.stringify(body),
    seq,
  };
}
