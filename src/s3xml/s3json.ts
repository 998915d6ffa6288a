/**
 * S3JSON, Eden's JSON form of S3XML (reference/eden-sync-and-s3xml.md §1.10, `S3XML.tree2json` /
 * `json2tree`):
 *
 * ```json
 * {"@success": "true",
 *  "$_org_office": [{"@uuid": "urn:uuid:…", "@mci": "1",
 *                     "name": "Pokhara Field Office",
 *                     "obsolete": {"@value": false, "$": "No"},
 *                     "$k_location_id": {"@resource": "gis_location", "@uuid": "urn:uuid:…", "$": "Pokhara"},
 *                     "$_org_office_branch": [{…}]}]}
 * ```
 *
 * `@x` is an attribute, `$` the text, `$_<table>` a list of resources, `$k_<field>` a reference, any
 * other key a `<data field=key>`: a plain string when it has only text, else an object. A field or
 * reference given twice becomes a list.
 *
 * Reading accepts what Eden writes and what Eden's json2tree reads: a string `@value` is the raw
 * attribute, any other `@value` (and any list-valued attribute) is JSON-encoded into it.
 *
 * Writing is lossless for the model, with two deliberate differences from Eden's tree2json:
 * - `@value` is the decoded JSON only when re-encoding gives back the exact attribute (`1`, `false`,
 *   `[1,2]`); otherwise, including JSON strings such as `"Actual"`, the raw attribute goes out as a
 *   string (`"@value": "\"Actual\""`). Both mean the same value to Eden's importer.
 * - `<data field="x"/>` with nothing else becomes `{}` (Eden drops it).
 *
 * What S3JSON cannot express: the order of resources of different tables (they are grouped per
 * table, first appearance first), and the order between repeated data fields or references of the
 * same field and other fields (repeats are grouped). `s3jsonOrder()` gives the document in exactly
 * the order a round trip produces. Data fields named '', `$`, `@…`, `$_…`, `$k_…`, `$o_…` cannot be
 * keys and are refused on writing.
 */
import { SluiceError } from '../errors.js';
import type { S3Data, S3Document, S3Reference, S3Resource } from './model.js';
import { resourceFromAttributes, setEntry } from './parse.js';
import { isAttributeName, isXmlText } from './serialize.js';

export type S3JSONValue = string | number | boolean | null | S3JSONValue[] | S3JSONObject;
export interface S3JSONObject {
  [key: string]: S3JSONValue;
}

export interface S3JSONReadOptions {
  /** Deepest nesting of resources (components, inline resources), the root counting as 1 (default 64). */
  maxDepth?: number;
}

const RESOURCE_PREFIX = '$_';
const REFERENCE_PREFIX = '$k_';
const OPTIONS_PREFIX = '$o_';
const TEXT = '$';
const ATTRIBUTE_PREFIX = '@';

function malformed(message: string, details: Record<string, unknown> = {}): SluiceError {
  return new SluiceError('S3JSON_MALFORMED', message, {
    status: 400,
    details,
    fix: 'Send S3JSON as Eden writes it: {"$_<table>": [{"@uuid": …, "<field>": …, "$k_<field>": {"@resource": …}}]}',
  });
}

function unrepresentable(message: string, details: Record<string, unknown>): SluiceError {
  return new SluiceError('S3JSON_UNSERIALIZABLE', message, {
    status: 500,
    severity: 'record',
    details,
    fix: 'Export this record as S3XML, which can carry any field name',
  });
}

// ---------------------------------------------------------------------------------------------
// Writing.

function isRepresentableField(field: string): boolean {
  return field !== '' && field !== TEXT && !field.startsWith(ATTRIBUTE_PREFIX)
    && !field.startsWith(RESOURCE_PREFIX) && !field.startsWith(REFERENCE_PREFIX) && !field.startsWith(OPTIONS_PREFIX);
}

/** Adds a child under `key`; a second child with the same key turns the entry into a list. */
function addCollapsed(target: S3JSONObject, key: string, value: S3JSONObject | string): void {
  if (!Object.hasOwn(target, key)) {
    setEntry(target, key, value);
    return;
  }
  const existing = target[key]!;
  if (Array.isArray(existing)) existing.push(value);
  else setEntry(target, key, [existing, value]);
}

