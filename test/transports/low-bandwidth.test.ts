/**
 * Low-bandwidth sync between in-process gateways on real sockets: S3JSON on the wire gives the
 * same stores as S3XML; the repository options are validated (S3JSON refused for Eden peers,
 * page sizes in range); a pull and a push cut half-way resume without asking for or sending the
 * completed pages again; records just pulled from a peer are not pushed back to it.
 */
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { DEFAULT_RETRY_POLICY } from '../../src/net/retry.js';
import { checkpointId } from '../../src/sync/checkpoints.js';
import { echoCheckpointId } from '../../src/transports/echo-suppression.js';
import { createFaultProxy, type FaultProxy, type ProxiedRequest } from '../sync/support/fault-proxy.js';
import { ADMIN, comparable, exportTable, FAST_SYNC, importXml, startSyncGateway, type SyncGateway } from '../sync/support/gateways.js';
import { deletionsXml, officesXml, officeUuid, officeXml, organisationsXml } from '../sync/support/records-xml.js';
import { createWireProxy, type WireExchange, type WireProxy } from './support/wire-proxy.js';

/** Retries off: a cut ends the run, so the next run has to resume. */
const NO_RETRY = { ...FAST_SYNC, retry: { ...FAST_SYNC.retry, policy: { ...DEFAULT_RETRY_POLICY, maxAttempts: 1 } } };

async function assertSameTables(left: SyncGateway, right: SyncGateway, what: string): Promise<void> {
  for (const resource of ['org_organisation', 'org_office']) {
    const [a, b] = await Promise.all([exportTable(left, resource), exportTable(right, resource)]);
    assert.equal(a.size, b.size, `${what}, ${resource}: ${a.size} against ${b.size} records`);
    const differing = [...a].filter(([uuid, record]) => JSON.stringify(comparable(record)) !== JSON.stringify(comparable(b.get(uuid)!))).map(([uuid]) => uuid);
    assert.deepEqual(differing.slice(0, 5), [], `${what}, ${resource}: ${differing.length} records differ`);
  }
}

function officesIn(exchange: WireExchange): string[] {
  return [...exchange.requestText.matchAll(/<resource name="org_office" uuid="([^"]+)"/g)].map((match) => match[1]!);
}

describe('repository options for low bandwidth', () => {
  let gateway: SyncGateway;

  before(async () => {
    gateway = await startSyncGateway({ name: 'options', domain: 'options.test' });
  });

  after(async () => {
    await gateway?.stop();
  });

  it('refuses S3JSON for an Eden peer with a clear error and checks page sizes and caps', async () => {
    const at = '2024-01-01T00:00:00';
    await gateway.store.putRepository({ uuid: 'urn:uuid:eden-peer', name: 'eden', apitype: 'eden', url: 'http://127.0.0.1:9/eden', config: { software: 'eden', accept_push: true }, created_at: at, updated_at: at });
    await assert.rejects(gateway.sync.repositories.update('eden', { wire_format: 's3json' }), (error: { code?: string; message?: string }) => {
      assert.equal(error.code, 'WIRE_FORMAT_UNSUPPORTED');
      assert.match(error.message!, /Eden instance: it syncs in S3XML only/);
      return true;
    });

    const refused = await gateway.request('/api/repositories/eden', { method: 'PATCH', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ wire_format: 's3json' }) });
    assert.equal(refused.status, 400);
    assert.match(await refused.text(), /WIRE_FORMAT_UNSUPPORTED/);
    for (const body of [{ page_size: 0 }, { page_size: 20_000 }, { page_size: 1.5 }, { max_bytes_per_second: 10 }, { wire_format: 'csv' }]) {
      const response = await gateway.request('/api/repositories/eden', { method: 'PATCH', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
      assert.equal(response.status, 400, JSON.stringify(body));
    }

    const changed = await gateway.request('/api/repositories/eden', { method: 'PATCH', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ page_size: 250, max_bytes_per_second: 2400 }) });
    assert.equal(changed.status, 200);
    const view = (await changed.json()) as Record<string, unknown>;
    assert.deepEqual([view.wire_format, view.page_size, view.max_bytes_per_second], ['s3xml', 250, 2400]);
    const cleared = (await (await gateway.request('/api/repositories/eden', { method: 'PATCH', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ page_size: null }) })).json()) as Record<string, unknown>;
    assert.equal(cleared.page_size, undefined);
    assert.equal(cleared.max_bytes_per_second, 2400, 'other options stay');
  });

  it('refuses a bad option when adding a peer before any credential is sent to it', async () => {
    const requests: string[] = [];
    const peer = createServer((req, res) => {
      requests.push(`${req.method} ${req.url}`);
      if (req.url?.startsWith('/sync/config.json')) {
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify({ uuid: 'urn:uuid:careful-peer', name: 'careful' }));
        return;
      }
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ status: 'success', statuscode: '200', sender: 'urn:uuid:careful-peer' }));
    });
    await new Promise<void>((resolve) => peer.listen(0, '127.0.0.1', resolve));
    try {
      const url = `http://127.0.0.1:${(peer.address() as AddressInfo).port}`;
      await assert.rejects(gateway.sync.repositories.add({ name: 'careful', url, username: 'u', password: 'p', page_size: 0 }), { code: 'BAD_REPOSITORY' });
      assert.deepEqual(requests.filter((request) => !request.startsWith('GET /sync/config.json')), [], 'only the fingerprint was read');
      assert.equal(await gateway.store.getRepository('urn:uuid:careful-peer'), undefined);
    } finally {
      await new Promise((resolve) => peer.close(resolve));
    }
  });
});

