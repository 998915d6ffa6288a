import { SluiceError } from '../errors.js';

/**
 * Eden's wire timestamps are UTC without a zone, at seconds precision: `YYYY-MM-DDTHH:MM:SS`.
 * Strings in that form sort lexically in time order, which the stores rely on.
 */
export type EdenTimestamp = string;

const STRICT = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})$/;

/** Formats a Date as an Eden timestamp (milliseconds dropped, never rounded up). */
export function formatTimestamp(date: Date): EdenTimestamp {
  return date.toISOString().slice(0, 19);
}

/** True when `value` is exactly `YYYY-MM-DDTHH:MM:SS` and a real calendar instant. */
export function isStrictTimestamp(value: string): boolean {
  const m = STRICT.exec(value);
  if (!m) return false;
  const date = new Date(`${value}Z`);
  return !Number.isNaN(date.getTime()) && formatTimestamp(date) === value;
}

/**
 * Parses `msince` exactly as Eden's `s3_parse_datetime` does (`%Y-%m-%dT%H:%M:%S`), but where Eden
 * silently ignores a malformed value and exports everything, Sluice refuses it.
 */
export function parseMsince(value: string): EdenTimestamp {
  if (!isStrictTimestamp(value)) {
    throw new SluiceError('BAD_MSINCE', `msince "${value}" is not a UTC timestamp of the form YYYY-MM-DDTHH:MM:SS`, {
      status: 400,
      fix: 'Send msince without zone or fractions, for example msince=2024-03-05T16:40:02',
    });
  }
  return value;
}

const LENIENT = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?)?\s*(Z|[+-]\d{2}:?\d{2})?$/i;

/**
 * Parses a record timestamp attribute (`created_on`, `modified_on`) as Eden's importer does:
 * naive means UTC, a zone is converted to UTC, fractions are dropped, a date alone means 08:00:00
 * (dateutil's default in Eden's import). Returns undefined when the text is not a timestamp.
 */
export function normalizeTimestamp(value: string): EdenTimestamp | undefined {
  const m = LENIENT.exec(value.trim());
  if (!m) return undefined;
  const [, y, mo, d, h = '08', mi = '00', s = '00', zone] = m;
  let iso = `${y}-${mo}-${d}T${h}:${mi}:${s}`;
  if (zone && zone.toUpperCase() !== 'Z') {
    const z = zone.includes(':') ? zone : `${zone.slice(0, 3)}:${zone.slice(3)}`;
    iso += z;
  } else {
    iso += 'Z';
  }
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return undefined;
  const out = formatTimestamp(date);
  // Reject impossible calendar dates that Date silently rolls over (2024-02-31).
  if (!zone && out.slice(0, 10) !== `${y}-${mo}-${d}`) return undefined;
  return out;
}

/** Adds seconds to an Eden timestamp (used for Eden's `last_pull = mtime + 1 s`). */
export function addSeconds(ts: EdenTimestamp, seconds: number): EdenTimestamp {
  return formatTimestamp(new Date(Date.parse(`${ts}Z`) + seconds * 1000));
}

/** The injectable clock the core uses instead of `new Date()`. */
export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };
