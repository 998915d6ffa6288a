/**
 * The MongoDB store against a real MongoDB-compatible engine: SLUICE_TEST_MONGODB_URL when set (a
 * MongoDB replica set), else DocumentDB provisioned by tools/mongodb-test-server/setup.sh. Without
 * either these tests fail, saying what to run; they are never skipped.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { MongoClient, MongoServerError } from 'mongodb';
import { databaseFromUrl, openMongoStore } from '../../src/store/mongodb-store.js';
import type { Store } from '../../src/store/store.js';
import { startTestMongo } from '../../tools/mongodb-test-server/server.js';
import type { TestMongo } from '../../tools/mongodb-test-server/server.js';
import { recordWrite, textData } from '../support/records.js';
import { storeContract } from './contract.js';

let mongo: TestMongo | undefined;
let admin: MongoClient | undefined;
/** Why the server did not start; every test then fails with it (none is skipped). */
let unavailable: unknown;
const prefix = `sluice_test_${process.pid}`;
let databaseCounter = 0;
const freshDatabase = (): string => `${prefix}_${++databaseCounter}`;
const contractDatabase = `${prefix}_contract`;

function server(): TestMongo {
  if (!mongo) throw unavailable instanceof Error ? unavailable : new Error(String(unavailable));
  return mongo;
}

function adminClient(): MongoClient {
  server();
  return admin!;
}

before(async () => {
  try {
    mongo = await startTestMongo();
    admin = new MongoClient(mongo.url);
    await admin.connect();
  } catch (error) {
    unavailable = error;
  }
});

after(async () => {
  if (admin) {
    const { databases } = await admin.db('admin').admin().listDatabases({ nameOnly: true });
    for (const { name } of databases) if (name.startsWith(prefix)) await admin.db(name).dropDatabase();
    await admin.close();
  }
  await mongo?.stop();
});

it('a MongoDB-compatible server is available (SLUICE_TEST_MONGODB_URL or tools/mongodb-test-server)', () => {
  assert.ok(server().url.startsWith('mongodb://'));
});

async function dropDatabase(name: string): Promise<void> {
  await adminClient().db(name).dropDatabase();
}

async function rejectsWithCode(promise: Promise<unknown>, code: string): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.equal((error as { code?: unknown }).code, code, String(error));
    return true;
  });
}

storeContract('mongodb', () => openMongoStore({ url: server().url, database: contractDatabase }), () => dropDatabase(contractDatabase));

