/**
 * The SQLite schema, as an ordered list of migrations. A store file records every migration it has
 * applied in `schema_version`; opening it applies the missing ones in order, in one transaction.
 *
 * Never edit a migration that has shipped: append a new one. Versions are 1, 2, 3, … without gaps.
 */
import type Database from 'better-sqlite3';
import { FIELD_INDEX_MIGRATION_SQL } from './field-index.js';
import { SluiceError } from '../../errors.js';
import { CONSOLE_STATE_MIGRATION_SQL } from './console-state.js';
import { DISCOVERY_STATE_MIGRATION_SQL } from './discovery-state.js';
import { SYNC_STATE_MIGRATION_SQL } from './sync-state.js';

export interface Migration {
  version: number;
  name: string;
  up(db: Database.Database): void;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'records, field index, conflicts, users, settings, repositories, sync log',
    up(db) {
      db.exec(`
        -- id is an explicit INTEGER PRIMARY KEY so VACUUM cannot renumber it under record_fields.
        CREATE TABLE records (
          id INTEGER PRIMARY KEY,
          resource TEXT NOT NULL,
          uuid TEXT NOT NULL,
          mci INTEGER NOT NULL,
          created_on TEXT,
          modified_on TEXT NOT NULL,
          deleted INTEGER NOT NULL CHECK (deleted IN (0, 1)),
          replaced_by TEXT,
          parent_resource TEXT,
          parent_uuid TEXT,
          parent_alias TEXT,
          body TEXT NOT NULL,
          seq INTEGER NOT NULL
        );
        CREATE UNIQUE INDEX records_by_resource_uuid ON records (resource, uuid);
        -- uuid closes the index so "ORDER BY modified_on, uuid LIMIT n" needs no sort.
        CREATE INDEX records_by_resource_modified ON records (resource, modified_on, uuid);
        CREATE INDEX records_by_resource_seq ON records (resource, seq);
        CREATE UNIQUE INDEX records_by_seq ON records (seq);
        CREATE INDEX records_by_uuid ON records (uuid);
        -- resource, modified_on, uuid follow so that "components of this master, in order" is one
        -- index range; without them the planner prefers walking the whole resource in order.
        CREATE INDEX records_by_parent ON records (parent_resource, parent_uuid, resource, modified_on, uuid);

        -- One row per distinct filterable value (url-filter-match.ts: filterableValues).
        -- num is numericValue(str), kept so numeric comparisons can use an index.
        CREATE TABLE record_fields (
          record_id INTEGER NOT NULL REFERENCES records (id) ON DELETE CASCADE,
          resource TEXT NOT NULL,
          field TEXT NOT NULL,
          str TEXT NOT NULL,
          num REAL,
          PRIMARY KEY (record_id, field, str)
        ) WITHOUT ROWID;
        CREATE INDEX record_fields_by_text ON record_fields (resource, field, str);
        CREATE INDEX record_fields_by_number ON record_fields (resource, field, num) WHERE num IS NOT NULL;

        -- Which records point at a uuid, for re-pointing references after a merge.
        CREATE TABLE record_references (
          target_uuid TEXT NOT NULL,
          record_id INTEGER NOT NULL REFERENCES records (id) ON DELETE CASCADE,
          PRIMARY KEY (target_uuid, record_id)
        ) WITHOUT ROWID;
        CREATE INDEX record_references_by_record ON record_references (record_id);

        -- Store-wide counters; 'seq' is the change counter behind records.seq.
        CREATE TABLE counters (
          name TEXT PRIMARY KEY,
          value INTEGER NOT NULL
        );
        INSERT INTO counters (name, value) VALUES ('seq', 0);

        CREATE TABLE conflicts (
          id INTEGER PRIMARY KEY AUTOINCREMENT,
          resource TEXT NOT NULL,
          uuid TEXT NOT NULL,
          repository TEXT,
          method TEXT NOT NULL,
          policy TEXT NOT NULL,
          local TEXT,
          remote TEXT NOT NULL,
          fields TEXT NOT NULL,
          created_at TEXT NOT NULL,
          status TEXT NOT NULL CHECK (status IN ('open', 'resolved')),
          resolution TEXT,
          resolved_at TEXT
        );
        CREATE INDEX conflicts_by_status ON conflicts (status, id);
        CREATE INDEX conflicts_by_resource ON conflicts (resource, id);

        CREATE TABLE users (
          username TEXT PRIMARY KEY,
          password_hash TEXT NOT NULL,
          roles TEXT NOT NULL,
          created_at TEXT NOT NULL
        );

        CREATE TABLE settings (
          key TEXT PRIMARY KEY,
          value TEXT NOT NULL
        );

        CREATE TABLE repositories (
          uuid TEXT PRIMARY KEY,
          name TEXT NOT NULL,
          apitype TEXT NOT NULL,
          url TEXT,
          config TEXT NOT NULL,
          created_at TEXT NOT NULL,
          updated_at TEXT NOT NULL
        );

        CREATE TABLE sync_log (
          id INTEGER PRIMARY KEY AUTOINCREMENT,
          timestmp TEXT NOT NULL,
          repository TEXT,
          resource TEXT,
          mode TEXT NOT NULL,
          action TEXT NOT NULL,
          result TEXT NOT NULL,
          remote INTEGER NOT NULL,
          message TEXT NOT NULL,
          run_id TEXT
        );
        CREATE INDEX sync_log_by_repository ON sync_log (repository, id);
        CREATE INDEX sync_log_by_resource ON sync_log (resource, id);
        CREATE INDEX sync_log_by_result ON sync_log (result, id);
        CREATE INDEX sync_log_by_run ON sync_log (run_id, id);
      `);
    },
  },
  {
    version: 2,
    name: 'sync state: tasks, checkpoints, jobs, leases, runs',
    up(db) {
      db.exec(SYNC_STATE_MIGRATION_SQL);
    },
  },
  {
    version: 3,
    name: 'index tombstones per resource',
    up(db) {
      // Tombstones are few: live counts per resource are index counts minus these (resources()).
      db.exec('CREATE INDEX records_deleted_by_resource ON records (resource) WHERE deleted = 1');
    },
  },
  {
    version: 4,
    name: 'discovered gateways and sync pools',
    up(db) {
      db.exec(DISCOVERY_STATE_MIGRATION_SQL);
    },
  },
  {
    version: 5,
    name: 'fewer index writes per record',
    up(db) {
      // Every index is one more B-tree insert per record written; a pull writes thousands a second.
      // (uuid, resource) answers both "this uuid in this table" and "this uuid in any table", so it
      // replaces two indexes; components are few, so their parent index leaves top-level rows out
      // ("parent_uuid = ?" implies the partial index's condition, so the planner still uses it).
      db.exec(`
        DROP INDEX records_by_resource_uuid;
        DROP INDEX records_by_uuid;
        CREATE UNIQUE INDEX records_by_uuid_resource ON records (uuid, resource);
        DROP INDEX records_by_parent;
        CREATE INDEX records_by_parent ON records (parent_resource, parent_uuid, resource, modified_on, uuid)
          WHERE parent_uuid IS NOT NULL;
      `);
    },
  },
  {
    version: 6,
    name: 'index filterable fields on demand',
    up(db) {
      db.exec(FIELD_INDEX_MIGRATION_SQL);
    },
  },
  {
    version: 7,
    name: 'console sessions shared by every gateway process; disabled users',
    up(db) {
      db.exec(CONSOLE_STATE_MIGRATION_SQL);
    },
  },
];

