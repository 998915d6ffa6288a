/**
 * The real PeerTransport, over undici: keep-alive connections, headers and body timeouts, a cap on
 * the response size, and an undici ProxyAgent per proxy URL (the gateway's default proxy or a
 * repository's own). Created by the composition root; nothing in the sync logic imports it.
 */
import { Readable } from 'node:stream';
import { Agent, ProxyAgent, request, type Dispatcher } from 'undici';
import { SluiceError } from '../errors.js';
import { DEFAULT_RETRY_POLICY } from '../net/retry.js';
import type { PeerRequest, PeerResponse, PeerTransport } from './transport.js';

export interface UndiciTransportOptions {
  /** Largest response body accepted (default 512 MiB: an Eden peer answers a pull in one document). */
  maxResponseBytes?: number;
}

export interface ClosableTransport {
  transport: PeerTransport;
  close(): Promise<void>;
}

const TIMEOUT_CODES = new Set(['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'UND_ERR_CONNECT_TIMEOUT', 'ETIMEDOUT']);

function where(req: PeerRequest): string {
  const url = new URL(req.url);
  return `${req.method} ${url.origin}${url.pathname}`;
}

function errorCode(error: unknown): string | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 4 && current !== null && typeof current === 'object'; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

function transportFailure(error: unknown, req: PeerRequest): SluiceError {
  if (error instanceof SluiceError) return error;
  const code = errorCode(error);
  const message = error instanceof Error ? error.message : String(error);
  if (code !== undefined && TIMEOUT_CODES.has(code)) {
    return new SluiceError('PEER_TIMEOUT', `${where(req)} timed out after ${req.timeoutMs} ms (${code})`, {
      status: 504,
      cause: error,
      fix: 'The peer is slow or stalled (a run retries a few times, and the next scheduled run tries again). Raise the timeout if the peer is just slow',
      details: { transport: code },
    });
  }
  if (req.signal?.aborted) {
    return new SluiceError('SYNC_ABORTED', `${where(req)} was abandoned: the run was stopped`, { status: 503, cause: error });
  }
  const known = code !== undefined && (DEFAULT_RETRY_POLICY.retryErrorCodes.includes(code) || code.startsWith('UND_ERR'));
  return new SluiceError('PEER_UNAVAILABLE', `${where(req)} failed: ${message}${code ? ` (${code})` : ''}`, {
    status: 502,
    cause: error,
    fix: known ? 'Check the URL and that the peer is running (a run retries a few times, and the next scheduled run tries again)' : 'Check the repository URL and proxy',
    details: code ? { transport: code } : {},
  });
}

/** Request body chunks of at most this size when paced: a cap is felt while sending, not only after. */
const PACED_CHUNK_BYTES = 4 * 1024;

async function* pacedBody(body: Buffer, pace: (bytes: number) => Promise<void>): AsyncGenerator<Buffer> {
  for (let at = 0; at < body.length; at += PACED_CHUNK_BYTES) {
    const chunk = body.subarray(at, at + PACED_CHUNK_BYTES);
    await pace(chunk.length);
    yield chunk;
  }
}

/** The body as undici should send it: paced chunks with the length declared (Eden's web2py wants it), or whole. */
function requestBody(req: PeerRequest): { body?: Buffer | Readable; headers: Record<string, string> } {
  if (req.body === undefined) return { headers: req.headers };
  if (!req.pace || req.body.length === 0) return { body: req.body, headers: req.headers };
  const declared = Object.keys(req.headers).some((name) => name.toLowerCase() === 'content-length');
  // A one-byte high-water mark: the stream must not read (and pace) chunks ahead of the socket.
  return { body: Readable.from(pacedBody(req.body, req.pace), { objectMode: false, highWaterMark: 1 }), headers: declared ? req.headers : { ...req.headers, 'content-length': String(req.body.length) } };
}

function headerRecord(raw: Record<string, string | string[] | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(raw)) {
    if (value !== undefined) out[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : value;
  }
  return out;
}

export function createUndiciTransport(options: UndiciTransportOptions = {}): ClosableTransport {
  const maxBytes = options.maxResponseBytes ?? 512 * 1024 * 1024;
  const direct = new Agent({ keepAliveTimeout: 10_000 });
  const proxies = new Map<string, ProxyAgent>();
  const dispatcherFor = (proxy: string | undefined): Dispatcher => {
    if (!proxy) return direct;
    let agent = proxies.get(proxy);
    if (!agent) {
      agent = new ProxyAgent({ uri: proxy });
      proxies.set(proxy, agent);
    }
    return agent;
  };

  const transport: PeerTransport = async (req: PeerRequest): Promise<PeerResponse> => {
    let response: Dispatcher.ResponseData;
    const outgoing = requestBody(req);
    try {
      response = await request(req.url, {
        method: req.method,
        headers: outgoing.headers,
        ...(outgoing.body === undefined ? {} : { body: outgoing.body }),
        dispatcher: dispatcherFor(req.proxy),
        headersTimeout: req.timeoutMs,
        bodyTimeout: req.timeoutMs,
        ...(req.signal ? { signal: req.signal } : {}),
      });
    } catch (error) {
      throw transportFailure(error, req);
    }
    const declared = Number(response.headers['content-length']);
    if (Number.isFinite(declared) && declared > maxBytes) {
      response.body.destroy();
      throw tooLarge(req, maxBytes);
    }
    const chunks: Buffer[] = [];
    let size = 0;
    try {
      for await (const chunk of response.body) {
        const buffer = chunk as Buffer;
        size += buffer.length;
        if (size > maxBytes) {
          response.body.destroy();
          throw tooLarge(req, maxBytes);
        }
        chunks.push(buffer);
        // Not reading while the cap waits lets TCP flow control slow the sender down as well.
        if (req.pace) await req.pace(buffer.length);
      }
    } catch (error) {
      throw transportFailure(error, req);
    }
    return { status: response.statusCode, headers: headerRecord(response.headers), body: Buffer.concat(chunks, size) };
  };

  return {
    transport,
    async close() {
      await Promise.all([direct.close(), ...[...proxies.values()].map((agent) => agent.close())]);
    },
  };
}

function tooLarge(req: PeerRequest, maxBytes: number): SluiceError {
  return new SluiceError('PEER_RESPONSE_TOO_LARGE', `${where(req)} answered more than ${maxBytes} bytes`, {
    status: 502,
    severity: 'limit',
    fix: 'Use URL filters to pull less at once, or raise the response limit',
  });
}
