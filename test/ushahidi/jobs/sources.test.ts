import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { isSluiceError } from '../../../src/errors.js';
import { silentLogger } from '../../../src/logger.js';
import { systemClock } from '../../../src/s3xml/timestamps.js';
import { createSyncModule } from '../../../src/sync/sync-module.js';
import { syncJobId } from '../../../src/sync/task-registry.js';
import { createUndiciTransport } from '../../../src/sync/undici-transport.js';
import { effectiveMappingDocument, reconcileJobId, sourceUuid } from '../../../src/ushahidi/sources.js';
import { closeTestEngine, sourceHarness } from './support.js';

after(() => closeTestEngine());

describe('Ushahidi sources in the sync module', () => {
  it('run on their schedule, on Sync Now and on the reconcile job, under the repository lease', async () => {
    const h = await sourceHarness({ fake: { posts: 25 } });
    const { transport, close } = createUndiciTransport();
    const sync = createSyncModule({
      store: h.store,
      clock: systemClock,
      logger: silentLogger(),
      transport,
      secrets: h.secrets,
      identity: { uuid: 'urn:uuid:gateway-under-test', name: 'test gateway' },
      holder: 'test-host:1:sync',
      sources: h.sources,
    });
    const scheduler = sync.createScheduler();
    try {
      const job = await h.store.getJob(syncJobId(h.source.uuid));
      assert.ok(job, 'a source is polled on a schedule from the start');
      await scheduler.runNow(job);
      assert.equal(await h.store.countRecords({ resource: 'event_incident_report' }), 25);

      h.fake.hooks.addPosts(2);
      const now = await sync.syncNow('haiti');
      assert.equal(now.run.status, 'success', now.run.message);
      assert.equal(now.run.kind, 'ushahidi');
      assert.equal(await h.store.countRecords({ resource: 'event_incident_report' }), 27);

      const reconcile = await h.store.getJob(reconcileJobId(h.source.uuid));
      assert.ok(reconcile);
      await scheduler.runNow(reconcile);
      const runs = await h.store.listRuns({ repository: h.source.uuid });
      assert.deepEqual(
        runs.map((run) => [run.kind, run.status]),
        [
          ['ushahidi-reconcile', 'success'],
          ['ushahidi', 'success'],
          ['ushahidi', 'success'],
        ],
      );

      // A run of the same source elsewhere holds the lease: Sync Now is refused, not run twice.
      assert.ok(await h.store.acquireLease(`sync:${h.source.uuid}`, 'another-host:2:x', Date.now(), 60_000));
      await assert.rejects(sync.syncNow('haiti'), (error) => isSluiceError(error) && error.code === 'SYNC_ALREADY_RUNNING');
    } finally {
      await scheduler.stop();
      await close();
      await h.close();
    }
  });

  it('are listed without their password, updated when added again, and removed with their cursors', async () => {
    const h = await sourceHarness({ fake: { posts: 5 } });
    try {
      await h.sources.run(await h.record(), { trigger: 'test' });
      const [view] = await h.sources.list();
      assert.equal(view?.uuid, sourceUuid('ushahidi-v5', h.fake.url));
      assert.equal(view?.has_password, true);
      assert.equal(JSON.stringify(view).includes(h.fake.admin.password), false);
      const stored = await h.record();
      assert.equal(JSON.stringify(stored).includes(h.fake.admin.password), false, 'sealed at rest');

      const again = await h.sources.add({ name: 'haiti', url: `${h.fake.url}/`, type: 'ushahidi-v5', username: h.fake.admin.email, password: h.fake.admin.password, pageSize: 50 });
      assert.equal(again.uuid, view?.uuid, 'the same deployment is the same source');
      assert.equal(again.page_size, 50);
      assert.equal((await h.sources.list()).length, 1);

      await assert.rejects(
        h.sources.add({ name: 'v5 needs a login', url: 'http://127.0.0.1:9', type: 'ushahidi-v5' }),
        (error) => isSluiceError(error) && error.code === 'BAD_SOURCE',
      );

      await h.sources.remove('haiti');
      assert.deepEqual(await h.sources.list(), []);
      assert.deepEqual(await h.store.listJobs(), []);
      assert.equal(await h.store.getCheckpoint(`ushahidi:${view!.uuid}:post:1`), undefined);
      assert.equal(await h.store.countRecords({ resource: 'event_incident_report' }), 5, 'the tickets stay');
    } finally {
      await h.close();
    }
  });

  it('checks a classic deployment\'s admin login before storing it (its public tasks ignore credentials)', async () => {
    const h = await sourceHarness({ fake: { posts: 5 }, source: { type: 'ushahidi-v2', username: 'admin', password: 'admin-password' } });
    try {
      const before = await h.record();
      await assert.rejects(
        h.sources.add({ name: 'haiti', url: h.fake.url, type: 'ushahidi-v2', username: 'admin', password: 'wrong' }),
        (error) => isSluiceError(error) && error.code === 'USHAHIDI_AUTH_FAILED',
      );
      assert.deepEqual(await h.record(), before, 'nothing was changed');
    } finally {
      await h.close();
    }
  });

  it("fills in the status values a source's mapping leaves out, and keeps those it gives", () => {
    const own = effectiveMappingDocument(
      {
        instance: 'haiti',
        resources: [
          { local: 'event_incident_type', fields: [{ local: 'name', inbound: { values: { 'Water shortage': 'Water' } } }] },
          { local: 'event_incident_report', fields: [{ local: 'status', outbound: { values: { Closed: 'archived' } } }] },
        ],
      },
      { api: 'v5', resource: 'event_incident_report', status_field: 'status' },
    );
    const report = own.resources.find((resource) => resource.local === 'event_incident_report')!;
    assert.equal(report.fields![0]!.outbound!.values!.Closed, 'archived');
    assert.equal(report.fields![0]!.outbound!.values!.Actioned, 'archived');
    assert.equal(report.fields![0]!.inbound!.values!.published, 'Verified');
    assert.equal(own.resources[0]!.fields![0]!.inbound!.values!['Water shortage'], 'Water');
  });
});
