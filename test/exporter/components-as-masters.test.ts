/**
 * Exporting a table gives every row of it, as Eden does: rows the store holds as components of
 * another record go out as masters with the reference to their master under the join field.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { exportResources, type ExportOptions } from '../../src/exporter/exporter.js';
import { parseUrlFilters } from '../../src/exporter/url-filters.js';
import { importResources } from '../../src/importer/importer.js';
import type { S3Resource } from '../../src/s3xml/model.js';
import type { Store } from '../../src/store/store.js';
import { fixedClock, ref, res, seed, storeKinds, text, withStore } from '../importer/support.js';

async function collect(store: Store, options: ExportOptions): Promise<S3Resource[]> {
  const resources: S3Resource[] = [];
  for await (const resource of exportResources(store, options)) resources.push(resource);
  return resources;
}

const uuids = (resources: S3Resource[]) => resources.map((resource) => resource.uuid);
const organisationOf = (resource: S3Resource | undefined) => resource?.references.find((reference) => reference.field === 'organisation_id');

/** Two organisations with nested offices (as Eden exports them) and one office imported on its own. */
async function importOrganisations(store: Store): Promise<void> {
  const office = (uuid: string, modified_on: string) => res('org_office', { uuid, modified_on, data: [text('name', `Office ${uuid}`)] });
  const result = await importResources(
    store,
    [
      res('org_organisation', {
        uuid: 'org-1',
        modified_on: '2024-05-01T00:00:00',
        data: [text('name', 'Himal Relief')],
        components: [office('o1', '2024-05-01T00:00:01'), office('o2', '2024-05-01T00:00:03')],
      }),
      res('org_organisation', { uuid: 'org-2', modified_on: '2024-05-01T00:00:00', data: [text('name', 'Bagmati Volunteers')], components: [office('o3', '2024-05-01T00:00:04')] }),
      res('org_office', {
        uuid: 'top',
        modified_on: '2024-05-01T00:00:02',
        data: [text('name', 'Imported alone')],
        references: [ref('organisation_id', 'org_organisation', { uuid: 'org-2' })],
      }),
    ],
    { clock: fixedClock },
  );
  assert.deepEqual(result.errors, []);
}