describe('S3JSON on the wire between Sluice peers', { timeout: 120_000 }, () => {
  const gateways: SyncGateway[] = [];
  let gzipProxy: WireProxy;

  after(async () => {
    await gzipProxy?.close();
    await Promise.all(gateways.map((gateway) => gateway.stop()));
  });

  async function pair(wireFormat: 's3xml' | 's3json', via?: (peer: SyncGateway) => Promise<string>): Promise<{ peer: SyncGateway; local: SyncGateway }> {
    const peer = await startSyncGateway({ name: `peer ${wireFormat}`, domain: 'peer.test' });
    const local = await startSyncGateway({ name: `local ${wireFormat}`, domain: 'local.test' });
    gateways.push(peer, local);
    await importXml(peer, 'org_organisation', organisationsXml('p', 20, '2024-01-01T00:00:00'));
    await importXml(peer, 'org_office', officesXml('p', 0, 300, '2024-01-01T00:00:00'));
    await importXml(peer, 'org_office', deletionsXml('org_office', [officeUuid('p', 1), officeUuid('p', 2)], '2024-01-02T00:00:00'));
    await importXml(local, 'org_organisation', organisationsXml('l', 20, '2024-01-01T00:00:00'));
    await importXml(local, 'org_office', officesXml('l', 0, 200, '2024-01-03T00:00:00'));
    const url = via ? await via(peer) : peer.url;
    await local.sync.repositories.add({ name: 'peer', url, username: ADMIN.user, password: ADMIN.password, wire_format: wireFormat, page_size: 70 });
    for (const resource of ['org_organisation', 'org_office']) await local.sync.tasks.add('peer', resource, { mode: 'both' });
    const { run } = await local.sync.syncNow('peer');
    assert.equal(run.status, 'success', run.message);
    return { peer, local };
  }

  it('gives the same stores as S3XML, with gzip answers and br pushes', async () => {
    const plain = await pair('s3xml');
    const json = await pair('s3json', async (peer) => {
      gzipProxy = await createWireProxy(peer.url, { requestHeaders: { 'accept-encoding': 'gzip' } });
      return gzipProxy.url;
    });
    await assertSameTables(plain.local, json.local, 'the pulling gateways');
    await assertSameTables(plain.peer, json.peer, 'the peers');
    assert.equal((await exportTable(json.peer, 'org_office')).size, 500, 'the peer has its 300 offices and the 200 pushed');

    const pulls = gzipProxy.exchanges.filter((exchange) => exchange.method === 'GET' && exchange.path.startsWith('/sync/sync.'));
    const pushes = gzipProxy.exchanges.filter((exchange) => exchange.method === 'POST' && exchange.path.startsWith('/sync/sync.'));
    assert.ok(pulls.length >= 300 / 70, `${pulls.length} pulls: pages of 70 changes`);
    assert.ok(pulls.every((exchange) => exchange.path === '/sync/sync.s3json' && exchange.query.get('limit') === '70'));
    assert.ok(pulls.some((exchange) => exchange.responseEncoding === 'gzip'), 'the pages came gzip-compressed');
    assert.ok(pushes.length > 0 && pushes.every((exchange) => exchange.path === '/sync/sync.s3json'));
    assert.ok(pushes.some((exchange) => exchange.requestEncoding === 'br'));
    const pushed = pushes.map((exchange) => JSON.parse(exchange.requestText) as Record<string, unknown>);
    assert.ok(pushed.some((document) => Array.isArray(document.$_org_office)), 'the pushes carried S3JSON');
  });
});

