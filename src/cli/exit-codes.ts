/**
 * Exit codes scripts can rely on (after sysexits.h where one fits), and the one place that turns
 * a failure into one. The mapping goes by what the failure says about the world (its HTTP-like
 * status, or a network cause) so that a new error code lands on the right exit code without being
 * listed here; only codes whose status cannot tell are named.
 */
import { SluiceError, isSluiceError } from '../errors.js';

export const EXIT = {
  OK: 0,
  /** The operator answered no at a confirmation prompt: nothing was sent or stored. */
  DECLINED: 1,
  /** The work ran to the end but some records were skipped, refused or conflicted. */
  PARTIAL: 3,
  /** Wrong command-line usage. */
  USAGE: 64,
  /** The input data was refused; nothing was changed. */
  DATA: 65,
  /** A peer or service could not be reached, or answered with a failure of its own. */
  UNAVAILABLE: 69,
  /** A bug or an unexpected failure. */
  SOFTWARE: 70,
  /** A file could not be read or written. */
  IO: 74,
  /** Credentials were refused (by this gateway or by a peer). */
  NO_PERMISSION: 77,
  /** The configuration is wrong. */
  CONFIG: 78,
} as const;

/** Command-line mistakes: the options or arguments, not the data, are wrong. */
const USAGE_CODES = new Set(['CLI_BAD_OPTION', 'CLI_USAGE', 'BAD_ARGUMENTS', 'BAD_ARGUMENT', 'BAD_SCHEDULE', 'NO_ANSWER']);
/** Includes what a flag fixes at startup: another port, host or data directory. */
const CONFIG_CODES = new Set(['PORT_IN_USE', 'PORT_NOT_ALLOWED', 'HOST_NOT_AVAILABLE', 'DATA_DIR_IN_USE', 'BAD_CONFIG', 'BAD_SECRET_KEY', 'SECRET_KEY_UNAVAILABLE', 'STANDARDS_MISSING', 'XSD_SCHEMAS_MISSING']);
/**
 * Refusals whose status does not say so: a user without the role (here or at a peer), and an
 * OAuth login refused with 400 invalid_grant.
 */
const REFUSED_CODES = new Set(['FORBIDDEN', 'PEER_FORBIDDEN', 'USHAHIDI_ACCESS_DENIED', 'USHAHIDI_LOGIN_FAILED', 'USHAHIDI_CLIENT_REJECTED']);
const IO_CODES = new Set(['FILE_NOT_FOUND', 'FILE_ACCESS_DENIED', 'FILE_IS_A_FOLDER', 'FILE_EXISTS', 'FILE_ERROR', 'DISK_FULL', 'STORE_DISK_FULL']);

const FILE_ERRNOS = new Set(['ENOENT', 'EACCES', 'EPERM', 'EISDIR', 'ENOTDIR', 'EEXIST', 'ENOSPC', 'EROFS', 'EMFILE']);
const NETWORK_ERRNOS = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EPIPE',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'UND_ERR_SOCKET',
]);
/** MongoDB driver errors that mean the server was not reached (they carry no errno). */
const NETWORK_ERROR_NAMES = /^Mongo(ServerSelection|Network|NetworkTimeout|TopologyClosed)Error$/;

/** The error and its causes, outermost first (bounded: causes can form a loop). */
function causeChain(error: unknown): unknown[] {
  const chain: unknown[] = [];
  let current: unknown = error;
  while (current !== null && current !== undefined && chain.length < 8 && !chain.includes(current)) {
    chain.push(current);
    current = typeof current === 'object' ? (current as { cause?: unknown }).cause : undefined;
  }
  return chain;
}

function errnoOf(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

/** Some cause on the way down is a failure to reach another machine. */
export function hasNetworkCause(error: unknown): boolean {
  return causeChain(error).some((link) => {
    const code = errnoOf(link);
    if (code !== undefined && NETWORK_ERRNOS.has(code)) return true;
    const name = (link as { name?: unknown } | null)?.name;
    return typeof name === 'string' && NETWORK_ERROR_NAMES.test(name);
  });
}

/**
 * Node's file-system errors ("ENOENT: no such file or directory, stat 'x.xml'") as SluiceErrors
 * with a code and a fix; anything else is returned unchanged.
 */
export function describeSystemError(error: unknown): unknown {
  if (isSluiceError(error) || !(error instanceof Error)) return error;
  const code = errnoOf(error);
  const file = (error as NodeJS.ErrnoException).path;
  if (code === undefined || !FILE_ERRNOS.has(code) || typeof file !== 'string') return error;
  const options = { status: 400, cause: error, details: { file } };
  switch (code) {
    case 'ENOENT':
    case 'ENOTDIR':
      return new SluiceError('FILE_NOT_FOUND', `${file} does not exist`, { ...options, fix: `Check the path (relative paths start at ${process.cwd()})` });
    case 'EACCES':
    case 'EPERM':
    case 'EROFS':
      return new SluiceError('FILE_ACCESS_DENIED', `${file} cannot be ${(error as NodeJS.ErrnoException).syscall === 'open' ? 'opened' : 'used'}: permission denied`, {
        ...options,
        fix: 'Check the file permissions, or run as a user that may read and write it',
      });
    case 'EISDIR':
      return new SluiceError('FILE_IS_A_FOLDER', `${file} is a folder, not a file`, { ...options, fix: 'Name a file inside the folder' });
    case 'EEXIST':
      return new SluiceError('FILE_EXISTS', `${file} exists already`, { ...options, fix: 'Choose another name or remove the file first' });
    case 'ENOSPC':
      return new SluiceError('DISK_FULL', `no space left on the disk holding ${file}`, { ...options, fix: 'Free some disk space and run the command again' });
    default:
      return new SluiceError('FILE_ERROR', `${file}: ${error.message}`, { ...options, fix: 'Check the path and its permissions' });
  }
}

/** Maps a failure to an exit code: by a few named codes, then by cause, then by status. */
export function exitCodeFor(error: unknown): number {
  const described = describeSystemError(error);
  if (!isSluiceError(described)) {
    if (hasNetworkCause(described)) return EXIT.UNAVAILABLE;
    const code = errnoOf(described);
    return code !== undefined && FILE_ERRNOS.has(code) ? EXIT.IO : EXIT.SOFTWARE;
  }
  if (USAGE_CODES.has(described.code)) return EXIT.USAGE;
  if (CONFIG_CODES.has(described.code)) return EXIT.CONFIG;
  if (IO_CODES.has(described.code)) return EXIT.IO;
  // Whoever refused the credentials (this gateway, an Eden peer, Ushahidi), the fix is the same: a
  // person changes a user name or password. UpstreamStatusError keeps the peer's own status.
  const upstreamStatus = described.details.upstreamStatus;
  // A 403 alone is not enough: a sandbox violation is a 403 about the stylesheet, not the user.
  if (described.status === 401 || upstreamStatus === 401 || REFUSED_CODES.has(described.code)) return EXIT.NO_PERMISSION;
  if (described.status === 502 || described.status === 503 || described.status === 504 || hasNetworkCause(described)) return EXIT.UNAVAILABLE;
  if (described.status >= 500) return EXIT.SOFTWARE;
  return EXIT.DATA;
}
