import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import type { S3Document } from '../../src/s3xml/model.js';
import { parseS3XML } from '../../src/s3xml/parse.js';
import { fromS3JSON, parseS3JSON, s3jsonOrder, stringifyS3JSON, toS3JSON } from '../../src/s3xml/s3json.js';
import { serializeS3XML } from '../../src/s3xml/serialize.js';
import { arbDocument } from '../support/arbitrary-s3xml.js';

const exampleA = readFileSync(new URL('fixtures/eden-example-a-pull.xml', import.meta.url));

describe('toS3JSON', () => {
  it("writes Eden's S3JSON shape for example A", async () => {
    const json = toS3JSON(await parseS3XML(exampleA));
    assert.deepEqual(Object.keys(json), ['@success', '@results', '@domain', '@url', '$_org_office', '$_org_organisation', '$_org_office_type', '$_gis_location']);
    assert.deepEqual(json.$_org_office, [
      {
        '@uuid': 'urn:uuid:3f0c2a9e-8d1b-4c55-9a0e-1b2c3d4e5f60',
        '@mci': '1',
        '@created_on': '2024-03-01T09:12:44',
        '@modified_on': '2024-03-05T16:40:02',
        '@created_by': 'admin@example.org',
        '@modified_by': 'ops@example.org',
        '@url': 'https://eden.example.org/eden/org/office/17',
        name: 'Pokhara Field Office',
        code: 'PKR-01',
        obsolete: { '@value': false, $: 'No' },
        $k_organisation_id: { '@resource': 'org_organisation', '@uuid': 'urn:uuid:aa11…', $: 'Himal Relief' },
        $k_office_type_id: { '@resource': 'org_office_type', '@uuid': 'urn:uuid:bb22…', $: 'Field Office' },
        $k_location_id: { '@resource': 'gis_location', '@uuid': 'urn:uuid:cc33…', '@lat': '28.2096', '@lon': '83.9856', $: 'Pokhara' },
      },
      {
        '@uuid': 'urn:uuid:dd44…',
        '@deleted': 'True',
        '@replaced_by': 'urn:uuid:3f0c2a9e-8d1b-4c55-9a0e-1b2c3d4e5f60',
        '@modified_on': '2024-03-04T08:00:00',
      },
    ]);
    assert.deepEqual((json.$_gis_location as unknown[])[0], {
      '@uuid': 'urn:uuid:cc33…', '@mci': '1', '@modified_on': '2023-06-07T12:00:00',
      name: 'Pokhara', gis_feature_type: { '@value': 1, $: 'Point' }, lat: { '@value': 28.2096, $: '28.2096' }, lon: { '@value': 83.9856, $: '83.9856' },
    });
  });

  it('keeps raw values that JSON would not give back exactly as strings', () => {
    const json = toS3JSON({
      attributes: {},
      resources: [{
        name: 'a', attributes: {}, references: [], components: [],
        data: [
          { field: 'quoted', value: '"Actual"', text: 'Actual' },
          { field: 'bare', value: 'Actual' },
          { field: 'spaced', value: '[1, 2]' },
          { field: 'float', value: '1.0' },
          { field: 'list', value: '["Geo","Met"]' },
          { field: 'nothing' },
          { field: 'upload', attributes: { url: 'local', filename: 'a.jpg' } },
        ],
      }],
    });
    assert.deepEqual(json.$_a, [{
      quoted: { '@value': '"Actual"', $: 'Actual' },
      bare: { '@value': 'Actual' },
      spaced: { '@value': '[1, 2]' },
      float: { '@value': '1.0' },
      list: { '@value': ['Geo', 'Met'] },
      nothing: {},
      upload: { '@url': 'local', '@filename': 'a.jpg' },
    }]);
  });

  it('turns a repeated field or reference into a list and nests components and inline resources', () => {
    const json = toS3JSON({
      attributes: {},
      resources: [{
        name: 'org_organisation', attributes: {},
        data: [{ field: 'tag', text: 'one' }, { field: 'tag', text: 'two' }],
        references: [
          { field: 'sector_id', resource: 'org_sector', uuid: 'urn:uuid:s1' },
          { field: 'sector_id', resource: 'org_sector', uuid: 'urn:uuid:s2' },
          { field: 'location_id', resource: 'gis_location', inline: { name: 'gis_location', attributes: {}, data: [{ field: 'name', text: 'X' }], references: [], components: [] } },
        ],
        components: [{ name: 'org_organisation_branch', alias: 'branch', uuid: 'urn:uuid:b', attributes: {}, data: [], references: [], components: [] }],
      }],
    });
    assert.deepEqual(json.$_org_organisation, [{
      tag: ['one', 'two'],
      $k_sector_id: [{ '@resource': 'org_sector', '@uuid': 'urn:uuid:s1' }, { '@resource': 'org_sector', '@uuid': 'urn:uuid:s2' }],
      $k_location_id: { '@resource': 'gis_location', $_gis_location: [{ name: 'X' }] },
      $_org_organisation_branch: [{ '@alias': 'branch', '@uuid': 'urn:uuid:b' }],
    }]);
  });

  it('refuses field names that cannot be S3JSON keys', () => {
    for (const field of ['$', '@value', '$_x', '$k_x', '$o_x']) {
      assert.throws(() => toS3JSON({ attributes: {}, resources: [{ name: 'a', attributes: {}, data: [{ field, text: 'x' }], references: [], components: [] }] }),
        { code: 'S3JSON_UNSERIALIZABLE' }, field);
    }
  });
});

