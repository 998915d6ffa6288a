/**
 * The sync API: the log with Eden's fields, the run history with captured exchanges (credentials
 * never among them), the sync settings with the default proxy, and the jobs.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ADMIN, startSyncGateway, type SyncGateway } from '../../sync/support/gateways.js';

describe('/api/log, /api/runs, /api/settings/sync', () => {
  let gateway: SyncGateway;
  let peer: SyncGateway;

  before(async () => {
    gateway = await startSyncGateway({ name: 'here' });
    peer = await startSyncGateway({ name: 'peer', domain: 'peer.test' });
    await peer.store.putRecord({ resource: 'org_office', uuid: 'urn:uuid:log-1', mci: 0, modified_on: '2024-03-01T00:00:00', deleted: false, attributes: {}, data: [{ field: 'name', text: 'Logged' }], references: [] });
    // A record of our own, so the push sends something (records just pulled are not pushed back).
    await gateway.store.putRecord({ resource: 'org_office', uuid: 'urn:uuid:log-local', mci: 0, modified_on: '2024-03-02T00:00:00', deleted: false, attributes: {}, data: [{ field: 'name', text: 'Ours' }], references: [] });
    await gateway.sync.repositories.add({ name: 'peer', url: peer.url, username: ADMIN.user, password: ADMIN.password });
    await gateway.sync.tasks.add('peer', 'org_office', {});
    await gateway.sync.syncNow('peer');
  });

  after(async () => {
    await gateway?.stop();
    await peer?.stop();
  });

  it('lists the sync log newest first with Eden\'s fields, filtered by result and run', async () => {
    const entries = (await (await gateway.request('/api/log?limit=10')).json()) as Record<string, unknown>[];
    assert.ok(entries.length >= 3);
    const pull = entries.find((entry) => entry.mode === 'pull/outgoing')!;
    assert.deepEqual(Object.keys(pull).sort(), ['action', 'id', 'message', 'mode', 'remote', 'repository', 'resource', 'result', 'run_id', 'timestmp']);
    assert.equal(pull.result, 'success');
    assert.equal(pull.resource, 'org_office');
    const ofRun = (await (await gateway.request(`/api/log?run_id=${String(pull.run_id)}`)).json()) as unknown[];
    assert.equal(ofRun.length, 2);
    assert.deepEqual(await (await gateway.request('/api/log?result=fatal')).json(), []);
    assert.equal((await gateway.request('/api/log?result=bad')).status, 400);
    // The peer logged its side: a pull and a push came in from us.
    const theirs = (await (await peer.request(`/api/log?repository=${encodeURIComponent(gateway.identity.uuid)}`)).json()) as { mode: string }[];
    assert.ok(theirs.some((entry) => entry.mode === 'pull/incoming'));
  });

  it('keeps a run history with counts, bytes and duration, and the captured exchanges without credentials', async () => {
    const runs = (await (await gateway.request('/api/runs')).json()) as Record<string, unknown>[];
    assert.equal(runs.length, 1);
    const [run] = runs as { id: string; status: string; bytes_in: number; duration_ms: number; captured: number; counts: Record<string, number> }[];
    assert.equal(run!.status, 'success');
    assert.ok(run!.bytes_in > 0);
    assert.ok(run!.duration_ms >= 0);
    assert.equal(run!.counts.pull_created, 1);
    assert.ok(run!.captured >= 2);
    const full = (await (await gateway.request(`/api/runs/${run!.id}`)).json()) as { captures: { method: string; url: string; status: number; response_body?: string }[] };
    const pull = full.captures.find((capture) => capture.method === 'GET')!;
    assert.equal(pull.status, 200);
    assert.match(pull.url, /\/sync\/sync\.xml\?resource=org_office/);
    assert.match(pull.response_body!, /urn:uuid:log-1/);
    assert.ok(!JSON.stringify(full).includes(ADMIN.password));
    assert.ok(!JSON.stringify(full).toLowerCase().includes('authorization'));
    assert.equal((await gateway.request('/api/runs/nope')).status, 404);
  });

  it('shows this gateway\'s uuid and sets a default proxy', async () => {
    const settings = (await (await gateway.request('/api/settings/sync')).json()) as { uuid: string; proxy?: string };
    assert.equal(settings.uuid, gateway.identity.uuid);
    assert.equal(settings.proxy, undefined);
    const put = (body: unknown) => gateway.request('/api/settings/sync', { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    assert.equal(((await (await put({ proxy: 'http://proxy.example.org:3128' })).json()) as { proxy: string }).proxy, 'http://proxy.example.org:3128');
    assert.equal((await put({ proxy: 'not a url' })).status, 400);
    assert.equal(((await (await put({ proxy: null })).json()) as { proxy?: string }).proxy, undefined);
  });

  it('sends a repository through its proxy (undici ProxyAgent)', async () => {
    // A proxy that refuses everything: the pull fails at the proxy, and says so.
    const { createServer } = await import('node:http');
    let proxied = 0;
    const proxy = createServer((_req, res) => {
      proxied += 1;
      res.writeHead(502).end();
    }).on('connect', (_req, socket) => {
      proxied += 1;
      socket.end('HTTP/1.1 502 Bad Gateway\r\n\r\n');
    });
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', () => resolve()));
    const port = (proxy.address() as { port: number }).port;
    try {
      await gateway.sync.repositories.update('peer', { proxy: `http://127.0.0.1:${port}` });
      const { run } = await gateway.sync.syncNow('peer');
      assert.notEqual(run.status, 'success');
      assert.ok(proxied > 0, 'the request went to the proxy');
    } finally {
      await gateway.sync.repositories.update('peer', { proxy: null });
      await new Promise<void>((resolve) => proxy.close(() => resolve()));
    }
  });
});
