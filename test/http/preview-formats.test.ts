import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { listenOnLoopback } from '../support/listen.js';
import { postPreview } from './support/preview.js';
import express from 'express';
import { NO_SCHEMA_NOTE, previewRouter } from '../../src/http/preview-route.js';
import type { TransformEngine } from '../../src/transform/engine.js';
import { testEngine } from '../transform/helpers.js';

const STYLESHEETS = fileURLToPath(new URL('../../stylesheets/', import.meta.url));

const OFFICE = '<s3xml><resource name="org_office" uuid="urn:uuid:office-1"><data field="name">Jacmel office</data></resource></s3xml>';

const V5_ANSWER = JSON.stringify({
  count: 1,
  results: [
    {
      id: 4412,
      title: 'Water point dry',
      content: 'No water since Monday',
      status: 'published',
      created: '2024-05-02T09:14:05+00:00',
      post_date: '2024-05-02T09:13:00+00:00',
      categories: [{ id: 12, tag: 'Water shortage' }],
      post_content: [],
    },
  ],
});

const V2_ANSWER = JSON.stringify({
  payload: {
    domain: 'https://classic.example.org/',
    incidents: [
      {
        incident: {
          incidentid: '3',
          incidenttitle: 'Road blocked',
          incidentdescription: 'Landslide on the coast road',
          incidentdate: '2024-05-02 09:13:00',
          incidentmode: '2',
          incidentactive: '1',
          incidentverified: '0',
          locationname: 'Jacmel',
          locationlatitude: '18.23',
          locationlongitude: '-72.53',
        },
        categories: [{ category: { id: 4, title: 'Roads' } }],
        media: [],
        customfields: [],
      },
    ],
  },
  error: { code: '0', message: 'No Error' },
});

