/**
 * The bandwidth cap: the token bucket in virtual time (fast and exact), the transport wrapper, and
 * one real transfer over undici on loopback that must take at least as long as the cap allows.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { createUndiciTransport } from '../../src/sync/undici-transport.js';
import type { PeerTransport } from '../../src/sync/transport.js';
import { TokenBucket, throttledTransport, type BucketClock } from '../../src/transports/bandwidth-cap.js';
import { lowBandwidthTransport } from '../../src/transports/low-bandwidth.js';

/** A clock that only moves when someone sleeps on it. */
function virtualClock(): BucketClock & { elapsed: number; sleeps: number[] } {
  const clock = {
    elapsed: 0,
    sleeps: [] as number[],
    now: () => clock.elapsed,
    sleep: async (ms: number) => {
      clock.sleeps.push(ms);
      clock.elapsed += ms;
    },
  };
  return clock;
}

describe('token bucket', () => {
  it('lets the burst through at once and then paces the rest at the rate', async () => {
    const clock = virtualClock();
    const bucket = new TokenBucket(1000, { burstBytes: 250, clock });
    await bucket.take(250);
    assert.equal(clock.elapsed, 0, 'the burst costs no time');
    for (let i = 0; i < 10; i++) await bucket.take(100);
    assert.equal(clock.elapsed, 1000, '1000 bytes past the burst take one second at 1000 B/s');
  });

  it('lets a chunk larger than the bucket through and makes the caller wait off the debt', async () => {
    const clock = virtualClock();
    const bucket = new TokenBucket(2048, { burstBytes: 512, clock });
    await bucket.take(64 * 1024);
    assert.equal(clock.elapsed, Math.ceil(((64 * 1024 - 512) * 1000) / 2048));
    assert.equal(bucket.waitFor(1), 1, 'the bucket is empty right after');
  });

  it('refills while the caller is idle, never above the burst', async () => {
    const clock = virtualClock();
    const bucket = new TokenBucket(1000, { burstBytes: 100, clock });
    await bucket.take(100);
    clock.elapsed += 60_000;
    assert.equal(bucket.waitFor(100), 0);
    assert.equal(bucket.waitFor(200), 100, 'an hour idle still holds only the burst');
  });

  it('makes concurrent takes share the rate: the second waits for the first one\'s debt too', async () => {
    // Sleepers wake in time order, as on a real clock, rather than at once.
    let now = 0;
    const sleepers: { wake: number; resolve: () => void }[] = [];
    const clock: BucketClock = { now: () => now, sleep: (ms) => new Promise<void>((resolve) => sleepers.push({ wake: now + ms, resolve })) };
    const bucket = new TokenBucket(1000, { burstBytes: 1, clock });
    const finished: number[] = [];
    const takes = [bucket.take(1001), bucket.take(500)].map((take) => take.then(() => finished.push(now)));
    while (sleepers.length > 0) {
      sleepers.sort((a, b) => a.wake - b.wake);
      const next = sleepers.shift()!;
      now = next.wake;
      next.resolve();
      await new Promise((resolve) => setImmediate(resolve));
    }
    await Promise.all(takes);
    assert.deepEqual(finished, [1000, 1500], '1500 bytes past the burst take 1.5 s whoever asks');
  });

  it('refuses a rate that is not positive', () => {
    assert.throws(() => new TokenBucket(0), RangeError);
  });
});

describe('throttled transport', () => {
  it('hands the real transport a pace function that draws on the bucket', async () => {
    const clock = virtualClock();
    const bucket = new TokenBucket(100, { burstBytes: 100, clock });
    const paced: number[] = [];
    const pacing: PeerTransport = async (req) => {
      for (const size of [100, 100, 50]) {
        paced.push(size);
        await req.pace!(size);
      }
      return { status: 200, headers: {}, body: Buffer.alloc(250) };
    };
    await throttledTransport(pacing, bucket)({ method: 'GET', url: 'http://peer/', headers: {}, timeoutMs: 1000 });
    assert.deepEqual(paced, [100, 100, 50]);
    assert.equal(clock.elapsed, 1500, '150 bytes past the burst at 100 B/s');
  });

  it('charges a transport that cannot pace for what it sent and received, afterwards', async () => {
    const clock = virtualClock();
    const bucket = new TokenBucket(1000, { burstBytes: 1000, clock });
    const plain: PeerTransport = async () => ({ status: 200, headers: {}, body: Buffer.alloc(2500) });
    await throttledTransport(plain, bucket)({ method: 'POST', url: 'http://peer/', headers: {}, body: Buffer.alloc(500), timeoutMs: 1000 });
    assert.equal(clock.elapsed, 2000);
  });

  it('leaves the transport as it is when the repository has no cap', () => {
    const plain: PeerTransport = async () => ({ status: 200, headers: {}, body: Buffer.alloc(0) });
    assert.equal(lowBandwidthTransport(plain, {}), plain);
    assert.notEqual(lowBandwidthTransport(plain, { max_bytes_per_second: 1000 }), plain);
  });
});

describe('a capped transfer over undici on loopback', () => {
  const SIZE = 48 * 1024;
  const RATE = 64 * 1024;
  let server: Server;
  let url: string;
  let received = 0;

  before(async () => {
    server = createServer((req, res) => {
      let size = 0;
      req.on('data', (chunk: Buffer) => (size += chunk.length));
      req.on('end', () => {
        received = size;
        res.writeHead(200, { 'content-type': 'application/octet-stream' });
        res.end(req.method === 'GET' ? Buffer.alloc(SIZE, 120) : Buffer.from('{}'));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  });

  after(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  // The burst is a quarter second's worth, so 48 KiB at 64 KiB/s cannot end before 0.5 s.
  const floorMs = ((SIZE - RATE / 4) * 1000) / RATE;

  it('reads a response no faster than the cap allows', async () => {
    const undici = createUndiciTransport();
    try {
      const transport = lowBandwidthTransport(undici.transport, { max_bytes_per_second: RATE });
      const started = performance.now();
      const response = await transport({ method: 'GET', url, headers: {}, timeoutMs: 5000 });
      const elapsed = performance.now() - started;
      assert.equal(response.body.length, SIZE);
      assert.ok(elapsed >= floorMs - 20, `took ${elapsed.toFixed(0)} ms, the cap allows no less than ${floorMs} ms`);
      assert.ok(elapsed < floorMs + 3000, `took ${elapsed.toFixed(0)} ms`);
    } finally {
      await undici.close();
    }
  });

  it('sends a request body no faster than the cap allows, with its length declared', async () => {
    const undici = createUndiciTransport();
    try {
      const transport = lowBandwidthTransport(undici.transport, { max_bytes_per_second: RATE });
      const started = performance.now();
      const response = await transport({ method: 'POST', url, headers: {}, body: Buffer.alloc(SIZE, 121), timeoutMs: 5000 });
      const elapsed = performance.now() - started;
      assert.equal(response.status, 200);
      assert.equal(received, SIZE, 'every byte arrived');
      assert.ok(elapsed >= floorMs - 20, `took ${elapsed.toFixed(0)} ms, the cap allows no less than ${floorMs} ms`);
      assert.ok(elapsed < floorMs + 3000, `took ${elapsed.toFixed(0)} ms`);
    } finally {
      await undici.close();
    }
  });
});
