/**
 * The meaning of a URL filter (`~.field__op!=value`) on a stored record, in one place.
 *
 * Every store implementation must select exactly the records `matchesFilters` accepts; the contract
 * suite (test/store/contract.ts) checks each store against this function on random records. The
 * SQLite store indexes `filterableValues()` and translates filters into SQL that follows the rules
 * below; the MongoDB store does the same with its own query language.
 *
 * Rules:
 * - A field's values are the decoded machine values of every `<data>` with that field name
 *   (`dataValue()`, list values flattened) and the uuids of every `<reference>` with that name
 *   (`referenceUuids()`). Each value is compared as its canonical text (`scalarText()`).
 * - A field without values (absent, `null`, empty list) is NULL. `null` in a filter means NULL.
 * - Two texts compare as numbers when both are numeric (`numericValue()`: decimal numbers, and
 *   `true`/`false` in any case as 1/0 so that Eden's `~.obsolete=False` works); otherwise they
 *   compare by Unicode code point, which is the UTF-8 byte order SQLite and MongoDB use.
 * - `eq`, `lt`, `le`, `gt`, `ge`, `like` match when ANY value of the field matches ANY filter value.
 *   Ordering comparisons never match NULL. `like` is case-insensitive (Unicode simple case folding),
 *   `*` matches any run, `?` one character, everything else is literal.
 * - `belongs` is `eq` with several values.
 * - `ne` is exactly NOT `eq`: it matches records whose field is NULL (Eden: NULL ≠ x is true),
 *   and records where no value equals any filter value. `ne` NONE means "has a value".
 * - `negate` (the trailing `!`) inverts the whole filter, NULL fields included.
 * - A filter with an empty `values` list matches nothing (`ne` and negated filters: everything).
 * - Several filters are AND-ed.
 */
import { dataValue, referenceUuids } from '../s3xml/model.js';
import type { FieldValue, S3Data, S3Reference } from '../s3xml/model.js';
import { SluiceError } from '../errors.js';
import type { FieldFilter, FilterOp } from './store.js';

/** The parts of a record that URL filters look at. */
export interface FilterableRecord {
  data: readonly S3Data[];
  references: readonly S3Reference[];
}

export const FILTER_OPS: readonly FilterOp[] = ['eq', 'ne', 'lt', 'le', 'gt', 'ge', 'like', 'belongs'];

/** The canonical text of one scalar; booleans become `true`/`false`, numbers their shortest form. */
export function scalarText(value: string | number | boolean): string {
  return typeof value === 'string' ? value : String(value);
}

/** The texts of a decoded field value: NULL gives none, lists are flattened. */
export function fieldValueTexts(value: FieldValue): string[] {
  if (value === null) return [];
  if (Array.isArray(value)) return value.flatMap(fieldValueTexts);
  return [scalarText(value)];
}

/**
 * Every filterable value of a record, by field name, without duplicates. This is what the SQLite
 * store indexes at write time.
 */
export function filterableValues(record: FilterableRecord): Map<string, string[]> {
  const byField = new Map<string, Set<string>>();
  const add = (field: string, texts: string[]): void => {
    let set = byField.get(field);
    if (!set) {
      set = new Set();
      byField.set(field, set);
    }
    for (const text of texts) set.add(text);
  };
  for (const data of record.data) add(data.field, fieldValueTexts(dataValue(data)));
  for (const reference of record.references) add(reference.field, referenceUuids(reference));
  const result = new Map<string, string[]>();
  for (const [field, set] of byField) {
    if (set.size > 0) result.set(field, [...set]);
  }
  return result;
}

const DECIMAL = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;

/** The number a text stands for when it is numeric (see the rules above), else undefined. */
export function numericValue(text: string): number | undefined {
  if (DECIMAL.test(text)) {
    const number = Number(text);
    // 1e999 is Infinity: neither SQLite nor MongoDB compare that like JavaScript does.
    return Number.isFinite(number) ? number : undefined;
  }
  const lower = text.toLowerCase();
  if (lower === 'true') return 1;
  if (lower === 'false') return 0;
  return undefined;
}

/** Orders two strings by Unicode code point (= UTF-8 byte order), not by UTF-16 code unit. */
export function compareCodePoints(a: string, b: string): number {
  const length = Math.min(a.length, b.length);
  for (let i = 0; i < length; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x !== y) return codePointRank(x) - codePointRank(y);
  }
  return a.length - b.length;
}

