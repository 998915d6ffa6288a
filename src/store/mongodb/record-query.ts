/**
 * RecordQuery → a MongoDB filter, sort and page on the `records` collection. URL filters follow
 * url-filter-match.ts rule for rule, on the `filterValues` entries written with each record
 * (record-documents.ts):
 *
 * - eq/belongs: some entry of the field has `number` in the numeric filter values or `text` in the
 *   others. (Two texts compare as numbers only when both are numeric, so a numeric filter value can
 *   only equal a numeric stored value and vice versa.)
 * - lt/le/gt/ge with a numeric filter value: entries with a number compare on it, the others on
 *   their text; with a non-numeric filter value every entry compares on its text. MongoDB orders
 *   strings by UTF-8 bytes, which is the code point order the oracle uses.
 * - like: a case-insensitive regular expression built by the oracle's own `likeRegExp`.
 * - NULL: no entry for the field at all.
 * - ne and `!` wrap the positive condition in `$nor`, so records without the field match them.
 */
import type { Document, Filter, Sort } from 'mongodb';
import { SluiceError } from '../../errors.js';
import type { FieldFilter, FilterOp, RecordQuery } from '../store.js';
import { isInverted, likeRegExp, numericValue, positiveOp, validateFilter } from '../url-filter-match.js';

/** Matches no document; used for a filter without values. */
const NOTHING: Document = { _id: { $in: [] } };

const COMPARISON: Record<'lt' | 'le' | 'gt' | 'ge', '$lt' | '$lte' | '$gt' | '$gte'> = { lt: '$lt', le: '$lte', gt: '$gt', ge: '$gte' };

function badQuery(message: string): SluiceError {
  return new SluiceError('BAD_QUERY', message, { fix: 'start and limit must be whole numbers of 0 or more' });
}

export function assertQuery(query: RecordQuery): void {
  if (typeof query.resource !== 'string' || query.resource === '') {
    throw new SluiceError('BAD_QUERY', 'A record query needs a resource name', { status: 500 });
  }
  if (query.start !== undefined && !(Number.isInteger(query.start) && query.start >= 0)) throw badQuery(`start=${query.start} is not allowed`);
  if (query.limit !== undefined && !(Number.isInteger(query.limit) && query.limit >= 0)) throw badQuery(`limit=${query.limit} is not allowed`);
  if (query.afterSeq !== undefined && !Number.isFinite(query.afterSeq)) throw badQuery(`afterSeq=${query.afterSeq} is not a number`);
  for (const filter of query.filters ?? []) validateFilter(filter);
}

function hasEntry(field: string, condition: Document): Document {
  return { filterValues: { $elemMatch: { field, ...condition } } };
}

function isNull(field: string): Document {
  return { 'filterValues.field': { $ne: field } };
}

function equalsAny(field: string, texts: string[]): Document {
  const numbers: number[] = [];
  const others: string[] = [];
  for (const text of texts) {
    const number = numericValue(text);
    if (number === undefined) others.push(text);
    else numbers.push(number);
  }
  const parts: Document[] = [];
  if (numbers.length > 0) parts.push({ number: { $in: numbers } });
  if (others.length > 0) parts.push({ text: { $in: others } });
  return hasEntry(field, parts.length === 1 ? parts[0]! : { $or: parts });
}

function compares(field: string, op: 'lt' | 'le' | 'gt' | 'ge', text: string): Document {
  const operator = COMPARISON[op];
  const number = numericValue(text);
  if (number === undefined) return hasEntry(field, { text: { [operator]: text } });
  return hasEntry(field, { $or: [{ number: { [operator]: number } }, { number: { $exists: false }, text: { [operator]: text } }] });
}

function likes(field: string, pattern: string): Document {
  // The oracle's expression is ^…$ with only regex syntax characters escaped, which PCRE reads the
  // same way; `s` lets `*` run over line breaks as the oracle's `s` flag does.
  return hasEntry(field, { text: { $regex: likeRegExp(pattern).source, $options: 'is' } });
}

function positive(field: string, op: Exclude<FilterOp, 'ne'>, values: (string | null)[]): Document {
  const alternatives: Document[] = [];
  const texts = values.filter((value): value is string => value !== null);
  if (texts.length < values.length && (op === 'eq' || op === 'belongs' || op === 'like')) alternatives.push(isNull(field));
  if (texts.length > 0) {
    if (op === 'eq' || op === 'belongs') alternatives.push(equalsAny(field, texts));
    else if (op === 'like') for (const text of texts) alternatives.push(likes(field, text));
    else for (const text of texts) alternatives.push(compares(field, op, text));
  }
  if (alternatives.length === 0) return NOTHING;
  return alternatives.length === 1 ? alternatives[0]! : { $or: alternatives };
}

export function filterCondition(filter: FieldFilter): Document {
  const condition = positive(filter.field, positiveOp(filter.op), filter.values);
  if (!isInverted(filter)) return condition;
  return condition === NOTHING ? {} : { $nor: [condition] };
}

/** The filter for queryRecords and countRecords (paging and order aside). */
export function recordFilter(query: RecordQuery): Filter<Document> {
  assertQuery(query);
  const conditions: Document[] = [{ resource: query.resource }];
  if (query.msince !== undefined) conditions.push({ modified_on: { $gte: query.msince } });
  if (query.afterSeq !== undefined) conditions.push({ seq: { $gt: query.afterSeq } });
  if (!query.includeDeleted) conditions.push({ deleted: false });
  if (query.parent) conditions.push({ 'parent.resource': query.parent.resource, 'parent.uuid': query.parent.uuid });
  if (query.topLevelOnly) conditions.push({ parent: { $exists: false } });
  for (const filter of query.filters ?? []) conditions.push(filterCondition(filter));
  return conditions.length === 1 ? conditions[0]! : { $and: conditions };
}

/**
 * The index for queries bounded by a parent, msince or afterSeq. Incremental pulls are the hot
 * path and their range is small, so its cost must follow the number of changes, not how common a
 * filter value is; DocumentDB's planner, left alone, prefers walking the filter index instead
 * (docs/decisions/mongodb-test-server.md has the numbers). Names are those of collections.ts.
 */
export function recordHint(query: RecordQuery): string | undefined {
  if (query.parent) return 'parent';
  if (query.msince !== undefined) return 'resource_modified_on';
  if (query.afterSeq !== undefined) return 'resource_seq';
  return undefined;
}

export function recordSort(query: RecordQuery): Sort {
  return query.orderBy === 'seq' ? { seq: 1 } : { modified_on: 1, uuid: 1 };
}
