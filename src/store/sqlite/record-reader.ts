/**
 * Record reads on one connection. The store keeps one reader on its read-only connection (sees the
 * last commit) and one on the write connection (used inside a transaction, sees its own writes).
 */
import type Database from 'better-sqlite3';
import { tallyFieldValues } from '../field-value-tally.js';
import type { FieldValue } from '../../s3xml/model.js';
import type { RecordQuery, StoredRecord } from '../store.js';
import { buildRecordCount, buildRecordQuery, DRIVING_FILTER_LIMIT, drivingFilterProbes } from './record-query.js';
import type { QueryPlanChoice, SqlParam } from './record-query.js';
import { RECORD_COLUMNS, rowToRecord } from './record-rows.js';
import type { RecordRow } from './record-rows.js';

const STATEMENT_CACHE_LIMIT = 200;

/**
 * Live records per resource; a resource holding nothing but tombstones is listed with count 0.
 * Both halves are index-only counts: reading the rows would read every record body.
 */
export const RESOURCE_COUNTS_SQL =
  'SELECT t.resource, t.total - coalesce(d.deleted, 0) AS count ' +
  'FROM (SELECT resource, count(*) AS total FROM records GROUP BY resource) t ' +
  'LEFT JOIN (SELECT resource, count(*) AS deleted FROM records WHERE deleted = 1 GROUP BY resource) d ON d.resource = t.resource ' +
  'ORDER BY t.resource';

export interface FieldValueCount {
  value: FieldValue;
  text?: string;
  count: number;
}

export class RecordReader {
  private readonly byKey: Database.Statement<[string, string], RecordRow>;
  private readonly byUuid: Database.Statement<[string], RecordRow>;
  private readonly byKeys: Database.Statement<[string, string], RecordRow>;
  private readonly referencing: Database.Statement<[string], RecordRow>;
  private readonly resourceCounts: Database.Statement<[], { resource: string; count: number }>;
  private readonly componentTables: Database.Statement<[], { resource: string }>;
  private readonly fieldSamples: Database.Statement<[string, string], { raw: string | null; text: string | null; count: number }>;
  private readonly dynamic = new Map<string, Database.Statement<SqlParam[]>>();

  constructor(private readonly db: Database.Database) {
    this.byKey = db.prepare(`SELECT ${RECORD_COLUMNS} FROM records r WHERE r.resource = ? AND r.uuid = ?`);
    this.byKeys = db.prepare(`SELECT ${RECORD_COLUMNS} FROM records r WHERE r.uuid IN (SELECT value FROM json_each(?)) AND r.resource = ?`);
    this.byUuid = db.prepare(`SELECT ${RECORD_COLUMNS} FROM records r WHERE r.uuid = ? ORDER BY r.resource`);
    this.referencing = db.prepare(
      `SELECT ${RECORD_COLUMNS} FROM record_references x JOIN records r ON r.id = x.record_id ` +
        'WHERE x.target_uuid = ? ORDER BY r.resource, r.uuid',
    );
    this.resourceCounts = db.prepare(RESOURCE_COUNTS_SQL);
    // A loose scan of the partial index records_by_component_table: one probe per table.
    this.componentTables = db.prepare(
      'WITH RECURSIVE tables(resource) AS (' +
        'SELECT min(resource) FROM records WHERE parent_resource IS NOT NULL ' +
        'UNION ALL SELECT (SELECT min(resource) FROM records WHERE parent_resource IS NOT NULL AND resource > tables.resource) ' +
        'FROM tables WHERE tables.resource IS NOT NULL) SELECT resource FROM tables WHERE resource IS NOT NULL',
    );
    // Grouped on the raw attribute and label first; decoding (dataValue) happens in JavaScript so it
    // is exactly the importer's, then equal decoded values are merged.
    this.fieldSamples = db.prepare(
      "SELECT json_extract(d.value, '$.value') AS raw, json_extract(d.value, '$.text') AS text, count(*) AS count " +
        "FROM records r, json_each(r.body, '$.data') d " +
        "WHERE r.resource = ? AND r.deleted = 0 AND json_extract(d.value, '$.field') = ? GROUP BY raw, text",
    );
  }

  private statement(sql: string): Database.Statement<SqlParam[]> {
    let statement = this.dynamic.get(sql);
    if (!statement) {
      if (this.dynamic.size >= STATEMENT_CACHE_LIMIT) this.dynamic.clear();
      statement = this.db.prepare<SqlParam[]>(sql);
      this.dynamic.set(sql, statement);
    }
    return statement;
  }

  getRecord(resource: string, uuid: string): StoredRecord | undefined {
    const row = this.byKey.get(resource, uuid);
    return row ? rowToRecord(row) : undefined;
  }

  getRecords(resource: string, uuids: readonly string[]): StoredRecord[] {
    if (uuids.length === 0) return [];
    return this.byKeys.all(JSON.stringify(uuids), resource).map(rowToRecord);
  }

  findByUuid(uuid: string): StoredRecord[] {
    return this.byUuid.all(uuid).map(rowToRecord);
  }

  findReferencing(uuid: string): StoredRecord[] {
    return this.referencing.all(uuid).map(rowToRecord);
  }

  /** Picks the most selective eq/belongs filter to drive the query, if one is selective enough. */
  private planChoice(query: RecordQuery): QueryPlanChoice {
    let best: QueryPlanChoice = {};
    let fewest = DRIVING_FILTER_LIMIT;
    for (const { filterIndex, probe } of drivingFilterProbes(query)) {
      const { hits } = this.statement(probe.sql).get(...probe.params) as { hits: number };
      if (hits < fewest) {
        fewest = hits;
        best = { drivingFilter: filterIndex };
      }
    }
    return best;
  }

  queryRecords(query: RecordQuery): StoredRecord[] {
    const { sql, params } = buildRecordQuery(query, this.planChoice(query));
    return (this.statement(sql).all(...params) as RecordRow[]).map(rowToRecord);
  }

  countRecords(query: RecordQuery): number {
    const { sql, params } = buildRecordCount(query, this.planChoice(query));
    return (this.statement(sql).get(...params) as { count: number }).count;
  }

  resources(): { resource: string; count: number }[] {
    return this.resourceCounts.all().map((row) => ({ resource: row.resource, count: row.count }));
  }

  componentResources(): string[] {
    return this.componentTables.all().map((row) => row.resource);
  }

  /**
   * Distinct decoded values of a data field over the live records of a resource, most frequent
   * first (ties in value order). Each value is reported once with its most frequent label. A list
   * value counts as one value (it is not split into options); NULL values are left out.
   */
  fieldValues(resource: string, field: string, limit?: number): FieldValueCount[] {
    return tallyFieldValues(
      field,
      this.fieldSamples.all(resource, field).map((sample) => ({
        ...(sample.raw !== null ? { raw: sample.raw } : {}),
        ...(sample.text !== null ? { text: sample.text } : {}),
        count: sample.count,
      })),
      limit,
    );
  }
}
