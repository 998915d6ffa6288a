/**
 * A recording man in the middle that passes bytes through untouched (no decoding, unlike fetch):
 * for every exchange it keeps the method, path, query, the bytes on the wire each way, the
 * Content-Encoding of both bodies and the request body unpacked (to count the records a push
 * carried). It can also rewrite request headers, e.g. to ask the peer for gzip rather than br.
 */
import { createServer, request as httpRequest, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { decodeBody } from '../../../src/transports/compression.js';

export interface WireExchange {
  method: string;
  path: string;
  query: URLSearchParams;
  status: number;
  requestBytes: number;
  responseBytes: number;
  requestEncoding?: string;
  responseEncoding?: string;
  /** The request body as the peer's parser sees it (unpacked). */
  requestText: string;
}

export interface WireProxy {
  url: string;
  exchanges: WireExchange[];
  close(): Promise<void>;
}

function single(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value.join(', ') : value;
}

export async function createWireProxy(target: string, options: { requestHeaders?: Record<string, string> } = {}): Promise<WireProxy> {
  const upstream = new URL(target);
  const exchanges: WireExchange[] = [];
  const sockets = new Set<Socket>();
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const url = new URL(req.url ?? '/', 'http://proxy');
      const headers: IncomingHttpHeaders = { ...req.headers, ...options.requestHeaders, host: upstream.host };
      const forward = httpRequest({ host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers }, (answer) => {
        const answerChunks: Buffer[] = [];
        answer.on('data', (chunk: Buffer) => answerChunks.push(chunk));
        answer.on('end', () => {
          const payload = Buffer.concat(answerChunks);
          const requestEncoding = single(req.headers, 'content-encoding');
          const responseEncoding = single(answer.headers, 'content-encoding');
          exchanges.push({
            method: req.method ?? 'GET',
            path: url.pathname,
            query: url.searchParams,
            status: answer.statusCode ?? 0,
            requestBytes: body.length,
            responseBytes: payload.length,
            ...(requestEncoding ? { requestEncoding } : {}),
            ...(responseEncoding ? { responseEncoding } : {}),
            requestText: decodeBody(body, requestEncoding, 64 * 1024 * 1024).toString('utf8'),
          });
          const { 'transfer-encoding': _chunked, ...answerHeaders } = answer.headers;
          res.writeHead(answer.statusCode ?? 502, { ...answerHeaders, 'content-length': String(payload.length) });
          res.end(payload);
        });
      });
      forward.on('error', () => res.destroy());
      forward.end(body);
    });
  });
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    exchanges,
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
