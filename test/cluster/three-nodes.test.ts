/**
 * Three gateway processes (one `sluice start`, two `sluice worker`) on one MongoDB-compatible store
 * (DocumentDB via tools/mongodb-test-server, or SLUICE_TEST_MONGODB_URL) with ten scheduled sync
 * jobs: nine against fake Eden instances, one against a Sluice peer behind a proxy that can make it
 * slow. The schedule is simulated by a short interval: every job every TICK_SECONDS for OBSERVE_MS
 * (eight ticks; at Eden's default of 600 s that is 80 minutes of schedule), checked against the
 * shared run history. Then the node running the slow job is killed with SIGKILL half-way through
 * its pull, and another node must finish it from the last committed page.
 *
 * All nodes run on this host, so the survivor sees at once that the holder's pid is gone and takes
 * the lease over without waiting for it to expire (lease.ts); between hosts it would wait for the
 * lease's expiry, which test/sync/lease.test.ts covers.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { ensureIdentity } from '../../src/gateway-identity.js';
import { silentLogger } from '../../src/logger.js';
import { systemClock } from '../../src/s3xml/timestamps.js';
import { openMongoStore } from '../../src/store/mongodb-store.js';
import type { RunRecord, Store, SyncTaskRecord } from '../../src/store/store.js';
import { checkpointId, readCheckpoint, type PullCheckpoint } from '../../src/sync/checkpoints.js';
import { createSyncRuntime, type SyncRuntime } from '../../src/sync/runtime.js';
import { startTestMongo, type TestMongo } from '../../tools/mongodb-test-server/server.js';
import { createFakeEden, EDEN_ADMIN, type FakeEden } from '../fakes/fake-eden/index.js';
import { createFaultProxy, type FaultProxy } from '../sync/support/fault-proxy.js';
import { ADMIN, importXml, startSyncGateway, type SyncGateway } from '../sync/support/gateways.js';
import { organisationsXml } from '../sync/support/records-xml.js';
import { holderPid, spawnNode, type ClusterNode } from './support/nodes.js';
import { dropDatabase, mongoUrlWithDatabase } from '../sync/support/mongo-databases.js';

const TICK_SECONDS = 5;
const TICK_MS = TICK_SECONDS * 1000;
const EDEN_PEERS = 9;
const RECORDS_PER_EDEN = 5;
const SLOW_RECORDS = 3000;
/** The gateway's pull page size (sync-module DEFAULT_PAGE_SIZE): a commit every PAGE records. */
const PAGE = 1000;
const OBSERVE_MS = 40_000;

async function waitFor<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined | false>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

/** Run start times are stored to the second (UTC, no zone). */
function startedMs(run: RunRecord): number {
  return Date.parse(`${run.started_at}Z`);
}

function finishedMs(run: RunRecord): number {
  return Date.parse(`${run.finished_at!}Z`);
}

/** Ticks sit on a grid from the epoch, and a run starts in its tick's second or shortly after. */
function tickOf(run: RunRecord): number {
  return Math.floor(startedMs(run) / TICK_MS) * TICK_MS;
}

