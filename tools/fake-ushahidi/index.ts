import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { FaultPlan, RequestLog, type Fault, type ObservedRequest, type RequestMatcher } from './faults.js';
import { json, readBody, writeResponse, xmlEscape, type FakeRequest, type FakeResponse } from './http-util.js';
import { handleTokenRequest, type TokenSettings } from './oauth.js';
import { DEFAULT_USERS, UI_CLIENT, generatePost, seedPosts, seedReferenceData, seededRandom } from './seed.js';
import { FakeState, type FakePost, type FakeUser } from './state.js';
import { ClassicApi, type V2Settings } from './v2.js';
import { handleV5, type V5Settings } from './v5.js';

export type { Fault, ObservedRequest, RequestMatcher } from './faults.js';
export type { FakePost, FakeUser, StatusChange } from './state.js';
export { FakeState } from './state.js';
export { UI_CLIENT, DEFAULT_USERS } from './seed.js';

export interface FakeUshahidiOptions {
  /** How many posts to seed (default 50). */
  posts?: number;
  /** PRNG seed: the same seed builds the same deployment. */
  seed?: number;
  host?: string;
  /** 0 (the default) picks a free port. */
  port?: number;
  /** The fake's clock in ms; tokens expire and `updated` is stamped by it. */
  now?: () => number;
  users?: FakeUser[];
  tokenLifetimeSeconds?: number;
  refreshTokenLifetimeSeconds?: number;
  v5?: Partial<V5Settings>;
  v2?: Partial<V2Settings>;
}

export interface FakeUshahidiHooks {
  /** The next `times` requests matching `matcher` get `fault` (HTTP 500 by default) instead of an answer. */
  failNext(matcher: RequestMatcher, times?: number, fault?: Fault): void;
  dropNext(matcher: RequestMatcher, times?: number): void;
  /** Handles matching requests but never delivers the answer: a write that landed, from a client that cannot know. */
  loseResponseNext(matcher: RequestMatcher, times?: number): void;
  /** Holds matching requests for `ms` (forever when absent) before handling them. */
  stallNext(matcher: RequestMatcher, times?: number, ms?: number): void;
  clearFaults(): void;
  /** Expires every access token (or one); refresh tokens keep working. */
  expireTokens(accessToken?: string): void;
  /** Revokes every refresh token, so only a fresh password login works. */
  revokeRefreshTokens(): void;
  /** Adds generated posts (count) or posts built from partial fields; returns them in id order. */
  addPosts(postsOrCount: number | Array<Partial<FakePost>>): FakePost[];
  /** Changes a post's status as a moderator in the web UI would: no API request, no log entry. */
  setStatus(postId: number, status: string): void;
  setV2Flags(postId: number, flags: { approved?: boolean; verified?: boolean }): void;
  requests(matcher?: RequestMatcher): ObservedRequest[];
  onRequest(listener: (request: ObservedRequest) => void): () => void;
  clearRequests(): void;
}

export interface FakeUshahidi {
  server: Server;
  /** `http://host:port`, no trailing slash. */
  url: string;
  state: FakeState;
  hooks: FakeUshahidiHooks;
  /** The default admin, for clients under test. */
  admin: FakeUser;
  close(): Promise<void>;
}

function wantsJson(req: FakeRequest): boolean {
  const accept = String(req.headers.accept ?? '');
  return /[/+]json/.test(accept) || req.headers['x-requested-with'] === 'XMLHttpRequest';
}

/** Laravel renders exceptions as HTML unless the client asked for JSON. */
function htmlError(response: FakeResponse): FakeResponse {
  const title = response.status >= 500 ? 'Server Error' : response.status === 404 ? 'Not Found' : response.status === 401 ? 'Unauthorized' : 'Error';
  return {
    status: response.status,
    headers: { ...response.headers, 'content-type': 'text/html; charset=UTF-8' },
    body: `<!DOCTYPE html><html lang="en"><head><title>${xmlEscape(title)}</title></head><body><div class="code">${response.status}</div><div class="message">${xmlEscape(title)}</div></body></html>`,
  };
}

