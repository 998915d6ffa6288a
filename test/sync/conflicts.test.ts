/**
 * Conflicts (a record changed on both sides since the last sync) under every conflict policy,
 * between two gateways: what each policy settles, what goes to the queue, and the three ways a
 * person resolves a queued conflict through the API — after which the choice reaches the peer.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Store } from '../../src/store/store.js';
import type { ConflictView } from '../../src/sync/conflict-queue.js';
import { ADMIN, startSyncGateway, type SyncGateway } from './support/gateways.js';

let counter = 0;

async function create(store: Store, fields: Record<string, string>, modifiedOn = '2024-01-01T00:00:00'): Promise<string> {
  const uuid = `urn:uuid:conflict-${++counter}`;
  await store.putRecord({
    resource: 'org_office',
    uuid,
    mci: 0,
    created_on: '2024-01-01T00:00:00',
    modified_on: modifiedOn,
    deleted: false,
    attributes: {},
    data: Object.entries(fields).map(([field, text]) => ({ field, text })),
    references: [],
  });
  return uuid;
}

/** A local edit: the same record with some fields changed, at `modifiedOn`. */
async function edit(store: Store, uuid: string, fields: Record<string, string>, modifiedOn: string): Promise<void> {
  const record = (await store.getRecord('org_office', uuid))!;
  const { seq: _seq, ...write } = record;
  const data = write.data.map((entry) => (fields[entry.field] === undefined ? entry : { field: entry.field, text: fields[entry.field] }));
  await store.putRecord({ ...write, data, modified_on: modifiedOn });
}

function field(record: { data: { field: string; text?: string }[] } | undefined, name: string): string | undefined {
  return record?.data.find((entry) => entry.field === name)?.text;
}