function addToList(target: S3JSONObject, key: string, value: S3JSONObject): void {
  const existing = target[key];
  if (Array.isArray(existing)) existing.push(value);
  else setEntry(target, key, [value]);
}

function encodedValue(raw: string): S3JSONValue {
  let decoded: unknown;
  try {
    decoded = JSON.parse(raw);
  } catch {
    return raw;
  }
  if (typeof decoded === 'string') return raw;
  return JSON.stringify(decoded) === raw ? (decoded as S3JSONValue) : raw;
}

function addAttributes(target: S3JSONObject, attributes: Record<string, string> | undefined): void {
  if (attributes === undefined) return;
  for (const [name, value] of Object.entries(attributes)) setEntry(target, ATTRIBUTE_PREFIX + name, value);
}

function dataToJSON(data: S3Data): S3JSONObject | string {
  const hasAttributes = data.attributes !== undefined && Object.keys(data.attributes).length > 0;
  if (data.value === undefined && !hasAttributes && data.text !== undefined) return data.text;
  const out: S3JSONObject = {};
  if (data.value !== undefined) out['@value'] = encodedValue(data.value);
  addAttributes(out, data.attributes);
  if (data.text !== undefined) out[TEXT] = data.text;
  return out;
}

function referenceToJSON(reference: S3Reference): S3JSONObject {
  const out: S3JSONObject = { '@resource': reference.resource };
  if (reference.uuid !== undefined) out['@uuid'] = reference.uuid;
  if (reference.tuid !== undefined) out['@tuid'] = reference.tuid;
  addAttributes(out, reference.attributes);
  if (reference.text !== undefined) out[TEXT] = reference.text;
  if (reference.inline !== undefined) addToList(out, RESOURCE_PREFIX + reference.inline.name, resourceToJSON(reference.inline));
  return out;
}

function resourceToJSON(resource: S3Resource): S3JSONObject {
  const out: S3JSONObject = {};
  if (resource.alias !== undefined) out['@alias'] = resource.alias;
  if (resource.uuid !== undefined) out['@uuid'] = resource.uuid;
  if (resource.tuid !== undefined) out['@tuid'] = resource.tuid;
  if (resource.mci !== undefined) out['@mci'] = String(resource.mci);
  if (resource.deleted === true) out['@deleted'] = 'True';
  if (resource.replaced_by !== undefined) out['@replaced_by'] = resource.replaced_by;
  if (resource.created_on !== undefined) out['@created_on'] = resource.created_on;
  if (resource.modified_on !== undefined) out['@modified_on'] = resource.modified_on;
  addAttributes(out, resource.attributes);
  for (const data of resource.data) {
    if (!isRepresentableField(data.field)) {
      throw unrepresentable(`Field "${data.field.slice(0, 80)}" of ${resource.name} cannot be an S3JSON key`, { resource: resource.name, field: data.field.slice(0, 80) });
    }
    addCollapsed(out, data.field, dataToJSON(data));
  }
  for (const reference of resource.references) addCollapsed(out, REFERENCE_PREFIX + reference.field, referenceToJSON(reference));
  for (const component of resource.components) addToList(out, RESOURCE_PREFIX + component.name, resourceToJSON(component));
  return out;
}

export function toS3JSON(doc: S3Document): S3JSONObject {
  const out: S3JSONObject = {};
  addAttributes(out, doc.attributes);
  for (const resource of doc.resources) addToList(out, RESOURCE_PREFIX + resource.name, resourceToJSON(resource));
  return out;
}

export function stringifyS3JSON(doc: S3Document, options: { pretty?: boolean } = {}): string {
  return JSON.stringify(toS3JSON(doc), null, options.pretty === true ? 2 : undefined);
}

// ---------------------------------------------------------------------------------------------
// The order S3JSON keeps.

function groupBy<T>(items: T[], key: (item: T) => string): T[] {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const k = key(item);
    const group = groups.get(k);
    if (group === undefined) groups.set(k, [item]);
    else group.push(item);
  }
  return [...groups.values()].flat();
}

