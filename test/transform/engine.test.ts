import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readdir, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { TransformEngine } from '../../src/transform/engine.js';
import { FIXTURES, SHARED_CACHE_DIR, scratchDir, testEngine, transformFailure } from './helpers.js';

const BEHAVIOURS = { path: 'engine/behaviours.xsl' };
const S3XML = '<s3xml><resource name="org_organisation" uuid="a"/><resource name="org_office" uuid="b"/></s3xml>';


describe('transform engine', () => {
  let engine: TransformEngine;
  before(() => {
    engine = testEngine({ workers: 2, timeoutMs: 15_000, maxInputBytes: 4096 });
  });
  after(() => engine.close());

  it('runs a stylesheet with parameters and returns output, media type, method and messages', async () => {
    const result = await engine.transform({ stylesheet: BEHAVIOURS, input: S3XML, params: { domain: 'eden.example.org' } });
    assert.equal(result.output, '<?xml version="1.0" encoding="UTF-8"?><out domain="eden.example.org" resources="2"/>');
    assert.equal(result.mediaType, 'application/xml');
    assert.equal(result.method, 'xml');
    assert.deepEqual(result.messages, ['processing 2 resources']);
    assert.ok(result.durationMs > 0);
  });

  it('reports the media type the stylesheet declares for text output', async () => {
    const result = await engine.transform({ stylesheet: { path: 'engine/csv-out.xsl' }, input: S3XML });
    assert.equal(result.output, 'uuid\na\nb\n');
    assert.equal(result.mediaType, 'text/csv');
    assert.equal(result.method, 'text');
  });

  it('accepts bytes and decodes them by the XML declaration', async () => {
    const latin1 = Buffer.from('<?xml version="1.0" encoding="ISO-8859-1"?><s3xml><resource uuid="Zürich"/></s3xml>', 'latin1');
    const result = await engine.transform({ stylesheet: { path: 'engine/csv-out.xsl' }, input: latin1 });
    assert.equal(result.output, 'uuid\nZürich\n');
  });

  it('runs many transforms at once on the pool and keeps each result with its request', async () => {
    const domains = Array.from({ length: 8 }, (_, i) => `d${i}.example.org`);
    const results = await Promise.all(domains.map((domain) => engine.transform({ stylesheet: BEHAVIOURS, input: S3XML, params: { domain } })));
    results.forEach((result, i) => assert.match(result.output, new RegExp(`domain="d${i}\\.example\\.org"`)));
  });

  it('fails a stylesheet that does not compile with file, line and message', async () => {
    const error = await transformFailure(engine.transform({ stylesheet: { path: 'engine/broken.xsl' }, input: S3XML }));
    assert.equal(error.code, 'XSLT_COMPILE_ERROR');
    assert.equal(error.details['line'], 6);
    assert.equal(error.details['module'], path.join(FIXTURES, 'engine/broken.xsl'));
    assert.match(error.message, /broken\.xsl:6: /);
  });

  it('reports a dynamic error with its XSLT code, line and the messages before it', async () => {
    const error = await transformFailure(engine.transform({ stylesheet: BEHAVIOURS, input: S3XML, params: { mode: 'error' } }));
    assert.equal(error.code, 'XSLT_RUNTIME_ERROR');
    assert.equal(error.details['xsltCode'], 'Q{urn:test}E42');
    // SaxonJS locates dynamic errors coarsely (here: the enclosing xsl:choose, inside the template).
    const line = error.details['line'];
    assert.ok(typeof line === 'number' && line >= 10 && line <= 18, `line ${String(line)}`);
    assert.match(String(error.details['module']), /behaviours\.xsl$/);
    assert.deepEqual(error.details['messages'], ['about to fail']);
    assert.match(error.message, /custom failure/);
  });

  it('reports xsl:message terminate="yes" as a runtime error with code XTMM9000', async () => {
    const error = await transformFailure(engine.transform({ stylesheet: BEHAVIOURS, input: S3XML, params: { mode: 'terminate' } }));
    assert.equal(error.code, 'XSLT_RUNTIME_ERROR');
    assert.equal(error.details['xsltCode'], 'XTMM9000');
  });

  it('refuses input that is not well-formed, with the line of the problem', async () => {
    const error = await transformFailure(engine.transform({ stylesheet: BEHAVIOURS, input: '<s3xml>\n<resource>\n</s3xml>' }));
    assert.equal(error.code, 'XML_MALFORMED');
    assert.equal(error.status, 400);
    assert.equal(typeof error.details['line'], 'number');
  });

  it('refuses input with a DOCTYPE before any worker sees it', async () => {
    const input = '<?xml version="1.0"?>\n<!-- x -->\n<!DOCTYPE s3xml [<!ENTITY x SYSTEM "file:///etc/passwd">]><s3xml>&x;</s3xml>';
    const error = await transformFailure(engine.transform({ stylesheet: BEHAVIOURS, input }));
    assert.equal(error.code, 'XML_DOCTYPE_FORBIDDEN');
  });

  it('refuses input over the size limit', async () => {
    const input = `<s3xml>${'<resource/>'.repeat(500)}</s3xml>`;
    const error = await transformFailure(engine.transform({ stylesheet: BEHAVIOURS, input }));
    assert.equal(error.code, 'XSLT_INPUT_TOO_LARGE');
    assert.equal(error.status, 413);
    assert.equal(error.severity, 'limit');
  });

  it('hands JSON input to json-to-xml() as the $json parameter', async () => {
    const json = JSON.stringify({ posts: [{ id: 7, title: 'Flood at the bridge' }] });
    const result = await engine.transform({ stylesheet: { path: 'engine/json.xsl' }, input: json, jsonInput: true });
    assert.equal(
      result.output,
      '<?xml version="1.0" encoding="UTF-8"?><s3xml><resource name="event_incident_report" uuid="urn:post:7"><data field="name">Flood at the bridge</data></resource></s3xml>',
    );
  });

  it('keeps xsl:result-document output in memory and writes nothing to disk', async () => {
    const result = await engine.transform({ stylesheet: BEHAVIOURS, input: S3XML, params: { mode: 'secondary' } });
    assert.equal(result.output, '<?xml version="1.0" encoding="UTF-8"?><main/>');
    const [uri, text] = Object.entries(result.resultDocuments ?? {})[0] ?? [];
    assert.match(String(uri), /engine\/extra\.xml$/);
    assert.match(String(text), /<extra\/>/);
    assert.equal(existsSync(path.join(FIXTURES, 'engine/extra.xml')), false);
  });

  it('runs template recursion thousands of levels deep in a worker with a larger stack', async () => {
    const result = await engine.transform({ stylesheet: BEHAVIOURS, input: S3XML, params: { mode: 'deep', depth: '5000' } });
    assert.match(result.output, /<bottom\/>/);
  });

  it('turns endless recursion into XSLT_STACK_OVERFLOW instead of a crash', async () => {
    // A generous time limit: on a busy machine filling the stack can take a few seconds.
    const error = await transformFailure(engine.transform({ stylesheet: BEHAVIOURS, input: S3XML, params: { mode: 'recurse-forever' }, timeoutMs: 20_000 }));
    assert.equal(error.code, 'XSLT_STACK_OVERFLOW');
    assert.equal(error.severity, 'limit');
    const next = await engine.transform({ stylesheet: BEHAVIOURS, input: S3XML });
    assert.match(next.output, /<out /);
  });

  it('stops a never-ending loop at the time limit and keeps working afterwards', async () => {
    const started = performance.now();
    const error = await transformFailure(engine.transform({ stylesheet: BEHAVIOURS, input: S3XML, params: { mode: 'loop-forever' }, timeoutMs: 1_000 }));
    const elapsed = performance.now() - started;
    assert.equal(error.code, 'XSLT_TIMEOUT');
    assert.ok(elapsed < 5_000, `took ${elapsed} ms`);
    const next = await engine.transform({ stylesheet: BEHAVIOURS, input: S3XML });
    assert.match(next.output, /<out /);
  });

  it('reports a missing stylesheet with a 404 code', async () => {
    const error = await transformFailure(engine.transform({ stylesheet: { path: 'engine/nope.xsl' }, input: S3XML }));
    assert.equal(error.code, 'XSLT_STYLESHEET_NOT_FOUND');
    assert.equal(error.status, 404);
  });
});

