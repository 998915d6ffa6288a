import { SluiceError } from '../../errors.js';
import { doctypeForbidden } from '../input-guard.js';

/**
 * Splits an S3XML document into its top-level children at the byte level, without building a
 * tree: the bytes of each `<resource>` are copied as they are (so a batch transformed on its own
 * sees exactly what the whole document holds) and parsing happens once, in the worker that
 * transforms the batch. The scanner understands just enough XML to find element boundaries:
 * comments, CDATA, processing instructions, quoted attribute values containing `>`.
 *
 * Items partition the root's content: each item also carries the whitespace and comments that
 * come before its element, and `tail` is what follows the last element. Concatenating the items
 * and the tail gives back the root's content byte for byte.
 */

export interface SplitItem {
  bytes: Buffer;
  /** Local name of the element (`resource` in S3XML). */
  element: string;
  /** The `name` attribute (the table, e.g. `gis_location`). */
  name?: string;
  uuid?: string;
  /** Offset of the item's first byte in the document. */
  offset: number;
}

export type SplitEvent =
  | { kind: 'root'; startTag: string; name: string; prolog: string }
  | { kind: 'item'; item: SplitItem }
  | { kind: 'end'; tail: Buffer };

const LT = 0x3c;
const GT = 0x3e;
const SLASH = 0x2f;
const QUOTE = 0x22;
const APOSTROPHE = 0x27;

function malformed(message: string, offset: number): SluiceError {
  return new SluiceError('XML_MALFORMED', `the input is not well-formed XML: ${message} (near byte ${offset})`, {
    status: 400,
    fix: 'Check the document with an XML validator; it must be one well-formed S3XML document',
    details: { offset },
  });
}

