import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SluiceError } from '../../src/errors.js';
import { importResources, type ImportOptions } from '../../src/importer/importer.js';
import { deterministicUuid } from '../../src/importer/identity.js';
import type { RecordWrite, Store, StoreTransaction } from '../../src/store/store.js';
import { allOf, fieldText, fixedClock, get, NOW, ref, res, seed, storeKinds, text, value, withStore } from './support.js';

const options = (extra: Partial<ImportOptions> = {}): ImportOptions => ({ clock: fixedClock, ...extra });

for (const kind of storeKinds) {
  describe(`importer on the ${kind.name}`, () => {
    describe('identity', () => {
      it(
        'creates a record under its uuid with the received mci, timestamps and attributes',
        withStore(kind, async (store) => {
          const result = await importResources(
            store,
            [
              res('org_office', {
                uuid: 'urn:uuid:office-1',
                mci: 1,
                created_on: '2024-03-01T09:12:44',
                modified_on: '2024-03-05T16:40:02',
                attributes: { created_by: 'admin@example.org', url: 'https://eden.example.org/eden/org/office/17' },
                data: [text('name', 'Pokhara Field Office'), value('obsolete', false, 'No')],
              }),
            ],
            options(),
          );
          assert.deepEqual(result.created, ['urn:uuid:office-1']);
          assert.equal(result.records, 1);
          assert.equal(result.mtime, '2024-03-05T16:40:02');
          const record = await get(store, 'org_office', 'urn:uuid:office-1');
          assert.equal(record.mci, 1);
          assert.equal(record.created_on, '2024-03-01T09:12:44');
          assert.equal(record.modified_on, '2024-03-05T16:40:02');
          assert.equal(record.deleted, false);
          assert.deepEqual(record.attributes, { created_by: 'admin@example.org', url: 'https://eden.example.org/eden/org/office/17' });
          assert.deepEqual(record.data, [text('name', 'Pokhara Field Office'), value('obsolete', false, 'No')]);
        }),
      );

      it(
        'gives a record without mci Eden\'s default of 2 and one without modified_on the import time',
        withStore(kind, async (store) => {
          await importResources(store, [res('org_office', { uuid: 'urn:uuid:o', data: [text('name', 'A')] })], options());
          const record = await get(store, 'org_office', 'urn:uuid:o');
          assert.equal(record.mci, 2);
          assert.equal(record.modified_on, NOW);
        }),
      );

      it(
        'gives records Sluice originates mci 0 when the connector says so, from a one-shot stream',
        withStore(kind, async (store) => {
          async function* posts() {
            yield res('event_incident_report', { uuid: 'urn:ushahidi:post:1', data: [text('name', 'Flood')] });
          }
          const result = await importResources(store, posts(), options({ defaultMci: 0 }));
          assert.deepEqual(result.created, ['urn:ushahidi:post:1']);
          assert.equal((await get(store, 'event_incident_report', 'urn:ushahidi:post:1')).mci, 0);
        }),
      );

      it(
        'strips the local domain from uuids, references and replaced_by but keeps urn uids and foreign domains',
        withStore(kind, async (store) => {
          await seed(store, [{ resource: 'org_office', uuid: 'loser-1' }]);
          const result = await importResources(
            store,
            [
              res('org_office', {
                uuid: 'sluice.example.org/office-2',
                references: [
                  ref('organisation_id', 'org_organisation', { uuid: 'sluice.example.org/org-1' }),
                  ref('sector_id', 'org_sector', { uuid: ['sluice.example.org/s1', 'urn:uuid:s2', 'eden.example.org/s3'] }),
                ],
              }),
              res('org_office', { uuid: 'sluice.example.org/loser-1', deleted: true, replaced_by: 'sluice.example.org/office-2', modified_on: '2024-05-01T00:00:00' }),
              res('org_office', { uuid: 'eden.example.org/office-3' }),
            ],
            options({ localDomain: 'sluice.example.org' }),
          );
          assert.deepEqual(result.created, ['office-2', 'eden.example.org/office-3']);
          assert.deepEqual(result.merged, ['loser-1']);
          const office = await get(store, 'org_office', 'office-2');
          assert.equal(office.references[0]?.uuid, 'org-1');
          assert.deepEqual(JSON.parse(office.references[1]?.uuid ?? ''), ['s1', 'urn:uuid:s2', 'eden.example.org/s3']);
          assert.equal((await get(store, 'org_office', 'loser-1')).replaced_by, 'office-2');
        }),
      );

      it(
        'matches a top-level resource without uuid to a live record of the same name, ignoring case',
        withStore(kind, async (store) => {
          await seed(store, [{ resource: 'event_event_type', uuid: 'urn:uuid:flood', data: [text('name', 'Flood')] }]);
          const result = await importResources(
            store,
            [res('event_event_type', { data: [text('name', '  FLOOD '), text('comments', 'rivers')] })],
            options(),
          );
          assert.deepEqual(result.updated, ['urn:uuid:flood']);
          assert.equal(fieldText(await get(store, 'event_event_type', 'urn:uuid:flood'), 'comments'), 'rivers');
          assert.equal((await allOf(store, 'event_event_type')).length, 1);
        }),
      );

      it(
        'creates a deterministic uuid for an unmatched lookup so a second import finds it again',
        withStore(kind, async (store) => {
          const document = [res('event_event_type', { data: [text('name', 'Earthquake')] })];
          const first = await importResources(store, document, options());
          assert.deepEqual(first.created, [deterministicUuid('name', 'event_event_type', 'earthquake')]);
          assert.match(first.created[0] ?? '', /^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
          const second = await importResources(store, document, options());
          assert.deepEqual(second.unchanged, first.created);
          assert.equal((await allOf(store, 'event_event_type')).length, 1);
        }),
      );

      it(
        'identifies a nameless resource without uuid by its content',
        withStore(kind, async (store) => {
          const document = [res('gis_location', { data: [value('lat', 28.2), value('lon', 83.9)] })];
          const first = await importResources(store, document, options());
          const second = await importResources(store, document, options());
          assert.equal(first.created.length, 1);
          assert.deepEqual(second.unchanged, first.created);
        }),
      );
    });

    describe('references', () => {
      it(
        'links a tuid reference to the element defined earlier or later in the same document',
        withStore(kind, async (store) => {
          const result = await importResources(
            store,
            [
              res('gis_location', { tuid: 'LOC:before', uuid: 'urn:uuid:loc-before' }),
              res('med_hospital', {
                uuid: 'urn:uuid:h1',
                references: [
                  ref('location_id', 'gis_location', { tuid: 'LOC:before' }),
                  ref('organisation_id', 'org_organisation', { tuid: 'ORG:after' }),
                ],
              }),
              res('org_organisation', { tuid: 'ORG:after', data: [text('name', 'Himal Relief')] }),
            ],
            options({ pageSize: 1 }),
          );
          const hospital = await get(store, 'med_hospital', 'urn:uuid:h1');
          assert.equal(hospital.references[0]?.uuid, 'urn:uuid:loc-before');
          const organisation = (await allOf(store, 'org_organisation'))[0];
          assert.ok(organisation);
          assert.equal(hospital.references[1]?.uuid, organisation.uuid);
          assert.equal(hospital.references[1]?.tuid, undefined);
          assert.deepEqual(result.skipped, []);
        }),
      );

      it(
        'scopes tuids by resource name',
        withStore(kind, async (store) => {
          await importResources(
            store,
            [
              res('gis_location', { tuid: 'X', uuid: 'urn:uuid:loc' }),
              res('org_organisation', { tuid: 'X', uuid: 'urn:uuid:org' }),
              res('org_office', {
                uuid: 'urn:uuid:office',
                references: [ref('organisation_id', 'org_organisation', { tuid: 'X' }), ref('location_id', 'gis_location', { tuid: 'X' })],
              }),
            ],
            options(),
          );
          const office = await get(store, 'org_office', 'urn:uuid:office');
          assert.deepEqual(
            office.references.map((reference) => reference.uuid),
            ['urn:uuid:org', 'urn:uuid:loc'],
          );
        }),
      );

      it(
        'drops a tuid that names nothing and reports it, but keeps a uuid whose record is not here yet',
        withStore(kind, async (store) => {
          const result = await importResources(
            store,
            [
              res('org_office', {
                uuid: 'urn:uuid:office',
                references: [
                  ref('location_id', 'gis_location', { tuid: 'LOC:nowhere' }),
                  ref('organisation_id', 'org_organisation', { uuid: 'urn:uuid:arrives-later' }),
                ],
              }),
            ],
            options(),
          );
          const office = await get(store, 'org_office', 'urn:uuid:office');
          assert.deepEqual(office.references, [{ field: 'organisation_id', resource: 'org_organisation', uuid: 'urn:uuid:arrives-later' }]);
          assert.equal(result.skipped.length, 1);
          assert.equal(result.skipped[0]?.code, 'UNRESOLVED_REFERENCE');
          assert.equal(result.skipped[0]?.uuid, 'urn:uuid:office');
          assert.match(result.skipped[0]?.reason ?? '', /LOC:nowhere/);
        }),
      );

      it(
        'resolves list references of uuids and tuids, keeping the label and extra attributes',
        withStore(kind, async (store) => {
          await importResources(
            store,
            [
              res('org_sector', { tuid: 'S:health', uuid: 'urn:uuid:health' }),
              res('org_sector', { tuid: 'S:wash', uuid: 'urn:uuid:wash' }),
              res('org_organisation', {
                uuid: 'urn:uuid:org',
                references: [
                  { ...ref('sector_id', 'org_sector', { tuid: ['S:health', 'S:wash'] }), text: 'Health, WASH' },
                  { ...ref('multi_id', 'org_sector', { uuid: ['urn:uuid:a', 'urn:uuid:b'] }), attributes: { extra: 'kept' } },
                ],
              }),
            ],
            options(),
          );
          const organisation = await get(store, 'org_organisation', 'urn:uuid:org');
          assert.deepEqual(organisation.references, [
            { field: 'sector_id', resource: 'org_sector', uuid: '["urn:uuid:health","urn:uuid:wash"]', text: 'Health, WASH' },
            { field: 'multi_id', resource: 'org_sector', uuid: '["urn:uuid:a","urn:uuid:b"]', attributes: { extra: 'kept' } },
          ]);
        }),
      );

      it(
        'imports an anonymous resource inside a reference and links to it, idempotently',
        withStore(kind, async (store) => {
          const document = [
            res('event_incident_report', {
              uuid: 'urn:ushahidi:post:7',
              references: [
                {
                  ...ref('location_id', 'gis_location', {
                    inline: res('gis_location', { data: [value('lat', 27.671), value('lon', 85.4298)] }),
                  }),
                  text: 'Bhaktapur',
                },
              ],
            }),
          ];
          const first = await importResources(store, document, options());
          const locations = await allOf(store, 'gis_location');
          assert.equal(locations.length, 1);
          const report = await get(store, 'event_incident_report', 'urn:ushahidi:post:7');
          assert.deepEqual(report.references, [{ field: 'location_id', resource: 'gis_location', uuid: locations[0]?.uuid, text: 'Bhaktapur' }]);
          assert.equal(first.created.length, 2);
          const second = await importResources(store, document, options());
          assert.equal(second.created.length, 0);
          assert.equal((await allOf(store, 'gis_location')).length, 1);
        }),
      );
    });

    describe('components', () => {
      it(
        'stores nested resources as components with a parent link and updates them with their master',
        withStore(kind, async (store) => {
          const hospital = (beds: number, modified: string) =>
            res('med_hospital', {
              uuid: 'urn:uuid:h',
              modified_on: modified,
              data: [text('name', 'Bhaktapur Clinic')],
              components: [
                res('med_bed_capacity', { data: [value('bed_type', 6), value('beds_available', beds)] }),
                res('med_bed_capacity', { data: [value('bed_type', 7), value('beds_available', 1)] }),
                res('org_office', { alias: 'branch', uuid: 'urn:uuid:branch', data: [text('name', 'Annex')] }),
              ],
            });
          const first = await importResources(store, [hospital(12, '2024-05-01T00:00:00')], options());
          assert.equal(first.created.length, 4);
          assert.equal(first.records, 1);
          const beds = await store.queryRecords({ resource: 'med_bed_capacity', parent: { resource: 'med_hospital', uuid: 'urn:uuid:h' } });
          assert.equal(beds.length, 2);
          const branch = await get(store, 'org_office', 'urn:uuid:branch');
          assert.deepEqual(branch.parent, { resource: 'med_hospital', uuid: 'urn:uuid:h', alias: 'branch' });

          const second = await importResources(store, [hospital(3, '2024-05-02T00:00:00')], options());
          assert.deepEqual(second.created, []);
          assert.equal(second.updated.length, 1);
          const firstBed = (await allOf(store, 'med_bed_capacity')).find((record) => record.data[0]?.value === '6');
          assert.equal(firstBed?.data[1]?.value, '3');
          assert.deepEqual(second.unchanged.sort(), ['urn:uuid:branch', 'urn:uuid:h', ...beds.map((bed) => bed.uuid).filter((uuid) => uuid !== firstBed?.uuid)].sort());
        }),
      );

      it(
        'keeps the parent link when a component comes back as a top-level dependency',
        withStore(kind, async (store) => {
          await importResources(
            store,
            [res('org_organisation', { uuid: 'urn:uuid:org', components: [res('org_office', { uuid: 'urn:uuid:office', data: [text('name', 'A')] })] })],
            options(),
          );
          await importResources(store, [res('org_office', { uuid: 'urn:uuid:office', data: [text('name', 'B')] })], options());
          const office = await get(store, 'org_office', 'urn:uuid:office');
          assert.equal(fieldText(office, 'name'), 'B');
          assert.deepEqual(office.parent, { resource: 'org_organisation', uuid: 'urn:uuid:org' });
        }),
      );
    });

    describe('deletes and merges', () => {
      it(
        'soft-deletes a record and its components, keeping the uuid and the stub\'s modified_on',
        withStore(kind, async (store) => {
          await seed(store, [
            { resource: 'org_organisation', uuid: 'urn:uuid:org', data: [text('name', 'Gone')] },
            { resource: 'org_office', uuid: 'urn:uuid:c1', parent: { resource: 'org_organisation', uuid: 'urn:uuid:org' } },
          ]);
          const result = await importResources(
            store,
            [res('org_organisation', { uuid: 'urn:uuid:org', deleted: true, modified_on: '2024-05-02T08:01:00' })],
            options(),
          );
          assert.deepEqual(result.deleted, ['urn:uuid:org', 'urn:uuid:c1']);
          assert.equal(result.records, 1);
          const organisation = await get(store, 'org_organisation', 'urn:uuid:org');
          assert.equal(organisation.deleted, true);
          assert.equal(organisation.modified_on, '2024-05-02T08:01:00');
          assert.equal(fieldText(organisation, 'name'), 'Gone');
          assert.equal((await get(store, 'org_office', 'urn:uuid:c1')).deleted, true);
          assert.equal(await store.getRecord('org_organisation', 'urn:uuid:org').then((r) => r?.uuid), 'urn:uuid:org');
        }),
      );

      it(
        'skips deleting or merging a uuid it does not know, and counts it as Eden does',
        withStore(kind, async (store) => {
          const result = await importResources(
            store,
            [
              res('org_organisation', { uuid: 'urn:uuid:gone', deleted: true, modified_on: '2024-05-02T08:01:00' }),
              res('org_organisation', { uuid: 'urn:uuid:dupe', deleted: true, replaced_by: 'urn:uuid:keep', modified_on: '2024-05-02T08:01:00' }),
            ],
            options(),
          );
          assert.deepEqual(
            result.skipped.map((entry) => [entry.uuid, entry.code]),
            [
              ['urn:uuid:gone', 'UNKNOWN_TARGET'],
              ['urn:uuid:dupe', 'UNKNOWN_TARGET'],
            ],
          );
          assert.equal(result.records, 2);
          assert.equal(await store.lastSeq(), 0);
        }),
      );

      it(
        'merges a record into a winner created in the same document and re-points references to it',
        withStore(kind, async (store) => {
          await seed(store, [
            { resource: 'org_organisation', uuid: 'urn:uuid:dupe', data: [text('name', 'Himal Relief (dup)')] },
            { resource: 'org_office', uuid: 'urn:uuid:office', references: [ref('organisation_id', 'org_organisation', { uuid: 'urn:uuid:dupe' })] },
            { resource: 'project_project', uuid: 'urn:uuid:p', references: [ref('organisation_id', 'org_organisation', { uuid: ['urn:uuid:dupe', 'urn:uuid:x'] })] },
            { resource: 'org_office', uuid: 'urn:uuid:annex', parent: { resource: 'org_organisation', uuid: 'urn:uuid:dupe' } },
          ]);
          const officeBefore = await get(store, 'org_office', 'urn:uuid:office');
          const result = await importResources(
            store,
            [
              res('org_organisation', { uuid: 'urn:uuid:keep', data: [text('name', 'Himal Relief')] }),
              res('org_organisation', { uuid: 'urn:uuid:dupe', deleted: true, replaced_by: 'urn:uuid:keep', modified_on: '2024-05-02T08:00:00' }),
            ],
            options(),
          );
          assert.deepEqual(result.created, ['urn:uuid:keep']);
          assert.deepEqual(result.merged, ['urn:uuid:dupe']);
          const loser = await get(store, 'org_organisation', 'urn:uuid:dupe');
          assert.equal(loser.deleted, true);
          assert.equal(loser.replaced_by, 'urn:uuid:keep');
          assert.equal(loser.modified_on, '2024-05-02T08:00:00');
          const office = await get(store, 'org_office', 'urn:uuid:office');
          assert.equal(office.references[0]?.uuid, 'urn:uuid:keep');
          assert.equal(office.modified_on, officeBefore.modified_on);
          assert.ok(office.seq > officeBefore.seq);
          assert.deepEqual(JSON.parse((await get(store, 'project_project', 'urn:uuid:p')).references[0]?.uuid ?? ''), ['urn:uuid:keep', 'urn:uuid:x']);
          assert.equal((await get(store, 'org_office', 'urn:uuid:annex')).parent?.uuid, 'urn:uuid:keep');
          assert.deepEqual(await store.findReferencing('urn:uuid:dupe'), []);
        }),
      );

      it(
        'undeletes a deleted record that receives a normal update',
        withStore(kind, async (store) => {
          await seed(store, [{ resource: 'org_office', uuid: 'urn:uuid:o', deleted: true, replaced_by: 'urn:uuid:w', data: [text('name', 'Old')] }]);
          const result = await importResources(store, [res('org_office', { uuid: 'urn:uuid:o', modified_on: '2024-05-01T00:00:00', data: [text('name', 'Back')] })], options());
          assert.deepEqual(result.updated, ['urn:uuid:o']);
          const office = await get(store, 'org_office', 'urn:uuid:o');
          assert.equal(office.deleted, false);
          assert.equal(office.replaced_by, undefined);
          assert.equal(fieldText(office, 'name'), 'Back');
        }),
      );

      it(
        'does not undelete when the update policy keeps the local deletion',
        withStore(kind, async (store) => {
          await seed(store, [{ resource: 'org_office', uuid: 'urn:uuid:o', deleted: true, modified_on: '2024-05-02T00:00:00' }]);
          const result = await importResources(
            store,
            [res('org_office', { uuid: 'urn:uuid:o', modified_on: '2024-05-01T00:00:00', data: [text('name', 'Back')] })],
            options({ updatePolicy: 'NEWER' }),
          );
          assert.deepEqual(result.skipped.map((entry) => entry.code), ['POLICY_KEPT_LOCAL']);
          assert.equal((await get(store, 'org_office', 'urn:uuid:o')).deleted, true);
        }),
      );

      it(
        'reports replaced_by on a live record as an error and goes on with the rest',
        withStore(kind, async (store) => {
          const result = await importResources(
            store,
            [res('org_office', { uuid: 'urn:uuid:bad', replaced_by: 'urn:uuid:w' }), res('org_office', { uuid: 'urn:uuid:good' })],
            options(),
          );
          assert.deepEqual(result.errors.map((entry) => [entry.uuid, entry.code]), [['urn:uuid:bad', 'REPLACED_BY_WITHOUT_DELETED']]);
          assert.deepEqual(result.created, ['urn:uuid:good']);
          assert.equal(result.records, 1);
        }),
      );

      it(
        'reports a merge into itself and invalid values as record errors',
        withStore(kind, async (store) => {
          await seed(store, [{ resource: 'org_office', uuid: 'urn:uuid:self' }]);
          const result = await importResources(
            store,
            [
              res('org_office', { uuid: 'urn:uuid:self', deleted: true, replaced_by: 'urn:uuid:self' }),
              res('org_office', { uuid: 'urn:uuid:t', modified_on: '2024-05-01 10:00' }),
              res('org_office', { uuid: 'urn:uuid:m', mci: 1.5 }),
              res('not a table', { uuid: 'urn:uuid:n' }),
            ],
            options(),
          );
          assert.deepEqual(
            result.errors.map((entry) => entry.code),
            ['MERGE_INTO_ITSELF', 'INVALID_TIMESTAMP', 'INVALID_MCI', 'INVALID_RESOURCE_NAME'],
          );
          assert.equal(result.records, 0);
          assert.equal((await get(store, 'org_office', 'urn:uuid:self')).deleted, false);
        }),
      );
    });

    describe('strategy and target table', () => {
      it(
        'skips methods outside the strategy with METHOD_NOT_ALLOWED and does not count them',
        withStore(kind, async (store) => {
          await seed(store, [
            { resource: 'org_office', uuid: 'urn:uuid:a', data: [text('name', 'A')] },
            { resource: 'org_office', uuid: 'urn:uuid:b' },
          ]);
          const result = await importResources(
            store,
            [
              res('org_office', { uuid: 'urn:uuid:new' }),
              res('org_office', { uuid: 'urn:uuid:a', data: [text('name', 'A2')], components: [res('org_office_type', { uuid: 'urn:uuid:comp' })] }),
              res('org_office', { uuid: 'urn:uuid:b', deleted: true }),
            ],
            options({ strategy: ['create'] }),
          );
          assert.deepEqual(
            result.skipped.map((entry) => [entry.uuid, entry.code]),
            [
              ['urn:uuid:a', 'METHOD_NOT_ALLOWED'],
              ['urn:uuid:b', 'METHOD_NOT_ALLOWED'],
            ],
          );
          // The component is an item of its own: creating it is allowed.
          assert.deepEqual(result.created, ['urn:uuid:new', 'urn:uuid:comp']);
          assert.equal(result.records, 1);
          assert.equal(fieldText(await get(store, 'org_office', 'urn:uuid:a'), 'name'), 'A');
          assert.equal((await get(store, 'org_office', 'urn:uuid:b')).deleted, false);
        }),
      );

      it(
        'imports other tables only when something imported references them',
        withStore(kind, async (store) => {
          const result = await importResources(
            store,
            [
              res('gis_location', { uuid: 'urn:uuid:parent-loc' }),
              res('gis_location', { tuid: 'LOC:1', uuid: 'urn:uuid:loc', references: [ref('parent', 'gis_location', { uuid: 'urn:uuid:parent-loc' })] }),
              res('org_office', { uuid: 'urn:uuid:office', references: [ref('location_id', 'gis_location', { tuid: 'LOC:1' })] }),
              res('org_organisation', { uuid: 'urn:uuid:unrelated' }),
              res('org_office_type', { uuid: 'urn:uuid:type' }),
              res('org_office', { uuid: 'urn:uuid:office2', modified_on: '2024-04-01T00:00:00', references: [ref('office_type_id', 'org_office_type', { uuid: 'urn:uuid:type' })] }),
            ],
            options({ resource: 'org_office', pageSize: 2 }),
          );
          assert.deepEqual(result.created.sort(), ['urn:uuid:loc', 'urn:uuid:office', 'urn:uuid:office2', 'urn:uuid:parent-loc', 'urn:uuid:type']);
          assert.deepEqual(result.skipped.map((entry) => [entry.uuid, entry.code]), [['urn:uuid:unrelated', 'NOT_SELECTED']]);
          assert.equal(await store.getRecord('org_organisation', 'urn:uuid:unrelated'), undefined);
          assert.equal(result.records, 2);
          assert.equal(result.mtime, '2024-04-01T00:00:00');
        }),
      );
    });

    describe('transactions and re-imports', () => {
      it(
        'changes nothing when the same document is imported twice',
        withStore(kind, async (store) => {
          await seed(store, [{ resource: 'org_organisation', uuid: 'urn:uuid:dupe' }, { resource: 'org_office', uuid: 'urn:uuid:gone' }]);
          const document = [
            res('gis_location', { tuid: 'LOC:1', data: [text('name', 'Pokhara')] }),
            res('org_organisation', { uuid: 'urn:uuid:keep', modified_on: '2024-05-01T00:00:00', data: [text('name', 'Himal Relief')] }),
            res('org_organisation', { uuid: 'urn:uuid:dupe', deleted: true, replaced_by: 'urn:uuid:keep', modified_on: '2024-05-02T00:00:00' }),
            res('org_office', { uuid: 'urn:uuid:gone', deleted: true, modified_on: '2024-05-02T00:00:00' }),
            res('org_office', {
              uuid: 'urn:uuid:office',
              references: [ref('location_id', 'gis_location', { tuid: 'LOC:1' }), ref('organisation_id', 'org_organisation', { uuid: 'urn:uuid:dupe' })],
              components: [res('org_office_type', { data: [text('name', 'Field')] })],
            }),
          ];
          const first = await importResources(store, document, options({ pageSize: 2 }));
          assert.equal(first.errors.length, 0);
          const seqAfterFirst = await store.lastSeq();
          const snapshot = await Promise.all(['gis_location', 'org_organisation', 'org_office', 'org_office_type'].map((name) => allOf(store, name)));

          const second = await importResources(store, document, options({ pageSize: 2 }));
          assert.deepEqual([second.created, second.updated, second.deleted, second.merged], [[], [], [], []]);
          assert.equal(second.unchanged.length, 6);
          assert.equal(await store.lastSeq(), seqAfterFirst);
          assert.deepEqual(await Promise.all(['gis_location', 'org_organisation', 'org_office', 'org_office_type'].map((name) => allOf(store, name))), snapshot);
        }),
      );

      it(
        'rolls back a page that throws and stops, keeping the pages before it',
        withStore(kind, async (store) => {
          const failing = failOnPut(store, 'urn:uuid:boom');
          const progress: number[] = [];
          const result = await importResources(
            failing,
            [
              res('org_office', { uuid: 'urn:uuid:1' }),
              res('org_office', { uuid: 'urn:uuid:2' }),
              res('org_office', { uuid: 'urn:uuid:3' }),
              res('org_office', { uuid: 'urn:uuid:boom' }),
              res('org_office', { uuid: 'urn:uuid:5' }),
            ],
            options({ pageSize: 2, onProgress: ({ resources }) => progress.push(resources) }),
          );
          assert.deepEqual(result.created, ['urn:uuid:1', 'urn:uuid:2']);
          assert.equal(result.records, 2);
          assert.deepEqual(result.aborted, { code: 'STORE_WRITE_FAILED', message: 'disk on fire', page: 2 });
          assert.equal(result.errors[0]?.code, 'STORE_WRITE_FAILED');
          assert.deepEqual(progress, [2]);
          assert.deepEqual((await allOf(store, 'org_office')).map((record) => record.uuid).sort(), ['urn:uuid:1', 'urn:uuid:2']);
        }),
      );

      it(
        'refuses bad options before touching the store',
        withStore(kind, async (store) => {
          const bad: Partial<ImportOptions>[] = [
            { updatePolicy: 'NEWEST' as never },
            { updatePolicy: { status: 'MASTER' } as never },
            { conflictPolicy: 'MINE' as never },
            { strategy: ['create', 'upsert'] as never },
            { pageSize: 0 },
            { lastSync: '2024-05-01T00:00:00Z' },
          ];
          for (const extra of bad) {
            await assert.rejects(importResources(store, [res('org_office', { uuid: 'urn:uuid:x' })], options(extra)), (error: unknown) => {
              assert.ok(error instanceof SluiceError);
              assert.equal(error.code, 'BAD_IMPORT_OPTIONS');
              return true;
            });
          }
          assert.equal(await store.lastSeq(), 0);
        }),
      );
    });
  });
}

/** A store whose transactions throw when asked to write one particular uuid. */
function failOnPut(store: Store, uuid: string): Store {
  const bound = <T extends object>(target: T, property: string | symbol): unknown => {
    const member: unknown = Reflect.get(target, property, target);
    return typeof member === 'function' ? member.bind(target) : member;
  };
  const guard = (tx: StoreTransaction): StoreTransaction =>
    new Proxy(tx, {
      get: (inner, property) =>
        property === 'putRecord'
          ? async (record: RecordWrite) => {
              if (record.uuid === uuid) throw new SluiceError('STORE_WRITE_FAILED', 'disk on fire', { status: 500 });
              return inner.putRecord(record);
            }
          : bound(inner, property),
    });
  const transaction = <T>(work: (tx: StoreTransaction) => Promise<T>): Promise<T> => store.transaction((tx) => work(guard(tx)));
  return new Proxy(store, { get: (target, property) => (property === 'transaction' ? transaction : bound(target, property)) });
}
