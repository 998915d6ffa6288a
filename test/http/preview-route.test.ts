import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { listenOnLoopback } from '../support/listen.js';
import { postPreview } from './support/preview.js';
import express from 'express';
import { previewRouter } from '../../src/http/preview-route.js';
import type { TransformEngine } from '../../src/transform/engine.js';
import { FIXTURES, testEngine } from '../transform/helpers.js';

const STYLESHEETS = path.join(FIXTURES, 'preview');

/** An instance mapping as the mapping editor generates it: maps one lookup value. */
const MAPPING = `<xsl:stylesheet version="1.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform">
  <xsl:output method="xml" omit-xml-declaration="yes"/>
  <xsl:template match="@*|node()"><xsl:copy><xsl:apply-templates select="@*|node()"/></xsl:copy></xsl:template>
  <xsl:template match="data[@field='status']/text()[. = 'open']">
    <xsl:message>mapped status open</xsl:message>
    <xsl:text>Actionable</xsl:text>
  </xsl:template>
</xsl:stylesheet>`;

describe('POST /api/preview', () => {
  let engine: TransformEngine;
  let closeServer: () => Promise<void>;
  let base: string;
  const validated: { xml: string; schema: string }[] = [];

  before(async () => {
    engine = testEngine({ stylesheetsDir: STYLESHEETS });
    const app = express();
    app.use(
      previewRouter({
        engine,
        stylesheetsDir: STYLESHEETS,
        validate: async (xml, schema) => {
          validated.push({ xml, schema });
          return xml.includes('title=""') ? { valid: false, errors: [{ line: 1, message: 'title must not be empty' }] } : { valid: true, errors: [] };
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

  it('runs a format\'s import stylesheet and then the mapping, with messages and timings', async () => {
    const { status, body } = await preview({
      format: 'demo',
      direction: 'import',
      input: '<reports><report id="7" title="Bridge" status="open"/></reports>',
      mapping: MAPPING,
    });
    assert.equal(status, 200, JSON.stringify(body.errors));
    assert.equal(body.output, '<s3xml><resource name="event_incident_report" uuid="urn:demo:7"><data field="name">Bridge</data><data field="status">Actionable</data></resource></s3xml>');
    assert.equal(body.mediaType, 'application/xml');
    assert.deepEqual(body.messages, ['report 7', 'mapped status open']);
    assert.deepEqual(body.steps.map((step) => step.step), ['demo import', 'mapping']);
    assert.deepEqual(body.errors, []);
    assert.equal(typeof body.durationMs, 'number');
  });

  it('validates an XML export against the format\'s schema', async () => {
    const input = '<s3xml><resource uuid="urn:demo:1"><data field="name"></data><data field="status">x</data></resource></s3xml>';
    const { status, body } = await preview({ format: 'demo', direction: 'export', input });
    assert.equal(status, 200);
    assert.equal(body.output, '<reports><report id="1" title="" status="x"/></reports>');
    assert.deepEqual(body.validation, { schema: 'demo', checked: true, valid: false, errors: [{ line: 1, message: 'title must not be empty' }] });
    assert.equal(validated.at(-1)?.schema, 'demo');
  });

  it('runs an uploaded stylesheet sandboxed', async () => {
    const stylesheet = `<xsl:stylesheet version="3.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform"><xsl:output method="text"/><xsl:template match="/">count=<xsl:value-of select="count(//resource)"/></xsl:template></xsl:stylesheet>`;
    const { status, body } = await preview({ stylesheet, direction: 'export', input: '<s3xml><resource/><resource/></s3xml>' });
    assert.equal(status, 200, JSON.stringify(body.errors));
    assert.equal(body.output, 'count=2');
    assert.equal(body.mediaType, 'text/plain');
  });

  it('reports compile errors with their line', async () => {
    const stylesheet = '<xsl:stylesheet version="3.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform">\n<xsl:template match="/">\n<xsl:value-of select="1 +"/>\n</xsl:template>\n</xsl:stylesheet>';
    const { status, body } = await preview({ stylesheet, direction: 'export', input: '<a/>' });
    assert.equal(status, 422);
    assert.equal(body.output, null);
    assert.equal(body.errors[0]?.code, 'XSLT_COMPILE_ERROR');
    assert.equal(body.errors[0]?.line, 3);
    assert.equal(body.errors[0]?.step, 'stylesheet');
  });

  it('reports a sandbox refusal for an uploaded stylesheet reading local files', async () => {
    const stylesheet = `<xsl:stylesheet version="3.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform"><xsl:template match="/"><xsl:value-of select="unparsed-text('/etc/passwd')"/></xsl:template></xsl:stylesheet>`;
    const { status, body } = await preview({ stylesheet, direction: 'export', input: '<a/>' });
    assert.equal(status, 403);
    assert.equal(body.errors[0]?.code, 'XSLT_SANDBOX_VIOLATION');
  });

  it('refuses a malformed request and an unknown format', async () => {
    const bad = await preview({ direction: 'sideways', input: 1 });
    assert.equal(bad.status, 400);
    assert.equal(bad.body.errors[0]?.code, 'BAD_PREVIEW_REQUEST');
    const unknown = await preview({ format: 'nope', direction: 'import', input: '<a/>' });
    assert.equal(unknown.status, 404);
    assert.equal(unknown.body.errors[0]?.code, 'UNKNOWN_FORMAT');
  });
});
