import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { exportResources } from '../../src/exporter/exporter.js';
import { changeWindow } from '../../src/sync/change-window.js';
import { createMemoryStore } from '../support/memory-store.js';
import { recordWrite, textData } from '../support/records.js';

async function exportedUuids(store: ReturnType<typeof createMemoryStore>, afterSeq: number, untilSeq: number): Promise<string[]> {
  const uuids: string[] = [];
  for await (const resource of exportResources(store, { resource: 'org_office', afterSeq, untilSeq, includeDeleted: true, dereference: false })) uuids.push(resource.uuid!);
  return uuids;
}

describe('change windows', () => {
  it('are empty when nothing changed after the checkpoint, and reach the last seq without a limit', async () => {
    const store = createMemoryStore();
    assert.deepEqual(await changeWindow(store, 'org_office', 0, 10), { afterSeq: 0, untilSeq: 0, more: false });
    for (let i = 0; i < 5; i++) await store.putRecord(recordWrite());
    assert.deepEqual(await changeWindow(store, 'org_office', 0, undefined), { afterSeq: 0, untilSeq: 5, more: false });
    assert.deepEqual(await changeWindow(store, 'org_office', 5, 3), { afterSeq: 5, untilSeq: 5, more: false });
  });

  it('end at the limit-th change of the resource, and say there is more', async () => {
    const store = createMemoryStore();
    for (let i = 0; i < 10; i++) await store.putRecord(recordWrite());
    await store.putRecord(recordWrite({ resource: 'org_organisation' }));
    assert.deepEqual(await changeWindow(store, 'org_office', 0, 4), { afterSeq: 0, untilSeq: 4, more: true });
    assert.deepEqual(await changeWindow(store, 'org_office', 8, 4), { afterSeq: 8, untilSeq: 11, more: false });
  });

  it('paged one after the other, deliver every changed master, including masters whose component changed later', async () => {
    const store = createMemoryStore();
    const masters: string[] = [];
    for (let i = 0; i < 30; i++) masters.push((await store.putRecord(recordWrite({ data: [textData('name', `m${i}`)] }))).uuid);
    // Components written after every master: their masters' own seqs are all early.
    for (let i = 0; i < 30; i += 3) {
      await store.putRecord(recordWrite({ resource: 'pr_contact', parent: { resource: 'org_office', uuid: masters[i]! } }));
    }
    const checkpoint = 20;
    const seen = new Set<string>();
    let afterSeq = checkpoint;
    let pages = 0;
    for (;;) {
      const window = await changeWindow(store, 'org_office', afterSeq, 4);
      assert.ok(window.untilSeq > afterSeq || !window.more);
      for (const uuid of await exportedUuids(store, afterSeq, window.untilSeq)) seen.add(uuid);
      afterSeq = window.untilSeq;
      pages += 1;
      if (!window.more) break;
    }
    assert.equal(afterSeq, await store.lastSeq());
    assert.ok(pages >= 3);
    const expected = new Set([...masters.slice(checkpoint), ...masters.filter((_, i) => i % 3 === 0)]);
    assert.deepEqual([...seen].sort(), [...expected].sort());
  });
});
