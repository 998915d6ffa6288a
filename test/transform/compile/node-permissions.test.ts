import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, symlink } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { permissionFlags } from '../../../src/transform/compile/node-permissions.js';

describe('permission flags for the sandboxed transform process', () => {
  it('grants a symlinked folder under the path it resolves to as well, since Node checks that one', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'sluice-permissions-'));
    try {
      const real = path.join(dir, 'real-node-modules');
      const link = path.join(dir, 'node_modules');
      await mkdir(real);
      await symlink(real, link);
      const flags = permissionFlags({ readDirectories: [link] });
      assert.ok(flags.some((flag) => flag.startsWith('--allow-fs-read=') && flag.includes(link)), flags.join(' '));
      assert.ok(flags.some((flag) => flag.startsWith('--allow-fs-read=') && flag.includes(real)), flags.join(' '));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('grants a folder that does not exist yet as given, once', () => {
    const missing = path.join(os.tmpdir(), 'sluice-no-such-folder', 'mappings');
    const flags = permissionFlags({ readDirectories: [missing, missing] });
    assert.equal(flags.filter((flag) => flag.includes(missing)).length, 1);
  });
});
