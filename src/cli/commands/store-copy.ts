/**
 * `sluice store copy --from sqlite:DIR --to mongodb://…`: moves a deployment from the embedded
 * store to MongoDB (src/store/mongodb/store-copy.ts does the work), with a progress bar over the
 * records and a count of both sides at the end.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import type { Command } from 'commander';
import { SluiceError } from '../../errors.js';
import { copyStoreToMongo } from '../../store/mongodb/store-copy.js';
import type { CopyReport, CopySource } from '../../store/mongodb/store-copy.js';
import { isMongoUrl } from '../../store/mongodb/connection.js';
import { redactUrl } from '../../store/mongodb/store-errors.js';
import { openSqliteStore } from '../../store/sqlite-store.js';
import type { CheckpointRecord } from '../../store/store.js';
import { configFrom } from '../context.js';
import { createProgress } from '../progress.js';

interface StoreCopyOptions {
  from?: string;
  to: string;
  database?: string;
  data?: string;
  json?: boolean;
}

/** The SQLite file behind a `sqlite` / `sqlite:DIR` locator, as start.ts opens it. */
export function sqliteFileOf(locator: string, dataDir: string): string {
  if (locator !== 'sqlite' && !locator.startsWith('sqlite:')) {
    throw new SluiceError('BAD_CONFIG', `store copy reads from a SQLite store, not "${locator}"`, { fix: 'Use --from sqlite:DIR (DIR holds sluice.db)' });
  }
  const dir = locator === 'sqlite' ? dataDir : path.resolve(locator.slice('sqlite:'.length));
  return path.join(dir, 'sluice.db');
}

/**
 * Settings and checkpoints: the Store interface reads them by key only, so a whole copy reads the
 * SQLite tables directly (read-only).
 */
function readUnlistedState(file: string): Pick<CopySource, 'settings' | 'checkpoints'> {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    const hasTable = (name: string): boolean => db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?").get(name) !== undefined;
    const settings = hasTable('settings') ? (db.prepare('SELECT key, value FROM settings ORDER BY key').all() as { key: string; value: string }[]) : [];
    const rows = hasTable('checkpoints')
      ? (db.prepare('SELECT id, task, value, updated_at FROM checkpoints ORDER BY id').all() as { id: string; task: string | null; value: string; updated_at: string }[])
      : [];
    const checkpoints = rows.map((row): CheckpointRecord => ({
      id: row.id,
      ...(row.task === null ? {} : { task: row.task }),
      value: JSON.parse(row.value) as Record<string, unknown>,
      updated_at: row.updated_at,
    }));
    return { settings, checkpoints };
  } finally {
    db.close();
  }
}

export function formatCopyReport(report: CopyReport, from: string, to: string): string {
  const width = Math.max(...report.counts.map((count) => count.what.length), 4);
  const lines = [
    `Copied ${from} to ${to} (database "${report.database}")`,
    `  ${'what'.padEnd(width)}  ${'source'.padStart(9)}  ${'target'.padStart(9)}`,
    ...report.counts.map(
      (count) => `  ${count.what.padEnd(width)}  ${String(count.source).padStart(9)}  ${String(count.target).padStart(9)}${count.source === count.target ? '' : '  MISMATCH'}`,
    ),
  ];
  const seconds = report.elapsedMs / 1000;
  const rate = seconds > 0 ? Math.round(report.records / seconds) : report.records;
  lines.push(`${report.records} records in ${seconds.toFixed(1)} s (${rate} records/s); ${report.verified ? 'every count matches' : 'COUNTS DIFFER'}.`);
  return `${lines.join('\n')}\n`;
}

export interface StoreCommandOutput {
  stdout?: (text: string) => void;
}

export function registerStoreCommand(program: Command, output: StoreCommandOutput = {}): void {
  const print = output.stdout ?? ((text: string) => void process.stdout.write(text));
  const store = program.command('store').description('manage the store itself');
  store
    .command('copy')
    .description('copy a whole SQLite store into an empty MongoDB database and verify the counts')
    .requiredOption('--to <url>', 'the MongoDB connection string (a replica set), e.g. mongodb://db1,db2/sluice?replicaSet=rs0')
    .option('--from <locator>', 'sqlite (the data directory) or sqlite:DIR', 'sqlite')
    .option('--database <name>', 'target database (default: from the URL, else sluice)')
    .option('--data <dir>', 'data directory for --from sqlite')
    .option('--json', 'print the report as JSON')
    .action(async (options: StoreCopyOptions) => {
      if (!isMongoUrl(options.to)) {
        throw new SluiceError('BAD_CONFIG', `--to "${redactUrl(options.to)}" is not a MongoDB connection string`, { fix: 'Write --to mongodb://host:27017/sluice?replicaSet=rs0' });
      }
      const config = configFrom({ ...(options.data !== undefined ? { data: options.data } : {}) });
      const from = options.from ?? 'sqlite';
      const file = sqliteFileOf(from, config.dataDir);
      if (!existsSync(file)) {
        throw new SluiceError('STORE_COPY_SOURCE_MISSING', `There is no SQLite store at ${file}`, { status: 404, fix: 'Point --from sqlite:DIR at the directory holding sluice.db' });
      }
      const source = await openSqliteStore({ file });
      let report: CopyReport;
      try {
        report = await copyStoreToMongo(
          { store: source, ...readUnlistedState(file) },
          { url: options.to, ...(options.database !== undefined ? { database: options.database } : {}) },
          { progress: createProgress() },
        );
      } finally {
        await source.close();
      }
      print(options.json ? `${JSON.stringify(report, null, 2)}\n` : formatCopyReport(report, `sqlite:${path.dirname(file)}`, redactUrl(options.to)));
      if (!report.verified) {
        throw new SluiceError('STORE_COPY_MISMATCH', 'The copy finished but the counts of source and target differ', {
          status: 500,
          fix: 'Drop the target database and copy again with no gateway writing to the source meanwhile',
        });
      }
    });
}
