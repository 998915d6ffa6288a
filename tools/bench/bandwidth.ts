/**
 * Bytes per record on the wire: what a pull page carries as S3XML and as S3JSON, plain, gzip (level
 * 6) and brotli (quality 5, what Sluice sends; quality 11 for reference on the demo data), for the demo data and for
 * generated records. Records go through the real path (SQLite store → exporter → serializer) and are
 * measured per sync page (500 records; each page compressed on its own, as on the wire) and as one
 * document (a bundle part).
 *
 * Run: node --import tsx tools/bench/bandwidth.ts [generatedCount=10000] [pageSize=500]
 * (pageSize as a repository's `page_size`: smaller pages compress a little worse.)
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';
import { demoResources, seedDemo } from '../../src/demo/seed.js';
import { exportResources } from '../../src/exporter/exporter.js';
import { importResources } from '../../src/importer/importer.js';
import type { S3Resource } from '../../src/s3xml/model.js';
import { stringifyS3JSON } from '../../src/s3xml/s3json.js';
import { serializeS3XML } from '../../src/s3xml/serialize.js';
import { systemClock } from '../../src/s3xml/timestamps.js';
import { openSqliteStore } from '../../src/store/sqlite-store.js';
import type { Store } from '../../src/store/store.js';
import { compress } from '../../src/transports/compression.js';

const generatedCount = Number(process.argv[2] ?? 10_000);
const PAGE = Number(process.argv[3] ?? 500);
if (!Number.isInteger(generatedCount) || generatedCount < 1 || !Number.isInteger(PAGE) || PAGE < 1) throw new Error('usage: bandwidth.ts [generatedCount] [pageSize]');
const DOMAIN = 'bench.example.org';

/** Deterministic, varied enough that compression is not flattered by identical records. */
function prng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state * 1664525 + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

const TOWNS = ['Pokhara', 'Bharatpur', 'Biratnagar', 'Butwal', 'Dharan', 'Hetauda', 'Janakpur', 'Nepalgunj', 'Dhangadhi', 'Birgunj', 'Itahari', 'Tulsipur'];
const KINDS = ['Field Office', 'Warehouse', 'Health Post', 'Distribution Point', 'Regional Office'];
const WORDS = ['water', 'shelter', 'road', 'access', 'blocked', 'supplies', 'tents', 'clinic', 'open', 'closed', 'damaged', 'staff', 'fuel', 'generator', 'repaired', 'flooding'];

function generated(count: number): S3Resource[] {
  const rnd = prng(42);
  const pick = <T>(list: readonly T[]) => list[Math.floor(rnd() * list.length)]!;
  const stamp = (i: number) => new Date(Date.UTC(2024, 2, 1) + i * 37_000 + Math.floor(rnd() * 30_000)).toISOString().slice(0, 19);
  const organisations = Array.from({ length: 40 }, (_, i): S3Resource => ({
    name: 'org_organisation',
    uuid: `urn:uuid:${(0x10000000 + i).toString(16)}-4b1e-4c0a-9d2f-${String(i).padStart(12, '0')}`,
    created_on: stamp(i),
    modified_on: stamp(i),
    attributes: {},
    data: [{ field: 'name', text: `${pick(TOWNS)} ${pick(['Relief', 'Red Cross', 'Aid', 'Health'])} ${i}` }, { field: 'acronym', text: `ORG${i}` }],
    references: [],
    components: [],
  }));
  const offices = Array.from({ length: count }, (_, i): S3Resource => {
    const town = pick(TOWNS);
    const organisation = pick(organisations);
    const modified = stamp(i + 100);
    return {
      name: 'org_office',
      uuid: `urn:uuid:${Math.floor(rnd() * 2 ** 32).toString(16).padStart(8, '0')}-${Math.floor(rnd() * 65536).toString(16).padStart(4, '0')}-4${Math.floor(rnd() * 4096).toString(16).padStart(3, '0')}-a${Math.floor(rnd() * 4096).toString(16).padStart(3, '0')}-${String(i).padStart(12, '0')}`,
      created_on: stamp(i),
      modified_on: modified,
      attributes: {},
      data: [
        { field: 'name', text: `${town} ${pick(KINDS)} ${i}` },
        { field: 'code', text: `${town.slice(0, 3).toUpperCase()}-${1000 + Math.floor(rnd() * 9000)}` },
        { field: 'phone1', text: `+977 ${10 + Math.floor(rnd() * 89)} ${100000 + Math.floor(rnd() * 899999)}` },
        { field: 'comments', text: Array.from({ length: 4 + Math.floor(rnd() * 10) }, () => pick(WORDS)).join(' ') },
        { field: 'obsolete', value: 'false', text: 'False' },
      ],
      references: [
        { field: 'organisation_id', resource: 'org_organisation', uuid: organisation.uuid!, attributes: {}, text: organisation.data[0]!.text },
      ],
      components: [],
    };
  });
  return [...organisations, ...offices];
}

