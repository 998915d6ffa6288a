import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { describe, it } from 'node:test';
import { isSluiceError } from '../../src/errors.js';
import { createFormatSteps, wrapJson } from '../../src/formats/steps.js';
import { runXslt } from '../support/run-xslt.js';
import { parseXml, s3Field, s3Resources, type XmlElement } from '../support/xml-tree.js';

const fixture = (path: string): Promise<string> => readFile(new URL(`../fixtures/formats/${path}`, import.meta.url), 'utf8');

interface Feature {
  type: string;
  id?: string;
  geometry: { type: string; coordinates: unknown };
  properties: Record<string, unknown>;
}

async function exportGeoJson(s3xml: string, params: Record<string, string> = {}): Promise<Feature[]> {
  const { output } = await runXslt('geojson/export.xsl', s3xml, params);
  const collection = JSON.parse(output) as { type: string; features: Feature[] };
  assert.equal(collection.type, 'FeatureCollection');
  return collection.features;
}

describe('GeoJSON export', () => {
  it('exports an office through its dereferenced location, lon before lat, values typed', async () => {
    const features = await exportGeoJson(`<s3xml>
      <resource name="org_office" uuid="urn:uuid:o1">
        <data field="name">Pokhara "Field" Office</data>
        <data field="obsolete" value="false">No</data>
        <data field="sectors" value='["Health","WASH"]'>Health, WASH</data>
        <reference field="location_id" resource="gis_location" uuid="urn:uuid:l1" lat="28.2096" lon="83.9856">Pokhara</reference>
      </resource>
      <resource name="gis_location" uuid="urn:uuid:l1">
        <data field="name">Pokhara</data><data field="lat" value="28.2096">28.2096</data><data field="lon" value="83.9856">83.9856</data>
      </resource></s3xml>`);
    assert.deepEqual(features, [
      {
        type: 'Feature',
        id: 'urn:uuid:o1',
        geometry: { type: 'Point', coordinates: [83.9856, 28.2096] },
        properties: { resource: 'org_office', name: 'Pokhara "Field" Office', obsolete: false, sectors: ['Health', 'WASH'] },
      },
    ]);
  });

  it('turns WKT polygons and multipolygons into GeoJSON geometries', async () => {
    const features = await exportGeoJson(`<s3xml>
      <resource name="gis_location" uuid="urn:uuid:p"><data field="wkt">POLYGON ((-120.14 38.47, -119.95 38.34, -119.74 38.52, -120.14 38.47))</data></resource>
      <resource name="gis_location" uuid="urn:uuid:m"><data field="wkt">MULTIPOLYGON (((20 10, 21 10, 21 11, 20 10)), ((22 12, 23 12, 23 13, 22 12), (22.2 12.2, 22.4 12.2, 22.4 12.4, 22.2 12.2)))</data></resource>
      <resource name="gis_location" uuid="urn:uuid:mp"><data field="wkt">MULTIPOINT ((1 2), (3 4))</data></resource>
      <resource name="gis_location" uuid="urn:uuid:l"><data field="wkt">LINESTRING Z (1 2 3, 4 5 6)</data></resource>
    </s3xml>`);
    assert.deepEqual(
      features.map((f) => f.geometry),
      [
        { type: 'Polygon', coordinates: [[[-120.14, 38.47], [-119.95, 38.34], [-119.74, 38.52], [-120.14, 38.47]]] },
        {
          type: 'MultiPolygon',
          coordinates: [
            [[[20, 10], [21, 10], [21, 11], [20, 10]]],
            [[[22, 12], [23, 12], [23, 13], [22, 12]], [[22.2, 12.2], [22.4, 12.2], [22.4, 12.4], [22.2, 12.2]]],
          ],
        },
        { type: 'MultiPoint', coordinates: [[1, 2], [3, 4]] },
        { type: 'LineString', coordinates: [[1, 2], [4, 5]] },
      ],
    );
  });

  it('leaves out records without any position and dereferenced locations', async () => {
    const features = await exportGeoJson(`<s3xml>
      <resource name="org_organisation" uuid="urn:uuid:n"><data field="name">No place</data></resource>
      <resource name="med_hospital" uuid="urn:uuid:h"><data field="name">Bir</data>
        <reference field="location_id" resource="gis_location" uuid="urn:uuid:gone" lat="27.7" lon="85.3"/></resource>
      <resource name="org_office" uuid="urn:uuid:o"><reference field="location_id" resource="gis_location" uuid="urn:uuid:l"/></resource>
      <resource name="gis_location" uuid="urn:uuid:l"><data field="wkt">POINT (1 2)</data></resource>
    </s3xml>`);
    assert.deepEqual(
      features.map((f) => [f.id, f.geometry.coordinates]),
      [
        ['urn:uuid:h', [85.3, 27.7]],
        ['urn:uuid:o', [1, 2]],
      ],
    );
    const onlyLocations = await exportGeoJson('<s3xml><resource name="org_office"><reference field="location_id" resource="gis_location" uuid="l"/></resource><resource name="gis_location" uuid="l"><data field="wkt">POINT (1 2)</data></resource></s3xml>', { resource: 'gis_location' });
    assert.equal(onlyLocations.length, 1);
  });
});

