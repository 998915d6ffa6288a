import type { Dispatcher } from 'undici';
import { SluiceError } from '../errors.js';
import { UpstreamStatusError, backoffDelay, classifyFailure, realSleep, retryPolicy, withRetry, type RetryPolicy } from '../net/retry.js';
import { systemClock, type Clock } from '../s3xml/timestamps.js';
import { assertTimeZone, v2LocalDateToEden } from './dates.js';
import { basicAuthHeader, createHttpTransport, throwIfTransient, type HttpResponse, type HttpTransport } from './http-transport.js';
import { IdCursorWindow } from './id-cursor.js';
import {
  assertPageSize,
  postNotFound,
  type PostPage,
  type StatusEntry,
  type TriageState,
  type TriageTarget,
  type UshahidiPost,
  type UshahidiSourceClient,
  type V2TriageState,
} from './source.js';

export interface UshahidiV2ClientOptions {
  /** The deployment's root, e.g. `http://haiti.ushahidi.com`; the API lives at `<base>/api`. */
  baseUrl: string;
  /** Needed for the admin task (status reads and approve/verify) and on private deployments. */
  username?: string;
  password?: string;
  /** `api` (clean URLs, the default) or `index.php/api`. */
  apiPath?: string;
  /** The deployment's `site_timezone`: v2 dates are local wall-clock time with no zone. */
  timeZone?: string;
  transport?: HttpTransport;
  dispatcher?: Dispatcher;
  timeoutMs?: number;
  retry?: Partial<RetryPolicy>;
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
  clock?: Clock;
  overlap?: number;
  /** The admin status sweep has no cursor; it asks for this many reports at once (default 100000). */
  sweepLimit?: number;
}

type JsonObject = Record<string, unknown>;

