import { basicCredentials, phpJsonEncode, xmlEscape, type FakeRequest, type FakeResponse } from './http-util.js';
import type { FakePost, FakeState, FakeUser } from './state.js';
import { incidentJson, incidentJsonV1, incidentView, incidentXml } from './v2-serialize.js';

/**
 * Classic `api?task=…` (Ushahidi_Web 2.x, or the Haiti-era 1.0 with `flavour: '1.0'`). HTTP 200 for
 * everything except an admin task without credentials; the outcome is in `error.code`.
 */

export interface V2Settings {
  flavour: '2.x' | '1.0';
  /** `site_timezone`: `incidentdate` is written as wall-clock time there. */
  timeZone: string;
  /** `settings.private_deployment`: every task needs valid Basic credentials. */
  privateDeployment: boolean;
  /** `api_settings.max_requests_per_ip_address`; null means no quota. */
  maxRequestsPerIp: number | null;
  defaultLimit: number;
  /** `api_settings.max_record_limit`: larger limits are silently capped; null means no cap. */
  maxRecordLimit: number | null;
}

const MESSAGES: Record<string, string> = {
  '0': 'No Error',
  '002': 'Invalid Parameter',
  '004': 'Data was not sent by post method',
  '005': 'Access denied. Either your credentials are not valid or your request has been refused.',
  '006': 'Access denied. Either your credentials are not valid or your request has been refused due to access limits like time. Try back later.',
  '007': 'No data. There are no results to show.',
  '999': 'Not Found',
};

type Format = 'json' | 'xml' | 'jsonp';

interface Call {
  params: Record<string, string>;
  format: Format;
  callback: string;
  domain: string;
  user: FakeUser | undefined;
  isPost: boolean;
}

function respond(call: Call, body: Record<string, unknown>, status = 200, extraHeaders: Record<string, string> = {}): FakeResponse {
  const headers: Record<string, string> = { 'cache-control': 'no-cache', ...extraHeaders };
  if (call.format === 'xml') {
    return { status, headers: { ...headers, 'content-type': 'text/xml' }, body: `<?xml version="1.0" encoding="UTF-8"?>\n${toXml(body)}` };
  }
  const text = phpJsonEncode(body);
  if (call.format === 'jsonp') {
    return { status, headers: { ...headers, 'content-type': 'application/json; charset=utf-8' }, body: `${call.callback}(${text})` };
  }
  return { status, headers: { ...headers, 'content-type': 'application/json; charset=utf-8' }, body: text };
}

/** Responses that are always JSON whatever `resp` asked for (bare codes, unknown task). */
function rawJson(body: Record<string, unknown>): FakeResponse {
  return { status: 200, headers: { 'cache-control': 'no-cache', 'content-type': 'application/json; charset=utf-8' }, body: phpJsonEncode(body) };
}

/** The envelope objects only ever hold strings, nested objects and pre-rendered incident XML. */
function toXml(body: Record<string, unknown>): string {
  const render = (name: string, value: unknown): string => {
    if (name === 'incidentsXml') return `<incidents>${value as string}</incidents>`;
    if (value !== null && typeof value === 'object') {
      return `<${name}>${Object.entries(value as Record<string, unknown>).map(([k, v]) => render(k, v)).join('')}</${name}>`;
    }
    return `<${name}>${xmlEscape(String(value ?? ''))}</${name}>`;
  };
  return `<response>${Object.entries(body).map(([k, v]) => render(k, v)).join('')}</response>`;
}

const err = (code: string, message = MESSAGES[code] ?? '') => ({ code, message });

export class ClassicApi {
  private readonly requestsPerIp = new Map<string, number>();

  constructor(
    private readonly state: FakeState,
    private readonly settings: V2Settings,
  ) {}

  handle(req: FakeRequest): FakeResponse {
    const isPost = req.method === 'POST';
    // PHP reads $_POST on a POST and $_GET otherwise, never both.
    const params: Record<string, string> = isPost
      ? String(req.headers['content-type'] ?? '').includes('application/x-www-form-urlencoded')
        ? Object.fromEntries(new URLSearchParams(req.body))
        : {}
      : Object.fromEntries(req.query);
    const resp = params.resp ?? 'json';
    const format: Format = resp === 'xml' ? 'xml' : resp === 'jsonp' ? 'jsonp' : 'json';
    const credentials = basicCredentials(req.headers.authorization);
    const login = credentials ? this.state.userByLogin(credentials.user) : undefined;
    const user = login && credentials && login.password === credentials.password ? login : undefined;
    const call: Call = { params, format, callback: params.callback ?? 'callback', domain: `${req.origin}/`, user, isPost };

    const ip = String(req.headers['client-ip'] ?? req.headers['x-forwarded-for'] ?? req.remoteAddress).split(',')[0]!.trim();
    const used = (this.requestsPerIp.get(ip) ?? 0) + 1;
    this.requestsPerIp.set(ip, used);
    if (this.settings.maxRequestsPerIp !== null && used > this.settings.maxRequestsPerIp) return rawJson(err('006'));
    if (this.settings.privateDeployment && !user) return rawJson(err('006'));

    const task = params.task;
    if (!task) return rawJson(err('001', 'Missing Parameter - task.'));
    if (task === 'incidents') return this.settings.flavour === '1.0' ? this.incidentsV1(call) : this.incidents(call);
    if (task === 'reports' && this.settings.flavour === '2.x') return this.reports(call);
    return rawJson({ error: err('999') });
  }

