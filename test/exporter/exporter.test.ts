import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SluiceError } from '../../src/errors.js';
import { exportResources, exportUid, type ExportOptions } from '../../src/exporter/exporter.js';
import { parseUrlFilters } from '../../src/exporter/url-filters.js';
import type { S3Resource } from '../../src/s3xml/model.js';
import type { RecordWrite, Store } from '../../src/store/store.js';
import { ref, seed, storeKinds, text, value, withStore } from '../importer/support.js';

async function collect(store: Store, options: ExportOptions): Promise<S3Resource[]> {
  const resources: S3Resource[] = [];
  for await (const resource of exportResources(store, options)) resources.push(resource);
  return resources;
}

const uuids = (resources: S3Resource[]) => resources.map((resource) => resource.uuid);

type Seed = Partial<RecordWrite> & { resource: string; uuid: string };

const office = (uuid: string, modified_on: string, extra: Partial<Seed> = {}): Seed => ({ resource: 'org_office', uuid, modified_on, ...extra });

describe('exported uids', () => {
  it('get the domain prefix unless they are URNs or already carry a domain', () => {
    assert.equal(exportUid('abc', 'sluice.example.org'), 'sluice.example.org/abc');
    assert.equal(exportUid('urn:uuid:abc', 'sluice.example.org'), 'urn:uuid:abc');
    assert.equal(exportUid('eden.example.org/abc', 'sluice.example.org'), 'eden.example.org/abc');
    assert.equal(exportUid('abc', undefined), 'abc');
  });
});

