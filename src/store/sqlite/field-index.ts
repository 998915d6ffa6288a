/**
 * Which (resource, field) pairs the `record_fields` table indexes.
 *
 * Indexing every filterable value of every record cost a third of a record write (five fields are
 * some fifteen B-tree inserts), yet URL filters use a handful of fields of a handful of tables. So
 * a field is indexed from the first query that filters on it: that query registers the pair and
 * backfills the values of the records already stored, in one write transaction; from then on
 * every write of that resource indexes it too. Invariant: `record_fields` holds rows for
 * registered pairs only, and for every record of them.
 *
 * Several processes may share the file. The `field_index_version` counter moves with every
 * registration; a write session re-reads the registrations when it changed (checked at BEGIN
 * IMMEDIATE, when no one else can register), and a query checks it before deciding to register.
 */
import type Database from 'better-sqlite3';
import type { RecordQuery } from '../store.js';
import { filterableValues, numericValue, type FilterableRecord } from '../url-filter-match.js';

const VERSION_COUNTER = 'field_index_version';
/** Records read per statement during a backfill (bounds memory on a million-record table). */
const BACKFILL_BATCH = 2000;

export const FIELD_INDEX_MIGRATION_SQL = `
  CREATE TABLE indexed_fields (
    resource TEXT NOT NULL,
    field TEXT NOT NULL,
    PRIMARY KEY (resource, field)
  ) WITHOUT ROWID;
  INSERT INTO counters (name, value) VALUES ('${VERSION_COUNTER}', 0);
  -- Re-indexed on demand from the first filter on each field (whole-table delete is a truncate).
  DELETE FROM record_fields;
`;

/** The fields a query's filters look at, without duplicates. */
export function filteredFields(query: RecordQuery): string[] {
  return [...new Set((query.filters ?? []).map((filter) => filter.field))];
}

/** One row of `record_fields`: record id, resource, field, text, number (or null). */
export type FieldRow = [number, string, string, string, number | null];

export class FieldIndex {
  private readonly readVersion: Database.Statement<[], { value: number }>;
  private readonly readPairs: Database.Statement<[], { resource: string; field: string }>;
  /** Prepared on first registration: a read-only connection keeps a FieldIndex to check with. */
  private writes:
    | { bumpVersion: Database.Statement<[]>; insertPair: Database.Statement<[string, string]>; recordIds: Database.Statement<[string], number>; insertRow: Database.Statement<FieldRow> }
    | undefined;
  /** The version the cache was read at; -1 forces a reload. */
  private version = -1;
  private readonly byResource = new Map<string, Set<string>>();

  constructor(private readonly db: Database.Database) {
    this.readVersion = db.prepare(`SELECT value FROM counters WHERE name = '${VERSION_COUNTER}'`);
    this.readPairs = db.prepare('SELECT resource, field FROM indexed_fields');
  }

  private writeStatements(): NonNullable<FieldIndex['writes']> {
    this.writes ??= {
      bumpVersion: this.db.prepare(`UPDATE counters SET value = value + 1 WHERE name = '${VERSION_COUNTER}'`),
      insertPair: this.db.prepare('INSERT OR IGNORE INTO indexed_fields (resource, field) VALUES (?, ?)'),
      recordIds: this.db.prepare<[string], number>('SELECT id FROM records WHERE resource = ? ORDER BY id').pluck(),
      insertRow: this.db.prepare<FieldRow>('INSERT OR IGNORE INTO record_fields (record_id, resource, field, str, num) VALUES (?, ?, ?, ?, ?)'),
    };
    return this.writes;
  }

  /** Re-reads the registrations if another session or process changed them. */
  refresh(): void {
    const current = this.readVersion.get()!.value;
    if (current === this.version) return;
    this.byResource.clear();
    for (const { resource, field } of this.readPairs.all()) this.fieldsOf(resource, true)!.add(field);
    this.version = current;
  }

  /** After a rollback the cache may describe registrations that never committed. */
  invalidate(): void {
    this.version = -1;
  }

  private fieldsOf(resource: string, create: boolean): Set<string> | undefined {
    let fields = this.byResource.get(resource);
    if (!fields && create) {
      fields = new Set();
      this.byResource.set(resource, fields);
    }
    return fields;
  }

  /** Whether any field of the resource is indexed (as of the last refresh). */
  indexes(resource: string): boolean {
    return (this.byResource.get(resource)?.size ?? 0) > 0;
  }

  /** The fields of `fields` not indexed for the resource yet (refreshes first). */
  missing(resource: string, fields: readonly string[]): string[] {
    if (fields.length === 0) return [];
    this.refresh();
    const indexed = this.byResource.get(resource);
    return fields.filter((field) => !indexed?.has(field));
  }

  /** The rows to index for one record: its values of the resource's registered fields. */
  rowsFor(id: number, resource: string, record: FilterableRecord, only?: ReadonlySet<string>): FieldRow[] {
    const indexed = only ?? this.byResource.get(resource);
    if (!indexed || indexed.size === 0) return [];
    const rows: FieldRow[] = [];
    for (const [field, texts] of filterableValues(record)) {
      if (!indexed.has(field)) continue;
      for (const text of texts) rows.push([id, resource, field, text, numericValue(text) ?? null]);
    }
    return rows;
  }

  /**
   * Registers fields of a resource and indexes every stored record of it. Must run inside a write
   * transaction of this connection; `readBody` reads one record's filterable parts by id.
   */
  register(resource: string, fields: readonly string[], readBodies: (ids: number[]) => Map<number, FilterableRecord>): void {
    this.refresh();
    const added = new Set(fields.filter((field) => !this.byResource.get(resource)?.has(field)));
    if (added.size === 0) return;
    const { bumpVersion, insertPair, recordIds, insertRow } = this.writeStatements();
    for (const field of added) insertPair.run(resource, field);
    const ids = recordIds.all(resource);
    for (let offset = 0; offset < ids.length; offset += BACKFILL_BATCH) {
      const bodies = readBodies(ids.slice(offset, offset + BACKFILL_BATCH));
      for (const [id, record] of bodies) {
        for (const row of this.rowsFor(id, resource, record, added)) insertRow.run(...row);
      }
    }
    bumpVersion.run();
    // Read back at once so this session's next writes index the new fields.
    this.invalidate();
    this.refresh();
  }
}