function resourceInS3JSONOrder(resource: S3Resource): S3Resource {
  return {
    ...resource,
    data: groupBy(resource.data, (data) => data.field),
    references: groupBy(resource.references, (reference) => reference.field).map((reference) =>
      reference.inline === undefined ? reference : { ...reference, inline: resourceInS3JSONOrder(reference.inline) }),
    components: groupBy(resource.components, (component) => component.name).map(resourceInS3JSONOrder),
  };
}

/** The document reordered as a round trip through S3JSON reorders it (see the module comment). */
export function s3jsonOrder(doc: S3Document): S3Document {
  return { attributes: doc.attributes, resources: groupBy(doc.resources, (resource) => resource.name).map(resourceInS3JSONOrder) };
}

// ---------------------------------------------------------------------------------------------
// Reading.

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function checkString(value: string, path: string): string {
  if (!isXmlText(value)) throw malformed(`${path} contains a character XML cannot carry`, { path });
  return value;
}

/** Eden's json2tree turns scalars into strings and JSON-encodes lists given as attributes. */
function attributeText(value: unknown, path: string): string {
  if (typeof value === 'string') return checkString(value, path);
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (Array.isArray(value) || isObject(value) || value === null) return checkString(JSON.stringify(value), path);
  throw malformed(`${path} must be a string`, { path });
}

function textOf(value: unknown, path: string): string | undefined {
  if (value === null) return undefined;
  if (typeof value === 'string') return checkString(value, path);
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  throw malformed(`${path} must be a string`, { path });
}

function attributeName(key: string, path: string): string {
  const name = key.slice(ATTRIBUTE_PREFIX.length);
  if (!isAttributeName(name)) throw malformed(`${path}: "${key.slice(0, 80)}" is not a valid attribute name`, { path, key: key.slice(0, 80) });
  return name;
}

function asList(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [value];
}

class S3JSONReader {
  constructor(private readonly maxDepth: number) {}

  document(json: unknown): S3Document {
    if (!isObject(json)) throw malformed('S3JSON must be a JSON object', { found: Array.isArray(json) ? 'array' : json === null ? 'null' : typeof json });
    const doc: S3Document = { attributes: {}, resources: [] };
    for (const [key, value] of Object.entries(json)) {
      if (key.startsWith(ATTRIBUTE_PREFIX)) {
        setEntry(doc.attributes, attributeName(key, '$'), attributeText(value, `$.${key}`));
      } else if (key.startsWith(RESOURCE_PREFIX)) {
        asList(value).forEach((item, index) => doc.resources.push(this.resource(key.slice(RESOURCE_PREFIX.length), item, `$.${key}[${index}]`, 2)));
      }
      // Anything else at the root (options, Eden's "s3" blob, stray text) is not a record.
    }
    return doc;
  }

  private resource(name: string, json: unknown, path: string, depth: number): S3Resource {
    if (depth > this.maxDepth) {
      throw new SluiceError('S3JSON_LIMIT_EXCEEDED', `Resources are nested deeper than ${this.maxDepth} levels`, {
        status: 400, severity: 'limit', details: { path, limit: this.maxDepth },
        fix: 'Flatten the document: components nest one or two levels in Eden',
      });
    }
    if (!isObject(json)) throw malformed(`${path} must be an object`, { path });
    checkString(name, path);
    const attributes: Record<string, string> = {};
    const data: S3Data[] = [];
    const references: S3Reference[] = [];
    const components: S3Resource[] = [];
    for (const [key, value] of Object.entries(json)) {
      const at = `${path}.${key}`;
      if (key.startsWith(ATTRIBUTE_PREFIX)) {
        const attribute = attributeName(key, path);
        if (attribute !== 'name') setEntry(attributes, attribute, attributeText(value, at));
      } else if (key.startsWith(RESOURCE_PREFIX)) {
        asList(value).forEach((item, index) => components.push(this.resource(key.slice(RESOURCE_PREFIX.length), item, `${at}[${index}]`, depth + 1)));
      } else if (key.startsWith(REFERENCE_PREFIX)) {
        const field = key.slice(REFERENCE_PREFIX.length);
        asList(value).forEach((item, index) => references.push(this.reference(field, item, Array.isArray(value) ? `${at}[${index}]` : at, depth)));
      } else if (key === TEXT || key.startsWith(OPTIONS_PREFIX)) {
        continue;
      } else {
        asList(value).forEach((item, index) => data.push(this.data(key, item, Array.isArray(value) ? `${at}[${index}]` : at)));
      }
    }
    const resource = resourceFromAttributes(name, attributes, () => ({ path }));
    resource.data = data;
    resource.references = references;
    resource.components = components;
    return resource;
  }