for (const kind of storeKinds) {
  describe(`exporter on the ${kind.name}`, () => {
    it(
      'writes masters in modified_on order with mci + 1, attributes, data and prefixed references',
      withStore(kind, async (store) => {
        await seed(store, [
          office('b', '2024-05-02T00:00:00', {
            mci: 0,
            created_on: '2024-01-01T00:00:00',
            attributes: { created_by: 'admin@example.org' },
            data: [text('name', 'B'), value('obsolete', false, 'No')],
            references: [
              { ...ref('location_id', 'gis_location', { uuid: 'loc' }), text: 'Pokhara', attributes: { lat: '28.2096', lon: '83.9856' } },
              ref('sector_id', 'org_sector', { uuid: ['s1', 'urn:uuid:s2'] }),
            ],
          }),
          office('urn:uuid:a', '2024-05-01T00:00:00', { mci: 3 }),
        ]);
        const exported = await collect(store, { resource: 'org_office', domain: 'sluice.example.org', dereference: false });
        assert.deepEqual(exported, [
          { name: 'org_office', uuid: 'urn:uuid:a', mci: 4, modified_on: '2024-05-01T00:00:00', attributes: {}, data: [], references: [], components: [] },
          {
            name: 'org_office',
            uuid: 'sluice.example.org/b',
            mci: 1,
            created_on: '2024-01-01T00:00:00',
            modified_on: '2024-05-02T00:00:00',
            attributes: { created_by: 'admin@example.org' },
            data: [text('name', 'B'), value('obsolete', false, 'No')],
            references: [
              {
                field: 'location_id',
                resource: 'gis_location',
                uuid: 'sluice.example.org/loc',
                text: 'Pokhara',
                attributes: { lat: '28.2096', lon: '83.9856' },
              },
              { field: 'sector_id', resource: 'org_sector', uuid: '["sluice.example.org/s1","urn:uuid:s2"]' },
            ],
            components: [],
          },
        ]);
      }),
    );

    it(
      'writes deleted records only on request, as stubs with uuid, deleted, modified_on and replaced_by',
      withStore(kind, async (store) => {
        await seed(store, [
          office('live', '2024-05-01T00:00:00'),
          office('gone', '2024-05-02T00:00:00', { deleted: true, data: [text('name', 'kept locally')] }),
          office('merged', '2024-05-03T00:00:00', { deleted: true, replaced_by: 'live', mci: 1 }),
        ]);
        assert.deepEqual(uuids(await collect(store, { resource: 'org_office' })), ['live']);
        const withDeleted = await collect(store, { resource: 'org_office', includeDeleted: true, domain: 'x.org' });
        assert.deepEqual(withDeleted.slice(1), [
          { name: 'org_office', uuid: 'x.org/gone', deleted: true, modified_on: '2024-05-02T00:00:00', attributes: {}, data: [], references: [], components: [] },
          {
            name: 'org_office',
            uuid: 'x.org/merged',
            deleted: true,
            modified_on: '2024-05-03T00:00:00',
            replaced_by: 'x.org/live',
            attributes: {},
            data: [],
            references: [],
            components: [],
          },
        ]);
      }),
    );

    it(
      'selects masters changed since msince, inclusive, and masters whose components changed',
      withStore(kind, async (store) => {
        await seed(store, [
          office('old', '2024-01-01T00:00:00'),
          office('old-with-new-component', '2024-01-02T00:00:00'),
          office('edge', '2024-05-01T00:00:00'),
          office('new', '2024-05-02T00:00:00'),
          { resource: 'org_office_type', uuid: 'c', modified_on: '2024-05-03T00:00:00', parent: { resource: 'org_office', uuid: 'old-with-new-component' } },
          { resource: 'org_office_type', uuid: 'c-old', modified_on: '2024-01-01T00:00:00', parent: { resource: 'org_office', uuid: 'old' } },
        ]);
        const since = await collect(store, { resource: 'org_office', msince: '2024-05-01T00:00:00' });
        assert.deepEqual(uuids(since), ['old-with-new-component', 'edge', 'new']);
        assert.deepEqual(uuids(since[0]?.components ?? []), ['c']);
        assert.deepEqual(uuids(await collect(store, { resource: 'org_office', msince: '2024-05-01T00:00:00', start: 1, limit: 1 })), ['edge']);
        assert.deepEqual(uuids(await collect(store, { resource: 'org_office', msince: '2024-05-01T00:00:00', components: false })), ['edge', 'new']);
      }),
    );

    it(
      'selects masters written after a seq, in seq order, including those whose components were written after it',
      withStore(kind, async (store) => {
        await seed(store, [office('first', '2024-05-09T00:00:00'), office('second', '2024-05-01T00:00:00')]);
        const seq = await store.lastSeq();
        await seed(store, [
          office('third', '2024-05-05T00:00:00'),
          office('fourth', '2024-01-01T00:00:00'),
          { resource: 'org_office_type', uuid: 'c', modified_on: '2020-01-01T00:00:00', parent: { resource: 'org_office', uuid: 'first' } },
        ]);
        assert.deepEqual(uuids(await collect(store, { resource: 'org_office', afterSeq: seq, components: false })), ['third', 'fourth']);
        assert.deepEqual(uuids(await collect(store, { resource: 'org_office', afterSeq: seq })), ['first', 'third', 'fourth']);
      }),
    );

    it(
      'filters masters in the store with URL filters on data and reference fields',
      withStore(kind, async (store) => {
        await seed(store, [
          office('a', '2024-05-01T00:00:00', { data: [text('name', 'Pokhara'), value('obsolete', false, 'No')], references: [ref('organisation_id', 'org_organisation', { uuid: 'org-1' })] }),
          office('b', '2024-05-02T00:00:00', { data: [text('name', 'Kathmandu'), value('obsolete', true, 'Yes')], references: [ref('organisation_id', 'org_organisation', { uuid: 'org-2' })] }),
          office('c', '2024-05-03T00:00:00', { data: [text('name', 'Pokhara East'), value('obsolete', false, 'No')] }),
        ]);
        const exportWith = async (query: Record<string, string>) =>
          uuids(await collect(store, { resource: 'org_office', filters: parseUrlFilters(query), dereference: false }));
        assert.deepEqual(await exportWith({ '~.name__like': 'pok*' }), ['a', 'c']);
        assert.deepEqual(await exportWith({ '~.obsolete': 'False' }), ['a', 'c']);
        assert.deepEqual(await exportWith({ '~.obsolete!': 'False' }), ['b']);
        assert.deepEqual(await exportWith({ '~.organisation_id': 'org-2' }), ['b']);
        assert.deepEqual(await exportWith({ '~.organisation_id': 'NONE' }), ['c']);
        assert.deepEqual(await exportWith({ '~.name__belongs': 'Kathmandu,Pokhara' }), ['a', 'b']);
      }),
    );

    it(
      'pages over masters across store batches with start and limit',
      withStore(kind, async (store) => {
        const records = Array.from({ length: 1203 }, (_, i) =>
          office(`o${String(i).padStart(4, '0')}`, `2024-05-01T00:${String(Math.floor(i / 60) % 60).padStart(2, '0')}:${String(i % 60).padStart(2, '0')}`),
        );
        await seed(store, records);
        const all = await collect(store, { resource: 'org_office' });
        assert.equal(all.length, 1203);
        assert.deepEqual(uuids(all), records.map((record) => record.uuid));
        const page = await collect(store, { resource: 'org_office', start: 100, limit: 700 });
        assert.deepEqual(uuids(page), records.slice(100, 800).map((record) => record.uuid));
        assert.deepEqual(uuids(await collect(store, { resource: 'org_office', start: 1200 })), ['o1200', 'o1201', 'o1202']);
        assert.deepEqual(await collect(store, { resource: 'org_office', limit: 0 }), []);
      }),
    );

    it(
      'nests components with their alias, all, none or the named ones, and deleted ones only on request',
      withStore(kind, async (store) => {
        await seed(store, [
          { resource: 'org_organisation', uuid: 'org', modified_on: '2024-05-01T00:00:00' },
          { resource: 'org_office', uuid: 'branch', modified_on: '2024-05-01T00:00:00', parent: { resource: 'org_organisation', uuid: 'org', alias: 'branch' } },
          { resource: 'org_sector', uuid: 'sector', modified_on: '2024-05-01T00:00:00', parent: { resource: 'org_organisation', uuid: 'org' } },
          { resource: 'org_sector', uuid: 'sector-gone', modified_on: '2024-05-02T00:00:00', deleted: true, parent: { resource: 'org_organisation', uuid: 'org' } },
          { resource: 'pr_contact', uuid: 'nested', modified_on: '2024-05-01T00:00:00', parent: { resource: 'org_office', uuid: 'branch' } },
        ]);
        const [organisation] = await collect(store, { resource: 'org_organisation' });
        assert.deepEqual(
          organisation?.components.map((component) => [component.name, component.alias, component.uuid, component.mci]),
          [
            ['org_office', 'branch', 'branch', 1],
            ['org_sector', undefined, 'sector', 1],
          ],
        );
        assert.deepEqual(uuids(organisation?.components[0]?.components ?? []), ['nested']);
        const withDeleted = await collect(store, { resource: 'org_organisation', includeDeleted: true });
        const stub = withDeleted[0]?.components.find((component) => component.uuid === 'sector-gone');
        assert.deepEqual(stub, { name: 'org_sector', uuid: 'sector-gone', deleted: true, modified_on: '2024-05-02T00:00:00', attributes: {}, data: [], references: [], components: [] });
        assert.deepEqual((await collect(store, { resource: 'org_organisation', components: false }))[0]?.components, []);
        assert.deepEqual(uuids((await collect(store, { resource: 'org_organisation', components: ['branch'] }))[0]?.components ?? []), ['branch']);
        assert.deepEqual(uuids((await collect(store, { resource: 'org_organisation', components: ['org_sector'] }))[0]?.components ?? []), ['sector']);
      }),
    );

    it(
      'appends referenced records once each, without components or msince, down to maxDepth',
      withStore(kind, async (store) => {
        await seed(store, [
          office('o1', '2024-05-01T00:00:00', { references: [ref('location_id', 'gis_location', { uuid: 'l1' }), ref('organisation_id', 'org_organisation', { uuid: 'missing' })] }),
          office('o2', '2024-05-02T00:00:00', { references: [ref('location_id', 'gis_location', { uuid: 'l1' }), ref('site_id', 'org_site', { uuid: 'o3' })] }),
          office('o3', '2020-01-01T00:00:00'),
          { resource: 'gis_location', uuid: 'l1', modified_on: '2000-01-01T00:00:00', references: [ref('parent', 'gis_location', { uuid: 'l2' })] },
          { resource: 'gis_location', uuid: 'l2', modified_on: '2000-01-01T00:00:00', references: [ref('parent', 'gis_location', { uuid: 'l3' })] },
          { resource: 'gis_location', uuid: 'l3', modified_on: '2000-01-01T00:00:00' },
          { resource: 'pr_contact', uuid: 'l1-component', modified_on: '2000-01-01T00:00:00', parent: { resource: 'gis_location', uuid: 'l1' } },
        ]);
        const full = await collect(store, { resource: 'org_office', msince: '2024-05-01T00:00:00' });
        // o3 is reached through a super-entity style reference (org_site) and found by uuid.
        assert.deepEqual(uuids(full), ['o1', 'o2', 'l1', 'o3', 'l2', 'l3']);
        assert.deepEqual(full[2]?.components, []);
        assert.equal(full[0]?.references[1]?.uuid, 'missing', 'a reference to a record that is not here keeps its uuid');
        const shallow = await collect(store, { resource: 'org_office', msince: '2024-05-01T00:00:00', maxDepth: 2 });
        assert.deepEqual(uuids(shallow), ['o1', 'o2', 'l1', 'o3', 'l2']);
        assert.equal(shallow[4]?.references[0]?.uuid, 'l3', 'beyond maxDepth only the uuid remains');
        assert.deepEqual(uuids(await collect(store, { resource: 'org_office', msince: '2024-05-01T00:00:00', dereference: false })), ['o1', 'o2']);
      }),
    );

    it(
      'does not repeat a referenced record that is already exported as a master',
      withStore(kind, async (store) => {
        await seed(store, [
          office('a', '2024-05-01T00:00:00', { references: [ref('parent_id', 'org_office', { uuid: 'b' })] }),
          office('b', '2024-05-02T00:00:00', { references: [ref('parent_id', 'org_office', { uuid: 'a' })] }),
          { resource: 'gis_location', uuid: 'gone', deleted: true, modified_on: '2024-05-01T00:00:00' },
          office('c', '2024-05-03T00:00:00', { references: [ref('location_id', 'gis_location', { uuid: 'gone' }), ref('site_id', 'org_site', { uuid: 'a' })] }),
        ]);
        assert.deepEqual(uuids(await collect(store, { resource: 'org_office' })), ['a', 'b', 'c']);
        assert.deepEqual(uuids(await collect(store, { resource: 'org_office', includeDeleted: true })), ['a', 'b', 'c', 'gone']);
      }),
    );

    it(
      'refuses a malformed msince and negative paging',
      withStore(kind, async (store) => {
        for (const [options, code] of [
          [{ resource: 'org_office', msince: '2024-05-01T00:00:00Z' }, 'BAD_MSINCE'],
          [{ resource: 'org_office', limit: -1 }, 'BAD_EXPORT_OPTIONS'],
        ] as const) {
          await assert.rejects(collect(store, options), (error: unknown) => error instanceof SluiceError && error.code === code);
        }
      }),
    );
  });
}
