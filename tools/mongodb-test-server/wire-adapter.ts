/**
 * A MongoDB wire-protocol front for DocumentDB (PostgreSQL + the documentdb extension), written for
 * Sluice's tests: it lets the official `mongodb` driver talk to a MongoDB-compatible engine on
 * machines where no mongod can be installed (docs/decisions/mongodb-test-server.md).
 *
 * It presents itself as the primary of a one-member replica set (so the driver allows
 * transactions), answers the handshake commands itself and hands every data command to
 * documentdb-commands.ts. Commands it does not route fail with CommandNotFound (59), so a gap shows
 * up loudly. No authentication: it listens on loopback for tests only.
 *
 *   const adapter = await startWireAdapter({ postgresUrl: 'postgres://postgres@127.0.0.1:55432/postgres' });
 *   new MongoClient(adapter.url)  // mongodb://127.0.0.1:<port>/?directConnection=true
 */
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { Binary, deserialize, serialize } from 'bson';
import type { Document } from 'bson';
import pg from 'pg';
import { getMore, runSqlCommand, EXACT_BSON, SQL_COMMANDS, TRANSACTION_COMMANDS, WRITE_SEQUENCE_FIELDS } from './documentdb-commands.js';
import type { CursorContinuation, ParsedCommand, Queryable } from './documentdb-commands.js';
import { COMMAND_NOT_FOUND, CURSOR_NOT_FOUND, isTransientTransactionError, mongoErrorForSqlState, NO_SUCH_TRANSACTION } from './error-codes.js';
import { TransactionRegistry, TransactionStateError } from './transactions.js';
import { encodeOpMsgReply, encodeOpReply, MessageReader, WireProtocolError } from './wire-protocol.js';
import type { WireRequest } from './wire-protocol.js';

export interface WireAdapterOptions {
  /** A PostgreSQL server with `CREATE EXTENSION documentdb` done (setup.sh does it). */
  postgresUrl: string;
  host?: string;
  /** 0 (the default) picks a free port. */
  port?: number;
  /** PostgreSQL connections shared by all clients (each open transaction holds one). */
  maxPoolSize?: number;
  /** A transaction idle this long is rolled back, as mongod's transactionLifetimeLimitSeconds does. */
  transactionLifetimeMs?: number;
  /** Called with one line per command failure the adapter could not map (for debugging gaps). */
  onUnmappedError?: (line: string) => void;
}

export interface WireAdapter {
  /** A connection string for the driver. */
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

const MAX_MESSAGE_BYTES = 48_000_000;
/** mongod's cursorTimeoutMillis: a cursor nobody asked for more in this long is dropped. */
const CURSOR_TIMEOUT_MS = 10 * 60_000;
const MAX_WIRE_VERSION = 21;
const REPLICA_SET = 'rs0';

interface HeldCursor extends CursorContinuation {
  /** The connection a persistent cursor must keep using (released when the cursor ends). */
  pinned?: pg.PoolClient;
  /** The transaction session the cursor belongs to, if any. */
  session?: { key: string; txnNumber: string };
  lastUsed: number;
}

class CommandFailure extends Error {
  constructor(
    readonly code: number,
    readonly codeName: string,
    message: string,
    readonly labels: string[] = [],
  ) {
    super(message);
  }
}

function sessionKey(document: Document): string | undefined {
  const lsid = document.lsid as { id?: unknown } | undefined;
  return lsid?.id instanceof Binary ? Buffer.from(lsid.id.buffer).toString('hex') : undefined;
}

/** The name of a BSON document's first field, read without decoding the rest. */
function firstFieldName(document: Buffer): string {
  const end = document.indexOf(0, 5);
  return end < 0 ? '' : document.toString('utf8', 5, end);
}

function parseCommand(request: WireRequest): ParsedCommand {
  const source = request.kind === 'msg' ? request.body : request.query;
  const name = firstFieldName(source);
  const sequenceField = WRITE_SEQUENCE_FIELDS[name];
  // The documents of a write go to DocumentDB as a BSON sequence, byte for byte: decoding and
  // re-encoding them here would cost more than DocumentDB's own insert.
  const document = deserialize(source, sequenceField ? { ...EXACT_BSON, fieldsAsRaw: { [sequenceField]: true } } : EXACT_BSON);
  const sequence: Buffer[] = [];
  if (sequenceField && Array.isArray(document[sequenceField])) {
    sequence.push(...(document[sequenceField] as Buffer[]));
    delete document[sequenceField];
  }
  if (request.kind === 'msg') {
    for (const [identifier, documents] of request.sequences) {
      if (identifier === sequenceField) sequence.push(...documents);
      // Other kind-1 sections become ordinary array fields.
      else document[identifier] = documents.map((bytes) => deserialize(bytes, EXACT_BSON));
    }
  }
  const database = typeof document.$db === 'string' ? document.$db : request.kind === 'query' ? request.collection.split('.')[0]! : 'admin';
  return { name, database, document, ...(sequenceField ? { sequence: Buffer.concat(sequence) } : {}) };
}

class WireAdapterServer implements WireAdapter {
  private readonly pool: pg.Pool;
  private readonly transactions: TransactionRegistry;
  private readonly cursors = new Map<string, HeldCursor>();
  private readonly sockets = new Set<net.Socket>();
  private readonly server: net.Server;
  private nextRequestId = 1;
  private nextConnectionId = 1;
  /** Drops abandoned cursors, so one left by a killed client does not keep a pinned connection. */
  private readonly cursorReaper: NodeJS.Timeout;
  port = 0;

