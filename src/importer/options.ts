import { SluiceError } from '../errors.js';
import { isStrictTimestamp, type Clock } from '../s3xml/timestamps.js';
import {
  checkPolicy,
  checkStrategy,
  checkUpdatePolicy,
  IMPORT_METHODS,
  type ImportMethod,
  type Policy,
  type UpdatePolicy,
} from './policies.js';

export interface ImportOptions {
  /**
   * Target table: only its top-level resources are imported, others only if referenced or nested
   * (Eden §1.12 step 2); omit = all top-level resources.
   */
  resource?: string;
  /** Allowed methods; default all four. */
  strategy?: ImportMethod[];
  /** Default OTHER (plain REST import); sync passes NEWER. */
  updatePolicy?: UpdatePolicy;
  /** Default NEWER. */
  conflictPolicy?: Policy;
  /** Enables conflict detection (Eden: both sides modified since last_sync). */
  lastSync?: string;
  /** Peer uuid, recorded on conflict entries. */
  repository?: string;
  /** Strip `${localDomain}/` from incoming uids. */
  localDomain?: string;
  /** Top-level resources per transaction; default 500. */
  pageSize?: number;
  /**
   * The mci a created record gets when the element carries none. Default 2, as in Eden (a copy).
   * Connectors that bring records Sluice itself originates (Ushahidi posts) pass 0.
   */
  defaultMci?: number;
  clock: Clock;
  onProgress?: (done: { resources: number }) => void;
}

export interface NormalizedOptions {
  resource: string | undefined;
  strategy: ReadonlySet<ImportMethod>;
  updatePolicy: UpdatePolicy;
  conflictPolicy: Policy;
  lastSync: string | undefined;
  repository: string | undefined;
  localDomain: string | undefined;
  pageSize: number;
  defaultMci: number;
  clock: Clock;
  onProgress: ((done: { resources: number }) => void) | undefined;
}

export const DEFAULT_PAGE_SIZE = 500;
export const EDEN_DEFAULT_MCI = 2;

/** Checks every option before anything is read or written, so a bad task fails whole and early. */
export function normalizeOptions(options: ImportOptions): NormalizedOptions {
  const bad = (message: string, fix: string) => new SluiceError('BAD_IMPORT_OPTIONS', message, { status: 400, fix });
  const pageSize = options.pageSize ?? DEFAULT_PAGE_SIZE;
  if (!Number.isInteger(pageSize) || pageSize < 1) throw bad(`pageSize ${pageSize} is not a positive integer`, 'Use e.g. pageSize: 500');
  const defaultMci = options.defaultMci ?? EDEN_DEFAULT_MCI;
  if (!Number.isInteger(defaultMci) || defaultMci < 0) {
    throw bad(`defaultMci ${defaultMci} is not a non-negative integer`, 'Use 2 (Eden) or 0');
  }
  if (options.lastSync !== undefined && !isStrictTimestamp(options.lastSync)) {
    throw bad(`lastSync "${options.lastSync}" is not a YYYY-MM-DDTHH:MM:SS timestamp`, 'Pass the last sync time in UTC without zone');
  }
  if (typeof options.clock?.now !== 'function') throw bad('clock is missing', 'Pass a Clock (systemClock in production)');
  return {
    resource: options.resource,
    strategy: new Set(options.strategy === undefined ? IMPORT_METHODS : checkStrategy(options.strategy)),
    updatePolicy: checkUpdatePolicy(options.updatePolicy ?? 'OTHER'),
    conflictPolicy: checkPolicy(options.conflictPolicy ?? 'NEWER', 'conflictPolicy'),
    lastSync: options.lastSync,
    repository: options.repository,
    localDomain: options.localDomain,
    pageSize,
    defaultMci,
    clock: options.clock,
    onProgress: options.onProgress,
  };
}
