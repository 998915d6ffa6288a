/**
 * Writes on the write connection, always inside BEGIN IMMEDIATE … COMMIT. Holding SQLite's write
 * lock for the whole session is what lets the seq counter live in memory between begin and commit
 * even when several processes share the file: nobody else can write meanwhile.
 */
import type Database from 'better-sqlite3';
import { referenceUuids } from '../../s3xml/model.js';
import type { ConflictEntry, NewConflict, RecordWrite, StoredRecord } from '../store.js';
import type { FilterableRecord } from '../url-filter-match.js';
import { FieldIndex } from './field-index.js';
import { conflictFromRow, conflictToRow } from './state-rows.js';
import type { ConflictRow } from './state-rows.js';
import { assertWritableRecord, recordToRow, storedForm } from './record-rows.js';

/**
 * Inserts many rows with few statements: one record has a dozen field values, and a statement
 * call costs more than a row inside it.
 */
class MultiRowInsert {
  private static readonly MAX_ROWS = 32;
  private readonly byRowCount = new Map<number, Database.Statement<unknown[]>>();

  constructor(
    private readonly db: Database.Database,
    private readonly head: string,
    private readonly columns: number,
  ) {}

  private statement(rows: number): Database.Statement<unknown[]> {
    let statement = this.byRowCount.get(rows);
    if (!statement) {
      const tuple = `(${Array.from({ length: this.columns }, () => '?').join(', ')})`;
      statement = this.db.prepare<unknown[]>(`${this.head} VALUES ${Array.from({ length: rows }, () => tuple).join(', ')}`);
      this.byRowCount.set(rows, statement);
    }
    return statement;
  }

  /** `values` holds the rows one after another, `columns` values each. */
  run(values: unknown[]): void {
    const chunk = MultiRowInsert.MAX_ROWS * this.columns;
    for (let offset = 0; offset < values.length; offset += chunk) {
      const part = values.slice(offset, offset + chunk);
      this.statement(part.length / this.columns).run(...part);
    }
  }
}

export class WriteSession {
  private readonly findId: Database.Statement<[string, string], { id: number }>;
  private readonly insertRecord: Database.Statement<unknown[]>;
  private readonly updateRecord: Database.Statement<unknown[]>;
  private readonly deleteFields: Database.Statement<[number]>;
  private readonly insertFields: MultiRowInsert;
  private readonly deleteReferences: Database.Statement<[number]>;
  private readonly insertReferences: MultiRowInsert;
  private readonly readSeq: Database.Statement<[], { value: number }>;
  private readonly writeSeq: Database.Statement<[number]>;
  private readonly insertConflict: Database.Statement<unknown[]>;
  private readonly conflictById: Database.Statement<[number], ConflictRow>;
  private readonly bodiesById: Database.Statement<[string], { id: number; body: string }>;
  /** Which fields record_fields indexes (field-index.ts). */
  readonly fieldIndex: FieldIndex;

  /** The last seq handed out in this session; undefined outside a session. */
  private seq: number | undefined;
  private seqAtBegin = 0;

