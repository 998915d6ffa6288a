/**
 * Writes S3XML the way Eden's lxml export does (reference/eden-sync-and-s3xml.md §1): the
 * `<?xml version='1.0' encoding='utf-8'?>` declaration, `<s3xml>` without a namespace, resource
 * attributes in a fixed order, children data → reference → component, `deleted="True"`.
 *
 * Everything the parser reads back must equal what was written, so tab, newline and carriage
 * return in attribute values are written as character references (a parser would otherwise turn
 * them into spaces) and a carriage return in text is written as `&#13;` (a parser would turn it
 * into a newline). Strings XML 1.0 cannot carry at all (control characters, lone surrogates) and
 * attribute names that are not namespace-free XML names are refused rather than corrupted.
 */
import { SluiceError } from '../errors.js';
import type { S3Data, S3Document, S3Reference, S3Resource } from './model.js';

export interface SerializeOptions {
  /** Indent with two spaces and end lines like lxml's pretty_print; text content is never touched. */
  pretty?: boolean;
}

export const XML_DECLARATION = "<?xml version='1.0' encoding='utf-8'?>";

// ---------------------------------------------------------------------------------------------
// Characters and names XML can carry, shared with the S3JSON reader.

const INVALID_XML_CHARACTER = /[^\t\n\r\x20-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/u;

const NAME_START = 'A-Z_a-z\\u00C0-\\u00D6\\u00D8-\\u00F6\\u00F8-\\u02FF\\u0370-\\u037D\\u037F-\\u1FFF\\u200C-\\u200D\\u2070-\\u218F\\u2C00-\\u2FEF\\u3001-\\uD7FF\\uF900-\\uFDCF\\uFDF0-\\uFFFD\\u{10000}-\\u{EFFFF}';
const NAME_REST = `${NAME_START}\\-.0-9\\u00B7\\u0300-\\u036F\\u203F-\\u2040`;
/** An XML name without a colon (an NCName), so the output is also namespace-well-formed. */
const NCNAME = new RegExp(`^[${NAME_START}][${NAME_REST}]*$`, 'u');

/** True when `value` contains only characters XML 1.0 allows. */
export function isXmlText(value: string): boolean {
  return !INVALID_XML_CHARACTER.test(value);
}

/** True when `name` can be written as an attribute of an S3XML element (no prefix, not xmlns). */
export function isAttributeName(name: string): boolean {
  return NCNAME.test(name) && name !== 'xmlns';
}

function unserializable(message: string, details: Record<string, unknown>): SluiceError {
  return new SluiceError('S3XML_UNSERIALIZABLE', message, {
    status: 500,
    severity: 'record',
    details,
    fix: 'Remove control characters and invalid names from the record before exporting it',
  });
}

const ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  '\t': '&#9;',
  '\n': '&#10;',
  '\r': '&#13;',
};
const ATTRIBUTE_SPECIALS = /[&<>"\t\n\r]/;
const ATTRIBUTE_SPECIALS_ALL = /[&<>"\t\n\r]/g;
const TEXT_SPECIALS = /[&<>\r]/;
const TEXT_SPECIALS_ALL = /[&<>\r]/g;
const escapeCharacter = (c: string): string => ESCAPES[c]!;

function checkText(value: string, where: string): void {
  if (INVALID_XML_CHARACTER.test(value)) {
    const bad = INVALID_XML_CHARACTER.exec(value)![0];
    throw unserializable(`${where} contains a character XML cannot carry (U+${bad.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')})`,
      { where });
  }
}

function escapeText(value: string, where: string): string {
  checkText(value, where);
  return TEXT_SPECIALS.test(value) ? value.replace(TEXT_SPECIALS_ALL, escapeCharacter) : value;
}

function attribute(name: string, value: string, where: string): string {
  checkText(value, `${where} @${name}`);
  const escaped = ATTRIBUTE_SPECIALS.test(value) ? value.replace(ATTRIBUTE_SPECIALS_ALL, escapeCharacter) : value;
  return ` ${name}="${escaped}"`;
}

function extraAttributes(attributes: Record<string, string> | undefined, reserved: readonly string[], where: string): string {
  if (attributes === undefined) return '';
  let out = '';
  for (const [name, value] of Object.entries(attributes)) {
    if (!isAttributeName(name)) throw unserializable(`${where} has an attribute name XML cannot carry: "${name.slice(0, 80)}"`, { where, attribute: name.slice(0, 80) });
    if (reserved.includes(name)) throw unserializable(`${where} has "${name}" among its other attributes, where it would be written twice`, { where, attribute: name });
    out += attribute(name, value, where);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Elements.

const RESOURCE_TYPED = ['name', 'alias', 'uuid', 'tuid', 'mci', 'deleted', 'replaced_by', 'created_on', 'modified_on'] as const;
const DATA_TYPED = ['field', 'value'] as const;
const REFERENCE_TYPED = ['field', 'resource', 'uuid', 'tuid'] as const;

function resourceStartTag(resource: S3Resource): string {
  const where = `resource ${resource.name}${resource.uuid === undefined ? '' : ` ${resource.uuid}`}`;
  if (typeof resource.name !== 'string' || resource.name.trim() === '') throw unserializable('A resource has no name', { where });
  let out = `<resource${attribute('name', resource.name, where)}`;
  if (resource.alias !== undefined) out += attribute('alias', resource.alias, where);
  if (resource.uuid !== undefined) out += attribute('uuid', resource.uuid, where);
  if (resource.tuid !== undefined) out += attribute('tuid', resource.tuid, where);
  if (resource.mci !== undefined) {
    if (!Number.isSafeInteger(resource.mci)) throw unserializable(`${where} has a non-integer mci`, { where, mci: resource.mci });
    out += ` mci="${resource.mci}"`;
  }
  if (resource.deleted === true) out += ' deleted="True"';
  if (resource.replaced_by !== undefined) out += attribute('replaced_by', resource.replaced_by, where);
  if (resource.created_on !== undefined) out += attribute('created_on', resource.created_on, where);
  if (resource.modified_on !== undefined) out += attribute('modified_on', resource.modified_on, where);
  return out + extraAttributes(resource.attributes, RESOURCE_TYPED, where);
}

function dataElement(data: S3Data, where: string): string {
  if (data.field === '') throw unserializable(`${where} has a <data> without field`, { where });
  const at = `${where} data ${data.field}`;
  let out = `<data${attribute('field', data.field, at)}`;
  if (data.value !== undefined) out += attribute('value', data.value, at);
  out += extraAttributes(data.attributes, DATA_TYPED, at);
  return data.text === undefined ? `${out}/>` : `${out}>${escapeText(data.text, at)}</data>`;
}

function referenceElement(reference: S3Reference, where: string, pretty: boolean, depth: number): string {
  if (reference.field === '' || reference.resource === '') throw unserializable(`${where} has a <reference> without field or resource`, { where });
  const at = `${where} reference ${reference.field}`;
  let out = `<reference${attribute('field', reference.field, at)}${attribute('resource', reference.resource, at)}`;
  if (reference.uuid !== undefined) out += attribute('uuid', reference.uuid, at);
  if (reference.tuid !== undefined) out += attribute('tuid', reference.tuid, at);
  out += extraAttributes(reference.attributes, REFERENCE_TYPED, at);
  const text = reference.text === undefined || (reference.inline !== undefined && reference.text === '') ? undefined : reference.text;
  if (reference.inline === undefined) {
    return text === undefined ? `${out}/>` : `${out}>${escapeText(text, at)}</reference>`;
  }
  if (text !== undefined) {
    // Indenting here would change the label, so a labelled inline resource stays on one line.
    return `${out}>${escapeText(text, at)}${resourceElement(reference.inline, false, 0)}</reference>`;
  }
  if (!pretty) return `${out}>${resourceElement(reference.inline, false, 0)}</reference>`;
  const indent = '  '.repeat(depth);
  return `${out}>\n${indent}  ${resourceElement(reference.inline, true, depth + 1)}\n${indent}</reference>`;
}

/** One `<resource>` element with everything nested in it; `depth` sets the pretty indentation. */
function resourceElement(resource: S3Resource, pretty: boolean, depth: number): string {
  const start = resourceStartTag(resource);
  const where = `resource ${resource.name}`;
  const children: string[] = [];
  for (const data of resource.data) children.push(dataElement(data, where));
  for (const reference of resource.references) children.push(referenceElement(reference, where, pretty, depth + 1));
  for (const component of resource.components) children.push(resourceElement(component, pretty, depth + 1));
  if (children.length === 0) return `${start}/>`;
  if (!pretty) return `${start}>${children.join('')}</resource>`;
  const indent = '  '.repeat(depth);
  return `${start}>\n${indent}  ${children.join(`\n${indent}  `)}\n${indent}</resource>`;
}

/**
 * Serialises one resource (for exporters that write their own envelope). `depth` is the
 * indentation level of the element in pretty mode: 1 for a child of `<s3xml>`.
 */
export function serializeResource(resource: S3Resource, options: SerializeOptions & { depth?: number } = {}): string {
  return resourceElement(resource, options.pretty === true, options.depth ?? 1);
}

function rootStartTag(attributes: Record<string, string>): string {
  return `<s3xml${extraAttributes(attributes, [], 's3xml')}`;
}

// ---------------------------------------------------------------------------------------------
// Documents.

export function serializeS3XML(doc: S3Document, opts: SerializeOptions = {}): string {
  const pretty = opts.pretty === true;
  const start = `${XML_DECLARATION}\n${rootStartTag(doc.attributes)}`;
  if (doc.resources.length === 0) return `${start}/>${pretty ? '\n' : ''}`;
  const resources = doc.resources.map((resource) => resourceElement(resource, pretty, 1));
  if (!pretty) return `${start}>${resources.join('')}</s3xml>`;
  return `${start}>\n  ${resources.join('\n  ')}\n</s3xml>\n`;
}

/**
 * Streams a document: the declaration and root start tag with the first resource, then one string
 * per resource, then the end tag. Produces exactly what serializeS3XML produces for the same input.
 */
export async function* serializeS3XMLStream(
  rootAttributes: Record<string, string>,
  resources: AsyncIterable<S3Resource> | Iterable<S3Resource>,
  opts: SerializeOptions = {},
): AsyncGenerator<string> {
  const pretty = opts.pretty === true;
  const start = `${XML_DECLARATION}\n${rootStartTag(rootAttributes)}`;
  let opened = false;
  for await (const resource of resources) {
    const element = resourceElement(resource, pretty, 1);
    if (opened) {
      yield pretty ? `\n  ${element}` : element;
    } else {
      opened = true;
      yield pretty ? `${start}>\n  ${element}` : `${start}>${element}`;
    }
  }
  if (!opened) yield `${start}/>${pretty ? '\n' : ''}`;
  else yield pretty ? '\n</s3xml>\n' : '</s3xml>';
}
