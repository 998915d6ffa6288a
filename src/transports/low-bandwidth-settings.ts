/**
 * A repository's low-bandwidth options, kept in `RepositoryRecord.config` next to the peer settings:
 * - `wire_format`: `s3xml` (Eden's, the default) or `s3json` (between Sluice peers only: Eden's
 *   sync controller answers and reads S3XML, and `include_deleted` works only with `.xml` there);
 * - `max_bytes_per_second`: a cap on the bytes read from and sent to that peer (bandwidth-cap.ts);
 * - `page_size`: changes per table in one page of a pull from a Sluice peer and of every push.
 */
import { SluiceError } from '../errors.js';
import type { PeerSoftware } from '../sync/peer-settings.js';

export type WireFormat = 's3xml' | 's3json';

export const WIRE_FORMATS: readonly WireFormat[] = ['s3xml', 's3json'];

/** Smaller pages cost a request each; larger ones must be re-sent whole after a cut. */
export const PAGE_SIZE_RANGE = { min: 1, max: 10_000 } as const;
/** A 300 baud HF link carries about 30 bytes a second; below that a page would never arrive. */
export const BYTES_PER_SECOND_RANGE = { min: 30, max: 1_000_000_000 } as const;

export interface LowBandwidthSettings {
  wire_format: WireFormat;
  max_bytes_per_second?: number;
  page_size?: number;
}

/** What an operator may change; null removes a cap or a page size. */
export interface LowBandwidthPatch {
  wire_format?: WireFormat;
  max_bytes_per_second?: number | null;
  page_size?: number | null;
}

function positiveInteger(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isInteger(value) && value > 0 ? value : undefined;
}

/** Reads the options from a repository's config; anything unreadable counts as unset. */
export function lowBandwidthSettings(config: Record<string, unknown>): LowBandwidthSettings {
  const maxBytes = positiveInteger(config.max_bytes_per_second);
  const pageSize = positiveInteger(config.page_size);
  return {
    wire_format: config.wire_format === 's3json' ? 's3json' : 's3xml',
    ...(maxBytes === undefined ? {} : { max_bytes_per_second: maxBytes }),
    ...(pageSize === undefined ? {} : { page_size: pageSize }),
  };
}

function badOption(message: string, fix: string): SluiceError {
  return new SluiceError('BAD_REPOSITORY', message, { status: 400, fix });
}

function checkRange(value: number, name: string, range: { min: number; max: number }): number {
  if (!Number.isInteger(value) || value < range.min || value > range.max) {
    throw badOption(`${name} must be a whole number from ${range.min} to ${range.max}, not ${value}`, `Give ${name} between ${range.min} and ${range.max}, or null to remove it`);
  }
  return value;
}

/**
 * Applies a patch to the current options and checks the result against the kind of peer:
 * S3JSON is refused for Eden peers (WIRE_FORMAT_UNSUPPORTED), whatever the patch touched, so a
 * repository never holds an option its peer cannot speak.
 */
export function applyLowBandwidthPatch(current: LowBandwidthSettings, patch: LowBandwidthPatch, peer: { software: PeerSoftware; name: string }): LowBandwidthSettings {
  const next: LowBandwidthSettings = { ...current };
  if (patch.wire_format !== undefined) {
    if (!WIRE_FORMATS.includes(patch.wire_format)) {
      throw badOption(`wire_format "${String(patch.wire_format)}" is not known`, `Use one of ${WIRE_FORMATS.join(', ')}`);
    }
    next.wire_format = patch.wire_format;
  }
  if (patch.max_bytes_per_second === null) delete next.max_bytes_per_second;
  else if (patch.max_bytes_per_second !== undefined) next.max_bytes_per_second = checkRange(patch.max_bytes_per_second, 'max_bytes_per_second', BYTES_PER_SECOND_RANGE);
  if (patch.page_size === null) delete next.page_size;
  else if (patch.page_size !== undefined) next.page_size = checkRange(patch.page_size, 'page_size', PAGE_SIZE_RANGE);
  if (next.wire_format === 's3json' && peer.software !== 'sluice') {
    throw new SluiceError('WIRE_FORMAT_UNSUPPORTED', `Repository ${peer.name} is an Eden instance: it syncs in S3XML only, not S3JSON`, {
      status: 400,
      fix: 'Use wire_format s3xml for Eden peers; S3JSON is for Sluice peers (their fingerprint says software "sluice")',
    });
  }
  return next;
}

/** Writes the options over a config, keeping every other key. */
export function withLowBandwidthSettings(config: Record<string, unknown>, settings: LowBandwidthSettings): Record<string, unknown> {
  const next: Record<string, unknown> = { ...config, wire_format: settings.wire_format };
  for (const key of ['max_bytes_per_second', 'page_size'] as const) {
    if (settings[key] === undefined) delete next[key];
    else next[key] = settings[key];
  }
  return next;
}
