import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isSluiceError } from '../../../src/errors.js';
import { WorkerPool, withoutLoaders } from '../../../src/transform/worker/worker-pool.js';
import { testEngine } from '../helpers.js';

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
    const engine = testEngine({ maxOldGenerationSizeMb: 40, maxInputBytes: 64 * 1024 * 1024 });
    try {
      const big = `<s3xml>${'<resource name="x" uuid="u"><data field="a">some text here</data></resource>'.repeat(60_000)}</s3xml>`;
      await assert.rejects(
        engine.transform({ stylesheet: { path: 'engine/behaviours.xsl' }, input: big }),
        (error) => isSluiceError(error) && error.code === 'XSLT_MEMORY_LIMIT' && error.severity === 'limit',
      );
      const small = await engine.transform({ stylesheet: { path: 'engine/behaviours.xsl' }, input: '<s3xml/>' });
      assert.match(small.output, /<out /);
    } finally {
      await engine.close();
    }
  });
});
