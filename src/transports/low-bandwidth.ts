/**
 * The transport a run uses for one repository, given its low-bandwidth options: under a token
 * bucket of `max_bytes_per_second` when one is set (one bucket per run: a run holds the
 * repository's lease, so no other run talks to that peer at the same time), as it is otherwise.
 */
import type { PeerTransport } from '../sync/transport.js';
import { TokenBucket, throttledTransport, type BucketClock } from './bandwidth-cap.js';
import type { LowBandwidthSettings } from './low-bandwidth-settings.js';

export function lowBandwidthTransport(inner: PeerTransport, settings: Pick<LowBandwidthSettings, 'max_bytes_per_second'>, clock?: BucketClock): PeerTransport {
  if (settings.max_bytes_per_second === undefined) return inner;
  return throttledTransport(inner, new TokenBucket(settings.max_bytes_per_second, clock ? { clock } : {}));
}
