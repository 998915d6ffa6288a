/**
 * DocumentDB reports MongoDB errors as PostgreSQL SQLSTATEs in its own `M….` class (M001C is
 * DuplicateKey). Write errors inside a reply carry the same SQLSTATE packed into an int32 (six bits
 * per character, first character lowest). This module turns both into the numeric codes and code
 * names a MongoDB driver knows. The SQLSTATE → name pairs come from DocumentDB's
 * pg_documentdb_core/include/utils/documentdb_codes.txt; the name → number pairs from MongoDB's
 * error_codes.yml. Only the errors a storage backend meets are listed; anything else is reported
 * as InternalError with the original SQLSTATE in the message, so a gap shows up instead of hiding.
 */

export interface MongoErrorCode {
  code: number;
  codeName: string;
}

const BY_SQLSTATE: Record<string, MongoErrorCode> = {
  M0000: { code: 1, codeName: 'InternalError' },
  M0001: { code: 2, codeName: 'BadValue' },
  M0003: { code: 9, codeName: 'FailedToParse' },
  M0004: { code: 14, codeName: 'TypeMismatch' },
  M0005: { code: 15, codeName: 'Overflow' },
  M0006: { code: 20, codeName: 'IllegalOperation' },
  M0008: { code: 26, codeName: 'NamespaceNotFound' },
  M0009: { code: 27, codeName: 'IndexNotFound' },
  M000A: { code: 28, codeName: 'PathNotViable' },
  M000D: { code: 40, codeName: 'ConflictingUpdateOperators' },
  M000E: { code: 43, codeName: 'CursorNotFound' },
  M000F: { code: 48, codeName: 'NamespaceExists' },
  M000G: { code: 52, codeName: 'DollarPrefixedFieldName' },
  M000J: { code: 56, codeName: 'EmptyFieldName' },
  M000K: { code: 57, codeName: 'DottedFieldName' },
  M000M: { code: 66, codeName: 'ImmutableField' },
  M000N: { code: 67, codeName: 'CannotCreateIndex' },
  M000O: { code: 68, codeName: 'IndexAlreadyExists' },
  M000P: { code: 72, codeName: 'InvalidOptions' },
  M000Q: { code: 73, codeName: 'InvalidNamespace' },
  M000R: { code: 85, codeName: 'IndexOptionsConflict' },
  M000S: { code: 86, codeName: 'IndexKeySpecsConflict' },
  M000U: { code: 115, codeName: 'CommandNotSupported' },
  M000W: { code: 146, codeName: 'ExceededMemoryLimit' },
  M0016: { code: 263, codeName: 'OperationNotSupportedInTransaction' },
  M001B: { code: 10334, codeName: 'BSONObjectTooLarge' },
  M001C: { code: 11000, codeName: 'DuplicateKey' },
  M007U: { code: 59, codeName: 'CommandNotFound' },
  M0088: { code: 40415, codeName: 'Location40415' },
  M00CO: { code: 121, codeName: 'DocumentValidationFailure' },
  M00ER: { code: 13, codeName: 'Unauthorized' },
  M00EW: { code: 24, codeName: 'LockTimeout' },
  M00EX: { code: 50, codeName: 'MaxTimeMSExpired' },
  M00EY: { code: 59, codeName: 'CommandNotFound' },
  M00F1: { code: 112, codeName: 'WriteConflict' },
  M00F2: { code: 117, codeName: 'ConflictingOperationInProgress' },
  M00F6: { code: 251, codeName: 'NoSuchTransaction' },
  M00F7: { code: 256, codeName: 'TransactionCommitted' },
};

/** Plain PostgreSQL SQLSTATEs that DocumentDB lets through. */
const BY_POSTGRES_SQLSTATE: Record<string, MongoErrorCode> = {
  '23505': { code: 11000, codeName: 'DuplicateKey' },
  '40001': { code: 112, codeName: 'WriteConflict' },
  '40P01': { code: 112, codeName: 'WriteConflict' },
  '55P03': { code: 24, codeName: 'LockTimeout' },
  '42P01': { code: 26, codeName: 'NamespaceNotFound' },
  '57014': { code: 50, codeName: 'MaxTimeMSExpired' },
  '25P02': { code: 251, codeName: 'NoSuchTransaction' },
  '53100': { code: 14031, codeName: 'OutOfDiskSpace' },
};

export const WRITE_CONFLICT = BY_SQLSTATE.M00F1!;
export const NO_SUCH_TRANSACTION = BY_SQLSTATE.M00F6!;
export const COMMAND_NOT_FOUND: MongoErrorCode = { code: 59, codeName: 'CommandNotFound' };
export const CURSOR_NOT_FOUND = BY_SQLSTATE.M000E!;
export const INTERNAL_ERROR = BY_SQLSTATE.M0000!;

/** The MongoDB error for a SQLSTATE, or InternalError when it is not one this adapter knows. */
export function mongoErrorForSqlState(sqlState: string | undefined): MongoErrorCode & { known: boolean } {
  const known = sqlState === undefined ? undefined : (BY_SQLSTATE[sqlState] ?? BY_POSTGRES_SQLSTATE[sqlState]);
  return known ? { ...known, known: true } : { ...INTERNAL_ERROR, known: false };
}

/** The SQLSTATE packed in a DocumentDB write error's integer `code`. */
export function sqlStateFromPackedCode(packed: number): string {
  let rest = packed;
  let state = '';
  for (let i = 0; i < 5; i++) {
    state += String.fromCharCode((rest & 0x3f) + 0x30);
    rest >>>= 6;
  }
  return state;
}

/** The inverse of sqlStateFromPackedCode (used by tests). */
export function packSqlState(state: string): number {
  let packed = 0;
  for (let i = state.length - 1; i >= 0; i--) packed = packed * 64 + ((state.charCodeAt(i) - 0x30) & 0x3f);
  return packed;
}

/** Errors after which the driver should retry the whole transaction (MongoDB's label). */
export function isTransientTransactionError(code: number): boolean {
  return code === WRITE_CONFLICT.code || code === NO_SUCH_TRANSACTION.code || code === 24;
}
