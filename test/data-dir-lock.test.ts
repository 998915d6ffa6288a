import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { LOCK_FILE_NAME, lockDataDir } from '../src/data-dir-lock.js';
import { isSluiceError } from '../src/errors.js';

/** The pid of a process that has exited (so no process of this host has it, for now). */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '']);
  await new Promise((resolve) => child.once('exit', resolve));
  return child.pid!;
}

describe('the data directory lock', () => {
  let dir: string;
  const lockFile = () => path.join(dir, LOCK_FILE_NAME);

  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'sluice-lock-'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('writes this process as the owner and removes the file when released', async () => {
    const lock = lockDataDir(dir);
    const owner = JSON.parse(await readFile(lockFile(), 'utf8')) as { pid: number; host: string };
    assert.deepEqual([owner.pid, owner.host], [process.pid, os.hostname()]);
    lock.release();
    assert.equal(existsSync(lockFile()), false);
  });

  it('is shared by gateways of one process and kept until the last one releases it', () => {
    const first = lockDataDir(dir);
    const second = lockDataDir(dir);
    first.release();
    first.release();
    assert.ok(existsSync(lockFile()), 'released twice by the same holder counts once');
    second.release();
    assert.equal(existsSync(lockFile()), false);
  });

  it('refuses a directory a live process of this host holds, naming its pid', async () => {
    const holder = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)']);
    try {
      await writeFile(lockFile(), JSON.stringify({ host: os.hostname(), pid: holder.pid, started_at: '2026-01-01T00:00:00' }));
      assert.throws(() => lockDataDir(dir), (error: unknown) => isSluiceError(error) && error.code === 'DATA_DIR_IN_USE' && error.message.includes(`pid ${holder.pid}`));
    } finally {
      holder.kill();
      await rm(lockFile(), { force: true });
    }
  });

  it('refuses a lock of another host (its pid cannot be checked) and says when to delete it', async () => {
    await writeFile(lockFile(), JSON.stringify({ host: 'another-host.invalid', pid: 1, started_at: '2026-01-01T00:00:00' }));
    try {
      assert.throws(() => lockDataDir(dir), (error: unknown) => isSluiceError(error) && error.code === 'DATA_DIR_IN_USE' && /delete .*gateway\.lock/.test(error.fix ?? ''));
    } finally {
      await rm(lockFile(), { force: true });
    }
  });

  it('takes over a lock whose pid now belongs to a process that is not Node (the pid was reused)', async () => {
    const stranger = spawn('sleep', ['60']);
    try {
      await writeFile(lockFile(), JSON.stringify({ host: os.hostname(), pid: stranger.pid, started_at: '2026-01-01T00:00:00' }));
      const lock = lockDataDir(dir);
      assert.equal((JSON.parse(await readFile(lockFile(), 'utf8')) as { pid: number }).pid, process.pid);
      lock.release();
    } finally {
      stranger.kill();
    }
  });

  it('takes over a lock whose process is gone', async () => {
    const pid = await deadPid();
    await writeFile(lockFile(), JSON.stringify({ host: os.hostname(), pid, started_at: '2026-01-01T00:00:00' }));
    const lock = lockDataDir(dir);
    const owner = JSON.parse(await readFile(lockFile(), 'utf8')) as { pid: number };
    assert.equal(owner.pid, process.pid);
    lock.release();
  });
});