/** Every top-level table as the exporter sends it (components travel nested in their masters). */
async function exportTables(store: Store, tables: Iterable<string>): Promise<Map<string, S3Resource[]>> {
  const components = new Set(await store.componentResources());
  const exported = new Map<string, S3Resource[]>();
  for (const resource of new Set(tables)) {
    if (components.has(resource)) continue;
    const list: S3Resource[] = [];
    for await (const item of exportResources(store, { resource, includeDeleted: true, domain: DOMAIN })) list.push(item);
    exported.set(resource, list);
  }
  return exported;
}

interface Row {
  label: string;
  bytes: number;
  ms: number;
}

function measure(records: S3Resource[], shape: 'pages' | 'document'): { count: number; rows: Row[] } {
  const groups: S3Resource[][] = shape === 'document' ? [records] : [];
  if (shape === 'pages') for (let at = 0; at < records.length; at += PAGE) groups.push(records.slice(at, at + PAGE));
  const rows = new Map<string, Row>();
  const add = (label: string, bytes: number, ms: number) => {
    const row = rows.get(label) ?? { label, bytes: 0, ms: 0 };
    row.bytes += bytes;
    row.ms += ms;
    rows.set(label, row);
  };
  for (const group of groups) {
    const doc = { attributes: {}, resources: group };
    for (const [format, text] of [['S3XML', serializeS3XML(doc)], ['S3JSON', stringifyS3JSON(doc)]] as const) {
      const bytes = Buffer.from(text, 'utf8');
      add(`${format}`, bytes.length, 0);
      let started = performance.now();
      const gz = gzipSync(bytes, { level: 6 });
      add(`${format} + gzip`, gz.length, performance.now() - started);
      started = performance.now();
      const br = compress(bytes, 'br');
      add(`${format} + br (q5, wire)`, br.length, performance.now() - started);
      // Quality 11 takes minutes on 10k records (two orders slower than q5): measured on the small set only.
      if (records.length > 2000) continue;
      started = performance.now();
      const br11 = brotliCompressSync(bytes, { params: { [constants.BROTLI_PARAM_QUALITY]: 11, [constants.BROTLI_PARAM_MODE]: constants.BROTLI_MODE_TEXT } });
      add(`${format} + br (q11)`, br11.length, performance.now() - started);
    }
  }
  return { count: records.length, rows: [...rows.values()] };
}

function print(title: string, result: { count: number; rows: Row[] }): void {
  console.log(`\n${title}: ${result.count} records`);
  const plain = result.rows[0]!.bytes;
  console.log(`  ${'encoding'.padEnd(22)} ${'bytes'.padStart(11)} ${'bytes/record'.padStart(13)} ${'vs S3XML'.padStart(9)} ${'compress ms'.padStart(12)}`);
  for (const row of result.rows) {
    console.log(
      `  ${row.label.padEnd(22)} ${String(row.bytes).padStart(11)} ${(row.bytes / result.count).toFixed(1).padStart(13)} ${`${((row.bytes / plain) * 100).toFixed(1)}%`.padStart(9)} ${row.ms ? row.ms.toFixed(0).padStart(12) : ''.padStart(12)}`,
    );
  }
}

async function main(): Promise<void> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'sluice-bandwidth-'));
  try {
    const demoStore = await openSqliteStore({ file: path.join(dir, 'demo.db') });
    await seedDemo(demoStore, systemClock);
    const demo = [...(await exportTables(demoStore, demoResources(systemClock).map((resource) => resource.name))).values()].flat();
    await demoStore.close();

    const genStore = await openSqliteStore({ file: path.join(dir, 'generated.db') });
    const records = generated(generatedCount);
    const result = await importResources(genStore, records, { updatePolicy: 'OTHER', clock: systemClock, pageSize: 2000 });
    if (result.errors.length) throw new Error(`generated records failed to import: ${JSON.stringify(result.errors.slice(0, 3))}`);
    const offices = (await exportTables(genStore, ['org_office'])).get('org_office') ?? [];
    await genStore.close();

    console.log(`Bytes per record on the wire (Node ${process.version}); pages of ${PAGE} are compressed one by one, as a pull or push sends them.`);
    print('Demo data, as sync pages', measure(demo, 'pages'));
    print('Demo data, one document (a bundle part)', measure(demo, 'document'));
    print(`Generated org_office (${generatedCount} offices + the organisations they reference), as sync pages`, measure(offices, 'pages'));
    print(`Generated org_office, one document (a bundle part)`, measure(offices, 'document'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
