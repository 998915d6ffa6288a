/**
 * The two connections behind a SQLite store: one writer (WAL, every write and every transaction)
 * and one read-only reader for reads outside a transaction. In WAL mode the reader sees the last
 * commit and never the writer's open transaction.
 */
import Database from 'better-sqlite3';
import { SluiceError } from '../../errors.js';
import { likeMatches } from '../url-filter-match.js';
import { migrate } from './migrations.js';
import { LIKE_FUNCTION } from './record-query.js';

export interface SqliteConnections {
  writer: Database.Database;
  reader: Database.Database;
  schemaVersion: number;
}

/** Page cache per connection (negative = KiB); keeps a 100k-record import far below 300 MB RSS. */
const CACHE_KIB = 32 * 1024;

function registerFunctions(db: Database.Database): void {
  db.function(LIKE_FUNCTION, { deterministic: true }, (value: unknown, pattern: unknown) =>
    typeof value === 'string' && typeof pattern === 'string' && likeMatches(value, pattern) ? 1 : 0,
  );
}

export function openConnections(file: string, busyTimeoutMs: number): SqliteConnections {
  if (file === '' || file === ':memory:' || file.startsWith('file::memory:')) {
    throw new SluiceError('STORE_OPEN_FAILED', 'The SQLite store needs a file; an in-memory database cannot be shared by its two connections', {
      status: 500,
      fix: 'Give a file path, for example data/sluice.db (tests use a file under os.tmpdir())',
    });
  }
  let writer: Database.Database | undefined;
  let reader: Database.Database | undefined;
  try {
    writer = new Database(file, { timeout: busyTimeoutMs });
    writer.pragma('journal_mode = WAL');
    writer.pragma('synchronous = NORMAL');
    writer.pragma('foreign_keys = ON');
    writer.pragma(`cache_size = -${CACHE_KIB}`);
    writer.pragma('temp_store = MEMORY');
    registerFunctions(writer);
    const schemaVersion = migrate(writer);
    reader = new Database(file, { readonly: true, fileMustExist: true, timeout: busyTimeoutMs });
    reader.pragma(`cache_size = -${CACHE_KIB}`);
    registerFunctions(reader);
    return { writer, reader, schemaVersion };
  } catch (error) {
    reader?.close();
    writer?.close();
    if (error instanceof SluiceError) throw error;
    const message = error instanceof Error ? error.message : String(error);
    throw new SluiceError('STORE_OPEN_FAILED', `Cannot open the SQLite store at ${file}: ${message}`, {
      status: 500,
      fix: 'Check that the folder exists and is writable and that the file is a Sluice store',
      cause: error,
      details: { file },
    });
  }
}
