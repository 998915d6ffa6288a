/**
 * One gateway process per embedded store. Two `sluice start` on one data directory would both
 * announce the same gateway uuid on the LAN and both run its schedule; the lock file
 * (`gateway.lock`, holding the owner's host and pid) refuses the second. A lock left by a process
 * that died without closing (SIGKILL, power loss) is taken over when that pid is gone from this
 * host. Gateways started inside one process share the lock (tests run several "nodes" on one
 * store file that way). `sluice worker` and the one-shot commands take no lock: they announce
 * nothing, and the store's job leases already keep them from running a job twice.
 */
import { readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { SluiceError } from './errors.js';

export const LOCK_FILE_NAME = 'gateway.lock';

interface LockOwner {
  host: string;
  pid: number;
  started_at: string;
}

export interface DataDirLock {
  file: string;
  release(): void;
}

/** Locks of this process by file, with how many gateways of this process hold each. */
const heldHere = new Map<string, number>();

function readOwner(file: string): LockOwner | undefined {
  try {
    const parsed = JSON.parse(readFileSync(file, 'utf8')) as Partial<LockOwner>;
    return typeof parsed.host === 'string' && typeof parsed.pid === 'number' ? (parsed as LockOwner) : undefined;
  } catch {
    return undefined;
  }
}

/** The owner still runs: its pid exists and, where /proc tells, is a Node process (pids are reused). */
function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    // EPERM: the process exists but belongs to another user.
    if ((error as NodeJS.ErrnoException).code === 'ESRCH') return false;
  }
  try {
    return /node|sluice/i.test(readFileSync(`/proc/${pid}/cmdline`, 'utf8'));
  } catch {
    return true;
  }
}

function inUse(dir: string, file: string, owner: LockOwner): SluiceError {
  const here = owner.host === os.hostname();
  return new SluiceError('DATA_DIR_IN_USE', `the data directory ${dir} is in use by another gateway (pid ${owner.pid}${here ? '' : ` on ${owner.host}`}, since ${owner.started_at})`, {
    status: 409,
    fix: here
      ? `Stop the other gateway (pid ${owner.pid}) or give this one its own --data directory; several gateways share one store only on MongoDB (--store mongodb://…). If no gateway runs, delete ${file}`
      : `Stop the gateway on ${owner.host}, or give this one its own --data directory; if no gateway runs on ${owner.host} any more, delete ${file}`,
    details: { file, pid: owner.pid, host: owner.host },
  });
}

/** Takes the gateway lock of `dir` (the folder holding the SQLite store) or throws DATA_DIR_IN_USE. */
export function lockDataDir(dir: string, now: () => Date = () => new Date()): DataDirLock {
  const file = path.join(dir, LOCK_FILE_NAME);
  const mine: LockOwner = { host: os.hostname(), pid: process.pid, started_at: now().toISOString().slice(0, 19) };
  const held = heldHere.get(file);
  if (held !== undefined) {
    heldHere.set(file, held + 1);
    return { file, release: once(() => release(file)) };
  }
  // Two attempts: the second after removing a lock its dead owner left behind.
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      writeFileSync(file, `${JSON.stringify(mine)}\n`, { flag: 'wx' });
      heldHere.set(file, 1);
      return { file, release: once(() => release(file)) };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const owner = readOwner(file);
    const stale = owner === undefined || (owner.host === mine.host && (owner.pid === process.pid || !isAlive(owner.pid)));
    if (!stale) throw inUse(dir, file, owner);
    removeIfUnchanged(file, owner);
  }
  const owner = readOwner(file);
  throw owner ? inUse(dir, file, owner) : new SluiceError('DATA_DIR_IN_USE', `${file} could not be taken`, { status: 409, fix: `Delete ${file} if no gateway uses ${dir}` });
}

function removeIfUnchanged(file: string, owner: LockOwner | undefined): void {
  const now = readOwner(file);
  if (JSON.stringify(now) !== JSON.stringify(owner)) return;
  try {
    unlinkSync(file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
}

function release(file: string): void {
  const held = heldHere.get(file) ?? 0;
  if (held > 1) {
    heldHere.set(file, held - 1);
    return;
  }
  heldHere.delete(file);
  const owner = readOwner(file);
  if (owner && owner.host === os.hostname() && owner.pid === process.pid) removeIfUnchanged(file, owner);
}

function once(action: () => void): () => void {
  let done = false;
  return () => {
    if (done) return;
    done = true;
    action();
  };
}
