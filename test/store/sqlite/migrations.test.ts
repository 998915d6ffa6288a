import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { currentSchemaVersion, LATEST_SCHEMA_VERSION, migrate, MIGRATIONS } from '../../../src/store/sqlite/migrations.js';
import type { Migration } from '../../../src/store/sqlite/migrations.js';

const tables = (db: Database.Database): string[] =>
  db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").pluck().all() as string[];

describe('sqlite migrations', () => {
  it('are numbered 1, 2, 3, … in list order', () => {
    assert.deepEqual(MIGRATIONS.map((migration) => migration.version), MIGRATIONS.map((_, index) => index + 1));
    assert.equal(LATEST_SCHEMA_VERSION, MIGRATIONS.length);
  });

  it('bring a new database to the latest version and are a no-op the second time', () => {
    const db = new Database(':memory:');
    assert.equal(migrate(db), LATEST_SCHEMA_VERSION);
    const before = tables(db);
    for (const table of ['records', 'record_fields', 'record_references', 'counters', 'conflicts', 'users', 'settings', 'repositories', 'sync_log', 'schema_version']) {
      assert.ok(before.includes(table), table);
    }
    assert.equal(migrate(db), LATEST_SCHEMA_VERSION);
    assert.deepEqual(tables(db), before);
    assert.equal(currentSchemaVersion(db), LATEST_SCHEMA_VERSION);
    db.close();
  });

  it('apply only the migrations a file has not seen yet, in order', () => {
    const db = new Database(':memory:');
    migrate(db);
    const applied: number[] = [];
    const extra = (version: number): Migration => ({
      version,
      name: `extra ${version}`,
      up(target) {
        applied.push(version);
        target.exec(`CREATE TABLE extra_${version} (x INTEGER)`);
      },
    });
    const extended = [...MIGRATIONS, extra(LATEST_SCHEMA_VERSION + 1), extra(LATEST_SCHEMA_VERSION + 2)];
    assert.equal(migrate(db, extended), LATEST_SCHEMA_VERSION + 2);
    assert.equal(migrate(db, extended), LATEST_SCHEMA_VERSION + 2);
    assert.deepEqual(applied, [LATEST_SCHEMA_VERSION + 1, LATEST_SCHEMA_VERSION + 2]);
    db.close();
  });

  it('roll back every step of a run when one migration fails', () => {
    const db = new Database(':memory:');
    const failing: Migration[] = [
      ...MIGRATIONS,
      { version: LATEST_SCHEMA_VERSION + 1, name: 'creates', up: (target) => target.exec('CREATE TABLE half_done (x INTEGER)') },
      { version: LATEST_SCHEMA_VERSION + 2, name: 'breaks', up: (target) => target.exec('THIS IS NOT SQL') },
    ];
    assert.throws(() => migrate(db, failing));
    assert.equal(currentSchemaVersion(db), 0);
    assert.deepEqual(tables(db), []);
    db.close();
  });

  it('refuse a list with gaps or out of order', () => {
    const db = new Database(':memory:');
    const gap: Migration[] = [{ version: 2, name: 'two', up: () => undefined }];
    assert.throws(() => migrate(db, gap), { code: 'STORE_MIGRATION_ORDER' });
    db.close();
  });
});
