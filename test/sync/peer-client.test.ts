/**
 * The peer client against a scripted node:http server on port 0: which answers are retried and
 * which are not, what Eden's answers mean, and that credentials go only where they should.
 */
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, beforeEach, describe, it } from 'node:test';
import { CaptureRecorder } from '../../src/sync/capture.js';
import { PeerClient } from '../../src/sync/peer-client.js';
import { createUndiciTransport } from '../../src/sync/undici-transport.js';

type Script = (req: IncomingMessage, res: ServerResponse) => void;

describe('the peer client', () => {
  let server: Server;
  let url: string;
  let script: Script[] = [];
  const seen: { method: string; url: string; authorization?: string }[] = [];
  const undici = createUndiciTransport();
  const waits: number[] = [];

  before(async () => {
    server = createServer((req, res) => {
      seen.push({ method: req.method!, url: req.url!, ...(req.headers.authorization ? { authorization: req.headers.authorization } : {}) });
      req.resume();
      req.on('end', () => (script.shift() ?? ((_q, r) => r.writeHead(500).end()))(req, res));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/eden`;
  });

  beforeEach(() => {
    script = [];
    seen.length = 0;
    waits.length = 0;
  });

  after(async () => {
    await undici.close();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  const client = (recorder?: CaptureRecorder) =>
    new PeerClient({
      baseUrl: `${url}/`,
      credentials: { username: 'admin@example.org', password: 'secret-password' },
      transport: undici.transport,
      timeoutMs: 2000,
      retry: { sleep: async (ms) => void waits.push(ms), random: () => 0 },
      clock: { now: () => new Date('2024-05-02T09:00:00Z') },
      ...(recorder ? { recorder } : {}),
    });
  const json = (status: number, body: unknown, headers: Record<string, string> = {}): Script => (_req, res) => {
    res.writeHead(status, { 'content-type': 'application/json', ...headers });
    res.end(JSON.stringify(body));
  };

  it('reads no fingerprint from an Eden page and sends no credentials for it', async () => {
    script = [(_req, res) => res.writeHead(404, { 'content-type': 'text/html' }).end('<h1>invalid function</h1>')];
    assert.equal(await client().fingerprint(), undefined);
    assert.equal(seen[0]!.url, '/eden/sync/config.json');
    assert.equal(seen[0]!.authorization, undefined);
  });

  it('does not retry refused credentials or a missing registration, and says which it was', async () => {
    script = [(_req, res) => res.writeHead(401, { 'www-authenticate': 'Basic realm="eden"' }).end('<html>Not Authorized</html>')];
    await assert.rejects(client().pull({ resource: 'org_office', repository: 'urn:uuid:me', filters: [], components: true }), (error: { code?: string }) => error.code === 'PEER_AUTH_FAILED');
    assert.equal(seen.length, 1);
    script = [json(403, { status: 'failed', statuscode: '403', message: 'Registration required' })];
    await assert.rejects(client().push({ resource: 'org_office', repository: 'urn:uuid:me', strategy: ['create'], updatePolicy: 'NEWER', conflictPolicy: 'NEWER' }, Buffer.from('<s3xml/>')), (error: { code?: string }) => error.code === 'PEER_REGISTRATION_REQUIRED');
    assert.equal(seen.length, 2);
  });

  it('waits as long as a Retry-After date says, and retries 429', async () => {
    script = [json(429, { message: 'slow down' }, { 'retry-after': 'Thu, 02 May 2024 09:00:07 GMT' }), json(200, { status: 'success', statuscode: '200', sender: 'urn:uuid:peer' })];
    const { sender } = await client().register({ uuid: 'urn:uuid:me', name: 'me' });
    assert.equal(sender, 'urn:uuid:peer');
    assert.deepEqual(waits, [7000]);
  });

  it('treats HTTP 200 with status failed as a failed push, and keeps the peer\'s message', async () => {
    script = [json(200, { status: 'failed', statuscode: '400', message: 'Invalid source' })];
    await assert.rejects(
      client().push({ resource: 'org_office', repository: 'urn:uuid:me', strategy: ['create', 'update'], updatePolicy: 'NEWER', conflictPolicy: 'NEWER' }, Buffer.from('<s3xml/>')),
      (error: { code?: string; message: string }) => error.code === 'PEER_PUSH_FAILED' && /Invalid source/.test(error.message),
    );
    assert.equal(seen.length, 1, 'a refused import is not retried');
    assert.match(seen[0]!.url, /^\/eden\/sync\/sync\.xml\?resource=org_office&repository=urn%3Auuid%3Ame&strategy=create%2Cupdate&update_policy=NEWER&conflict_policy=NEWER$/);
  });

  it('sends pull filters as Eden sync filters and captures exchanges without the credentials', async () => {
    const recorder = new CaptureRecorder();
    script = [(_req, res) => res.writeHead(200, { 'content-type': 'text/xml' }).end('<s3xml success="false"/>')];
    const body = await client(recorder).pull({ resource: 'org_office', repository: 'urn:uuid:me', msince: '2024-05-01T10:00:00', filters: ['~.obsolete=False'], components: false });
    assert.equal(body.toString(), '<s3xml success="false"/>');
    const query = new URLSearchParams(seen[0]!.url.split('?')[1]);
    assert.deepEqual(Object.fromEntries(query), {
      resource: 'org_office',
      repository: 'urn:uuid:me',
      msince: '2024-05-01T10:00:00',
      mcomponents: 'None',
      include_deleted: 'True',
      '[~]~.obsolete': 'False',
    });
    assert.equal(seen[0]!.authorization, `Basic ${Buffer.from('admin@example.org:secret-password').toString('base64')}`);
    const [capture] = recorder.captures();
    assert.equal(capture!.status, 200);
    assert.ok(!JSON.stringify(recorder.captures()).includes('secret-password'));
  });
});