export async function createFakeUshahidi(options: FakeUshahidiOptions = {}): Promise<FakeUshahidi> {
  const now = options.now ?? Date.now;
  const state = new FakeState(now);
  const random = seededRandom(options.seed ?? 4636);
  const users = options.users ?? DEFAULT_USERS.map((u) => ({ ...u }));
  seedReferenceData(state, users, random);
  seedPosts(state, options.posts ?? 50, random);

  const tokenSettings: TokenSettings = {
    accessLifetimeSeconds: options.tokenLifetimeSeconds ?? 54_000,
    refreshLifetimeSeconds: options.refreshTokenLifetimeSeconds ?? 7 * 86_400,
  };
  const v5Settings: V5Settings = { forbiddenPatchAs500: true, ...options.v5 };
  const classic = new ClassicApi(state, {
    flavour: '2.x',
    timeZone: 'America/Port-au-Prince',
    privateDeployment: false,
    maxRequestsPerIp: null,
    defaultLimit: 20,
    maxRecordLimit: null,
    ...options.v2,
  });
  const faults = new FaultPlan();
  const log = new RequestLog();
  const sockets = new Set<Socket>();

  const route = (req: FakeRequest): FakeResponse => {
    const path = req.pathname;
    if (path === '/oauth/token') return handleTokenRequest(req, state, tokenSettings);
    if (path.startsWith('/api/v5/')) {
      const response = handleV5(req, state, v5Settings);
      return response.status >= 400 && !wantsJson(req) ? htmlError(response) : response;
    }
    if (path === '/api' || path === '/api/' || path === '/index.php/api' || path === '/index.php/api/') return classic.handle(req);
    return json(404, { errors: [{ status: 404, message: 'Not Found' }] });
  };

  const handle = async (incoming: IncomingMessage, res: ServerResponse): Promise<void> => {
    const body = await readBody(incoming);
    const url = new URL(incoming.url ?? '/', 'http://fake.invalid');
    const req: FakeRequest = {
      method: (incoming.method ?? 'GET').toUpperCase(),
      pathname: url.pathname,
      query: url.searchParams,
      headers: incoming.headers,
      body,
      origin: `http://${incoming.headers.host ?? 'localhost'}`,
      remoteAddress: incoming.socket.remoteAddress ?? '127.0.0.1',
    };
    const params: Record<string, string> = Object.fromEntries(url.searchParams);
    if (req.method === 'POST' && String(incoming.headers['content-type'] ?? '').includes('application/x-www-form-urlencoded')) {
      Object.assign(params, Object.fromEntries(new URLSearchParams(body)));
    }
    const observed = log.record({
      method: req.method,
      path: req.pathname,
      params,
      body,
      authorization: incoming.headers.authorization,
      at: now(),
    });
    let fault = faults.take(observed);
    if (fault?.kind === 'stall') {
      observed.fault = 'stall';
      const holdMs = fault.ms;
      if (holdMs === undefined) return; // held until the client gives up or the server closes
      await new Promise((resolve) => setTimeout(resolve, holdMs));
      if (res.destroyed) return;
      fault = undefined;
    }
    if (fault?.kind === 'drop') {
      observed.fault = 'drop';
      incoming.socket.destroy();
      return;
    }
    let response: FakeResponse;
    if (fault?.kind === 'status') {
      observed.fault = 'status';
      const status = fault.status ?? 500;
      response = {
        status,
        headers: { 'content-type': 'application/json', ...fault.headers },
        body: fault.body ?? JSON.stringify({ errors: [{ status, message: status >= 500 ? 'Server Error' : 'Injected failure' }] }),
      };
    } else {
      response = route(req);
    }
    if (fault?.kind === 'lose-response') {
      observed.fault = 'lose-response';
      observed.status = response.status;
      incoming.socket.destroy();
      return;
    }
    observed.status = response.status;
    writeResponse(res, response);
  };

  const server = createServer((incoming, res) => {
    handle(incoming, res).catch((error: unknown) => {
      writeResponse(res, json(500, { errors: [{ status: 500, message: String((error as Error)?.message ?? error) }] }));
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve());
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  const url = `http://${host}:${address.port}`;

  const requirePost = (postId: number): FakePost => {
    const post = state.post(postId);
    if (!post) throw new Error(`the fake has no post ${postId}`);
    return post;
  };

  const hooks: FakeUshahidiHooks = {
    failNext: (matcher, times = 1, fault = { kind: 'status', status: 500 }) => faults.add(matcher, fault, times),
    dropNext: (matcher, times = 1) => faults.add(matcher, { kind: 'drop' }, times),
    loseResponseNext: (matcher, times = 1) => faults.add(matcher, { kind: 'lose-response' }, times),
    stallNext: (matcher, times = 1, ms) => faults.add(matcher, ms === undefined ? { kind: 'stall' } : { kind: 'stall', ms }, times),
    clearFaults: () => faults.clear(),
    expireTokens: (accessToken) => {
      for (const token of state.accessTokens.values()) {
        if (accessToken === undefined || token.token === accessToken) token.expiresAt = Math.min(token.expiresAt, now() - 1);
      }
    },
    revokeRefreshTokens: () => {
      for (const token of state.refreshTokens.values()) token.revoked = true;
    },
    addPosts: (postsOrCount) => {
      const inputs: Array<Partial<FakePost>> =
        typeof postsOrCount === 'number' ? Array.from({ length: postsOrCount }, () => ({})) : postsOrCount;
      return inputs.map((overrides) => {
        const id = overrides.id ?? state.nextPostId();
        const created = Math.floor(now() / 1000);
        return state.insertPost(generatePost(id, { state, random, created }, { ...overrides, id }));
      });
    },
    setStatus: (postId, status) => {
      requirePost(postId).status = status;
    },
    setV2Flags: (postId, flags) => {
      const post = requirePost(postId);
      if (flags.approved !== undefined) post.status = flags.approved ? 'published' : 'draft';
      if (flags.verified !== undefined) post.verified = flags.verified;
    },
    requests: (matcher) => log.filter(matcher),
    onRequest: (listener) => log.subscribe(listener),
    clearRequests: () => log.clear(),
  };

  const close = (): Promise<void> =>
    new Promise((resolve) => {
      for (const socket of sockets) socket.destroy();
      server.close(() => resolve());
    });

  return { server, url, state, hooks, admin: users.find((u) => u.role === 'admin') ?? users[0]!, close };
}

export const DEFAULT_CLIENT_ID = UI_CLIENT.id;
export const DEFAULT_CLIENT_SECRET = UI_CLIENT.secret;