  private limitFrom(call: Call): number {
    const asked = Number.parseInt(call.params.limit ?? '', 10);
    const limit = Number.isFinite(asked) && asked > 0 ? asked : this.settings.defaultLimit;
    return this.settings.maxRecordLimit !== null ? Math.min(limit, this.settings.maxRecordLimit) : limit;
  }

  /** Selects by `by`; returns an error envelope when a parameter is missing or unknown. */
  private select(call: Call, by: string, pool: Iterable<FakePost>): FakePost[] | Record<string, unknown> {
    const p = call.params;
    const needId = (): number | Record<string, unknown> => {
      if (p.id === undefined || p.id === '') return { error: err('001', 'Missing Parameter - id.') };
      return Number.parseInt(p.id, 10) || 0;
    };
    const needName = (): string | Record<string, unknown> =>
      p.name === undefined || p.name === '' ? { error: err('001', 'Missing Parameter - name.') } : p.name;
    const all = [...pool];
    switch (by) {
      case 'all':
        return all;
      case 'incidentid':
      case 'sinceid':
      case 'maxid':
      case 'locid':
      case 'catid': {
        const id = needId();
        if (typeof id !== 'number') return id;
        if (by === 'incidentid') return all.filter((post) => post.id === id);
        if (by === 'sinceid') return all.filter((post) => post.id > id);
        if (by === 'maxid') return all.filter((post) => post.id < id);
        if (by === 'locid') return all.filter((post) => post.location?.id === id);
        return all.filter((post) => post.categoryIds.includes(id));
      }
      case 'locname':
      case 'catname': {
        const name = needName();
        if (typeof name !== 'string') return name;
        if (by === 'locname') return all.filter((post) => post.location?.name === name);
        return all.filter((post) => post.categoryIds.some((id) => this.state.categories.get(id)?.tag === name));
      }
      case 'latlon': {
        const lat = Number(p.latitude);
        const lon = Number(p.longitude);
        if (!Number.isFinite(lat) || !Number.isFinite(lon)) return { error: err('001', 'Missing Parameter - latitude.') };
        const radiusKm = Number(p.radius ?? 20) || 20;
        return all.filter((post) => post.location !== null && distanceKm(lat, lon, post.location.lat, post.location.lon) <= radiusKm);
      }
      case 'bounds': {
        const sw = (p.sw ?? '').split(',').map(Number);
        const ne = (p.ne ?? '').split(',').map(Number);
        if (sw.length !== 2 || ne.length !== 2 || [...sw, ...ne].some((n) => !Number.isFinite(n))) {
          return { error: err('001', 'Missing Parameter - sw.') };
        }
        const category = p.c ? Number(p.c) : undefined;
        return all.filter(
          (post) =>
            post.location !== null &&
            post.location.lon >= sw[0]! &&
            post.location.lat >= sw[1]! &&
            post.location.lon <= ne[0]! &&
            post.location.lat <= ne[1]! &&
            (category === undefined || post.categoryIds.includes(category)),
        );
      }
      default:
        return { error: err('002') };
    }
  }

  private sortIncidents(posts: FakePost[], orderfield: string | undefined, ascending: boolean): FakePost[] {
    const key: (post: FakePost) => number =
      orderfield === 'incidentid' ? (post) => post.id : orderfield === 'locationid' ? (post) => post.location?.id ?? 0 : (post) => post.postDate;
    return posts.sort((a, b) => (key(a) - key(b) || a.id - b.id) * (ascending ? 1 : -1));
  }

  private listing(call: Call, posts: FakePost[]): FakeResponse {
    if (posts.length === 0) return respond(call, { payload: { domain: call.domain, success: 'true' }, error: err('007') });
    const withComments = call.params.comments === '1';
    const views = posts.map((post) => incidentView(post, this.state, call.domain, this.settings.timeZone, withComments));
    if (call.format === 'xml') {
      return respond(call, { payload: { domain: call.domain, incidentsXml: views.map(incidentXml).join('') }, error: err('0') });
    }
    return respond(call, { payload: { domain: call.domain, incidents: views.map(incidentJson) }, error: err('0') });
  }

  private approved(): FakePost[] {
    return [...this.state.postsBetween()].filter((post) => post.status === 'published');
  }

  private incidents(call: Call): FakeResponse {
    const selected = this.select(call, call.params.by ?? 'all', this.approved());
    if (!Array.isArray(selected)) return respond(call, selected);
    const sorted = this.sortIncidents(selected, call.params.orderfield, call.params.sort === '0');
    return this.listing(call, sorted.slice(0, this.limitFrom(call)));
  }