  private data(field: string, json: unknown, path: string): S3Data {
    if (field === '') {
      throw new SluiceError('S3XML_BAD_ELEMENT', `Data ${path} has an empty field name`, {
        status: 400, details: { path, element: 'data' }, fix: 'Key every field by its name, for example "name": "Pokhara Office"',
      });
    }
    checkString(field, path);
    const data: S3Data = { field };
    if (!isObject(json)) {
      if (Array.isArray(json)) throw malformed(`${path} is a list inside a list`, { path });
      const text = textOf(json, path);
      if (text !== undefined) data.text = text;
      return data;
    }
    const others: Record<string, string> = {};
    let hasOthers = false;
    for (const [key, value] of Object.entries(json)) {
      if (key === '@value') {
        data.value = typeof value === 'string' ? checkString(value, `${path}.@value`) : checkString(JSON.stringify(value), `${path}.@value`);
      } else if (key === TEXT) {
        const text = textOf(value, `${path}.$`);
        if (text !== undefined) data.text = text;
      } else if (key.startsWith(ATTRIBUTE_PREFIX)) {
        const name = attributeName(key, path);
        if (name !== 'field') {
          setEntry(others, name, attributeText(value, `${path}.${key}`));
          hasOthers = true;
        }
      }
    }
    if (hasOthers) data.attributes = others;
    return data;
  }

  private reference(field: string, json: unknown, path: string, depth: number): S3Reference {
    if (!isObject(json)) throw malformed(`${path} must be an object with @resource`, { path });
    let resource: string | undefined;
    let uuid: string | undefined;
    let tuid: string | undefined;
    let text: string | undefined;
    let inline: S3Resource | undefined;
    const others: Record<string, string> = {};
    let hasOthers = false;
    for (const [key, value] of Object.entries(json)) {
      const at = `${path}.${key}`;
      if (key === '@resource') resource = attributeText(value, at);
      else if (key === '@uuid') uuid = attributeText(value, at);
      else if (key === '@tuid') tuid = attributeText(value, at);
      else if (key === TEXT) text = textOf(value, at);
      else if (key.startsWith(ATTRIBUTE_PREFIX)) {
        const name = attributeName(key, path);
        if (name !== 'field') {
          setEntry(others, name, attributeText(value, at));
          hasOthers = true;
        }
      } else if (key.startsWith(RESOURCE_PREFIX) && inline === undefined) {
        const first = asList(value)[0];
        if (first !== undefined) inline = this.resource(key.slice(RESOURCE_PREFIX.length), first, Array.isArray(value) ? `${at}[0]` : at, depth + 1);
      }
    }
    if (field === '' || resource === undefined || resource === '') {
      const missing = field === '' ? 'field' : 'resource';
      throw new SluiceError('S3XML_BAD_ELEMENT', `Reference ${path} has no ${missing}`, {
        status: 400, details: { path, element: 'reference', missing },
        fix: 'Write references as "$k_<field>": {"@resource": "<table>", "@uuid": "…"}',
      });
    }
    checkString(field, path);
    const reference: S3Reference = { field, resource };
    if (uuid !== undefined) reference.uuid = uuid;
    if (tuid !== undefined) reference.tuid = tuid;
    if (hasOthers) reference.attributes = others;
    if (text !== undefined) reference.text = text;
    if (inline !== undefined) reference.inline = inline;
    return reference;
  }
}

/** Reads an S3JSON value (already JSON-parsed), refusing what S3XML parsing would refuse. */
export function fromS3JSON(json: unknown, options: S3JSONReadOptions = {}): S3Document {
  return new S3JSONReader(options.maxDepth ?? 64).document(json);
}

/** Parses S3JSON text. */
export function parseS3JSON(text: string, options: S3JSONReadOptions = {}): S3Document {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw malformed(`S3JSON is not valid JSON: ${error instanceof Error ? error.message : String(error)}`);
  }
  return fromS3JSON(json, options);
}
