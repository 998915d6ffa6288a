/**
 * Eden's sync protocol from the active side (reference §2.5), spoken to an Eden instance or to
 * another Sluice: read the peer's fingerprint, register, pull a page, push a document. Every call
 * goes through the shared retry policy (net/retry.ts): transport failures, timeouts and 5xx/429
 * are retried with backoff and jitter, honouring Retry-After; other 4xx are not. Eden answers a
 * failed push with HTTP 200 and `"status":"failed"`, so replies are always parsed.
 *
 * Credentials go out as pre-emptive HTTP Basic (as Eden's adapter does) and never into a URL, a
 * capture or a log line.
 *
 * Wire format: S3XML always for Eden. A Sluice peer may be spoken to in S3JSON (`wireFormat`):
 * pulls ask `GET /sync/sync.s3json` (Eden's `.s3json` representation) and pushes POST S3JSON to the
 * same path. The client converts at the seam, so pull and push keep handling S3XML documents.
 */
import { SluiceError } from '../errors.js';
import { classifyFailure, parseRetryAfter, UpstreamStatusError, withRetry, type RetryDecision, type RetryOptions, type RetryPolicy } from '../net/retry.js';
import { formatTimestamp, type Clock } from '../s3xml/timestamps.js';
import { parseS3XML } from '../s3xml/parse.js';
import { parseS3JSON, stringifyS3JSON } from '../s3xml/s3json.js';
import { serializeS3XML } from '../s3xml/serialize.js';
import type { WireFormat } from '../transports/low-bandwidth-settings.js';
import type { CaptureRecorder } from './capture.js';
import { RETRYABLE_TRANSPORT_CODES, type PeerRequest, type PeerResponse, type PeerTransport } from './transport.js';

export interface PeerFingerprint {
  uuid: string;
  name?: string;
  software: 'sluice';
  version?: string;
  /** The peer's bundle signing key (base64 SPKI DER), checked when its offline bundles arrive. */
  public_key?: string;
}

export interface PeerCredentials {
  username: string;
  password: string;
}

export interface RetryNotice {
  what: string;
  attempt: number;
  delayMs: number;
  error: unknown;
}

export interface PeerClientOptions {
  /** The peer's base URL including any application path, e.g. `https://host/eden`. */
  baseUrl: string;
  credentials?: PeerCredentials;
  proxy?: string;
  transport: PeerTransport;
  timeoutMs: number;
  retry?: RetryOptions;
  clock: Clock;
  recorder?: CaptureRecorder;
  signal?: AbortSignal;
  onRetry?: (notice: RetryNotice) => void;
  /** `s3json` for Sluice peers that should be spoken to in S3JSON; default `s3xml`. */
  wireFormat?: WireFormat;
}

export interface PullParams {
  resource: string;
  /** This gateway's uuid (Eden's `repository=`). */
  repository: string;
  msince?: string;
  /** Sluice peers: the exact change feed after this seq, `limit` changes per table at most. */
  sinceSeq?: number;
  limit?: number;
  /** `key=value` URL filters; sent as `[~]key=value` like Eden's sync filters. */
  filters: readonly string[];
  components: boolean;
}

export interface PushParams {
  resource: string;
  repository: string;
  strategy: readonly string[];
  updatePolicy: string;
  conflictPolicy: string;
  msince?: string;
}

/** Eden's JSON message (reference §2.6). */
export interface EdenReply {
  status: string;
  statuscode?: string;
  message?: string;
  [key: string]: unknown;
}

function basicAuth(credentials: PeerCredentials): string {
  return `Basic ${Buffer.from(`${credentials.username}:${credentials.password}`, 'utf8').toString('base64')}`;
}

/** Eden's adapter strips markup from error pages and reads `message` from JSON replies. */
export function describeErrorBody(body: Buffer): string {
  const text = body.subarray(0, 64 * 1024).toString('utf8').trim();
  if (text.startsWith('{')) {
    try {
      const parsed = JSON.parse(text) as { message?: unknown };
      if (typeof parsed.message === 'string') return parsed.message;
    } catch {
      // not JSON after all
    }
  }
  return text.replace(/<[^>]*>/g, ' ').replace(/\s+/g, ' ').trim().slice(0, 300);
}

