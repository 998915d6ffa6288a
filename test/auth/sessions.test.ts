import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import { LoginRateLimiter, parseCookies, serializeCookie, SessionStore, tokensMatch } from '../../src/auth/sessions.js';
import type { Clock } from '../../src/s3xml/timestamps.js';
import { createMemoryStore } from '../support/memory-store.js';

function manualClock(start = Date.UTC(2024, 4, 1, 8, 0, 0)): Clock & { advance(ms: number): void } {
  let now = start;
  return {
    now: () => new Date(now),
    advance(ms: number) {
      now += ms;
    },
  };
}

const MINUTE = 60_000;

describe('console sessions', () => {
  it('finds a session by its id and gives every session its own CSRF token', async () => {
    const sessions = new SessionStore(createMemoryStore(), manualClock());
    const a = await sessions.create('ana');
    const b = await sessions.create('ana');
    assert.equal((await sessions.get(a.id))?.username, 'ana');
    assert.equal((await sessions.get(a.id))?.csrfToken, a.csrfToken, 'the token is the same on every request');
    assert.notEqual(a.id, b.id);
    assert.notEqual(a.csrfToken, b.csrfToken);
    assert.ok(a.id.length >= 40, 'ids carry 256 random bits');
    assert.equal(await sessions.get('made-up'), undefined);
    assert.equal(await sessions.get(`${a.id.slice(0, -1)}${a.id.endsWith('A') ? 'B' : 'A'}`), undefined);
    assert.equal(await sessions.get(undefined), undefined);
  });

  it('keeps only the SHA-256 of the id in the store, and nothing that works as the CSRF token', async () => {
    const store = createMemoryStore();
    const sessions = new SessionStore(store, manualClock());
    const session = await sessions.create('ana');
    const record = await store.getConsoleSession(createHash('sha256').update(session.id).digest('hex'));
    assert.equal(record?.username, 'ana');
    const stored = JSON.stringify(record);
    assert.ok(!stored.includes(session.id), 'the id is not stored');
    assert.ok(!stored.includes(session.csrfToken), 'the CSRF token is not stored');
  });

  it('knows a session created by another instance on the same store (another gateway process)', async () => {
    const store = createMemoryStore();
    const clock = manualClock();
    const nodeA = new SessionStore(store, clock);
    const nodeB = new SessionStore(store, clock);
    const session = await nodeA.create('ines');
    assert.equal((await nodeB.get(session.id))?.csrfToken, session.csrfToken);
    await nodeB.destroy(session.id);
    assert.equal(await nodeA.get(session.id), undefined);
  });

  it('ends a session left unused longer than the idle timeout, but not one in use', async () => {
    const clock = manualClock();
    const sessions = new SessionStore(createMemoryStore(), clock, { idleTimeoutMs: 30 * MINUTE, maxAgeMs: 24 * 60 * MINUTE });
    const used = await sessions.create('ines');
    const idle = await sessions.create('victor');
    for (let i = 0; i < 4; i += 1) {
      clock.advance(20 * MINUTE);
      assert.ok(await sessions.get(used.id), `still signed in after ${(i + 1) * 20} minutes of use`);
    }
    assert.equal(await sessions.get(idle.id), undefined);
  });

  it('writes use to the store at most once a touch interval', async () => {
    const clock = manualClock();
    const store = createMemoryStore();
    let updates = 0;
    const counting = { ...store, updateConsoleSession: (...args: Parameters<typeof store.updateConsoleSession>) => ((updates += 1), store.updateConsoleSession(...args)) };
    const sessions = new SessionStore(counting, clock, { touchIntervalMs: MINUTE });
    const session = await sessions.create('ana');
    for (let i = 0; i < 10; i += 1) {
      clock.advance(5_000);
      assert.ok(await sessions.get(session.id));
    }
    assert.equal(updates, 0, 'fifty seconds of use write nothing');
    clock.advance(10_000);
    await sessions.get(session.id);
    assert.equal(updates, 1);
  });

  it('ends every session at its maximum age however much it is used', async () => {
    const clock = manualClock();
    const sessions = new SessionStore(createMemoryStore(), clock, { idleTimeoutMs: 60 * MINUTE, maxAgeMs: 90 * MINUTE });
    const session = await sessions.create('ines');
    clock.advance(50 * MINUTE);
    assert.ok(await sessions.get(session.id));
    clock.advance(50 * MINUTE);
    assert.equal(await sessions.get(session.id), undefined);
  });

  it('signs a user out everywhere but in the session that asked', async () => {
    const sessions = new SessionStore(createMemoryStore(), manualClock());
    const keep = await sessions.create('ana');
    const other = await sessions.create('ana');
    const someoneElse = await sessions.create('ines');
    assert.equal(await sessions.destroyUser('ana', keep.id), 1);
    assert.ok(await sessions.get(keep.id));
    assert.equal(await sessions.get(other.id), undefined);
    assert.ok(await sessions.get(someoneElse.id));
  });

  it('hands a flash message to the next request once, on any instance', async () => {
    const store = createMemoryStore();
    const clock = manualClock();
    const nodeA = new SessionStore(store, clock);
    const nodeB = new SessionStore(store, clock);
    const created = await nodeA.create('ana');
    await nodeA.setFlash(created, '{"kind":"ok","message":"Saved."}');
    const onB = await nodeB.get(created.id);
    assert.equal(await nodeB.takeFlash(onB!), '{"kind":"ok","message":"Saved."}');
    assert.equal(await nodeB.takeFlash((await nodeB.get(created.id))!), undefined);
  });

  it('sweeps expired sessions in bounded batches when someone signs in', async () => {
    const clock = manualClock();
    const store = createMemoryStore();
    const sessions = new SessionStore(store, clock, { idleTimeoutMs: MINUTE, sweepBatch: 2, sweepIntervalMs: 0 });
    const old = [await sessions.create('a'), await sessions.create('b'), await sessions.create('c')];
    clock.advance(2 * MINUTE);
    const fresh = await sessions.create('d');
    const left = await Promise.all(old.map((session) => store.getConsoleSession(session.idHash)));
    assert.equal(left.filter((record) => record === undefined).length, 2, 'one batch of two was swept');
    assert.equal(await sessions.sweep(), 1);
    assert.ok(await sessions.get(fresh.id));
  });
});

