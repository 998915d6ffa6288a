/**
 * A scripted man in the middle on real sockets: forwards every request to a real gateway and, by
 * call count, answers with a status instead, cuts the response body half-way (socket destroyed),
 * stalls before answering, or holds a request until the test releases it (to kill a client in the
 * middle of a pull at a known page).
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export type ProxyFault =
  | { kind: 'status'; status: number; headers?: Record<string, string>; body?: string }
  | { kind: 'cut' }
  | { kind: 'stall'; ms: number }
  | { kind: 'hold' };

export interface ProxiedRequest {
  n: number;
  method: string;
  path: string;
  query: URLSearchParams;
  status?: number;
  fault?: ProxyFault['kind'];
}

interface Plan {
  match: (request: ProxiedRequest) => boolean;
  fault: ProxyFault;
  remaining: number;
}

export interface FaultProxy {
  url: string;
  requests: ProxiedRequest[];
  /** The next `times` requests matching get `fault`. */
  plan(match: (request: ProxiedRequest) => boolean, fault: ProxyFault, times?: number): void;
  /** Resolves when a request is being held (kind `hold`). */
  held(): Promise<ProxiedRequest>;
  close(): Promise<void>;
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

export async function createFaultProxy(target: string): Promise<FaultProxy> {
  const plans: Plan[] = [];
  const requests: ProxiedRequest[] = [];
  const sockets = new Set<Socket>();
  const waiters: ((request: ProxiedRequest) => void)[] = [];
  const heldQueue: ProxiedRequest[] = [];
  let n = 0;

  const server: Server = createServer((req, res) => {
    void (async () => {
      const url = new URL(req.url ?? '/', 'http://proxy');
      const body = await readBody(req);
      const request: ProxiedRequest = { n: ++n, method: req.method ?? 'GET', path: url.pathname, query: url.searchParams };
      requests.push(request);
      const plan = plans.find((candidate) => candidate.remaining > 0 && candidate.match(request));
      if (plan) plan.remaining -= 1;
      const fault = plan?.fault;
      if (fault) request.fault = fault.kind;
      if (fault?.kind === 'status') {
        request.status = fault.status;
        res.writeHead(fault.status, { 'content-type': 'text/html', ...fault.headers });
        res.end(fault.body ?? `<html><body>${fault.status}</body></html>`);
        return;
      }
      if (fault?.kind === 'hold') {
        const waiter = waiters.shift();
        if (waiter) waiter(request);
        else heldQueue.push(request);
        return; // never answered; the client is expected to die
      }
      if (fault?.kind === 'stall') await new Promise((resolve) => setTimeout(resolve, fault.ms));
      if (req.socket.destroyed) return;
      const headers: Record<string, string> = {};
      for (const [name, value] of Object.entries(req.headers)) {
        if (typeof value === 'string' && name !== 'host' && name !== 'connection' && name !== 'content-length') headers[name] = value;
      }
      const upstream = await fetch(`${target}${url.pathname}${url.search}`, {
        method: req.method ?? 'GET',
        headers,
        ...(body.length > 0 ? { body: new Uint8Array(body) } : {}),
      });
      const payload = Buffer.from(await upstream.arrayBuffer());
      request.status = upstream.status;
      const type = upstream.headers.get('content-type') ?? 'application/octet-stream';
      res.writeHead(upstream.status, { 'content-type': type, 'content-length': String(payload.length) });
      if (fault?.kind === 'cut') {
        res.write(payload.subarray(0, Math.floor(payload.length / 2)));
        setTimeout(() => req.socket.destroy(), 20);
        return;
      }
      res.end(payload);
    })().catch(() => {
      if (!res.headersSent) res.writeHead(502).end();
      else res.destroy();
    });
  });
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const address = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${address.port}`,
    requests,
    plan(match, fault, times = 1) {
      plans.push({ match, fault, remaining: times });
    },
    held() {
      const queued = heldQueue.shift();
      if (queued) return Promise.resolve(queued);
      return new Promise((resolve) => waiters.push(resolve));
    },
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