  constructor(private readonly db: Database.Database) {
    this.findId = db.prepare('SELECT id FROM records WHERE resource = ? AND uuid = ?');
    this.insertRecord = db.prepare(
      'INSERT INTO records (resource, uuid, mci, created_on, modified_on, deleted, replaced_by, ' +
        'parent_resource, parent_uuid, parent_alias, body, seq) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
    );
    this.updateRecord = db.prepare(
      'UPDATE records SET mci = ?, created_on = ?, modified_on = ?, deleted = ?, replaced_by = ?, ' +
        'parent_resource = ?, parent_uuid = ?, parent_alias = ?, body = ?, seq = ? WHERE id = ?',
    );
    this.deleteFields = db.prepare('DELETE FROM record_fields WHERE record_id = ?');
    // OR IGNORE: num is a function of str, so a repeated (field, str) carries nothing new.
    this.insertFields = new MultiRowInsert(db, 'INSERT OR IGNORE INTO record_fields (record_id, resource, field, str, num)', 5);
    this.deleteReferences = db.prepare('DELETE FROM record_references WHERE record_id = ?');
    this.insertReferences = new MultiRowInsert(db, 'INSERT OR IGNORE INTO record_references (target_uuid, record_id)', 2);
    this.readSeq = db.prepare("SELECT value FROM counters WHERE name = 'seq'");
    this.writeSeq = db.prepare("UPDATE counters SET value = ? WHERE name = 'seq'");
    this.insertConflict = db.prepare(
      'INSERT INTO conflicts (resource, uuid, repository, method, policy, local, remote, fields, created_at, status) ' +
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'open')",
    );
    this.conflictById = db.prepare('SELECT * FROM conflicts WHERE id = ?');
    this.bodiesById = db.prepare('SELECT id, body FROM records WHERE id IN (SELECT value FROM json_each(?))');
    this.fieldIndex = new FieldIndex(db);
    this.putAtomically = db.transaction((record: RecordWrite, seq: number) => this.writeRecord(record, seq));
  }

  get active(): boolean {
    return this.seq !== undefined;
  }

  begin(): void {
    this.db.exec('BEGIN IMMEDIATE');
    try {
      this.seq = this.readSeq.get()!.value;
      this.seqAtBegin = this.seq;
      this.fieldIndex.refresh();
    } catch (error) {
      this.db.exec('ROLLBACK');
      throw error;
    }
  }

  commit(): void {
    if (this.seq !== undefined && this.seq !== this.seqAtBegin) this.writeSeq.run(this.seq);
    this.db.exec('COMMIT');
    this.seq = undefined;
  }

  rollback(): void {
    this.seq = undefined;
    this.fieldIndex.invalidate();
    // SQLite rolls back by itself after some errors (SQLITE_FULL, SQLITE_IOERR…).
    if (this.db.inTransaction) this.db.exec('ROLLBACK');
  }

  putRecord(record: RecordWrite): StoredRecord {
    if (this.seq === undefined) throw new Error('WriteSession.putRecord outside BEGIN/COMMIT');
    assertWritableRecord(record);
    return this.putAtomically(record, this.seq + 1);
  }

  /**
   * A savepoint around the several statements of one put (better-sqlite3 nests `transaction()` as
   * SAVEPOINT), so a put that fails half-way leaves nothing behind even when the caller catches the
   * error and goes on with its transaction.
   */
  private readonly putAtomically: (record: RecordWrite, seq: number) => StoredRecord;

  private writeRecord(record: RecordWrite, seq: number): StoredRecord {
    const row = recordToRow(record, seq);
    const existing = this.findId.get(record.resource, record.uuid);
    let id: number;
    if (existing) {
      id = existing.id;
      this.updateRecord.run(
        row.mci, row.created_on, row.modified_on, row.deleted, row.replaced_by,
        row.parent_resource, row.parent_uuid, row.parent_alias, row.body, row.seq, id,
      );
      if (this.fieldIndex.indexes(record.resource)) this.deleteFields.run(id);
      this.deleteReferences.run(id);
    } else {
      id = Number(
        this.insertRecord.run(
          row.resource, row.uuid, row.mci, row.created_on, row.modified_on, row.deleted, row.replaced_by,
          row.parent_resource, row.parent_uuid, row.parent_alias, row.body, row.seq,
        ).lastInsertRowid,
      );
    }
    const fieldRows = this.fieldIndex.rowsFor(id, record.resource, record);
    if (fieldRows.length > 0) this.insertFields.run(fieldRows.flat());
    const referenceRows: unknown[] = [];
    for (const reference of record.references) {
      for (const target of referenceUuids(reference)) referenceRows.push(target, id);
    }
    this.insertReferences.run(referenceRows);
    this.seq = seq;
    return storedForm(record, seq);
  }

  /** Starts indexing fields of a resource (and indexes what is stored); inside BEGIN/COMMIT. */
  indexFields(resource: string, fields: readonly string[]): void {
    if (this.seq === undefined) throw new Error('WriteSession.indexFields outside BEGIN/COMMIT');
    this.fieldIndex.register(resource, fields, (ids) => {
      const bodies = new Map<number, FilterableRecord>();
      for (const row of this.bodiesById.all(JSON.stringify(ids))) bodies.set(row.id, JSON.parse(row.body) as FilterableRecord);
      return bodies;
    });
  }

  addConflict(conflict: NewConflict): ConflictEntry {
    const row = conflictToRow(conflict);
    const id = Number(
      this.insertConflict.run(
        row.resource, row.uuid, row.repository, row.method, row.policy, row.local, row.remote, row.fields, row.created_at,
      ).lastInsertRowid,
    );
    return conflictFromRow(this.conflictById.get(id)!);
  }
}