function isObject(value: unknown): value is JsonObject {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** What every v2 answer boils down to, whichever of its envelopes it used. */
export interface V2Envelope {
  code: string;
  message: string;
  payload: JsonObject | undefined;
}

/**
 * v2 answers HTTP 200 to nearly everything and puts the outcome in a code, in one of three
 * envelopes: `{payload, error}`, `{error}` alone, or a bare `{code, message}`.
 */
export function readEnvelope(text: string, what: string): V2Envelope {
  let body: unknown;
  try {
    body = JSON.parse(text.replace(/^\uFEFF/, ''));
  } catch (error) {
    throw new SluiceError('USHAHIDI_BAD_RESPONSE', `${what}: the answer is not JSON (${text.slice(0, 80)})`, {
      status: 502,
      cause: error,
      fix: 'Check that the base URL is the deployment root and that it runs the classic (v2) API',
    });
  }
  if (!isObject(body)) throw new SluiceError('USHAHIDI_BAD_RESPONSE', `${what}: expected a JSON object`, { status: 502 });
  const error = isObject(body.error) ? body.error : body;
  if (typeof error.code !== 'string' && typeof error.code !== 'number') {
    throw new SluiceError('USHAHIDI_BAD_RESPONSE', `${what}: no error code in the answer`, { status: 502 });
  }
  return {
    code: String(error.code),
    message: typeof error.message === 'string' ? error.message : '',
    payload: isObject(body.payload) ? body.payload : undefined,
  };
}

/** Codes other than 0 and 007 as errors. Messages may be localized, so only the code decides. */
function envelopeFailure(envelope: V2Envelope, what: string): SluiceError {
  const detail = `${what}: code ${envelope.code} "${envelope.message}"`;
  switch (envelope.code) {
    case '005':
      return new SluiceError('USHAHIDI_AUTH_FAILED', detail, { status: 401, fix: "Check the source's user and password" });
    case '006':
      return new SluiceError('USHAHIDI_ACCESS_DENIED', detail, {
        status: 403,
        fix: 'The deployment is private (give credentials), or this address is banned or over its daily API quota',
      });
    case '003':
      return new SluiceError('USHAHIDI_ACTION_FAILED', detail, { status: 502, severity: 'record' });
    case '999':
      return new SluiceError('USHAHIDI_NOT_CLASSIC_API', detail, {
        status: 502,
        fix: 'The server does not know this task: check the base URL and apiPath (api or index.php/api)',
      });
    default:
      return new SluiceError('USHAHIDI_REQUEST_REJECTED', detail, { status: 502 });
  }
}

function text(value: unknown): string {
  return typeof value === 'string' ? value : value === null || value === undefined ? '' : String(value);
}

function number(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? value : undefined;
  if (typeof value !== 'string' || value.trim() === '') return undefined;
  const n = Number(value);
  return Number.isFinite(n) ? n : undefined;
}

function flagsOf(incident: JsonObject): V2TriageState {
  return { api: 'v2', approved: text(incident.incidentactive) === '1', verified: text(incident.incidentverified) === '1' };
}

const MODES: Record<string, string> = { '1': 'web', '2': 'sms', '3': 'email', '4': 'twitter' };

export function normalizeV2Incident(entry: Record<string, unknown>, timeZone: string): UshahidiPost {
  const incident = isObject(entry.incident) ? entry.incident : {};
  const id = number(incident.incidentid);
  if (id === undefined) throw new SluiceError('USHAHIDI_BAD_RESPONSE', 'a v2 incident has no incidentid', { status: 502, severity: 'record' });
  const occurred = v2LocalDateToEden(incident.incidentdate, timeZone);
  if (!occurred) {
    throw new SluiceError('USHAHIDI_BAD_RESPONSE', `v2 incident ${id} has no readable incidentdate (${text(incident.incidentdate)})`, {
      status: 502,
      severity: 'record',
      details: { postId: id },
    });
  }
  const triage = flagsOf(incident);
  const categories = (Array.isArray(entry.categories) ? entry.categories : [])
    .map((c) => (isObject(c) && isObject(c.category) ? c.category : undefined))
    .filter((c): c is JsonObject => c !== undefined)
    .map((c) => ({ id: number(c.id) ?? 0, tag: text(c.title) }))
    .filter((c) => c.id > 0);
  // An empty PHP array is `[]`; a keyed one is an object.
  const fields = isObject(entry.customfields) ? Object.values(entry.customfields) : [];
  const values: Record<string, unknown> = {};
  for (const field of fields) {
    if (isObject(field) && typeof field.field_name === 'string') values[field.field_name] = field.field_response ?? null;
  }
  const media = (Array.isArray(entry.media) ? entry.media : []).filter(isObject).map((m) => ({
    type: text(m.type),
    url: text(m.link_url) || text(m.link),
  }));
  const post: UshahidiPost = {
    id,
    title: text(incident.incidenttitle),
    content: text(incident.incidentdescription),
    status: triage.approved ? 'published' : 'draft',
    triage,
    // v2 exposes no creation or modification time; the incident date is the best there is.
    created: occurred,
    occurred,
    categories,
    values,
    raw: entry,
  };
  const lat = number(incident.locationlatitude);
  const lon = number(incident.locationlongitude);
  if (lat !== undefined && lon !== undefined) {
    post.lat = lat;
    post.lon = lon;
  }
  const locationName = text(incident.locationname);
  if (locationName !== '') post.locationName = locationName;
  const mode = MODES[text(incident.incidentmode)];
  if (mode) post.source = mode;
  if (media.length > 0) post.media = media;
  return post;
}

export class UshahidiV2Client implements UshahidiSourceClient {
  readonly api = 'v2' as const;
  private readonly endpoint: string;
  private readonly transport: HttpTransport;
  private readonly policy: RetryPolicy;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly random: () => number;
  private readonly clock: Clock;
  private readonly timeZone: string;
  private readonly window: IdCursorWindow;
  /** One writer per incident: toggles interleaved with themselves would undo each other. */
  private readonly writing = new Map<number, Promise<unknown>>();

  constructor(private readonly options: UshahidiV2ClientOptions) {
    const base = options.baseUrl.replace(/\/+$/, '');
    this.endpoint = `${base}/${(options.apiPath ?? 'api').replace(/^\/+|\/+$/g, '')}`;
    this.transport = options.transport ?? createHttpTransport({ dispatcher: options.dispatcher, timeoutMs: options.timeoutMs });
    this.policy = retryPolicy(options.retry);
    this.sleep = options.sleep ?? realSleep;
    this.random = options.random ?? Math.random;
    this.clock = options.clock ?? systemClock;
    this.timeZone = options.timeZone ?? 'UTC';
    assertTimeZone(this.timeZone);
    this.window = new IdCursorWindow(options.overlap ?? 50);
  }

  private headers(): Record<string, string> {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (this.options.username !== undefined && this.options.password !== undefined) {
      headers.authorization = basicAuthHeader(this.options.username, this.options.password);
    }
    return headers;
  }

  private requireCredentials(what: string): void {
    if (this.options.username === undefined || this.options.password === undefined) {
      throw new SluiceError('USHAHIDI_CREDENTIALS_REQUIRED', `${what} needs the admin API, which needs a user and password`, {
        status: 400,
        fix: 'Give the source a --user and --password of a deployment admin',
      });
    }
  }

  private checkStatus(res: HttpResponse, what: string): void {
    throwIfTransient(res, what, this.clock.now().getTime());
    if (res.status === 401) {
      throw new UpstreamStatusError('USHAHIDI_AUTH_FAILED', `${what}: the deployment refused the credentials (HTTP 401)`, 401, {
        fix: "Check the source's user and password",
      });
    }
    if (res.status !== 200) {
      throw new UpstreamStatusError('USHAHIDI_REQUEST_REJECTED', `${what}: HTTP ${res.status}`, res.status, {
        fix: 'Check the base URL and apiPath',
      });
    }
  }

  private query(params: Record<string, string>, what: string): Promise<V2Envelope> {
    const url = `${this.endpoint}?${new URLSearchParams({ ...params, resp: 'json' }).toString()}`;
    return withRetry(
      async () => {
        const res = await this.transport({ method: 'GET', url, headers: this.headers() });
        this.checkStatus(res, what);
        return readEnvelope(res.text, what);
      },
      { policy: this.policy, sleep: this.sleep, random: this.random },
    );
  }

  private incidentsOf(envelope: V2Envelope, what: string): JsonObject[] {
    if (envelope.code === '007') return [];
    if (envelope.code !== '0') throw envelopeFailure(envelope, what);
    const incidents = envelope.payload?.incidents;
    if (!Array.isArray(incidents)) throw new SluiceError('USHAHIDI_BAD_RESPONSE', `${what}: no incidents in the payload`, { status: 502 });
    return incidents.filter(isObject);
  }

  /**
   * Approved incidents only (the public task hides the rest). `sinceid` is exclusive; the order
   * must be forced to ascending ids, or the server returns the newest incident dates instead.
   * The loop ends on an empty answer, not a short page, because deployments may cap `limit`.
   */
  async *fetchPostsSince(cursor: number, pageSize: number): AsyncGenerator<PostPage> {
    assertPageSize(pageSize);
    const run = this.window.begin(cursor);
    for (;;) {
      const what = `Ushahidi v2 incidents after id ${run.requestAfter}`;
      const url = `${this.endpoint}?${new URLSearchParams({
        task: 'incidents',
        by: 'sinceid',
        id: String(run.requestAfter),
        orderfield: 'incidentid',
        sort: '0',
        limit: String(pageSize),
        comments: '1',
        resp: 'json',
      }).toString()}`;
      const { envelope, raw } = await withRetry(
        async () => {
          const res = await this.transport({ method: 'GET', url, headers: this.headers() });
          this.checkStatus(res, what);
          return { envelope: readEnvelope(res.text, what), raw: res.text };
        },
        { policy: this.policy, sleep: this.sleep, random: this.random },
      );
      const incidents = this.incidentsOf(envelope, what);
      if (incidents.length === 0) return;
      let maxId = run.requestAfter;
      const posts: UshahidiPost[] = [];
      for (const entry of incidents) {
        const post = normalizeV2Incident(entry, this.timeZone);
        maxId = Math.max(maxId, post.id);
        if (run.admit(post.id)) posts.push(post);
      }
      if (maxId <= run.requestAfter) {
        throw new SluiceError('USHAHIDI_BAD_RESPONSE', `${what}: the server ignored the id cursor`, {
          status: 502,
          fix: 'The deployment may be Ushahidi 1.0, whose sinceid ignores limit and order; it is not supported',
        });
      }
      posts.sort((a, b) => a.id - b.id);
      run.advancePast(maxId);
      if (posts.length > 0) yield { posts, raw, nextCursor: run.nextCursor };
    }
  }

  async getStatus(postId: number): Promise<TriageState> {
    const what = `Ushahidi v2 report ${postId}`;
    this.requireCredentials(what);
    const envelope = await this.query({ task: 'reports', by: 'incidentid', id: String(postId) }, what);
    const incidents = this.incidentsOf(envelope, what);
    const entry = incidents.find((i) => isObject(i.incident) && number(i.incident.incidentid) === postId);
    if (!entry) throw postNotFound(postId);
    return flagsOf(entry.incident as JsonObject);
  }

  async *sweepStatuses(pageSize: number): AsyncGenerator<StatusEntry[]> {
    assertPageSize(pageSize);
    const what = 'Ushahidi v2 report status sweep';
    this.requireCredentials(what);
    // The admin listing has no id cursor: one big ascending request, handed out in pages.
    const envelope = await this.query(
      { task: 'reports', by: 'all', orderfield: 'incidentid', sort: '0', limit: String(this.options.sweepLimit ?? 100_000) },
      what,
    );
    const entries: StatusEntry[] = [];
    for (const entry of this.incidentsOf(envelope, what)) {
      const incident = isObject(entry.incident) ? entry.incident : undefined;
      const id = incident ? number(incident.incidentid) : undefined;
      if (incident && id !== undefined) entries.push({ id, state: flagsOf(incident) });
    }
    entries.sort((a, b) => a.id - b.id);
    for (let i = 0; i < entries.length; i += pageSize) yield entries.slice(i, i + pageSize);
  }

  /**
   * approve/verify flip a flag, so a blind retry can undo itself. Protocol: read, POST the one
   * action whose flag differs, read again. After a failed POST the next read tells whether it
   * landed; after a successful one, a flag that still differs means someone else toggled it too,
   * and the client stops rather than fight a moderator.
   */
  setStatus(postId: number, target: TriageTarget): Promise<'changed' | 'unchanged'> {
    if (target.api !== 'v2') {
      return Promise.reject(
        new SluiceError('USHAHIDI_WRONG_TRIAGE_TARGET', 'a v2 deployment takes approved/verified flags, not a v5 status', {
          status: 400,
          fix: "Map the triage states to v2 flags in the source's value mapping",
        }),
      );
    }
    const previous = this.writing.get(postId) ?? Promise.resolve();
    const next = previous.catch(() => undefined).then(() => this.applyFlags(postId, target));
    this.writing.set(postId, next);
    void next.finally(() => {
      if (this.writing.get(postId) === next) this.writing.delete(postId);
    }).catch(() => undefined);
    return next;
  }

  private async applyFlags(postId: number, target: { approved?: boolean; verified?: boolean }): Promise<'changed' | 'unchanged'> {
    // A POST that left counts as our change once the flags match, even if its answer was lost.
    let sent = false;
    let justToggled: 'approve' | 'verify' | undefined;
    for (let attempt = 1; ; attempt++) {
      const state = (await this.getStatus(postId)) as V2TriageState;
      const action: 'approve' | 'verify' | undefined =
        target.approved !== undefined && state.approved !== target.approved
          ? 'approve'
          : target.verified !== undefined && state.verified !== target.verified
            ? 'verify'
            : undefined;
      if (action === undefined) return sent ? 'changed' : 'unchanged';
      if (action === justToggled) {
        throw new SluiceError('USHAHIDI_TOGGLE_UNCONFIRMED', `report ${postId}: "${action}" succeeded but the flag did not change; another moderator may have toggled it`, {
          status: 409,
          severity: 'record',
          fix: 'Check the report in Ushahidi; the next reconcile will pick up its real state',
          details: { postId, action },
        });
      }
      justToggled = undefined;
      sent = true;
      try {
        await this.postAction(postId, action);
        justToggled = action;
      } catch (error) {
        const decision = classifyFailure(error, this.policy);
        if (!decision.retry || attempt >= this.policy.maxAttempts) throw error;
        await this.sleep(Math.min(this.policy.maxDelayMs, decision.afterMs ?? backoffDelay(attempt, this.policy, this.random)));
      }
      if (attempt >= this.policy.maxAttempts * 2) {
        throw new SluiceError('USHAHIDI_STATUS_NOT_APPLIED', `report ${postId} did not reach the target flags`, { status: 502 });
      }
    }
  }

  /** One POST, never retried here: the caller re-reads before deciding to send it again. */
  private async postAction(postId: number, action: 'approve' | 'verify'): Promise<void> {
    const what = `Ushahidi v2 ${action} report ${postId}`;
    // A POST's parameters must all be in the form body: PHP reads only $_POST then.
    const res = await this.transport({
      method: 'POST',
      url: this.endpoint,
      headers: { ...this.headers(), 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ task: 'reports', action, incident_id: String(postId), resp: 'json' }).toString(),
    });
    this.checkStatus(res, what);
    const envelope = readEnvelope(res.text, what);
    if (envelope.code !== '0') throw envelopeFailure(envelope, what);
  }
}
