/**
 * Compressed sync: a Sluice gateway pulls from and pushes to another through a recording proxy on
 * loopback; responses come back br, push bodies go out br, and the records are the same as a third
 * gateway gets over an uncompressed link. Compressed request bodies count against the body limit
 * once unpacked, so a decompression bomb is refused; so is one in a peer's answer.
 */
import assert from 'node:assert/strict';
import { createServer, request as httpRequest, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { brotliCompressSync, gzipSync } from 'node:zlib';
import { after, before, describe, it } from 'node:test';
import { isSluiceError } from '../../src/errors.js';
import type { PeerTransport } from '../../src/sync/transport.js';
import { compress, compressingTransport, decodingTransport, negotiateEncoding } from '../../src/transports/compression.js';
import { startTestGateway, type TestGateway } from '../support/gateway.js';
import { ADMIN, comparable, exportTable, importXml, startSyncGateway, type SyncGateway } from '../sync/support/gateways.js';
import { officesXml, organisationsXml } from '../sync/support/records-xml.js';

interface Seen {
  method: string;
  path: string;
  requestEncoding?: string;
  responseEncoding?: string;
  wireBytesIn: number;
}

/** Forwards bytes as they are and notes the encodings; `identity` strips Accept-Encoding (an old client). */
async function recordingProxy(target: string, options: { identity?: boolean } = {}): Promise<{ url: string; seen: Seen[]; close(): Promise<void> }> {
  const seen: Seen[] = [];
  const upstream = new URL(target);
  const server: Server = createServer((req, res) => {
    const headers: IncomingHttpHeaders = { ...req.headers, host: upstream.host };
    if (options.identity) delete headers['accept-encoding'];
    const entry: Seen = { method: req.method ?? 'GET', path: (req.url ?? '').split('?')[0]!, wireBytesIn: 0, ...(req.headers['content-encoding'] ? { requestEncoding: String(req.headers['content-encoding']) } : {}) };
    seen.push(entry);
    const forward = httpRequest({ host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers }, (answer) => {
      if (answer.headers['content-encoding']) entry.responseEncoding = String(answer.headers['content-encoding']);
      answer.on('data', (chunk: Buffer) => (entry.wireBytesIn += chunk.length));
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    forward.on('error', () => res.destroy());
    req.pipe(forward);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    seen,
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

async function sameRecords(left: SyncGateway, right: SyncGateway, resource: string): Promise<number> {
  const [a, b] = await Promise.all([exportTable(left, resource), exportTable(right, resource)]);
  assert.equal(a.size, b.size, `${resource}: ${a.size} vs ${b.size} records`);
  for (const [uuid, record] of a) assert.deepEqual(comparable(b.get(uuid)!), comparable(record), uuid);
  return a.size;
}

describe('compressed sync between two gateways', () => {
  let a: SyncGateway;
  let b: SyncGateway;
  let c: SyncGateway;
  let toA: Awaited<ReturnType<typeof recordingProxy>>;
  let plainToA: Awaited<ReturnType<typeof recordingProxy>>;

  before(async () => {
    [a, b, c] = await Promise.all([
      startSyncGateway({ name: 'A', domain: 'a.test' }),
      startSyncGateway({ name: 'B', domain: 'b.test' }),
      startSyncGateway({ name: 'C', domain: 'c.test' }),
    ]);
    [toA, plainToA] = await Promise.all([recordingProxy(a.url), recordingProxy(a.url, { identity: true })]);
    await importXml(a, 'org_organisation', organisationsXml('a', 5, '2024-01-01T00:00:00'));
    await importXml(a, 'org_office', officesXml('a', 0, 300, '2024-01-01T00:00:00', undefined));
    await importXml(b, 'org_organisation', organisationsXml('b', 5, '2024-01-01T00:00:00'));
    await importXml(b, 'org_office', officesXml('b', 0, 200, '2024-01-01T00:00:00', undefined));
  });

  after(async () => {
    await Promise.all([toA?.close(), plainToA?.close()]);
    await Promise.all([a?.stop(), b?.stop(), c?.stop()]);
  });

  it('pulls br-compressed answers and pushes br-compressed bodies, and ends with the same records as an uncompressed link', async () => {
    await b.sync.repositories.add({ name: 'A', url: toA.url, username: ADMIN.user, password: ADMIN.password });
    await c.sync.repositories.add({ name: 'A', url: plainToA.url, username: ADMIN.user, password: ADMIN.password });
    for (const resource of ['org_organisation', 'org_office']) {
      await b.sync.tasks.add('A', resource, { mode: 'both' });
      await c.sync.tasks.add('A', resource, { mode: 'pull' });
    }
    const compressed = await b.sync.syncNow('A', { trigger: 'cli' });
    assert.equal(compressed.run.status, 'success', compressed.run.message);
    const plain = await c.sync.syncNow('A', { trigger: 'cli' });
    assert.equal(plain.run.status, 'success', plain.run.message);

    const pulls = toA.seen.filter((entry) => entry.method === 'GET' && entry.path === '/sync/sync.xml');
    const pushes = toA.seen.filter((entry) => entry.method === 'POST' && entry.path === '/sync/sync.xml');
    assert.ok(pulls.length > 0 && pulls.every((entry) => entry.responseEncoding === 'br'), JSON.stringify(pulls));
    assert.ok(pushes.length > 0 && pushes.every((entry) => entry.requestEncoding === 'br'), JSON.stringify(pushes));
    const plainPulls = plainToA.seen.filter((entry) => entry.method === 'GET' && entry.path === '/sync/sync.xml');
    assert.ok(plainPulls.every((entry) => entry.responseEncoding === undefined));
    const wire = (entries: Seen[]) => entries.reduce((sum, entry) => sum + entry.wireBytesIn, 0);
    assert.ok(wire(pulls) * 3 < wire(plainPulls), `compressed pulls ${wire(pulls)} bytes vs ${wire(plainPulls)} plain`);

    // B pulled A's records and pushed its own: A and B now hold the same; C got A's side uncompressed.
    assert.equal(await sameRecords(a, b, 'org_office'), 500);
    await sameRecords(a, b, 'org_organisation');
    // C pulled A (which by then held B's records too) over a link without compression: the same records.
    assert.equal(await sameRecords(a, c, 'org_office'), 500);
  });
});

describe('compressed request bodies on the server', () => {
  let gateway: TestGateway;
  before(async () => {
    gateway = await startTestGateway({ env: { SLUICE_MAX_BODY: '1mb' } });
  });
  after(async () => gateway?.stop());

  const post = (body: Buffer, encoding: string) =>
    gateway.request('/org/organisation.xml', { method: 'POST', headers: { 'content-type': 'application/xml', 'content-encoding': encoding }, body: new Uint8Array(body) });

  it('accepts a gzip or br body and imports the records in it', async () => {
    const xml = Buffer.from(organisationsXml('z', 3, '2024-01-01T00:00:00'));
    for (const [encoding, body] of [['gzip', gzipSync(xml)], ['br', brotliCompressSync(xml)]] as const) {
      const response = await post(body, encoding);
      const reply = (await response.json()) as { status?: string };
      assert.equal(response.status, 200, `${encoding}: ${JSON.stringify(reply)}`);
      assert.equal(reply.status, 'success');
    }
    const listed = await gateway.request('/org/organisation.xml', { headers: { 'accept-encoding': 'identity' } });
    assert.equal((await listed.text()).match(/<resource /g)?.length, 3);
  });

  it('refuses a body that unpacks beyond the size limit (a decompression bomb) with 413, and keeps serving', async () => {
    const bomb = gzipSync(Buffer.alloc(50 * 1024 * 1024, 0x20));
    assert.ok(bomb.length < 100 * 1024);
    const response = await post(bomb, 'gzip');
    assert.equal(response.status, 413, await response.text());
    assert.equal((await gateway.request('/healthz')).status, 200);
  });

  it('compresses a large answer only for a client that accepts it', async () => {
    await importXml(gateway, 'org_office', officesXml('y', 0, 50, '2024-01-01T00:00:00', undefined));
    const raw = async (acceptEncoding: string) =>
      new Promise<{ encoding?: string; vary?: string }>((resolve, reject) => {
        const url = new URL(`${gateway.url}/org/office.xml`);
        httpRequest({ host: url.hostname, port: url.port, path: url.pathname, headers: { 'accept-encoding': acceptEncoding, authorization: `Basic ${Buffer.from(`${ADMIN.user}:${ADMIN.password}`).toString('base64')}` } }, (res) => {
          res.resume();
          res.on('end', () => resolve({ ...(res.headers['content-encoding'] ? { encoding: String(res.headers['content-encoding']) } : {}), ...(res.headers.vary ? { vary: String(res.headers.vary) } : {}) }));
        }).on('error', reject).end();
      });
    assert.equal((await raw('gzip, deflate, br')).encoding, 'br');
    assert.equal((await raw('gzip')).encoding, 'gzip');
    assert.equal((await raw('identity')).encoding, undefined);
    assert.equal((await raw('br;q=0, gzip;q=0.5')).encoding, 'gzip');
    assert.match((await raw('identity')).vary ?? '', /Accept-Encoding/i);
  });
});

describe('content-coding helpers', () => {
  it('negotiate br before gzip, honour q=0 and the wildcard', () => {
    assert.equal(negotiateEncoding('gzip, deflate, br'), 'br');
    assert.equal(negotiateEncoding('gzip;q=1, br;q=0.2'), 'gzip');
    assert.equal(negotiateEncoding('br;q=0, *'), 'gzip');
    assert.equal(negotiateEncoding('identity'), undefined);
    assert.equal(negotiateEncoding(undefined), undefined);
  });

  it('unpack a peer\'s compressed answer, and refuse one that unpacks beyond the cap', async () => {
    const xml = Buffer.from('<s3xml>' + '<resource name="org_office"/>'.repeat(1000) + '</s3xml>');
    const answering = (body: Buffer, encoding: string): PeerTransport => async (req) => {
      assert.equal(req.headers['accept-encoding'], 'br, gzip');
      return { status: 200, headers: { 'content-encoding': encoding, 'content-length': String(body.length) }, body };
    };
    const request = { method: 'GET' as const, url: 'http://peer.test/sync/sync.xml', headers: {}, timeoutMs: 1000 };
    const got = await decodingTransport(answering(compress(xml, 'br'), 'br'))(request);
    assert.deepEqual(got.body, xml);
    assert.equal(got.headers['content-encoding'], undefined);
    await assert.rejects(decodingTransport(answering(gzipSync(Buffer.alloc(10 * 1024 * 1024)), 'gzip'), { maxBytes: 1024 * 1024 })(request), (error) => isSluiceError(error) && error.code === 'PEER_RESPONSE_TOO_LARGE');
  });

  it('compress push bodies above the threshold only', async () => {
    const sent: { encoding?: string; bytes: number }[] = [];
    const recording: PeerTransport = async (req) => {
      sent.push({ ...(req.headers['content-encoding'] ? { encoding: req.headers['content-encoding'] } : {}), bytes: req.body?.length ?? 0 });
      return { status: 200, headers: {}, body: Buffer.alloc(0) };
    };
    const transport = compressingTransport(recording, { coding: 'gzip' });
    await transport({ method: 'POST', url: 'http://peer.test/sync/sync.xml', headers: {}, body: Buffer.from('<s3xml/>'), timeoutMs: 1000 });
    await transport({ method: 'POST', url: 'http://peer.test/sync/sync.xml', headers: {}, body: Buffer.alloc(100_000, 0x61), timeoutMs: 1000 });
    assert.deepEqual(sent[0], { bytes: 8 });
    assert.equal(sent[1]!.encoding, 'gzip');
    assert.ok(sent[1]!.bytes < 1000);
  });
});
