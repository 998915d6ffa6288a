import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, it } from 'node:test';
import { acquireLease, holderId, parseHolder } from '../../src/sync/lease.js';
import { createMemoryStore } from '../support/memory-store.js';

function manualClock(start = 1_000_000) {
  let now = start;
  return { clock: { now: () => new Date(now) }, advance: (ms: number) => (now += ms) };
}

describe('leases', () => {
  it('are held by one holder until they expire, then taken over by the next', async () => {
    const store = createMemoryStore();
    const { clock, advance } = manualClock();
    const first = await acquireLease({ store, clock, holder: 'host:1:a', ttlMs: 60_000 }, 'sync:peer');
    assert.ok('lease' in first);
    const second = await acquireLease({ store, clock, holder: 'host:2:b', ttlMs: 60_000 }, 'sync:peer');
    assert.ok('heldBy' in second);
    assert.equal(second.heldBy?.holder, 'host:1:a');
    advance(60_001);
    const third = await acquireLease({ store, clock, holder: 'host:2:b', ttlMs: 60_000 }, 'sync:peer');
    assert.ok('lease' in third);
    assert.equal(third.lease.tookOverFrom, 'host:1:a');
    await third.lease.release();
    await first.lease.release();
    assert.equal(await store.getLease('sync:peer'), undefined, 'the old holder cannot release what it lost');
  });

  it('of a holder known to be dead are taken over at once', async () => {
    const store = createMemoryStore();
    const { clock } = manualClock();
    const crashed = await acquireLease({ store, clock, holder: 'host:111:dead', ttlMs: 60_000 }, 'sync:peer');
    assert.ok('lease' in crashed);
    const alive = (holder: string) => !holder.includes('dead');
    const next = await acquireLease({ store, clock, holder: 'host:222:new', ttlMs: 60_000, isHolderAlive: alive }, 'sync:peer');
    assert.ok('lease' in next);
    assert.equal(next.lease.tookOverFrom, 'host:111:dead');
    const busy = await acquireLease({ store, clock, holder: 'host:333:late', ttlMs: 60_000, isHolderAlive: alive }, 'sync:peer');
    assert.ok('heldBy' in busy, 'a live holder is never robbed');
    await next.lease.release();
  });

  it('tell the work to stop when they are lost', async () => {
    const store = createMemoryStore();
    const clock = { now: () => new Date() };
    const held = await acquireLease({ store, clock, holder: 'host:1:a', ttlMs: 150 }, 'job');
    assert.ok('lease' in held);
    assert.equal(held.lease.signal.aborted, false);
    await sleep(120);
    assert.equal(held.lease.signal.aborted, false, 'renewed while held');
    // Another process takes it (as if ours had stalled past the expiry).
    await store.releaseLease('job', 'host:1:a');
    await store.acquireLease('job', 'host:2:b', Date.now(), 10_000);
    // The next renewal finds it gone, however late a loaded machine fires the renewal timer.
    const deadline = Date.now() + 10_000;
    while (!held.lease.signal.aborted && Date.now() < deadline) await sleep(10);
    assert.equal(held.lease.signal.aborted, true);
    assert.equal((held.lease.signal.reason as { code?: string }).code, 'LEASE_LOST');
    await held.lease.release();
    assert.equal((await store.getLease('job'))?.holder, 'host:2:b');
  });

  it('holder ids carry the host and pid', () => {
    assert.deepEqual(parseHolder(holderId('gw-1.example.org', 4242, 'ab12')), { host: 'gw-1.example.org', pid: 4242 });
    assert.equal(parseHolder('garbage'), undefined);
  });
});
