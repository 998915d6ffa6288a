import { SluiceError } from '../../errors.js';
import { ContextStore, type ContextLookup, type ContextStoreOptions } from './context-store.js';
import { splitS3XML, tagEnd, type SplitItem } from './s3xml-splitter.js';

/**
 * Groups the top-level resources of an S3XML document into batch documents for record-local
 * stylesheets. Each batch is a complete S3XML document: the original prolog and root start tag
 * (so root attributes such as `domain` stay visible), a run of consecutive items, the root end tag.
 *
 * Lookup context: a stylesheet may look up other top-level resources by key, typically the
 * `gis_location` records an Eden export appends after the main records. Names given as context
 * are read in a first pass and not batched as records; each batch then carries the context
 * resources its `<reference>`s point to, after its own records. Such resources must produce no
 * output of their own (they are lookups), which is what makes the joined output equal to the
 * whole-document output.
 */

export interface BatchOptions {
  /** Records per batch. */
  records: number;
  /** Upper bound on a batch's size in bytes (a batch always holds at least one record). */
  bytes: number;
  /** Table names (`gis_location`, …) used as lookup context. */
  contextResources: string[];
}

export interface BatchDocument {
  index: number;
  /** The batch document, UTF-8. Kept as bytes: the worker decodes it, not the main thread. */
  bytes: Buffer;
  records: number;
  /** Offset in the input of the batch's first record, for error messages. */
  offset: number;
  /** The first record's element and identity, for error messages about one oversized record. */
  firstRecord?: { element: string; name?: string; uuid?: string };
}

export interface DocumentFrame {
  prolog: string;
  rootStartTag: string;
  rootEndTag: string;
}

export type SourceOpener = () => AsyncIterable<Uint8Array>;

function contextKey(name: string, uuid: string): string {
  return `${name}\u0000${uuid}`;
}

function decodeAttribute(raw: string): string {
  return raw.replace(/&quot;/g, '"').replace(/&apos;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
}

function attribute(tag: string, name: string): string | undefined {
  const match = new RegExp(`\\s${name}\\s*=\\s*(?:"([^"]*)"|'([^']*)')`).exec(tag);
  return match?.[1] ?? match?.[2];
}

/**
 * The (table, uuid) pairs a batch's `<reference>` elements point to; uuid may be a JSON list.
 * Works on the bytes: only the reference tags themselves are decoded.
 */
export function referencedKeys(bytes: Buffer, names: Set<string>): string[] {
  const keys: string[] = [];
  for (let at = bytes.indexOf('<reference', 0, 'latin1'); at >= 0; at = bytes.indexOf('<reference', at + 10, 'latin1')) {
    const end = tagEnd(bytes, at);
    if (end < 0) break;
    const tag = bytes.toString('utf8', at, end + 1);
    const table = attribute(tag, 'resource');
    if (!table || !names.has(table)) continue;
    const raw = attribute(tag, 'uuid');
    if (raw === undefined) continue;
    const value = decodeAttribute(raw);
    if (value.startsWith('[')) {
      try {
        for (const uuid of JSON.parse(value) as unknown[]) if (typeof uuid === 'string') keys.push(contextKey(table, uuid));
      } catch {
        keys.push(contextKey(table, value));
      }
    } else keys.push(contextKey(table, value));
  }
  return keys;
}

/**
 * First pass: the raw bytes of every context resource, by (table, uuid). The caller closes the
 * store when done (it may hold a scratch file in `options.spillDir`).
 */
export async function collectContext(open: SourceOpener, names: string[], options: ContextStoreOptions = {}): Promise<ContextStore> {
  const wanted = new Set(names);
  const context = new ContextStore(options);
  try {
    for await (const event of splitS3XML(open())) {
      if (event.kind !== 'item') continue;
      const { item } = event;
      if (item.name && item.uuid && wanted.has(item.name)) await context.put(contextKey(item.name, item.uuid), item.bytes);
    }
    await context.flush();
  } catch (error) {
    await context.close();
    throw error;
  }
  return context;
}

function checkEncoding(prolog: string): void {
  const declared = /encoding\s*=\s*["']([^"']+)["']/.exec(prolog)?.[1]?.toLowerCase();
  if (declared && !['utf-8', 'utf8', 'us-ascii', 'ascii'].includes(declared)) {
    throw new SluiceError('XSLT_CHUNKING_UNSUPPORTED', `chunked transforms read UTF-8 input; this document is ${declared}`, {
      status: 422,
      fix: 'Convert the document to UTF-8, or transform it whole (without --chunked)',
    });
  }
}

/**
 * Second pass: yields the frame once, then the batch documents in document order. Reading pauses
 * while the consumer is busy, so memory stays bounded by the batches in flight.
 */
export async function* batchDocuments(
  open: SourceOpener,
  options: BatchOptions,
  context: ContextLookup,
): AsyncGenerator<{ frame: DocumentFrame } | { batch: BatchDocument }> {
  const contextNames = new Set(options.contextResources);
  let pending: SplitItem[] = [];
  let pendingBytes = 0;
  let index = 0;

  let head = Buffer.alloc(0);
  let foot = Buffer.alloc(0);

  const build = async (items: SplitItem[], tail: Buffer | undefined): Promise<BatchDocument> => {
    const parts: Buffer[] = [head, ...items.map((item) => item.bytes)];
    if (context.size > 0) {
      const seen = new Set<string>();
      for (const item of items) {
        for (const key of referencedKeys(item.bytes, contextNames)) {
          if (seen.has(key)) continue;
          seen.add(key);
          const bytes = await context.get(key);
          if (bytes) parts.push(bytes);
        }
      }
    }
    if (tail) parts.push(tail);
    parts.push(foot);
    const batch: BatchDocument = { index: index++, bytes: Buffer.concat(parts), records: items.length, offset: items[0]?.offset ?? 0 };
    const first = items[0];
    if (first) {
      batch.firstRecord = { element: first.element };
      if (first.name !== undefined) batch.firstRecord.name = first.name;
      if (first.uuid !== undefined) batch.firstRecord.uuid = first.uuid;
    }
    return batch;
  };

  for await (const event of splitS3XML(open())) {
    if (event.kind === 'root') {
      checkEncoding(event.prolog);
      const frame: DocumentFrame = { prolog: event.prolog, rootStartTag: event.startTag, rootEndTag: `</${event.name}>` };
      head = Buffer.from(`${frame.prolog}${frame.rootStartTag}`, 'utf8');
      foot = Buffer.from(frame.rootEndTag, 'utf8');
      yield { frame };
      continue;
    }
    if (event.kind === 'item') {
      const { item } = event;
      if (item.name && contextNames.has(item.name)) continue;
      if (pending.length > 0 && (pending.length >= options.records || pendingBytes + item.bytes.length > options.bytes)) {
        yield { batch: await build(pending, undefined) };
        pending = [];
        pendingBytes = 0;
      }
      pending.push(item);
      pendingBytes += item.bytes.length;
      continue;
    }
    // The tail (whitespace, comments after the last record) belongs to the last batch.
    if (pending.length > 0 || index === 0) yield { batch: await build(pending, event.tail) };
  }
}
