/**
 * Drop folders (Eden's filesync): a repository of apitype `folder` whose "peer" is a directory — a
 * USB stick's mount point or a shared folder. Its settings live in the repository record's config
 * like any repository's, so schedules, tasks, Sync Now, the log and the run history apply as they are.
 */
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { SluiceError } from '../errors.js';
import { formatTimestamp, type Clock } from '../s3xml/timestamps.js';
import type { RepositoryRecord, Store } from '../store/store.js';
import { resolvePartner } from '../bundles/partners.js';
import { compileFilePattern, DEFAULT_FILE_PATTERN } from './file-pattern.js';

export const FOLDER_APITYPE = 'folder';
export const DEFAULT_IMPORTED_DIR = 'imported';
export const DEFAULT_REJECTED_DIR = 'rejected';
/** A file younger than this may still be being copied in; it waits for the next run. */
export const DEFAULT_SETTLE_SECONDS = 5;

export interface DropFolderSettings {
  /** Absolute path of the folder. */
  path: string;
  /** Which files are imported (file-pattern.ts). */
  pattern: string;
  /** Sub-folders (of `path`) where imported and refused files are moved. */
  imported_dir: string;
  rejected_dir: string;
  /** The partner (repository uuid) the folder carries outgoing bundles to; none = import only. */
  send_to?: string;
  /** Write the acknowledgement of an imported `changes` bundle into the folder for its sender. */
  acknowledge: boolean;
  settle_seconds: number;
}

export interface DropFolderInput {
  name: string;
  path: string;
  pattern?: string;
  /** Partner repository name or uuid. */
  send_to?: string;
  acknowledge?: boolean;
  settle_seconds?: number;
  imported_dir?: string;
  rejected_dir?: string;
}

function badFolder(message: string, fix: string): SluiceError {
  return new SluiceError('BAD_FOLDER', message, { status: 400, severity: 'job', fix });
}

function subfolderName(value: unknown, fallback: string, what: string): string {
  const name = value === undefined ? fallback : value;
  if (typeof name !== 'string' || !/^[\w.-]+$/.test(name) || name === '.' || name === '..') {
    throw badFolder(`${what} "${String(name)}" is not a plain folder name`, `A name inside the drop folder, e.g. ${fallback}`);
  }
  return name;
}

export function isDropFolder(repository: Pick<RepositoryRecord, 'apitype'>): boolean {
  return repository.apitype === FOLDER_APITYPE;
}

/** Checked settings of a folder repository (BAD_FOLDER when the record is not usable). */
export function dropFolderSettings(repository: Pick<RepositoryRecord, 'config' | 'name'>): DropFolderSettings {
  const config = repository.config;
  if (typeof config.path !== 'string' || !path.isAbsolute(config.path)) {
    throw badFolder(`Drop folder ${repository.name} has no absolute path`, 'Add it again with sluice folder add NAME DIR');
  }
  const pattern = typeof config.pattern === 'string' ? config.pattern : DEFAULT_FILE_PATTERN;
  compileFilePattern(pattern);
  const settle = config.settle_seconds ?? DEFAULT_SETTLE_SECONDS;
  if (typeof settle !== 'number' || !Number.isFinite(settle) || settle < 0) throw badFolder(`settle_seconds ${String(settle)} is not a number of seconds`, 'e.g. 5');
  return {
    path: config.path,
    pattern,
    imported_dir: subfolderName(config.imported_dir, DEFAULT_IMPORTED_DIR, 'imported_dir'),
    rejected_dir: subfolderName(config.rejected_dir, DEFAULT_REJECTED_DIR, 'rejected_dir'),
    ...(typeof config.send_to === 'string' && config.send_to !== '' ? { send_to: config.send_to } : {}),
    acknowledge: config.acknowledge !== false,
    settle_seconds: settle,
  };
}

/** Registers a drop folder as a repository (a new uuid of its own: the folder is not a gateway). */
export async function addDropFolder(store: Store, clock: Clock, input: DropFolderInput): Promise<RepositoryRecord> {
  if (!input.name.trim()) throw badFolder('A drop folder needs a name', 'e.g. sluice folder add usb /media/usb');
  const existing = (await store.listRepositories()).find((repository) => repository.name.toLowerCase() === input.name.toLowerCase());
  if (existing) throw new SluiceError('REPOSITORY_EXISTS', `A repository is already called "${input.name}"`, { status: 409, fix: 'Choose another name' });
  const partner = input.send_to === undefined ? undefined : await resolvePartner(store, input.send_to);
  if (partner && isDropFolder(partner)) throw badFolder(`"${input.send_to}" is a drop folder, not a partner gateway`, 'Name the partner whose bundles the folder carries');
  const at = formatTimestamp(clock.now());
  const record: RepositoryRecord = {
    uuid: `urn:uuid:${randomUUID()}`,
    name: input.name.trim(),
    apitype: FOLDER_APITYPE,
    config: {
      path: path.resolve(input.path),
      pattern: input.pattern ?? DEFAULT_FILE_PATTERN,
      ...(partner ? { send_to: partner.uuid } : {}),
      ...(input.acknowledge === undefined ? {} : { acknowledge: input.acknowledge }),
      ...(input.settle_seconds === undefined ? {} : { settle_seconds: input.settle_seconds }),
      ...(input.imported_dir === undefined ? {} : { imported_dir: input.imported_dir }),
      ...(input.rejected_dir === undefined ? {} : { rejected_dir: input.rejected_dir }),
    },
    created_at: at,
    updated_at: at,
  };
  dropFolderSettings(record);
  await store.putRepository(record);
  return record;
}
