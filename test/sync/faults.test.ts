/**
 * Failures on real sockets between a pulling gateway and a Sluice peer (a scripted proxy in the
 * middle): a body cut half-way, three 500s then success, a stall past the timeout, a 4xx that is
 * not retried, and the puller killed with SIGKILL in the middle of a pull and started again.
 * Each ends with nothing lost, nothing applied twice, and a log that says what happened.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import { openSqliteStore } from '../../src/store/sqlite-store.js';
import { checkpointId } from '../../src/sync/checkpoints.js';
import { createFaultProxy, type FaultProxy, type ProxiedRequest } from './support/fault-proxy.js';
import { ADMIN, FAST_SYNC, importXml, startCli, startSyncGateway, type SyncGateway } from './support/gateways.js';
import { officesXml, organisationsXml } from './support/records-xml.js';

const RECORDS = 1000;
const ORGANISATIONS = 20;
const PAGE = 200;

const isPull = (request: ProxiedRequest) => request.method === 'GET' && request.path === '/sync/sync.xml';
/** The n-th pull request from now on (1-based). */
function nthPull(proxy: FaultProxy, n: number): (request: ProxiedRequest) => boolean {
  const before = proxy.requests.filter(isPull).length;
  return (request) => isPull(request) && proxy.requests.filter(isPull).indexOf(request) === before + n - 1;
}

