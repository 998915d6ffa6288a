/**
 * The sync module's only way out to the network: one request, one response, bytes only. The
 * composition root hands in the real one (undici-transport.ts); the sync logic never opens a
 * socket itself. Transport failures are thrown as SluiceErrors:
 * - PEER_UNAVAILABLE: connection refused or reset, the body cut off, DNS (retried);
 * - PEER_TIMEOUT: no headers or no body bytes within the timeout (retried);
 * - PEER_RESPONSE_TOO_LARGE: the body passed the cap (not retried: it would be as large again).
 * HTTP statuses are not errors here; the peer client decides what a status means.
 */
export interface PeerRequest {
  method: 'GET' | 'POST';
  url: string;
  headers: Record<string, string>;
  body?: Buffer;
  /** Applies to waiting for the headers and to every gap while the body streams. */
  timeoutMs: number;
  /** `http://host:port` of an HTTP proxy for this request. */
  proxy?: string;
  signal?: AbortSignal;
  /**
   * A bandwidth cap (src/transports/bandwidth-cap.ts): awaited for every chunk of bytes sent or
   * read on the wire, before the next one goes. Transports that cannot pace leave it to the caller.
   */
  pace?: (bytes: number) => Promise<void>;
}

export interface PeerResponse {
  status: number;
  /** Lower-case names. */
  headers: Record<string, string>;
  body: Buffer;
}

export type PeerTransport = (request: PeerRequest) => Promise<PeerResponse>;

/** Codes of transport failures worth trying again. */
export const RETRYABLE_TRANSPORT_CODES: readonly string[] = ['PEER_UNAVAILABLE', 'PEER_TIMEOUT'];
