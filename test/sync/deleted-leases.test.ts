import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, it } from 'node:test';
import { SluiceError } from '../../src/errors.js';
import { silentLogger } from '../../src/logger.js';
import { createSecretBox } from '../../src/secrets.js';
import { formatTimestamp, systemClock, type Clock } from '../../src/s3xml/timestamps.js';
import type { RepositoryRecord, Store } from '../../src/store/store.js';
import { claimTick, tickLeaseName } from '../../src/sync/lease.js';
import type { RunOutcome } from '../../src/sync/run.js';
import { syncLeaseName } from '../../src/sync/runner.js';
import { createSyncModule } from '../../src/sync/sync-module.js';
import { syncJobId } from '../../src/sync/task-registry.js';
import { createUshahidiSources, reconcileJobId } from '../../src/ushahidi/sources.js';
import { createMemoryStore } from '../support/memory-store.js';

const HOLDER = 'test-host:1:here';
const PEER = 'urn:uuid:4d1e5a3c-0000-4000-8000-000000000001';

function manualClock(start = Date.UTC(2024, 2, 5, 10, 0, 0)) {
  let now = start;
  const clock: Clock = { now: () => new Date(now) };
  return { clock, now: () => now, advance: (ms: number) => (now += ms) };
}

function syncModule(store: Store, clock: Clock) {
  return createSyncModule({
    store,
    clock,
    logger: silentLogger(),
    transport: async () => {
      throw new SluiceError('PEER_UNAVAILABLE', 'these tests talk to no peer', { status: 502 });
    },
    secrets: createSecretBox(randomBytes(32)),
    identity: { uuid: 'urn:uuid:gateway-under-test', name: 'test gateway' },
    holder: HOLDER,
    leaseTtlMs: 60_000,
    schedulerReloadMs: 60_000,
  });
}

async function addPeer(store: Store, uuid = PEER): Promise<RepositoryRecord> {
  const repository: RepositoryRecord = {
    uuid,
    name: `peer ${uuid.slice(-4)}`,
    apitype: 'eden',
    url: 'http://127.0.0.1:9/eden',
    config: {},
    created_at: '2024-03-01T00:00:00',
    updated_at: '2024-03-01T00:00:00',
  };
  await store.putRepository(repository);
  return repository;
}

async function addSchedule(store: Store, repository: string, intervalSeconds: number): Promise<string> {
  const id = syncJobId(repository);
  await store.putJob({ id, kind: 'sync', target: repository, interval_seconds: intervalSeconds, enabled: true, created_at: '2024-03-01T00:00:00', updated_at: '2024-03-01T00:00:00' });
  return id;
}

/** Finishes a run handed to runWork as the real sync does: written once more, with its end. */
async function finish(store: Store, clock: Clock, run: RunOutcome['run']): Promise<RunOutcome> {
  const finished = { ...run, status: 'success' as const, finished_at: formatTimestamp(clock.now()), duration_ms: 0 };
  await store.putRun(finished);
  return { run: finished, results: [], failures: [] };
}

