/**
 * Contract tests for LAN discovery and sync pool state (discovered gateways, pools); called from
 * storeContract, so every Store implementation runs them.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { DiscoveredGatewayRecord, PoolRecord, Store } from '../../src/store/store.js';

function gateway(uuid: string, name: string, overrides: Partial<DiscoveredGatewayRecord> = {}): DiscoveredGatewayRecord {
  return {
    uuid,
    name,
    url: 'http://192.0.2.7:8080',
    // Keys with dots and dollars come from the network: the store must give them back unchanged.
    advert: { tables: ['org_office'], interests: [{ tag: 'haiti', direction: 'download' }], 'txt.raw': { $v: '1' } },
    first_seen_at: '2024-05-01T10:00:00',
    last_seen_at: '2024-05-01T10:00:00',
    ...overrides,
  };
}

function pool(name: string, overrides: Partial<PoolRecord> = {}): PoolRecord {
  return {
    name,
    tags: ['haiti'],
    template: { resources: ['org_office'], settings: { mode: 'both', update_policy: { __default__: 'NEWER', 'a.b': 'THIS' } } },
    rejected: [],
    created_at: '2024-05-01T10:00:00',
    updated_at: '2024-05-01T10:00:00',
    ...overrides,
  };
}

export function discoveryStateContract(current: () => Store): void {
  describe('discovery and pool state', () => {
    it('discovered gateways are stored whole, listed by name, replaced by uuid and deleted', async () => {
      const store = current();
      await store.putDiscoveredGateway(gateway('urn:uuid:b', 'Port-au-Prince'));
      await store.putDiscoveredGateway(gateway('urn:uuid:a', 'Jacmel'));
      assert.deepEqual(await store.getDiscoveredGateway('urn:uuid:b'), gateway('urn:uuid:b', 'Port-au-Prince'));
      assert.deepEqual((await store.listDiscoveredGateways()).map((g) => g.uuid), ['urn:uuid:a', 'urn:uuid:b']);

      const seenAgain = gateway('urn:uuid:b', 'Aaa renamed', { url: 'http://192.0.2.8:9000', last_seen_at: '2024-05-02T08:00:00' });
      await store.putDiscoveredGateway(seenAgain);
      assert.deepEqual(await store.getDiscoveredGateway('urn:uuid:b'), seenAgain);
      assert.deepEqual((await store.listDiscoveredGateways()).map((g) => g.uuid), ['urn:uuid:b', 'urn:uuid:a']);

      await store.deleteDiscoveredGateway('urn:uuid:b');
      assert.equal(await store.getDiscoveredGateway('urn:uuid:b'), undefined);
      assert.equal((await store.listDiscoveredGateways()).length, 1);
    });

    it('pools are stored whole with optional credentials, listed by name, replaced and deleted', async () => {
      const store = current();
      const haiti = pool('haiti', { username: 'pool@example.org', password: 'sealed:abc', rejected: ['urn:uuid:x'] });
      await store.putPool(haiti);
      await store.putPool(pool('chile', { tags: ['chile', 'quake'] }));
      assert.deepEqual(await store.getPool('haiti'), haiti);
      assert.equal(await store.getPool('nowhere'), undefined);
      assert.deepEqual((await store.listPools()).map((p) => p.name), ['chile', 'haiti']);

      const changed = pool('haiti', { tags: ['haiti', 'hurricane'], updated_at: '2024-05-03T00:00:00' });
      await store.putPool(changed);
      const read = await store.getPool('haiti');
      assert.deepEqual(read, changed);
      assert.equal(read?.username, undefined, 'a replaced pool keeps no field the new version lacks');

      await store.deletePool('haiti');
      assert.deepEqual((await store.listPools()).map((p) => p.name), ['chile']);
    });
  });
}
