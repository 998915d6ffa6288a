import type { NextFunction, Request, Response } from 'express';
import { SluiceError, asSluiceError } from '../errors.js';
import type { Logger } from '../logger.js';

/**
 * Eden's JSON message (S3Codec.json_message): `{"status","statuscode" (a string),"message",…}`.
 * Sluice adds `code` and `fix` so a person and a script both learn what to do.
 */
export function edenMessage(
  status: 'success' | 'failed',
  statuscode: number,
  message?: string,
  extra: Record<string, unknown> = {},
): Record<string, unknown> {
  return { status, statuscode: String(statuscode), ...(message ? { message } : {}), ...extra };
}

function fromBodyParser(error: unknown): SluiceError | undefined {
  const type = (error as { type?: string } | null)?.type;
  if (type === 'entity.too.large') {
    return new SluiceError('BODY_TOO_LARGE', 'request body is larger than the configured limit', {
      status: 413,
      fix: 'Split the import into smaller files or raise SLUICE_MAX_BODY',
    });
  }
  if (type === 'entity.parse.failed') {
    return new SluiceError('BAD_JSON', 'request body is not valid JSON', { status: 400 });
  }
  if (type === 'encoding.unsupported' || type === 'charset.unsupported') {
    return new SluiceError('BAD_ENCODING', 'request body encoding is not supported', { status: 415 });
  }
  return undefined;
}

/** The last middleware: every error becomes Eden's JSON message with a stable code. */
export function errorHandler(logger: Logger) {
  return (error: unknown, _req: Request, res: Response, _next: NextFunction): void => {
    if (res.headersSent) {
      // A streamed export already started: cut the connection so the peer sees a truncated
      // body (and does not advance its checkpoint) instead of a clean end.
      logger.error({ err: error }, 'error after the response started');
      res.destroy();
      return;
    }
    const failure = fromBodyParser(error) ?? asSluiceError(error);
    if (failure.status >= 500) logger.error({ err: error }, failure.message);
    res.status(failure.status).json(edenMessage('failed', failure.status, failure.message, failure.toJSON()));
  };
}