describe('leases of deleted jobs and repositories', () => {
  it('removing a schedule right after its tick ran leaves no claim or lease for it', async () => {
    const store = createMemoryStore();
    const sync = syncModule(store, systemClock);
    const repository = await addPeer(store);
    const job = await addSchedule(store, repository.uuid, 1);
    const scheduler = sync.createScheduler();
    await scheduler.start();
    try {
      // A loaded machine may fire a tick too late to claim it; the next one then runs.
      const deadline = Date.now() + 10_000;
      while ((await store.listRuns({ job })).every((run) => run.status === 'running') && Date.now() < deadline) await sleep(25);
    } finally {
      // Stopped first, so that no later tick of this process is claimed while the test looks.
      await scheduler.stop();
    }
    const [run] = await store.listRuns({ job });
    assert.ok(run && run.status !== 'running', 'the scheduled run finished');
    assert.ok(await store.getLease(tickLeaseName(job)), 'the tick was claimed in the store');

    await sync.tasks.removeSchedule(repository.uuid);
    assert.equal(await store.getLease(tickLeaseName(job)), undefined, 'the claim went with the schedule, although its window may still be open');
    assert.equal(await store.getLease(syncLeaseName(repository.uuid)), undefined);
    assert.ok(await store.getRepository(repository.uuid), 'only the schedule was removed');
  });

  it('removing a repository while its run holds the lease lets the run finish under it, and the run\'s end removes it', async () => {
    const store = createMemoryStore();
    const { clock, now, advance } = manualClock();
    const sync = syncModule(store, clock);
    const repository = await addPeer(store);
    const job = await addSchedule(store, repository.uuid, 600);
    assert.equal(await claimTick({ store, holder: HOLDER, now: now() }, job, now(), now() + 300_000), true);

    let removed!: () => void;
    const removedNow = new Promise<void>((resolve) => (removed = resolve));
    let signalDuringRun: AbortSignal | undefined;
    const running = sync.runner.runWork(repository.uuid, { trigger: 'schedule', job }, async (_repository, run, signal) => {
      signalDuringRun = signal;
      await removedNow;
      // The lease is still this run's to renew: nothing took it from under it.
      advance(30_000);
      assert.equal(await store.renewLease(syncLeaseName(repository.uuid), HOLDER, now(), 60_000), true);
      return finish(store, clock, run);
    });
    while (signalDuringRun === undefined) await sleep(1);

    await sync.repositories.remove(repository.uuid);
    assert.equal((await store.getLease(syncLeaseName(repository.uuid)))?.holder, HOLDER, 'a held run lease is not yanked');
    assert.equal(await store.getLease(tickLeaseName(job)), undefined, 'the deleted job\'s claim went at once');
    assert.equal(await store.getRepository(repository.uuid), undefined);
    removed();

    const outcome = await running;
    assert.equal(outcome.run.status, 'success');
    assert.equal(signalDuringRun.aborted, false, 'the run was never told it lost its lease');
    assert.equal(await store.getLease(syncLeaseName(repository.uuid)), undefined, 'the run\'s end removed the lease');
  });

  it('removing a repository whose last run died leaves neither its expired lease nor its claims', async () => {
    const store = createMemoryStore();
    const { clock, now, advance } = manualClock();
    const sync = syncModule(store, clock);
    const repository = await addPeer(store);
    const job = await addSchedule(store, repository.uuid, 600);
    assert.equal(await claimTick({ store, holder: 'other-host:7:dead', now: now() }, job, now(), now() + 300_000), true);
    assert.ok(await store.acquireLease(syncLeaseName(repository.uuid), 'other-host:7:dead', now(), 60_000));
    advance(60_000);

    await sync.repositories.remove(repository.uuid);
    assert.equal(await store.getLease(syncLeaseName(repository.uuid)), undefined);
    assert.equal(await store.getLease(tickLeaseName(job)), undefined);

    // Re-added under the same uuid, the repository starts clean: its first tick is claimed and run.
    await addPeer(store, repository.uuid);
    await addSchedule(store, repository.uuid, 600);
    assert.equal(await claimTick({ store, holder: HOLDER, now: now() }, job, now(), now() + 300_000), true);
  });

  it('a deletion also sweeps expired claims that earlier deletions left, and keeps open claims of live jobs', async () => {
    const store = createMemoryStore();
    const { clock, now, advance } = manualClock();
    const sync = syncModule(store, clock);
    const live = await addPeer(store, 'urn:uuid:live');
    const liveJob = await addSchedule(store, live.uuid, 600);
    const gone = await addPeer(store, 'urn:uuid:gone');
    const goneJob = await addSchedule(store, gone.uuid, 60);
    const removing = await addPeer(store, 'urn:uuid:removing');
    await addSchedule(store, removing.uuid, 600);

    await sync.repositories.remove(gone.uuid);
    // A process that had not yet noticed the deletion claims the deleted job's tick afterwards.
    assert.equal(await claimTick({ store, holder: 'slow-host:9:late', now: now() }, goneJob, now(), now() + 30_000), true);
    advance(30_000);
    assert.equal(await claimTick({ store, holder: HOLDER, now: now() }, liveJob, now(), now() + 300_000), true);

    await sync.tasks.removeSchedule(removing.uuid);
    assert.equal(await store.getLease(tickLeaseName(goneJob)), undefined, 'the stray claim of the deleted job was swept');
    assert.equal((await store.getLease(tickLeaseName(liveJob)))?.holder.startsWith(HOLDER), true, 'an open claim of a live job stays');
  });

  it('removing an Ushahidi source, or turning one of its schedules off, leaves no lease or claim of its jobs', async () => {
    const store = createMemoryStore();
    const { clock, now, advance } = manualClock();
    const sources = createUshahidiSources({
      store,
      clock,
      logger: silentLogger(),
      secrets: createSecretBox(randomBytes(32)),
      holder: HOLDER,
      leaseTtlMs: 60_000,
      engine: () => {
        throw new Error('these tests transform nothing');
      },
      importStylesheet: 'unused.xsl',
      readMapping: async () => {
        throw new Error('these tests map nothing');
      },
    });
    try {
      const input = { name: 'haiti', url: 'http://127.0.0.1:9/ushahidi', type: 'ushahidi-v5' as const, username: 'admin@example.org', password: 'secret', check: false, pollSeconds: 300, reconcileSeconds: 3600 };
      const source = await sources.add(input);
      const poll = syncJobId(source.uuid);
      const reconcile = reconcileJobId(source.uuid);
      for (const job of [poll, reconcile]) assert.equal(await claimTick({ store, holder: HOLDER, now: now() }, job, now(), now() + 150_000), true);

      await sources.add({ ...input, reconcileSeconds: 0 });
      assert.equal(await store.getJob(reconcile), undefined);
      assert.equal(await store.getLease(tickLeaseName(reconcile)), undefined, 'the reconcile claim went with its schedule');
      assert.ok(await store.getLease(tickLeaseName(poll)), 'the poll schedule and its claim stay');

      assert.ok(await store.acquireLease(syncLeaseName(source.uuid), 'other-host:7:dead', now(), 60_000));
      advance(60_000);
      await sources.remove(source.uuid);
      assert.equal(await store.getLease(tickLeaseName(poll)), undefined);
      assert.equal(await store.getLease(syncLeaseName(source.uuid)), undefined);
    } finally {
      await sources.close();
    }
  });
});
