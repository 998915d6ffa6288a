/**
 * Shared by the importer and exporter tests: the stores every suite runs on (in-memory for
 * speed, SQLite because it is what ships), a fixed clock, and small builders for S3 resources.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { emptyResource, type S3Data, type S3Reference, type S3Resource } from '../../src/s3xml/model.js';
import type { Clock } from '../../src/s3xml/timestamps.js';
import { openSqliteStore } from '../../src/store/sqlite-store.js';
import type { RecordWrite, Store, StoredRecord } from '../../src/store/store.js';
import { createMemoryStore } from '../support/memory-store.js';

export interface StoreKind {
  name: string;
  open(): Promise<Store>;
}

export const storeKinds: StoreKind[] = [
  { name: 'memory store', open: async () => createMemoryStore() },
  {
    name: 'SQLite store',
    open: async () => {
      const dir = mkdtempSync(path.join(tmpdir(), 'sluice-importer-'));
      const store = await openSqliteStore({ file: path.join(dir, 'store.db') });
      const close = store.close.bind(store);
      store.close = async () => {
        await close();
        rmSync(dir, { recursive: true, force: true });
      };
      return store;
    },
  },
];

export const NOW = '2024-06-01T12:00:00';
export const fixedClock: Clock = { now: () => new Date(`${NOW}Z`) };

export function text(field: string, value: string): S3Data {
  return { field, text: value };
}

export function value(field: string, raw: unknown, label?: string): S3Data {
  return { field, value: JSON.stringify(raw), ...(label === undefined ? {} : { text: label }) };
}

export function ref(field: string, resource: string, target: { uuid?: string | string[]; tuid?: string | string[]; inline?: S3Resource }): S3Reference {
  const reference: S3Reference = { field, resource };
  if (target.uuid !== undefined) reference.uuid = Array.isArray(target.uuid) ? JSON.stringify(target.uuid) : target.uuid;
  if (target.tuid !== undefined) reference.tuid = Array.isArray(target.tuid) ? JSON.stringify(target.tuid) : target.tuid;
  if (target.inline !== undefined) reference.inline = target.inline;
  return reference;
}

export function res(name: string, parts: Partial<S3Resource> = {}): S3Resource {
  return { ...emptyResource(name), ...parts };
}

/** A record as a peer or an earlier import left it, written straight into the store. */
export async function seed(store: Store, records: (Partial<RecordWrite> & { resource: string; uuid: string })[]): Promise<StoredRecord[]> {
  return store.transaction(async (tx) => {
    const written: StoredRecord[] = [];
    for (const record of records) {
      written.push(
        await tx.putRecord({
          mci: 0,
          modified_on: '2024-01-01T00:00:00',
          deleted: false,
          attributes: {},
          data: [],
          references: [],
          ...record,
        }),
      );
    }
    return written;
  });
}

export async function get(store: Store, resource: string, uuid: string): Promise<StoredRecord> {
  const record = await store.getRecord(resource, uuid);
  if (!record) throw new Error(`expected ${resource} ${uuid} in the store`);
  return record;
}

export function fieldText(record: StoredRecord, field: string): string | undefined {
  return record.data.find((data) => data.field === field)?.text;
}

export async function allOf(store: Store, resource: string): Promise<StoredRecord[]> {
  return store.queryRecords({ resource, includeDeleted: true });
}

/** Runs `body` once per store kind, opening a fresh store per test and closing it after. */
export function withStore(kind: StoreKind, body: (store: Store) => Promise<void>): () => Promise<void> {
  return async () => {
    const store = await kind.open();
    try {
      await body(store);
    } finally {
      await store.close();
    }
  };
}
