/**
 * Every failure Sluice reports to a user carries a stable `code` (match on it, never on the
 * message), an HTTP status for the web surfaces, a severity and a `fix` hint that says what to do.
 *
 * Severity follows what happens to the surrounding work:
 * - `record`: this record is skipped, the job goes on;
 * - `job`: the current job (import, page, sync run) is aborted and nothing of it is committed;
 * - `limit`: a configured limit (time, size, depth) stopped the work.
 */
export type Severity = 'record' | 'job' | 'limit';

export interface SluiceErrorOptions {
  status?: number;
  severity?: Severity;
  fix?: string;
  cause?: unknown;
  /** Extra machine-readable context: line/column, uuid, field, XSLT error code… */
  details?: Record<string, unknown>;
}

export class SluiceError extends Error {
  readonly code: string;
  readonly status: number;
  readonly severity: Severity;
  readonly fix: string | undefined;
  readonly details: Record<string, unknown>;

  constructor(code: string, message: string, options: SluiceErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'SluiceError';
    this.code = code;
    this.status = options.status ?? 400;
    this.severity = options.severity ?? 'job';
    this.fix = options.fix;
    this.details = options.details ?? {};
  }

  toJSON(): Record<string, unknown> {
    return {
      code: this.code,
      message: this.message,
      ...(this.fix ? { fix: this.fix } : {}),
      ...this.details,
    };
  }
}

export function isSluiceError(error: unknown): error is SluiceError {
  return error instanceof SluiceError;
}

/** Wraps anything thrown into a SluiceError so callers can always read `code` and `status`. */
export function asSluiceError(error: unknown, fallbackCode = 'INTERNAL_ERROR'): SluiceError {
  if (error instanceof SluiceError) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new SluiceError(fallbackCode, message, { status: 500, cause: error });
}
