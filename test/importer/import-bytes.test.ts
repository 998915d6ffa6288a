import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SluiceError } from '../../src/errors.js';
import { importS3XMLBytes } from '../../src/importer/importer.js';
import { allOf, fieldText, fixedClock, get, seed, storeKinds, withStore } from './support.js';

/** Eden's example A from the reference: a pull response with a merge stub and dependencies. */
const PULL_RESPONSE = `<?xml version='1.0' encoding='utf-8'?>
<s3xml success="true" results="2" domain="eden.example.org" url="https://eden.example.org/eden">
  <resource name="org_office" uuid="urn:uuid:3f0c2a9e-8d1b-4c55-9a0e-1b2c3d4e5f60"
            mci="1" created_on="2024-03-01T09:12:44" created_by="admin@example.org"
            modified_on="2024-03-05T16:40:02" modified_by="ops@example.org"
            url="https://eden.example.org/eden/org/office/17">
    <data field="name">Pokhara Field Office</data>
    <data field="code">PKR-01</data>
    <data field="obsolete" value="false">No</data>
    <reference field="organisation_id" resource="org_organisation" uuid="urn:uuid:aa11">Himal Relief</reference>
    <reference field="office_type_id" resource="org_office_type" uuid="urn:uuid:bb22">Field Office</reference>
    <reference field="location_id" resource="gis_location" uuid="urn:uuid:cc33" lat="28.2096" lon="83.9856">Pokhara</reference>
  </resource>
  <resource name="org_office" uuid="urn:uuid:dd44" deleted="True" modified_on="2024-03-04T08:00:00"
            replaced_by="urn:uuid:3f0c2a9e-8d1b-4c55-9a0e-1b2c3d4e5f60"/>
  <resource name="org_organisation" uuid="urn:uuid:aa11" mci="1" modified_on="2023-11-20T10:00:00">
    <data field="name">Himal Relief</data><data field="acronym">HR</data>
  </resource>
  <resource name="org_office_type" uuid="urn:uuid:bb22" mci="1" modified_on="2023-11-20T10:00:00"><data field="name">Field Office</data></resource>
  <resource name="gis_location" uuid="urn:uuid:cc33" mci="1" modified_on="2023-11-20T10:00:00">
    <data field="name">Pokhara</data>
    <data field="gis_feature_type" value="1">Point</data>
    <data field="lat" value="28.2096">28.2096</data><data field="lon" value="83.9856">83.9856</data>
  </resource>
</s3xml>`;

/** Eden's example B: a push with an in-document location by tuid and a component. */
const PUSH_WITH_TUID = `<s3xml>
  <resource name="gis_location" tuid="LOC:clinic-42">
    <data field="name">Bhaktapur Clinic</data>
    <data field="lat">27.6710</data><data field="lon">85.4298</data>
  </resource>
  <resource name="med_hospital" uuid="urn:gw:facility:42" modified_on="2024-05-02T07:30:00" mci="1">
    <data field="name">Bhaktapur Community Clinic</data>
    <data field="facility_type" value="1"/>
    <reference field="location_id" resource="gis_location" tuid="LOC:clinic-42"/>
    <resource name="med_bed_capacity">
      <data field="bed_type" value="6"/>
      <data field="beds_baseline" value="40"/><data field="beds_available" value="12"/>
    </resource>
  </resource>
</s3xml>`;

/** Eden's example C: a deletion and a merge. */
const DELETE_AND_MERGE = `<s3xml>
  <resource name="org_organisation" uuid="urn:uuid:keep"><data field="name">Himal Relief</data></resource>
  <resource name="org_organisation" uuid="urn:uuid:dupe" deleted="true" replaced_by="urn:uuid:keep"
            modified_on="2024-05-02T08:00:00"/>
  <resource name="org_organisation" uuid="urn:uuid:gone" deleted="true" modified_on="2024-05-02T08:01:00"/>
</s3xml>`;

/** Splits a text into small byte chunks, as a network body arrives. */
function chunks(text: string, size = 64): () => Iterable<Uint8Array> {
  const bytes = new TextEncoder().encode(text);
  return function* () {
    for (let offset = 0; offset < bytes.length; offset += size) yield bytes.subarray(offset, offset + size);
  };
}

