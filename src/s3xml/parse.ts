/**
 * Streaming S3XML reader (reference/eden-sync-and-s3xml.md §1). Bytes go in, the root's attributes
 * and then one complete top-level `<resource>` at a time come out, so memory holds one top-level
 * resource (with its components and inline resources), never the whole document.
 *
 * Hostile input is refused with a SluiceError (status 400) before it can do harm: any DOCTYPE or
 * markup declaration is refused the moment `<!DOCTYPE`/`<!ENTITY`… is seen, so nothing is ever
 * expanded or fetched; every buffered token, attribute, text and nesting level has a limit.
 *
 * Encoding: only UTF-8 (Eden always exports UTF-8). Bytes are decoded strictly; a UTF-16 byte order
 * mark, UTF-16 without one, invalid or truncated UTF-8, and an XML declaration naming any encoding
 * other than UTF-8 or US-ASCII are refused with XML_BAD_ENCODING. Text handed in as a JS string is
 * already decoded, so its declared encoding is not checked.
 */
import { SaxesParser, type SaxesTagPlain } from 'saxes';
import { SluiceError } from '../errors.js';
import { emptyResource, type S3Data, type S3Document, type S3Reference, type S3Resource } from './model.js';
import { normalizeTimestamp } from './timestamps.js';

export interface ParseOptions {
  /** Longest attribute value in characters (default 1 MiB). */
  maxAttributeLength?: number;
  /** Deepest element nesting, the root counting as 1 (default 64). */
  maxDepth?: number;
  /** Longest text of one `<data>` or `<reference>`, in characters (default 16 MiB). */
  maxTextLength?: number;
  /** Largest top-level resource with everything nested in it, in characters of XML (default 64 MiB). */
  maxResourceLength?: number;
}

export type S3XMLEvent =
  | { type: 'root'; attributes: Record<string, string> }
  | { type: 'resource'; resource: S3Resource };

const DEFAULT_LIMITS: Required<ParseOptions> = {
  maxAttributeLength: 1024 * 1024,
  maxDepth: 64,
  maxTextLength: 16 * 1024 * 1024,
  maxResourceLength: 64 * 1024 * 1024,
};

/** No Eden element carries more than a few dozen attributes; thousands are an attack on memory. */
const MAX_ATTRIBUTES_PER_ELEMENT = 512;

/** Input is fed to the XML parser in slices this long so limits are checked while a token grows. */
const SLICE_LENGTH = 64 * 1024;

const ACCEPTED_ENCODINGS = new Set(['utf-8', 'utf8', 'us-ascii', 'ascii']);

/** Machine-readable context for an error: line/column, byte offset, JSON path… */
export type Location = Record<string, unknown>;

function refuse(code: string, message: string, details: Location, fix?: string): SluiceError {
  return new SluiceError(code, message, {
    status: 400,
    severity: code === 'XML_LIMIT_EXCEEDED' ? 'limit' : 'job',
    details,
    ...(fix === undefined ? {} : { fix }),
  });
}

function limitExceeded(message: string, details: Location): SluiceError {
  return refuse('XML_LIMIT_EXCEEDED', message, details, 'Split the document or raise the parser limit if the input is trusted');
}

/** Assigns `record[key]`, keeping a key named `__proto__` as an own property instead of losing it. */
export function setEntry<T>(record: Record<string, T>, key: string, value: T): void {
  if (key === '__proto__') {
    Object.defineProperty(record, key, { value, enumerable: true, writable: true, configurable: true });
  } else {
    record[key] = value;
  }
}

// ---------------------------------------------------------------------------------------------
// Resource attributes, shared with the S3JSON reader so both refuse the same things the same way.

const INTEGER = /^\s*[+-]?\d+\s*$/;

/** Where a problem is; computed only when there is one. */
export type Locate = () => Location;

/** Eden reads `mci` with `int()`: optional sign and surrounding spaces, nothing else. */
export function parseMci(value: string, locate: Locate): number {
  const mci = INTEGER.test(value) ? Number(value) : Number.NaN;
  if (!Number.isSafeInteger(mci)) {
    throw refuse('S3XML_BAD_MCI', `mci "${truncate(value)}" is not an integer`, { ...locate(), mci: truncate(value) },
      'Send the master copy index as a whole number, for example mci="1"');
  }
  return mci;
}

