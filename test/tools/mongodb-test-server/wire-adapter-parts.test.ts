/**
 * The parts of the DocumentDB wire adapter that need no server: message framing, error-code
 * mapping and the transaction registry (with a fake PostgreSQL pool). The adapter as a whole is
 * tested through the official driver in test/store/mongodb-store.test.ts.
 */
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, it } from 'node:test';
import { deserialize, serialize } from 'bson';
import type pg from 'pg';
import { mongoErrorForSqlState, packSqlState, sqlStateFromPackedCode } from '../../../tools/mongodb-test-server/error-codes.js';
import { TransactionRegistry, TransactionStateError } from '../../../tools/mongodb-test-server/transactions.js';
import { encodeOpMsgReply, MessageReader, OP_MSG, WireProtocolError } from '../../../tools/mongodb-test-server/wire-protocol.js';

function opMsg(requestId: number, body: object, sequences: Record<string, object[]> = {}): Buffer {
  const sections: Buffer[] = [Buffer.from([0]), Buffer.from(serialize(body))];
  for (const [identifier, documents] of Object.entries(sequences)) {
    const payload = Buffer.concat([Buffer.from(`${identifier}\0`), ...documents.map((document) => Buffer.from(serialize(document)))]);
    const size = Buffer.alloc(4);
    size.writeInt32LE(payload.length + 4);
    sections.push(Buffer.from([1]), size, payload);
  }
  const content = Buffer.concat([Buffer.alloc(4), ...sections]);
  const header = Buffer.alloc(16);
  header.writeInt32LE(16 + content.length, 0);
  header.writeInt32LE(requestId, 4);
  header.writeInt32LE(OP_MSG, 12);
  return Buffer.concat([header, content]);
}

describe('wire protocol framing', () => {
  it('reassembles messages split across chunks and keeps kind-1 document sequences apart', () => {
    const reader = new MessageReader(1 << 20);
    const first = opMsg(7, { insert: 'c', $db: 'd' }, { documents: [{ _id: 1 }, { _id: 2 }] });
    const second = opMsg(8, { ping: 1 });
    const stream = Buffer.concat([first, second]);
    const requests = [...reader.push(stream.subarray(0, 10)), ...reader.push(stream.subarray(10, first.length + 3)), ...reader.push(stream.subarray(first.length + 3))];
    assert.equal(requests.length, 2);
    const [insert, ping] = requests;
    assert.ok(insert?.kind === 'msg' && ping?.kind === 'msg');
    assert.equal(insert.header.requestId, 7);
    assert.deepEqual(deserialize(insert.body), { insert: 'c', $db: 'd' });
    assert.deepEqual(insert.sequences.get('documents')!.map((bytes) => deserialize(bytes)), [{ _id: 1 }, { _id: 2 }]);
    assert.deepEqual(deserialize(ping.body), { ping: 1 });
  });

  it('refuses a message whose length is out of bounds instead of waiting for it', () => {
    const reader = new MessageReader(1024);
    const huge = Buffer.alloc(16);
    huge.writeInt32LE(1 << 30, 0);
    assert.throws(() => reader.push(huge), WireProtocolError);
  });

  it('answers with an OP_MSG reply that points at the request', () => {
    const body = Buffer.from(serialize({ ok: 1 }));
    const reply = encodeOpMsgReply(99, 7, body);
    assert.equal(reply.readInt32LE(0), reply.length);
    assert.equal(reply.readInt32LE(8), 7);
    assert.equal(reply.readInt32LE(12), OP_MSG);
    assert.deepEqual(deserialize(reply.subarray(21)), { ok: 1 });
  });
});

describe('error code mapping', () => {
  it('unpacks the SQLSTATE of a DocumentDB write error and maps it to MongoDB codes', () => {
    assert.equal(sqlStateFromPackedCode(319029277), 'M001C');
    assert.equal(packSqlState('M001C'), 319029277);
    assert.deepEqual(mongoErrorForSqlState('M001C'), { code: 11000, codeName: 'DuplicateKey', known: true });
    assert.equal(mongoErrorForSqlState('23505').code, 11000);
    assert.equal(mongoErrorForSqlState('40001').codeName, 'WriteConflict');
  });

  it('reports an unknown SQLSTATE as an InternalError rather than guessing', () => {
    assert.deepEqual(mongoErrorForSqlState('M0ZZZ'), { code: 1, codeName: 'InternalError', known: false });
    assert.equal(mongoErrorForSqlState(undefined).known, false);
  });
});

/** A pool whose clients record the SQL they are sent. */
function fakePool(): { pool: pg.Pool; statements: string[]; released: number[] } {
  const statements: string[] = [];
  const released: number[] = [];
  let next = 0;
  const pool = {
    async connect() {
      const id = ++next;
      return {
        async query(sql: string) {
          statements.push(`${id}: ${sql}`);
          return { rows: [] };
        },
        release() {
          released.push(id);
        },
      };
    },
  } as unknown as pg.Pool;
  return { pool, statements, released };
}

describe('transaction registry', () => {
  it('pins one connection from BEGIN to COMMIT and answers a repeated commit as committed', async () => {
    const { pool, statements, released } = fakePool();
    const registry = new TransactionRegistry(pool, 60_000);
    try {
      await registry.run('s1', '1', true, (client) => client.query('SELECT 1'));
      await registry.run('s1', '1', false, (client) => client.query('SELECT 2'));
      await registry.commit('s1', '1');
      await registry.commit('s1', '1');
      assert.deepEqual(statements, ['1: BEGIN', '1: SELECT 1', '1: SELECT 2', '1: COMMIT']);
      assert.deepEqual(released, [1]);
      await assert.rejects(registry.run('s1', '1', false, async () => undefined), (error: unknown) => error instanceof TransactionStateError && error.codeName === 'TransactionCommitted');
    } finally {
      await registry.close();
    }
  });

  it('rolls back a transaction whose command failed, and later commands find no transaction', async () => {
    const { pool, statements } = fakePool();
    const registry = new TransactionRegistry(pool, 60_000);
    try {
      await assert.rejects(registry.run('s1', '4', true, async () => Promise.reject(new Error('duplicate key'))), /duplicate key/);
      assert.deepEqual(statements, ['1: BEGIN', '1: ROLLBACK']);
      await assert.rejects(registry.commit('s1', '4'), (error: unknown) => error instanceof TransactionStateError && error.codeName === 'NoSuchTransaction');
    } finally {
      await registry.close();
    }
  });

  it('rolls back a transaction left idle past its lifetime, as mongod does for a client that died', async () => {
    const { pool, statements, released } = fakePool();
    const registry = new TransactionRegistry(pool, 100);
    try {
      await registry.run('dead-client', '1', true, (client) => client.query('UPDATE counters'));
      await sleep(350);
      assert.deepEqual(statements, ['1: BEGIN', '1: UPDATE counters', '1: ROLLBACK']);
      assert.deepEqual(released, [1]);
      assert.equal(registry.isOpen('dead-client', '1'), false);
    } finally {
      await registry.close();
    }
  });
});
