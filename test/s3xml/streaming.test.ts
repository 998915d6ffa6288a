import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { S3Resource } from '../../src/s3xml/model.js';
import { readS3XML } from '../../src/s3xml/parse.js';
import { serializeResource, XML_DECLARATION } from '../../src/s3xml/serialize.js';

setFlagsFromString('--expose-gc');
const collectGarbage = runInNewContext('gc') as () => void;

const RESOURCES = 20_000;
const CHUNK = 64 * 1024;
const MIB = 1024 * 1024;

function office(index: number): S3Resource {
  return {
    name: 'org_office',
    uuid: `urn:uuid:00000000-0000-4000-8000-${String(index).padStart(12, '0')}`,
    mci: 1,
    created_on: '2024-03-01T09:12:44',
    modified_on: '2024-03-05T16:40:02',
    attributes: { created_by: 'admin@example.org', url: `https://eden.example.org/eden/org/office/${index}` },
    data: [
      { field: 'name', text: `Field Office ${index} — पोखरा शाखा 🚑` },
      { field: 'comments', text: 'Opened after the 2015 earthquake; serves three districts & the valley. '.repeat(3) },
      { field: 'obsolete', value: 'false', text: 'No' },
      { field: 'phone1', text: '+977 61 123456' },
    ],
    references: [
      { field: 'organisation_id', resource: 'org_organisation', uuid: 'urn:uuid:aa11', text: 'Himal Relief' },
      { field: 'location_id', resource: 'gis_location', uuid: `urn:uuid:loc-${index}`, attributes: { lat: '28.2096', lon: '83.9856' }, text: 'Pokhara' },
    ],
    components: [{ name: 'org_office_branch', alias: 'branch', uuid: `urn:uuid:branch-${index}`, attributes: {}, data: [{ field: 'name', text: 'Branch' }], references: [], components: [] }],
  };
}

/** The document as 64 KiB byte chunks, generated lazily so the test never holds all of it. */
function* generatedDocument(stats: { bytes: number }): Generator<Uint8Array> {
  const encoder = new TextEncoder();
  let pending: Uint8Array[] = [];
  let pendingLength = 0;
  function* emit(text: string): Generator<Uint8Array> {
    const bytes = encoder.encode(text);
    pending.push(bytes);
    pendingLength += bytes.length;
    while (pendingLength >= CHUNK) {
      const joined = Buffer.concat(pending);
      yield joined.subarray(0, CHUNK);
      stats.bytes += CHUNK;
      pending = [joined.subarray(CHUNK)];
      pendingLength = joined.length - CHUNK;
    }
  }
  yield* emit(`${XML_DECLARATION}\n<s3xml success="true" results="${RESOURCES}">`);
  for (let index = 0; index < RESOURCES; index += 1) yield* emit(`\n  ${serializeResource(office(index))}`);
  yield* emit('\n</s3xml>\n');
  const rest = Buffer.concat(pending);
  stats.bytes += rest.length;
  yield rest;
}

interface Run {
  count: number;
  bytes: number;
  peakGrowth: number;
}

async function readAll(keep: S3Resource[] | undefined, stopAfter = RESOURCES): Promise<Run> {
  collectGarbage();
  const baseline = process.memoryUsage().heapUsed;
  const stats = { bytes: 0 };
  let count = 0;
  let peakGrowth = 0;
  for await (const event of readS3XML(generatedDocument(stats))) {
    if (event.type === 'root') {
      assert.equal(event.attributes.results, String(RESOURCES));
      continue;
    }
    assert.equal(event.resource.uuid, `urn:uuid:00000000-0000-4000-8000-${String(count).padStart(12, '0')}`);
    assert.equal(event.resource.components[0]?.uuid, `urn:uuid:branch-${count}`);
    keep?.push(event.resource);
    count += 1;
    if (count % 2000 === 0) {
      collectGarbage();
      peakGrowth = Math.max(peakGrowth, process.memoryUsage().heapUsed - baseline);
    }
    if (count === stopAfter) break;
  }
  return { count, bytes: stats.bytes, peakGrowth };
}

describe('streaming a large document', () => {
  it('reads a 20,000-resource document in 64 KiB chunks with memory that does not grow with the document', async (t) => {
    const streamed = await readAll(undefined);
    assert.equal(streamed.count, RESOURCES);
    assert.ok(streamed.bytes > 15 * MIB, `the document should be large (${streamed.bytes} bytes)`);
    assert.ok(streamed.peakGrowth < 8 * MIB, `heap grew by ${(streamed.peakGrowth / MIB).toFixed(1)} MiB`);

    // The same measurement while the consumer keeps every resource: it must see the growth,
    // otherwise the bound above would prove nothing.
    const kept: S3Resource[] = [];
    const retained = await readAll(kept, RESOURCES / 2);
    assert.equal(kept.length, RESOURCES / 2);
    t.diagnostic(`${(streamed.bytes / MIB).toFixed(1)} MiB streamed; heap grew ${(streamed.peakGrowth / MIB).toFixed(1)} MiB streaming, `
      + `${(retained.peakGrowth / MIB).toFixed(1)} MiB when half the resources are kept`);
    assert.ok(retained.peakGrowth > 4 * streamed.peakGrowth && retained.peakGrowth > 16 * MIB,
      `retaining grew ${(retained.peakGrowth / MIB).toFixed(1)} MiB vs streaming ${(streamed.peakGrowth / MIB).toFixed(1)} MiB`);
  });
});
