import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readdir, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { buildStylesheets, findTopLevelStylesheets } from '../../src/transform/build.js';
import { scratchDir, testEngine } from './helpers.js';

const BUILD_SCRIPT = fileURLToPath(new URL('../../src/transform/build.ts', import.meta.url));

const XSL = (body: string, top = ''): string =>
  `<?xml version="1.0"?>\n<xsl:stylesheet version="1.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform">\n${top}<xsl:output method="text"/>\n${body}\n</xsl:stylesheet>\n`;

describe('stylesheet build', () => {
  let dir: string;
  before(async () => {
    dir = await scratchDir('build');
    await mkdir(path.join(dir, 'fmt'));
    await mkdir(path.join(dir, 'shared'));
    await mkdir(path.join(dir, 'extra'));
    await writeFile(path.join(dir, 'shared/common.xsl'), XSL('<xsl:template name="greet">hello</xsl:template>'));
    await writeFile(path.join(dir, 'fmt/import.xsl'), XSL('<xsl:template match="/"><xsl:call-template name="greet"/></xsl:template>', '<xsl:include href="../shared/common.xsl"/>\n'));
    await writeFile(path.join(dir, 'extra/standalone.xsl'), XSL('<xsl:template match="/">alone</xsl:template>'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('picks the stylesheets nobody includes, not the shared modules', async () => {
    const found = await findTopLevelStylesheets(dir);
    assert.deepEqual(
      found.map((file) => path.relative(dir, file)),
      ['extra/standalone.xsl', 'fmt/import.xsl'],
    );
  });

  it('compiles each to SEF beside its source, then skips them while they are up to date', async () => {
    const first = await buildStylesheets({ stylesheetsDir: dir });
    assert.deepEqual(first.failed, []);
    assert.equal(first.compiled.length, 2);
    assert.ok(existsSync(path.join(dir, 'fmt/import.sef.json')));
    assert.ok(existsSync(path.join(dir, 'fmt/import.sef.meta.json')));
    assert.equal(existsSync(path.join(dir, 'shared/common.sef.json')), false);

    const second = await buildStylesheets({ stylesheetsDir: dir });
    assert.deepEqual(second.compiled, []);
    assert.equal(second.upToDate.length, 2);

    // Changing an included module makes the stylesheet that includes it out of date.
    await writeFile(path.join(dir, 'shared/common.xsl'), XSL('<xsl:template name="greet">hi</xsl:template>'));
    const third = await buildStylesheets({ stylesheetsDir: dir });
    assert.deepEqual(
      third.compiled.map((file) => path.relative(dir, file)),
      ['fmt/import.xsl'],
    );
  });

  it('lets the engine run the built SEF without compiling again', async () => {
    const cacheDir = path.join(dir, '.cache');
    const engine = testEngine({ stylesheetsDir: dir, cacheDir });
    try {
      const result = await engine.transform({ stylesheet: { path: 'fmt/import.xsl' }, input: '<a/>' });
      assert.equal(result.output, 'hi');
      assert.equal(existsSync(path.join(cacheDir, 'sef')), false, 'nothing was compiled into the cache');
    } finally {
      await engine.close();
    }
  });

  it('fails the build with file:line: message for a stylesheet that does not compile', async () => {
    await mkdir(path.join(dir, 'broken'));
    const broken = path.join(dir, 'broken/export.xsl');
    await writeFile(broken, XSL('<xsl:template match="/">\n<xsl:value-of select="concat(1,"/>\n</xsl:template>'));
    try {
      const report = await buildStylesheets({ stylesheetsDir: dir });
      assert.equal(report.failed.length, 1);
      assert.equal(report.failed[0]!.file, broken);
      assert.match(report.failed[0]!.message, new RegExp(`^${broken.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}:5: `));

      const run = promisify(execFile);
      const outcome = await run(process.execPath, ['--import', 'tsx', BUILD_SCRIPT, dir]).then(
        () => ({ code: 0, stderr: '' }),
        (error: { code: number; stderr: string }) => ({ code: error.code, stderr: error.stderr }),
      );
      assert.equal(outcome.code, 1);
      assert.match(outcome.stderr, /broken\/export\.xsl:5: /);
    } finally {
      await rm(path.join(dir, 'broken'), { recursive: true, force: true });
    }
  });

  it('leaves no scratch files behind in the stylesheets folder', async () => {
    const files = (await readdir(dir, { recursive: true })).map(String);
    assert.deepEqual(
      files.filter((file) => /\.tmp$|sluice-entry|stand-ins/.test(file)),
      [],
    );
    assert.ok((await stat(path.join(dir, 'fmt/import.sef.json'))).size > 0);
  });
});
