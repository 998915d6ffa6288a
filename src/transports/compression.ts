/**
 * Compressed transfers (Content-Encoding gzip or br), negotiated both ways:
 * - responses: `compressResponses` (express) compresses when the client's Accept-Encoding allows
 *   it; `decodingTransport` (around the sync module's PeerTransport) asks for it and unpacks
 *   what comes back, never beyond a cap (a decompression bomb is refused, not unpacked);
 * - requests: `compressingTransport` compresses push bodies for peers known to read them (Sluice;
 *   Eden's web2py would take the gzip bytes for XML). The receiving side's body parser
 *   (body-parser 2) inflates gzip/br/deflate and applies its size limit to the inflated bytes.
 */
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { brotliCompressSync, brotliDecompressSync, constants, createBrotliCompress, createGzip, gunzipSync, gzipSync, inflateSync, type BrotliOptions, type ZlibOptions } from 'node:zlib';
import { SluiceError } from '../errors.js';
import type { PeerRequest, PeerResponse, PeerTransport } from '../sync/transport.js';

export type ContentCoding = 'br' | 'gzip';

/** Bodies smaller than this are sent as they are: the headers would cost more than the saving. */
export const COMPRESSION_THRESHOLD_BYTES = 1024;
/** Brotli quality 5: most of brotli's gain over gzip at a speed close to gzip's (bench: tools/bench/bandwidth.ts). */
const BROTLI_QUALITY = 5;
const GZIP_LEVEL = 6;

const brotliOptions = (size?: number): BrotliOptions => ({
  params: {
    [constants.BROTLI_PARAM_QUALITY]: BROTLI_QUALITY,
    [constants.BROTLI_PARAM_MODE]: constants.BROTLI_MODE_TEXT,
    ...(size === undefined ? {} : { [constants.BROTLI_PARAM_SIZE_HINT]: size }),
  },
});
const gzipOptions: ZlibOptions = { level: GZIP_LEVEL };

export function compress(bytes: Buffer, coding: ContentCoding): Buffer {
  return coding === 'br' ? brotliCompressSync(bytes, brotliOptions(bytes.length)) : gzipSync(bytes, gzipOptions);
}

/**
 * The coding to answer with, from an Accept-Encoding header: br before gzip at equal q, none when
 * neither is acceptable (q=0 refuses; `*` stands for both).
 */
export function negotiateEncoding(header: string | undefined): ContentCoding | undefined {
  if (!header) return undefined;
  const weights = new Map<string, number>();
  for (const item of header.split(',')) {
    const [name, ...params] = item.trim().toLowerCase().split(';');
    if (!name) continue;
    const q = params.map((param) => param.trim()).find((param) => param.startsWith('q='));
    const weight = q === undefined ? 1 : Number(q.slice(2));
    weights.set(name, Number.isFinite(weight) ? weight : 0);
  }
  const weightOf = (coding: ContentCoding) => weights.get(coding) ?? weights.get('*') ?? 0;
  const best = (['br', 'gzip'] as const).filter((coding) => weightOf(coding) > 0).sort((a, b) => weightOf(b) - weightOf(a));
  return best[0];
}

const COMPRESSIBLE = /^(text\/|application\/(xml|json|javascript|geo\+json|[\w.+-]+\+(xml|json))|image\/svg\+xml)/i;

function compressible(contentType: unknown): boolean {
  // Server-sent events must reach the browser as they are written; a compressor would hold them.
  return typeof contentType === 'string' && COMPRESSIBLE.test(contentType) && !/^text\/event-stream/i.test(contentType);
}

type WriteCallback = (error?: Error | null) => void;

/**
 * Express middleware: streams the response through gzip or brotli when the client accepts one and
 * the body is text (XML, JSON, CSV…) of at least the threshold. Backpressure is kept: `res.write`
 * returns false while the compressor's buffer is full and `drain` is emitted when it empties.
 */