const CANONICAL_TIMESTAMP = /^(\d{4})-(\d{2})-(\d{2})T([01]\d|2[0-3]):[0-5]\d:[0-5]\d$/;

/** Already `YYYY-MM-DDTHH:MM:SS` with a real calendar day: what Eden exports, so most timestamps. */
function isCanonicalTimestamp(value: string): boolean {
  const match = CANONICAL_TIMESTAMP.exec(value);
  if (match === null) return false;
  const year = Number(match[1]);
  const month = Number(match[2]);
  const day = Number(match[3]);
  if (month < 1 || month > 12 || day < 1) return false;
  const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
  const days = month === 2 ? (leap ? 29 : 28) : [4, 6, 9, 11].includes(month) ? 30 : 31;
  return day <= days;
}

function parseRecordTimestamp(attribute: string, value: string, locate: Locate): string {
  if (isCanonicalTimestamp(value)) return value;
  const normalized = normalizeTimestamp(value);
  if (normalized === undefined) {
    throw refuse('S3XML_BAD_TIMESTAMP', `${attribute} "${truncate(value)}" is not a timestamp`,
      { ...locate(), attribute, value: truncate(value) },
      'Send UTC timestamps of the form YYYY-MM-DDTHH:MM:SS');
  }
  return normalized;
}

/**
 * Builds a resource from the attributes of `<resource>` (or an S3JSON resource object): typed
 * attributes are validated and normalised, every other attribute is kept verbatim and in order.
 * Attribute names containing a colon and `xmlns` are namespace business, not S3XML, and skipped.
 */
export function resourceFromAttributes(
  name: string | undefined,
  attributes: Record<string, string>,
  locate: Locate,
): S3Resource {
  if (name === undefined || name.trim() === '') {
    throw refuse('S3XML_RESOURCE_WITHOUT_NAME', 'A <resource> has no name', locate(),
      'Give every resource the table it belongs to, for example name="org_office"');
  }
  const resource = emptyResource(name);
  const where = (): Location => ({ ...locate(), resource: name });
  for (const key in attributes) {
    const value = attributes[key]!;
    switch (key) {
      case 'name':
      case 'xmlns':
        break;
      case 'uuid':
      case 'tuid':
      case 'alias':
      case 'replaced_by':
        resource[key] = value;
        break;
      case 'mci':
        resource.mci = parseMci(value, where);
        break;
      case 'created_on':
      case 'modified_on':
        resource[key] = parseRecordTimestamp(key, value, where);
        break;
      case 'deleted':
        // Eden treats only true/True as deleted; anything else is an ordinary record.
        if (value.trim().toLowerCase() === 'true') resource.deleted = true;
        break;
      default:
        if (!key.includes(':')) setEntry(resource.attributes, key, value);
    }
  }
  return resource;
}

function truncate(value: string, max = 80): string {
  return value.length <= max ? value : `${value.slice(0, max)}…`;
}

// ---------------------------------------------------------------------------------------------
// Markup declarations are refused on sight, before the XML parser buffers or interprets them.

const DECLARATION_KEYWORDS = ['DOCTYPE', 'ENTITY', 'ELEMENT', 'ATTLIST', 'NOTATION'];
/** `<!` plus the longest thing we must recognise after it (`[CDATA[`, `NOTATION`). */
const DECLARATION_LOOKAHEAD = 10;

/**
 * Finds `<!DOCTYPE`, `<!ENTITY` and other markup declarations anywhere in the text, skipping
 * comments, CDATA sections and processing instructions where those words are harmless. `<` cannot
 * occur raw in attribute values or text, so outside those three every `<!` starts markup.
 *
 * Text passes through `feed`, which returns what the XML parser may see now: a `<` or `<!…` at the
 * end of a chunk is held back until enough follows to decide, so the parser never starts reading a
 * declaration the guard has not judged.
 */
