import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SluiceError } from '../../src/errors.js';
import {
  DEFAULT_RETRY_POLICY,
  UpstreamStatusError,
  backoffDelay,
  classifyFailure,
  parseRetryAfter,
  retryPolicy,
  withRetry,
} from '../../src/net/retry.js';

function recordingSleep() {
  const waits: number[] = [];
  return { waits, sleep: async (ms: number) => void waits.push(ms) };
}

const status = (code: number, retryAfterMs?: number) =>
  new UpstreamStatusError('TEST_STATUS', `HTTP ${code}`, code, retryAfterMs === undefined ? {} : { retryAfterMs });

describe('retry policy', () => {
  it('grows the backoff window exponentially and caps it', () => {
    const policy = retryPolicy({ baseDelayMs: 100, factor: 2, maxDelayMs: 1000 });
    const top = () => 0.999999;
    assert.deepEqual(
      [1, 2, 3, 4, 5, 6].map((attempt) => backoffDelay(attempt, policy, top)),
      [99, 199, 399, 799, 999, 999],
    );
    assert.equal(backoffDelay(3, policy, () => 0), 0);
  });

  it('reads Retry-After as seconds or as an HTTP date and ignores garbage', () => {
    const now = Date.parse('2024-05-02T09:00:00Z');
    assert.equal(parseRetryAfter('7', now), 7000);
    assert.equal(parseRetryAfter('Thu, 02 May 2024 09:00:30 GMT', now), 30_000);
    assert.equal(parseRetryAfter('Thu, 02 May 2024 08:00:00 GMT', now), 0);
    assert.equal(parseRetryAfter('soon', now), undefined);
    assert.equal(parseRetryAfter(undefined, now), undefined);
  });

  it('retries 5xx, 429 and transport errors but not other 4xx', () => {
    const policy = DEFAULT_RETRY_POLICY;
    assert.equal(classifyFailure(status(500), policy).retry, true);
    assert.equal(classifyFailure(status(503), policy).retry, true);
    assert.equal(classifyFailure(status(429), policy).retry, true);
    assert.equal(classifyFailure(status(400), policy).retry, false);
    assert.equal(classifyFailure(status(401), policy).retry, false);
    assert.equal(classifyFailure(status(404), policy).retry, false);
    assert.equal(classifyFailure(Object.assign(new Error('reset'), { code: 'ECONNRESET' }), policy).retry, true);
    assert.equal(classifyFailure(new SluiceError('UPSTREAM_TIMEOUT', 'slow'), policy).retry, true);
    const wrapped = new TypeError('fetch failed', { cause: Object.assign(new Error('x'), { code: 'UND_ERR_SOCKET' }) });
    assert.equal(classifyFailure(wrapped, policy).retry, true);
    assert.equal(classifyFailure(new Error('bug'), policy).retry, false);
  });

  it('stops after the last attempt and rethrows the last error unchanged', async () => {
    const { waits, sleep } = recordingSleep();
    let calls = 0;
    const failure = status(502);
    await assert.rejects(
      withRetry(
        async () => {
          calls++;
          throw failure;
        },
        { policy: retryPolicy({ maxAttempts: 3 }), sleep, random: () => 0.5 },
      ),
      (error) => error === failure,
    );
    assert.equal(calls, 3);
    assert.equal(waits.length, 2);
  });

  it('returns the first success and does not retry a 4xx', async () => {
    const { waits, sleep } = recordingSleep();
    let calls = 0;
    const value = await withRetry(
      async (attempt) => {
        calls++;
        if (attempt < 3) throw status(500);
        return 'ok';
      },
      { sleep, random: () => 0 },
    );
    assert.equal(value, 'ok');
    assert.equal(calls, 3);
    assert.deepEqual(waits, [0, 0]);

    calls = 0;
    await assert.rejects(
      withRetry(async () => {
        calls++;
        throw status(422);
      }, { sleep }),
      UpstreamStatusError,
    );
    assert.equal(calls, 1);
  });

  it('waits what Retry-After says instead of the backoff, within the cap', async () => {
    const { waits, sleep } = recordingSleep();
    let calls = 0;
    await withRetry(
      async () => {
        calls++;
        if (calls === 1) throw status(429, 7000);
        if (calls === 2) throw status(503, 10 * 60_000);
        return true;
      },
      { policy: retryPolicy({ maxDelayMs: 60_000 }), sleep, random: () => 0 },
    );
    assert.deepEqual(waits, [7000, 60_000]);
  });
});