describe('resuming a transfer cut half-way', { timeout: 120_000 }, () => {
  const OFFICES = 1000;
  const PAGE = 200;
  let peer: SyncGateway;
  let local: SyncGateway;
  let wire: WireProxy;
  let faults: FaultProxy;

  before(async () => {
    peer = await startSyncGateway({ name: 'peer', domain: 'peer.test' });
    await importXml(peer, 'org_organisation', organisationsXml('p', 20, '2024-01-01T00:00:00'));
    await importXml(peer, 'org_office', officesXml('p', 0, OFFICES, '2024-01-01T00:00:00'));
    wire = await createWireProxy(peer.url);
    faults = await createFaultProxy(wire.url);
    local = await startSyncGateway({ name: 'local', domain: 'local.test', overrides: NO_RETRY });
    await local.sync.repositories.add({ name: 'peer', url: faults.url, username: ADMIN.user, password: ADMIN.password, page_size: PAGE });
    await local.sync.tasks.add('peer', 'org_office', { mode: 'pull' });
  });

  after(async () => {
    await faults?.close();
    await wire?.close();
    await Promise.all([local?.stop(), peer?.stop()]);
  });

  /** The n-th request from now on (1-based) that `select` accepts. */
  function nth(select: (request: ProxiedRequest) => boolean, n: number): (request: ProxiedRequest) => boolean {
    const seen = faults.requests.filter(select).length;
    return (request) => select(request) && faults.requests.filter(select).indexOf(request) === seen + n - 1;
  }
  const isPull = (request: { method: string; path: string }) => request.method === 'GET' && request.path === '/sync/sync.xml';
  const isPush = (request: { method: string; path: string }) => request.method === 'POST' && request.path === '/sync/sync.xml';

  it('pull: the next run asks only for the pages that were not committed', async () => {
    faults.plan(nth(isPull, 3), { kind: 'cut' });
    const cut = await local.sync.syncNow('peer');
    assert.equal(cut.run.status, 'error', 'the cut ends the run (retries are off here)');
    const committed = await local.store.countRecords({ resource: 'org_office' });
    assert.ok(committed > 0 && committed < OFFICES && committed % PAGE === 0, `${committed} offices committed in whole pages`);
    const [task] = await local.store.listTasks();
    const checkpoint = (await local.store.getCheckpoint(checkpointId(task!, 'pull', 'sluice')))!.value as { seq: number };

    const firstRun = wire.exchanges.length;
    const resumed = await local.sync.syncNow('peer');
    assert.equal(resumed.run.status, 'success', resumed.run.message);
    assert.equal(await local.store.countRecords({ resource: 'org_office' }), OFFICES);
    assert.equal(resumed.run.counts.pull_created, OFFICES - committed, 'nothing committed is created again');
    assert.equal(resumed.run.counts.pull_updated ?? 0, 0);
    const again = wire.exchanges.slice(firstRun).filter(isPull);
    assert.deepEqual(again.map((exchange) => Number(exchange.query.get('since_seq'))).filter((seq) => seq < checkpoint.seq), [], 'no page below the checkpoint is asked for');
    assert.equal(Number(again[0]!.query.get('since_seq')), checkpoint.seq);
    assert.equal(again.length, Math.ceil((OFFICES - committed) / PAGE), 'one request per page not yet committed');
  });

  it('push: the next run sends only pages the peer did not acknowledge, and never the records pulled from it', async () => {
    await importXml(local, 'org_organisation', organisationsXml('l', 20, '2024-02-01T00:00:00'));
    await importXml(local, 'org_office', officesXml('l', 0, 3 * PAGE, '2024-02-01T00:00:00'));
    const [task] = await local.store.listTasks();
    await local.sync.tasks.update(task!.id, { mode: 'both' });

    const before = wire.exchanges.length;
    faults.plan(nth(isPush, 2), { kind: 'cut' });
    const cut = await local.sync.syncNow('peer');
    assert.equal(cut.run.status, 'error', cut.run.message);
    const firstPushes = wire.exchanges.slice(before).filter(isPush);
    assert.equal(firstPushes.length, 2, 'the first page was acknowledged, the second reached the peer but its answer was cut');

    const middle = wire.exchanges.length;
    const resumed = await local.sync.syncNow('peer');
    assert.equal(resumed.run.status, 'success', resumed.run.message);
    const secondPushes = wire.exchanges.slice(middle).filter(isPush);
    const acknowledged = new Set(officesIn(firstPushes[0]!));
    const resent = secondPushes.flatMap(officesIn);
    assert.equal(acknowledged.size, PAGE);
    assert.deepEqual(resent.filter((uuid) => acknowledged.has(uuid)), [], 'the acknowledged page is not sent again');
    assert.equal(resent.length, 2 * PAGE, 'the unacknowledged page and the last one');

    const everything = wire.exchanges.slice(before).filter(isPush).flatMap(officesIn);
    assert.deepEqual(everything.filter((uuid) => uuid.includes(':p-office-')), [], 'records pulled from the peer never went back to it');
    assert.equal(await peer.store.countRecords({ resource: 'org_office' }), OFFICES + 3 * PAGE);
  });

  it('push: a pulled record changed here afterwards is sent back, alone', async () => {
    await importXml(local, 'org_office', `<s3xml>${officeXml('p', 5, '2024-03-01T00:00:00', 'Renamed here')}</s3xml>`);
    const before = wire.exchanges.length;
    const { run } = await local.sync.syncNow('peer');
    assert.equal(run.status, 'success', run.message);
    const sent = wire.exchanges.slice(before).filter(isPush).flatMap(officesIn);
    assert.deepEqual(sent, [officeUuid('p', 5)]);
    const [record] = await peer.store.findByUuid(officeUuid('p', 5));
    assert.ok(record!.data.some((data) => data.field === 'name' && data.text === 'Renamed here'));
  });

  it('forgets what was pulled from a peer when the repository is removed', async () => {
    const peerUuid = (await local.sync.repositories.resolve('peer')).uuid;
    assert.ok(await local.store.getCheckpoint(echoCheckpointId(peerUuid)));
    await local.sync.repositories.remove('peer');
    assert.equal(await local.store.getCheckpoint(echoCheckpointId(peerUuid)), undefined);
  });
});
