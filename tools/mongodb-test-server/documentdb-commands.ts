/**
 * MongoDB commands → DocumentDB's SQL API. Every data command is one SQL call taking the command
 * document as BSON (`$n::bytea::documentdb_core.bson`) and giving its reply back as BSON bytes,
 * which go to the client untouched where possible (so numeric types survive exactly).
 *
 * Index builds go through `create_indexes_non_concurrently`: the background variant returns before
 * the index exists, and a unique index that is still building does not yet refuse duplicates.
 */
import { Long, deserialize, serialize } from 'bson';
import type { Document } from 'bson';
import type pg from 'pg';
import { mongoErrorForSqlState, sqlStateFromPackedCode } from './error-codes.js';

/** Anything that runs SQL: the pool (autocommit) or a pinned connection (transaction, cursor). */
export type Queryable = Pick<pg.PoolClient, 'query'>;

/** Decoding that keeps int32/int64/double apart, so a document re-encoded is byte-for-byte the same. */
export const EXACT_BSON = { promoteValues: false, promoteLongs: false, bsonRegExp: true } as const;

/** A command ready to send: the parsed document and its name and database. */
export interface ParsedCommand {
  name: string;
  database: string;
  document: Document;
  /** For insert/update/delete: the documents or statements, concatenated BSON (DocumentDB's bsonsequence). */
  sequence?: Buffer;
}

/** What a cursor-opening command left behind for getMore. */
export interface CursorContinuation {
  cursorId: string;
  database: string;
  continuation: Buffer;
  /** DocumentDB wants getMore on the same connection (it holds a portal). */
  persistConnection: boolean;
}

export interface CommandResult {
  reply: Buffer;
  cursor?: CursorContinuation;
}

/** Fields that steer sessions, transactions and routing; DocumentDB gets the command without them. */
const SESSION_FIELDS = ['lsid', 'txnNumber', 'autocommit', 'startTransaction', '$clusterTime', '$readPreference', 'readConcern', 'writeConcern', 'apiVersion', 'apiStrict', 'apiDeprecationErrors'];

function commandSpec(document: Document): Buffer {
  const spec: Document = {};
  for (const [key, value] of Object.entries(document)) if (!SESSION_FIELDS.includes(key)) spec[key] = value;
  return Buffer.from(serialize(spec));
}

const BSON_PARAM = '$2::bytea::documentdb_core.bson';

const CURSOR_FUNCTIONS: Record<string, string> = {
  find: 'documentdb_api.find_cursor_first_page',
  aggregate: 'documentdb_api.aggregate_cursor_first_page',
  listCollections: 'documentdb_api.list_collections_cursor_first_page',
  listIndexes: 'documentdb_api.list_indexes_cursor_first_page',
};

/** The array each write command carries its documents or statements in. */
export const WRITE_SEQUENCE_FIELDS: Record<string, string | undefined> = { insert: 'documents', update: 'updates', delete: 'deletes' };

const WRITE_FUNCTIONS: Record<string, string> = {
  insert: 'documentdb_api.insert',
  update: 'documentdb_api.update',
  delete: 'documentdb_api.delete',
};

/** Commands DocumentDB answers with a single BSON document. */
const DOCUMENT_FUNCTIONS: Record<string, string> = {
  count: `SELECT document::bytea AS reply FROM documentdb_api.count_query($1, ${BSON_PARAM})`,
  distinct: `SELECT document::bytea AS reply FROM documentdb_api.distinct_query($1, ${BSON_PARAM})`,
  findAndModify: `SELECT p_result::bytea AS reply FROM documentdb_api.find_and_modify($1, ${BSON_PARAM}, NULL)`,
  createIndexes: `SELECT documentdb_api_internal.create_indexes_non_concurrently($1, ${BSON_PARAM}, true)::bytea AS reply`,
  dropIndexes: `SELECT documentdb_api_internal.drop_indexes_non_concurrently($1, ${BSON_PARAM})::bytea AS reply`,
  create: `SELECT documentdb_api.create_collection_view($1, ${BSON_PARAM})::bytea AS reply`,
};

/** Commands whose reply may carry write errors with packed SQLSTATE codes. */
const WRITE_REPLIES = new Set(['insert', 'update', 'delete']);

export const SQL_COMMANDS = new Set([
  ...Object.keys(CURSOR_FUNCTIONS),
  ...Object.keys(WRITE_FUNCTIONS),
  ...Object.keys(DOCUMENT_FUNCTIONS),
  'getMore',
  'drop',
  'dropDatabase',
  'listDatabases',
  'renameCollection',
]);

/** Commands that may run inside a transaction (MongoDB's own list, less what DocumentDB lacks). */
export const TRANSACTION_COMMANDS = new Set(['find', 'aggregate', 'getMore', 'insert', 'update', 'delete', 'findAndModify', 'count', 'distinct', 'create', 'createIndexes']);

function ok(document: Document): Buffer {
  return Buffer.from(serialize({ ...document, ok: 1 }));
}

function numberOf(value: unknown): number {
  if (typeof value === 'number') return value;
  if (value !== null && typeof value === 'object' && 'valueOf' in value) return Number((value as { valueOf(): unknown }).valueOf());
  return Number(value);
}

/**
 * Write errors come back with DocumentDB's packed SQLSTATE as `code`; drivers and callers match on
 * MongoDB's numbers (11000 for a duplicate key), so each is translated.
 */
