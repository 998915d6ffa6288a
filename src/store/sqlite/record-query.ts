/**
 * RecordQuery → SQL. Filters follow url-filter-match.ts rule for rule.
 *
 * Each filter is a correlated `EXISTS` on the record's own indexed values (primary key
 * record_id, field), so checking one candidate costs one short index probe whatever the value's
 * frequency. Candidates come from the resource's (resource, modified_on, uuid) or (resource, seq)
 * index in the requested order, so a page stops after `limit` matches.
 *
 * That is slow only when a filter is rare and nothing else narrows the walk (`~.code=OF-123` over a
 * million records). So the reader first counts, up to DRIVING_FILTER_LIMIT, how many values an
 * `eq`/`belongs` filter hits (`drivingFilterProbes`); when one is that selective, the query is
 * driven by its value set instead (`r.id IN (…)` with the other indexes disabled) and the few
 * rows are sorted.
 */
import { SluiceError } from '../../errors.js';
import type { FieldFilter, FilterOp, RecordQuery } from '../store.js';
import { isInverted, numericValue, positiveOp, validateFilter } from '../url-filter-match.js';
import { RECORD_COLUMNS } from './record-rows.js';

export type SqlParam = string | number | null;

export interface SqlQuery {
  sql: string;
  params: SqlParam[];
}

/** The SQL function (registered on every connection) that evaluates `like` exactly as the oracle does. */
export const LIKE_FUNCTION = 'sluice_like';

/**
 * A filter matching fewer values than this drives the query. Around sqrt(limit × records) balances
 * sorting the driven rows against walking an index until `limit` matches (100 × 1M → 10k).
 */
export const DRIVING_FILTER_LIMIT = 5000;

const COMPARISON: Record<'lt' | 'le' | 'gt' | 'ge', string> = { lt: '<', le: '<=', gt: '>', ge: '>=' };

/** The values of one field of the candidate record r. */
const FIELD_VALUES = 'SELECT 1 FROM record_fields f WHERE f.record_id = r.id AND f.field = ?';

function badQuery(message: string): SluiceError {
  return new SluiceError('BAD_QUERY', message, { fix: 'start and limit must be whole numbers of 0 or more' });
}

function assertQuery(query: RecordQuery): void {
  if (typeof query.resource !== 'string' || query.resource === '') {
    throw new SluiceError('BAD_QUERY', 'A record query needs a resource name', { status: 500 });
  }
  if (query.start !== undefined && !(Number.isInteger(query.start) && query.start >= 0)) throw badQuery(`start=${query.start} is not allowed`);
  if (query.limit !== undefined && !(Number.isInteger(query.limit) && query.limit >= 0)) throw badQuery(`limit=${query.limit} is not allowed`);
  if (query.afterSeq !== undefined && !Number.isFinite(query.afterSeq)) throw badQuery(`afterSeq=${query.afterSeq} is not a number`);
  for (const filter of query.filters ?? []) validateFilter(filter);
}

/** Splits eq/belongs texts: numeric ones are matched on num (a numeric stored text has num set). */
function splitEqualityValues(texts: string[]): { numbers: number[]; others: string[] } {
  const numbers: number[] = [];
  const others: string[] = [];
  for (const text of texts) {
    const number = numericValue(text);
    if (number === undefined) others.push(text);
    else numbers.push(number);
  }
  return { numbers, others };
}

const placeholders = (count: number): string => Array.from({ length: count }, () => '?').join(', ');

class ConditionBuilder {
  readonly conditions: string[] = [];
  readonly params: SqlParam[] = [];

  private exists(field: string, valueCondition: string, values: SqlParam[]): string {
    this.params.push(field, ...values);
    return `EXISTS (${FIELD_VALUES} AND ${valueCondition})`;
  }

  private isNull(field: string): string {
    this.params.push(field);
    return `NOT EXISTS (${FIELD_VALUES})`;
  }

  private equalsAny(field: string, texts: string[]): string {
    const { numbers, others } = splitEqualityValues(texts);
    const parts: string[] = [];
    if (numbers.length > 0) parts.push(`f.num IN (${placeholders(numbers.length)})`);
    if (others.length > 0) parts.push(`f.str IN (${placeholders(others.length)})`);
    return this.exists(field, parts.length === 1 ? parts[0]! : `(${parts.join(' OR ')})`, [...numbers, ...others]);
  }

  private compares(field: string, op: 'lt' | 'le' | 'gt' | 'ge', text: string): string {
    const sqlOp = COMPARISON[op];
    const number = numericValue(text);
    if (number === undefined) return this.exists(field, `f.str ${sqlOp} ?`, [text]);
    return this.exists(field, `((f.num IS NOT NULL AND f.num ${sqlOp} ?) OR (f.num IS NULL AND f.str ${sqlOp} ?))`, [number, text]);
  }

  private positive(field: string, op: Exclude<FilterOp, 'ne'>, values: (string | null)[]): string {
    const alternatives: string[] = [];
    const texts = values.filter((value): value is string => value !== null);
    const includesNull = texts.length < values.length;
    if (includesNull && (op === 'eq' || op === 'belongs' || op === 'like')) alternatives.push(this.isNull(field));
    if (texts.length > 0) {
      if (op === 'eq' || op === 'belongs') alternatives.push(this.equalsAny(field, texts));
      else if (op === 'like') for (const text of texts) alternatives.push(this.exists(field, `${LIKE_FUNCTION}(f.str, ?)`, [text]));
      else for (const text of texts) alternatives.push(this.compares(field, op, text));
    }
    if (alternatives.length === 0) return '0';
    return alternatives.length === 1 ? alternatives[0]! : `(${alternatives.join(' OR ')})`;
  }

