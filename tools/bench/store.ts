/**
 * Store benchmark: write throughput, memory and incremental-query latency of the SQLite store.
 *
 *   node --import tsx tools/bench/store.ts [--records 100000] [--big 1000000] [--batch 500] [--dir /tmp]
 *
 * Writes `--records` office-like records with putRecord inside transactions of `--batch`, printing
 * records/s and peak RSS, then times incremental queries (msince and afterSeq, limit 100); then grows
 * the same store to `--big` records (0 skips) and times the queries again.
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { openSqliteStore } from '../../src/store/sqlite-store.js';
import type { RecordQuery, RecordWrite, Store } from '../../src/store/store.js';

const { values: args } = parseArgs({
  options: {
    records: { type: 'string', default: '100000' },
    big: { type: 'string', default: '1000000' },
    batch: { type: 'string', default: '500' },
    dir: { type: 'string', default: tmpdir() },
  },
});
const RECORDS = Number(args.records);
const BIG = Number(args.big);
const BATCH = Number(args.batch);

const STATUSES = ['Actual', 'Exercise', 'System', 'Test', 'Draft'];
const BASE_TIME = Date.parse('2024-01-01T00:00:00Z');

/** Record i of the synthetic data set: about 700 bytes of S3XML-shaped content, ten per second. */
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
      { field: 'obsolete', value: i % 17 === 0 ? 'true' : 'false', text: i % 17 === 0 ? 'Yes' : 'No' },
      { field: 'phone1', text: `+977 61 ${String(i).padStart(6, '0')}` },
      { field: 'email', text: `office${i}@example.org` },
      { field: 'comments', text: `Field office number ${i}, opened during the monsoon response.` },
    ],
    references: [
      { field: 'organisation_id', resource: 'org_organisation', uuid: `urn:uuid:org-${i % 100}`, text: `Organisation ${i % 100}` },
      { field: 'location_id', resource: 'gis_location', uuid: `urn:uuid:loc-${i % 5000}`, text: `Location ${i % 5000}`, attributes: { lat: '28.2096', lon: '83.9856' } },
    ],
  };
}

let peakRssBytes = 0;
function sampleRss(): void {
  peakRssBytes = Math.max(peakRssBytes, process.memoryUsage.rss());
}
const megabytes = (bytes: number): string => `${(bytes / 1024 / 1024).toFixed(0)} MB`;

async function fill(store: Store, from: number, to: number): Promise<number> {
  const started = performance.now();
  for (let start = from; start < to; start += BATCH) {
    const end = Math.min(start + BATCH, to);
    await store.transaction(async (tx) => {
      for (let i = start; i < end; i++) await tx.putRecord(officeRecord(i));
    });
    sampleRss();
    if ((start - from) % 100_000 === 0 && start > from) process.stderr.write(`  ${start.toLocaleString('en')} records\r`);
  }
  return ((to - from) / (performance.now() - started)) * 1000;
}

/** Median time of `runs` executions of the query, in milliseconds. */
async function timeQuery(store: Store, query: RecordQuery, runs = 21): Promise<{ ms: number; rows: number }> {
  const times: number[] = [];
  let rows = 0;
  for (let run = 0; run < runs; run++) {
    const started = performance.now();
    rows = (await store.queryRecords(query)).length;
    times.push(performance.now() - started);
  }
  times.sort((a, b) => a - b);
  return { ms: times[Math.floor(times.length / 2)]!, rows };
}

async function reportQueries(store: Store, total: number): Promise<void> {
  const recentSecond = new Date(BASE_TIME + Math.floor((total - 250) / 10) * 1000).toISOString().slice(0, 19);
  const lastSeq = await store.lastSeq();
  const queries: [string, RecordQuery][] = [
    ['msince, limit 100', { resource: 'org_office', msince: recentSecond, limit: 100 }],
    ['afterSeq, limit 100 (seq order)', { resource: 'org_office', afterSeq: lastSeq - 250, orderBy: 'seq', limit: 100 }],
    ['msince + filter status=Actual, limit 100', { resource: 'org_office', msince: recentSecond, limit: 100, filters: [{ field: 'status', op: 'eq', values: ['Actual'], negate: false }] }],
    ['filter code=OF-123 (no msince), limit 100', { resource: 'org_office', limit: 100, filters: [{ field: 'code', op: 'eq', values: ['OF-123'], negate: false }] }],
  ];
  for (const [label, query] of queries) {
    const { ms, rows } = await timeQuery(store, query, label.includes('no msince') ? 5 : 21);
    console.log(`  ${label.padEnd(44)} ${ms.toFixed(2).padStart(9)} ms  (${rows} rows)`);
  }
  const started = performance.now();
  const counts = await store.resources();
  console.log(`  ${'resources() counts'.padEnd(44)} ${(performance.now() - started).toFixed(2).padStart(9)} ms  (${counts.length} resources)`);
}

async function main(): Promise<void> {
  const folder = mkdtempSync(path.join(args.dir, 'sluice-store-bench-'));
  const file = path.join(folder, 'bench.db');
  const store = await openSqliteStore({ file });
  try {
    console.log(`SQLite store benchmark: ${RECORDS.toLocaleString('en')} records in transactions of ${BATCH}`);
    const rate = await fill(store, 0, RECORDS);
    console.log(`  putRecord throughput                         ${rate.toFixed(0).padStart(9)} records/s`);
    console.log(`  peak RSS (sampled / process max)             ${megabytes(peakRssBytes).padStart(9)} / ${megabytes(process.resourceUsage().maxRSS * 1024)}`);
    console.log(`  file size                                    ${megabytes(statSync(file).size + statSync(`${file}-wal`).size).padStart(9)}`);
    await reportQueries(store, RECORDS);

    if (BIG > RECORDS) {
      console.log(`Growing to ${BIG.toLocaleString('en')} records`);
      const bigRate = await fill(store, RECORDS, BIG);
      console.log(`  putRecord throughput                         ${bigRate.toFixed(0).padStart(9)} records/s`);
      console.log(`  peak RSS (sampled / process max)             ${megabytes(peakRssBytes).padStart(9)} / ${megabytes(process.resourceUsage().maxRSS * 1024)}`);
      console.log(`  file size                                    ${megabytes(statSync(file).size + statSync(`${file}-wal`).size).padStart(9)}`);
      await reportQueries(store, BIG);
    }
  } finally {
    await store.close();
    rmSync(folder, { recursive: true, force: true });
  }
}

await main();