describe('mongodb store', () => {
  const withStore = async (work: (store: Store, database: string) => Promise<void>): Promise<void> => {
    const database = freshDatabase();
    const store = await openMongoStore({ url: server().url, database });
    try {
      await work(store, database);
    } finally {
      await store.close();
    }
  };

  it('reports kind mongodb', async () => {
    await withStore(async (store) => assert.equal(store.kind, 'mongodb'));
  });

  it('takes the database from the URL path, else leaves it to the default', () => {
    assert.equal(databaseFromUrl('mongodb://db1:27017,db2:27017/hub?replicaSet=rs0'), 'hub');
    assert.equal(databaseFromUrl('mongodb+srv://user:secret@cluster.example.org/sluice_prod'), 'sluice_prod');
    assert.equal(databaseFromUrl('mongodb://localhost:27017/?replicaSet=rs0'), undefined);
    assert.equal(databaseFromUrl('mongodb://localhost:27017'), undefined);
  });

  it('refuses a URL that is not a MongoDB connection string', async () => {
    await rejectsWithCode(openMongoStore({ url: 'postgres://localhost/sluice' }), 'STORE_OPEN_FAILED');
  });

  it('fails with STORE_OPEN_FAILED, password masked, when nothing answers at the address', async () => {
    await assert.rejects(openMongoStore({ url: 'mongodb://sluice:hunter2@127.0.0.1:9/?serverSelectionTimeoutMS=300&directConnection=true' }), (error: unknown) => {
      assert.equal((error as { code?: unknown }).code, 'STORE_OPEN_FAILED');
      assert.doesNotMatch(String((error as Error).message), /hunter2/);
      return true;
    });
  });

  it('refuses a database written by a newer schema instead of guessing', async () => {
    const database = freshDatabase();
    await (await openMongoStore({ url: server().url, database })).close();
    await adminClient().db(database).collection<{ _id: string; version: number }>('sluice_meta').updateOne({ _id: 'schema' }, { $set: { version: 99 } });
    await rejectsWithCode(openMongoStore({ url: server().url, database }), 'STORE_SCHEMA_TOO_NEW');
  });

  it('the unique (resource, uuid) index refuses a second document for one record', async () => {
    await withStore(async (store, database) => {
      const stored = await store.putRecord(recordWrite({ uuid: 'urn:uuid:only-once' }));
      const records = adminClient().db(database).collection('records');
      await assert.rejects(records.insertOne({ ...stored, filterValues: [], referencedUuids: [] }), (error: unknown) => {
        assert.ok(error instanceof MongoServerError);
        assert.equal(error.code, 11000);
        return true;
      });
      assert.equal(await records.countDocuments({ uuid: 'urn:uuid:only-once' }), 1);
    });
  });

  it('attribute names with dots, dollars and percent signs round-trip', async () => {
    await withStore(async (store) => {
      const write = recordWrite({
        attributes: { 'a.b': '1', $where: '2', '50%': '3', plain: '4' },
        data: [{ field: 'image', text: 'x', attributes: { 'x.y': 'z', '$ref': 'r' } }],
      });
      const stored = await store.putRecord(write);
      assert.deepEqual(await store.getRecord(write.resource, write.uuid), { ...write, seq: stored.seq });
      await store.putRepository({ uuid: 'urn:uuid:r', name: 'r', apitype: 'eden', config: { 'proxy.url': 'http://p', $secret: { 'k.v': 1 } }, created_at: 'a', updated_at: 'b' });
      assert.deepEqual((await store.getRepository('urn:uuid:r'))?.config, { 'proxy.url': 'http://p', $secret: { 'k.v': 1 } });
    });
  });

  it('a record over MongoDB\'s 16 MB document limit is refused before anything is written, and the transaction goes on', async () => {
    await withStore(async (store) => {
      const huge = recordWrite({ uuid: 'huge', data: [textData('comments', 'x'.repeat(17 * 1024 * 1024))] });
      await rejectsWithCode(store.putRecord(huge), 'STORE_RECORD_TOO_LARGE');
      assert.equal(await store.lastSeq(), 0);
      await store.transaction(async (tx) => {
        await rejectsWithCode(tx.putRecord(huge), 'STORE_RECORD_TOO_LARGE');
        await tx.putRecord(recordWrite({ uuid: 'small' }));
      });
      assert.equal(await store.getRecord('org_office', 'huge'), undefined);
      assert.equal((await store.getRecord('org_office', 'small'))?.seq, 1);
    });
  });

  it('a store write started inside a transaction of the same store fails instead of hanging', async () => {
    await withStore(async (store) => {
      await store.transaction(async (tx) => {
        await tx.putRecord(recordWrite({ uuid: 'inside' }));
        await rejectsWithCode(store.putRecord(recordWrite()), 'STORE_NESTED_TRANSACTION');
        await rejectsWithCode(store.transaction(async () => undefined), 'STORE_NESTED_TRANSACTION');
      });
      assert.equal((await store.getRecord('org_office', 'inside'))?.uuid, 'inside');
      await store.putRecord(recordWrite({ uuid: 'after' }));
      assert.equal((await store.getRecord('org_office', 'after'))?.uuid, 'after');
    });
  });

  it('two stores on one database (two processes) share one seq, each transaction gets an unbroken run of it, and no work runs twice', async () => {
    const database = freshDatabase();
    const first = await openMongoStore({ url: server().url, database });
    const second = await openMongoStore({ url: server().url, database });
    let workRuns = 0;
    try {
      const pages = (store: Store, name: string) =>
        Array.from({ length: 4 }, (_, page) =>
          store.transaction(async (tx) => {
            workRuns += 1;
            const seqs: number[] = [];
            for (let i = 0; i < 3; i++) seqs.push((await tx.putRecord(recordWrite({ uuid: `${name}-${page}-${i}`, data: [textData('name', name)] }))).seq);
            return seqs;
          }),
        );
      const results = await Promise.all([...pages(first, 'first'), ...pages(second, 'second')]);
      const all = results.flat().sort((a, b) => a - b);
      assert.deepEqual(all, Array.from({ length: 24 }, (_, i) => i + 1));
      for (const seqs of results) assert.deepEqual(seqs, [seqs[0]!, seqs[0]! + 1, seqs[0]! + 2]);
      assert.equal(await first.lastSeq(), 24);
      assert.equal(await second.countRecords({ resource: 'org_office' }), 24);
      assert.equal(workRuns, 8);
    } finally {
      await first.close();
      await second.close();
    }
  });

  it('a lease raced for by two stores on one database goes to exactly one holder', async () => {
    const database = freshDatabase();
    const stores = [await openMongoStore({ url: server().url, database }), await openMongoStore({ url: server().url, database })];
    try {
      const attempts = await Promise.all(stores.flatMap((store, s) => Array.from({ length: 4 }, (_, i) => store.acquireLease('job:sync', `node-${s}-${i}`, 10_000, 30_000))));
      const winners = attempts.filter((lease) => lease !== undefined);
      assert.equal(winners.length, 1);
      assert.equal((await stores[1]!.getLease('job:sync'))?.holder, winners[0]!.holder);
    } finally {
      for (const store of stores) await store.close();
    }
  });
});

describe('the DocumentDB wire adapter (through the official driver)', () => {
  it('pages a large result with getMore and counts exactly', async () => {
    const collection = adminClient().db(freshDatabase()).collection<{ _id: number; n: number }>('paging');
    await collection.insertMany(Array.from({ length: 1234 }, (_, i) => ({ _id: i, n: i % 7 })));
    const seen = await collection.find({}, { sort: { _id: 1 }, batchSize: 100 }).toArray();
    assert.equal(seen.length, 1234);
    assert.deepEqual(seen.slice(0, 3).map((d) => d._id), [0, 1, 2]);
    assert.equal(await collection.countDocuments({ n: 3 }), 176);
  });

  it('an aborted transaction leaves nothing, a committed one everything', async () => {
    const collection = adminClient().db(freshDatabase()).collection<{ _id: string }>('tx');
    const session = adminClient().startSession();
    try {
      session.startTransaction();
      await collection.insertOne({ _id: 'aborted' }, { session });
      assert.equal(await collection.countDocuments({}), 0);
      await session.abortTransaction();
      await session.withTransaction(async () => {
        await collection.insertOne({ _id: 'committed' }, { session });
      });
    } finally {
      await session.endSession();
    }
    assert.deepEqual(await collection.find({}).toArray(), [{ _id: 'committed' }]);
  });

  it('answers a command it does not route with CommandNotFound', async () => {
    await assert.rejects(adminClient().db('admin').command({ sluiceNoSuchCommand: 1 }), (error: unknown) => {
      assert.ok(error instanceof MongoServerError);
      assert.equal(error.code, 59);
      return true;
    });
  });
});
