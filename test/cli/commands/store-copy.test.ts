/**
 * `sluice store copy` from a SQLite store into MongoDB (the test server of
 * tools/mongodb-test-server: SLUICE_TEST_MONGODB_URL or DocumentDB; it fails, never skips,
 * without one).
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Command } from 'commander';
import { MongoClient } from 'mongodb';
import { registerStoreCommand, sqliteFileOf } from '../../../src/cli/commands/store-copy.js';
import { isSluiceError } from '../../../src/errors.js';
import { openMongoStore } from '../../../src/store/mongodb-store.js';
import { openSqliteStore } from '../../../src/store/sqlite-store.js';
import type { Store } from '../../../src/store/store.js';
import { startTestMongo } from '../../../tools/mongodb-test-server/server.js';
import type { TestMongo } from '../../../tools/mongodb-test-server/server.js';
import { recordWrite, reference, textData, valueData } from '../../support/records.js';

let mongo: TestMongo | undefined;
let dir: string;
const database = `sluice_copy_${process.pid}`;

async function sluice(args: string[]): Promise<{ stdout: string; error?: unknown }> {
  let stdout = '';
  const program = new Command('sluice').exitOverride();
  registerStoreCommand(program, { stdout: (text) => (stdout += text) });
  try {
    await program.parseAsync(['node', 'sluice', ...args]);
    return { stdout };
  } catch (error) {
    return { stdout, error };
  }
}

/** A small deployment with a bit of everything, written through the store interface. */
async function fillSource(store: Store): Promise<void> {
  const office = await store.putRecord(recordWrite({ resource: 'org_office', uuid: 'urn:uuid:office', data: [textData('name', 'Pokhara'), valueData('beds', 10, '10')] }));
  await store.putRecord(recordWrite({ resource: 'org_office', uuid: 'urn:uuid:rewritten' }));
  await store.putRecord(recordWrite({ resource: 'org_office', uuid: 'urn:uuid:rewritten', data: [textData('name', 'second version')] }));
  await store.putRecord(recordWrite({ resource: 'org_office_branch', uuid: 'urn:uuid:branch', parent: { resource: 'org_office', uuid: office.uuid, alias: 'branch' } }));
  await store.putRecord(recordWrite({ resource: 'org_facility', uuid: 'urn:uuid:gone', deleted: true, references: [reference('office_id', 'org_office', office.uuid)] }));
  const open = await store.addConflict({ resource: 'org_office', uuid: office.uuid, method: 'update', policy: 'NEWER', local: office, remote: { name: 'org_office', uuid: office.uuid, attributes: {}, data: [], references: [], components: [] }, fields: ['name'], created_at: '2024-03-05T10:00:00' });
  const resolved = await store.addConflict({ resource: 'org_office', uuid: office.uuid, repository: 'urn:uuid:peer', method: 'delete', policy: 'MASTER', local: null, remote: { name: 'org_office', uuid: office.uuid, attributes: {}, data: [], references: [], components: [] }, fields: [], created_at: '2024-03-05T10:00:01' });
  await store.resolveConflict(resolved.id, { choice: 'local' }, '2024-03-06T00:00:00');
  assert.ok(open.id < resolved.id);
  await store.putUser({ username: 'admin', passwordHash: 'scrypt$1$1$1$a$b', roles: ['admin'], created_at: '2024-03-01T00:00:00' });
  await store.setSetting('gateway.uuid', 'urn:uuid:gateway-copied');
  await store.putRepository({ uuid: 'urn:uuid:peer', name: 'peer', apitype: 'eden', url: 'http://peer/eden', config: { username: 'sync' }, created_at: '2024-03-01T00:00:00', updated_at: '2024-03-01T00:00:00' });
  for (let i = 0; i < 5; i++) await store.appendLog({ timestmp: `2024-03-05T10:00:0${i}`, repository: 'urn:uuid:peer', mode: 'pull/incoming', action: 'import', result: 'success', remote: false, message: `step ${i}` });
  await store.putTask({ id: 'task-1', repository: 'urn:uuid:peer', resource: 'org_office', mode: 'both', strategy: ['create'], update_policy: 'NEWER', conflict_policy: 'NEWER', filters: [], components: true, created_at: 'a', updated_at: 'b' });
  await store.putCheckpoint({ id: 'task-1:pull', task: 'task-1', value: { seq: 42, msince: '2024-03-05T10:00:00' }, updated_at: '2024-03-05T10:00:05' });
  await store.putJob({ id: 'job-1', kind: 'sync', target: 'urn:uuid:peer', interval_seconds: 300, enabled: true, created_at: 'a', updated_at: 'b' });
  await store.putPool({ name: 'haiti', tags: ['haiti'], template: { resources: ['org_office'], mode: 'pull' }, username: 'pool-user', password: 'sealed-elsewhere', rejected: ['urn:uuid:no'], created_at: 'a', updated_at: 'b' });
  await store.putDiscoveredGateway({ uuid: 'urn:uuid:heard', name: 'Jacmel', url: 'http://10.0.0.7:8080', advert: { tables: ['org_office'], down: ['haiti'] }, first_seen_at: 'a', last_seen_at: 'b' });
  for (const id of ['run-old', 'run-new']) {
    await store.putRun({ id, kind: 'sync', repository: 'urn:uuid:peer', trigger: 'schedule', status: 'success', started_at: '2024-03-05T10:00:00', counts: { created: 1 }, bytes_in: 10, bytes_out: 0, captures: [] });
  }
}

