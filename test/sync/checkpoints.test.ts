import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { NewConflict } from '../../src/store/store.js';
import { checkpointId, pageStore } from '../../src/sync/checkpoints.js';
import { createMemoryStore } from '../support/memory-store.js';
import { recordWrite } from '../support/records.js';

const task = { repository: 'urn:uuid:peer', resource: 'org_office', filters: ['~.a=1', '~.b=2'], components: true };

describe('checkpoints', () => {
  it('are named after the replication\'s parameters, so a new selection starts over', () => {
    const id = checkpointId(task, 'pull', 'sluice');
    assert.match(id, /^pull:org_office:[0-9a-f]{24}$/);
    assert.equal(checkpointId({ ...task, filters: ['~.b=2', '~.a=1'] }, 'pull', 'sluice'), id);
    assert.notEqual(checkpointId({ ...task, filters: ['~.a=1'] }, 'pull', 'sluice'), id);
    assert.notEqual(checkpointId({ ...task, components: false }, 'pull', 'sluice'), id);
    assert.notEqual(checkpointId(task, 'push', 'sluice'), id);
    assert.notEqual(checkpointId(task, 'pull', 'eden'), id);
    assert.notEqual(checkpointId({ ...task, repository: 'urn:uuid:other' }, 'pull', 'sluice'), id);
  });

  it('are written in the transaction of the page they cover, so a rolled-back page leaves the old checkpoint', async () => {
    const store = createMemoryStore();
    const committed = pageStore(store, { id: 'cp', task: 't', value: { seq: 10 }, at: '2024-03-05T10:00:00' });
    await committed.store.transaction(async (tx) => {
      await tx.putRecord(recordWrite());
    });
    assert.equal(committed.committed(), true);
    assert.deepEqual((await store.getCheckpoint('cp'))?.value, { seq: 10 });

    const failing = pageStore(store, { id: 'cp', task: 't', value: { seq: 20 }, at: '2024-03-05T10:00:01' });
    const record = recordWrite();
    await assert.rejects(
      failing.store.transaction(async (tx) => {
        await tx.putRecord(record);
        throw new Error('the store failed in the middle of the page');
      }),
    );
    assert.equal(failing.committed(), false);
    assert.deepEqual((await store.getCheckpoint('cp'))?.value, { seq: 10 });
    assert.equal(await store.getRecord(record.resource, record.uuid), undefined);
  });

  it('do not let a page queue the same conflict twice', async () => {
    const store = createMemoryStore();
    const local = await store.putRecord(recordWrite());
    const conflict: NewConflict = {
      resource: local.resource,
      uuid: local.uuid,
      repository: 'urn:uuid:peer',
      method: 'update',
      policy: 'THIS',
      local,
      remote: { name: local.resource, uuid: local.uuid, modified_on: '2024-03-06T10:00:00', attributes: {}, data: [{ field: 'name', text: 'Remote' }], references: [], components: [] },
      fields: ['name'],
      created_at: '2024-03-06T10:00:01',
    };
    const view = pageStore(store).store;
    const first = await view.transaction((tx) => tx.addConflict(conflict));
    const again = await view.transaction((tx) => tx.addConflict({ ...conflict, created_at: '2024-03-06T10:05:00' }));
    assert.equal(again.id, first.id);
    const changed = await view.transaction((tx) => tx.addConflict({ ...conflict, remote: { ...conflict.remote, data: [{ field: 'name', text: 'Remote, again' }] } }));
    assert.notEqual(changed.id, first.id);
    assert.equal((await store.listConflicts({ status: 'open' })).length, 2);
  });
});