describe('fromS3JSON', () => {
  it('reads S3JSON as Eden writes and reads it', () => {
    const doc = fromS3JSON({
      '@success': 'true',
      '@results': 2,
      s3: { ignored: true },
      $_org_office: {
        '@uuid': 'urn:uuid:1', '@mci': 2, '@deleted': 'true', '@modified_on': '2024-03-05T16:40:02+01:00', '@name': 'ignored',
        name: 'Pokhara',
        beds: 5,
        verified: true,
        gone: null,
        status: { '@value': 'Actual', $: 'Actual' },
        list: { '@value': ['Geo', 'Met'] },
        json: { '@value': { a: 1 } },
        upload: { '@url': 'local', '@filename': 'a.jpg' },
        tags: ['a', { $: 'b' }],
        $: 'stray text is ignored',
        $o_org_office: { ignored: true },
        $k_sector_id: { '@resource': 'org_sector', '@uuid': ['urn:uuid:s1', 'urn:uuid:s2'], $: 'Health' },
        $k_location_id: [{ '@resource': 'gis_location', '@tuid': 'LOC:1', '@lat': 28.2 }],
        $_org_office_branch: [{ '@alias': 'branch' }],
      },
    });
    assert.deepEqual(doc, {
      attributes: { success: 'true', results: '2' },
      resources: [{
        name: 'org_office', uuid: 'urn:uuid:1', mci: 2, deleted: true, modified_on: '2024-03-05T15:40:02', attributes: {},
        data: [
          { field: 'name', text: 'Pokhara' },
          { field: 'beds', text: '5' },
          { field: 'verified', text: 'true' },
          { field: 'gone' },
          { field: 'status', value: 'Actual', text: 'Actual' },
          { field: 'list', value: '["Geo","Met"]' },
          { field: 'json', value: '{"a":1}' },
          { field: 'upload', attributes: { url: 'local', filename: 'a.jpg' } },
          { field: 'tags', text: 'a' },
          { field: 'tags', text: 'b' },
        ],
        references: [
          { field: 'sector_id', resource: 'org_sector', uuid: '["urn:uuid:s1","urn:uuid:s2"]', text: 'Health' },
          { field: 'location_id', resource: 'gis_location', tuid: 'LOC:1', attributes: { lat: '28.2' } },
        ],
        components: [{ name: 'org_office_branch', alias: 'branch', attributes: {}, data: [], references: [], components: [] }],
      }],
    });
  });

  it('refuses what the S3XML reader refuses, with the same codes', () => {
    const cases: [unknown, string][] = [
      [[], 'S3JSON_MALFORMED'],
      [null, 'S3JSON_MALFORMED'],
      ['<s3xml/>', 'S3JSON_MALFORMED'],
      [{ $_a: ['not an object'] }, 'S3JSON_MALFORMED'],
      [{ $_a: [{ name: [['nested list']] }] }, 'S3JSON_MALFORMED'],
      [{ $_a: [{ name: { $: { not: 'text' } } }] }, 'S3JSON_MALFORMED'],
      [{ $_a: [{ '@bad name': 'x' }] }, 'S3JSON_MALFORMED'],
      [{ $_a: [{ '@xmlns': 'urn:x' }] }, 'S3JSON_MALFORMED'],
      [{ $_a: [{ name: 'bell\u0007' }] }, 'S3JSON_MALFORMED'],
      [{ $_: [{}] }, 'S3XML_RESOURCE_WITHOUT_NAME'],
      [{ $_a: [{ $_: [{}] }] }, 'S3XML_RESOURCE_WITHOUT_NAME'],
      [{ $_a: [{ '@created_on': 'yesterday' }] }, 'S3XML_BAD_TIMESTAMP'],
      [{ $_a: [{ '@modified_on': '2024-02-31T00:00:00' }] }, 'S3XML_BAD_TIMESTAMP'],
      [{ $_a: [{ '@mci': 'one' }] }, 'S3XML_BAD_MCI'],
      [{ $_a: [{ '@mci': 1.5 }] }, 'S3XML_BAD_MCI'],
      [{ $_a: [{ $k_location_id: { '@uuid': 'urn:uuid:1' } }] }, 'S3XML_BAD_ELEMENT'],
      [{ $_a: [{ $k_: { '@resource': 'gis_location' } }] }, 'S3XML_BAD_ELEMENT'],
      [{ $_a: [{ $k_location_id: 'urn:uuid:1' }] }, 'S3JSON_MALFORMED'],
      [{ $_a: [{ '': 'x' }] }, 'S3XML_BAD_ELEMENT'],
    ];
    for (const [json, code] of cases) {
      assert.throws(() => fromS3JSON(json), (error: unknown) => {
        assert.equal((error as { code?: string }).code, code, JSON.stringify(json));
        assert.equal((error as { status?: number }).status, 400);
        return true;
      });
    }
  });

  it('refuses resources nested deeper than the limit', () => {
    let json: Record<string, unknown> = { '@uuid': 'leaf' };
    for (let depth = 0; depth < 100; depth += 1) json = { $_a: [json] };
    assert.throws(() => fromS3JSON(json), { code: 'S3JSON_LIMIT_EXCEEDED' });
    assert.doesNotThrow(() => fromS3JSON(json, { maxDepth: 200 }));
  });

  it('parseS3JSON refuses text that is not JSON', () => {
    assert.throws(() => parseS3JSON('{"$_a": ['), { code: 'S3JSON_MALFORMED' });
    assert.throws(() => parseS3JSON(''), { code: 'S3JSON_MALFORMED' });
  });
});