describe('GeoJSON import', () => {
  it('imports points and polygons into gis_location and skips geometries it cannot store', async () => {
    const { output, messages } = await runXslt('geojson/import.xsl', wrapJson(await fixture('geojson/shelters.geojson')));
    assert.deepEqual(messages, ['sluice:warning geojson feature (no id) skipped: geometry GeometryCollection cannot be stored']);
    const locations = s3Resources(parseXml(output), 'gis_location');
    assert.equal(locations.length, 3);
    const [point, polygon, islands] = locations as [XmlElement, XmlElement, XmlElement];
    assert.equal(point.attributes.uuid, 'urn:uuid:5a0e1f00-0000-4000-8000-000000000001');
    assert.deepEqual([s3Field(point, 'name'), s3Field(point, 'wkt'), s3Field(point, 'lat'), s3Field(point, 'lon')], [
      'Tundikhel Open Space',
      'POINT (85.3157 27.6939)',
      27.6939,
      85.3157,
    ]);
    assert.equal(s3Field(point, 'comments'), 'Zone "B", water tanks');
    assert.equal(polygon.attributes.uuid, undefined, 'a numeric id is no uuid');
    assert.equal(s3Field(polygon, 'name'), 'Teaching Hospital grounds');
    assert.equal(s3Field(polygon, 'wkt'), 'POLYGON ((85.33 27.735, 85.332 27.735, 85.332 27.737, 85.33 27.737, 85.33 27.735))');
    assert.deepEqual([s3Field(polygon, 'gis_feature_type'), s3Field(polygon, 'lat'), s3Field(polygon, 'lon_max')], [3, 27.736, 85.332]);
    assert.equal(
      s3Field(islands, 'wkt'),
      'MULTIPOLYGON (((10 20, 11 20, 11 21, 10 20)), ((12 22, 13 22, 13 23, 12 22), (12.2 22.2, 12.4 22.2, 12.4 22.4, 12.2 22.2)))',
    );
  });

  it('round-trips its own GeoJSON: import, export and the geometries are the same', async () => {
    const original = JSON.parse(await fixture('geojson/shelters.geojson')) as { features: Feature[] };
    const imported = (await runXslt('geojson/import.xsl', wrapJson(JSON.stringify(original)))).output;
    const features = await exportGeoJson(imported);
    assert.deepEqual(
      features.map((f) => f.geometry),
      original.features.slice(0, 3).map((f) => f.geometry),
    );
  });

  it('reads the same GeoJSON from the $json parameter, as the engine passes JSON input', async () => {
    const json = await fixture('geojson/shelters.geojson');
    const direct = await runXslt('geojson/import.xsl', json, {}, { jsonInput: true });
    assert.equal(direct.output, (await runXslt('geojson/import.xsl', wrapJson(json))).output);
    assert.equal(s3Resources(parseXml(direct.output), 'gis_location').length, 3);
  });

  it('accepts a bare geometry as a one-feature collection', async () => {
    const { output } = await runXslt('geojson/import.xsl', wrapJson('{"type":"Point","coordinates":[1.5,-2.25]}'));
    assert.equal(s3Field(s3Resources(parseXml(output), 'gis_location')[0] as XmlElement, 'wkt'), 'POINT (1.5 -2.25)');
  });

  it('skips geometries with broken coordinates instead of failing the import', async () => {
    const json = JSON.stringify({
      type: 'FeatureCollection',
      features: [
        { type: 'Feature', id: 'a', geometry: { type: 'Point', coordinates: [] } },
        { type: 'Feature', id: 'b', geometry: { type: 'Polygon', coordinates: [[['x', 1]]] } },
        { type: 'Feature', id: 'c', geometry: { type: 'LineString', coordinates: 'none' } },
        'not a feature',
        { type: 'Feature', id: 'd', geometry: { type: 'Point', coordinates: [1, 2] }, properties: { name: ['list'] } },
      ],
    });
    const { output, messages } = await runXslt('geojson/import.xsl', wrapJson(json));
    assert.equal(messages.length, 3);
    const locations = s3Resources(parseXml(output), 'gis_location');
    assert.deepEqual(locations.map((l) => [l.attributes.uuid, s3Field(l, 'name')]), [['d', undefined]]);
    const odd = await runXslt('geojson/import.xsl', wrapJson('{"type":"FeatureCollection","features":"none"}'));
    assert.equal(s3Resources(parseXml(odd.output)).length, 0);
  });

  it('refuses malformed JSON before any stylesheet runs', async () => {
    const steps = createFormatSteps();
    await assert.rejects(steps['json-wrap']('{"type": ', {}), (error: unknown) => isSluiceError(error) && error.code === 'JSON_INVALID');
    assert.equal(await steps['json-wrap']('\uFEFF{"a":"<&>"}', {}), '<json>{"a":"&lt;&amp;&gt;"}</json>');
  });
});
