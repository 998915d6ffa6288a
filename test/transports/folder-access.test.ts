import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { nodeFolderAccess } from '../../src/transports/folder-access.js';

describe('drop folder file access', () => {
  it('archives two files of the same name moved in the same second under two names, losing neither', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'sluice-folder-access-'));
    try {
      await writeFile(path.join(dir, 'offices.xml'), 'first');
      const first = await nodeFolderAccess.moveAside(dir, 'offices.xml', 'imported', '20240501T100000-offices.xml');
      await writeFile(path.join(dir, 'offices.xml'), 'second');
      const second = await nodeFolderAccess.moveAside(dir, 'offices.xml', 'imported', '20240501T100000-offices.xml');
      assert.notEqual(first, second);
      assert.equal(path.basename(second), '20240501T100000-offices-2.xml');
      assert.deepEqual((await readdir(path.join(dir, 'imported'))).sort(), ['20240501T100000-offices-2.xml', '20240501T100000-offices.xml']);
      assert.equal(await readFile(first, 'utf8'), 'first');
      assert.equal(await readFile(second, 'utf8'), 'second');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
