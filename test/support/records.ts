/**
 * Small builders for store records in tests: a valid RecordWrite with overridable parts, and the
 * `<data>` / `<reference>` shapes as the importer hands them to the store.
 */
import type { S3Data, S3Reference } from '../../src/s3xml/model.js';
import type { RecordWrite } from '../../src/store/store.js';

let uuidCounter = 0;

/** A fresh uuid per call, unique within the test process. */
export function nextUuid(prefix = 'urn:uuid:test'): string {
  uuidCounter += 1;
  return `${prefix}-${String(uuidCounter).padStart(6, '0')}`;
}

/** A live record of `org_office` modified at 2024-03-05T16:40:02 unless overridden. */
export function recordWrite(overrides: Partial<RecordWrite> = {}): RecordWrite {
  return {
    resource: 'org_office',
    uuid: nextUuid(),
    mci: 0,
    modified_on: '2024-03-05T16:40:02',
    deleted: false,
    attributes: {},
    data: [],
    references: [],
    ...overrides,
  };
}

/** `<data field>text</data>`: a plain string field without a value attribute. */
export function textData(field: string, text: string): S3Data {
  return { field, text };
}

/** `<data field value=JSON(value)>text</data>`: the value attribute JSON-encoded as on the wire. */
export function valueData(field: string, value: unknown, text?: string): S3Data {
  const data: S3Data = { field, value: JSON.stringify(value) };
  if (text !== undefined) data.text = text;
  return data;
}

/** `<reference field resource uuid>`; several uuids make a list:reference. */
export function reference(field: string, resource: string, uuids: string | string[], text?: string): S3Reference {
  const ref: S3Reference = { field, resource, uuid: Array.isArray(uuids) ? JSON.stringify(uuids) : uuids };
  if (text !== undefined) ref.text = text;
  return ref;
}