/** Moves surrogates above U+E000–U+FFFF so that UTF-16 units sort like the code points they encode. */
function codePointRank(unit: number): number {
  if (unit >= 0xd800 && unit <= 0xdfff) return unit + 0x2000;
  if (unit >= 0xe000) return unit - 0x800;
  return unit;
}

/** Compares a stored value text with a filter text: numerically when both are numeric. */
export function compareFilterTexts(value: string, filter: string): number {
  const a = numericValue(value);
  const b = numericValue(filter);
  if (a !== undefined && b !== undefined) return a < b ? -1 : a > b ? 1 : 0;
  return compareCodePoints(value, filter);
}

const likeCache = new Map<string, RegExp>();
const LIKE_CACHE_LIMIT = 256;

/** The regular expression for a `like` pattern: `*` any run, `?` one character, case-insensitive. */
export function likeRegExp(pattern: string): RegExp {
  let regExp = likeCache.get(pattern);
  if (regExp) return regExp;
  let source = '';
  for (const char of pattern) {
    if (char === '*') source += '.*';
    else if (char === '?') source += '.';
    // Only syntax characters may be escaped in a `u` regular expression (`\-` is an error there).
    else source += char.replace(/[\\^$.|?*+()[\]{}/]/g, '\\$&');
  }
  regExp = new RegExp(`^${source}$`, 'isu');
  if (likeCache.size >= LIKE_CACHE_LIMIT) likeCache.clear();
  likeCache.set(pattern, regExp);
  return regExp;
}

export function likeMatches(value: string, pattern: string): boolean {
  return likeRegExp(pattern).test(value);
}

/** Rejects filters no store could run; the HTTP layer turns the error into a 400. */
export function validateFilter(filter: FieldFilter): void {
  if (typeof filter.field !== 'string' || filter.field === '') {
    throw new SluiceError('BAD_FILTER', 'A URL filter needs a field name', {
      fix: 'Write filters as ~.field__op=value, for example ~.status__belongs=Actual,Exercise',
    });
  }
  if (!FILTER_OPS.includes(filter.op)) {
    throw new SluiceError('BAD_FILTER', `Unknown filter operator "${String(filter.op)}" on field "${filter.field}"`, {
      fix: `Use one of ${FILTER_OPS.join(', ')}`,
      details: { field: filter.field },
    });
  }
  if (!Array.isArray(filter.values) || filter.values.some((value) => value !== null && typeof value !== 'string')) {
    throw new SluiceError('BAD_FILTER', `Filter values on field "${filter.field}" must be strings or null`, {
      details: { field: filter.field },
    });
  }
}

/** The operator whose result `ne` negates. */
export function positiveOp(op: FilterOp): Exclude<FilterOp, 'ne'> {
  return op === 'ne' ? 'eq' : op;
}

/** True when the filter's positive result must be inverted (`ne` xor `!`). */
export function isInverted(filter: FieldFilter): boolean {
  return (filter.op === 'ne') !== filter.negate;
}

function valueMatches(values: readonly string[], op: Exclude<FilterOp, 'ne'>, filterValue: string | null): boolean {
  if (filterValue === null) {
    return (op === 'eq' || op === 'belongs' || op === 'like') && values.length === 0;
  }
  switch (op) {
    case 'like':
      return values.some((value) => likeMatches(value, filterValue));
    case 'eq':
    case 'belongs':
      return values.some((value) => compareFilterTexts(value, filterValue) === 0);
    case 'lt':
      return values.some((value) => compareFilterTexts(value, filterValue) < 0);
    case 'le':
      return values.some((value) => compareFilterTexts(value, filterValue) <= 0);
    case 'gt':
      return values.some((value) => compareFilterTexts(value, filterValue) > 0);
    case 'ge':
      return values.some((value) => compareFilterTexts(value, filterValue) >= 0);
  }
}

function matchesOne(values: Map<string, string[]>, filter: FieldFilter): boolean {
  const fieldValues = values.get(filter.field) ?? [];
  const op = positiveOp(filter.op);
  const positive = filter.values.some((filterValue) => valueMatches(fieldValues, op, filterValue));
  return isInverted(filter) ? !positive : positive;
}

export function matchesFilter(record: FilterableRecord, filter: FieldFilter): boolean {
  validateFilter(filter);
  return matchesOne(filterableValues(record), filter);
}

/** True when the record passes every filter (AND). */
export function matchesFilters(record: FilterableRecord, filters: readonly FieldFilter[]): boolean {
  if (filters.length === 0) return true;
  for (const filter of filters) validateFilter(filter);
  const values = filterableValues(record);
  return filters.every((filter) => matchesOne(values, filter));
}
