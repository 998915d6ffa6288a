/**
 * The repositories API: fingerprint first, credentials stored sealed and never returned, bodies
 * checked against their schemas, tasks with Eden's defaults, schedules, Sync Now.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { peerSettings } from '../../../src/sync/peer-settings.js';
import { ADMIN, startSyncGateway, type SyncGateway } from '../../sync/support/gateways.js';

describe('/api/repositories', () => {
  let gateway: SyncGateway;
  let peer: SyncGateway;

  before(async () => {
    gateway = await startSyncGateway({ name: 'here' });
    peer = await startSyncGateway({ name: 'the peer', domain: 'peer.test' });
  });

  after(async () => {
    await gateway?.stop();
    await peer?.stop();
  });

  const post = (path: string, body: unknown, method = 'POST') =>
    gateway.request(path, { method, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

  it('reads a peer\'s fingerprint without credentials', async () => {
    const response = await post('/api/repositories/fingerprint', { url: peer.url });
    assert.equal(response.status, 200);
    assert.deepEqual(await response.json(), { uuid: peer.identity.uuid, name: 'the peer', software: 'sluice', source: 'config.json' });
  });

  it('refuses invalid bodies with a stable code and what was wrong', async () => {
    const missing = await post('/api/repositories', { url: peer.url });
    assert.equal(missing.status, 400);
    const reply = (await missing.json()) as { code: string; message: string };
    assert.equal(reply.code, 'INVALID_BODY');
    assert.match(reply.message, /name/);
    const extra = await post('/api/repositories', { name: 'x', url: peer.url, secret: 'y' });
    assert.equal(extra.status, 400);
    const badUrl = await post('/api/repositories', { name: 'x', url: 'ftp://example.org' });
    assert.equal(((await badUrl.json()) as { code: string }).code, 'BAD_REPOSITORY');
  });

  it('refuses a peer that is not the one whose fingerprint was confirmed, sending nothing', async () => {
    const response = await post('/api/repositories', { name: 'peer', url: peer.url, username: ADMIN.user, password: ADMIN.password, uuid: 'urn:uuid:someone-else' });
    assert.equal(response.status, 409);
    assert.equal(((await response.json()) as { code: string }).code, 'PEER_IDENTITY_CHANGED');
    assert.equal(await peer.store.getRepository(gateway.identity.uuid), undefined, 'no registration reached the peer');
  });

  it('adds a repository, registers with it, stores the password sealed and never returns it', async () => {
    const response = await post('/api/repositories', { name: 'peer', url: peer.url, username: ADMIN.user, password: ADMIN.password, uuid: peer.identity.uuid });
    assert.equal(response.status, 201);
    const view = (await response.json()) as Record<string, unknown>;
    assert.equal(view.uuid, peer.identity.uuid);
    assert.equal(view.has_password, true);
    assert.equal(view.username, ADMIN.user);
    assert.ok(view.registered_at);
    for (const listed of [view, ...((await (await gateway.request('/api/repositories')).json()) as unknown[]), await (await gateway.request('/api/repositories/peer')).json()]) {
      assert.ok(!JSON.stringify(listed).includes(ADMIN.password));
    }
    const stored = await gateway.store.getRepository(peer.identity.uuid);
    const sealed = peerSettings(stored!).password!;
    assert.ok(sealed.startsWith('v1:') && !sealed.includes(ADMIN.password));
    // The peer knows us now (its side of Eden's registration).
    const registered = await peer.store.getRepository(gateway.identity.uuid);
    assert.equal(registered?.config.registered_by_peer, true);
  });

  it('adds tasks with Eden\'s defaults, refuses a second one for the same resource, and runs Sync Now', async () => {
    await peer.store.putRecord({ resource: 'org_office', uuid: 'urn:uuid:api-1', mci: 0, modified_on: '2024-03-01T00:00:00', deleted: false, attributes: {}, data: [{ field: 'name', text: 'From the peer' }], references: [] });
    const created = await post('/api/repositories/peer/tasks', { resource: 'org_office' });
    assert.equal(created.status, 201);
    const task = (await created.json()) as Record<string, unknown>;
    assert.deepEqual(
      [task.mode, task.strategy, task.update_policy, task.conflict_policy, task.components],
      ['both', ['create', 'update', 'delete', 'merge'], 'NEWER', 'NEWER', true],
    );
    const twice = await post('/api/repositories/peer/tasks', { resource: 'org_office' });
    assert.equal(twice.status, 409);
    const badMode = await post('/api/repositories/peer/tasks', { resource: 'org_location', mode: 'sideways' });
    assert.equal(badMode.status, 400);

    const schedule = await post('/api/repositories/peer/schedule', { interval_seconds: 600 }, 'PUT');
    assert.equal(schedule.status, 200);
    assert.equal(((await schedule.json()) as { id: string }).id, `sync:${peer.identity.uuid}`);
    assert.equal((await post('/api/repositories/peer/schedule', { cron: 'sometimes' }, 'PUT')).status, 400);

    const synced = await post('/api/repositories/peer/sync', {});
    assert.equal(synced.status, 200);
    const run = (await synced.json()) as { status: string; counts: Record<string, number>; replications: { direction: string }[] };
    assert.equal(run.status, 'success');
    assert.equal(run.counts.pull_created, 1);
    assert.deepEqual(run.replications.map((r) => r.direction), ['pull', 'push']);
    assert.ok(await gateway.store.getRecord('org_office', 'urn:uuid:api-1'));
  });

  it('refuses a task filter that is not Eden URL filter syntax, showing the form it should take', async () => {
    const refused = await post('/api/repositories/peer/tasks', { resource: 'org_facility', filters: ['obsolete=False'] });
    assert.equal(refused.status, 400);
    const reply = (await refused.json()) as { code: string; message: string; fix: string };
    assert.equal(reply.code, 'BAD_FILTER');
    assert.match(reply.message, /obsolete=False/);
    assert.match(reply.fix, /~\.obsolete=False/);
    const tasks = (await (await gateway.request('/api/repositories/peer/tasks')).json()) as { resource: string }[];
    assert.ok(!tasks.some((task) => task.resource === 'org_facility'), 'nothing was stored');

    const accepted = await post('/api/repositories/peer/tasks', { resource: 'org_facility', filters: ['~.obsolete=False'], mode: 'none' });
    assert.equal(accepted.status, 201);
    const task = (await accepted.json()) as { id: string; filters: string[] };
    assert.deepEqual(task.filters, ['~.obsolete=False']);
    const patched = await post(`/api/tasks/${task.id}`, { filters: ['name__like=Red*'] }, 'PATCH');
    assert.equal(patched.status, 400);
    assert.match(((await patched.json()) as { fix: string }).fix, /~\.name__like=Red\*/);
  });

  it('answers 404 for an unknown repository and needs credentials', async () => {
    assert.equal((await gateway.request('/api/repositories/nobody')).status, 404);
    assert.equal((await fetch(`${gateway.url}/api/repositories`)).status, 401);
  });
});
