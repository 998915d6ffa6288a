import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { TransformEngine } from '../../src/transform/engine.js';
import { FIXTURES, testEngine, xsltproc } from './helpers.js';

/**
 * Eden's stylesheets are XSLT 1.0 run by libxslt. These stylesheets use what Eden's do (keys and
 * generate-id, relative xsl:include/xsl:import, document() relative to the stylesheet, parameters,
 * named templates a shared module expects the includer to define) and must give exactly what
 * xsltproc gives.
 */

const DIR = path.join(FIXTURES, 'eden-compat');
const INPUT = path.join(DIR, 'input.xml');
const EDEN_PARAMS = { domain: 'eden.example.org', base_url: 'https://eden.example.org/eden', mode: 'sync' };

describe('XSLT 1.0 compatibility with libxslt', () => {
  let engine: TransformEngine;
  let input: Buffer;
  before(async () => {
    engine = testEngine({ stylesheetsDir: DIR });
    input = await readFile(INPUT);
  });
  after(() => engine.close());

  it('gives xsltproc\'s output for keys, generate-id grouping, include, import, document() and params', async () => {
    const stylesheet = path.join(DIR, 'formats/report/export.xsl');
    const expected = await xsltproc(stylesheet, INPUT, EDEN_PARAMS);
    const result = await engine.transform({ stylesheet: { path: stylesheet }, input, params: EDEN_PARAMS });
    assert.equal(result.output, expected);
    // Guard against both engines agreeing on nothing: the features really ran.
    assert.match(result.output, /== Offices \(org_office\): 3/);
    assert.match(result.output, /office: Ærø Office @ Pokhara #2/);
    assert.match(result.output, /report for https:\/\/eden\.example\.org\/eden \(sync\)/);
    assert.match(result.output, /-- exported from eden\.example\.org/);
  });

  it('uses the parameter defaults when Eden passes none', async () => {
    const stylesheet = path.join(DIR, 'formats/report/export.xsl');
    const expected = await xsltproc(stylesheet, INPUT);
    const result = await engine.transform({ stylesheet: { path: stylesheet }, input });
    assert.equal(result.output, expected);
    assert.match(result.output, /report for http:\/\/localhost \(full\)/);
  });

  it('supplies stand-ins for the named template and variable the shared module uses but nobody defines', async () => {
    const info = await engine.prepare({ path: path.join(DIR, 'formats/report/export.xsl') });
    assert.ok(info.warnings.some((warning) => warning.includes('optionalHook')), info.warnings.join('\n'));
    assert.ok(info.warnings.some((warning) => warning.includes('neverDeclared')), info.warnings.join('\n'));
  });

  it('supplies a stand-in for a variable used outside the scope of its declaration, found only by the compiler', async () => {
    const stylesheet = path.join(DIR, 'formats/report/scope.xsl');
    const expected = await xsltproc(stylesheet, INPUT);
    const result = await engine.transform({ stylesheet: { path: stylesheet }, input });
    assert.equal(result.output, expected);
    assert.equal(result.output, 'resources=7');
    assert.ok(result.warnings?.some((warning) => warning.includes('limit')));
  });

  it('takes the first node for value-of and attribute templates, sorts missing keys and code points as libxslt does', async () => {
    const stylesheet = path.join(DIR, 'formats/report/quirks.xsl');
    const expected = await xsltproc(stylesheet, INPUT);
    const result = await engine.transform({ stylesheet: { path: stylesheet }, input });
    // xsltproc ends XML output with a newline; SaxonJS does not.
    assert.equal(result.output, expected.replace(/\n$/, ''));
    assert.match(result.output, /<value-of>first line<\/value-of>/);
    assert.match(result.output, /<text-desc>Zürich Office;Dhaka Office;Ærø Office;<\/text-desc>/);
  });

  it('keeps the two documented differences: NaN != 0 and the digits of a computed number', async () => {
    const stylesheet = path.join(DIR, 'formats/report/differences.xsl');
    const libxslt = await xsltproc(stylesheet, INPUT);
    const result = await engine.transform({ stylesheet: { path: stylesheet }, input });
    assert.equal(libxslt, 'nan-not-equal=true;portable=true;number=0.7;rounded=0.7');
    assert.equal(result.output, 'nan-not-equal=false;portable=true;number=0.7000000000000001;rounded=0.7');
  });
});