describe('S3JSON round trips', () => {
  it('S3Document → S3JSON → S3Document loses nothing but the order S3JSON cannot express', () => {
    fc.assert(fc.property(arbDocument(), (doc: S3Document) => {
      assert.deepEqual(fromS3JSON(toS3JSON(doc)), s3jsonOrder(doc));
      assert.deepEqual(parseS3JSON(stringifyS3JSON(doc, { pretty: true })), s3jsonOrder(doc));
    }), { numRuns: 300 });
  });

  it('S3XML → S3JSON → S3XML gives the same document once grouped', async () => {
    await fc.assert(fc.asyncProperty(arbDocument({ maxResources: 4 }), async (doc) => {
      const viaJson = fromS3JSON(JSON.parse(JSON.stringify(toS3JSON(await parseS3XML(serializeS3XML(doc))))));
      assert.equal(serializeS3XML(viaJson), serializeS3XML(s3jsonOrder(doc)));
    }), { numRuns: 100 });
  });

  it('s3jsonOrder groups resources per table in order of first appearance', () => {
    const resource = (name: string, uuid: string) => ({ name, uuid, attributes: {}, data: [], references: [], components: [] });
    const doc = { attributes: {}, resources: [resource('a', '1'), resource('b', '2'), resource('a', '3')] };
    assert.deepEqual(s3jsonOrder(doc).resources.map((r) => r.uuid), ['1', '3', '2']);
    assert.deepEqual(fromS3JSON(toS3JSON(doc)).resources.map((r) => r.uuid), ['1', '3', '2']);
  });
});