  addFilter(filter: FieldFilter): void {
    const condition = this.positive(filter.field, positiveOp(filter.op), filter.values);
    this.conditions.push(isInverted(filter) ? `NOT (${condition})` : condition);
  }

  add(condition: string, ...params: SqlParam[]): void {
    this.conditions.push(condition);
    this.params.push(...params);
  }
}

/**
 * The ids of records of `resource` that hold one of `texts` in `field`: a superset of what an
 * `eq`/`belongs` filter with these (non-null) values selects.
 */
function valueSetQuery(resource: string, field: string, texts: string[]): SqlQuery {
  const { numbers, others } = splitEqualityValues(texts);
  const parts: SqlQuery[] = [];
  const head = 'SELECT record_id FROM record_fields WHERE resource = ? AND field = ? AND';
  if (numbers.length > 0) parts.push({ sql: `${head} num IN (${placeholders(numbers.length)})`, params: [resource, field, ...numbers] });
  if (others.length > 0) parts.push({ sql: `${head} str IN (${placeholders(others.length)})`, params: [resource, field, ...others] });
  return { sql: parts.map((part) => part.sql).join(' UNION ALL '), params: parts.flatMap((part) => part.params) };
}

/** Filters whose matches all lie in a value set: positive eq/belongs without NONE. */
function canDrive(filter: FieldFilter): boolean {
  return (filter.op === 'eq' || filter.op === 'belongs') && !filter.negate && filter.values.length > 0 && filter.values.every((value) => value !== null);
}

/**
 * For each filter that could drive the query, a statement counting its matching values up to
 * DRIVING_FILTER_LIMIT (result column `hits`). Components of one master are already few, so a
 * parent query is never driven by a filter.
 */
export function drivingFilterProbes(query: RecordQuery): { filterIndex: number; probe: SqlQuery }[] {
  if (query.parent || !query.filters) return [];
  assertQuery(query);
  const probes: { filterIndex: number; probe: SqlQuery }[] = [];
  query.filters.forEach((filter, filterIndex) => {
    if (!canDrive(filter)) return;
    const set = valueSetQuery(query.resource, filter.field, filter.values as string[]);
    probes.push({
      filterIndex,
      probe: { sql: `SELECT count(*) AS hits FROM (${set.sql} LIMIT ?)`, params: [...set.params, DRIVING_FILTER_LIMIT] },
    });
  });
  return probes;
}

export interface QueryPlanChoice {
  /** Index into query.filters of a selective eq/belongs filter to drive the query from. */
  drivingFilter?: number;
}

function whereClause(query: RecordQuery, choice: QueryPlanChoice): ConditionBuilder {
  assertQuery(query);
  const builder = new ConditionBuilder();
  const driving = choice.drivingFilter === undefined ? undefined : query.filters?.[choice.drivingFilter];
  if (driving && !canDrive(driving)) throw new Error(`Filter ${choice.drivingFilter} cannot drive a query`);
  // Unary + keeps SQLite from using an index on that column, so the value set is the only way in.
  const column = (name: string): string => (driving ? `+r.${name}` : `r.${name}`);
  if (driving) {
    const set = valueSetQuery(query.resource, driving.field, driving.values as string[]);
    builder.add(`r.id IN (${set.sql})`, ...set.params);
  }
  builder.add(`${column('resource')} = ?`, query.resource);
  if (query.msince !== undefined) builder.add(`${column('modified_on')} >= ?`, query.msince);
  if (query.afterSeq !== undefined) builder.add(`${column('seq')} > ?`, query.afterSeq);
  if (!query.includeDeleted) builder.add('r.deleted = 0');
  if (query.parent) builder.add('r.parent_resource = ? AND r.parent_uuid = ?', query.parent.resource, query.parent.uuid);
  if (query.topLevelOnly) builder.add('r.parent_uuid IS NULL');
  for (const filter of query.filters ?? []) builder.addFilter(filter);
  return builder;
}

/** The SELECT for queryRecords: rows in RECORD_COLUMNS order, ordered and paged. */
export function buildRecordQuery(query: RecordQuery, choice: QueryPlanChoice = {}): SqlQuery {
  const where = whereClause(query, choice);
  const order = query.orderBy === 'seq' ? 'r.seq' : 'r.modified_on, r.uuid';
  let sql = `SELECT ${RECORD_COLUMNS} FROM records r WHERE ${where.conditions.join(' AND ')} ORDER BY ${order}`;
  const params = [...where.params];
  if (query.limit !== undefined || query.start !== undefined) {
    sql += ' LIMIT ? OFFSET ?';
    params.push(query.limit ?? -1, query.start ?? 0);
  }
  return { sql, params };
}

/** The COUNT for countRecords: every match, ignoring start, limit and orderBy. */
export function buildRecordCount(query: RecordQuery, choice: QueryPlanChoice = {}): SqlQuery {
  const where = whereClause(query, choice);
  return { sql: `SELECT count(*) AS count FROM records r WHERE ${where.conditions.join(' AND ')}`, params: where.params };
}
