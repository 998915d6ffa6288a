/**
 * MongoDB store next to the SQLite store on the same data: `sluice store copy` throughput (demo
 * data plus generated records), putRecord throughput in import-page transactions, and the
 * incremental-pull queries (msince / afterSeq pages of 100) on both.
 *
 *   node --import tsx tools/mongodb-test-server/bench-store.ts [--records 100000] [--batch 500]
 *
 * MongoDB is the test server (SLUICE_TEST_MONGODB_URL, else DocumentDB from setup.sh), so the
 * MongoDB numbers are DocumentDB-behind-the-wire-adapter numbers, not mongod's.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { MongoClient } from 'mongodb';
import { seedDemo } from '../../src/demo/seed.js';
import { openMongoStore } from '../../src/store/mongodb-store.js';
import { copyStoreToMongo } from '../../src/store/mongodb/store-copy.js';
import { openSqliteStore } from '../../src/store/sqlite-store.js';
import type { RecordQuery, RecordWrite, Store } from '../../src/store/store.js';
import { startTestMongo } from './server.js';

const { values: args } = parseArgs({
  options: {
    records: { type: 'string', default: '100000' },
    batch: { type: 'string', default: '500' },
  },
});
const RECORDS = Number(args.records);
const BATCH = Number(args.batch);
const BASE_TIME = Date.parse('2024-01-01T00:00:00Z');
const STATUSES = ['Actual', 'Exercise', 'System', 'Test', 'Draft'];

/** About 700 bytes of office-like record, ten per second of modified_on. */
function officeRecord(i: number): RecordWrite {
  const modified = new Date(BASE_TIME + Math.floor(i / 10) * 1000).toISOString().slice(0, 19);
  const status = STATUSES[i % STATUSES.length]!;
  return {
    resource: 'org_office',
    uuid: `urn:uuid:00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
    mci: 0,
    created_on: modified,
    modified_on: modified,
    deleted: false,
    attributes: { created_by: 'admin@example.org', modified_by: 'admin@example.org' },
    data: [
      { field: 'name', text: `Office ${i}` },
      { field: 'code', text: `OF-${i % 50_000}` },
      { field: 'status', value: JSON.stringify(status), text: status },
      { field: 'beds', value: String(i % 200), text: String(i % 200) },
      { field: 'comments', text: `Field office number ${i}, opened during the monsoon response.` },
    ],
    references: [{ field: 'organisation_id', resource: 'org_organisation', uuid: `urn:uuid:org-${i % 100}`, text: `Organisation ${i % 100}` }],
  };
}

async function fill(store: Store, from: number, to: number): Promise<number> {
  const started = performance.now();
  for (let start = from; start < to; start += BATCH) {
    const end = Math.min(start + BATCH, to);
    await store.transaction(async (tx) => {
      for (let i = start; i < end; i++) await tx.putRecord(officeRecord(i));
    });
  }
  return ((to - from) / (performance.now() - started)) * 1000;
}

async function medianMs(store: Store, query: RecordQuery, runs = 21): Promise<number> {
  const times: number[] = [];
  for (let run = 0; run < runs; run++) {
    const started = performance.now();
    await store.queryRecords(query);
    times.push(performance.now() - started);
  }
  return times.sort((a, b) => a - b)[Math.floor(runs / 2)]!;
}

async function incrementalQueries(store: Store): Promise<[string, number][]> {
  const recentSecond = new Date(BASE_TIME + Math.floor((RECORDS - 250) / 10) * 1000).toISOString().slice(0, 19);
  const lastSeq = await store.lastSeq();
  const queries: [string, RecordQuery][] = [
    ['msince, limit 100', { resource: 'org_office', msince: recentSecond, limit: 100 }],
    ['afterSeq, limit 100 (seq order)', { resource: 'org_office', afterSeq: lastSeq - 250, orderBy: 'seq', limit: 100 }],
    ['msince + filter status=Actual, limit 100', { resource: 'org_office', msince: recentSecond, limit: 100, filters: [{ field: 'status', op: 'eq', values: ['Actual'], negate: false }] }],
    ['filter code=OF-123, limit 100', { resource: 'org_office', limit: 100, filters: [{ field: 'code', op: 'eq', values: ['OF-123'], negate: false }] }],
  ];
  const results: [string, number][] = [];
  for (const [label, query] of queries) results.push([label, await medianMs(store, query)]);
  return results;
}

async function main(): Promise<void> {
  const mongo = await startTestMongo();
  const folder = mkdtempSync(path.join(tmpdir(), 'sluice-mongo-bench-'));
  const database = `sluice_bench_${process.pid}`;
  const admin = new MongoClient(mongo.url);
  try {
    const sqlite = await openSqliteStore({ file: path.join(folder, 'sluice.db') });
    const demo = await seedDemo(sqlite, { now: () => new Date('2024-03-05T10:00:00Z') });
    const sqliteRate = await fill(sqlite, 0, RECORDS);
    console.log(`Source: SQLite with the demo data (${demo} records) and ${RECORDS.toLocaleString('en')} generated records`);

    const report = await copyStoreToMongo({ store: sqlite, settings: [], checkpoints: [] }, { url: mongo.url, database });
    const seconds = report.elapsedMs / 1000;
    console.log(`sluice store copy: ${report.records.toLocaleString('en')} records in ${seconds.toFixed(1)} s = ${Math.round(report.records / seconds)} records/s; counts ${report.verified ? 'match' : 'DIFFER'}`);

    const copied = await openMongoStore({ url: mongo.url, database });
    const mongoQueries = await incrementalQueries(copied);
    const sqliteQueries = await incrementalQueries(sqlite);
    console.log(`${'incremental pull query'.padEnd(44)} ${'SQLite'.padStart(10)} ${'MongoDB'.padStart(10)}`);
    mongoQueries.forEach(([label, ms], index) => console.log(`  ${label.padEnd(42)} ${sqliteQueries[index]![1].toFixed(2).padStart(7)} ms ${ms.toFixed(2).padStart(7)} ms`));
    await copied.close();
    await sqlite.close();

    const fresh = await openMongoStore({ url: mongo.url, database: `${database}_fill` });
    const pages = Math.min(RECORDS, 20_000);
    const mongoRate = await fill(fresh, 0, pages);
    await fresh.close();
    console.log(`putRecord in transactions of ${BATCH}: SQLite ${sqliteRate.toFixed(0)} records/s, MongoDB ${mongoRate.toFixed(0)} records/s (${pages.toLocaleString('en')} records)`);
  } finally {
    await admin.connect();
    for (const name of [database, `${database}_fill`]) await admin.db(name).dropDatabase().catch(() => undefined);
    await admin.close();
    await mongo.stop();
    rmSync(folder, { recursive: true, force: true });
  }
}

await main();
