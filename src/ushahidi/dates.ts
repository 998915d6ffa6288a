import { SluiceError } from '../errors.js';
import { formatTimestamp, normalizeTimestamp, type EdenTimestamp } from '../s3xml/timestamps.js';

/**
 * v5 writes `2014-09-29T14:10:16+0000` (no colon in the offset), which not every parser accepts;
 * Eden wants `2014-09-29T14:10:16` in UTC. Returns undefined for null/empty/garbage.
 */
export function v5DateToEden(value: unknown): EdenTimestamp | undefined {
  if (typeof value !== 'string' || value.trim() === '') return undefined;
  return normalizeTimestamp(value);
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatterFor(timeZone: string): Intl.DateTimeFormat {
  let formatter = formatters.get(timeZone);
  if (!formatter) {
    try {
      formatter = new Intl.DateTimeFormat('en-US', {
        timeZone,
        hourCycle: 'h23',
        year: 'numeric',
        month: '2-digit',
        day: '2-digit',
        hour: '2-digit',
        minute: '2-digit',
        second: '2-digit',
      });
    } catch (error) {
      throw new SluiceError('USHAHIDI_BAD_TIMEZONE', `"${timeZone}" is not a known IANA time zone`, {
        status: 400,
        cause: error,
        fix: "Give the deployment's site_timezone, for example America/Port-au-Prince",
      });
    }
    formatters.set(timeZone, formatter);
  }
  return formatter;
}

export function assertTimeZone(timeZone: string): void {
  formatterFor(timeZone);
}

/** Milliseconds to add to UTC to get wall-clock time in `timeZone` at instant `utcMs`. */
function zoneOffsetMs(utcMs: number, timeZone: string): number {
  const parts: Record<string, number> = {};
  for (const part of formatterFor(timeZone).formatToParts(new Date(utcMs))) {
    if (part.type !== 'literal') parts[part.type] = Number(part.value);
  }
  const wall = Date.UTC(parts.year!, parts.month! - 1, parts.day!, parts.hour!, parts.minute!, parts.second!);
  return wall - Math.floor(utcMs / 1000) * 1000;
}

const V2_LOCAL = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2}):(\d{2})$/;

/**
 * v2 `incidentdate` is wall-clock time of the deployment's `site_timezone`, with no zone in the
 * text. Converted with the zone's rules at that date (so DST is right); a wall time that a DST jump
 * skipped resolves to the later side, as most libraries do.
 */
export function v2LocalDateToEden(value: unknown, timeZone: string): EdenTimestamp | undefined {
  if (typeof value !== 'string') return undefined;
  const m = V2_LOCAL.exec(value.trim());
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s] = m.map(Number) as [number, number, number, number, number, number, number];
  const wallAsUtc = Date.UTC(y, mo - 1, d, h, mi, s);
  if (Number.isNaN(wallAsUtc)) return undefined;
  let utc = wallAsUtc - zoneOffsetMs(wallAsUtc, timeZone);
  // The offset at the guessed instant may differ from the offset at the real one near a DST switch.
  utc = wallAsUtc - zoneOffsetMs(utc, timeZone);
  return formatTimestamp(new Date(utc));
}
