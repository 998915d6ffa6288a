import type { IncomingMessage, ServerResponse } from 'node:http';

/** A request as the route handlers see it: body already read, parameters parsed. */
export interface FakeRequest {
  method: string;
  pathname: string;
  query: URLSearchParams;
  headers: IncomingMessage['headers'];
  body: string;
  /** `http://host:port` as the client addressed us; the paginator builds its links from it. */
  origin: string;
  remoteAddress: string;
}

export interface FakeResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

const MAX_BODY = 1024 * 1024;

export async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY) throw new Error('request body too large');
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

export function writeResponse(res: ServerResponse, response: FakeResponse): void {
  if (res.destroyed || res.writableEnded) return;
  res.writeHead(response.status, { 'content-length': Buffer.byteLength(response.body), ...response.headers });
  res.end(response.body);
}

export function json(status: number, body: unknown, headers: Record<string, string> = {}): FakeResponse {
  return { status, headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) };
}

/**
 * PHP's json_encode defaults, which classic v2 uses: `/` becomes `\/` and every non-ASCII
 * character a `\uXXXX` escape (UTF-16 code units, so astral characters become surrogate pairs).
 */
export function phpJsonEncode(value: unknown): string {
  return JSON.stringify(value)
    .replace(/\//g, '\\/')
    .replace(/[\u007f-\uffff]/g, (ch) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

export function xmlEscape(text: string): string {
  return text.replace(/[&<>"']/g, (ch) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[ch]!);
}

/** Body parameters for JSON or form-urlencoded bodies (both are accepted by Laravel and by PHP's $_POST). */
export function bodyParams(req: FakeRequest): Record<string, unknown> {
  const type = String(req.headers['content-type'] ?? '').toLowerCase();
  if (req.body.trim() === '') return {};
  if (type.includes('application/json')) {
    try {
      const parsed: unknown = JSON.parse(req.body);
      return parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : {};
    } catch {
      return {};
    }
  }
  if (type.includes('application/x-www-form-urlencoded')) {
    return Object.fromEntries(new URLSearchParams(req.body));
  }
  return {};
}

/** Values of a PHP-style parameter given as CSV (`a,b`) or as an array (`a[]=x&a[]=y`, `a[0]=x`). */
export function listParam(query: URLSearchParams, name: string): string[] | undefined {
  const values: string[] = [];
  let present = false;
  for (const [key, value] of query) {
    if (key === name || key === `${name}[]` || new RegExp(`^${name}\\[\\d+\\]$`).test(key)) {
      present = true;
      values.push(...value.split(',').map((v) => v.trim()).filter((v) => v !== ''));
    }
  }
  return present ? values : undefined;
}

export function basicCredentials(header: string | undefined): { user: string; password: string } | undefined {
  if (!header || !/^basic /i.test(header)) return undefined;
  const decoded = Buffer.from(header.slice(6).trim(), 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return undefined;
  return { user: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

/** PHP DateTimeInterface::ISO8601: `2014-09-29T14:10:16+0000`. */
export function iso8601(epochSeconds: number): string {
  return `${new Date(epochSeconds * 1000).toISOString().slice(0, 19)}+0000`;
}

/** Laravel's `toJSON` of a Carbon attribute (value rows): `2024-05-02T09:14:05.000000Z`. */
export function laravelJsonDate(epochSeconds: number): string {
  return `${new Date(epochSeconds * 1000).toISOString().slice(0, 19)}.000000Z`;
}

/** PHP strtotime for the formats clients send: epoch seconds or anything Date.parse reads. */
export function strtotime(value: string): number | undefined {
  const trimmed = value.trim();
  if (/^@?\d+$/.test(trimmed)) return Number(trimmed.replace('@', ''));
  const normalized = trimmed.replace(/([+-]\d{2})(\d{2})$/, '$1:$2');
  const ms = Date.parse(/[zZ]|[+-]\d{2}:\d{2}$/.test(normalized) || !/T|\d{2}:\d{2}/.test(normalized) ? normalized : `${normalized}Z`);
  return Number.isNaN(ms) ? undefined : Math.floor(ms / 1000);
}
