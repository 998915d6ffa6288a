/**
 * How a failed transform is reported depends on whose stylesheet failed: a user's stylesheet gets
 * its file and line and a "fix the stylesheet" hint; one that Sluice ships gets neither a server
 * path nor advice to edit it.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { errorFromFailure } from '../../src/transform/transform-errors.js';
import type { JobFailure } from '../../src/transform/worker/protocol.js';

const SHIPPED = fileURLToPath(new URL('../../stylesheets/', import.meta.url));
const DE_EXPORT = path.join(SHIPPED, 'de', 'export.xsl');
const MODULES = [DE_EXPORT, path.join(SHIPPED, 'de', 'envelope.xsl')];

function failure(fields: Partial<JobFailure>): JobFailure {
  return { id: 1, ok: false, kind: 'xslt', message: 'went wrong', ...fields };
}

describe('runtime errors of stylesheets', () => {
  it('turn a refusal raised on purpose by a shipped stylesheet into its own code, as a data problem', () => {
    const error = errorFromFailure(
      failure({ xsltCode: 'Q{urn:x-sluice:errors}DE_PAYLOAD_NOT_NAMESPACED', message: '<row> is neither', module: 'export.xsl', line: 46, messages: ['before'] }),
      { modules: MODULES, timeoutMs: 1000 },
    );
    assert.equal(error.code, 'DE_PAYLOAD_NOT_NAMESPACED');
    assert.equal(error.status, 422);
    assert.equal(error.message, '<row> is neither');
    assert.deepEqual(error.details, { xsltCode: 'Q{urn:x-sluice:errors}DE_PAYLOAD_NOT_NAMESPACED', stylesheet: 'de/export.xsl', line: 46, messages: ['before'] });
    assert.doesNotMatch(error.fix ?? '', /stylesheet/i);
  });

  it('report any other failure of a shipped stylesheet as a Sluice defect, without the server path', () => {
    const error = errorFromFailure(failure({ xsltCode: 'XPTY0004', message: 'type error', module: `file://${DE_EXPORT}`, line: 12 }), {
      modules: MODULES,
      timeoutMs: 1000,
      batch: { index: 2, offset: 4096 },
    });
    assert.equal(error.code, 'SLUICE_STYLESHEET_DEFECT');
    assert.equal(error.status, 500);
    assert.equal(error.message, "Sluice's stylesheet de/export.xsl line 12 failed: XPTY0004 type error (batch 3, from input byte 4096)");
    assert.ok(!JSON.stringify({ message: error.message, fix: error.fix, details: error.details }).includes(SHIPPED));
    assert.match(error.fix ?? '', /defect in Sluice/);
    assert.equal(error.details['batch'], 2);
  });

  it('keep file, line and the fix-the-stylesheet hint for a stylesheet that is not shipped', () => {
    const own = '/srv/custom/mine.xsl';
    const error = errorFromFailure(failure({ xsltCode: 'Q{urn:x-sluice:errors}LOOKS_OURS', module: 'mine.xsl', line: 7 }), { modules: [own], timeoutMs: 1000 });
    assert.equal(error.code, 'XSLT_RUNTIME_ERROR');
    assert.equal(error.status, 422);
    assert.match(error.message, /^\/srv\/custom\/mine\.xsl:7: /);
    assert.match(error.fix ?? '', /Fix the stylesheet/);
    assert.equal(error.details['module'], own);
  });

  it('recognise the shipped folder the engine names when it is not the default one', () => {
    const elsewhere = '/opt/sluice/stylesheets';
    const error = errorFromFailure(failure({ xsltCode: 'FORG0001', module: 'export.xsl' }), {
      modules: [path.join(elsewhere, 'have', 'export.xsl')],
      timeoutMs: 1000,
      shippedStylesheetsDir: elsewhere,
    });
    assert.equal(error.code, 'SLUICE_STYLESHEET_DEFECT');
    assert.equal(error.details['stylesheet'], 'have/export.xsl');
  });
});
