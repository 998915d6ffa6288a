/**
 * Exit codes scripts can rely on (after sysexits.h where one fits).
 */
export const EXIT = {
  OK: 0,
  /** The work ran to the end but some records were skipped, refused or conflicted. */
  PARTIAL: 3,
  /** Wrong command-line usage. */
  USAGE: 64,
  /** The input data was refused; nothing was changed. */
  DATA: 65,
  /** A peer or service could not be reached. */
  UNAVAILABLE: 69,
  /** A bug or an unexpected failure. */
  SOFTWARE: 70,
  /** A file could not be read or written. */
  IO: 74,
  /** The configuration is wrong. */
  CONFIG: 78,
} as const;

import { isSluiceError } from '../errors.js';

/** Maps an error to an exit code by its stable code and severity. */
export function exitCodeFor(error: unknown): number {
  if (!isSluiceError(error)) {
    const code = (error as NodeJS.ErrnoException | null)?.code;
    if (code === 'ENOENT' || code === 'EACCES' || code === 'EISDIR' || code === 'EEXIST') return EXIT.IO;
    return EXIT.SOFTWARE;
  }
  if (error.code === 'BAD_CONFIG') return EXIT.CONFIG;
  if (error.code.startsWith('NET_') || error.code === 'PEER_UNAVAILABLE') return EXIT.UNAVAILABLE;
  if (error.status >= 500) return EXIT.SOFTWARE;
  return EXIT.DATA;
}
