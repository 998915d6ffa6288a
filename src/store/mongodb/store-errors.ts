/**
 * Driver errors → SluiceErrors with stable codes. Callers match on `code`; the driver's own error
 * stays attached as `cause`.
 */
import { MongoError, MongoNetworkError, MongoServerError, MongoServerSelectionError } from 'mongodb';
import { SluiceError } from '../../errors.js';

export const DUPLICATE_KEY = 11000;

export function isDuplicateKey(error: unknown): boolean {
  return error instanceof MongoServerError && error.code === DUPLICATE_KEY;
}

/** MongoDB's label for errors after which the whole transaction may simply be run again. */
export function isTransientTransactionError(error: unknown): boolean {
  return error instanceof MongoError && error.hasErrorLabel('TransientTransactionError');
}

/** A connection string with its password masked, for messages and logs. */
export function redactUrl(url: string): string {
  return url.replace(/\/\/([^:/@]+):[^@/]*@/, '//$1:***@');
}

export function storeFailure(error: unknown): unknown {
  if (error instanceof SluiceError) return error;
  const message = error instanceof Error ? error.message : String(error);
  if (error instanceof MongoNetworkError || error instanceof MongoServerSelectionError) {
    return new SluiceError('STORE_UNAVAILABLE', `MongoDB cannot be reached: ${message}`, {
      status: 503,
      fix: 'Retry later; if it persists, check that the MongoDB servers named in the store URL are running and reachable',
      cause: error,
    });
  }
  return new SluiceError('STORE_FAILED', `The store failed: ${message}`, {
    status: 500,
    cause: error,
    details: error instanceof MongoServerError ? { mongodb: error.codeName ?? error.code } : {},
  });
}

export function closedError(): SluiceError {
  return new SluiceError('STORE_CLOSED', 'The store is closed', {
    status: 503,
    fix: 'This is a bug in the caller: the store was used after close()',
  });
}

export function transactionClosedError(): SluiceError {
  return new SluiceError('STORE_TRANSACTION_CLOSED', 'A transaction handle was used after its transaction ended', {
    status: 500,
    fix: 'This is a bug in the caller: await every store call inside the transaction work',
  });
}
