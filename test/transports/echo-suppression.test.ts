/**
 * Echo suppression on its own: which writes count as the peer's, how they are kept as seq ranges,
 * and which records of a push window are left out.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { S3Resource } from '../../src/s3xml/model.js';
import { echoCheckpointId, echoRecorder, mergeRanges, withoutEchoes } from '../../src/transports/echo-suppression.js';
import { createMemoryStore } from '../support/memory-store.js';
import { recordWrite } from '../support/records.js';

const PEER = 'urn:uuid:peer';

function resource(uuid: string, components: S3Resource[] = [], name = 'org_office'): S3Resource {
  return { name, uuid, attributes: {}, data: [], references: [], components };
}

describe('echo suppression', () => {
  it('merges seqs into ordered ranges', () => {
    assert.deepEqual(mergeRanges([[1, 3]], [4, 5, 9, 11, 10]), [[1, 5], [9, 11]]);
    assert.deepEqual(mergeRanges([[5, 8]], [1, 6]), [[1, 1], [5, 8]]);
  });

  it('remembers only the writes of records the page held, once the transaction committed', async () => {
    const store = createMemoryStore();
    const page = [resource('urn:uuid:a'), resource('urn:uuid:b')];
    const echo = echoRecorder(store, page);
    await echo.store.transaction(async (tx) => {
      await tx.putRecord(recordWrite({ uuid: 'urn:uuid:a' }));
      // A local record re-pointed by the import is a local change, not the peer's.
      await tx.putRecord(recordWrite({ uuid: 'urn:uuid:local' }));
      await tx.putRecord(recordWrite({ uuid: 'urn:uuid:b' }));
    });
    await assert.rejects(
      echo.store.transaction(async (tx) => {
        await tx.putRecord(recordWrite({ uuid: 'urn:uuid:a' }));
        throw new Error('rolled back');
      }),
    );
    await echo.remember(PEER, '2024-01-01T00:00:00');
    const checkpoint = await store.getCheckpoint(echoCheckpointId(PEER));
    assert.deepEqual(checkpoint?.value, { ranges: [[1, 1], [3, 3]] });
  });

  it('leaves out records last written by the peer\'s pull and keeps those changed here since', async () => {
    const store = createMemoryStore();
    const echo = echoRecorder(store, [resource('urn:uuid:pulled'), resource('urn:uuid:changed'), resource('urn:uuid:master', [resource('urn:uuid:part', [], 'org_office_branch')])]);
    await echo.store.transaction(async (tx) => {
      for (const uuid of ['urn:uuid:pulled', 'urn:uuid:changed', 'urn:uuid:master']) await tx.putRecord(recordWrite({ uuid }));
      await tx.putRecord(recordWrite({ resource: 'org_office_branch', uuid: 'urn:uuid:part', parent: { resource: 'org_office', uuid: 'urn:uuid:master' } }));
    });
    await echo.remember(PEER, '2024-01-01T00:00:00');
    await store.putRecord(recordWrite({ uuid: 'urn:uuid:changed', modified_on: '2024-05-01T00:00:00' }));
    await store.putRecord(recordWrite({ uuid: 'urn:uuid:local' }));

    const window = [resource('urn:uuid:pulled'), resource('urn:uuid:changed'), resource('urn:uuid:local'), resource('urn:uuid:master', [resource('urn:uuid:part', [], 'org_office_branch')])];
    const result = await withoutEchoes(store, PEER, window, 0);
    assert.deepEqual(result.send.map((item) => item.uuid), ['urn:uuid:changed', 'urn:uuid:local']);
    assert.equal(result.echoes, 2);

    // A component changed here afterwards brings its master along.
    await store.putRecord(recordWrite({ resource: 'org_office_branch', uuid: 'urn:uuid:part', parent: { resource: 'org_office', uuid: 'urn:uuid:master' } }));
    const again = await withoutEchoes(store, PEER, [window[3]!], 0);
    assert.deepEqual(again.send.map((item) => item.uuid), ['urn:uuid:master']);
    assert.equal((await withoutEchoes(store, 'urn:uuid:other-peer', window, 0)).echoes, 0, 'another peer gets everything');
  });
});