for (const kind of storeKinds) {
  describe(`importing S3XML bytes on the ${kind.name}`, () => {
    it(
      'imports Eden\'s pull response for one table with its dependencies and the merge stub',
      withStore(kind, async (store) => {
        await seed(store, [{ resource: 'org_office', uuid: 'urn:uuid:dd44', mci: 1 }]);
        const result = await importS3XMLBytes(store, chunks(PULL_RESPONSE), {
          clock: fixedClock,
          resource: 'org_office',
          updatePolicy: 'NEWER',
          strategy: ['create', 'update', 'delete', 'merge'],
        });
        assert.deepEqual(result.errors, []);
        assert.equal(result.records, 2);
        assert.equal(result.mtime, '2024-03-05T16:40:02');
        assert.deepEqual(result.merged, ['urn:uuid:dd44']);
        assert.equal(result.created.length, 4);
        const office = await get(store, 'org_office', 'urn:uuid:3f0c2a9e-8d1b-4c55-9a0e-1b2c3d4e5f60');
        assert.equal(office.mci, 1);
        assert.deepEqual(office.attributes, {
          created_by: 'admin@example.org',
          modified_by: 'ops@example.org',
          url: 'https://eden.example.org/eden/org/office/17',
        });
        assert.deepEqual(office.references[2], {
          field: 'location_id',
          resource: 'gis_location',
          uuid: 'urn:uuid:cc33',
          text: 'Pokhara',
          attributes: { lat: '28.2096', lon: '83.9856' },
        });
        assert.equal(fieldText(await get(store, 'gis_location', 'urn:uuid:cc33'), 'name'), 'Pokhara');
      }),
    );

    it(
      'imports Eden\'s push document with a tuid link and a component',
      withStore(kind, async (store) => {
        const result = await importS3XMLBytes(store, chunks(PUSH_WITH_TUID, 7), { clock: fixedClock, resource: 'med_hospital' });
        assert.deepEqual(result.errors, []);
        assert.deepEqual(result.skipped, []);
        const hospital = await get(store, 'med_hospital', 'urn:gw:facility:42');
        const [location] = await allOf(store, 'gis_location');
        assert.ok(location);
        assert.equal(hospital.references[0]?.uuid, location.uuid);
        const [beds] = await allOf(store, 'med_bed_capacity');
        assert.deepEqual(beds?.parent, { resource: 'med_hospital', uuid: 'urn:gw:facility:42' });
      }),
    );

    it(
      'applies Eden\'s delete and merge document and counts the records as Eden replies',
      withStore(kind, async (store) => {
        await seed(store, [
          { resource: 'org_organisation', uuid: 'urn:uuid:keep' },
          { resource: 'org_organisation', uuid: 'urn:uuid:dupe' },
          { resource: 'org_organisation', uuid: 'urn:uuid:gone' },
        ]);
        const result = await importS3XMLBytes(store, chunks(DELETE_AND_MERGE), { clock: fixedClock, resource: 'org_organisation' });
        assert.equal(result.records, 3);
        assert.deepEqual(result.updated, ['urn:uuid:keep']);
        assert.deepEqual(result.merged, ['urn:uuid:dupe']);
        assert.deepEqual(result.deleted, ['urn:uuid:gone']);
      }),
    );

    for (const [title, body, code] of [
      ['a document that breaks after its first resources', PULL_RESPONSE.replace('</s3xml>', '<resource name="org_office">'), 'XML_MALFORMED'],
      ['a document with a DOCTYPE', `<!DOCTYPE s3xml [<!ENTITY x SYSTEM "file:///etc/passwd">]>${PUSH_WITH_TUID}`, 'XML_DOCTYPE_FORBIDDEN'],
      ['a document with the wrong root', '<html><body/></html>', 'S3XML_WRONG_ROOT'],
    ] as const) {
      it(
        `changes nothing at all for ${title}`,
        withStore(kind, async (store) => {
          await assert.rejects(importS3XMLBytes(store, chunks(body), { clock: fixedClock, pageSize: 1 }), (error: unknown) => {
            assert.ok(error instanceof SluiceError);
            assert.equal(error.code, code);
            return true;
          });
          assert.equal(await store.lastSeq(), 0);
        }),
      );
    }

    it(
      'reads the source twice and writes page by page',
      withStore(kind, async (store) => {
        const resources = Array.from({ length: 5 }, (_, i) => `<resource name="org_office" uuid="urn:uuid:o${i}"><data field="name">O${i}</data></resource>`);
        let opened = 0;
        const open = chunks(`<s3xml>${resources.join('')}</s3xml>`, 50);
        const progress: number[] = [];
        const result = await importS3XMLBytes(
          store,
          () => {
            opened += 1;
            return open();
          },
          { clock: fixedClock, pageSize: 2, onProgress: ({ resources: done }) => progress.push(done) },
        );
        assert.equal(opened, 2);
        assert.deepEqual(progress, [2, 4, 5]);
        assert.equal(result.created.length, 5);
      }),
    );
  });
}