class DeclarationGuard {
  private state: 'markup' | 'comment' | 'cdata' | 'pi' = 'markup';
  /** Text not yet passed on (an undecided `<!…`). */
  private held = '';
  /** Text already passed on, kept to find a terminator split across chunks. */
  private overlap = '';
  /** Characters passed on so far, for error offsets. */
  private passed = 0;

  feed(chunk: string): string {
    const text = this.overlap + this.held + chunk;
    const passFrom = this.overlap.length;
    this.overlap = '';
    this.held = '';
    const safeEnd = this.scan(text, passFrom);
    this.held = text.slice(safeEnd);
    const out = text.slice(passFrom, safeEnd);
    this.passed += out.length;
    return out;
  }

  /** The input has ended: whatever was held back is judged as it stands and passed on. */
  end(): string {
    const rest = this.held;
    this.held = '';
    if (this.state === 'markup' && rest.startsWith('<!')) this.judge(rest.slice(2), 0, 0);
    return rest;
  }

  /** Returns the index up to which `text` may be passed on. */
  private scan(text: string, passFrom: number): number {
    let pos = 0;
    while (pos < text.length) {
      if (this.state !== 'markup') {
        const terminator = this.state === 'comment' ? '-->' : this.state === 'cdata' ? ']]>' : '?>';
        const end = text.indexOf(terminator, pos);
        if (end < 0) {
          this.overlap = text.slice(Math.max(pos, text.length - terminator.length + 1));
          return text.length;
        }
        pos = end + terminator.length;
        this.state = 'markup';
        continue;
      }
      const bang = text.indexOf('<!', pos);
      const question = text.indexOf('<?', pos);
      if (bang < 0 && question < 0) return text.endsWith('<') ? text.length - 1 : text.length;
      if (question >= 0 && (bang < 0 || question < bang)) {
        this.state = 'pi';
        pos = question + 2;
        continue;
      }
      if (text.length - bang < DECLARATION_LOOKAHEAD) return bang;
      const after = text.slice(bang + 2, bang + DECLARATION_LOOKAHEAD);
      if (after.startsWith('--')) {
        this.state = 'comment';
        pos = bang + 4;
      } else if (after.startsWith('[CDATA[')) {
        this.state = 'cdata';
        pos = bang + 9;
      } else {
        this.judge(after, bang, passFrom);
        pos = bang + 2;
      }
    }
    return text.length;
  }

  private judge(after: string, at: number, passFrom: number): void {
    const keyword = DECLARATION_KEYWORDS.find((word) => after.startsWith(word));
    if (keyword === undefined) return;
    throw refuse('XML_DOCTYPE_FORBIDDEN', `The document contains a <!${keyword} declaration; DTDs and entity declarations are not accepted`,
      { declaration: keyword, offset: this.passed + at - passFrom },
      'Remove the DOCTYPE and any entity declarations; S3XML needs neither');
  }
}

// ---------------------------------------------------------------------------------------------
// The element stack while a top-level resource is being read.

type Frame =
  | { kind: 'root'; declares?: string[] }
  | { kind: 'resource'; resource: S3Resource; declares?: string[] }
  | { kind: 'data'; data: S3Data; selfClosing: boolean; text: string | undefined; declares?: string[] }
  | { kind: 'reference'; reference: S3Reference; selfClosing: boolean; text: string | undefined; declares?: string[] }
  /** Elements Eden does not read (and everything inside them) are walked over for well-formedness only. */
  | { kind: 'ignored'; declares?: string[] };

type TextFrame = Extract<Frame, { kind: 'data' | 'reference' }>;

/** Attributes without a namespace, in document order; namespace declarations and prefixed ones are not S3XML. */
function plainAttributes(attributes: Record<string, string>, skip?: string, skip2?: string): Record<string, string> | undefined {
  let out: Record<string, string> | undefined;
  for (const key in attributes) {
    if (key === skip || key === skip2 || key === 'xmlns' || key.includes(':')) continue;
    out ??= {};
    setEntry(out, key, attributes[key]!);
  }
  return out;
}

