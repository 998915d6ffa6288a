import { readdir, rm, stat } from 'node:fs/promises';
import path from 'node:path';

/**
 * Cleans the run-time compile cache (`cacheDir`): stylesheets generated or uploaded once (previews,
 * old mapping versions) would otherwise leave their SEF behind forever. An entry is a compiled
 * SEF with its `.meta.json` sidecar, or an uploaded `.xsl` kept so `document('')` works. Its last
 * use is the sidecar's (or upload's) modification time, which the compiler refreshes whenever it
 * serves the entry (see StylesheetCompiler.loadIfCurrent); access times are not used because
 * filesystems mounted `noatime`/`relatime` do not keep them.
 *
 * The clock is passed in (`now`), like everywhere in the core.
 */

export interface CacheCleanupOptions {
  /** Current time, ms since the epoch. */
  now: number;
  /** Entries unused for longer than this are removed. */
  maxUnusedDays?: number;
  /** After that, least recently used entries go until the cache is at most this big. */
  maxBytes?: number;
  /** Content keys in use by this process: never removed whatever their age. */
  inUse?: ReadonlySet<string>;
  /**
   * Leftovers of interrupted compiles and chunked runs (temporary files, work folders, spilled
   * lookup context) older than this go; default 1 hour. A run still using its scratch file keeps
   * it open, so removing it early does it no harm on POSIX systems.
   */
  abandonedAfterMs?: number;
}

export interface CacheCleanupResult {
  /** Paths removed (a SEF and its sidecar count as one entry, listed by the SEF). */
  removed: string[];
  removedBytes: number;
  keptEntries: number;
  keptBytes: number;
}

interface CacheEntry {
  /** The SEF's content key, or the upload's file name. */
  key: string;
  files: string[];
  bytes: number;
  lastUsedMs: number;
}

const DAY_MS = 24 * 60 * 60 * 1000;
const DEFAULT_ABANDONED_MS = 60 * 60 * 1000;
const SEF_SUFFIX = '.sef.json';
const META_SUFFIX = '.sef.meta.json';

async function listDir(dir: string): Promise<string[]> {
  try {
    return await readdir(dir);
  } catch {
    return [];
  }
}

async function statOrUndefined(file: string): Promise<{ size: number; mtimeMs: number; isDirectory: boolean } | undefined> {
  try {
    const info = await stat(file);
    return { size: info.size, mtimeMs: info.mtimeMs, isDirectory: info.isDirectory() };
  } catch {
    return undefined;
  }
}

async function sefEntries(sefDir: string, abandonedBefore: number, removed: string[]): Promise<{ entries: CacheEntry[]; removedBytes: number }> {
  const names = await listDir(sefDir);
  const entries: CacheEntry[] = [];
  let removedBytes = 0;
  for (const name of names) {
    const file = path.join(sefDir, name);
    if (name.startsWith('.')) {
      // A compile that died between writing its temporary file and renaming it.
      const info = await statOrUndefined(file);
      if (info && info.mtimeMs < abandonedBefore) {
        await rm(file, { force: true });
        removed.push(file);
        removedBytes += info.size;
      }
      continue;
    }
    if (!name.endsWith(SEF_SUFFIX) || name.endsWith(META_SUFFIX)) continue;
    const key = name.slice(0, -SEF_SUFFIX.length);
    const meta = path.join(sefDir, `${key}${META_SUFFIX}`);
    const [sefInfo, metaInfo] = await Promise.all([statOrUndefined(file), statOrUndefined(meta)]);
    if (!sefInfo) continue;
    entries.push({
      key,
      files: metaInfo ? [file, meta] : [file],
      bytes: sefInfo.size + (metaInfo?.size ?? 0),
      // Without a sidecar the SEF is unusable (loadIfCurrent needs it): its own age decides.
      lastUsedMs: metaInfo ? Math.max(metaInfo.mtimeMs, sefInfo.mtimeMs) : sefInfo.mtimeMs,
    });
  }
  // Sidecars whose SEF is gone are useless.
  for (const name of names) {
    if (!name.endsWith(META_SUFFIX)) continue;
    const key = name.slice(0, -META_SUFFIX.length);
    if (names.includes(`${key}${SEF_SUFFIX}`)) continue;
    const file = path.join(sefDir, name);
    const info = await statOrUndefined(file);
    if (info && info.mtimeMs < abandonedBefore) {
      await rm(file, { force: true });
      removed.push(file);
      removedBytes += info.size;
    }
  }
  return { entries, removedBytes };
}

async function uploadEntries(uploadsDir: string): Promise<CacheEntry[]> {
  const entries: CacheEntry[] = [];
  for (const name of await listDir(uploadsDir)) {
    const file = path.join(uploadsDir, name);
    const info = await statOrUndefined(file);
    if (!info || info.isDirectory) continue;
    entries.push({ key: name, files: [file], bytes: info.size, lastUsedMs: info.mtimeMs });
  }
  return entries;
}

export async function cleanCompileCache(cacheDir: string, options: CacheCleanupOptions): Promise<CacheCleanupResult> {
  const removed: string[] = [];
  const abandonedBefore = options.now - (options.abandonedAfterMs ?? DEFAULT_ABANDONED_MS);
  const sef = await sefEntries(path.join(cacheDir, 'sef'), abandonedBefore, removed);
  let removedBytes = sef.removedBytes;

  // Compile work folders, and chunked runs' scratch files (lookup context spilled to disk).
  for (const folder of [path.join(cacheDir, 'work'), path.join(cacheDir, 'tmp')]) {
    for (const name of await listDir(folder)) {
      const leftover = path.join(folder, name);
      const info = await statOrUndefined(leftover);
      if (info && info.mtimeMs < abandonedBefore) {
        await rm(leftover, { recursive: true, force: true });
        removed.push(leftover);
      }
    }
  }

  const inUse = options.inUse ?? new Set<string>();
  const entries = [...sef.entries, ...(await uploadEntries(path.join(cacheDir, 'uploads')))];
  const removeEntry = async (entry: CacheEntry): Promise<void> => {
    for (const file of entry.files) await rm(file, { force: true });
    removed.push(entry.files[0]!);
    removedBytes += entry.bytes;
  };

  let kept: CacheEntry[] = [];
  const unusedBefore = options.maxUnusedDays === undefined ? -Infinity : options.now - options.maxUnusedDays * DAY_MS;
  for (const entry of entries) {
    if (!inUse.has(entry.key) && entry.lastUsedMs < unusedBefore) await removeEntry(entry);
    else kept.push(entry);
  }

  if (options.maxBytes !== undefined) {
    let total = kept.reduce((sum, entry) => sum + entry.bytes, 0);
    // Oldest first; entries in use are skipped, so the cache may stay above the limit.
    const byAge = [...kept].sort((a, b) => a.lastUsedMs - b.lastUsedMs);
    const evicted = new Set<CacheEntry>();
    for (const entry of byAge) {
      if (total <= options.maxBytes) break;
      if (inUse.has(entry.key)) continue;
      await removeEntry(entry);
      evicted.add(entry);
      total -= entry.bytes;
    }
    kept = kept.filter((entry) => !evicted.has(entry));
  }

  return { removed, removedBytes, keptEntries: kept.length, keptBytes: kept.reduce((sum, entry) => sum + entry.bytes, 0) };
}