export function compressResponses(options: { thresholdBytes?: number } = {}): RequestHandler {
  const threshold = options.thresholdBytes ?? COMPRESSION_THRESHOLD_BYTES;
  return (req: Request, res: Response, next: NextFunction) => {
    res.vary('Accept-Encoding');
    const coding = negotiateEncoding(req.headers['accept-encoding']);
    if (!coding || req.method === 'HEAD') {
      next();
      return;
    }
    const rawWrite = res.write.bind(res) as (chunk: unknown, encoding?: BufferEncoding, callback?: WriteCallback) => boolean;
    const rawEnd = res.end.bind(res) as (chunk?: unknown, encoding?: BufferEncoding, callback?: () => void) => Response;
    let decided = false;
    let stream: ReturnType<typeof createGzip> | undefined;

    const decide = (firstChunk: unknown, ending: boolean): void => {
      decided = true;
      if (res.getHeader('content-encoding') !== undefined || res.statusCode === 204 || res.statusCode === 304 || !compressible(res.getHeader('content-type'))) return;
      const declared = Number(res.getHeader('content-length'));
      const firstLength = typeof firstChunk === 'string' ? Buffer.byteLength(firstChunk) : firstChunk instanceof Uint8Array ? firstChunk.length : 0;
      if ((Number.isFinite(declared) && declared < threshold) || (ending && firstLength < threshold)) return;
      res.setHeader('Content-Encoding', coding);
      res.removeHeader('Content-Length');
      stream = coding === 'br' ? createBrotliCompress(brotliOptions()) : createGzip(gzipOptions);
      stream.on('data', (chunk: Buffer) => {
        if (!rawWrite(chunk)) stream!.pause();
      });
      res.on('drain', () => stream!.resume());
      stream.on('drain', () => res.emit('drain'));
      stream.on('end', () => rawEnd());
      stream.on('error', (error) => res.destroy(error));
    };

    res.write = ((chunk: unknown, encoding?: BufferEncoding | WriteCallback, callback?: WriteCallback): boolean => {
      if (!decided) decide(chunk, false);
      const cb = typeof encoding === 'function' ? encoding : callback;
      const enc = typeof encoding === 'string' ? encoding : undefined;
      if (!stream) return rawWrite(chunk, enc, cb);
      return stream.write(chunk as Buffer, enc ?? 'utf8', cb);
    }) as Response['write'];

    res.end = ((chunk?: unknown, encoding?: BufferEncoding | (() => void), callback?: () => void): Response => {
      const hasChunk = typeof chunk !== 'function' && chunk !== undefined && chunk !== null;
      if (!decided) decide(hasChunk ? chunk : undefined, true);
      const cb = typeof chunk === 'function' ? (chunk as () => void) : typeof encoding === 'function' ? encoding : callback;
      const enc = typeof encoding === 'string' ? encoding : undefined;
      if (!stream) return rawEnd(hasChunk ? chunk : undefined, enc, cb);
      if (cb) res.once('finish', cb);
      if (hasChunk) stream.end(chunk as Buffer, enc ?? 'utf8');
      else stream.end();
      return res;
    }) as Response['end'];
    next();
  };
}

function tooLarge(req: PeerRequest, maxBytes: number): SluiceError {
  return new SluiceError('PEER_RESPONSE_TOO_LARGE', `${req.method} ${new URL(req.url).pathname} answered a body that unpacks to more than ${maxBytes} bytes`, {
    status: 502,
    severity: 'limit',
    fix: 'Use URL filters to pull less at once, or raise the response limit',
  });
}

/** Unpacks a body of the given Content-Encoding, never beyond `maxBytes` (RangeError past it). */
export function decodeBody(body: Buffer, contentEncoding: string | undefined, maxBytes: number): Buffer {
  const coding = (contentEncoding ?? 'identity').trim().toLowerCase();
  const options = { maxOutputLength: maxBytes };
  switch (coding) {
    case 'identity':
    case '':
      return body;
    case 'gzip':
    case 'x-gzip':
      return gunzipSync(body, options);
    case 'br':
      return brotliDecompressSync(body, options);
    case 'deflate':
      return inflateSync(body, options);
    default:
      throw new SluiceError('PEER_BAD_ENCODING', `the peer answered with Content-Encoding "${coding}", which Sluice cannot read`, { status: 502, fix: 'Configure the peer (or its proxy) to answer gzip, br or uncompressed' });
  }
}

/**
 * Asks for compressed responses and hands the sync logic plain bytes: the peer may answer gzip or br
 * (Sluice, or Eden behind a compressing web server) and the body is unpacked up to `maxBytes`.
 */
export function decodingTransport(inner: PeerTransport, options: { maxBytes?: number } = {}): PeerTransport {
  const maxBytes = options.maxBytes ?? 512 * 1024 * 1024;
  return async (req) => {
    const hasAccept = Object.keys(req.headers).some((name) => name.toLowerCase() === 'accept-encoding');
    const response = await inner(hasAccept ? req : { ...req, headers: { ...req.headers, 'accept-encoding': 'br, gzip' } });
    const coding = response.headers['content-encoding'];
    if (coding === undefined || coding.toLowerCase() === 'identity') return response;
    let body: Buffer;
    try {
      body = decodeBody(response.body, coding, maxBytes);
    } catch (error) {
      if (error instanceof SluiceError) throw error;
      if (error instanceof RangeError || (error as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') throw tooLarge(req, maxBytes);
      throw new SluiceError('PEER_UNAVAILABLE', `${req.method} ${new URL(req.url).pathname}: the ${coding} body is damaged (${(error as Error).message})`, { status: 502, cause: error, fix: 'The body was cut or corrupted on the way; the request is retried' });
    }
    const { 'content-encoding': _coding, 'content-length': _length, ...headers } = response.headers;
    return { ...response, headers: { ...headers, 'content-length': String(body.length) }, body } satisfies PeerResponse;
  };
}

/** Compresses request bodies (pushes) of at least the threshold; for peers that read them (Sluice). */
export function compressingTransport(inner: PeerTransport, options: { coding?: ContentCoding; thresholdBytes?: number } = {}): PeerTransport {
  const coding = options.coding ?? 'gzip';
  const threshold = options.thresholdBytes ?? COMPRESSION_THRESHOLD_BYTES;
  return (req) => {
    if (req.body === undefined || req.body.length < threshold || Object.keys(req.headers).some((name) => name.toLowerCase() === 'content-encoding')) return inner(req);
    return inner({ ...req, headers: { ...req.headers, 'content-encoding': coding }, body: compress(req.body, coding) });
  };
}