  constructor(private readonly options: WireAdapterOptions) {
    this.pool = new pg.Pool({
      connectionString: options.postgresUrl,
      max: options.maxPoolSize ?? 40,
      // DocumentDB's own gateway connects with this search path; some internal functions rely on it.
      options: '-c search_path=documentdb_api_catalog,documentdb_api,public',
    });
    // An idle pooled connection that drops (server restart) must not crash the process.
    this.pool.on('error', () => undefined);
    this.transactions = new TransactionRegistry(this.pool, options.transactionLifetimeMs ?? 60_000);
    this.server = net.createServer((socket) => this.accept(socket));
    this.cursorReaper = setInterval(() => {
      const deadline = Date.now() - CURSOR_TIMEOUT_MS;
      for (const [cursorId, held] of [...this.cursors]) if (held.lastUsed < deadline) this.dropCursor(cursorId);
    }, 30_000);
    this.cursorReaper.unref();
  }

  get url(): string {
    return `mongodb://${this.options.host ?? '127.0.0.1'}:${this.port}/?directConnection=true`;
  }

  async listen(): Promise<void> {
    // Fail early, with PostgreSQL's own message, when the database is not reachable.
    const client = await this.pool.connect();
    try {
      await client.query("SELECT 1 FROM pg_extension WHERE extname = 'documentdb'").then(({ rowCount }) => {
        if (rowCount !== 1) throw new Error('the documentdb extension is not installed in this database (run CREATE EXTENSION documentdb CASCADE)');
      });
    } finally {
      client.release();
    }
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.options.port ?? 0, this.options.host ?? '127.0.0.1', () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    this.port = (this.server.address() as AddressInfo).port;
  }

  private accept(socket: net.Socket): void {
    this.sockets.add(socket);
    socket.setNoDelay(true);
    const connectionId = this.nextConnectionId++;
    const reader = new MessageReader(MAX_MESSAGE_BYTES);
    // One request at a time per connection, replies in order (drivers do not pipeline).
    let queue = Promise.resolve();
    socket.on('data', (chunk: Buffer) => {
      let requests: WireRequest[];
      try {
        requests = reader.push(chunk);
      } catch (error) {
        if (error instanceof WireProtocolError) socket.destroy();
        return;
      }
      for (const request of requests) {
        queue = queue.then(async () => {
          const reply = await this.reply(request, connectionId);
          if (reply && !socket.destroyed) socket.write(reply);
        });
      }
    });
    socket.on('error', () => undefined);
    socket.on('close', () => this.sockets.delete(socket));
  }

  private async reply(request: WireRequest, connectionId: number): Promise<Buffer | undefined> {
    let body: Buffer;
    try {
      body = await this.execute(parseCommand(request), connectionId);
    } catch (error) {
      body = this.errorReply(error);
    }
    if (request.kind === 'msg' && request.moreToCome) return undefined;
    const requestId = this.nextRequestId++;
    return request.kind === 'msg' ? encodeOpMsgReply(requestId, request.header.requestId, body) : encodeOpReply(requestId, request.header.requestId, body);
  }

