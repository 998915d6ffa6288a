/**
 * Contract tests for the sync module's state (tasks, checkpoints, jobs, leases, runs); called from
 * storeContract, so every Store implementation runs them. `current()` gives the store the
 * surrounding suite opened for this test.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { JobRecord, RunRecord, Store, SyncTaskRecord } from '../../src/store/store.js';
import { recordWrite } from '../support/records.js';

let counter = 0;
const fresh = (prefix: string): string => `${prefix}-${++counter}-${Math.random().toString(36).slice(2, 8)}`;

function task(overrides: Partial<SyncTaskRecord> = {}): SyncTaskRecord {
  return {
    id: fresh('task'),
    repository: fresh('urn:uuid:peer'),
    resource: 'org_office',
    mode: 'both',
    strategy: ['create', 'update', 'delete', 'merge'],
    update_policy: 'NEWER',
    conflict_policy: 'NEWER',
    filters: ['~.obsolete=False'],
    components: true,
    created_at: '2024-03-01T00:00:00',
    updated_at: '2024-03-01T00:00:00',
    ...overrides,
  };
}

function run(overrides: Partial<RunRecord> = {}): RunRecord {
  return {
    id: fresh('run'),
    kind: 'sync',
    repository: 'urn:uuid:peer-runs',
    trigger: 'manual',
    status: 'running',
    started_at: '2024-03-05T10:00:00',
    counts: {},
    bytes_in: 0,
    bytes_out: 0,
    captures: [],
    ...overrides,
  };
}

async function rejectsWithCode(promise: Promise<unknown>, code: string): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.equal((error as { code?: unknown }).code, code);
    return true;
  });
}

export function syncStateContract(current: () => Store): void {
  describe('sync state', () => {
    it('tasks are stored whole, listed by repository and resource, replaced by id and deleted with their checkpoints', async () => {
      const store = current();
      const repository = fresh('urn:uuid:peer');
      const offices = task({ repository, resource: 'org_office', update_policy: { __default__: 'NEWER', status: 'MASTER' } });
      const orgs = task({ repository, resource: 'org_organisation', mode: 'pull', components: false, filters: [] });
      const other = task();
      for (const t of [orgs, offices, other]) await store.putTask(t);
      assert.deepEqual(await store.getTask(offices.id), offices);
      assert.deepEqual(await store.listTasks({ repository }), [offices, orgs]);
      assert.ok((await store.listTasks()).some((t) => t.id === other.id));
      const changed = { ...orgs, mode: 'none' as const, updated_at: '2024-03-02T00:00:00' };
      await store.putTask(changed);
      assert.deepEqual(await store.getTask(orgs.id), changed);

      await store.putCheckpoint({ id: `${offices.id}:pull`, task: offices.id, value: { seq: 7 }, updated_at: '2024-03-02T00:00:00' });
      await store.putCheckpoint({ id: `${orgs.id}:pull`, task: orgs.id, value: { seq: 9 }, updated_at: '2024-03-02T00:00:00' });
      await store.deleteTask(offices.id);
      assert.equal(await store.getTask(offices.id), undefined);
      assert.equal(await store.getCheckpoint(`${offices.id}:pull`), undefined);
      assert.deepEqual((await store.getCheckpoint(`${orgs.id}:pull`))?.value, { seq: 9 });
    });

    it('a second task for the same repository and resource is refused with TASK_EXISTS', async () => {
      const store = current();
      const first = task();
      await store.putTask(first);
      await rejectsWithCode(store.putTask(task({ repository: first.repository, resource: first.resource })), 'TASK_EXISTS');
      assert.deepEqual(await store.listTasks({ repository: first.repository }), [first]);
    });

    it('checkpoints are replaced by id, and deleteCheckpoints removes only those of one task', async () => {
      const store = current();
      const id = fresh('cp');
      assert.equal(await store.getCheckpoint(id), undefined);
      await store.putCheckpoint({ id, task: 't1', value: { seq: 1, mtime: '2024-03-05T10:00:00' }, updated_at: '2024-03-05T10:00:01' });
      await store.putCheckpoint({ id, task: 't1', value: { seq: 2 }, updated_at: '2024-03-05T10:00:02' });
      await store.putCheckpoint({ id: `${id}-other`, value: { seq: 3 }, updated_at: '2024-03-05T10:00:03' });
      assert.deepEqual(await store.getCheckpoint(id), { id, task: 't1', value: { seq: 2 }, updated_at: '2024-03-05T10:00:02' });
      await store.deleteCheckpoints('t1');
      assert.equal(await store.getCheckpoint(id), undefined);
      assert.deepEqual((await store.getCheckpoint(`${id}-other`))?.value, { seq: 3 });
    });

    it('a checkpoint written in a transaction commits with its records or not at all', async () => {
      const store = current();
      const id = fresh('cp');
      const kept = recordWrite();
      await store.transaction(async (tx) => {
        await tx.putRecord(kept);
        await tx.putCheckpoint({ id, value: { seq: 1 }, updated_at: '2024-03-05T10:00:00' });
        assert.deepEqual((await tx.getCheckpoint(id))?.value, { seq: 1 });
        assert.equal(await store.getCheckpoint(id), undefined);
      });
      assert.deepEqual((await store.getCheckpoint(id))?.value, { seq: 1 });

      const lost = recordWrite();
      await assert.rejects(
        store.transaction(async (tx) => {
          await tx.putRecord(lost);
          await tx.putCheckpoint({ id, value: { seq: 2 }, updated_at: '2024-03-05T10:00:01' });
          throw new Error('page failed');
        }),
        /page failed/,
      );
      assert.deepEqual((await store.getCheckpoint(id))?.value, { seq: 1 });
      assert.equal(await store.getRecord(lost.resource, lost.uuid), undefined);
    });

    it('jobs are stored with cron or interval, filtered by kind and target, and deleted', async () => {
      const store = current();
      const target = fresh('urn:uuid:peer');
      const cron: JobRecord = { id: fresh('job-a'), kind: 'sync', target, cron: '*/5 * * * *', enabled: true, created_at: '2024-03-01T00:00:00', updated_at: '2024-03-01T00:00:00' };
      const interval: JobRecord = { id: fresh('job-b'), kind: 'sync', target, interval_seconds: 600, enabled: false, created_at: '2024-03-01T00:00:00', updated_at: '2024-03-01T00:00:00' };
      await store.putJob(interval);
      await store.putJob(cron);
      assert.deepEqual(await store.getJob(cron.id), cron);
      assert.deepEqual(await store.listJobs({ kind: 'sync', target }), [cron, interval].sort((a, b) => (a.id < b.id ? -1 : 1)));
      assert.deepEqual(await store.listJobs({ kind: 'ushahidi-poll', target }), []);
      await store.putJob({ ...interval, enabled: true });
      assert.equal((await store.getJob(interval.id))?.enabled, true);
      await store.deleteJob(cron.id);
      assert.deepEqual((await store.listJobs({ target })).map((job) => job.id), [interval.id]);
    });

    it('a lease is held by one holder until it expires, renewed only by its holder, and released only by it', async () => {
      const store = current();
      const name = fresh('lease');
      const first = await store.acquireLease(name, 'process-a', 1000, 500);
      assert.deepEqual(first, { name, holder: 'process-a', acquired_at: 1000, expires_at: 1500 });
      assert.equal(await store.acquireLease(name, 'process-b', 1200, 500), undefined);
      assert.deepEqual(await store.acquireLease(name, 'process-a', 1300, 500), { name, holder: 'process-a', acquired_at: 1000, expires_at: 1800 });
      assert.equal(await store.renewLease(name, 'process-b', 1400, 500), false);
      assert.equal(await store.renewLease(name, 'process-a', 1400, 1000), true);
      assert.equal((await store.getLease(name))?.expires_at, 2400);
      assert.equal(await store.releaseLease(name, 'process-b'), false);
      assert.equal((await store.getLease(name))?.holder, 'process-a');
      // Expired: the next holder takes it over, and the old holder can no longer renew it.
      const taken = await store.acquireLease(name, 'process-b', 2400, 500);
      assert.deepEqual(taken, { name, holder: 'process-b', acquired_at: 2400, expires_at: 2900 });
      assert.equal(await store.renewLease(name, 'process-a', 2500, 500), false);
      assert.equal(await store.releaseLease(name, 'process-b'), true);
      assert.equal(await store.getLease(name), undefined);
      assert.ok(await store.acquireLease(name, 'process-a', 2600, 500));
    });

    it('of many holders racing for a free lease exactly one gets it', async () => {
      const store = current();
      const name = fresh('lease');
      const results = await Promise.all(Array.from({ length: 8 }, (_, i) => store.acquireLease(name, `holder-${i}`, 5000, 1000)));
      const winners = results.filter((lease) => lease !== undefined);
      assert.equal(winners.length, 1);
      assert.equal((await store.getLease(name))?.holder, winners[0]!.holder);
    });

    it('a lease record is deleted by name whoever holds it, or with expiredBy only once it has expired', async () => {
      const store = current();
      const name = fresh('lease');
      const other = fresh('lease');
      await store.acquireLease(name, 'process-a', 1000, 500);
      await store.acquireLease(other, 'process-a', 1000, 500);
      assert.equal(await store.deleteLeases({ name }, 1499), 0, 'still held at 1499');
      assert.equal((await store.getLease(name))?.holder, 'process-a');
      assert.equal(await store.deleteLeases({ name }, 1500), 1, 'expired at 1500');
      assert.equal(await store.getLease(name), undefined);
      assert.equal(await store.deleteLeases({ name }), 0, 'nothing left to delete');
      assert.equal(await store.deleteLeases({ name: other }), 1, 'without expiredBy a held lease goes too');
      assert.equal(await store.getLease(other), undefined);
      // Deleted means free: the next holder takes it fresh, not as a renewal.
      assert.deepEqual(await store.acquireLease(other, 'process-b', 1100, 500), { name: other, holder: 'process-b', acquired_at: 1100, expires_at: 1600 });
    });

    it('lease records are deleted by name prefix, taken literally, and only the expired ones with expiredBy', async () => {
      const store = current();
      const prefix = `${fresh('claims')}.*(`;
      const open = `${prefix}open`;
      const expired = `${prefix}expired`;
      // Would match if the prefix were read as a pattern (`.` any character, `*` repetition).
      const lookalike = `${prefix.slice(0, -3)}x*(expired`;
      const unrelated = `x${prefix}expired`;
      for (const name of [expired, lookalike, unrelated]) await store.acquireLease(name, 'process-a', 1000, 100);
      await store.acquireLease(open, 'process-a', 1000, 10_000);
      assert.equal(await store.deleteLeases({ prefix }, 2000), 1);
      assert.equal(await store.getLease(expired), undefined);
      assert.equal((await store.getLease(open))?.holder, 'process-a');
      assert.equal((await store.getLease(lookalike))?.holder, 'process-a');
      assert.equal((await store.getLease(unrelated))?.holder, 'process-a');
      assert.equal(await store.deleteLeases({ prefix }), 1);
      assert.equal(await store.getLease(open), undefined);
      assert.equal((await store.getLease(lookalike))?.holder, 'process-a');
    });

    it('runs are written at start and end, listed newest first and filtered, and old captures are trimmed', async () => {
      const store = current();
      const repository = fresh('urn:uuid:peer');
      const capture = { at: '2024-03-05T10:00:01', mode: 'pull', method: 'GET', url: 'http://peer/sync/sync.xml', status: 200, request_bytes: 0, response_bytes: 12, response_body: '<s3xml/>', truncated: false };
      const runs: RunRecord[] = [];
      for (let i = 0; i < 4; i++) {
        const started = run({ repository, started_at: `2024-03-05T10:0${i}:00`, captures: [capture] });
        await store.putRun(started);
        runs.push(started);
      }
      const finished: RunRecord = { ...runs[1]!, status: 'success', finished_at: '2024-03-05T10:01:09', duration_ms: 9000, counts: { created: 3 }, bytes_in: 12, bytes_out: 0, message: 'done' };
      await store.putRun(finished);
      assert.deepEqual(await store.getRun(finished.id), finished);
      assert.deepEqual((await store.listRuns({ repository })).map((r) => r.id), [runs[3]!.id, runs[2]!.id, finished.id, runs[0]!.id]);
      assert.deepEqual((await store.listRuns({ repository, status: 'success' })).map((r) => r.id), [finished.id]);
      assert.equal((await store.listRuns({ repository, limit: 2 })).length, 2);

      await store.trimRunCaptures(2);
      const after = await store.listRuns({ repository });
      assert.deepEqual(after.map((r) => r.captures.length), [1, 1, 0, 0]);
      assert.equal((await store.getRun(finished.id))?.message, 'done');
    });

    it('componentResources lists the tables holding components, deleted components included', async () => {
      const store = current();
      const master = `test_master${++counter}`;
      const live = `test_livepart${counter}`;
      const gone = `test_gonepart${counter}`;
      const plain = `test_plain${counter}`;
      const parent = await store.putRecord(recordWrite({ resource: master }));
      await store.putRecord(recordWrite({ resource: plain }));
      assert.equal((await store.componentResources()).includes(live), false);
      await store.putRecord(recordWrite({ resource: live, parent: { resource: master, uuid: parent.uuid } }));
      await store.putRecord(recordWrite({ resource: gone, deleted: true, parent: { resource: master, uuid: parent.uuid, alias: 'part' } }));
      const tables = await store.componentResources();
      assert.ok(tables.includes(live) && tables.includes(gone));
      assert.ok(!tables.includes(master) && !tables.includes(plain));
      assert.deepEqual(tables, [...tables].sort());
      await store.transaction(async (tx) => assert.ok((await tx.componentResources()).includes(live)));
    });

    it('conflicts can be listed for one record and one repository', async () => {
      const store = current();
      const uuid = fresh('urn:uuid:record');
      const remote = { name: 'org_office', uuid, attributes: {}, data: [], references: [], components: [] };
      const base = { resource: 'org_office', uuid, method: 'update' as const, policy: 'THIS', local: null, remote, fields: ['name'], created_at: '2024-03-05T10:00:00' };
      const a = await store.addConflict({ ...base, repository: 'urn:uuid:peer-x' });
      const b = await store.addConflict({ ...base, repository: 'urn:uuid:peer-y' });
      await store.addConflict({ ...base, uuid: fresh('urn:uuid:other') });
      assert.deepEqual((await store.listConflicts({ resource: 'org_office', uuid })).map((c) => c.id), [a.id, b.id]);
      assert.deepEqual((await store.listConflicts({ resource: 'org_office', uuid, repository: 'urn:uuid:peer-y' })).map((c) => c.id), [b.id]);
    });
  });
}