/** Push-style core: feed decoded text, collect the events completed so far. */
class S3XMLReader {
  private readonly limits: Required<ParseOptions>;
  // Namespace processing is done here, for the little S3XML needs of it; saxes' own costs ~40%.
  private readonly parser = new SaxesParser<{ xmlns: false; position: true }>({ xmlns: false, position: true });
  /** How many open elements bind each namespace prefix (prefixes are rare in S3XML). */
  private readonly boundPrefixes = new Map<string, number>();
  private readonly locate: Locate = () => this.where();
  private readonly guard = new DeclarationGuard();
  private readonly frames: Frame[] = [];
  private completed: S3XMLEvent[] = [];
  /** Longest stretch of input the XML parser may hold without reporting anything. */
  private readonly pendingLimit: number;
  /** The same inside `<data>`/`<reference>`, whose text is kept up to maxTextLength. */
  private readonly pendingTextLimit: number;
  private lastEventPosition = 0;
  private declarationChecked = false;
  private topLevelStart = -1;
  /** Set when the input arrived as bytes, so the declared encoding describes what we decoded. */
  inputWasBytes = false;

  constructor(options: ParseOptions) {
    this.limits = { ...DEFAULT_LIMITS, ...definedOnly(options) };
    // A start tag is one token: room for one maximal attribute and the rest of an ordinary tag.
    this.pendingLimit = this.limits.maxAttributeLength + 64 * 1024;
    this.pendingTextLimit = Math.max(this.pendingLimit, this.limits.maxTextLength + 4096);
    this.listen();
  }

  write(text: string): S3XMLEvent[] {
    for (let start = 0; start < text.length; start += SLICE_LENGTH) {
      const slice = text.length <= SLICE_LENGTH ? text : text.slice(start, start + SLICE_LENGTH);
      this.feedParser(this.guard.feed(slice));
      this.checkGrowth();
    }
    return this.take();
  }

  close(): S3XMLEvent[] {
    this.feedParser(this.guard.end());
    this.feedParser(null);
    return this.take();
  }

  private feedParser(text: string | null): void {
    try {
      if (text === null) this.parser.close();
      else this.parser.write(text);
    } catch (error) {
      // saxes reports well-formedness errors as plain Errors reading "line:column: reason";
      // anything else (our own refusals, or a bug) goes up as it is.
      const saxesReport = error instanceof Error && error.constructor === Error ? /^\d+:\d+: (.*)$/s.exec(error.message) : null;
      if (saxesReport === null) throw error;
      this.malformed(saxesReport[1]!);
    }
    if (!this.declarationChecked) this.checkDeclaration();
  }

  /** saxes keeps the XML declaration it read; its encoding must describe what was decoded. */
  private checkDeclaration(): void {
    const declared = this.parser.xmlDecl.encoding;
    if (declared === undefined) {
      if (this.frames.length > 0) this.declarationChecked = true;
      return;
    }
    this.declarationChecked = true;
    if (this.inputWasBytes && !ACCEPTED_ENCODINGS.has(declared.toLowerCase())) {
      throw refuse('XML_BAD_ENCODING', `The document declares encoding "${declared}"; only UTF-8 is accepted`,
        { encoding: declared }, 'Re-encode the document as UTF-8 and declare encoding="utf-8"');
    }
  }

  private take(): S3XMLEvent[] {
    const events = this.completed;
    this.completed = [];
    return events;
  }

  private where(): Location {
    return { line: this.parser.line, column: this.parser.column };
  }

  private checkGrowth(): void {
    const position = this.parser.position;
    const top = this.frames.at(-1)?.kind;
    // Only the text of <data> and <reference> is kept, so only there may a token grow to the text limit.
    const limit = top === 'data' || top === 'reference' ? this.pendingTextLimit : this.pendingLimit;
    if (position - this.lastEventPosition > limit) {
      throw limitExceeded(`More than ${limit} characters without a complete element or text (an overlong tag, text, comment, name or declaration)`,
        { ...this.where(), limit });
    }
    if (this.topLevelStart >= 0 && position - this.topLevelStart > this.limits.maxResourceLength) {
      throw limitExceeded(`A top-level resource is longer than ${this.limits.maxResourceLength} characters`,
        { ...this.where(), limit: this.limits.maxResourceLength });
    }
  }