  private errorReply(error: unknown): Buffer {
    let failure: CommandFailure;
    if (error instanceof CommandFailure) failure = error;
    else if (error instanceof TransactionStateError) {
      const code = error.codeName === 'NoSuchTransaction' ? NO_SUCH_TRANSACTION.code : 256;
      failure = new CommandFailure(code, error.codeName, error.message, error.codeName === 'NoSuchTransaction' ? ['TransientTransactionError'] : []);
    } else {
      const sqlState = (error as { code?: unknown }).code;
      const message = error instanceof Error ? error.message : String(error);
      const mapped = mongoErrorForSqlState(typeof sqlState === 'string' ? sqlState : undefined);
      if (!mapped.known) this.options.onUnmappedError?.(`${String(sqlState ?? 'no SQLSTATE')}: ${message}`);
      const text = mapped.code === 11000 ? `E11000 duplicate key error: ${message}` : mapped.known ? message : `${message}${typeof sqlState === 'string' ? ` (SQLSTATE ${sqlState})` : ''}`;
      failure = new CommandFailure(mapped.code, mapped.codeName, text);
    }
    return Buffer.from(
      serialize({
        ok: 0,
        errmsg: failure.message,
        code: failure.code,
        codeName: failure.codeName,
        ...(failure.labels.length > 0 ? { errorLabels: failure.labels } : {}),
      }),
    );
  }

  private hello(connectionId: number): Buffer {
    const me = `${this.options.host ?? '127.0.0.1'}:${this.port}`;
    return Buffer.from(
      serialize({
        helloOk: true,
        ismaster: true,
        isWritablePrimary: true,
        secondary: false,
        setName: REPLICA_SET,
        setVersion: 1,
        hosts: [me],
        primary: me,
        me,
        maxBsonObjectSize: 16 * 1024 * 1024,
        maxMessageSizeBytes: MAX_MESSAGE_BYTES,
        maxWriteBatchSize: 100_000,
        localTime: new Date(),
        logicalSessionTimeoutMinutes: 30,
        connectionId,
        minWireVersion: 0,
        maxWireVersion: MAX_WIRE_VERSION,
        readOnly: false,
        ok: 1,
      }),
    );
  }

  private async execute(command: ParsedCommand, connectionId: number): Promise<Buffer> {
    switch (command.name) {
      case 'hello':
      case 'isMaster':
      case 'ismaster':
        return this.hello(connectionId);
      case 'ping':
        return Buffer.from(serialize({ ok: 1 }));
      case 'buildInfo':
      case 'buildinfo':
        return Buffer.from(serialize({ version: '7.0.0', versionArray: [7, 0, 0, 0], bits: 64, maxBsonObjectSize: 16 * 1024 * 1024, ok: 1 }));
      case 'endSessions':
        await this.transactions.endSessions(
          ((command.document.endSessions as Document[] | undefined) ?? []).flatMap((lsid) => (lsid.id instanceof Binary ? [Buffer.from(lsid.id.buffer).toString('hex')] : [])),
        );
        return Buffer.from(serialize({ ok: 1 }));
      case 'commitTransaction':
      case 'abortTransaction':
        return this.finishTransaction(command);
      case 'killCursors':
        return this.killCursors(command);
    }
    if (!SQL_COMMANDS.has(command.name)) {
      throw new CommandFailure(COMMAND_NOT_FOUND.code, COMMAND_NOT_FOUND.codeName, `no such command: '${command.name}' (not routed by the Sluice DocumentDB wire adapter)`);
    }
    const session = sessionKey(command.document);
    const inTransaction = command.document.autocommit === false && session !== undefined;
    if (!inTransaction) return this.runAutocommit(command);
    if (!TRANSACTION_COMMANDS.has(command.name)) {
      throw new CommandFailure(263, 'OperationNotSupportedInTransaction', `Cannot run '${command.name}' in a multi-document transaction.`);
    }
    const txnNumber = String(command.document.txnNumber);
    const start = command.document.startTransaction === true;
    try {
      return await this.transactions.run(session, txnNumber, start, (client) => this.runOn(client, command, { key: session, txnNumber }));
    } catch (error) {
      throw this.transactionFailure(error);
    }
  }

  /** Errors inside a transaction abort it; the driver retries the whole transaction on these labels. */
  private transactionFailure(error: unknown): unknown {
    if (error instanceof TransactionStateError || error instanceof CommandFailure) return error;
    const sqlState = (error as { code?: unknown }).code;
    const mapped = mongoErrorForSqlState(typeof sqlState === 'string' ? sqlState : undefined);
    if (!isTransientTransactionError(mapped.code)) return error;
    const message = error instanceof Error ? error.message : String(error);
    return new CommandFailure(mapped.code, mapped.codeName, message, ['TransientTransactionError']);
  }