/** Why the server did not start; every test then fails with it (none is skipped). */
let unavailable: unknown;

function server(): TestMongo {
  if (!mongo) throw unavailable instanceof Error ? unavailable : new Error(String(unavailable));
  return mongo;
}

before(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'sluice-store-copy-'));
  try {
    mongo = await startTestMongo();
  } catch (error) {
    unavailable = error;
  }
});

after(async () => {
  if (mongo) {
    const admin = new MongoClient(mongo.url);
    await admin.db(database).dropDatabase().catch(() => undefined);
    await admin.close();
  }
  await mongo?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('sluice store copy', () => {
  it('copies every record, conflict, user, setting, repository, log entry, task, checkpoint, job, run, pool and discovered gateway, keeping seqs and ids', async () => {
    const source = await openSqliteStore({ file: path.join(dir, 'sluice.db') });
    let expected: { records: Awaited<ReturnType<Store['queryRecords']>>; lastSeq: number; conflicts: Awaited<ReturnType<Store['listConflicts']>>; log: Awaited<ReturnType<Store['listLog']>>; runs: string[] };
    try {
      await fillSource(source);
      const all = async (resource: string) => source.queryRecords({ resource, includeDeleted: true, orderBy: 'seq' });
      expected = {
        records: [...(await all('org_office')), ...(await all('org_office_branch')), ...(await all('org_facility'))],
        lastSeq: await source.lastSeq(),
        conflicts: await source.listConflicts(),
        log: await source.listLog(),
        runs: (await source.listRuns()).map((run) => run.id),
      };
    } finally {
      await source.close();
    }

    const result = await sluice(['store', 'copy', '--from', `sqlite:${dir}`, '--to', server().url, '--database', database]);
    assert.equal(result.error, undefined, String(result.error));
    assert.match(result.stdout, /every count matches/);
    assert.match(result.stdout, /records org_office\s+2\s+2/);
    assert.match(result.stdout, /4 records in [\d.]+ s \(\d+ records\/s\)/);

    const target = await openMongoStore({ url: server().url, database });
    try {
      for (const record of expected.records) assert.deepEqual(await target.getRecord(record.resource, record.uuid), record);
      assert.equal(await target.lastSeq(), expected.lastSeq);
      assert.deepEqual(await target.listConflicts(), expected.conflicts);
      assert.deepEqual(await target.listLog(), expected.log);
      assert.equal(await target.getSetting('gateway.uuid'), 'urn:uuid:gateway-copied');
      assert.deepEqual((await target.getCheckpoint('task-1:pull'))?.value, { seq: 42, msince: '2024-03-05T10:00:00' });
      assert.equal((await target.getTask('task-1'))?.resource, 'org_office');
      assert.equal((await target.getJob('job-1'))?.interval_seconds, 300);
      assert.deepEqual((await target.listRuns()).map((run) => run.id), expected.runs);
      assert.deepEqual((await target.listUsers()).map((user) => user.username), ['admin']);
      assert.equal((await target.getRepository('urn:uuid:peer'))?.url, 'http://peer/eden');
      assert.deepEqual(await target.getPool('haiti'), { name: 'haiti', tags: ['haiti'], template: { resources: ['org_office'], mode: 'pull' }, username: 'pool-user', password: 'sealed-elsewhere', rejected: ['urn:uuid:no'], created_at: 'a', updated_at: 'b' });
      assert.equal((await target.getDiscoveredGateway('urn:uuid:heard'))?.url, 'http://10.0.0.7:8080');
      assert.deepEqual((await target.findReferencing('urn:uuid:office')).map((record) => record.uuid), ['urn:uuid:gone']);
      // Counters continue past the copied values.
      assert.ok((await target.putRecord(recordWrite())).seq > expected.lastSeq);
      assert.ok((await target.appendLog({ timestmp: 'x', mode: 'none/none', action: 'check', result: 'success', remote: false, message: 'after' })).id > expected.log[0]!.id);
    } finally {
      await target.close();
    }
  });

  it('refuses to copy into a database that already holds data', async () => {
    const result = await sluice(['store', 'copy', '--from', `sqlite:${dir}`, '--to', server().url, '--database', database]);
    assert.ok(isSluiceError(result.error) && result.error.code === 'STORE_COPY_TARGET_NOT_EMPTY', String(result.error));
  });

  it('fails with STORE_COPY_SOURCE_MISSING when the directory holds no store, and refuses a non-MongoDB target', async () => {
    const missing = await sluice(['store', 'copy', '--from', `sqlite:${path.join(dir, 'nowhere')}`, '--to', server().url]);
    assert.ok(isSluiceError(missing.error) && missing.error.code === 'STORE_COPY_SOURCE_MISSING');
    const wrongTarget = await sluice(['store', 'copy', '--from', `sqlite:${dir}`, '--to', 'postgres://x/y']);
    assert.ok(isSluiceError(wrongTarget.error) && wrongTarget.error.code === 'BAD_CONFIG');
  });

  it('finds the SQLite file of a sqlite locator the way the gateway opens it', () => {
    assert.equal(sqliteFileOf('sqlite:/srv/sluice', '/ignored'), path.join('/srv/sluice', 'sluice.db'));
    assert.equal(sqliteFileOf('sqlite', '/var/lib/sluice'), path.join('/var/lib/sluice', 'sluice.db'));
    assert.throws(() => sqliteFileOf('mongodb://x', '/d'), (error: unknown) => isSluiceError(error) && error.code === 'BAD_CONFIG');
  });
});