describe('conflicts under each conflict policy', { timeout: 120_000 }, () => {
  let a: SyncGateway;
  let b: SyncGateway;
  let taskId: string;

  before(async () => {
    a = await startSyncGateway({ name: 'A', domain: 'a.test' });
    b = await startSyncGateway({ name: 'B', domain: 'b.test' });
    await a.sync.repositories.add({ name: 'B', url: b.url, username: ADMIN.user, password: ADMIN.password });
    await b.sync.repositories.add({ name: 'A', url: a.url, username: ADMIN.user, password: ADMIN.password });
    taskId = (await a.sync.tasks.add('B', 'org_office', { mode: 'both' })).id;
    await b.sync.tasks.add('A', 'org_office', { mode: 'both' });
  });

  after(async () => {
    await a?.stop();
    await b?.stop();
  });

  /** Records both sides hold, then changed on both: on A at `localAt`, on B at `remoteAt`. */
  async function conflictingRecords(count: number, options: { origin: 'a' | 'b'; localAt: string; remoteAt: string }): Promise<string[]> {
    const origin = options.origin === 'a' ? a : b;
    const uuids: string[] = [];
    for (let i = 0; i < count; i++) uuids.push(await create(origin.store, { name: 'Original', code: 'C-1' }));
    const initial = await a.sync.syncNow('B');
    assert.equal(initial.run.status, 'success', initial.run.message);
    for (const uuid of uuids) {
      assert.ok(await a.store.getRecord('org_office', uuid));
      assert.ok(await b.store.getRecord('org_office', uuid));
      await edit(a.store, uuid, { name: "A's name" }, options.localAt);
      await edit(b.store, uuid, { name: "B's name", code: 'C-B' }, options.remoteAt);
    }
    return uuids;
  }

  async function conflictingRecord(options: { origin: 'a' | 'b'; localAt: string; remoteAt: string }): Promise<string> {
    return (await conflictingRecords(1, options))[0]!;
  }

  async function pullWith(policy: string, updatePolicy = 'NEWER'): Promise<{ status: string; conflicts: number }> {
    await a.sync.tasks.update(taskId, { conflict_policy: policy, update_policy: updatePolicy, mode: 'pull' });
    const { run } = await a.sync.syncNow('B');
    await a.sync.tasks.update(taskId, { mode: 'both', update_policy: 'NEWER' });
    return { status: run.status, conflicts: run.counts.pull_conflicts ?? 0 };
  }

  async function openConflictsFor(uuid: string): Promise<ConflictView[]> {
    return a.sync.conflicts.list({ status: 'open', resource: 'org_office', uuid });
  }

  it('OTHER lets the remote version through to the update policy and queues nothing', async () => {
    // An older remote version: OTHER accepts the conflict, then the update policy decides.
    const [kept, taken] = await conflictingRecords(2, { origin: 'b', localAt: '2024-03-01T12:00:00', remoteAt: '2024-03-01T10:00:00' });
    const result = await pullWith('OTHER', 'NEWER');
    assert.equal(result.conflicts, 0);
    assert.equal(field(await a.store.getRecord('org_office', kept!), 'name'), "A's name", 'NEWER kept the newer local version');
    await edit(b.store, taken!, { name: "B's name again" }, '2024-03-01T10:30:00');
    const other = await pullWith('OTHER', 'OTHER');
    assert.equal(other.conflicts, 0);
    assert.equal(field(await a.store.getRecord('org_office', taken!), 'name'), "B's name again", 'OTHER as update policy takes it');
    assert.deepEqual(await openConflictsFor(kept!), []);
    assert.deepEqual(await openConflictsFor(taken!), []);
  });

  it('THIS keeps the local version and queues the conflict with both versions and the fields that differ', async () => {
    const uuid = await conflictingRecord({ origin: 'b', localAt: '2024-03-02T10:00:00', remoteAt: '2024-03-02T12:00:00' });
    const result = await pullWith('THIS');
    assert.equal(result.status, 'warning');
    assert.equal(result.conflicts, 1);
    assert.equal(field(await a.store.getRecord('org_office', uuid), 'name'), "A's name");
    const [conflict] = await openConflictsFor(uuid);
    assert.equal(conflict!.policy, 'THIS');
    assert.equal(conflict!.repository, b.identity.uuid);
    assert.deepEqual(conflict!.fields.sort(), ['code', 'name']);
    assert.equal(field(conflict!.local ?? undefined, 'name'), "A's name");
    assert.equal(field(conflict!.remote, 'name'), "B's name");
    assert.deepEqual(
      conflict!.differences.map((d) => [d.field, d.local, d.remote]).sort(),
      [['code', 'C-1', 'C-B'], ['name', "A's name", "B's name"]],
    );
    // Pulling again does not queue the same conflict twice.
    await pullWith('THIS');
    assert.equal((await openConflictsFor(uuid)).length, 1);
  });

  it('NEWER takes a newer remote version and queues an older one', async () => {
    const newerRemote = await conflictingRecord({ origin: 'b', localAt: '2024-03-03T10:00:00', remoteAt: '2024-03-03T12:00:00' });
    const first = await pullWith('NEWER');
    assert.equal(first.conflicts, 0);
    assert.equal(field(await a.store.getRecord('org_office', newerRemote), 'name'), "B's name");

    const olderRemote = await conflictingRecord({ origin: 'b', localAt: '2024-03-04T12:00:00', remoteAt: '2024-03-04T10:00:00' });
    const second = await pullWith('NEWER');
    assert.equal(second.conflicts, 1);
    assert.equal(field(await a.store.getRecord('org_office', olderRemote), 'name'), "A's name");
    assert.equal((await openConflictsFor(olderRemote))[0]!.policy, 'NEWER');
  });

  it('MASTER takes the version of the instance where the record was created, and queues a copy\'s change', async () => {
    // Created on B: B is its master copy and sends it as mci 1; A holds a copy.
    const fromMaster = await conflictingRecord({ origin: 'b', localAt: '2024-03-05T10:00:00', remoteAt: '2024-03-05T12:00:00' });
    const first = await pullWith('MASTER');
    assert.equal(first.conflicts, 0);
    assert.equal(field(await a.store.getRecord('org_office', fromMaster), 'name'), "B's name");

    // Created on A: B's change is a copy's change, however new it is.
    const ours = await conflictingRecord({ origin: 'a', localAt: '2024-03-06T10:00:00', remoteAt: '2024-03-06T12:00:00' });
    const second = await pullWith('MASTER');
    assert.equal(second.conflicts, 1);
    assert.equal(field(await a.store.getRecord('org_office', ours), 'name'), "A's name");
  });

  it('a queued conflict is resolved through the API by keeping local, taking remote or choosing per field, and the choice reaches the peer', async () => {
    const [keepLocal, takeRemote, perField] = (await conflictingRecords(3, { origin: 'b', localAt: '2024-03-07T10:00:00', remoteAt: '2024-03-07T12:00:00' })) as [string, string, string];
    await pullWith('THIS');
    const id = async (uuid: string) => (await openConflictsFor(uuid))[0]!.id;

    const listed = (await (await a.request('/api/conflicts?status=open')).json()) as ConflictView[];
    assert.ok(listed.some((conflict) => conflict.uuid === perField && conflict.differences.length === 2));

    const resolve = async (conflictId: number, body: unknown) => {
      const response = await a.request(`/api/conflicts/${conflictId}/resolve`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
      assert.equal(response.status, 200, await response.clone().text());
      return (await response.json()) as ConflictView;
    };
    const bad = await a.request(`/api/conflicts/${await id(perField)}/resolve`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ keep: 'both' }) });
    assert.equal(bad.status, 400);

    const kept = await resolve(await id(keepLocal), { keep: 'local' });
    assert.equal(kept.status, 'resolved');
    assert.deepEqual(kept.resolution, { keep: 'local', by: ADMIN.user });
    await resolve(await id(takeRemote), { keep: 'remote' });
    await resolve(await id(perField), { fields: { name: 'local', code: 'remote' } });
    const again = await a.request(`/api/conflicts/${kept.id}/resolve`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ keep: 'remote' }) });
    assert.equal(again.status, 409);

    assert.equal(field(await a.store.getRecord('org_office', keepLocal), 'name'), "A's name");
    assert.equal(field(await a.store.getRecord('org_office', takeRemote), 'name'), "B's name");
    const merged = await a.store.getRecord('org_office', perField);
    assert.deepEqual([field(merged, 'name'), field(merged, 'code')], ["A's name", 'C-B']);

    // The resolutions are new versions: the next sync sends them to B, where they win.
    const run = await a.sync.syncNow('B');
    assert.equal(run.run.status, 'success', run.run.message);
    assert.equal(field(await b.store.getRecord('org_office', keepLocal), 'name'), "A's name");
    assert.equal(field(await b.store.getRecord('org_office', takeRemote), 'name'), "B's name");
    const atB = await b.store.getRecord('org_office', perField);
    assert.deepEqual([field(atB, 'name'), field(atB, 'code')], ["A's name", 'C-B']);
    const log = await a.store.listLog({ limit: 20 });
    assert.ok(log.some((entry) => entry.action === 'resolve conflict' && entry.message.includes('name=local, code=remote')));
  });
});
