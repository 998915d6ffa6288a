import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, stat, utimes, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import { cleanCompileCache } from '../../../src/transform/compile/cache-cleanup.js';
import { StylesheetCompiler } from '../../../src/transform/compile/stylesheet-compiler.js';
import { loadStylesheetTree } from '../../../src/transform/stylesheet/module-tree.js';
import { scratchDir } from '../helpers.js';

const DAY = 24 * 60 * 60 * 1000;
const NOW = Date.UTC(2026, 5, 1);

async function at(file: string, whenMs: number): Promise<void> {
  await utimes(file, whenMs / 1000, whenMs / 1000);
}

/** A compiled entry as the compiler leaves it: SEF plus sidecar, last used `ageDays` ago. */
async function sefEntry(cacheDir: string, key: string, ageDays: number, bytes = 100): Promise<string> {
  const sefDir = path.join(cacheDir, 'sef');
  await mkdir(sefDir, { recursive: true });
  const sef = path.join(sefDir, `${key}.sef.json`);
  const meta = path.join(sefDir, `${key}.sef.meta.json`);
  await writeFile(sef, 'x'.repeat(bytes));
  await writeFile(meta, '{}');
  await at(sef, NOW - ageDays * DAY);
  await at(meta, NOW - ageDays * DAY);
  return sef;
}

describe('compile cache cleanup', () => {
  it('removes entries unused for longer than the limit and keeps recent ones and those in use', async () => {
    const cacheDir = await scratchDir('cache-age');
    const old = await sefEntry(cacheDir, 'old', 40);
    const oldInUse = await sefEntry(cacheDir, 'old-in-use', 40);
    const recent = await sefEntry(cacheDir, 'recent', 2);
    await mkdir(path.join(cacheDir, 'uploads'));
    const staleUpload = path.join(cacheDir, 'uploads', 'upload-0123456789abcdef.xsl');
    await writeFile(staleUpload, '<xsl:stylesheet/>');
    await at(staleUpload, NOW - 31 * DAY);

    const result = await cleanCompileCache(cacheDir, { now: NOW, maxUnusedDays: 30, inUse: new Set(['old-in-use']) });

    assert.equal(existsSync(old), false);
    assert.equal(existsSync(old.replace('.sef.json', '.sef.meta.json')), false, 'the sidecar goes with its SEF');
    assert.equal(existsSync(staleUpload), false);
    assert.equal(existsSync(oldInUse), true);
    assert.equal(existsSync(recent), true);
    assert.deepEqual(result.removed.sort(), [old, staleUpload].sort());
    assert.equal(result.keptEntries, 2);
  });

  it('removes the least recently used entries until the cache fits the size limit', async () => {
    const cacheDir = await scratchDir('cache-size');
    const oldest = await sefEntry(cacheDir, 'a', 5, 1000);
    const middle = await sefEntry(cacheDir, 'b', 3, 1000);
    const newest = await sefEntry(cacheDir, 'c', 1, 1000);

    // Each entry is 1002 bytes with its sidecar: 2100 bytes hold two of them.
    const result = await cleanCompileCache(cacheDir, { now: NOW, maxBytes: 2100 });

    assert.equal(existsSync(oldest), false);
    assert.equal(existsSync(middle), true);
    assert.equal(existsSync(newest), true);
    assert.equal(result.removedBytes, 1002);
    assert.equal(result.keptBytes, 2004);
  });

  it('removes what interrupted compiles left behind, but not a compile still running', async () => {
    const cacheDir = await scratchDir('cache-leftovers');
    await sefEntry(cacheDir, 'kept', 0);
    const abandonedTemporary = path.join(cacheDir, 'sef', '.abc.sef.json.1234.tmp');
    const runningTemporary = path.join(cacheDir, 'sef', '.def.sef.json.5678.tmp');
    const abandonedWork = path.join(cacheDir, 'work', 'abc-1234');
    const abandonedContext = path.join(cacheDir, 'tmp', 'context-1234.bin');
    const runningWork = path.join(cacheDir, 'work', 'def-5678');
    await mkdir(path.join(cacheDir, 'tmp'));
    for (const file of [abandonedTemporary, runningTemporary, abandonedContext]) await writeFile(file, '{}');
    await at(abandonedContext, NOW - 2 * 60 * 60 * 1000);
    for (const folder of [abandonedWork, runningWork]) await mkdir(folder, { recursive: true });
    await at(abandonedTemporary, NOW - 2 * 60 * 60 * 1000);
    await at(abandonedWork, NOW - 2 * 60 * 60 * 1000);
    await at(runningTemporary, NOW - 60 * 1000);
    await at(runningWork, NOW - 60 * 1000);

    await cleanCompileCache(cacheDir, { now: NOW, maxUnusedDays: 30 });

    assert.equal(existsSync(abandonedTemporary), false);
    assert.equal(existsSync(abandonedWork), false);
    assert.equal(existsSync(abandonedContext), false);
    assert.equal(existsSync(runningTemporary), true);
    assert.equal(existsSync(runningWork), true);
  });

  it('marks an entry as used when the compiler serves it, and applies the limits after compiling a new one', async () => {
    const cacheDir = await scratchDir('cache-compiler');
    const stale = await sefEntry(cacheDir, 'stale', 90);
    const sheetDir = await scratchDir('cache-sheet');
    const sheet = path.join(sheetDir, 'tiny.xsl');
    // Unique content, so this test compiles for real and never meets an earlier run's cache.
    await writeFile(
      sheet,
      `<xsl:stylesheet version="3.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform"><xsl:template match="/"><out n="${process.pid}-${Math.random()}"/></xsl:template></xsl:stylesheet>`,
    );
    let clock = NOW;
    const options = { cacheDir, now: () => clock, limits: { maxUnusedDays: 30 } };
    const compiled = await new StylesheetCompiler(options).compile(await loadStylesheetTree(sheet));

    assert.equal(existsSync(stale), false, 'the fresh compile triggered the cleanup');
    assert.equal(existsSync(compiled.sefPath), true);

    // A new process (a new compiler) serving the cached entry later marks it used at that time.
    clock = NOW + 10 * DAY;
    await new StylesheetCompiler(options).compile(await loadStylesheetTree(sheet));
    const sidecar = await stat(compiled.sefPath.replace(/\.json$/, '.meta.json'));
    assert.equal(Math.round(sidecar.mtimeMs / 1000), Math.round(clock / 1000));
  });
});