  /**
   * Only four handlers: each `on()` adds a property to the saxes object, and past about a dozen V8
   * turns it into a slow dictionary object, which made parsing five to ten times slower. Comments,
   * processing instructions and DOCTYPEs need no handler (the guard deals with declarations).
   */
  private listen(): void {
    const parser = this.parser;
    parser.on('opentag', (tag) => {
      this.lastEventPosition = parser.position;
      this.open(tag);
    });
    parser.on('text', (text) => {
      this.lastEventPosition = parser.position;
      this.appendText(text);
    });
    parser.on('cdata', (text) => {
      this.lastEventPosition = parser.position;
      this.appendText(text);
    });
    parser.on('closetag', () => {
      this.lastEventPosition = parser.position;
      this.close_();
    });
  }

  /** One pass over the attributes for the limits; namespace bookkeeping only when a colon appears. */
  private open(tag: SaxesTagPlain): void {
    if (this.frames.length + 1 > this.limits.maxDepth) {
      throw limitExceeded(`Elements are nested deeper than ${this.limits.maxDepth} levels`, { ...this.where(), limit: this.limits.maxDepth });
    }
    const attributes = tag.attributes;
    let count = 0;
    let prefixed = tag.name.includes(':');
    for (const name in attributes) {
      count += 1;
      if (attributes[name]!.length > this.limits.maxAttributeLength) {
        throw limitExceeded(`Attribute "${truncate(name, 40)}" is longer than ${this.limits.maxAttributeLength} characters`,
          { ...this.where(), attribute: truncate(name, 40), limit: this.limits.maxAttributeLength });
      }
      if (!prefixed && name.includes(':')) prefixed = true;
    }
    if (count > MAX_ATTRIBUTES_PER_ELEMENT) {
      throw limitExceeded(`An element has more than ${MAX_ATTRIBUTES_PER_ELEMENT} attributes`, { ...this.where(), limit: MAX_ATTRIBUTES_PER_ELEMENT });
    }
    const declares = prefixed ? this.declarePrefixes(attributes) : undefined;
    if (prefixed) this.checkPrefixes(tag);
    const frame = this.frameFor(tag, attributes);
    if (declares !== undefined) frame.declares = declares;
    this.frames.push(frame);
  }

  private frameFor(tag: SaxesTagPlain, attributes: Record<string, string>): Frame {
    const parent = this.frames.at(-1);
    // Only unprefixed elements outside any default namespace are S3XML; Eden's lxml lookups skip the rest.
    const defaultNamespace = attributes.xmlns;
    const isS3XML = !tag.name.includes(':') && (defaultNamespace === undefined || defaultNamespace === '');
    if (parent === undefined) {
      if (!isS3XML || tag.name !== 's3xml') {
        const found = defaultNamespace ? `{${defaultNamespace}}${tag.name}` : tag.name;
        throw refuse('S3XML_WRONG_ROOT', `The root element is <${truncate(found)}>, not <s3xml>`, { ...this.where(), root: truncate(found) },
          'Send an S3XML document: <s3xml> without a namespace, with <resource> children');
      }
      this.completed.push({ type: 'root', attributes: plainAttributes(attributes) ?? {} });
      return { kind: 'root' };
    }
    const name = isS3XML ? tag.name : '';
    switch (parent.kind) {
      case 'root':
        if (name === 'resource') {
          this.topLevelStart = this.parser.position;
          return { kind: 'resource', resource: resourceFromAttributes(attributes.name, attributes, this.locate) };
        }
        break;
      case 'resource':
        if (name === 'resource') return { kind: 'resource', resource: resourceFromAttributes(attributes.name, attributes, this.locate) };
        if (name === 'data') return { kind: 'data', data: this.readData(attributes), selfClosing: tag.isSelfClosing, text: undefined };
        if (name === 'reference') {
          return { kind: 'reference', reference: this.readReference(attributes), selfClosing: tag.isSelfClosing, text: undefined };
        }
        break;
      case 'reference':
        if (name === 'resource' && parent.reference.inline === undefined) {
          return { kind: 'resource', resource: resourceFromAttributes(attributes.name, attributes, this.locate) };
        }
        break;
      default:
        break;
    }
    return { kind: 'ignored' };
  }