describe('POST /api/preview with the shipped formats', () => {
  let engine: TransformEngine;
  let closeServer: () => Promise<void>;
  let base: string;
  const validated: string[] = [];

  before(async () => {
    engine = testEngine({ stylesheetsDir: STYLESHEETS });
    const app = express();
    app.use(
      previewRouter({
        engine,
        stylesheetsDir: STYLESHEETS,
        validate: async (_xml, schema) => {
          validated.push(schema);
          return { valid: false, errors: [{ message: 'empty envelope' }] };
        },
      }),
    );
    ({ base, close: closeServer } = await listenOnLoopback(app));
  });

  after(async () => {
    await closeServer();
    await engine.close();
  });

  const preview = (body: unknown) => postPreview(base, body);

  it('imports a raw Ushahidi v5 answer by normalising it into the json parameter', async () => {
    const { status, body } = await preview({ format: 'ushahidi', direction: 'import', input: V5_ANSWER, params: { deployment: 'haiti.example.org' } });
    assert.equal(status, 200, JSON.stringify(body.errors));
    assert.match(body.output ?? '', /<resource name="event_incident_report" uuid="haiti\.example\.org\/4412"/);
    assert.match(body.output ?? '', /<data field="name">Water point dry<\/data>/);
    assert.match(body.output ?? '', /tuid="INCIDENTTYPE:Water shortage"/);
    assert.ok(body.messages.some((message) => message.includes('v5 API answer with 1 post')));
  });

  it('imports a raw classic v2 answer the way the v2 client reads it', async () => {
    const { status, body } = await preview({ format: 'ushahidi', direction: 'import', input: V2_ANSWER, params: { deployment: 'classic.example.org' } });
    assert.equal(status, 200, JSON.stringify(body.errors));
    assert.match(body.output ?? '', /uuid="classic\.example\.org\/3"/);
    assert.match(body.output ?? '', /Landslide on the coast road/);
    assert.ok(body.messages.some((message) => message.includes('v2 API answer')));
  });

  it('refuses JSON that is not Ushahidi posts, and an Ushahidi export', async () => {
    const other = await preview({ format: 'ushahidi', direction: 'import', input: '{"type":"FeatureCollection"}' });
    assert.equal(other.status, 422);
    assert.equal(other.body.errors[0]?.code, 'USHAHIDI_INPUT_UNRECOGNISED');
    const exported = await preview({ format: 'ushahidi', direction: 'export', input: OFFICE });
    assert.equal(exported.body.errors[0]?.code, 'UNKNOWN_FORMAT');
  });

  it('warns before a CAP export of records that are not CAP alerts', async () => {
    const { status, body } = await preview({ format: 'cap', direction: 'export', input: OFFICE });
    assert.equal(status, 200, JSON.stringify(body.errors));
    assert.equal(body.warnings[0], 'CAP export takes cap_alert records; the input has org_office');
  });

  it('exports S3JSON as JSON and says neutrally that there is no schema', async () => {
    const before = validated.length;
    const { status, body } = await preview({ format: 's3json', direction: 'export', input: OFFICE });
    assert.equal(status, 200, JSON.stringify(body.errors));
    assert.equal(body.mediaType, 'application/json');
    const json = JSON.parse(body.output ?? 'null') as Record<string, unknown>;
    assert.deepEqual(json['$_org_office'], [{ '@uuid': 'urn:uuid:office-1', name: 'Jacmel office' }]);
    assert.deepEqual(body.validation, { schema: 's3json', checked: false, valid: null, errors: [], note: NO_SCHEMA_NOTE });
    assert.deepEqual(body.warnings, []);
    assert.equal(validated.length, before, 'no validator call for a format without a schema');
  });

  it('exports CSV as text with the column stylesheet of the input table', async () => {
    const { status, body } = await preview({ format: 'csv', direction: 'export', input: OFFICE });
    assert.equal(status, 200, JSON.stringify(body.errors));
    assert.equal(body.mediaType, 'text/csv');
    assert.match(body.output ?? '', /^Name,/);
    assert.match(body.output ?? '', /Jacmel office/);
  });

  it('exports XLSX as base64 bytes of a workbook', async () => {
    const { status, body } = await preview({ format: 'xlsx', direction: 'export', input: OFFICE });
    assert.equal(status, 200, JSON.stringify(body.errors));
    assert.equal(body.outputEncoding, 'base64');
    // A workbook is a zip file: PK\x03\x04.
    assert.deepEqual([...Buffer.from(body.output ?? '', 'base64').subarray(0, 4)], [0x50, 0x4b, 0x03, 0x04]);
  });

  it('imports CSV rows for the table the request names', async () => {
    const input = 'Name,Organisation\r\nJacmel office,Red Cross\r\n';
    const { status, body } = await preview({ format: 'csv', direction: 'import', resource: 'org_office', input });
    assert.equal(status, 200, JSON.stringify(body.errors));
    assert.match(body.output ?? '', /<resource name="org_office"/);
  });

  it('fills the CSV Type column from the incident type reference or a plain incident_type value', async () => {
    const input = `<s3xml>
  <resource name="event_incident_report" uuid="r1"><data field="name">A</data>
    <reference field="incident_type_id" resource="event_incident_type" uuid="t1">Flood</reference></resource>
  <resource name="event_incident_report" uuid="r2"><data field="name">B</data><data field="incident_type">Fire</data></resource>
</s3xml>`;
    const { status, body } = await preview({ format: 'csv', direction: 'export', input });
    assert.equal(status, 200, JSON.stringify(body.errors));
    const rows = (body.output ?? '').trim().split('\r\n').map((line) => line.split(','));
    const type = rows[0]?.indexOf('Type') ?? -1;
    assert.ok(type >= 0);
    assert.deepEqual(rows.slice(1).map((row) => row[type]), ['Flood', 'Fire']);
  });

  it('refuses an empty input before running anything', async () => {
    const { status, body } = await preview({ format: 'cap', direction: 'import', input: '  \n' });
    assert.equal(status, 400);
    assert.equal(body.errors[0]?.code, 'PREVIEW_NO_INPUT');
    assert.match(body.errors[0]?.message ?? '', /paste or load a document first/);
    assert.deepEqual(body.steps, []);
  });

  it('names an uploaded stylesheet "your stylesheet", never its path on the server', async () => {
    const stylesheet = '<xsl:stylesheet version="3.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform">\n<xsl:template match="/">\n<xsl:value-of select="1 +"/>\n</xsl:template>\n</xsl:stylesheet>';
    const { body } = await preview({ stylesheet, direction: 'export', input: '<a/>' });
    const error = body.errors[0];
    assert.equal(error?.module, 'your stylesheet');
    assert.equal(error?.line, 3);
    assert.doesNotMatch(JSON.stringify(body), /uploads|\.xsl:/);
  });

  it('gives the same 1-based line for malformed XML in the message and the details', async () => {
    const { status, body } = await preview({ format: 'cap', direction: 'import', input: '<a>\n<b>\n<c></b>\n</a>' });
    assert.equal(status, 400);
    const error = body.errors[0];
    assert.equal(error?.code, 'XML_MALFORMED');
    assert.equal(error?.line, 3);
    assert.match(error?.message ?? '', /line 3\b/);
    assert.doesNotMatch(error?.message ?? '', /line 2\b/);
  });
});
