/**
 * The drop folder's way to the disk: list, read, write whole, move aside. The drop-folder logic gets
 * one of these handed in; `nodeFolderAccess` is the real one (the only file of src/transports that
 * touches the file system), tests may pass it too, on a temporary directory.
 */
import { mkdir, readdir, readFile, rename, stat, unlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { SluiceError } from '../errors.js';

export interface FolderEntry {
  name: string;
  bytes: number;
  modifiedMs: number;
}

export interface FolderAccess {
  /** Plain files directly in `dir` (no sub-folders). FOLDER_UNAVAILABLE when `dir` is not there. */
  list(dir: string): Promise<FolderEntry[]>;
  read(dir: string, name: string): Promise<Buffer>;
  exists(dir: string, name: string): Promise<boolean>;
  /** Written under a temporary name and renamed: a reader never sees half a file under `name`. */
  writeWhole(dir: string, name: string, bytes: Buffer): Promise<void>;
  /** Moves `name` into `dir/subdir` (created when missing) as `newName`, or `newName-2`… if taken; returns the new path. */
  moveAside(dir: string, name: string, subdir: string, newName: string): Promise<string>;
}

/** Written files carry this suffix until they are whole; the folder never imports them. */
export const PARTIAL_SUFFIX = '.partial';

function unavailable(dir: string, error: unknown): SluiceError {
  const code = (error as NodeJS.ErrnoException).code;
  return new SluiceError('FOLDER_UNAVAILABLE', `The drop folder ${dir} cannot be read (${code ?? (error as Error).message})`, {
    status: 503,
    severity: 'job',
    cause: error,
    fix: code === 'ENOENT' ? 'Mount the stick or share, or create the folder; the next run tries again' : 'Check the folder\'s permissions for the gateway\'s user',
  });
}

export const nodeFolderAccess: FolderAccess = {
  async list(dir) {
    let names: string[];
    try {
      names = await readdir(dir);
    } catch (error) {
      throw unavailable(dir, error);
    }
    const entries: FolderEntry[] = [];
    for (const name of names) {
      try {
        const info = await stat(path.join(dir, name));
        if (info.isFile()) entries.push({ name, bytes: info.size, modifiedMs: info.mtimeMs });
      } catch {
        // Gone between readdir and stat (another gateway picked it up): not ours to report.
      }
    }
    return entries;
  },
  read: (dir, name) => readFile(path.join(dir, name)),
  async exists(dir, name) {
    try {
      return (await stat(path.join(dir, name))).isFile();
    } catch {
      return false;
    }
  },
  async writeWhole(dir, name, bytes) {
    const partial = path.join(dir, `${name}${PARTIAL_SUFFIX}`);
    try {
      await writeFile(partial, bytes);
      await rename(partial, path.join(dir, name));
    } catch (error) {
      await unlink(partial).catch(() => undefined);
      throw unavailable(dir, error);
    }
  },
  async moveAside(dir, name, subdir, newName) {
    const target = path.join(dir, subdir);
    await mkdir(target, { recursive: true });
    // rename() replaces an existing file: two files of one name moved in the same second would
    // leave one archived copy. Take the first free name instead (`x.bundle`, `x-2.bundle`, …).
    const extension = path.extname(newName);
    const stem = newName.slice(0, newName.length - extension.length);
    for (let copy = 1; ; copy++) {
      const candidate = copy === 1 ? newName : `${stem}-${copy}${extension}`;
      if (copy < 1000 && (await nodeFolderAccess.exists(target, candidate))) continue;
      const destination = path.join(target, candidate);
      await rename(path.join(dir, name), destination);
      return destination;
    }
  },
};
