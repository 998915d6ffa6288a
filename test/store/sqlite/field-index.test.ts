/**
 * Filterable fields are indexed from the first query that filters on them (field-index.ts): these
 * tests read the raw `record_fields` table to prove what is (and is not) indexed, and check that
 * answers stay exact across backfill, later writes, updates, a second store on the same file and
 * a rolled-back registration.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { openSqliteStore } from '../../../src/store/sqlite-store.js';
import type { FieldFilter, Store } from '../../../src/store/store.js';
import { recordWrite, textData } from '../../support/records.js';

let folder: string;
before(async () => {
  folder = await mkdtemp(path.join(os.tmpdir(), 'sluice-field-index-'));
});
after(async () => {
  await rm(folder, { recursive: true, force: true });
});

let fileCounter = 0;
const freshFile = (): string => path.join(folder, `store-${++fileCounter}.db`);

const eq = (field: string, value: string): FieldFilter => ({ field, op: 'eq', negate: false, values: [value] });

function indexedRows(file: string): { field: string; str: string }[] {
  const db = new Database(file, { readonly: true });
  try {
    return db.prepare('SELECT field, str FROM record_fields ORDER BY field, str').all() as { field: string; str: string }[];
  } finally {
    db.close();
  }
}

async function office(store: Store, uuid: string, code: string, name = `Office ${uuid}`): Promise<void> {
  await store.putRecord(recordWrite({ uuid, data: [textData('code', code), textData('name', name)] }));
}

async function uuidsWhere(store: Store, filter: FieldFilter): Promise<string[]> {
  return (await store.queryRecords({ resource: 'org_office', filters: [filter] })).map((record) => record.uuid).sort();
}

describe('sqlite field index on demand', () => {
  it('indexes nothing until a query filters on a field, then exactly that field of that resource', async () => {
    const file = freshFile();
    const store = await openSqliteStore({ file });
    await office(store, 'u1', 'A');
    await office(store, 'u2', 'B');
    await store.putRecord(recordWrite({ resource: 'org_organisation', uuid: 'o1', data: [textData('code', 'A')] }));
    assert.deepEqual(indexedRows(file), []);

    assert.deepEqual(await uuidsWhere(store, eq('code', 'A')), ['u1']);
    assert.deepEqual(indexedRows(file), [
      { field: 'code', str: 'A' },
      { field: 'code', str: 'B' },
    ]);
    await store.close();
  });

  it('indexes later writes and updates of a registered field, and answers exactly', async () => {
    const file = freshFile();
    const store = await openSqliteStore({ file });
    await office(store, 'u1', 'A');
    assert.deepEqual(await uuidsWhere(store, eq('code', 'A')), ['u1']);
    await office(store, 'u2', 'A');
    await office(store, 'u1', 'C');
    assert.deepEqual(await uuidsWhere(store, eq('code', 'A')), ['u2']);
    assert.deepEqual(await uuidsWhere(store, eq('code', 'C')), ['u1']);
    assert.equal(await store.countRecords({ resource: 'org_office', filters: [{ field: 'code', op: 'ne', negate: false, values: ['A'] }] }), 1);
    assert.deepEqual(indexedRows(file).map((row) => row.str), ['A', 'C']);
    await store.close();
  });

  it('a second store on the same file indexes what the first one registered', async () => {
    const file = freshFile();
    const first = await openSqliteStore({ file });
    const second = await openSqliteStore({ file });
    // The second store has read the (empty) registrations before the first registers anything.
    await office(second, 'u0', 'Z');
    assert.deepEqual(await uuidsWhere(first, eq('code', 'Z')), ['u0']);
    await office(second, 'u1', 'A');
    assert.deepEqual(await uuidsWhere(first, eq('code', 'A')), ['u1']);
    assert.deepEqual(await uuidsWhere(second, eq('code', 'A')), ['u1']);
    await first.close();
    await second.close();
  });

  it('a registration inside a transaction that rolls back leaves no stale index behind', async () => {
    const file = freshFile();
    const store = await openSqliteStore({ file });
    await office(store, 'u1', 'A');
    await assert.rejects(
      store.transaction(async (tx) => {
        assert.equal((await tx.queryRecords({ resource: 'org_office', filters: [eq('code', 'A')] })).length, 1);
        throw new Error('changed my mind');
      }),
      /changed my mind/,
    );
    assert.deepEqual(indexedRows(file), []);
    await office(store, 'u2', 'A');
    assert.deepEqual(await uuidsWhere(store, eq('code', 'A')), ['u1', 'u2']);
    await store.close();
  });

  it('a filtered read through the store inside one of its transactions answers from the last commit without indexing', async () => {
    const file = freshFile();
    const store = await openSqliteStore({ file });
    for (const [uuid, code] of [['u1', 'A'], ['u2', 'B'], ['u3', 'A'], ['u4', 'A']] as const) await office(store, uuid, code);
    const seen = await store.transaction(async (tx) => {
      await tx.putRecord(recordWrite({ uuid: 'u5', data: [textData('code', 'A')] }));
      const page = await store.queryRecords({ resource: 'org_office', filters: [eq('code', 'A')], start: 1, limit: 1 });
      const count = await store.countRecords({ resource: 'org_office', filters: [eq('code', 'A')] });
      return { page: page.map((record) => record.uuid), count };
    });
    // Ordered by modified_on then uuid (all share one modified_on): u1, u3, u4; the uncommitted u5 is not seen.
    assert.deepEqual(seen, { page: ['u3'], count: 3 });
    assert.deepEqual(indexedRows(file), []);
    assert.deepEqual(await uuidsWhere(store, eq('code', 'A')), ['u1', 'u3', 'u4', 'u5']);
    await store.close();
  });

  it('a transaction sees the fields it registered itself, with its own uncommitted writes', async () => {
    const file = freshFile();
    const store = await openSqliteStore({ file });
    await office(store, 'u1', 'A');
    const inside = await store.transaction(async (tx) => {
      await tx.putRecord(recordWrite({ uuid: 'u2', data: [textData('code', 'A')] }));
      const first = (await tx.queryRecords({ resource: 'org_office', filters: [eq('code', 'A')] })).map((record) => record.uuid).sort();
      await tx.putRecord(recordWrite({ uuid: 'u3', data: [textData('code', 'A')] }));
      const second = await tx.countRecords({ resource: 'org_office', filters: [eq('code', 'A')] });
      return { first, second };
    });
    assert.deepEqual(inside, { first: ['u1', 'u2'], second: 3 });
    assert.deepEqual(await uuidsWhere(store, eq('code', 'A')), ['u1', 'u2', 'u3']);
    await store.close();
  });
});