describe('CSRF tokens and cookies', () => {
  it('matches tokens exactly and refuses missing or other values', () => {
    assert.equal(tokensMatch('abc', 'abc'), true);
    assert.equal(tokensMatch('abc', 'abd'), false);
    assert.equal(tokensMatch('abc', 'abcd'), false);
    assert.equal(tokensMatch('abc', undefined), false);
    assert.equal(tokensMatch('abc', ['abc']), false);
    assert.equal(tokensMatch('', ''), false);
    assert.equal(tokensMatch(undefined, 'abc'), false);
  });

  it('reads a Cookie header, keeping the first of two same-named cookies', () => {
    assert.deepEqual(parseCookies('a=1; sluice_session=x%2By; a=2; junk; =v; q="quoted"'), { a: '1', sluice_session: 'x+y', q: 'quoted' });
    assert.deepEqual(parseCookies(undefined), {});
  });

  it('writes session cookies that scripts cannot read and other sites cannot send', () => {
    const cookie = serializeCookie('sluice_session', 'id', { secure: true, maxAgeSeconds: 60 });
    assert.equal(cookie, 'sluice_session=id; Path=/; HttpOnly; SameSite=Strict; Max-Age=60; Secure');
    assert.doesNotMatch(serializeCookie('s', 'v', { secure: false }), /Secure/);
  });
});

describe('the sign-in rate limiter', () => {
  it('locks a user name after five failures in the window, and opens it again after the lock', () => {
    const clock = manualClock();
    const limiter = new LoginRateLimiter(clock, { maxFailures: 5, windowMs: 15 * MINUTE, lockMs: 10 * MINUTE });
    const keys = ['user:ana'];
    for (let i = 0; i < 4; i += 1) limiter.recordFailure(keys);
    assert.deepEqual(limiter.check(keys), { allowed: true });
    limiter.recordFailure(keys);
    assert.deepEqual(limiter.check(keys), { allowed: false, retryAfterSeconds: 600 });
    clock.advance(4 * MINUTE);
    assert.deepEqual(limiter.check(keys), { allowed: false, retryAfterSeconds: 360 });
    clock.advance(6 * MINUTE);
    assert.deepEqual(limiter.check(keys), { allowed: true });
  });

  it('forgets failures older than the window', () => {
    const clock = manualClock();
    const limiter = new LoginRateLimiter(clock, { maxFailures: 3, windowMs: 10 * MINUTE });
    limiter.recordFailure(['user:x']);
    limiter.recordFailure(['user:x']);
    clock.advance(11 * MINUTE);
    limiter.recordFailure(['user:x']);
    assert.deepEqual(limiter.check(['user:x']), { allowed: true });
  });

  it('locks an address later than a user name, since an office shares one address', () => {
    const limiter = new LoginRateLimiter(manualClock(), { maxFailures: 5, maxFailuresByPrefix: { 'ip:': 12 } });
    for (let i = 0; i < 5; i += 1) limiter.recordFailure(['ip:10.0.0.1', `user:guess${i % 2}`]);
    assert.equal(limiter.check(['ip:10.0.0.1', 'user:someone-else']).allowed, true);
    for (let i = 0; i < 7; i += 1) limiter.recordFailure(['ip:10.0.0.1', `user:n${i}`]);
    assert.equal(limiter.check(['ip:10.0.0.1', 'user:someone-else']).allowed, false);
    assert.equal(limiter.check(['ip:10.0.0.2', 'user:someone-else']).allowed, true);
  });

  it('clears the count of a name after a good sign-in', () => {
    const limiter = new LoginRateLimiter(manualClock(), { maxFailures: 3 });
    limiter.recordFailure(['user:ana']);
    limiter.recordFailure(['user:ana']);
    limiter.recordSuccess(['user:ana']);
    limiter.recordFailure(['user:ana']);
    limiter.recordFailure(['user:ana']);
    assert.equal(limiter.check(['user:ana']).allowed, true);
  });
});