/** The version a store file has when every known migration is applied. */
export const LATEST_SCHEMA_VERSION = MIGRATIONS.length;

/** The highest applied migration (0 for a new file). */
export function currentSchemaVersion(db: Database.Database): number {
  const table = db.prepare(`SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'`).get();
  if (!table) return 0;
  const row = db.prepare('SELECT max(version) AS version FROM schema_version').get() as { version: number | null };
  return row.version ?? 0;
}

/**
 * Brings the file up to the latest schema in one IMMEDIATE transaction, so two processes opening a
 * new file at once cannot both create it. Refuses a file written by a newer Sluice.
 */
export function migrate(db: Database.Database, migrations: readonly Migration[] = MIGRATIONS): number {
  migrations.forEach((migration, index) => {
    if (migration.version !== index + 1) {
      throw new SluiceError('STORE_MIGRATION_ORDER', `Migration "${migration.name}" has version ${migration.version}, expected ${index + 1}`, {
        status: 500,
        fix: 'Number migrations 1, 2, 3, … in the order they are listed',
      });
    }
  });
  const latest = migrations.length;
  db.exec('BEGIN IMMEDIATE');
  try {
    db.exec('CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, name TEXT NOT NULL)');
    const current = currentSchemaVersion(db);
    if (current > latest) {
      throw new SluiceError('STORE_SCHEMA_TOO_NEW', `The store file has schema version ${current}; this Sluice knows up to ${latest}`, {
        status: 500,
        fix: 'Upgrade Sluice, or open a copy of the store made by this version',
      });
    }
    const record = db.prepare('INSERT INTO schema_version (version, name) VALUES (?, ?)');
    for (const migration of migrations.slice(current)) {
      migration.up(db);
      record.run(migration.version, migration.name);
    }
    db.exec('COMMIT');
    return latest;
  } catch (error) {
    if (db.inTransaction) db.exec('ROLLBACK');
    throw error;
  }
}
