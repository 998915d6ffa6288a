/**
 * A per-repository bandwidth cap (`max_bytes_per_second`) for links where a sync must not take the
 * whole line (HF/VHF radio, a satellite link shared with voice).
 *
 * A token bucket: `take(n)` spends n bytes, and when the bucket runs dry the caller waits until
 * the debt is paid back at the cap's rate. Debt rather than refusal lets a chunk larger than the
 * bucket through (the socket hands over 64 KiB at a time) while the average stays at the cap, and
 * concurrent takes (a prefetched pull page next to the current one) queue behind each other's debt.
 * The clock and the sleep are handed in, so tests run in virtual time.
 *
 * The real transport (sync/undici-transport.ts) calls `pace` for every chunk it writes or reads:
 * while it waits it stops reading, and TCP flow control then slows the sender too. The receiver's
 * socket buffers still fill at line speed at the start of a response; the cap holds on average
 * over a transfer, and a transfer never ends before `(bytes − burst) / rate` seconds.
 */
import type { PeerRequest, PeerTransport } from '../sync/transport.js';

export interface BucketClock {
  /** Milliseconds, monotonic enough for measuring waits. */
  now(): number;
  sleep(ms: number): Promise<void>;
}

export const realBucketClock: BucketClock = {
  now: () => performance.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};

export interface TokenBucketOptions {
  /** Bytes that may go at once after a pause (default a quarter second's worth). */
  burstBytes?: number;
  clock?: BucketClock;
}

export class TokenBucket {
  readonly bytesPerSecond: number;
  readonly burstBytes: number;
  private readonly clock: BucketClock;
  private tokens: number;
  private updatedAt: number;

  constructor(bytesPerSecond: number, options: TokenBucketOptions = {}) {
    if (!(bytesPerSecond > 0) || !Number.isFinite(bytesPerSecond)) throw new RangeError(`a bandwidth cap needs a positive rate, not ${bytesPerSecond}`);
    this.bytesPerSecond = bytesPerSecond;
    this.burstBytes = Math.max(1, Math.floor(options.burstBytes ?? bytesPerSecond / 4));
    this.clock = options.clock ?? realBucketClock;
    this.tokens = this.burstBytes;
    this.updatedAt = this.clock.now();
  }

  private refill(): void {
    const now = this.clock.now();
    this.tokens = Math.min(this.burstBytes, this.tokens + ((now - this.updatedAt) * this.bytesPerSecond) / 1000);
    this.updatedAt = now;
  }

  /** How long a take of `bytes` now would wait, in milliseconds (0 when the bucket holds them). */
  waitFor(bytes: number): number {
    this.refill();
    const after = this.tokens - bytes;
    return after >= 0 ? 0 : Math.ceil((-after * 1000) / this.bytesPerSecond);
  }

  /** Spends `bytes`; resolves once the bucket is no longer in debt. */
  async take(bytes: number): Promise<void> {
    if (bytes <= 0) return;
    this.refill();
    this.tokens -= bytes;
    if (this.tokens >= 0) return;
    await this.clock.sleep(Math.ceil((-this.tokens * 1000) / this.bytesPerSecond));
  }
}

/**
 * Puts every request to this peer under `bucket`. A transport that does not pace (a test double)
 * is charged afterwards for what it sent and returned, so the average still holds.
 */
export function throttledTransport(inner: PeerTransport, bucket: TokenBucket): PeerTransport {
  return async (req: PeerRequest) => {
    let paced = false;
    const response = await inner({
      ...req,
      pace: async (bytes) => {
        paced = true;
        await req.pace?.(bytes);
        await bucket.take(bytes);
      },
    });
    if (!paced) await bucket.take((req.body?.length ?? 0) + response.body.length);
    return response;
  };
}