  /**
   * Keeps namespace well-formedness without saxes' namespace mode: a prefix must be declared
   * before it is used, and XML 1.0 cannot undeclare one.
   */
  private declarePrefixes(attributes: Record<string, string>): string[] | undefined {
    let declares: string[] | undefined;
    for (const key in attributes) {
      if (!key.startsWith('xmlns:')) continue;
      const prefix = key.slice(6);
      if (attributes[key] === '') this.malformed(`the namespace prefix "${truncate(prefix, 40)}" cannot be undeclared in XML 1.0`);
      this.boundPrefixes.set(prefix, (this.boundPrefixes.get(prefix) ?? 0) + 1);
      (declares ??= []).push(prefix);
    }
    return declares;
  }

  private checkPrefix(name: string): void {
    const colon = name.indexOf(':');
    if (colon < 0) return;
    const prefix = name.slice(0, colon);
    if (prefix === 'xml' || prefix === 'xmlns') return;
    if (colon === 0 || name.indexOf(':', colon + 1) >= 0) this.malformed(`"${truncate(name, 40)}" is not a valid qualified name`);
    if (!this.boundPrefixes.get(prefix)) this.malformed(`the namespace prefix "${truncate(prefix, 40)}" is not declared`);
  }

  /** Prefixed names must use a declared prefix; declarations on the same tag count. */
  private checkPrefixes(tag: SaxesTagPlain): void {
    this.checkPrefix(tag.name);
    for (const key in tag.attributes) if (!key.startsWith('xmlns:')) this.checkPrefix(key);
  }

  private malformed(reason: string): never {
    throw refuse('XML_MALFORMED', `The document is not well-formed XML (line ${this.parser.line}, column ${this.parser.column}): ${reason}`,
      { ...this.where(), reason }, 'Send a well-formed UTF-8 S3XML document');
  }

  private readData(attributes: Record<string, string>): S3Data {
    const field = attributes.field;
    if (field === undefined || field === '') {
      throw refuse('S3XML_BAD_ELEMENT', '<data> has no field attribute', { ...this.where(), element: 'data' },
        'Name the field of every <data>, for example <data field="name">');
    }
    const data: S3Data = { field };
    const value = attributes.value;
    if (value !== undefined) data.value = value;
    const others = plainAttributes(attributes, 'field', 'value');
    if (others !== undefined) data.attributes = others;
    return data;
  }

  private readReference(attributes: Record<string, string>): S3Reference {
    const { field, resource, uuid, tuid } = attributes;
    if (field === undefined || field === '' || resource === undefined || resource === '') {
      const missing = field === undefined || field === '' ? 'field' : 'resource';
      throw refuse('S3XML_BAD_ELEMENT', `<reference> has no ${missing} attribute`, { ...this.where(), element: 'reference', missing },
        'Give every <reference> a field and the resource it points to, for example <reference field="location_id" resource="gis_location" uuid="…">');
    }
    const reference: S3Reference = { field, resource };
    if (uuid !== undefined) reference.uuid = uuid;
    if (tuid !== undefined) reference.tuid = tuid;
    let others: Record<string, string> | undefined;
    for (const key in attributes) {
      if (key === 'field' || key === 'resource' || key === 'uuid' || key === 'tuid' || key === 'xmlns' || key.includes(':')) continue;
      others ??= {};
      setEntry(others, key, attributes[key]!);
    }
    if (others !== undefined) reference.attributes = others;
    return reference;
  }

  private appendText(text: string): void {
    const frame = this.frames.at(-1);
    if (frame === undefined || (frame.kind !== 'data' && frame.kind !== 'reference')) return;
    const joined = frame.text === undefined ? text : frame.text + text;
    if (joined.length > this.limits.maxTextLength) {
      throw limitExceeded(`The text of a <${frame.kind}> is longer than ${this.limits.maxTextLength} characters`,
        { ...this.where(), limit: this.limits.maxTextLength });
    }
    frame.text = joined;
  }