function translateWriteErrors(reply: Buffer): Buffer {
  const document = deserialize(reply, EXACT_BSON);
  const writeErrors = document.writeErrors as Document[] | undefined;
  if (!Array.isArray(writeErrors) || writeErrors.length === 0) return reply;
  document.writeErrors = writeErrors.map((writeError) => {
    const sqlState = sqlStateFromPackedCode(numberOf(writeError.code));
    const mapped = mongoErrorForSqlState(sqlState);
    const message = String(writeError.errmsg ?? '');
    return {
      ...writeError,
      code: mapped.code,
      codeName: mapped.codeName,
      errmsg: mapped.code === 11000 && !message.startsWith('E11000') ? `E11000 duplicate key error: ${message}` : mapped.known ? message : `${message} (DocumentDB SQLSTATE ${sqlState})`,
    };
  });
  return Buffer.from(serialize(document));
}

function collectionOf(command: ParsedCommand): string {
  const value = command.document[command.name];
  if (typeof value !== 'string') throw new TypeError(`${command.name} needs a collection name`);
  return value;
}

function splitNamespace(namespace: unknown): { database: string; collection: string } {
  if (typeof namespace !== 'string' || !namespace.includes('.')) throw new TypeError(`"${String(namespace)}" is not a database.collection namespace`);
  const dot = namespace.indexOf('.');
  return { database: namespace.slice(0, dot), collection: namespace.slice(dot + 1) };
}

async function openCursor(client: Queryable, command: ParsedCommand, fn: string): Promise<CommandResult> {
  const { rows } = await client.query<{ page: Buffer; continuation: Buffer | null; persist: boolean; cursor_id: string }>(
    `SELECT cursorPage::bytea AS page, continuation::bytea AS continuation, persistConnection AS persist, cursorId::text AS cursor_id FROM ${fn}($1, ${BSON_PARAM})`,
    [command.database, commandSpec(command.document)],
  );
  const row = rows[0]!;
  if (row.continuation === null || row.cursor_id === '0') return { reply: row.page };
  return {
    reply: row.page,
    cursor: { cursorId: row.cursor_id, database: command.database, continuation: row.continuation, persistConnection: row.persist },
  };
}

/** getMore for a cursor this adapter holds; `cursor` is undefined when the page was the last. */
export async function getMore(client: Queryable, command: ParsedCommand, previous: CursorContinuation): Promise<CommandResult> {
  const { rows } = await client.query<{ page: Buffer | null; continuation: Buffer | null }>(
    `SELECT cursorPage::bytea AS page, continuation::bytea AS continuation FROM documentdb_api.cursor_get_more($1, ${BSON_PARAM}, $3::bytea::documentdb_core.bson)`,
    [previous.database, commandSpec(command.document), previous.continuation],
  );
  const row = rows[0];
  if (!row?.page) {
    return { reply: ok({ cursor: { id: Long.ZERO, ns: `${previous.database}.${String(command.document.collection)}`, nextBatch: [] } }) };
  }
  if (row.continuation === null) return { reply: row.page };
  return { reply: row.page, cursor: { ...previous, continuation: row.continuation } };
}

/** Runs one of SQL_COMMANDS (except getMore, which needs the cursor registry). */
export async function runSqlCommand(client: Queryable, command: ParsedCommand): Promise<CommandResult> {
  const cursorFunction = CURSOR_FUNCTIONS[command.name];
  if (cursorFunction) return openCursor(client, command, cursorFunction);
  const writeFunction = WRITE_FUNCTIONS[command.name];
  if (writeFunction) {
    const { rows } = await client.query<{ reply: Buffer }>(
      `SELECT p_result::bytea AS reply FROM ${writeFunction}($1, ${BSON_PARAM}, $3::bytea::documentdb_core.bsonsequence, NULL)`,
      [command.database, commandSpec(command.document), command.sequence ?? null],
    );
    return { reply: WRITE_REPLIES.has(command.name) ? translateWriteErrors(rows[0]!.reply) : rows[0]!.reply };
  }
  const documentQuery = DOCUMENT_FUNCTIONS[command.name];
  if (documentQuery) {
    const { rows } = await client.query<{ reply: Buffer }>(documentQuery, [command.database, commandSpec(command.document)]);
    return { reply: rows[0]!.reply };
  }
  switch (command.name) {
    case 'drop': {
      const collection = collectionOf(command);
      await client.query('SELECT documentdb_api.drop_collection($1, $2)', [command.database, collection]);
      return { reply: ok({ ns: `${command.database}.${collection}` }) };
    }
    case 'dropDatabase':
      await client.query('SELECT documentdb_api.drop_database($1)', [command.database]);
      return { reply: ok({ dropped: command.database }) };
    case 'listDatabases': {
      const { rows } = await client.query<{ name: string }>('SELECT DISTINCT database_name AS name FROM documentdb_api_catalog.collections ORDER BY 1');
      const nameOnly = Boolean(command.document.nameOnly);
      const databases = rows.map((row) => (nameOnly ? { name: row.name } : { name: row.name, sizeOnDisk: 0, empty: false }));
      return { reply: ok({ databases, ...(nameOnly ? {} : { totalSize: 0 }) }) };
    }
    case 'renameCollection': {
      const from = splitNamespace(command.document.renameCollection);
      const to = splitNamespace(command.document.to);
      if (from.database !== to.database) throw new TypeError('renameCollection across databases is not supported by this adapter');
      await client.query('SELECT documentdb_api.rename_collection($1, $2, $3, $4)', [from.database, from.collection, to.collection, Boolean(command.document.dropTarget)]);
      return { reply: ok({}) };
    }
    default:
      throw new TypeError(`${command.name} is not a SQL command`);
  }
}
