import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LoginRateLimiter, parseCookies, serializeCookie, SessionStore, tokensMatch } from '../../src/auth/sessions.js';
import type { Clock } from '../../src/s3xml/timestamps.js';

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
  it('finds a session by its id and gives every session its own CSRF token', () => {
    const sessions = new SessionStore(manualClock());
    const a = sessions.create('ana');
    const b = sessions.create('ana');
    assert.equal(sessions.get(a.id)?.username, 'ana');
    assert.notEqual(a.id, b.id);
    assert.notEqual(a.csrfToken, b.csrfToken);
    assert.ok(a.id.length >= 40, 'ids carry 256 random bits');
    assert.equal(sessions.get('made-up'), undefined);
    assert.equal(sessions.get(undefined), undefined);
  });

  it('ends a session left unused longer than the idle timeout, but not one in use', () => {
    const clock = manualClock();
    const sessions = new SessionStore(clock, { idleTimeoutMs: 30 * MINUTE, maxAgeMs: 24 * 60 * MINUTE });
    const used = sessions.create('ines');
    const idle = sessions.create('victor');
    for (let i = 0; i < 4; i += 1) {
      clock.advance(20 * MINUTE);
      assert.ok(sessions.get(used.id), `still signed in after ${(i + 1) * 20} minutes of use`);
    }
    assert.equal(sessions.get(idle.id), undefined);
  });

  it('ends every session at its maximum age however much it is used', () => {
    const clock = manualClock();
    const sessions = new SessionStore(clock, { idleTimeoutMs: 60 * MINUTE, maxAgeMs: 90 * MINUTE });
    const session = sessions.create('ines');
    clock.advance(50 * MINUTE);
    assert.ok(sessions.get(session.id));
    clock.advance(50 * MINUTE);
    assert.equal(sessions.get(session.id), undefined);
  });

  it('signs a user out everywhere but in the session that asked', () => {
    const sessions = new SessionStore(manualClock());
    const keep = sessions.create('ana');
    const other = sessions.create('ana');
    const someoneElse = sessions.create('ines');
    assert.equal(sessions.destroyUser('ana', keep.id), 1);
    assert.ok(sessions.get(keep.id));
    assert.equal(sessions.get(other.id), undefined);
    assert.ok(sessions.get(someoneElse.id));
  });

  it('drops the oldest session when the limit is reached', () => {
    const sessions = new SessionStore(manualClock(), { maxSessions: 2 });
    const first = sessions.create('a');
    const second = sessions.create('b');
    const third = sessions.create('c');
    assert.equal(sessions.size, 2);
    assert.equal(sessions.get(first.id), undefined);
    assert.ok(sessions.get(second.id));
    assert.ok(sessions.get(third.id));
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