for (const kind of storeKinds) {
  describe(`components exported as masters of their own table on the ${kind.name}`, () => {
    it(
      'are every office, in modified_on order, each with its organisation_id, the organisations appended once',
      withStore(kind, async (store) => {
        await importOrganisations(store);
        const exported = await collect(store, { resource: 'org_office' });
        assert.deepEqual(uuids(exported), ['o1', 'top', 'o2', 'o3', 'org-1', 'org-2']);
        assert.deepEqual(organisationOf(exported[0]), { field: 'organisation_id', resource: 'org_organisation', uuid: 'org-1', text: 'Himal Relief' });
        assert.deepEqual(exported.slice(0, 4).map((office) => organisationOf(office)?.uuid), ['org-1', 'org-2', 'org-1', 'org-2']);
        assert.equal(exported[1]?.references.length, 1, 'a stored reference is not repeated');
        assert.deepEqual(exported[4]?.components, [], 'dereferenced masters come without components');
        assert.equal(exported[0]?.alias, undefined);
      }),
    );

    it(
      'are still nested, without the join reference, when their master\'s table is exported',
      withStore(kind, async (store) => {
        await importOrganisations(store);
        const exported = await collect(store, { resource: 'org_organisation', dereference: false });
        assert.deepEqual(uuids(exported), ['org-1', 'org-2']);
        assert.deepEqual(uuids(exported[0]?.components ?? []), ['o1', 'o2']);
        assert.deepEqual(exported[0]?.components[0]?.references, []);
      }),
    );

    it(
      'carry the reference they hold to their master as it is, and none when the join field cannot be known',
      withStore(kind, async (store) => {
        await seed(store, [
          { resource: 'cap_alert', uuid: 'alert', modified_on: '2024-05-01T00:00:00' },
          { resource: 'cap_info', uuid: 'info', modified_on: '2024-05-01T00:00:00', parent: { resource: 'cap_alert', uuid: 'alert' } },
          {
            resource: 'cap_info_parameter',
            uuid: 'parameter',
            modified_on: '2024-05-01T00:00:00',
            parent: { resource: 'cap_info', uuid: 'info' },
            references: [ref('info_id', 'cap_info', { uuid: 'info' })],
          },
          { resource: 'vol_activity', uuid: 'activity', modified_on: '2024-05-01T00:00:00', parent: { resource: 'vol_volunteer', uuid: 'v' } },
        ]);
        const [parameter] = await collect(store, { resource: 'cap_info_parameter', dereference: false });
        assert.deepEqual(parameter?.references, [{ field: 'info_id', resource: 'cap_info', uuid: 'info' }]);
        const [info] = await collect(store, { resource: 'cap_info', dereference: false });
        assert.deepEqual(info?.references, [{ field: 'alert_id', resource: 'cap_alert', uuid: 'alert' }]);
        assert.deepEqual(info?.components.map((component) => component.uuid), ['parameter'], 'its own components stay nested');
        const [activity] = await collect(store, { resource: 'vol_activity', dereference: false });
        assert.deepEqual(activity?.references, []);
      }),
    );

    it(
      'are selected by msince and by seq windows as masters are, deleted ones as stubs only on request',
      withStore(kind, async (store) => {
        await importOrganisations(store);
        const since = await collect(store, { resource: 'org_office', msince: '2024-05-01T00:00:03', dereference: false });
        assert.deepEqual(uuids(since), ['o2', 'o3']);

        const seq = await store.lastSeq();
        await importResources(
          store,
          [res('org_organisation', { uuid: 'org-1', modified_on: '2024-05-01T00:00:00', data: [text('name', 'Himal Relief')], components: [res('org_office', { uuid: 'o1', deleted: true, modified_on: '2024-06-01T00:00:00' })] })],
          { clock: fixedClock },
        );
        const after = await store.lastSeq();
        await seed(store, [{ resource: 'org_office', uuid: 'later', modified_on: '2024-06-02T00:00:00', parent: { resource: 'org_organisation', uuid: 'org-2' } }]);
        const window = { resource: 'org_office', afterSeq: seq, untilSeq: after, dereference: false } as const;
        assert.deepEqual(await collect(store, window), []);
        assert.deepEqual(await collect(store, { ...window, includeDeleted: true }), [
          { name: 'org_office', uuid: 'o1', deleted: true, modified_on: '2024-06-01T00:00:00', attributes: {}, data: [], references: [], components: [] },
        ]);
        assert.deepEqual(uuids(await collect(store, { resource: 'org_office', afterSeq: after, dereference: false })), ['later']);
      }),
    );

    it(
      'are filtered on their join reference as if they held it, with start and limit counted after the filter',
      withStore(kind, async (store) => {
        await importOrganisations(store);
        const exportWith = async (query: Record<string, string>, paging: Partial<ExportOptions> = {}) =>
          uuids(await collect(store, { resource: 'org_office', filters: parseUrlFilters(query), dereference: false, ...paging }));
        assert.deepEqual(await exportWith({ '~.organisation_id': 'org-1' }), ['o1', 'o2']);
        assert.deepEqual(await exportWith({ '~.organisation_id': 'org-2' }), ['top', 'o3']);
        assert.deepEqual(await exportWith({ '~.organisation_id__ne': 'org-2' }), ['o1', 'o2']);
        assert.deepEqual(await exportWith({ '~.organisation_id': 'NONE' }), []);
        assert.deepEqual(await exportWith({ '~.organisation_id': 'org-1,org-2' }, { start: 1, limit: 2 }), ['top', 'o2']);
        assert.deepEqual(await exportWith({ '~.name__like': '*o3' }), ['o3'], 'other filters still run in the store');
      }),
    );
  });
}
