import type { Dispatcher } from 'undici';
import { SluiceError } from '../errors.js';
import { UpstreamStatusError, backoffDelay, classifyFailure, realSleep, retryPolicy, withRetry, type RetryPolicy } from '../net/retry.js';
import { systemClock, type Clock } from '../s3xml/timestamps.js';
import { v5DateToEden } from './dates.js';
import { createHttpTransport, throwIfTransient, type HttpRequest, type HttpResponse, type HttpTransport } from './http-transport.js';
import { IdCursorWindow } from './id-cursor.js';
import { assertPageSize, postNotFound, type PostPage, type StatusEntry, type TriageState, type TriageTarget, type UshahidiPost, type UshahidiSourceClient } from './source.js';

/** The public web client's id and secret (sha1("ushahidiui")), seeded in every platform install; not a secret. */
export const USHAHIDI_UI_CLIENT_ID = 'ushahidiui';
export const USHAHIDI_UI_CLIENT_SECRET = '35e7f0bca957836d05ca0492211b0ac707671261';

/** Fields a fetch asks for; anything not listed in `only` is silently absent from the answer. */
const POST_FIELDS = 'id,form_id,status,title,content,post_date,created,updated,source,locale,base_language,post_content,categories';

export interface UshahidiV5ClientOptions {
  /** The deployment's API host, e.g. `https://haiti.api.ushahidi.io`. */
  baseUrl: string;
  /** The account's email address (Passport looks users up by email). */
  username: string;
  password: string;
  clientId?: string;
  clientSecret?: string;
  scope?: string;
  transport?: HttpTransport;
  /** Used when no transport is given. */
  dispatcher?: Dispatcher;
  timeoutMs?: number;
  retry?: Partial<RetryPolicy>;
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
  clock?: Clock;
  /** Ids re-read below the cursor on every fetch (default 50). */
  overlap?: number;
}

interface TokenSet {
  accessToken: string;
  refreshToken: string | undefined;
  /** Epoch ms after which the token is renewed before use. */
  renewAfter: number;
}

type JsonObject = Record<string, unknown>;

