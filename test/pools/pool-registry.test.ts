/**
 * Beacon and sync pools on real in-process gateways (LAN discovery off: the sightings mDNS would
 * deliver are handed to the beacon directly; test/discovery/mdns.test.ts covers the wire). A hub
 * gateway registers its interest tags, lists the candidates of a pool, accepts them (fingerprint
 * first, against the candidates' real /sync/config.json), and a change of the pool's template
 * reaches every member's tasks.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { DiscoveredGateway } from '../../src/discovery/service-records.js';
import { Beacon, MAX_DISCOVERED_GATEWAYS } from '../../src/pools/beacon.js';
import type { SyncTaskRecord } from '../../src/store/store.js';
import { createMemoryStore } from '../support/memory-store.js';
import { ADMIN, startDiscoveryGateway, type DiscoveryGateway } from './support/gateways.js';

function sighting(gateway: { identity: { uuid: string; name: string }; url: string }, tags: string[], overrides: Partial<DiscoveredGateway> = {}): DiscoveredGateway {
  return {
    uuid: gateway.identity.uuid,
    name: gateway.identity.name,
    url: gateway.url,
    instance: `${gateway.identity.name}._sluice._tcp.local`,
    host: 'peer.local',
    port: Number(new URL(gateway.url).port),
    basePath: '',
    api: '1',
    version: '0.1.0',
    tables: ['org_office'],
    interests: tags.map((tag) => ({ tag, direction: 'both' as const })),
    addresses: ['127.0.0.1'],
    goodbye: false,
    ...overrides,
  };
}

function summary(tasks: SyncTaskRecord[]): unknown[] {
  return tasks.map((task) => ({ resource: task.resource, mode: task.mode, update_policy: task.update_policy, conflict_policy: task.conflict_policy, filters: task.filters, components: task.components }));
}

async function json<T>(response: Response, status: number): Promise<T> {
  const text = await response.text();
  assert.equal(response.status, status, text);
  return (text ? JSON.parse(text) : undefined) as T;
}

describe('beacon and sync pools', () => {
  let hub: DiscoveryGateway;
  let port: DiscoveryGateway;
  let jacmel: DiscoveryGateway;
  let santiago: DiscoveryGateway;

  before(async () => {
    [hub, port, jacmel, santiago] = await Promise.all([
      startDiscoveryGateway({ name: 'Hub' }),
      startDiscoveryGateway({ name: 'Port-au-Prince' }),
      startDiscoveryGateway({ name: 'Jacmel' }),
      startDiscoveryGateway({ name: 'Santiago' }),
    ]);
  });

  after(async () => {
    await Promise.all([hub, port, jacmel, santiago].map((gateway) => gateway?.stop()));
  });

  it('interest tags are registered through the API, normalised, and published in /sync/config.json', async () => {
    await json(await hub.api('PUT', '/api/beacon/interests/Haiti', { direction: 'download' }), 200);
    await json(await hub.api('PUT', '/api/beacon/interests/wash', {}), 200);
    const interests = await json<unknown>(await hub.api('GET', '/api/beacon/interests'), 200);
    assert.deepEqual(interests, [
      { tag: 'haiti', direction: 'download' },
      { tag: 'wash', direction: 'both' },
    ]);
    const config = (await (await fetch(`${hub.url}/sync/config.json`)).json()) as { interests: unknown };
    assert.deepEqual(config.interests, interests);
    const bad = await json<{ code: string }>(await hub.api('PUT', '/api/beacon/interests/no%20spaces', {}), 400);
    assert.equal(bad.code, 'BAD_TAG');
    await json(await hub.api('DELETE', '/api/beacon/interests/wash'), 200);
    assert.deepEqual(await hub.beacon.interests(), [{ tag: 'haiti', direction: 'download' }]);
  });

  it('gateways sharing a tag with a pool are listed as its candidates; others are not', async () => {
    await hub.beacon.recordSighting(sighting(port, ['haiti', 'shelter']));
    await hub.beacon.recordSighting(sighting(jacmel, ['haiti']));
    await hub.beacon.recordSighting(sighting(santiago, ['chile']));
    const created = await json<{ name: string; template: { resources: string[]; mode: string } }>(
      await hub.api('POST', '/api/pools', {
        name: 'haiti',
        tags: ['haiti'],
        template: { resources: ['org_office', 'pr_person'], mode: 'pull', update_policy: 'MASTER', schedule: { interval_seconds: 600 } },
      }),
      201,
    );
    assert.deepEqual(created.template.resources, ['org_office', 'pr_person']);
    const candidates = await json<{ uuid: string; shared_tags: string[]; status: string; registered: boolean }[]>(await hub.api('GET', '/api/pools/haiti/candidates'), 200);
    assert.deepEqual(
      candidates.map((candidate) => [candidate.uuid, candidate.shared_tags, candidate.status, candidate.registered]).sort(),
      [
        [jacmel.identity.uuid, ['haiti'], 'pending', false],
        [port.identity.uuid, ['haiti'], 'pending', false],
      ].sort(),
    );
  });

  it("accepting a candidate registers it by its discovered uuid and gives it the pool's tasks and schedule", async () => {
    const repository = await json<{ uuid: string; name: string; software: string }>(await hub.api('POST', `/api/pools/haiti/candidates/${encodeURIComponent(port.identity.uuid)}/accept`, {}), 201);
    assert.equal(repository.uuid, port.identity.uuid);
    assert.equal(repository.name, 'Port-au-Prince');
    assert.equal(repository.software, 'sluice');
    assert.deepEqual(summary(await hub.store.listTasks({ repository: port.identity.uuid })), [
      { resource: 'org_office', mode: 'pull', update_policy: 'MASTER', conflict_policy: 'NEWER', filters: [], components: true },
      { resource: 'pr_person', mode: 'pull', update_policy: 'MASTER', conflict_policy: 'NEWER', filters: [], components: true },
    ]);
    assert.equal((await hub.sync.tasks.getSchedule(port.identity.uuid))?.interval_seconds, 600);
    const pool = await json<{ members: { uuid: string }[] }>(await hub.api('GET', '/api/pools/haiti'), 200);
    assert.deepEqual(pool.members.map((member) => member.uuid), [port.identity.uuid]);
    const remaining = await hub.pools.candidates('haiti');
    assert.deepEqual(remaining.map((candidate) => candidate.uuid), [jacmel.identity.uuid]);
  });

  it('a candidate whose address now answers with another uuid is refused and nothing is stored', async () => {
    const impostor = 'urn:uuid:00000000-0000-0000-0000-00000000beef';
    await hub.beacon.recordSighting(sighting(jacmel, ['haiti'], { uuid: impostor, name: 'Impostor' }));
    const refused = await json<{ code: string }>(await hub.api('POST', `/api/pools/haiti/candidates/${impostor}/accept`, {}), 409);
    assert.equal(refused.code, 'PEER_IDENTITY_CHANGED');
    assert.equal(await hub.store.getRepository(impostor), undefined);
    assert.deepEqual(await hub.store.listTasks({ repository: impostor }), []);
  });

  it('a rejected candidate leaves the pending list and is still shown when asked for rejected ones', async () => {
    const impostor = 'urn:uuid:00000000-0000-0000-0000-00000000beef';
    await json(await hub.api('POST', `/api/pools/haiti/candidates/${impostor}/reject`), 204);
    assert.ok(!(await hub.pools.candidates('haiti')).some((candidate) => candidate.uuid === impostor));
    const all = await json<{ uuid: string; status: string }[]>(await hub.api('GET', '/api/pools/haiti/candidates?include=rejected'), 200);
    assert.deepEqual(all.find((candidate) => candidate.uuid === impostor)?.status, 'rejected');
  });

  it('a second member accepted with explicit credentials registers with the peer', async () => {
    const repository = await hub.pools.accept('haiti', jacmel.identity.uuid, { name: 'Jacmel EOC', username: ADMIN.user, password: ADMIN.password });
    assert.equal(repository.name, 'Jacmel EOC');
    assert.equal(repository.has_password, true);
    assert.ok(repository.registered_at, 'the hub registered itself with Jacmel');
    assert.ok(await jacmel.store.getRepository(hub.identity.uuid), 'Jacmel knows the hub after its registration');
    assert.equal((await hub.store.listTasks({ repository: jacmel.identity.uuid })).length, 2);
  });

  it("changing the pool's template updates the tasks of every member, keeping task ids where the resource stays", async () => {
    const before = new Map((await hub.store.listTasks()).map((task) => [`${task.repository} ${task.resource}`, task.id]));
    await json(
      await hub.api('PATCH', '/api/pools/haiti', {
        template: { resources: ['org_office', 'org_organisation'], mode: 'both', conflict_policy: 'THIS', filters: ['~.obsolete=False'], schedule: { cron: '*/15 * * * *' } },
      }),
      200,
    );
    for (const member of [port, jacmel]) {
      const tasks = await hub.store.listTasks({ repository: member.identity.uuid });
      assert.deepEqual(summary(tasks), [
        { resource: 'org_office', mode: 'both', update_policy: 'MASTER', conflict_policy: 'THIS', filters: ['~.obsolete=False'], components: true },
        { resource: 'org_organisation', mode: 'both', update_policy: 'MASTER', conflict_policy: 'THIS', filters: ['~.obsolete=False'], components: true },
      ]);
      assert.equal(tasks[0]!.id, before.get(`${member.identity.uuid} org_office`), 'the org_office task was updated, not replaced');
      const schedule = await hub.sync.tasks.getSchedule(member.identity.uuid);
      assert.equal(schedule?.cron, '*/15 * * * *');
      assert.equal(schedule?.interval_seconds, undefined);
    }
  });

  it('a template the task rules refuse is refused whole and changes no member', async () => {
    const beforeTasks = summary(await hub.store.listTasks());
    const refused = await json<{ code: string }>(await hub.api('PATCH', '/api/pools/haiti', { template: { filters: ['~.name__nosuchop=1'] } }), 400);
    assert.equal(refused.code, 'BAD_FILTER');
    assert.deepEqual(summary(await hub.store.listTasks()), beforeTasks);
  });

  it("shared credentials set on the pool reach every member's repository", async () => {
    const sealedBefore = (await hub.store.getRepository(jacmel.identity.uuid))?.config.password;
    await hub.pools.update('haiti', { username: 'pool-user@example.org', password: 'a shared secret' });
    for (const member of [port, jacmel]) {
      const view = (await hub.sync.repositories.list()).find((repository) => repository.uuid === member.identity.uuid);
      assert.equal(view?.username, 'pool-user@example.org');
      assert.equal(view?.has_password, true);
    }
    assert.notEqual((await hub.store.getRepository(jacmel.identity.uuid))?.config.password, sealedBefore);
    const pool = await json<Record<string, unknown>>(await hub.api('GET', '/api/pools/haiti'), 200);
    assert.equal(pool.has_password, true);
    assert.equal(pool.password, undefined, 'the API never returns the pool password');
  });

  it('a member that leaves keeps its tasks, and later template changes no longer reach it', async () => {
    await json(await hub.api('DELETE', `/api/pools/haiti/members/${encodeURIComponent(jacmel.identity.uuid)}`), 200);
    await hub.pools.update('haiti', { template: { mode: 'push' } });
    assert.deepEqual(
      (await hub.store.listTasks({ repository: jacmel.identity.uuid })).map((task) => task.mode),
      ['both', 'both'],
    );
    assert.deepEqual(
      (await hub.store.listTasks({ repository: port.identity.uuid })).map((task) => task.mode),
      ['push', 'push'],
    );
    const rejoined = await json<{ members: { uuid: string }[] }>(await hub.api('POST', '/api/pools/haiti/members', { repository: 'Jacmel EOC' }), 200);
    assert.equal(rejoined.members.length, 2);
    assert.deepEqual(
      (await hub.store.listTasks({ repository: jacmel.identity.uuid })).map((task) => task.mode),
      ['push', 'push'],
    );
  });

  it('removing a repository removes its membership; deleting the pool leaves members their tasks', async () => {
    await hub.sync.repositories.remove(jacmel.identity.uuid);
    assert.deepEqual((await hub.pools.get('haiti')).members.map((member) => member.uuid), [port.identity.uuid]);
    await json(await hub.api('DELETE', '/api/pools/haiti'), 204);
    assert.equal((await hub.api('GET', '/api/pools/haiti')).status, 404);
    assert.equal((await hub.store.listTasks({ repository: port.identity.uuid })).length, 2);
    assert.equal((await hub.store.getRepository(port.identity.uuid))?.config.pool, undefined);
  });

  it('the beacon stops recording new gateways once it knows the maximum, but still refreshes known ones', async () => {
    const store = createMemoryStore();
    const beacon = new Beacon(store, { now: () => new Date('2024-05-01T10:00:00Z') });
    for (let index = 0; index < MAX_DISCOVERED_GATEWAYS; index += 1) {
      assert.equal(await beacon.recordSighting(sighting(port, ['haiti'], { uuid: `urn:uuid:flood-${index}` })), true);
    }
    assert.equal(await beacon.recordSighting(sighting(port, ['haiti'], { uuid: 'urn:uuid:one-too-many' })), false);
    assert.equal(await store.getDiscoveredGateway('urn:uuid:one-too-many'), undefined);
    assert.equal(await beacon.recordSighting(sighting(port, ['chile'], { uuid: 'urn:uuid:flood-0' })), true);
    assert.deepEqual((await store.getDiscoveredGateway('urn:uuid:flood-0'))?.advert.interests, [{ tag: 'chile', direction: 'both' }]);
  });

  it('pool bodies are validated: unknown fields, bad tags and duplicate names are refused with stable codes', async () => {
    assert.equal((await json<{ code: string }>(await hub.api('POST', '/api/pools', { name: 'x', tags: ['ok'], colour: 'red' }), 400)).code, 'INVALID_BODY');
    assert.equal((await json<{ code: string }>(await hub.api('POST', '/api/pools', { name: 'x', tags: [] }), 400)).code, 'INVALID_BODY');
    await json(await hub.api('POST', '/api/pools', { name: 'chile', tags: ['chile'] }), 201);
    assert.equal((await json<{ code: string }>(await hub.api('POST', '/api/pools', { name: 'chile', tags: ['chile'] }), 409)).code, 'POOL_EXISTS');
    const candidates = await hub.pools.candidates('chile');
    assert.deepEqual(candidates.map((candidate) => candidate.uuid), [santiago.identity.uuid]);
  });
});
