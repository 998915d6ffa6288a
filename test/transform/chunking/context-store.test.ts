import assert from 'node:assert/strict';
import { readdir } from 'node:fs/promises';
import { describe, it } from 'node:test';
import { batchDocuments, collectContext } from '../../../src/transform/chunking/batches.js';
import { ContextStore } from '../../../src/transform/chunking/context-store.js';
import { scratchDir } from '../helpers.js';

function document(records: number, locations: number): string {
  const parts = ['<?xml version="1.0" encoding="utf-8"?>\n<s3xml domain="d">\n'];
  for (let i = 0; i < records; i++) {
    parts.push(
      `  <resource name="org_organisation" uuid="org-${i}"><data field="name">Org ${i} Zürich</data>` +
        `<reference field="location_id" resource="gis_location" uuid="loc-${(i * 7) % locations}"/></resource>\n`,
    );
  }
  for (let l = 0; l < locations; l++) parts.push(`  <resource name="gis_location" uuid="loc-${l}"><data field="name">Ærø ${l} ${'x'.repeat(l % 50)}</data></resource>\n`);
  parts.push('</s3xml>\n');
  return parts.join('');
}

async function batchesOf(text: string, spillDir: string | undefined, memoryLimitBytes: number): Promise<{ batches: string[]; spilled: boolean }> {
  const bytes = Buffer.from(text, 'utf8');
  const open = async function* (): AsyncGenerator<Uint8Array> {
    for (let at = 0; at < bytes.length; at += 333) yield bytes.subarray(at, at + 333);
  };
  const context = await collectContext(open, ['gis_location'], { ...(spillDir ? { spillDir } : {}), memoryLimitBytes });
  const batches: string[] = [];
  try {
    for await (const event of batchDocuments(open, { records: 7, bytes: 1 << 20, contextResources: ['gis_location'] }, context)) {
      if ('batch' in event) batches.push(event.batch.bytes.toString('utf8'));
    }
    return { batches, spilled: context.spilling };
  } finally {
    await context.close();
  }
}

describe('lookup context store', () => {
  it('gives back every resource byte for byte, whether held in memory or spilled to its scratch file', async () => {
    const spillDir = await scratchDir('context-spill');
    const store = new ContextStore({ spillDir, memoryLimitBytes: 100 });
    const entries = Array.from({ length: 50 }, (_, i) => [`k${i}`, Buffer.from(`<resource n="${i}">${'é'.repeat(i)}</resource>`)] as const);
    for (const [key, bytes] of entries) await store.put(key, bytes);
    await store.flush();

    assert.equal(store.spilling, true);
    assert.equal(store.size, 50);
    for (const [key, bytes] of entries) assert.deepEqual(await store.get(key), bytes);
    assert.equal(await store.get('missing'), undefined);

    await store.close();
    assert.deepEqual(await readdir(spillDir), [], 'closing removes the scratch file');
  });

  it('keeps everything in memory when it is given no folder to spill to', async () => {
    const store = new ContextStore({ memoryLimitBytes: 10 });
    await store.put('a', Buffer.from('<resource/>'));
    await store.put('b', Buffer.from('<resource name="b"/>'));
    assert.equal(store.spilling, false);
    assert.deepEqual(await store.get('b'), Buffer.from('<resource name="b"/>'));
    await store.close();
  });

  it('cuts the same batches, context included, when the lookup context is spilled', async () => {
    const text = document(60, 40);
    const spillDir = await scratchDir('context-batches');
    const inMemory = await batchesOf(text, undefined, 8 << 20);
    const spilled = await batchesOf(text, spillDir, 500);

    assert.equal(inMemory.spilled, false);
    assert.equal(spilled.spilled, true);
    assert.equal(spilled.batches.length, 9);
    assert.deepEqual(spilled.batches, inMemory.batches);
    assert.match(spilled.batches[0]!, /<resource name="gis_location" uuid="loc-7">/);
    assert.deepEqual(await readdir(spillDir), []);
  });
});
