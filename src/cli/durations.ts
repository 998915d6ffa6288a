/**
 * Intervals as people type them on the command line: `90` or `90s` seconds, `10m` minutes, `2h`
 * hours, `1d` days. The API keeps plain `interval_seconds`.
 */
import { SluiceError } from '../errors.js';

const UNIT_SECONDS: Record<string, number> = { '': 1, s: 1, m: 60, h: 3600, d: 86_400 };

export const DURATION_FORMS = '90 or 90s (seconds), 10m (minutes), 2h (hours), 1d (days)';

/** Whole seconds in `text`; `allowZero` for options where 0 means "no schedule". */
export function parseDuration(text: string, flag: string, options: { allowZero?: boolean } = {}): number {
  const match = /^(\d+)\s*([smhd]?)$/i.exec(text.trim());
  const seconds = match ? Number(match[1]) * UNIT_SECONDS[match[2]!.toLowerCase()]! : Number.NaN;
  if (!Number.isSafeInteger(seconds)) {
    throw new SluiceError('CLI_BAD_OPTION', `${flag} "${text}" is not an interval`, { status: 400, fix: `Write ${flag} as ${DURATION_FORMS}` });
  }
  if (seconds === 0 && !options.allowZero) {
    throw new SluiceError('CLI_BAD_OPTION', `${flag} ${text} would run without pause`, { status: 400, fix: `Give an interval of at least 1 second, e.g. ${flag} 10m; to stop the schedule use --disable` });
  }
  return seconds;
}
