import { request, type Dispatcher } from 'undici';
import { SluiceError } from '../errors.js';
import { DEFAULT_RETRY_POLICY, UpstreamStatusError, parseRetryAfter } from '../net/retry.js';

export interface HttpRequest {
  method: 'GET' | 'POST' | 'PATCH' | 'PUT';
  url: string;
  headers?: Record<string, string>;
  body?: string;
}

export interface HttpResponse {
  status: number;
  headers: Record<string, string>;
  text: string;
}

/** Moves bytes and nothing else; clients decide what a status means. */
export type HttpTransport = (req: HttpRequest) => Promise<HttpResponse>;

export interface HttpTransportOptions {
  /** An undici Agent/Pool/MockAgent; the global dispatcher when absent. */
  dispatcher?: Dispatcher;
  /** Applies separately to waiting for headers and to gaps while reading the body. */
  timeoutMs?: number;
  /** A hostile or broken upstream must not fill memory. */
  maxResponseBytes?: number;
}

const TIMEOUT_CODES = new Set(['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'UND_ERR_CONNECT_TIMEOUT', 'ETIMEDOUT']);

function headerRecord(raw: Record<string, string | string[] | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(raw)) {
    if (value === undefined) continue;
    out[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : value;
  }
  return out;
}

function transportFailure(error: unknown, req: HttpRequest): SluiceError {
  const code = (error as { code?: unknown }).code;
  const where = `${req.method} ${new URL(req.url).origin}${new URL(req.url).pathname}`;
  if (typeof code === 'string' && TIMEOUT_CODES.has(code)) {
    return new SluiceError('UPSTREAM_TIMEOUT', `${where} timed out (${code})`, {
      status: 504,
      cause: error,
      fix: 'The remote server is slow or unreachable; the request is retried, raise the timeout if it keeps failing',
    });
  }
  if (typeof code === 'string' && DEFAULT_RETRY_POLICY.retryErrorCodes.includes(code)) {
    return new SluiceError('UPSTREAM_UNREACHABLE', `${where} failed: ${(error as Error).message} (${code})`, {
      status: 502,
      cause: error,
      fix: 'Check the base URL and that the remote server is up',
    });
  }
  return new SluiceError('UPSTREAM_REQUEST_FAILED', `${where} failed: ${String((error as Error)?.message ?? error)}`, {
    status: 502,
    cause: error,
  });
}

export function createHttpTransport(options: HttpTransportOptions = {}): HttpTransport {
  const timeoutMs = options.timeoutMs ?? 30_000;
  const maxBytes = options.maxResponseBytes ?? 64 * 1024 * 1024;
  return async (req) => {
    let response: Dispatcher.ResponseData;
    try {
      response = await request(req.url, {
        method: req.method,
        headers: req.headers,
        body: req.body,
        dispatcher: options.dispatcher,
        headersTimeout: timeoutMs,
        bodyTimeout: timeoutMs,
      });
    } catch (error) {
      throw transportFailure(error, req);
    }
    const chunks: Buffer[] = [];
    let size = 0;
    try {
      for await (const chunk of response.body) {
        const buffer = chunk as Buffer;
        size += buffer.length;
        if (size > maxBytes) {
          response.body.destroy();
          throw new SluiceError('UPSTREAM_RESPONSE_TOO_LARGE', `${req.method} ${req.url} answered more than ${maxBytes} bytes`, {
            status: 502,
            severity: 'limit',
            fix: 'Request smaller pages',
          });
        }
        chunks.push(buffer);
      }
    } catch (error) {
      if (error instanceof SluiceError) throw error;
      throw transportFailure(error, req);
    }
    return {
      status: response.statusCode,
      headers: headerRecord(response.headers),
      text: Buffer.concat(chunks).toString('utf8'),
    };
  };
}

/** The statuses every Ushahidi API may answer with "try again later" (5xx, 408, 429) as a retryable error. */
export function throwIfTransient(res: HttpResponse, what: string, nowMs: number, describe?: (res: HttpResponse) => string): void {
  if (res.status >= 500 || res.status === 408 || res.status === 429 || res.status === 425) {
    const message = describe?.(res);
    throw new UpstreamStatusError('USHAHIDI_UNAVAILABLE', `${what}: HTTP ${res.status}${message ? ` ${message}` : ''}`, res.status, {
      retryAfterMs: parseRetryAfter(res.headers['retry-after'], nowMs),
      fix: 'The Ushahidi server is failing or throttling; the request is retried with backoff',
    });
  }
}

export function basicAuthHeader(user: string, password: string): string {
  return `Basic ${Buffer.from(`${user}:${password}`, 'utf8').toString('base64')}`;
}
