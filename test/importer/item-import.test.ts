/**
 * A component that comes back as a master of its own table (Eden exports every row of a table,
 * with its join key as a reference) is the same record: matched by uuid, not duplicated, and not
 * moved out of its master unless its key names another master.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { importResources, type ImportOptions } from '../../src/importer/importer.js';
import type { Store } from '../../src/store/store.js';
import { allOf, fixedClock, get, ref, res, storeKinds, text, withStore } from './support.js';

const SYNC: ImportOptions = { clock: fixedClock, updatePolicy: 'NEWER' };

/** Two organisations; the first holds office o1 nested, as Eden exports organisations. */
async function seedNested(store: Store): Promise<void> {
  const result = await importResources(
    store,
    [
      res('org_organisation', {
        uuid: 'org-1',
        modified_on: '2024-05-01T00:00:00',
        data: [text('name', 'Himal Relief')],
        components: [res('org_office', { uuid: 'o1', modified_on: '2024-05-01T00:00:00', data: [text('name', 'Pokhara')] })],
      }),
      res('org_organisation', { uuid: 'org-2', modified_on: '2024-05-01T00:00:00', data: [text('name', 'Bagmati Volunteers')] }),
    ],
    { clock: fixedClock },
  );
  assert.deepEqual(result.errors, []);
}

function officeAsMaster(organisation: string, modified_on: string, name = 'Pokhara') {
  return res('org_office', {
    uuid: 'o1',
    modified_on,
    data: [text('name', name)],
    references: [{ ...ref('organisation_id', 'org_organisation', { uuid: organisation }), text: 'Himal Relief' }],
  });
}

for (const kind of storeKinds) {
  describe(`a stored component arriving as a master on the ${kind.name}`, () => {
    it(
      'is recognised as unchanged when its join reference names its own master, and nothing is written',
      withStore(kind, async (store) => {
        await seedNested(store);
        const seq = await store.lastSeq();
        const result = await importResources(store, [officeAsMaster('org-1', '2024-05-01T00:00:00')], { ...SYNC, resource: 'org_office' });
        assert.deepEqual([result.created, result.updated, result.unchanged], [[], [], ['o1']]);
        assert.equal(result.records, 1);
        assert.equal(await store.lastSeq(), seq);
        const office = await get(store, 'org_office', 'o1');
        assert.deepEqual(office.parent, { resource: 'org_organisation', uuid: 'org-1' });
        assert.deepEqual(office.references, []);
        assert.equal((await allOf(store, 'org_office')).length, 1);
      }),
    );

    it(
      'takes a newer version without storing the join reference its parent link already holds',
      withStore(kind, async (store) => {
        await seedNested(store);
        const result = await importResources(store, [officeAsMaster('org-1', '2024-05-02T00:00:00', 'Pokhara Field Office')], { ...SYNC, resource: 'org_office' });
        assert.deepEqual(result.updated, ['o1']);
        const office = await get(store, 'org_office', 'o1');
        assert.equal(office.data[0]?.text, 'Pokhara Field Office');
        assert.deepEqual(office.parent, { resource: 'org_organisation', uuid: 'org-1' });
        assert.deepEqual(office.references, []);
      }),
    );

    it(
      'moves to the master its join reference names when the update policy accepts it, and stays otherwise',
      withStore(kind, async (store) => {
        await seedNested(store);
        const older = await importResources(store, [officeAsMaster('org-2', '2024-04-01T00:00:00')], { ...SYNC, resource: 'org_office' });
        assert.equal(older.skipped[0]?.code, 'POLICY_KEPT_LOCAL');
        assert.equal((await get(store, 'org_office', 'o1')).parent?.uuid, 'org-1');

        const newer = await importResources(store, [officeAsMaster('org-2', '2024-05-03T00:00:00')], { ...SYNC, resource: 'org_office' });
        assert.deepEqual(newer.updated, ['o1']);
        const office = await get(store, 'org_office', 'o1');
        assert.deepEqual(office.parent, { resource: 'org_organisation', uuid: 'org-2' });
        assert.deepEqual(office.references, [], 'the new parent link says it');
        assert.equal((await allOf(store, 'org_office')).length, 1);
      }),
    );

    it(
      'moves along with a join reference it holds explicitly',
      withStore(kind, async (store) => {
        await importResources(
          store,
          [
            res('org_organisation', {
              uuid: 'org-1',
              modified_on: '2024-05-01T00:00:00',
              components: [res('org_office', { uuid: 'o1', modified_on: '2024-05-01T00:00:00', references: [ref('organisation_id', 'org_organisation', { uuid: 'org-1' })] })],
            }),
          ],
          { clock: fixedClock },
        );
        assert.deepEqual((await get(store, 'org_office', 'o1')).references.map((reference) => reference.uuid), ['org-1'], 'kept as it came');
        await importResources(store, [officeAsMaster('org-2', '2024-05-03T00:00:00')], { ...SYNC, resource: 'org_office' });
        const office = await get(store, 'org_office', 'o1');
        assert.equal(office.parent?.uuid, 'org-2');
        assert.deepEqual(office.references.map((reference) => reference.uuid), ['org-2']);
      }),
    );

    it(
      'nested again with an explicit reference to its master, is unchanged',
      withStore(kind, async (store) => {
        await seedNested(store);
        const seq = await store.lastSeq();
        const result = await importResources(
          store,
          [
            res('org_organisation', {
              uuid: 'org-1',
              modified_on: '2024-05-01T00:00:00',
              data: [text('name', 'Himal Relief')],
              components: [officeAsMaster('org-1', '2024-05-01T00:00:00')],
            }),
          ],
          SYNC,
        );
        assert.deepEqual(result.unchanged.sort(), ['o1', 'org-1']);
        assert.equal(await store.lastSeq(), seq);
      }),
    );
  });
}
