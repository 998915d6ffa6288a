/**
 * The small pieces around the socket: which addresses a gateway advertises for the host it listens
 * on, and how `sluice discover --timeout` reads a duration.
 */
import assert from 'node:assert/strict';
import os from 'node:os';
import { describe, it } from 'node:test';
import { parseDuration } from '../../src/cli/commands/discover.js';
import { advertisedAddresses } from '../../src/discovery/mdns.js';

describe('discovery helpers', () => {
  it('a gateway listening on one address advertises that address; on all addresses, every LAN IPv4 address', () => {
    assert.deepEqual(advertisedAddresses('192.0.2.5'), ['192.0.2.5']);
    assert.deepEqual(advertisedAddresses('localhost'), ['127.0.0.1']);
    assert.deepEqual(advertisedAddresses('gateway.example.org'), [], 'a host name leaves the address to the packet sender');
    const lan = Object.values(os.networkInterfaces())
      .flatMap((entries) => entries ?? [])
      .filter((entry) => entry.family === 'IPv4' && !entry.internal)
      .map((entry) => entry.address);
    assert.deepEqual(advertisedAddresses('0.0.0.0'), lan.length > 0 ? lan : ['127.0.0.1']);
  });

  it('--timeout takes seconds or milliseconds within bounds', () => {
    assert.equal(parseDuration('3s'), 3000);
    assert.equal(parseDuration('1500ms'), 1500);
    assert.equal(parseDuration('2'), 2000);
    assert.equal(parseDuration('0.5s'), 500);
    for (const bad of ['', 'soon', '10ms', '5m', '61s']) {
      assert.throws(() => parseDuration(bad), (error: unknown) => (error as { code?: string }).code === 'BAD_ARGUMENT', bad);
    }
  });
});