function isObject(value: unknown): value is JsonObject {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** Reads a message out of any of v5's error envelopes (§2.7 of the reference). */
function errorMessage(text: string): string {
  try {
    const body: unknown = JSON.parse(text);
    if (isObject(body)) {
      if (Array.isArray(body.errors) && isObject(body.errors[0]) && typeof body.errors[0].message === 'string') return body.errors[0].message;
      if (isObject(body.errors) && typeof body.errors.message === 'string') return body.errors.message;
      if (typeof body.message === 'string') return body.message;
      if (typeof body.messages === 'string') return body.messages;
      if (typeof body.error_description === 'string') return body.error_description;
    }
  } catch {
    // not JSON: an HTML error page from Laravel or a proxy
  }
  return text.replace(/<[^>]*>/g, ' ').replace(/\s+/g, ' ').trim().slice(0, 200);
}

const describeError = (res: HttpResponse): string => errorMessage(res.text);

function parseJson(res: HttpResponse, what: string): JsonObject {
  let body: unknown;
  try {
    body = JSON.parse(res.text);
  } catch (error) {
    throw new SluiceError('USHAHIDI_BAD_RESPONSE', `${what}: the answer is not JSON (${res.text.slice(0, 80)})`, {
      status: 502,
      cause: error,
      fix: 'Check that the base URL points at the Ushahidi platform API host, not the web client',
    });
  }
  if (!isObject(body)) throw new SluiceError('USHAHIDI_BAD_RESPONSE', `${what}: expected a JSON object`, { status: 502 });
  return body;
}

function toNumber(value: unknown): number | undefined {
  const n = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
  return typeof n === 'number' && Number.isFinite(n) ? n : undefined;
}

/** The post's fields that are neither title, description, location nor categories, keyed by label. */
function readSurveyFields(post: JsonObject): { values: Record<string, unknown>; lat?: number; lon?: number } {
  const values: Record<string, unknown> = {};
  let lat: number | undefined;
  let lon: number | undefined;
  const tasks = Array.isArray(post.post_content) ? post.post_content : [];
  for (const task of tasks) {
    if (!isObject(task) || !Array.isArray(task.fields)) continue;
    for (const field of task.fields) {
      if (!isObject(field) || field.value === null || field.value === undefined) continue;
      const type = field.type;
      if (type === 'title' || type === 'description' || type === 'tags') continue;
      const inner = isObject(field.value) && 'value' in field.value ? field.value.value : field.value;
      if (type === 'point') {
        if (isObject(inner) && lat === undefined) {
          lat = toNumber(inner.lat);
          lon = toNumber(inner.lon);
        }
        continue;
      }
      const label = typeof field.label === 'string' && field.label !== '' ? field.label : String(field.key ?? field.id);
      values[label in values ? `${label} (${String(field.key ?? field.id)})` : label] = inner;
    }
  }
  return { values, lat, lon };
}

export function normalizeV5Post(post: Record<string, unknown>): UshahidiPost {
  const id = toNumber(post.id);
  if (id === undefined) throw new SluiceError('USHAHIDI_BAD_RESPONSE', 'a v5 post has no numeric id', { status: 502, severity: 'record' });
  const status = typeof post.status === 'string' ? post.status : 'draft';
  const created = v5DateToEden(post.created);
  if (!created) {
    throw new SluiceError('USHAHIDI_BAD_RESPONSE', `v5 post ${id} has no readable "created" (${String(post.created)})`, {
      status: 502,
      severity: 'record',
      details: { postId: id },
    });
  }
  const { values, lat, lon } = readSurveyFields(post);
  const categories = (Array.isArray(post.categories) ? post.categories : [])
    .filter(isObject)
    .map((c) => ({ id: toNumber(c.id) ?? 0, tag: typeof c.tag === 'string' ? c.tag : '' }))
    .filter((c) => c.id > 0);
  const language = typeof post.base_language === 'string' && post.base_language !== '' ? post.base_language : typeof post.locale === 'string' ? post.locale : undefined;
  const normalized: UshahidiPost = {
    id,
    title: typeof post.title === 'string' ? post.title : '',
    content: typeof post.content === 'string' ? post.content : '',
    status,
    triage: { api: 'v5', status },
    created,
    categories,
    values,
    raw: post,
  };
  const updated = v5DateToEden(post.updated);
  if (updated) normalized.updated = updated;
  const occurred = v5DateToEden(post.post_date);
  if (occurred) normalized.occurred = occurred;
  if (lat !== undefined && lon !== undefined) {
    normalized.lat = lat;
    normalized.lon = lon;
  }
  if (typeof post.source === 'string') normalized.source = post.source;
  if (language) normalized.language = language;
  return normalized;
}

export class UshahidiV5Client implements UshahidiSourceClient {
  readonly api = 'v5' as const;
  private readonly base: string;
  private readonly transport: HttpTransport;
  private readonly policy: RetryPolicy;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly random: () => number;
  private readonly clock: Clock;
  private readonly window: IdCursorWindow;
  private tokens: TokenSet | undefined;
  /** One renewal at a time: concurrent 401s wait for the same login. */
  private renewing: Promise<TokenSet> | undefined;

  constructor(private readonly options: UshahidiV5ClientOptions) {
    this.base = options.baseUrl.replace(/\/+$/, '');
    this.transport = options.transport ?? createHttpTransport({ dispatcher: options.dispatcher, timeoutMs: options.timeoutMs });
    this.policy = retryPolicy(options.retry);
    this.sleep = options.sleep ?? realSleep;
    this.random = options.random ?? Math.random;
    this.clock = options.clock ?? systemClock;
    this.window = new IdCursorWindow(options.overlap ?? 50);
  }

  // ---- authentication -------------------------------------------------------------------------

  private async tokenRequest(form: Record<string, string>, what: string): Promise<TokenSet> {
    const body = new URLSearchParams({
      client_id: this.options.clientId ?? USHAHIDI_UI_CLIENT_ID,
      client_secret: this.options.clientSecret ?? USHAHIDI_UI_CLIENT_SECRET,
      ...form,
    }).toString();
    const res = await withRetry(
      async () => {
        const answer = await this.transport({
          method: 'POST',
          url: `${this.base}/oauth/token`,
          headers: { accept: 'application/json', 'content-type': 'application/x-www-form-urlencoded' },
          body,
        });
        throwIfTransient(answer, what, this.clock.now().getTime(), describeError);
        return answer;
      },
      this.retryOptions(),
    );
    if (res.status !== 200) {
      const message = errorMessage(res.text);
      const code = res.status === 401 && /client/i.test(message) ? 'USHAHIDI_CLIENT_REJECTED' : 'USHAHIDI_LOGIN_FAILED';
      throw new UpstreamStatusError(code, `${what} refused (HTTP ${res.status}): ${message}`, res.status, {
        fix: code === 'USHAHIDI_CLIENT_REJECTED' ? 'Check the OAuth client id and secret' : "Check the source's user (an email address) and password",
      });
    }
    const json = parseJson(res, what);
    if (typeof json.access_token !== 'string') throw new SluiceError('USHAHIDI_BAD_RESPONSE', `${what}: no access_token in the answer`, { status: 502 });
    const lifetime = toNumber(json.expires_in) ?? 3600;
    // Renew a minute early (or at half-life for very short tokens) so a request never leaves with a dying token.
    const margin = Math.min(60, lifetime / 2) * 1000;
    return {
      accessToken: json.access_token,
      refreshToken: typeof json.refresh_token === 'string' ? json.refresh_token : undefined,
      renewAfter: this.clock.now().getTime() + lifetime * 1000 - margin,
    };
  }

  private login(): Promise<TokenSet> {
    return this.tokenRequest(
      { grant_type: 'password', username: this.options.username, password: this.options.password, scope: this.options.scope ?? '*' },
      'Ushahidi login',
    );
  }

  /** Refresh when possible; if the refresh token is gone or refused, log in again. */
  private renew(): Promise<TokenSet> {
    if (!this.renewing) {
      const refreshToken = this.tokens?.refreshToken;
      this.renewing = (async () => {
        if (refreshToken) {
          try {
            return await this.tokenRequest({ grant_type: 'refresh_token', refresh_token: refreshToken }, 'Ushahidi token refresh');
          } catch (error) {
            if (!(error instanceof UpstreamStatusError) || error.upstreamStatus >= 500) throw error;
          }
        }
        return this.login();
      })()
        .then((tokens) => {
          this.tokens = tokens;
          return tokens;
        })
        .finally(() => {
          this.renewing = undefined;
        });
    }
    return this.renewing;
  }

  private async currentToken(): Promise<string> {
    if (!this.tokens || this.clock.now().getTime() >= this.tokens.renewAfter) return (await this.renew()).accessToken;
    return this.tokens.accessToken;
  }

  /** Sends with the bearer token; a 401 gets exactly one renewal (refresh, else login) and one resend. */
  private async authorized(req: Omit<HttpRequest, 'headers'> & { headers?: Record<string, string> }): Promise<HttpResponse> {
    const send = (token: string) =>
      this.transport({ ...req, headers: { accept: 'application/json', ...req.headers, authorization: `Bearer ${token}` } });
    const used = await this.currentToken();
    const first = await send(used);
    if (first.status !== 401) return first;
    const fresh = this.tokens && this.tokens.accessToken !== used ? this.tokens.accessToken : (await this.renew()).accessToken;
    const second = await send(fresh);
    if (second.status === 401) {
      throw new UpstreamStatusError('USHAHIDI_AUTH_FAILED', `Ushahidi refused a fresh token: ${errorMessage(second.text)}`, 401, {
        fix: "Check that the source's account still exists and may use the API",
      });
    }
    return second;
  }

  private retryOptions() {
    return { policy: this.policy, sleep: this.sleep, random: this.random };
  }

  /** GET with retries on transport errors, timeouts and 5xx; other statuses are returned to the caller. */
  private get(path: string, what: string): Promise<HttpResponse> {
    return withRetry(async () => {
      const res = await this.authorized({ method: 'GET', url: `${this.base}${path}` });
      throwIfTransient(res, what, this.clock.now().getTime(), describeError);
      return res;
    }, this.retryOptions());
  }

  private rejected(res: HttpResponse, what: string): UpstreamStatusError {
    return new UpstreamStatusError('USHAHIDI_REQUEST_REJECTED', `${what}: HTTP ${res.status} ${errorMessage(res.text)}`, res.status);
  }

  // ---- reading ---------------------------------------------------------------------------------

  private listPath(after: number, pageSize: number, only: string): string {
    // Always page 1 of a keyset query; `links.next` is never followed because it drops every filter.
    const query = new URLSearchParams({
      status: 'all',
      created_after_by_id: String(after),
      orderby: 'id',
      order: 'asc',
      limit: String(pageSize),
      page: '1',
      only,
    });
    return `/api/v5/posts?${query.toString()}`;
  }

  private async listPage(after: number, pageSize: number, only: string): Promise<{ results: JsonObject[]; text: string }> {
    const what = `Ushahidi v5 posts after id ${after}`;
    const res = await this.get(this.listPath(after, pageSize, only), what);
    if (res.status !== 200) throw this.rejected(res, what);
    const body = parseJson(res, what);
    if (!Array.isArray(body.results)) throw new SluiceError('USHAHIDI_BAD_RESPONSE', `${what}: no "results" array`, { status: 502 });
    return { results: body.results.filter(isObject), text: res.text };
  }

  async *fetchPostsSince(cursor: number, pageSize: number): AsyncGenerator<PostPage> {
    assertPageSize(pageSize);
    const run = this.window.begin(cursor);
    for (;;) {
      const { results, text } = await this.listPage(run.requestAfter, pageSize, POST_FIELDS);
      if (results.length === 0) return;
      let maxId = run.requestAfter;
      const posts: UshahidiPost[] = [];
      for (const raw of results) {
        const post = normalizeV5Post(raw);
        maxId = Math.max(maxId, post.id);
        if (run.admit(post.id)) posts.push(post);
      }
      posts.sort((a, b) => a.id - b.id);
      run.advancePast(maxId);
      if (posts.length > 0) yield { posts, raw: text, nextCursor: run.nextCursor };
      if (results.length < pageSize) return;
    }
  }

  async getStatus(postId: number): Promise<TriageState> {
    const what = `Ushahidi v5 post ${postId}`;
    const res = await this.get(`/api/v5/posts/${encodeURIComponent(String(postId))}?only=id,status`, what);
    if (res.status === 404) throw postNotFound(postId);
    if (res.status !== 200) throw this.rejected(res, what);
    const result = parseJson(res, what).result;
    if (!isObject(result) || typeof result.status !== 'string') {
      throw new SluiceError('USHAHIDI_BAD_RESPONSE', `${what}: no status in the answer`, { status: 502 });
    }
    return { api: 'v5', status: result.status };
  }

  async *sweepStatuses(pageSize: number): AsyncGenerator<StatusEntry[]> {
    assertPageSize(pageSize);
    let after = 0;
    for (;;) {
      const { results } = await this.listPage(after, pageSize, 'id,status');
      const entries: StatusEntry[] = [];
      for (const raw of results) {
        const id = toNumber(raw.id);
        if (id === undefined || typeof raw.status !== 'string') continue;
        entries.push({ id, state: { api: 'v5', status: raw.status } });
        after = Math.max(after, id);
      }
      if (entries.length > 0) yield entries;
      if (results.length < pageSize) return;
    }
  }

  // ---- writing ---------------------------------------------------------------------------------

  /**
   * PATCH is not retried blindly: it fires a webhook every time and a lost answer says nothing
   * about whether it landed. Each attempt re-reads the status first and stops when it is there.
   */
  async setStatus(postId: number, target: TriageTarget): Promise<'changed' | 'unchanged'> {
    if (target.api !== 'v5') {
      throw new SluiceError('USHAHIDI_WRONG_TRIAGE_TARGET', 'a v5 deployment takes a status (draft, published, archived), not v2 flags', {
        status: 400,
        fix: "Map the triage states to v5 statuses in the source's value mapping",
      });
    }
    // Once a PATCH has left, the post moving to the target counts as our change, even if the answer was lost.
    let sent = false;
    for (let attempt = 1; ; attempt++) {
      const current = await this.getStatus(postId);
      if (current.api === 'v5' && current.status === target.status) return sent ? 'changed' : 'unchanged';
      sent = true;
      try {
        const res = await this.authorized({
          method: 'PATCH',
          url: `${this.base}/api/v5/posts/${encodeURIComponent(String(postId))}`,
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ status: target.status }),
        });
        const message = res.status >= 400 ? errorMessage(res.text) : '';
        // Policy denials come back as a 500 with this exact message: a 403 in disguise, never retried.
        if (res.status === 403 || (res.status === 500 && /this action is unauthorized/i.test(message))) {
          throw new UpstreamStatusError('USHAHIDI_FORBIDDEN', `Ushahidi refused to change post ${postId}'s status: ${message}`, 403, {
            fix: 'Use an account with the admin role or the "Manage Posts" permission',
          });
        }
        if (res.status === 404) throw postNotFound(postId);
        throwIfTransient(res, `Ushahidi v5 PATCH post ${postId}`, this.clock.now().getTime(), describeError);
        if (res.status !== 200) throw this.rejected(res, `Ushahidi v5 PATCH post ${postId}`);
        const result = parseJson(res, `Ushahidi v5 PATCH post ${postId}`).result;
        if (isObject(result) && result.status === target.status) return 'changed';
      } catch (error) {
        const decision = classifyFailure(error, this.policy);
        if (!decision.retry || attempt >= this.policy.maxAttempts) throw error;
        await this.sleep(Math.min(this.policy.maxDelayMs, decision.afterMs ?? backoffDelay(attempt, this.policy, this.random)));
        continue;
      }
      if (attempt >= this.policy.maxAttempts) {
        throw new SluiceError('USHAHIDI_STATUS_NOT_APPLIED', `post ${postId} did not take status "${target.status}"`, { status: 502 });
      }
    }
  }
}