  private incidentsV1(call: Call): FakeResponse {
    const p = call.params;
    const by = p.by;
    if (!by) return respond(call, { error: err('001', 'Missing Parameter - by.') });
    if (!['all', 'latlon', 'locid', 'locname', 'catid', 'catname', 'sinceid'].includes(by)) return respond(call, { error: err('002') });
    const selected = this.select(call, by, this.approved());
    if (!Array.isArray(selected)) return respond(call, selected);
    let rows: FakePost[];
    if (by === 'all') {
      rows = selected.sort((a, b) => b.id - a.id);
      if (p.limit) rows = rows.slice(0, Number.parseInt(p.limit, 10) || 0);
    } else {
      const key = p.orderfield === 'locid' ? 'locationid' : p.orderfield === 'date' ? 'incidentdate' : 'incidentid';
      rows = this.sortIncidents(selected, key, p.sort !== '1');
      if (by === 'sinceid') {
        // The INNER JOIN on categories drops uncategorised incidents and repeats the others per category.
        rows = rows.flatMap((post) => post.categoryIds.map(() => post)).slice(0, 20);
      } else if (p.limit) {
        rows = rows.slice(0, Number.parseInt(p.limit, 10) || 0);
      }
    }
    const views = rows.map((post) => incidentView(post, this.state, call.domain, this.settings.timeZone, false));
    const ok = { code: '0', message: 'No Error.' };
    if (call.format === 'xml') return respond(call, { payload: { incidentsXml: views.map(incidentXml).join('') }, error: ok });
    return respond(call, { payload: { incidents: views.map(incidentJsonV1) }, error: ok });
  }

  private reports(call: Call): FakeResponse {
    // Any logged-in user passes `_login(TRUE)` (the member fallback), not only admins.
    if (!call.user) {
      return respond(call, { payload: { domain: call.domain, success: 'false' }, error: err('005') }, 401, {
        'www-authenticate': 'Basic realm="Ushahidi API"',
      });
    }
    const action = call.params.action;
    if (action !== undefined) {
      if (!call.isPost) return respond(call, { payload: { domain: call.domain, success: 'false' }, error: err('004') });
      return this.reportAction(call, action);
    }
    const by = call.params.by ?? 'all';
    const pool = [...this.state.postsBetween()];
    let selected: FakePost[];
    switch (by) {
      case 'all':
        selected = pool;
        break;
      case 'approved':
        selected = pool.filter((post) => post.status === 'published');
        break;
      case 'unapproved':
        selected = pool.filter((post) => post.status !== 'published');
        break;
      case 'verified':
        selected = pool.filter((post) => post.verified);
        break;
      case 'unverified':
        selected = pool.filter((post) => !post.verified);
        break;
      case 'incidentid': {
        if (!call.params.id) return respond(call, { error: err('001', 'Missing Parameter - id.') });
        const id = Number.parseInt(call.params.id, 10);
        selected = pool.filter((post) => post.id === id);
        break;
      }
      default:
        return respond(call, { error: err('002') });
    }
    const sorted = this.sortIncidents(selected, call.params.orderfield, call.params.sort === '0');
    return this.listing(call, sorted.slice(0, this.limitFrom(call)));
  }

  private reportAction(call: Call, action: string): FakeResponse {
    if (!['approve', 'verify', 'delete'].includes(action)) return respond(call, { error: err('002') });
    const rawId = call.params.incident_id;
    if (!rawId) return respond(call, { error: err('001', 'Missing Parameter - incident_id.') });
    const id = Number.parseInt(rawId, 10);
    const post = this.state.post(id);
    const failed = (message: string) => respond(call, { payload: { domain: call.domain, success: 'false' }, error: err('003', message) });
    const done = () => respond(call, { payload: { domain: call.domain, success: 'true' }, error: err('0') });
    if (action === 'approve') {
      if (!post) return failed(`Couldn't approve the report id ${rawId}`);
      // A toggle, not a setter: calling it twice undoes it.
      const from = post.status;
      post.status = post.status === 'published' ? 'draft' : 'published';
      this.state.recordStatusChange({ postId: id, via: 'v2-approve', field: 'status', from, to: post.status });
      return done();
    }
    if (action === 'verify') {
      if (!post) return failed(`Could not verify this report ${rawId}`);
      post.verified = !post.verified;
      this.state.recordStatusChange({ postId: id, via: 'v2-verify', field: 'verified', from: post.verified ? '0' : '1', to: post.verified ? '1' : '0' });
      return done();
    }
    if (!post) return failed(`Couldn't delete the report id ${rawId}`);
    this.state.deletePost(id);
    return done();
  }
}

function distanceKm(lat1: number, lon1: number, lat2: number, lon2: number): number {
  const rad = Math.PI / 180;
  const dLat = (lat2 - lat1) * rad;
  const dLon = (lon2 - lon1) * rad;
  const a = Math.sin(dLat / 2) ** 2 + Math.cos(lat1 * rad) * Math.cos(lat2 * rad) * Math.sin(dLon / 2) ** 2;
  return 6371 * 2 * Math.atan2(Math.sqrt(a), Math.sqrt(1 - a));
}