describe('three gateway nodes on one MongoDB-compatible store', { timeout: 180_000 }, () => {
  let mongo: TestMongo | undefined;
  let store: Store;
  let runtime: SyncRuntime;
  let workDir: string;
  const edens: FakeEden[] = [];
  let peer: SyncGateway;
  let proxy: FaultProxy;
  let slowUuid: string;
  let slowTask: SyncTaskRecord;
  const nodes: ClusterNode[] = [];
  const database = `sluice_cluster_${process.pid}`;
  let storeUrl: string;

  before(async () => {
    // A node killed mid-page leaves its transaction open, holding row locks, until the server
    // gives up on it: mongod after transactionLifetimeLimitSeconds (60 s by default); the test
    // server is told 5 s, as one would set that parameter, so the survivor need not wait a minute.
    mongo = await startTestMongo({ transactionLifetimeMs: 5000 });
    storeUrl = mongoUrlWithDatabase(mongo.url, database);
    store = await openMongoStore({ url: storeUrl });
    workDir = await mkdtemp(path.join(os.tmpdir(), 'sluice-cluster-'));
    const secretKey = randomBytes(32).toString('hex');
    const identity = await ensureIdentity(store, 'cluster');
    runtime = createSyncRuntime({ store, config: { dataDir: workDir, secretKey, domain: 'cluster.test' }, logger: silentLogger(), clock: systemClock, identity });
    const { repositories, tasks } = runtime.sync;

    for (let i = 0; i < EDEN_PEERS; i++) {
      const eden = await createFakeEden({ configUuid: `urn:uuid:eden-peer-${i}` });
      edens.push(eden);
      for (let j = 0; j < RECORDS_PER_EDEN; j++) eden.state.upsert('org_organisation', { name: `Eden ${i} organisation ${j}` });
      await repositories.add({ name: `eden-${i}`, url: eden.url, username: EDEN_ADMIN.email, password: EDEN_ADMIN.password });
      await tasks.add(`eden-${i}`, 'org_organisation', { mode: 'pull' });
      await tasks.setSchedule(`eden-${i}`, { interval_seconds: TICK_SECONDS });
    }
    peer = await startSyncGateway({ name: 'slow peer', domain: 'slow.test' });
    proxy = await createFaultProxy(peer.url);
    const slow = await repositories.add({ name: 'slow', url: proxy.url, username: ADMIN.user, password: ADMIN.password });
    slowUuid = slow.uuid;
    slowTask = await tasks.add('slow', 'org_organisation', { mode: 'pull' });
    await tasks.setSchedule('slow', { interval_seconds: TICK_SECONDS });

    // Every node must read the peers' passwords: one secret key for the cluster.
    const env = { SLUICE_SECRET_KEY: secretKey, SLUICE_DOMAIN: 'cluster.test', SLUICE_LOG_LEVEL: 'info' };
    nodes.push(
      ...(await Promise.all([
        spawnNode({ name: 'node-1', kind: 'start', store: storeUrl, env }),
        spawnNode({ name: 'node-2', kind: 'worker', store: storeUrl, env }),
        spawnNode({ name: 'node-3', kind: 'worker', store: storeUrl, env }),
      ])),
    );
  });

  after(async () => {
    await Promise.allSettled(nodes.map((node) => node.stop()));
    await runtime?.close();
    await store?.close();
    await Promise.allSettled([...edens.map((eden) => eden.close()), proxy?.close(), peer?.stop()]);
    if (mongo) await dropDatabase(mongo.url, database);
    await mongo?.stop();
    if (workDir) await rm(workDir, { recursive: true, force: true });
  });

  it('run every tick of ten scheduled jobs exactly once between them, then finish the run of a node killed half-way from its last committed page', async (t) => {
    const began = Date.now();
    const mark = (what: string) => t.diagnostic(`${what} after ${((Date.now() - began) / 1000).toFixed(1)} s`);
    await Promise.all(nodes.map((node) => node.ready));
    mark('three nodes up');
    const upAt = Date.now();
    await sleep(OBSERVE_MS);
    const observedUntil = Date.now();

    // Exactly once per tick, from the shared run history.
    const jobs = await store.listJobs();
    assert.equal(jobs.length, EDEN_PEERS + 1);
    const firstTick = Math.ceil(upAt / TICK_MS) * TICK_MS;
    // A tick's run starts within a second or two of it (more on a loaded machine): the ticks of the
    // last seconds may not have a run in the history yet, and the runs of the others may still be going.
    const lastTick = Math.floor((observedUntil - 2 * TICK_MS) / TICK_MS) * TICK_MS;
    const scheduledRuns = async () => (await store.listRuns({ limit: 5000 })).filter((run) => run.trigger === 'schedule');
    await waitFor('the runs of the observed ticks to end', 60_000, async () => (await scheduledRuns()).every((run) => tickOf(run) > lastTick || run.status !== 'running'));
    const runs = await scheduledRuns();
    mark('observed ticks ended');
    assert.ok(lastTick - firstTick >= 4 * TICK_MS, `observed ${(lastTick - firstTick) / TICK_MS + 1} ticks only`);
    const nodePids = new Set(nodes.map((node) => node.pid));
    const problems: string[] = [];
    let ticksSeen = 0;
    let ticksSkipped = 0;
    for (const job of jobs) {
      const own = runs.filter((run) => run.job === job.id).sort((a, b) => a.started_at.localeCompare(b.started_at));
      const perTick = new Map<number, RunRecord[]>();
      for (const run of own) perTick.set(tickOf(run), [...(perTick.get(tickOf(run)) ?? []), run]);
      for (const [tick, inTick] of perTick) {
        if (inTick.length > 1) problems.push(`${job.target}: ${inTick.length} runs in the tick at ${new Date(tick).toISOString()}`);
      }
      for (let tick = firstTick; tick <= lastTick; tick += TICK_MS) {
        ticksSeen += 1;
        if (perTick.has(tick)) continue;
        // A tick that comes while the job's previous run is still going is skipped, not run alongside.
        const stillRunning = own.some((run) => startedMs(run) < tick && (run.finished_at === undefined || finishedMs(run) >= tick));
        if (stillRunning) ticksSkipped += 1;
        else problems.push(`${job.target}: no run in the tick at ${new Date(tick).toISOString()}`);
      }
      for (let i = 1; i < own.length; i++) {
        if (own[i - 1]!.finished_at === undefined || own[i - 1]!.finished_at! > own[i]!.started_at) problems.push(`${job.target}: runs ${own[i - 1]!.id} and ${own[i]!.id} overlap`);
      }
      for (const run of own.filter((candidate) => tickOf(candidate) <= lastTick)) {
        if (run.status !== 'success') problems.push(`${job.target}: run ${run.id} ended ${run.status}: ${run.message ?? ''}`);
        if (!nodePids.has(holderPid(run.holder) ?? -1)) problems.push(`${job.target}: run ${run.id} held by ${run.holder}, not one of the nodes`);
      }
    }
    const timeline = () =>
      runs
        .filter((run) => run.repository === jobs[0]!.target || problems.some((problem) => problem.startsWith(`${run.repository}:`)))
        .map((run) => `${run.repository} ${run.started_at}..${run.finished_at ?? ''} ${run.status} pid ${holderPid(run.holder)}`)
        .sort()
        .join('\n');
    assert.deepEqual(problems.slice(0, 10), [], `${problems.length} problems; first tick ${new Date(firstTick).toISOString()}, last ${new Date(lastTick).toISOString()}\n${timeline()}`);
    t.diagnostic(`${ticksSeen - ticksSkipped} of ${ticksSeen} job ticks ran, ${ticksSkipped} skipped while the job's previous run was still going`);
    assert.ok(ticksSkipped <= ticksSeen / 2, `${ticksSkipped} of ${ticksSeen} ticks skipped because the previous run was still going`);
    const holders = new Set(runs.map((run) => holderPid(run.holder)));
    assert.ok(holders.size >= 2, `the jobs were shared out: runs by ${[...holders].join(', ')}`);
    const edenRecords = EDEN_PEERS * RECORDS_PER_EDEN;
    assert.equal(await store.countRecords({ resource: 'org_organisation' }), edenRecords);

    // The slow job: 3000 records on the peer, every page held back by the proxy.
    await importXml(peer, 'org_organisation', organisationsXml('slow', SLOW_RECORDS, '2024-01-01T00:00:00'));
    proxy.plan((request) => request.method === 'GET' && request.path.endsWith('/sync/sync.xml'), { kind: 'stall', ms: 2500 }, 1000);
    await waitFor('the first page of the slow run to commit', 60_000, async () => (await store.countRecords({ resource: 'org_organisation' })) > edenRecords);
    mark('first page of the slow run committed');
    const running = await waitFor('the slow run in the history', 10_000, async () => (await store.listRuns({ repository: slowUuid, status: 'running' }))[0]);
    const victim = nodes.find((node) => node.pid === holderPid(running.holder));
    assert.ok(victim, `the slow run is held by ${running.holder}`);
    await victim.kill();
    const killedAt = Date.now();
    const requestsBeforeKill = proxy.requests.length;
    const committed = (await store.countRecords({ resource: 'org_organisation' })) - edenRecords;
    assert.ok(committed > 0 && committed < SLOW_RECORDS && committed % PAGE === 0, `whole pages only: ${committed} records were committed when the node died`);
    const checkpoint = await readCheckpoint<PullCheckpoint>(store, checkpointId(slowTask, 'pull', 'sluice'));
    assert.ok(checkpoint.seq !== undefined && checkpoint.seq > 0, JSON.stringify(checkpoint));

    const finished = await waitFor('another node to finish the slow run', 90_000, async () => {
      const done = (await store.listRuns({ repository: slowUuid, limit: 20 })).find((run) => run.status === 'success' && startedMs(run) >= killedAt - 1000);
      return done;
    }).catch(async (error: Error) => {
      const slowRuns = await store.listRuns({ repository: slowUuid, limit: 10 });
      const log = await store.listLog({ repository: slowUuid, limit: 10 });
      error.message += `\nkilled ${victim.pid} at ${new Date(killedAt).toISOString()}\n${JSON.stringify(slowRuns.map((run) => [run.started_at, run.status, run.holder, run.message, run.counts]))}\n${JSON.stringify(log)}`;
      throw error;
    });
    mark('slow run finished by another node');
    const survivor = nodes.find((node) => node.pid === holderPid(finished.holder));
    assert.ok(survivor && survivor !== victim, `finished by ${finished.holder}`);
    const killedRun = await store.getRun(running.id);
    assert.equal(killedRun?.status, 'interrupted', 'the run of the dead node is marked interrupted, not left running');

    // Nothing lost, nothing applied twice: the rest of the records came over once, as creations.
    assert.equal(await store.countRecords({ resource: 'org_organisation' }), edenRecords + SLOW_RECORDS);
    assert.equal(finished.counts.pull_created, SLOW_RECORDS - committed, JSON.stringify(finished.counts));
    assert.equal(finished.counts.pull_updated ?? 0, 0, JSON.stringify(finished.counts));
    const resumedAt = proxy.requests.slice(requestsBeforeKill).find((request) => request.method === 'GET' && request.path.endsWith('/sync/sync.xml'));
    assert.equal(resumedAt?.query.get('since_seq'), String(checkpoint.seq), 'the new run asked for the first page not committed');
    // The survivors carried on with the other jobs meanwhile.
    const after = (await store.listRuns({ limit: 5000 })).filter((run) => run.trigger === 'schedule' && startedMs(run) > killedAt && run.repository !== slowUuid);
    assert.ok(after.length >= EDEN_PEERS, `${after.length} runs of the other jobs after the kill`);
    assert.ok(after.every((run) => holderPid(run.holder) !== victim.pid));
  });
});