function attributeOf(tag: string, name: string): string | undefined {
  const match = new RegExp(`\\s${name}\\s*=\\s*(?:"([^"]*)"|'([^']*)')`).exec(tag);
  const raw = match?.[1] ?? match?.[2];
  return raw?.replace(/&quot;/g, '"').replace(/&apos;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
}

function tagName(tag: string): string {
  const match = /^<\/?([^\s/>]+)/.exec(tag);
  const qname = match?.[1] ?? '';
  const colon = qname.indexOf(':');
  return colon < 0 ? qname : qname.slice(colon + 1);
}

/** Finds the `>` that ends the tag starting at `from`, skipping quoted attribute values. */
export function tagEnd(buffer: Buffer, from: number): number {
  let cursor = from + 1;
  for (;;) {
    const gt = buffer.indexOf(GT, cursor);
    if (gt < 0) return -1;
    let open = -1;
    for (let i = cursor; i < gt; i++) {
      const byte = buffer[i];
      if (byte === QUOTE || byte === APOSTROPHE) {
        open = i;
        break;
      }
    }
    if (open < 0) return gt;
    // A quoted value may contain '>': skip to its closing quote and look again.
    const close = buffer.indexOf(buffer[open]!, open + 1);
    if (close < 0) return -1;
    cursor = close + 1;
  }
}

/**
 * Reads the document chunk by chunk and yields the root start tag, then each top-level item, then
 * the tail. Memory holds one item plus one chunk, whatever the document's size.
 */
export async function* splitS3XML(source: AsyncIterable<Uint8Array>): AsyncGenerator<SplitEvent> {
  const scanner = new TopLevelScanner();
  for await (const chunk of source) {
    yield* scanner.push(chunk, false);
    if (scanner.finished) return;
  }
  yield* scanner.push(new Uint8Array(0), true);
  if (!scanner.finished) throw scanner.unfinished();
}

class TopLevelScanner {
  private buffer = Buffer.alloc(0);
  /** Document offset of buffer[0]. */
  private base = 0;
  private position = 0;
  private depth = 0;
  private inRoot = false;
  finished = false;
  private rootName = '';
  /** Start (in buffer) of the current item: just after the previous item. */
  private itemStart = 0;
  private elementTag = '';
  private prolog = '';

  unfinished(): SluiceError {
    return malformed(this.inRoot ? `the document ends before </${this.rootName}>` : 'no root element', this.base + this.buffer.length);
  }

  private take(end: number): SplitItem {
    const offset = this.base + this.itemStart;
    const bytes = Buffer.from(this.buffer.subarray(this.itemStart, end));
    this.itemStart = end;
    const item: SplitItem = { bytes, element: tagName(this.elementTag), offset };
    const name = attributeOf(this.elementTag, 'name');
    const uuid = attributeOf(this.elementTag, 'uuid');
    if (name !== undefined) item.name = name;
    if (uuid !== undefined) item.uuid = uuid;
    return item;
  }

  *push(chunk: Uint8Array, final: boolean): Generator<SplitEvent> {
    if (this.finished) return;
    // Drop what has been handed out; keep the unfinished item.
    const keepFrom = this.inRoot ? this.itemStart : 0;
    this.buffer = Buffer.concat([this.buffer.subarray(keepFrom), Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength)]);
    this.base += keepFrom;
    this.position -= keepFrom;
    this.itemStart -= keepFrom;
    const buffer = this.buffer;

    while (this.position < buffer.length) {
      const lt = buffer.indexOf(LT, this.position);
      if (lt < 0) {
        if (!this.inRoot) this.prolog += buffer.toString('utf8', this.position);
        this.position = buffer.length;
        return;
      }
      // Everything from here needs the following bytes; wait for more data if they are not in yet.
      if (!final && buffer.length - lt < 9) {
        this.position = lt;
        return;
      }
      const next = buffer[lt + 1];
      if (next === 0x21 /* ! */) {
        const lead = buffer.toString('latin1', lt, lt + 9);
        let closer: string;
        if (lead.startsWith('<!--')) closer = '-->';
        else if (lead.startsWith('<![CDATA[')) closer = ']]>';
        else if (lead.toUpperCase().startsWith('<!DOCTYPE')) {
          if (!this.inRoot) throw doctypeForbidden();
          throw malformed('a DOCTYPE inside the document', this.base + lt);
        } else throw malformed('an unknown markup declaration', this.base + lt);
        const close = buffer.indexOf(closer, lt + 4, 'latin1');
        if (close < 0) {
          this.position = lt;
          return;
        }
        if (!this.inRoot) this.prolog += buffer.toString('utf8', this.position, close + closer.length);
        this.position = close + closer.length;
        continue;
      }
      if (next === 0x3f /* ? */) {
        const close = buffer.indexOf('?>', lt + 2, 'latin1');
        if (close < 0) {
          this.position = lt;
          return;
        }
        if (!this.inRoot) this.prolog += buffer.toString('utf8', this.position, close + 2);
        this.position = close + 2;
        continue;
      }
      const end = tagEnd(buffer, lt);
      if (end < 0) {
        this.position = lt;
        return;
      }
      if (next === SLASH) {
        this.depth--;
        if (this.depth === 1) {
          yield { kind: 'item', item: this.take(end + 1) };
        } else if (this.depth === 0) {
          const tail = Buffer.from(buffer.subarray(this.itemStart, lt));
          this.finished = true;
          yield { kind: 'end', tail };
          return;
        } else if (this.depth < 0) throw malformed('an end tag without a start tag', this.base + lt);
        this.position = end + 1;
        continue;
      }
      const selfClosing = buffer[end - 1] === SLASH;
      if (!this.inRoot) {
        const startTag = buffer.toString('utf8', lt, end + 1);
        this.rootName = /^<([^\s/>]+)/.exec(startTag)?.[1] ?? '';
        this.inRoot = true;
        this.prolog += buffer.toString('utf8', this.position, lt);
        yield { kind: 'root', startTag: selfClosing ? startTag.replace(/\s*\/>$/, '>') : startTag, name: this.rootName, prolog: this.prolog };
        this.position = end + 1;
        this.itemStart = this.position;
        if (selfClosing) {
          this.finished = true;
          yield { kind: 'end', tail: Buffer.alloc(0) };
          return;
        }
        this.depth = 1;
        continue;
      }
      if (this.depth === 1) this.elementTag = buffer.toString('utf8', lt, end + 1);
      if (selfClosing) {
        if (this.depth === 1) yield { kind: 'item', item: this.take(end + 1) };
      } else this.depth++;
      this.position = end + 1;
    }
  }
}