  private close_(): void {
    const frame = this.frames.pop();
    if (frame?.declares !== undefined) {
      for (const prefix of frame.declares) this.boundPrefixes.set(prefix, this.boundPrefixes.get(prefix)! - 1);
    }
    const parent = this.frames.at(-1);
    if (frame === undefined || parent === undefined) return;
    switch (frame.kind) {
      case 'data': {
        const text = collectedText(frame);
        if (text !== undefined) frame.data.text = text;
        if (parent.kind === 'resource') parent.resource.data.push(frame.data);
        return;
      }
      case 'reference': {
        const text = collectedText(frame);
        // Indentation around an inline resource is layout, not a label.
        if (text !== undefined && !(frame.reference.inline !== undefined && text.trim() === '')) frame.reference.text = text;
        if (parent.kind === 'resource') parent.resource.references.push(frame.reference);
        return;
      }
      case 'resource':
        if (parent.kind === 'root') {
          this.completed.push({ type: 'resource', resource: frame.resource });
          this.topLevelStart = -1;
        } else if (parent.kind === 'resource') {
          parent.resource.components.push(frame.resource);
        } else if (parent.kind === 'reference') {
          parent.reference.inline = frame.resource;
        }
        return;
      default:
        return;
    }
  }
}

/** `<x/>` has no text; `<x></x>` has the empty text; otherwise the text nodes, verbatim. */
function collectedText(frame: TextFrame): string | undefined {
  if (frame.text !== undefined) return frame.text;
  return frame.selfClosing ? undefined : '';
}

