/**
 * A fake Sahana Eden instance for tests and demos: the sync controller's endpoints as a real HTTP
 * server (node:http, 127.0.0.1, port 0 by default), with Eden's quirks reproduced on purpose and
 * hooks to script failures. See README.md. Nothing here imports from src/.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { EdenState, parseMsinceLikeEden, type ImportReport } from './state.js';
import { parseXml, type XmlElement } from './xml.js';

export { EdenState } from './state.js';
export type { EdenRecord, EdenField } from './state.js';

export interface EdenUser {
  email: string;
  password: string;
  admin: boolean;
}

export const EDEN_ADMIN: EdenUser = { email: 'admin@example.org', password: 'eden-admin-password', admin: true };
export const EDEN_READER: EdenUser = { email: 'reader@example.org', password: 'reader-password', admin: false };

export type EdenFault =
  /** Answer with this status and body instead of handling the request. */
  | { kind: 'status'; status: number; body?: string; headers?: Record<string, string> }
  /** Destroy the socket without answering. */
  | { kind: 'drop' }
  /** Handle the request, send the headers and part of the body, then destroy the socket. */
  | { kind: 'cut'; afterBytes?: number }
  /** Hold the request for `ms` (until close when absent), then handle it. */
  | { kind: 'stall'; ms?: number }
  /** Handle a push but answer HTTP 200 with `"status":"failed"` (Eden's failed import). */
  | { kind: 'push-failed'; message?: string };

export interface EdenRequestMatcher {
  method?: string;
  /** Path below the application, e.g. `/sync/sync.xml`. */
  path?: string;
  where?: (request: EdenObservedRequest) => boolean;
}

export interface EdenObservedRequest {
  seq: number;
  method: string;
  /** Path below the application (`/sync/sync.xml`). */
  path: string;
  query: Record<string, string>;
  /** The raw query string, to check exactly what the client sent. */
  search: string;
  authorization?: string;
  bodyBytes: number;
  status?: number;
  fault?: EdenFault['kind'];
}

export interface FakeEdenOptions {
  host?: string;
  port?: number;
  /** Application path (default `/eden`). */
  appPath?: string;
  /** The fake's clock in ms (timestamps are cut to seconds, as Eden's). */
  now?: () => number;
  domain?: string;
  configUuid?: string;
  users?: EdenUser[];
}

export interface FakeEdenHooks {
  failNext(matcher: EdenRequestMatcher, times?: number, fault?: EdenFault): void;
  clearFaults(): void;
  /** Makes Eden's validation reject matching elements of pushes (they are skipped, "invalid items ignored"). */
  rejectElements(predicate: ((element: XmlElement) => string | undefined) | undefined): void;
  requests(matcher?: EdenRequestMatcher): EdenObservedRequest[];
  clearRequests(): void;
  /** What each push imported, in order. */
  imports(): ImportReport[];
}

export interface FakeEden {
  server: Server;
  /** Base URL including the application path, e.g. `http://127.0.0.1:PORT/eden`. */
  url: string;
  state: EdenState;
  hooks: FakeEdenHooks;
  admin: EdenUser;
  close(): Promise<void>;
}

interface Planned {
  matcher: EdenRequestMatcher;
  fault: EdenFault;
  remaining: number;
}

function matches(matcher: EdenRequestMatcher, request: EdenObservedRequest): boolean {
  if (matcher.method && matcher.method.toUpperCase() !== request.method) return false;
  if (matcher.path !== undefined && matcher.path !== request.path) return false;
  return !matcher.where || matcher.where(request);
}

interface Reply {
  status: number;
  type: string;
  body: string;
  headers?: Record<string, string>;
}

