import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { describe, it } from 'node:test';
import { runXslt } from '../support/run-xslt.js';
import { parseXml, s3Field, s3Resources, type XmlElement } from '../support/xml-tree.js';

const extract = (): Promise<string> => readFile(new URL('../fixtures/formats/osm/kathmandu-pois.osm', import.meta.url), 'utf8');

function byUuid(resources: XmlElement[], uuid: string): XmlElement {
  const found = resources.find((r) => r.attributes.uuid === uuid);
  assert.ok(found, uuid);
  return found;
}

describe('OSM XML import of points of interest', () => {
  it('imports hospitals, shelters and offices by tag and ignores everything else', async () => {
    const { output, messages } = await runXslt('osm/import.xsl', await extract());
    assert.deepEqual(messages, []);
    const root = parseXml(output);
    const names = (table: string): unknown[] => s3Resources(root, table).map((r) => s3Field(r, 'name'));
    assert.deepEqual(names('med_hospital'), ['Bir Hospital', 'Teaching Hospital']);
    assert.deepEqual(names('cr_shelter'), ['Tundikhel Open Space']);
    assert.deepEqual(names('org_office'), ['Nepal Red Cross Society', 'District Administration Office']);
    assert.deepEqual(names('org_organisation'), ['Nepal Red Cross Society', 'Government of Nepal']);
    assert.equal(s3Resources(root, 'gis_location').length, 5);
  });

  it('keeps the useful tags as fields and derives stable uuids from OSM ids', async () => {
    const root = parseXml((await runXslt('osm/import.xsl', await extract())).output);
    const bir = byUuid(s3Resources(root, 'med_hospital'), 'urn:osm:node:1001');
    assert.deepEqual(
      ['phone_exchange', 'total_beds', 'website', 'facility_type'].map((f) => s3Field(bir, f)),
      ['+977 1 4221119', 460, 'https://birhospital.example/', 1],
    );
    const shelter = byUuid(s3Resources(root, 'cr_shelter'), 'urn:osm:node:1002');
    assert.equal(s3Field(shelter, 'capacity_day'), 5000);
    assert.equal(s3Field(shelter, 'comments'), 'Designated open space, "zone B", water tanks on the east side');
    const office = byUuid(s3Resources(root, 'org_office'), 'urn:osm:node:1003');
    assert.equal(s3Field(office, 'email'), 'info@nrcs.example');
    const organisation = office.children.find((c) => c.attributes.field === 'organisation_id');
    assert.equal(organisation?.attributes.tuid, 'OSMORG:Nepal Red Cross Society');
  });

  it('places nodes at their position and closed ways as polygons centred on their box', async () => {
    const root = parseXml((await runXslt('osm/import.xsl', await extract())).output);
    const locations = s3Resources(root, 'gis_location');
    const bir = byUuid(locations, 'urn:osm:node:1001:location');
    assert.deepEqual(['wkt', 'lat', 'lon', 'addr_street', 'L3'].map((f) => s3Field(bir, f)), [
      'POINT (85.3131 27.7046)',
      27.7046,
      85.3131,
      'Kanti Path',
      'Kathmandu',
    ]);
    const teaching = byUuid(locations, 'urn:osm:way:3001:location');
    assert.equal(s3Field(teaching, 'gis_feature_type'), 3);
    assert.equal(s3Field(teaching, 'wkt'), 'POLYGON ((85.33 27.735, 85.332 27.735, 85.332 27.737, 85.33 27.737, 85.33 27.735))');
    assert.deepEqual([s3Field(teaching, 'lat'), s3Field(teaching, 'lon'), s3Field(teaching, 'addr_postcode')], [27.736, 85.331, '44600']);
    const hospital = byUuid(s3Resources(root, 'med_hospital'), 'urn:osm:way:3001');
    assert.equal(hospital.children.find((c) => c.attributes.field === 'location_id')?.attributes.uuid, 'urn:osm:way:3001:location');
  });

  it('imports only the kinds asked for', async () => {
    const root = parseXml((await runXslt('osm/import.xsl', await extract(), { kinds: 'shelter' })).output);
    assert.deepEqual(
      s3Resources(root).filter((r) => r.attributes.name !== 'gis_location').map((r) => r.attributes.name),
      ['cr_shelter'],
    );
  });
});