function definedOnly(options: ParseOptions): ParseOptions {
  const out: ParseOptions = {};
  for (const key of Object.keys(DEFAULT_LIMITS) as (keyof ParseOptions)[]) {
    const value = options[key];
    if (value !== undefined) {
      if (!(value > 0)) throw new RangeError(`ParseOptions.${key} must be a positive number`);
      out[key] = value;
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Bytes to text.

/** Index of the first byte that does not start or continue a valid UTF-8 sequence. */
function firstInvalidUtf8(bytes: Uint8Array): number {
  let i = 0;
  while (i < bytes.length) {
    const b = bytes[i]!;
    let need: number;
    let min: number;
    if (b < 0x80) { i += 1; continue; }
    if (b >= 0xc2 && b <= 0xdf) { need = 1; min = 0x80; }
    else if (b >= 0xe0 && b <= 0xef) { need = 2; min = 0x800; }
    else if (b >= 0xf0 && b <= 0xf4) { need = 3; min = 0x10000; }
    else return i;
    let code = b & (0x3f >> need);
    for (let k = 1; k <= need; k += 1) {
      const c = bytes[i + k];
      // A sequence cut by the end of this chunk may continue in the next one.
      if (c === undefined) return -1;
      if ((c & 0xc0) !== 0x80) return i;
      code = (code << 6) | (c & 0x3f);
    }
    if (code < min || code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff)) return i;
    i += need + 1;
  }
  return -1;
}

function badEncoding(message: string, details: Location): SluiceError {
  return refuse('XML_BAD_ENCODING', message, details, 'Send the document encoded as UTF-8');
}

function sniffBinary(bytes: Uint8Array): void {
  const [a, b] = [bytes[0], bytes[1]];
  if (a === 0x1f && b === 0x8b) {
    throw badEncoding('The body is gzip-compressed, not XML', { byteOffset: 0, detected: 'gzip' });
  }
  if (a === 0x50 && b === 0x4b && bytes[2] === 0x03 && bytes[3] === 0x04) {
    throw badEncoding('The body is a ZIP archive, not XML', { byteOffset: 0, detected: 'zip' });
  }
  if ((a === 0xff && b === 0xfe) || (a === 0xfe && b === 0xff)) {
    throw badEncoding('The document starts with a UTF-16 byte order mark; only UTF-8 is accepted', { byteOffset: 0 });
  }
  if ((a === 0x3c && b === 0x00) || (a === 0x00 && b === 0x3c)) {
    throw badEncoding('The document looks like UTF-16 without a byte order mark; only UTF-8 is accepted', { byteOffset: 0 });
  }
}

/** Enough bytes to tell UTF-16 (with or without byte order mark), gzip or ZIP from UTF-8. */
const SNIFF_LENGTH = 4;

/**
 * Decodes strictly. When a chunk holds invalid UTF-8, the valid text before the bad byte is still
 * handed on first, so whichever problem comes first in the document is the one reported, however
 * the input happens to be chunked.
 */
async function* decodeChunks(
  source: AsyncIterable<Uint8Array | string> | Iterable<Uint8Array | string>,
  reader: S3XMLReader,
): AsyncGenerator<string> {
  const decoder = new TextDecoder('utf-8', { fatal: true });
  let byteOffset = 0;
  let started = false;
  let head: Uint8Array | undefined;
  let pendingBytes = false;

  function* decodeBytes(bytes: Uint8Array): Generator<string> {
    let text: string;
    try {
      text = decoder.decode(bytes, { stream: true });
    } catch {
      const at = Math.max(firstInvalidUtf8(bytes), 0);
      const before = at > 0 ? new TextDecoder('utf-8').decode(bytes.subarray(0, at)) : '';
      if (before !== '') yield before;
      throw badEncoding('The document is not valid UTF-8', { byteOffset: byteOffset + at });
    }
    pendingBytes = true;
    byteOffset += bytes.length;
    if (text.length > 0) yield text;
  }

  function* releaseHead(): Generator<string> {
    if (head === undefined) return;
    const bytes = head;
    head = undefined;
    if (bytes.length >= 2) sniffBinary(bytes);
    yield* decodeBytes(bytes);
  }

  function* flush(): Generator<string> {
    yield* releaseHead();
    if (!pendingBytes) return;
    pendingBytes = false;
    let tail: string;
    try {
      tail = decoder.decode();
    } catch {
      throw badEncoding('The document ends inside a UTF-8 multi-byte sequence', { byteOffset });
    }
    if (tail !== '') yield tail;
  }

  for await (const chunk of source) {
    if (typeof chunk === 'string') {
      yield* flush();
      started = started || chunk.length > 0;
      if (chunk.length > 0) yield chunk;
      continue;
    }
    if (!(chunk instanceof Uint8Array)) {
      throw new TypeError('readS3XML expects chunks of Uint8Array or string');
    }
    if (chunk.length === 0) continue;
    if (!started) {
      // The first bytes are held back until there are enough of them to recognise UTF-16.
      reader.inputWasBytes = true;
      head = head === undefined ? chunk : concatBytes(head, chunk);
      if (head.length < SNIFF_LENGTH) continue;
      started = true;
      yield* releaseHead();
      continue;
    }
    yield* decodeBytes(chunk);
  }
  yield* flush();
}

function concatBytes(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}

// ---------------------------------------------------------------------------------------------
// Public API.

/**
 * Reads S3XML from chunks (Buffer/Uint8Array/string), yielding the root then each TOP-LEVEL resource
 * (with its components and inline resources nested) as soon as its end tag is read.
 * Memory = one top-level resource.
 *
 * Resources already yielded stay valid when a later part of the document is refused; a caller that
 * needs all-or-nothing (the importer) must hold its writes until the generator has finished.
 */
export async function* readS3XML(
  source: AsyncIterable<Uint8Array | string> | Iterable<Uint8Array | string>,
  options: ParseOptions = {},
): AsyncGenerator<S3XMLEvent> {
  const reader = new S3XMLReader(options);
  for await (const text of decodeChunks(source, reader)) {
    yield* reader.write(text);
  }
  yield* reader.close();
}

/** Parses a whole S3XML document held in memory. */
export async function parseS3XML(text: string | Uint8Array, options: ParseOptions = {}): Promise<S3Document> {
  const document: S3Document = { attributes: {}, resources: [] };
  for await (const event of readS3XML([text], options)) {
    if (event.type === 'root') document.attributes = event.attributes;
    else document.resources.push(event.resource);
  }
  return document;
}
