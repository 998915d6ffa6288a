/**
 * Importer/exporter benchmark on the SQLite store: a generated S3XML document of N office records
 * (with a component and a reference each) is imported with importS3XMLBytes (two streaming passes,
 * one transaction per page), then exported again with exportResources. Prints records/s and the
 * peak RSS, which must stay under 300 MB for 100k records.
 *
 *   node --import tsx tools/bench/importer.ts [--records 100000] [--page 500] [--dir /tmp]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { exportResources } from '../../src/exporter/exporter.js';
import { importS3XMLBytes } from '../../src/importer/importer.js';
import { serializeS3XMLStream } from '../../src/s3xml/serialize.js';
import { systemClock } from '../../src/s3xml/timestamps.js';
import { openSqliteStore } from '../../src/store/sqlite-store.js';

const { values: args } = parseArgs({
  options: {
    records: { type: 'string', default: '100000' },
    page: { type: 'string', default: '500' },
    dir: { type: 'string', default: tmpdir() },
  },
});
const RECORDS = Number(args.records);
const PAGE = Number(args.page);

function officeXml(i: number): string {
  const id = String(i).padStart(12, '0');
  const modified = new Date(Date.UTC(2024, 0, 1) + i * 1000).toISOString().slice(0, 19);
  return (
    `<resource name="org_office" uuid="urn:uuid:00000000-0000-4000-8000-${id}" mci="1" modified_on="${modified}" created_by="admin@example.org">` +
    `<data field="name">Office ${i} &amp; annex</data><data field="code">C-${i}</data><data field="obsolete" value="false">No</data>` +
    `<reference field="organisation_id" resource="org_organisation" uuid="urn:uuid:org-${i % 50}">Organisation ${i % 50}</reference>` +
    `<resource name="pr_contact" alias="contact"><data field="value">+977-1-${id}</data></resource>` +
    `</resource>`
  );
}

/** The document in chunks of about 64 KiB, generated on the fly (never held whole). */
function* documentChunks(): Generator<string> {
  yield "<?xml version='1.0' encoding='utf-8'?><s3xml>";
  let chunk = '';
  for (let i = 0; i < RECORDS; i += 1) {
    chunk += officeXml(i);
    if (chunk.length > 64 * 1024) {
      yield chunk;
      chunk = '';
    }
  }
  yield `${chunk}</s3xml>`;
}

const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MB`;
/** maxRSS is kept by the kernel: an import runs in microtasks, so a timer-based sampler never fires. */
const peakRssBytes = () => process.resourceUsage().maxRSS * 1024;

const dir = mkdtempSync(path.join(args.dir, 'sluice-bench-importer-'));
const store = await openSqliteStore({ file: path.join(dir, 'store.db') });
try {
  let started = performance.now();
  const result = await importS3XMLBytes(store, documentChunks, { clock: systemClock, pageSize: PAGE, resource: 'org_office' });
  let seconds = (performance.now() - started) / 1000;
  console.log(
    `import: ${RECORDS} masters (+${RECORDS} components) in ${seconds.toFixed(1)} s = ${Math.round(RECORDS / seconds)} masters/s; ` +
      `created ${result.created.length}, errors ${result.errors.length}, peak RSS ${mb(peakRssBytes())}`,
  );

  started = performance.now();
  let bytes = 0;
  for await (const part of serializeS3XMLStream({}, exportResources(store, { resource: 'org_office', domain: 'bench.example.org' }))) {
    bytes += part.length;
  }
  seconds = (performance.now() - started) / 1000;
  console.log(`export: ${RECORDS} masters, ${mb(bytes)} of S3XML in ${seconds.toFixed(1)} s = ${Math.round(RECORDS / seconds)} masters/s; peak RSS ${mb(peakRssBytes())}`);
  const peakRss = peakRssBytes();
  console.log(`peak RSS overall ${mb(peakRss)} (limit 300 MB) ${peakRss < 300 * 1024 * 1024 ? 'OK' : 'EXCEEDED'}`);
} finally {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
}