function parseJson(body: Buffer, what: string): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(body.toString('utf8'));
    if (value !== null && typeof value === 'object' && !Array.isArray(value)) return value as Record<string, unknown>;
  } catch {
    // fall through
  }
  throw new SluiceError('PEER_BAD_RESPONSE', `${what}: the peer's answer is not a JSON message: ${describeErrorBody(body).slice(0, 120)}`, {
    status: 502,
    fix: 'Check that the URL points at an Eden or Sluice instance (including its application path, e.g. /eden)',
  });
}

/** Transport failures and the statuses the retry policy names are retried; nothing else is. */
export function classifyPeerFailure(error: unknown, policy: RetryPolicy): RetryDecision {
  if (error instanceof SluiceError && RETRYABLE_TRANSPORT_CODES.includes(error.code)) return { retry: true };
  if (error instanceof SluiceError && !(error instanceof UpstreamStatusError)) return { retry: false };
  return classifyFailure(error, policy);
}

/** An S3JSON page as the S3XML document the pull reads (root attributes such as last_seq kept). */
function s3xmlOfS3JSON(body: Buffer, what: string): Buffer {
  try {
    return Buffer.from(serializeS3XML(parseS3JSON(body.toString('utf8'))), 'utf8');
  } catch (error) {
    throw new SluiceError('PEER_BAD_RESPONSE', `${what}: the peer's answer is not S3JSON: ${error instanceof Error ? error.message : String(error)}`, {
      status: 502,
      cause: error,
      fix: 'A cut or garbled answer: the next run asks for the same page again. If it persists, set the repository\'s wire_format to s3xml',
    });
  }
}

/**
 * The push document in the wire format. A record S3JSON cannot carry (a field named like an
 * S3JSON key) sends that page as S3XML instead, which the Sluice peer reads as well.
 */
async function pushBody(document: Buffer, wireFormat: WireFormat): Promise<{ format: WireFormat; body: Buffer }> {
  if (wireFormat === 's3xml') return { format: 's3xml', body: document };
  try {
    return { format: 's3json', body: Buffer.from(stringifyS3JSON(await parseS3XML(document)), 'utf8') };
  } catch (error) {
    if (error instanceof SluiceError && error.code === 'S3JSON_UNSERIALIZABLE') return { format: 's3xml', body: document };
    throw error;
  }
}

export class PeerClient {
  readonly baseUrl: string;
  readonly wireFormat: WireFormat;

  constructor(private readonly options: PeerClientOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.wireFormat = options.wireFormat ?? 's3xml';
  }

  private url(path: string, query: [string, string][] = []): string {
    const search = new URLSearchParams(query).toString();
    return `${this.baseUrl}${path}${search ? `?${search}` : ''}`;
  }

