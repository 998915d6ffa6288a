import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import { isSluiceError } from '../../../src/errors.js';
import { WorkerPool, withoutLoaders } from '../../../src/transform/worker/worker-pool.js';
import { scratchDir, testEngine } from '../helpers.js';

describe('worker pool', () => {
  it('starts threads without module loaders but with every other flag, the permission model\'s included', () => {
    assert.deepEqual(
      withoutLoaders(['--no-warnings', '--import', 'tsx', '--experimental-permission', '--allow-fs-read=/a/*', '--import=x', '-r', 'y', '--allow-worker']),
      ['--no-warnings', '--experimental-permission', '--allow-fs-read=/a/*', '--allow-worker'],
    );
  });

  it('refuses to run an untrusted job when the process is not under the permission model', async () => {
    const pool = new WorkerPool({ size: 1, stackSizeMb: 8, sandboxed: true });
    try {
      const outcome = await pool.run({ stylesheetKey: 'k', sourceText: '<a/>', params: {}, baseOutputUri: 'file:///tmp/' }, '{}', 10_000);
      assert.equal(outcome.ok, false);
      assert.ok(!outcome.ok && outcome.kind === 'crashed' && /sandbox is not active/.test(outcome.message));
    } finally {
      await pool.close();
    }
  });

  it('replaces a thread that runs out of heap and reports XSLT_MEMORY_LIMIT', async () => {
    // Small input, so the job stays on a pooled thread; many small arrays, so the thread ends
    // with ERR_WORKER_OUT_OF_MEMORY (one huge allocation could abort the process instead).
    const sheets = await scratchDir('pool-oom');
    await writeFile(
      path.join(sheets, 'arrays.xsl'),
      `<xsl:stylesheet version="3.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform" xmlns:array="http://www.w3.org/2005/xpath-functions/array">
        <xsl:template match="/"><out><xsl:value-of select="let $all := (1 to 100000) ! array { 1 to 1000 } return array:size($all[last()])"/></out></xsl:template>
      </xsl:stylesheet>`,
    );
    await writeFile(path.join(sheets, 'small.xsl'), '<xsl:stylesheet version="3.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform"><xsl:template match="/"><out/></xsl:template></xsl:stylesheet>');
    const engine = testEngine({ stylesheetsDir: sheets, maxOldGenerationSizeMb: 40 });
    try {
      await assert.rejects(
        engine.transform({ stylesheet: { path: 'arrays.xsl' }, input: '<s3xml/>' }),
        (error) => isSluiceError(error) && error.code === 'XSLT_MEMORY_LIMIT' && error.severity === 'limit',
      );
      const small = await engine.transform({ stylesheet: { path: 'small.xsl' }, input: '<s3xml/>' });
      assert.match(small.output, /<out\/>/);
    } finally {
      await engine.close();
    }
  });
});
