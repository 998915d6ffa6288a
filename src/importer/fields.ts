/**
 * A record's content seen as named fields, so that update policies can be applied field by field
 * and unchanged fields dropped (Eden §3.4 step 5). Data and reference fields share one namespace
 * (a column is one or the other); resource attributes such as `created_by` take part as `@name`.
 */
import type { S3Data, S3Reference } from '../s3xml/model.js';

export type FieldEntry = { kind: 'data'; data: S3Data } | { kind: 'reference'; reference: S3Reference };

export interface RecordContent {
  created_on?: string;
  attributes: Record<string, string>;
  data: S3Data[];
  references: S3Reference[];
}

/** Stable JSON (sorted keys, no undefined) so equal content compares equal whatever its key order. */
function canonical(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'undefined';
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, item]) => item !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([key, item]) => `${JSON.stringify(key)}:${canonical(item)}`).join(',')}}`;
}

function sameEntry(a: FieldEntry | undefined, b: FieldEntry | undefined): boolean {
  return canonical(a) === canonical(b);
}

/**
 * The fields of a content, by name. A field given twice keeps the last value (Eden builds a dict
 * from the elements, so the last one wins there too) at the place of the first.
 */
export function fieldEntries(content: Pick<RecordContent, 'data' | 'references'>): Map<string, FieldEntry> {
  const entries = new Map<string, FieldEntry>();
  for (const data of content.data) entries.set(data.field, { kind: 'data', data });
  for (const reference of content.references) entries.set(reference.field, { kind: 'reference', reference });
  return entries;
}

/** Content with duplicate fields collapsed, in first-seen order. */
export function normalizeContent<T extends Pick<RecordContent, 'data' | 'references'>>(content: T): T {
  const entries = fieldEntries(content);
  return { ...content, ...rebuild(entries) };
}

function rebuild(entries: Map<string, FieldEntry>): { data: S3Data[]; references: S3Reference[] } {
  const data: S3Data[] = [];
  const references: S3Reference[] = [];
  for (const entry of entries.values()) {
    if (entry.kind === 'data') data.push(entry.data);
    else references.push(entry.reference);
  }
  return { data, references };
}

function attributeField(name: string): string {
  return `@${name}`;
}

/** Names of the fields whose incoming value differs from the local one (fields the item omits are not touched). */
export function differingFields(local: RecordContent, incoming: RecordContent): string[] {
  const localEntries = fieldEntries(local);
  const differing: string[] = [];
  for (const [field, entry] of fieldEntries(incoming)) {
    if (!sameEntry(localEntries.get(field), entry)) differing.push(field);
  }
  for (const [name, value] of Object.entries(incoming.attributes)) {
    if (local.attributes[name] !== value) differing.push(attributeField(name));
  }
  if (incoming.created_on !== undefined && incoming.created_on !== local.created_on) differing.push(attributeField('created_on'));
  return differing;
}

/** The local content with the accepted incoming fields written over it; new fields go last. */
export function applyFields(local: RecordContent, incoming: RecordContent, accepted: ReadonlySet<string>): RecordContent {
  const merged = fieldEntries(local);
  for (const [field, entry] of fieldEntries(incoming)) {
    if (!accepted.has(field)) continue;
    const previous = merged.get(field);
    if (previous && previous.kind !== entry.kind) merged.delete(field);
    merged.set(field, entry);
  }
  const attributes = { ...local.attributes };
  for (const [name, value] of Object.entries(incoming.attributes)) {
    if (accepted.has(attributeField(name))) attributes[name] = value;
  }
  const createdOn = accepted.has(attributeField('created_on')) ? incoming.created_on : local.created_on;
  return { ...(createdOn === undefined ? {} : { created_on: createdOn }), attributes, ...rebuild(merged) };
}