  /** One exchange, retried by policy, each attempt captured. */
  private async exchange(
    what: string,
    mode: string,
    resource: string | undefined,
    request: Omit<PeerRequest, 'timeoutMs' | 'proxy' | 'signal'>,
    authenticate: boolean,
    accept: (response: PeerResponse) => boolean,
  ): Promise<PeerResponse> {
    const { options } = this;
    const headers: Record<string, string> = { ...request.headers };
    if (authenticate && options.credentials) headers.authorization = basicAuth(options.credentials);
    return withRetry(
      async () => {
        if (options.signal?.aborted) throw new SluiceError('SYNC_ABORTED', `${what} was not sent: the run was stopped`, { status: 503 });
        const started = formatTimestamp(options.clock.now());
        let response: PeerResponse;
        try {
          response = await options.transport({
            ...request,
            headers,
            timeoutMs: options.timeoutMs,
            ...(options.proxy ? { proxy: options.proxy } : {}),
            ...(options.signal ? { signal: options.signal } : {}),
          });
        } catch (error) {
          options.recorder?.record({
            at: started,
            mode,
            ...(resource === undefined ? {} : { resource }),
            method: request.method,
            url: request.url,
            ...(request.body === undefined ? {} : { requestBody: request.body }),
            error: error instanceof Error ? `${(error as { code?: string }).code ?? 'ERROR'}: ${error.message}` : String(error),
          });
          throw error;
        }
        options.recorder?.record({
          at: started,
          mode,
          ...(resource === undefined ? {} : { resource }),
          method: request.method,
          url: request.url,
          status: response.status,
          ...(request.body === undefined ? {} : { requestBody: request.body }),
          responseBody: response.body,
        });
        if (!accept(response)) throw this.statusError(what, response);
        return response;
      },
      {
        ...options.retry,
        classify: options.retry?.classify ?? classifyPeerFailure,
        onRetry: (event) => {
          options.retry?.onRetry?.(event);
          options.onRetry?.({ what, ...event });
        },
      },
    );
  }

  private statusError(what: string, response: PeerResponse): UpstreamStatusError {
    const detail = describeErrorBody(response.body);
    const retryAfterMs = parseRetryAfter(response.headers['retry-after'], this.options.clock.now().getTime());
    const common = { ...(retryAfterMs === undefined ? {} : { retryAfterMs }) };
    if (response.status === 401) {
      return new UpstreamStatusError('PEER_AUTH_FAILED', `${what}: the peer refused the credentials (HTTP 401)${detail ? `: ${detail}` : ''}`, 401, {
        ...common,
        fix: 'Check the username (Eden: the email) and password stored for this repository',
      });
    }
    if (response.status === 403 && /registration required/i.test(detail)) {
      return new UpstreamStatusError('PEER_REGISTRATION_REQUIRED', `${what}: the peer does not know this gateway (HTTP 403 Registration required)`, 403, {
        ...common,
        fix: 'Register with the peer again (sluice repo add, or POST /api/repositories/<uuid>/register)',
      });
    }
    if (response.status === 403) {
      return new UpstreamStatusError('PEER_FORBIDDEN', `${what}: the peer refused the operation (HTTP 403)${detail ? `: ${detail}` : ''}`, 403, {
        ...common,
        fix: 'The peer user needs permission for the sync controller and the table (Eden: usually ADMIN)',
      });
    }
    return new UpstreamStatusError('PEER_HTTP_ERROR', `${what}: HTTP ${response.status}${detail ? ` ${detail}` : ''}`, response.status, {
      ...common,
      fix: response.status >= 500 ? 'The peer failed; the request is retried and the next run starts from the last committed page' : 'Check the repository URL and the task',
    });
  }

  /** Sluice peers publish their identity without credentials; Eden has no such page (undefined). */
  async fingerprint(): Promise<PeerFingerprint | undefined> {
    const response = await this.exchange(
      'fingerprint',
      'register/outgoing',
      undefined,
      { method: 'GET', url: this.url('/sync/config.json'), headers: { accept: 'application/json' } },
      false,
      (res) => res.status === 200 || res.status === 404 || res.status === 401 || res.status === 403,
    );
    if (response.status !== 200) return undefined;
    let body: Record<string, unknown>;
    try {
      body = parseJson(response.body, 'fingerprint');
    } catch {
      return undefined;
    }
    if (typeof body.uuid !== 'string' || body.uuid === '') return undefined;
    return {
      uuid: body.uuid,
      software: 'sluice',
      ...(typeof body.name === 'string' ? { name: body.name } : {}),
      ...(typeof body.version === 'string' ? { version: body.version } : {}),
      ...(typeof body.public_key === 'string' && body.public_key !== '' ? { public_key: body.public_key } : {}),
    };
  }

