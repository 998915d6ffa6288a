/**
 * Throughput of the S3XML codec: parse and serialize 100k generated resources, print MB/s and
 * resources/s. Run: node --import tsx tools/bench/codec.ts [resourceCount]
 */
import type { S3Resource } from '../../src/s3xml/model.js';
import { readS3XML } from '../../src/s3xml/parse.js';
import { fromS3JSON, toS3JSON } from '../../src/s3xml/s3json.js';
import { serializeS3XML } from '../../src/s3xml/serialize.js';

const count = Number(process.argv[2] ?? 100_000);
const CHUNK = 64 * 1024;

function office(index: number): S3Resource {
  return {
    name: 'org_office',
    uuid: `urn:uuid:00000000-0000-4000-8000-${String(index).padStart(12, '0')}`,
    mci: 1,
    created_on: '2024-03-01T09:12:44',
    modified_on: '2024-03-05T16:40:02',
    attributes: { created_by: 'admin@example.org', modified_by: 'ops@example.org', url: `https://eden.example.org/eden/org/office/${index}` },
    data: [
      { field: 'name', text: `Field Office ${index} — पोखरा शाखा` },
      { field: 'code', text: `PKR-${index}` },
      { field: 'comments', text: 'Serves three districts & the valley; <b>markup</b> is escaped.' },
      { field: 'obsolete', value: 'false', text: 'No' },
      { field: 'phone1', text: '+977 61 123456' },
    ],
    references: [
      { field: 'organisation_id', resource: 'org_organisation', uuid: 'urn:uuid:aa11', text: 'Himal Relief' },
      { field: 'office_type_id', resource: 'org_office_type', uuid: 'urn:uuid:bb22', text: 'Field Office' },
      { field: 'location_id', resource: 'gis_location', uuid: `urn:uuid:loc-${index}`, attributes: { lat: '28.2096', lon: '83.9856' }, text: 'Pokhara' },
    ],
    components: index % 4 === 0
      ? [{ name: 'org_office_branch', alias: 'branch', uuid: `urn:uuid:branch-${index}`, attributes: {}, data: [{ field: 'name', text: 'Branch' }], references: [], components: [] }]
      : [],
  };
}

function report(label: string, bytes: number, resources: number, milliseconds: number): void {
  const seconds = milliseconds / 1000;
  console.log(`${label.padEnd(22)} ${(bytes / 1e6 / seconds).toFixed(1).padStart(7)} MB/s  ${Math.round(resources / seconds).toString().padStart(8)} resources/s  (${milliseconds.toFixed(0)} ms)`);
}

async function main(): Promise<void> {
  const doc = { attributes: { success: 'true', results: String(count) }, resources: Array.from({ length: count }, (_, i) => office(i)) };

  let started = performance.now();
  const xml = serializeS3XML(doc);
  const serializeMs = performance.now() - started;
  const bytes = Buffer.from(xml);
  console.log(`${count} resources, ${(bytes.length / 1e6).toFixed(1)} MB of S3XML`);
  report('serialize', bytes.length, count, serializeMs);

  const chunks: Uint8Array[] = [];
  for (let offset = 0; offset < bytes.length; offset += CHUNK) chunks.push(bytes.subarray(offset, offset + CHUNK));
  started = performance.now();
  let parsed = 0;
  for await (const event of readS3XML(chunks)) if (event.type === 'resource') parsed += 1;
  if (parsed !== count) throw new Error(`parsed ${parsed} of ${count}`);
  report('parse (64 KiB chunks)', bytes.length, count, performance.now() - started);

  started = performance.now();
  const json = JSON.stringify(toS3JSON(doc));
  report('to S3JSON + stringify', json.length, count, performance.now() - started);
  started = performance.now();
  fromS3JSON(JSON.parse(json));
  report('JSON.parse + from S3JSON', json.length, count, performance.now() - started);
}

await main();