describe('compiled stylesheet cache', () => {
  it('compiles a stylesheet once per content and recompiles when an included module changes', async () => {
    const dir = await scratchDir('cache');
    const cacheDir = path.join(dir, 'cache');
    const stylesheets = path.join(dir, 'stylesheets');
    const { mkdir } = await import('node:fs/promises');
    await mkdir(stylesheets);
    await writeFile(
      path.join(stylesheets, 'main.xsl'),
      '<xsl:stylesheet version="3.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform"><xsl:include href="part.xsl"/><xsl:output method="text"/><xsl:template match="/"><xsl:call-template name="part"/></xsl:template></xsl:stylesheet>',
    );
    const part = (text: string): string =>
      `<xsl:stylesheet version="3.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform"><xsl:template name="part">${text}</xsl:template></xsl:stylesheet>`;
    await writeFile(path.join(stylesheets, 'part.xsl'), part('one'));
    try {
      const first = testEngine({ stylesheetsDir: stylesheets, cacheDir });
      assert.equal((await first.transform({ stylesheet: { path: 'main.xsl' }, input: '<a/>' })).output, 'one');
      await first.close();
      const sefDir = path.join(cacheDir, 'sef');
      const [sef] = (await readdir(sefDir)).filter((file) => file.endsWith('.sef.json'));
      const compiledAt = (await stat(path.join(sefDir, sef!))).mtimeMs;

      const second = testEngine({ stylesheetsDir: stylesheets, cacheDir });
      assert.equal((await second.transform({ stylesheet: { path: 'main.xsl' }, input: '<a/>' })).output, 'one');
      assert.equal((await stat(path.join(sefDir, sef!))).mtimeMs, compiledAt, 'the cached SEF was reused, not rebuilt');

      await writeFile(path.join(stylesheets, 'part.xsl'), part('two'));
      assert.equal((await second.transform({ stylesheet: { path: 'main.xsl' }, input: '<a/>' })).output, 'two');
      assert.equal((await readdir(sefDir)).filter((file) => file.endsWith('.sef.json')).length, 2);
      await second.close();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('shares one cache folder between engines without clashing', async () => {
    const engines = [testEngine(), testEngine()];
    const results = await Promise.all(engines.map((engine) => engine.transform({ stylesheet: { path: 'engine/csv-out.xsl' }, input: S3XML })));
    assert.deepEqual(
      results.map((result) => result.output),
      ['uuid\na\nb\n', 'uuid\na\nb\n'],
    );
    await Promise.all(engines.map((engine) => engine.close()));
    assert.ok(existsSync(path.join(SHARED_CACHE_DIR, 'sef')));
  });
});