function message(status: number, statuscode: number, text: string | undefined, extra: Record<string, unknown> = {}): Reply {
  const body = JSON.stringify({ status: statuscode < 400 ? 'success' : 'failed', statuscode: String(statuscode), ...(text ? { message: text } : {}), ...extra });
  return { status, type: 'application/json', body };
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

export async function createFakeEden(options: FakeEdenOptions = {}): Promise<FakeEden> {
  const appPath = options.appPath ?? '/eden';
  const users = options.users ?? [EDEN_ADMIN, EDEN_READER];
  const clock = options.now ?? (() => Date.now());
  const planned: Planned[] = [];
  const log: EdenObservedRequest[] = [];
  const importReports: ImportReport[] = [];
  const sockets = new Set<Socket>();
  const stalls = new Set<() => void>();
  let reject: ((element: XmlElement) => string | undefined) | undefined;
  let seq = 0;
  let state: EdenState | undefined;

  const authenticate = (req: IncomingMessage): EdenUser | undefined => {
    const match = /^Basic\s+(\S+)$/i.exec(req.headers.authorization ?? '');
    if (!match) return undefined;
    const decoded = Buffer.from(match[1]!, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    return users.find((user) => user.email === decoded.slice(0, colon) && user.password === decoded.slice(colon + 1));
  };

  /** auth.basic() then the sync controller's ADMIN restriction. */
  const requireAdmin = (req: IncomingMessage): Reply | undefined => {
    const user = authenticate(req);
    if (!user) {
      return { status: 401, type: 'text/html', body: '<html><body><h1>Not Authorized</h1></body></html>', headers: { 'www-authenticate': 'Basic realm="eden"' } };
    }
    if (!user.admin) return message(403, 403, 'Insufficient privileges');
    return undefined;
  };

  const handle = async (req: IncomingMessage, path: string, url: URL, body: Buffer, observed: EdenObservedRequest): Promise<Reply> => {
    const eden = state!;
    if (path === '/sync/repository/register.json' && req.method === 'POST') {
      const denied = requireAdmin(req);
      if (denied) return denied;
      let payload: { uuid?: unknown; name?: unknown; apitype?: unknown };
      try {
        payload = JSON.parse(body.toString('utf8')) as typeof payload;
      } catch {
        return message(400, 400, 'Invalid request');
      }
      if (typeof payload.uuid !== 'string' || payload.uuid === '') return message(400, 400, 'Invalid request');
      eden.repositories.set(payload.uuid, { name: typeof payload.name === 'string' ? payload.name : payload.uuid, apitype: typeof payload.apitype === 'string' ? payload.apitype : 'eden' });
      return message(200, 200, 'Registration successful', { sender: eden.configUuid });
    }
    if (path === '/sync/sync.xml' && (req.method === 'GET' || req.method === 'POST')) {
      const denied = requireAdmin(req);
      if (denied) return denied;
      const resource = url.searchParams.get('resource') ?? '';
      if (!resource.includes('_')) return message(400, 400, resource ? 'Invalid request' : 'Mixed resource synchronization not supported');
      if (req.method === 'GET') {
        // Only repository, msince and [..] filter vars get through the controller.
        const filters: Record<string, string> = {};
        for (const [key, value] of url.searchParams) {
          const match = /^\[[^\]]*\]~\.([A-Za-z0-9_]+)$/.exec(key);
          if (match) filters[match[1]!] = value;
        }
        const { xml } = eden.exportXml(resource, parseMsinceLikeEden(url.searchParams.get('msince')), filters);
        return { status: 200, type: 'text/xml; charset=utf-8', body: xml };
      }
      const repository = url.searchParams.get('repository') ?? '';
      if (!eden.repositories.has(repository)) return message(403, 403, 'Registration required');
      const fault = takeFault(observed, (f) => f.kind === 'push-failed');
      let root: XmlElement;
      try {
        root = parseXml(body.toString('utf8'));
      } catch (error) {
        return message(400, 400, `Invalid source: ${(error as Error).message}`);
      }
      if (fault?.kind === 'push-failed') {
        observed.fault = 'push-failed';
        // Eden's import_xml failure reply: HTTP 200 all the same.
        return message(200, 400, fault.message ?? 'Validation error');
      }
      const report = eden.importXml(resource, root, reject);
      importReports.push(report);
      return message(200, 200, report.errors.length ? `${report.errors.join('; ')} - invalid items ignored` : undefined, {
        records: report.records,
        created: report.created,
        updated: report.updated,
        deleted: report.deleted,
      });
    }
    // web2py's "invalid function" page for anything else (e.g. /sync/config.json).
    return { status: 404, type: 'text/html', body: '<html><body><h1>invalid function (sync/' + path.split('/').pop() + ')</h1></body></html>' };
  };

  /** The first planned fault for this request (a predicate limits which kinds are taken here). */
  const takeFault = (observed: EdenObservedRequest, accept: (fault: EdenFault) => boolean): EdenFault | undefined => {
    const entry = planned.find((candidate) => candidate.remaining > 0 && accept(candidate.fault) && matches(candidate.matcher, observed));
    if (!entry) return undefined;
    entry.remaining -= 1;
    return entry.fault;
  };

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    void (async () => {
      const url = new URL(req.url ?? '/', 'http://fake-eden');
      const body = await readBody(req);
      const path = url.pathname.startsWith(appPath) ? url.pathname.slice(appPath.length) : url.pathname;
      const observed: EdenObservedRequest = {
        seq: ++seq,
        method: req.method ?? 'GET',
        path,
        query: Object.fromEntries(url.searchParams),
        search: url.search,
        ...(req.headers.authorization ? { authorization: req.headers.authorization } : {}),
        bodyBytes: body.length,
      };
      log.push(observed);
      const fault = takeFault(observed, (f) => f.kind !== 'push-failed');
      if (fault) observed.fault = fault.kind;
      if (fault?.kind === 'drop') {
        req.socket.destroy();
        return;
      }
      if (fault?.kind === 'status') {
        observed.status = fault.status;
        res.writeHead(fault.status, { 'content-type': 'text/html', ...fault.headers });
        res.end(fault.body ?? `<html><body><h1>${fault.status}</h1></body></html>`);
        return;
      }
      if (fault?.kind === 'stall') {
        await new Promise<void>((resolve) => {
          const release = () => {
            stalls.delete(release);
            resolve();
          };
          stalls.add(release);
          if (fault.ms !== undefined) setTimeout(release, fault.ms).unref();
        });
        if (res.destroyed || req.socket.destroyed) return;
      }
      const reply = await handle(req, path, url, body, observed);
      observed.status = reply.status;
      const payload = Buffer.from(reply.body, 'utf8');
      res.writeHead(reply.status, { 'content-type': reply.type, 'content-length': String(payload.length), ...reply.headers });
      if (fault?.kind === 'cut') {
        res.write(payload.subarray(0, Math.min(payload.length - 1, fault.afterBytes ?? Math.floor(payload.length / 2))));
        setTimeout(() => req.socket.destroy(), 20).unref();
        return;
      }
      res.end(payload);
    })().catch((error: unknown) => {
      if (!res.headersSent) {
        res.writeHead(500, { 'content-type': 'text/plain' });
        res.end(String(error));
      } else {
        res.destroy();
      }
    });
  });
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject_) => {
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve());
    server.once('error', reject_);
  });
  const address = server.address() as AddressInfo;
  const base = `http://${address.address}:${address.port}${appPath}`;
  state = new EdenState(clock, options.domain ?? 'eden.test', base, options.configUuid);

  return {
    server,
    url: base,
    state,
    admin: users.find((user) => user.admin) ?? EDEN_ADMIN,
    hooks: {
      failNext(matcher, times = 1, fault = { kind: 'status', status: 500 }) {
        planned.push({ matcher, fault, remaining: times });
      },
      clearFaults() {
        planned.length = 0;
      },
      rejectElements(predicate) {
        reject = predicate;
      },
      requests(matcher) {
        return log.filter((request) => !matcher || matches(matcher, request));
      },
      clearRequests() {
        log.length = 0;
      },
      imports() {
        return [...importReports];
      },
    },
    async close() {
      for (const release of [...stalls]) release();
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