  private async runAutocommit(command: ParsedCommand): Promise<Buffer> {
    if (command.name === 'getMore') return this.getMore(command, this.pool);
    if (command.name === 'find' || command.name === 'aggregate' || command.name === 'listCollections' || command.name === 'listIndexes') {
      // A cursor may need its connection again for getMore, so it is checked out, not borrowed.
      const client = await this.pool.connect();
      let keep = false;
      try {
        const result = await runSqlCommand(client, command);
        if (result.cursor) {
          keep = result.cursor.persistConnection;
          this.cursors.set(result.cursor.cursorId, { ...result.cursor, ...(keep ? { pinned: client } : {}), lastUsed: Date.now() });
        }
        return result.reply;
      } finally {
        if (!keep) client.release();
      }
    }
    return (await runSqlCommand(this.pool, command)).reply;
  }

  private async runOn(client: pg.PoolClient, command: ParsedCommand, session: { key: string; txnNumber: string }): Promise<Buffer> {
    if (command.name === 'getMore') return this.getMore(command, client);
    const result = await runSqlCommand(client, command);
    if (result.cursor) this.cursors.set(result.cursor.cursorId, { ...result.cursor, session, lastUsed: Date.now() });
    return result.reply;
  }

  private async getMore(command: ParsedCommand, client: Queryable): Promise<Buffer> {
    const cursorId = String(command.document.getMore);
    const held = this.cursors.get(cursorId);
    if (!held) throw new CommandFailure(CURSOR_NOT_FOUND.code, CURSOR_NOT_FOUND.codeName, `cursor id ${cursorId} not found`);
    if (held.session && !this.transactions.isOpen(held.session.key, held.session.txnNumber)) {
      this.cursors.delete(cursorId);
      throw new CommandFailure(CURSOR_NOT_FOUND.code, CURSOR_NOT_FOUND.codeName, `cursor id ${cursorId} ended with its transaction`);
    }
    try {
      const result = await getMore(held.pinned ?? client, command, held);
      if (result.cursor) this.cursors.set(cursorId, { ...held, continuation: result.cursor.continuation, lastUsed: Date.now() });
      else this.dropCursor(cursorId);
      return result.reply;
    } catch (error) {
      this.dropCursor(cursorId, error);
      throw error;
    }
  }

  private dropCursor(cursorId: string, error?: unknown): void {
    const held = this.cursors.get(cursorId);
    if (!held) return;
    this.cursors.delete(cursorId);
    held.pinned?.release(error === undefined ? undefined : (error as Error));
  }

  private killCursors(command: ParsedCommand): Buffer {
    const killed: unknown[] = [];
    const notFound: unknown[] = [];
    for (const id of (command.document.cursors as unknown[] | undefined) ?? []) {
      const key = String(id);
      if (this.cursors.has(key)) {
        this.dropCursor(key);
        killed.push(id);
      } else notFound.push(id);
    }
    return Buffer.from(serialize({ cursorsKilled: killed, cursorsNotFound: notFound, cursorsAlive: [], cursorsUnknown: [], ok: 1 }));
  }

  private async finishTransaction(command: ParsedCommand): Promise<Buffer> {
    const session = sessionKey(command.document);
    if (session === undefined || command.document.txnNumber === undefined) {
      throw new CommandFailure(NO_SUCH_TRANSACTION.code, NO_SUCH_TRANSACTION.codeName, `${command.name} needs a session and a transaction number`);
    }
    const txnNumber = String(command.document.txnNumber);
    if (command.name === 'commitTransaction') await this.transactions.commit(session, txnNumber);
    else await this.transactions.abort(session, txnNumber);
    for (const [cursorId, held] of this.cursors) if (held.session?.key === session) this.dropCursor(cursorId);
    return Buffer.from(serialize({ ok: 1 }));
  }

  async close(): Promise<void> {
    clearInterval(this.cursorReaper);
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      for (const socket of this.sockets) socket.destroy();
    });
    for (const cursorId of [...this.cursors.keys()]) this.dropCursor(cursorId);
    await this.transactions.close();
    await this.pool.end();
  }
}

/** Starts the adapter; rejects when PostgreSQL or the documentdb extension is not there. */
export async function startWireAdapter(options: WireAdapterOptions): Promise<WireAdapter> {
  const adapter = new WireAdapterServer(options);
  try {
    await adapter.listen();
  } catch (error) {
    await adapter.close().catch(() => undefined);
    throw error;
  }
  return adapter;
}
