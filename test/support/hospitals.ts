/**
 * `med_hospital` records for the mapping tests (status values to map, a phone field to rename),
 * and reading one field of a stored record back.
 */
import type { RecordWrite, StoredRecord } from '../../src/store/store.js';
import { textData } from './records.js';

export interface HospitalOptions {
  /** Leading uuid group, so each test file's hospitals are its own. */
  series: string;
  modifiedOn?: string;
  /** The field the phone number is kept in (`phone` at the peer, `phone_exchange` here). */
  phoneField?: string;
  phone?: string;
}

export function hospitalUuid(index: number, series: string): string {
  return `urn:uuid:${series}-0000-4000-8000-${String(index).padStart(12, '0')}`;
}

export function hospital(index: number, status: string, options: HospitalOptions): RecordWrite {
  return {
    resource: 'med_hospital',
    uuid: hospitalUuid(index, options.series),
    mci: 0,
    modified_on: options.modifiedOn ?? '2024-06-01T08:00:00',
    deleted: false,
    attributes: {},
    data: [textData('name', `Hospital ${index}`), textData('status', status), textData(options.phoneField ?? 'phone', options.phone ?? `01-44125${index}`)],
    references: [],
  };
}

/** The text of one data field of a record (undefined when the record or the field is missing). */
export function fieldText(record: StoredRecord | undefined, name: string): string | undefined {
  return record?.data.find((data) => data.field === name)?.text;
}
