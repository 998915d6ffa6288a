/**
 * Values seen on the remote side, read from captured documents: the machine values of one field
 * of one resource in S3XML (the decoded `value` attribute, else the text, as the mapping compares
 * them), and the category tags in Ushahidi JSON. Captures may be cut at the capture cap, so the
 * S3XML reader is forgiving: it keeps what it read before the cut.
 */
import { SaxesParser } from 'saxes';

export interface SeenValue {
  value: string;
  /** The most frequent label shown with the value (Eden's `<data>` text when a value attribute exists). */
  text?: string;
  count: number;
}

export class ValueTally {
  private readonly values = new Map<string, { count: number; labels: Map<string, number> }>();

  add(value: string, text?: string): void {
    const trimmed = value.replace(/[ \t\r\n]+/g, ' ').trim();
    if (trimmed === '') return;
    let entry = this.values.get(trimmed);
    if (!entry) {
      entry = { count: 0, labels: new Map() };
      this.values.set(trimmed, entry);
    }
    entry.count += 1;
    const label = text?.trim();
    if (label && label !== trimmed) entry.labels.set(label, (entry.labels.get(label) ?? 0) + 1);
  }

  get size(): number {
    return this.values.size;
  }

  /** Most frequent first, then by value. */
  list(limit = 500): SeenValue[] {
    return [...this.values.entries()]
      .map(([value, entry]) => {
        const [label] = [...entry.labels.entries()].sort((a, b) => b[1] - a[1])[0] ?? [];
        return { value, count: entry.count, ...(label === undefined ? {} : { text: label }) };
      })
      .sort((a, b) => b.count - a.count || a.value.localeCompare(b.value))
      .slice(0, limit);
  }
}

/** The machine values a `value` attribute holds: a JSON scalar, each item of a JSON list, or the raw text. */
function machineValues(raw: string): string[] {
  try {
    const decoded: unknown = JSON.parse(raw);
    if (Array.isArray(decoded)) return decoded.filter((item) => item !== null && typeof item !== 'object').map(String);
    if (decoded === null) return [];
    if (typeof decoded !== 'object') return [String(decoded)];
  } catch {
    // Not JSON: Eden sends some values bare.
  }
  return [raw];
}

/** Adds the values of `resource`.`field` found in an S3XML document (possibly cut short). */
export function tallyS3Xml(xml: string, resource: string, field: string, tally: ValueTally): void {
  const parser = new SaxesParser({ xmlns: false });
  const resources: string[] = [];
  let capturing: { value?: string; text: string } | undefined;
  parser.on('opentag', (tag) => {
    const attributes = tag.attributes as Record<string, string>;
    if (tag.name === 'resource') resources.push(attributes['name'] ?? '');
    else if (tag.name === 'data' && resources[resources.length - 1] === resource && attributes['field'] === field) {
      capturing = { text: '', ...(attributes['value'] === undefined ? {} : { value: attributes['value'] }) };
    }
  });
  parser.on('text', (text) => {
    if (capturing) capturing.text += text;
  });
  parser.on('closetag', (tag) => {
    if (tag.name === 'resource') resources.pop();
    else if (tag.name === 'data' && capturing) {
      if (capturing.value !== undefined) for (const value of machineValues(capturing.value)) tally.add(value, capturing.text);
      else tally.add(capturing.text);
      capturing = undefined;
    }
  });
  try {
    parser.write(xml).close();
  } catch {
    // A cut or broken document: what was read before the error stays counted.
  }
}

const CATEGORY_KEYS = new Set(['categories', 'tags', 'category']);

function categoryName(item: unknown): string | undefined {
  if (typeof item === 'string') return item;
  if (!item || typeof item !== 'object') return undefined;
  const record = item as Record<string, unknown>;
  for (const key of ['tag', 'title', 'name']) if (typeof record[key] === 'string') return record[key] as string;
  // Classic v2 wraps each one: {"category": {"id": 3, "title": "Flood"}}.
  return categoryName(record['category']);
}

/** Adds the Ushahidi category tags found in a JSON document (v5 posts and categories, classic v2 incidents). */
export function tallyUshahidiCategories(json: string, tally: ValueTally): void {
  let document: unknown;
  try {
    document = JSON.parse(json);
  } catch {
    tallyCutCategories(json, tally);
    return;
  }
  const walk = (node: unknown, depth: number): void => {
    if (depth > 12 || !node || typeof node !== 'object') return;
    if (Array.isArray(node)) {
      for (const item of node) walk(item, depth + 1);
      return;
    }
    const record = node as Record<string, unknown>;
    if (record['type'] === 'category' && typeof record['tag'] === 'string') tally.add(record['tag']);
    for (const [key, value] of Object.entries(record)) {
      if (CATEGORY_KEYS.has(key) && Array.isArray(value)) {
        for (const item of value) {
          const name = categoryName(item);
          if (name !== undefined && !(item && typeof item === 'object' && (item as Record<string, unknown>)['type'] === 'category')) tally.add(name);
        }
      }
      walk(value, depth + 1);
    }
  };
  walk(document, 0);
}

const JSON_STRING = '"((?:[^"\\\\]|\\\\.)*)"';
const V5_TAG = new RegExp(`"tag"\\s*:\\s*${JSON_STRING}`, 'g');
const V2_CATEGORY = new RegExp(`"category"\\s*:\\s*\\{[^{}]*?"title"\\s*:\\s*${JSON_STRING}`, 'g');

/** A document cut at the capture cap is not JSON any more: its category names are found by pattern. */
function tallyCutCategories(text: string, tally: ValueTally): void {
  for (const pattern of [V5_TAG, V2_CATEGORY]) {
    for (const match of text.matchAll(pattern)) {
      try {
        tally.add(JSON.parse(`"${match[1]!}"`) as string);
      } catch {
        // A string cut in the middle of an escape.
      }
    }
  }
}