  /** Eden's registration: tells the peer who we are, learns its uuid from `sender`. */
  async register(own: { uuid: string; name: string }): Promise<{ sender: string; reply: EdenReply }> {
    const response = await this.exchange(
      'register',
      'register/outgoing',
      undefined,
      {
        method: 'POST',
        url: this.url('/sync/repository/register.json'),
        headers: { 'content-type': 'application/json', accept: 'application/json' },
        body: Buffer.from(JSON.stringify({ uuid: own.uuid, name: own.name, apitype: 'eden' })),
      },
      true,
      (res) => res.status === 200,
    );
    const reply = parseJson(response.body, 'register') as EdenReply;
    if (reply.status !== 'success' || typeof reply.sender !== 'string' || reply.sender === '') {
      throw new SluiceError('PEER_REGISTRATION_FAILED', `register: the peer answered ${reply.status ?? 'without a status'}${reply.message ? `: ${reply.message}` : ''}`, {
        status: 502,
        fix: 'The peer user needs create and update permission on sync_repository',
      });
    }
    return { sender: reply.sender, reply };
  }

  /** One pull request; the body is the S3XML document (whole for Eden, one page for Sluice). */
  async pull(params: PullParams): Promise<Buffer> {
    const query: [string, string][] = [
      ['resource', params.resource],
      ['repository', params.repository],
    ];
    if (params.msince !== undefined) query.push(['msince', params.msince]);
    if (params.sinceSeq !== undefined) query.push(['since_seq', String(params.sinceSeq)]);
    if (params.limit !== undefined) query.push(['limit', String(params.limit)]);
    if (!params.components) query.push(['mcomponents', 'None']);
    query.push(['include_deleted', 'True']);
    for (const filter of params.filters) {
      const at = filter.indexOf('=');
      query.push([`[~]${filter.slice(0, at)}`, filter.slice(at + 1)]);
    }
    const json = this.wireFormat === 's3json';
    const response = await this.exchange(
      `pull ${params.resource}`,
      'pull/outgoing',
      params.resource,
      {
        method: 'GET',
        url: this.url(json ? '/sync/sync.s3json' : '/sync/sync.xml', query),
        headers: { accept: json ? 'application/json' : 'application/xml, text/xml' },
      },
      true,
      (res) => res.status === 200,
    );
    return json ? s3xmlOfS3JSON(response.body, `pull ${params.resource}`) : response.body;
  }

  /** One push; resolves with Eden's reply, throws PEER_PUSH_FAILED when the peer says it failed. */
  async push(params: PushParams, document: Buffer): Promise<EdenReply> {
    const query: [string, string][] = [
      ['resource', params.resource],
      ['repository', params.repository],
      ['strategy', params.strategy.join(',')],
      ['update_policy', params.updatePolicy],
      ['conflict_policy', params.conflictPolicy],
    ];
    if (params.msince !== undefined) query.push(['msince', params.msince]);
    const wire = await pushBody(document, this.wireFormat);
    const json = wire.format === 's3json';
    const response = await this.exchange(
      `push ${params.resource}`,
      'push/outgoing',
      params.resource,
      {
        method: 'POST',
        url: this.url(json ? '/sync/sync.s3json' : '/sync/sync.xml', query),
        headers: { 'content-type': json ? 'application/json; charset=utf-8' : 'text/xml; charset=utf-8', accept: 'application/json' },
        body: wire.body,
      },
      true,
      (res) => res.status === 200,
    );
    const reply = parseJson(response.body, `push ${params.resource}`) as EdenReply;
    if (reply.status !== 'success') {
      throw new SluiceError('PEER_PUSH_FAILED', `push ${params.resource}: the peer answered HTTP 200 with status ${String(reply.status)}${reply.statuscode ? ` (${reply.statuscode})` : ''}${reply.message ? `: ${reply.message}` : ''}`, {
        status: 502,
        fix: 'The peer refused the import (see its message); nothing is marked as pushed, the next run sends it again',
        details: { reply: { status: reply.status, statuscode: reply.statuscode, message: reply.message } },
      });
    }
    return reply;
  }
}
