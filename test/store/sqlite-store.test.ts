import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { openSqliteStore } from '../../src/store/sqlite-store.js';
import { LATEST_SCHEMA_VERSION } from '../../src/store/sqlite/migrations.js';
import { recordWrite, textData } from '../support/records.js';
import { storeContract } from './contract.js';

const folder = mkdtempSync(path.join(tmpdir(), 'sluice-sqlite-store-'));
after(() => rmSync(folder, { recursive: true, force: true }));

function removeStoreFiles(file: string): void {
  for (const suffix of ['', '-wal', '-shm']) rmSync(`${file}${suffix}`, { force: true });
}

const contractFile = path.join(folder, 'contract.db');
storeContract('sqlite', () => openSqliteStore({ file: contractFile }), async () => removeStoreFiles(contractFile));

let fileCounter = 0;
const freshFile = (): string => path.join(folder, `case-${++fileCounter}.db`);

async function rejectsWithCode(promise: Promise<unknown>, code: string): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.equal((error as { code?: unknown }).code, code);
    return true;
  });
}

describe('sqlite store', () => {
  it('opens the file in WAL mode with the latest schema version recorded', async () => {
    const file = freshFile();
    const store = await openSqliteStore({ file });
    await store.close();
    const db = new Database(file, { readonly: true });
    try {
      assert.equal(db.pragma('journal_mode', { simple: true }), 'wal');
      const versions = db.prepare('SELECT version FROM schema_version ORDER BY version').pluck().all();
      assert.deepEqual(versions, Array.from({ length: LATEST_SCHEMA_VERSION }, (_, i) => i + 1));
    } finally {
      db.close();
    }
  });

  it('reports kind sqlite', async () => {
    const store = await openSqliteStore({ file: freshFile() });
    assert.equal(store.kind, 'sqlite');
    await store.close();
  });

  it('refuses an in-memory database, which its two connections could not share', async () => {
    await rejectsWithCode(openSqliteStore({ file: ':memory:' }), 'STORE_OPEN_FAILED');
  });

  it('fails with STORE_OPEN_FAILED when the folder does not exist', async () => {
    await rejectsWithCode(openSqliteStore({ file: path.join(folder, 'missing', 'deeper', 'x.db') }), 'STORE_OPEN_FAILED');
  });

  it('refuses a file written by a newer schema instead of guessing', async () => {
    const file = freshFile();
    await (await openSqliteStore({ file })).close();
    const db = new Database(file);
    db.prepare('INSERT INTO schema_version (version, name) VALUES (?, ?)').run(LATEST_SCHEMA_VERSION + 1, 'from the future');
    db.close();
    await rejectsWithCode(openSqliteStore({ file }), 'STORE_SCHEMA_TOO_NEW');
  });

  it('a store write started inside a transaction of the same store fails instead of hanging', async () => {
    const store = await openSqliteStore({ file: freshFile() });
    try {
      await store.transaction(async (tx) => {
        await tx.putRecord(recordWrite({ uuid: 'inside' }));
        await rejectsWithCode(store.putRecord(recordWrite()), 'STORE_NESTED_TRANSACTION');
        await rejectsWithCode(store.transaction(async () => undefined), 'STORE_NESTED_TRANSACTION');
        await rejectsWithCode(store.setSetting('k', 'v'), 'STORE_NESTED_TRANSACTION');
      });
      assert.equal((await store.getRecord('org_office', 'inside'))?.uuid, 'inside');
      // After the transaction the same async context may write again.
      await store.setSetting('k', 'v');
      assert.equal(await store.getSetting('k'), 'v');
    } finally {
      await store.close();
    }
  });

  it('a put that fails half-way inside a transaction leaves nothing of itself behind', async () => {
    const store = await openSqliteStore({ file: freshFile() });
    try {
      await store.transaction(async (tx) => {
        await tx.putRecord(recordWrite({ uuid: 'good', data: [textData('name', 'kept')] }));
        // A non-string reference uuid passes the shape check and breaks only when references are
        // indexed, after the records row and its field values were written.
        const broken = recordWrite({ uuid: 'broken', data: [textData('name', 'x')], references: [{ field: 'x_id', resource: 'x', uuid: 5 as never }] });
        await rejectsWithCode(tx.putRecord(broken), 'STORE_FAILED');
        assert.equal(await tx.getRecord('org_office', 'broken'), undefined);
      });
      assert.equal((await store.getRecord('org_office', 'good'))?.data[0]?.text, 'kept');
      assert.equal(await store.getRecord('org_office', 'broken'), undefined);
      assert.equal(await store.lastSeq(), 1);
    } finally {
      await store.close();
    }
  });

  it('a second process writing the same file is seen after its commit and seq stays store-wide', async () => {
    const file = freshFile();
    const first = await openSqliteStore({ file });
    const second = await openSqliteStore({ file });
    try {
      const a = await first.putRecord(recordWrite({ uuid: 'from-first' }));
      const b = await second.putRecord(recordWrite({ uuid: 'from-second' }));
      assert.ok(b.seq > a.seq);
      assert.equal((await first.getRecord('org_office', 'from-second'))?.seq, b.seq);
      assert.equal(await first.lastSeq(), b.seq);
    } finally {
      await first.close();
      await second.close();
    }
  });
});
