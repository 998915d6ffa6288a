import { SluiceError } from '../errors.js';

/**
 * Checks on a transform's input before any worker sees it: a size limit, no DOCTYPE (the door to
 * entity expansion and external fetches, refused outright whatever the engine would do with it),
 * and decoding to text.
 */

export function inputTooLarge(bytes: number, limit: number, what = 'the input'): SluiceError {
  return new SluiceError('XSLT_INPUT_TOO_LARGE', `${what} is ${bytes} bytes; the limit is ${limit}`, {
    status: 413,
    severity: 'limit',
    fix: 'Send a smaller document, split it, or raise the transform input limit',
    details: { bytes, limit },
  });
}

export function doctypeForbidden(): SluiceError {
  return new SluiceError('XML_DOCTYPE_FORBIDDEN', 'the input has a DOCTYPE declaration; DTDs and entities are not accepted', {
    status: 400,
    fix: 'Remove the <!DOCTYPE …> declaration (and expand any entities it defines) before sending the document',
  });
}

export function byteLengthOf(input: string | Uint8Array): number {
  return typeof input === 'string' ? Buffer.byteLength(input, 'utf8') : input.byteLength;
}

/** Encodings accepted in an XML declaration, by WHATWG label. */
const SUPPORTED_ENCODINGS = new Set(['utf-8', 'utf8', 'utf-16', 'utf-16le', 'utf-16be', 'iso-8859-1', 'latin1', 'windows-1252', 'us-ascii', 'ascii']);

/** Decodes bytes as the document says (BOM, then the XML declaration), UTF-8 by default. */
export function decodeXml(input: string | Uint8Array): string {
  if (typeof input === 'string') return input.charCodeAt(0) === 0xfeff ? input.slice(1) : input;
  const bytes = input;
  if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) return new TextDecoder('utf-8').decode(bytes.subarray(3));
  if (bytes[0] === 0xff && bytes[1] === 0xfe) return new TextDecoder('utf-16le').decode(bytes.subarray(2));
  if (bytes[0] === 0xfe && bytes[1] === 0xff) return new TextDecoder('utf-16be').decode(bytes.subarray(2));
  const head = Buffer.from(bytes.buffer, bytes.byteOffset, Math.min(bytes.byteLength, 200)).toString('latin1');
  const declared = /^<\?xml[^>]*\bencoding\s*=\s*["']([A-Za-z0-9._-]+)["']/.exec(head)?.[1]?.toLowerCase();
  const encoding = declared && SUPPORTED_ENCODINGS.has(declared) ? declared : 'utf-8';
  // The declaration must now be ignored by the XML parser: the text is already decoded.
  return new TextDecoder(encoding === 'us-ascii' || encoding === 'ascii' ? 'utf-8' : encoding).decode(bytes);
}

/**
 * True when the prolog (before the root element) contains a DOCTYPE. Only the prolog can hold
 * one, so this reads no further than the first element.
 */
export function hasDoctype(text: string): boolean {
  let i = 0;
  const length = text.length;
  while (i < length) {
    const ch = text.charCodeAt(i);
    if (ch === 0x20 || ch === 0x0a || ch === 0x0d || ch === 0x09 || ch === 0xfeff) {
      i++;
      continue;
    }
    if (ch !== 0x3c) return false;
    if (text.startsWith('<?', i)) {
      const end = text.indexOf('?>', i + 2);
      if (end < 0) return false;
      i = end + 2;
      continue;
    }
    if (text.startsWith('<!--', i)) {
      const end = text.indexOf('-->', i + 4);
      if (end < 0) return false;
      i = end + 3;
      continue;
    }
    return /^<!DOCTYPE/i.test(text.slice(i, i + 9));
  }
  return false;
}

/** Size, DOCTYPE and decoding in one step; returns the text for SaxonJS. */
export function admitXmlInput(input: string | Uint8Array, maxInputBytes: number): string {
  const bytes = byteLengthOf(input);
  if (bytes > maxInputBytes) throw inputTooLarge(bytes, maxInputBytes);
  const text = decodeXml(input);
  if (hasDoctype(text)) throw doctypeForbidden();
  return text;
}