describe('sync faults on real sockets', { timeout: 180_000 }, () => {
  let peer: SyncGateway;
  let proxy: FaultProxy;

  before(async () => {
    peer = await startSyncGateway({ name: 'peer', domain: 'peer.test' });
    await importXml(peer, 'org_organisation', organisationsXml('p', ORGANISATIONS, '2024-01-01T00:00:00'));
    await importXml(peer, 'org_office', officesXml('p', 0, RECORDS, '2024-01-01T00:00:00'));
    proxy = await createFaultProxy(peer.url);
  });

  after(async () => {
    await proxy?.close();
    await peer?.stop();
  });

  describe('in one run', () => {
    let puller: SyncGateway;
    const waits: number[] = [];

    beforeEach(async () => {
      waits.length = 0;
      puller = await startSyncGateway({
        name: 'puller',
        // FAST_SYNC's request timeout: a shorter one lets a loaded machine time out pages that no fault touched.
        overrides: { ...FAST_SYNC, pageSize: PAGE, retry: { sleep: async (ms) => void waits.push(ms), random: () => 0.5 } },
      });
      await puller.sync.repositories.add({ name: 'peer', url: proxy.url, username: ADMIN.user, password: ADMIN.password });
      await puller.sync.tasks.add('peer', 'org_office', { mode: 'pull' });
    });

    afterEach(async () => {
      await puller.stop();
    });

    async function assertComplete(runId: string): Promise<void> {
      assert.equal(await puller.store.countRecords({ resource: 'org_office' }), RECORDS, 'nothing lost');
      const run = (await puller.store.getRun(runId))!;
      // The offices, and the organisations they reference (sent along with the first page).
      assert.equal(run.counts.pull_created, RECORDS + ORGANISATIONS, 'each record created once');
      assert.equal(run.counts.pull_updated, 0, 'nothing applied twice');
    }

    it('retries a response cut in the middle of its body', async () => {
      proxy.plan(nthPull(proxy, 3), { kind: 'cut' });
      const { run } = await puller.sync.syncNow('peer');
      assert.equal(run.status, 'success', run.message);
      await assertComplete(run.id);
      const log = await puller.store.listLog({ run_id: run.id });
      const retry = log.find((entry) => entry.action === 'retry');
      assert.match(retry!.message, /pull org_office attempt 1 failed \(PEER_UNAVAILABLE/);
      assert.ok(run.captures.some((capture) => capture.error?.startsWith('PEER_UNAVAILABLE')), 'the failed exchange is in the run history');
    });

    it('retries three 500s with backoff, honours Retry-After, and succeeds on the fourth attempt', async () => {
      proxy.plan(nthPull(proxy, 2), { kind: 'status', status: 500 });
      proxy.plan(nthPull(proxy, 3), { kind: 'status', status: 500 });
      proxy.plan(nthPull(proxy, 4), { kind: 'status', status: 503, headers: { 'retry-after': '2' } });
      const { run } = await puller.sync.syncNow('peer');
      assert.equal(run.status, 'success', run.message);
      await assertComplete(run.id);
      const retries = (await puller.store.listLog({ run_id: run.id })).filter((entry) => entry.action === 'retry');
      assert.equal(retries.length, 3);
      assert.match(retries.at(-1)!.message, /HTTP 500/);
      assert.deepEqual(waits.slice(0, 3), [125, 250, 2000], 'jittered exponential backoff, then the server\'s Retry-After');
    });

    it('retries a peer that stalls past the timeout', async () => {
      // Held with no answer at all: a stall of fixed length may end before a late timeout fires.
      proxy.plan(nthPull(proxy, 2), { kind: 'hold' });
      const { run } = await puller.sync.syncNow('peer');
      const held = await proxy.held(); // taken off the proxy's queue, so a later test waits for its own
      assert.equal(held.fault, 'hold');
      assert.equal(run.status, 'success', run.message);
      await assertComplete(run.id);
      const retry = (await puller.store.listLog({ run_id: run.id })).find((entry) => entry.action === 'retry');
      assert.match(retry!.message, /PEER_TIMEOUT/);
    });

    it('does not retry a 4xx, and the next run resumes from the last committed page', async () => {
      proxy.plan(nthPull(proxy, 3), { kind: 'status', status: 400, body: '{"status":"failed","statuscode":"400","message":"Invalid request"}' });
      const failed = await puller.sync.syncNow('peer');
      assert.equal(failed.run.status, 'error');
      assert.equal(proxy.requests.filter((request) => request.fault === 'status' && request.status === 400).length, 1, 'asked once, not retried');
      const committed = await puller.store.countRecords({ resource: 'org_office' });
      assert.equal(committed, 2 * PAGE, 'two pages were committed before the refusal');
      const [entry] = await puller.store.listLog({ run_id: failed.run.id, result: 'error' });
      assert.match(entry!.message, /PEER_HTTP_ERROR: pull org_office: HTTP 400 Invalid request/);
      assert.equal(entry!.remote, true);

      const pullsBefore = proxy.requests.filter(isPull).length;
      const resumed = await puller.sync.syncNow('peer');
      assert.equal(resumed.run.status, 'success', resumed.run.message);
      assert.equal(resumed.run.counts.pull_created, RECORDS - 2 * PAGE);
      assert.equal(resumed.run.counts.pull_updated, 0);
      const refused = proxy.requests.find((request) => request.status === 400)!;
      const firstOfResumed = proxy.requests.filter(isPull)[pullsBefore]!;
      assert.equal(firstOfResumed.query.get('since_seq'), refused.query.get('since_seq'), 'it asks again for the refused page, not for committed ones');
      assert.equal(await puller.store.countRecords({ resource: 'org_office' }), RECORDS);
    });
  });

  it('a puller killed with SIGKILL in the middle of a pull resumes from its last committed page when started again', async () => {
    const dataDir = await mkdtemp(path.join(os.tmpdir(), 'sluice-killed-'));
    try {
      const setup = await startSyncGateway({ name: 'killed puller', dataDir });
      await setup.sync.repositories.add({ name: 'peer', url: proxy.url, username: ADMIN.user, password: ADMIN.password });
      await setup.sync.tasks.add('peer', 'org_office', { mode: 'pull' });
      await setup.stop();

      // 3000 records, pulled by the CLI in pages of 1000 (the next page is asked for while one is
      // imported): the third request is held until the process is killed, so at least the first
      // page has been committed and the second may be half-way.
      await importXml(peer, 'org_office', officesXml('p', RECORDS, 3 * RECORDS, '2024-01-02T00:00:00'));
      const total = 3 * RECORDS;
      proxy.plan(nthPull(proxy, 3), { kind: 'hold' });
      const first = startCli(['sync', 'peer', '--data', dataDir]);
      const held = await Promise.race([
        proxy.held(),
        first.done.then((result) => {
          throw new Error(`the puller ended before the held page: ${result.code} ${result.stderr}`);
        }),
      ]);
      assert.equal(Number(held.query.get('since_seq')) > 0, true);
      first.child.kill('SIGKILL');
      const killed = await first.done;
      assert.equal(killed.signal, 'SIGKILL');

      const before = await openSqliteStore({ file: path.join(dataDir, 'sluice.db') });
      const committed = await before.countRecords({ resource: 'org_office' });
      assert.equal(committed % 1000, 0, 'whole pages or nothing');
      assert.ok(committed > 0 && committed < total, `${committed} records committed before the kill`);
      const [task] = await before.listTasks();
      const checkpoint = await before.getCheckpoint(checkpointId(task!, 'pull', 'sluice'));
      await before.close();

      const pullsBefore = proxy.requests.filter(isPull).length;
      const second = await startCli(['sync', 'peer', '--data', dataDir, '--json']).done;
      assert.equal(second.code, 0, second.stderr);
      const run = JSON.parse(second.stdout) as { status: string; counts: Record<string, number> };
      assert.equal(run.counts.pull_created, total - committed, 'only what was not committed is created');
      assert.equal(run.counts.pull_updated, 0);
      assert.equal(proxy.requests.filter(isPull)[pullsBefore]!.query.get('since_seq'), String(checkpoint!.value.seq), 'it asks from the last committed page');

      const store = await openSqliteStore({ file: path.join(dataDir, 'sluice.db') });
      try {
        assert.equal(await store.countRecords({ resource: 'org_office' }), total);
        const runs = await store.listRuns();
        assert.deepEqual(runs.map((r) => r.status), ['success', 'interrupted']);
        const log = await store.listLog({ limit: 50 });
        assert.ok(log.some((entry) => /was interrupted; its lease was taken over and the sync resumes from the last committed page/.test(entry.message)));
      } finally {
        await store.close();
      }
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
