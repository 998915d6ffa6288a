/**
 * Free-form objects (record attributes, repository config, a conflict's remote version) stored as
 * MongoDB documents. Their keys come from outside (XML attribute names, user configuration), and
 * MongoDB refuses or misreads keys that start with `$` or contain `.` or NUL, so those characters
 * are percent-escaped on the way in and restored on the way out (`%` itself is escaped too, so the
 * mapping is reversible). Undefined members are dropped, exactly as the SQLite store's JSON does.
 */

const NEEDS_ESCAPE = /^\$|[.%\0]/;

function escapeKey(key: string): string {
  if (!NEEDS_ESCAPE.test(key)) return key;
  return key.replace(/^\$|[.%\0]/g, (char) => `%${char.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`);
}

function unescapeKey(key: string): string {
  return key.includes('%') ? key.replace(/%([0-9A-F]{2})/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16))) : key;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
  const prototype = Object.getPrototypeOf(value) as unknown;
  return prototype === Object.prototype || prototype === null;
}

function mapKeys(value: unknown, rename: (key: string) => string): unknown {
  if (Array.isArray(value)) return value.map((item) => (item === undefined ? null : mapKeys(item, rename)));
  if (!isPlainObject(value)) return value;
  const result: Record<string, unknown> = {};
  for (const [key, member] of Object.entries(value)) {
    if (member !== undefined) result[rename(key)] = mapKeys(member, rename);
  }
  return result;
}

/** A deep copy safe to store: keys escaped, undefined members dropped (undefined in arrays → null, as JSON). */
export function toStorable<T>(value: T): unknown {
  return mapKeys(value, escapeKey);
}

/** The inverse of toStorable on a document read back. */
export function fromStorable<T>(value: unknown): T {
  return mapKeys(value, unescapeKey) as T;
}
