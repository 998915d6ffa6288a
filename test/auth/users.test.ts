import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { before, describe, it } from 'node:test';
import { hashPassword, verifyPassword } from '../../src/auth/passwords.js';
import { Authenticator, ensureAdmin, type AuthenticatorOptions } from '../../src/auth/users.js';
import type { Clock } from '../../src/s3xml/timestamps.js';
import { openSqliteStore } from '../../src/store/sqlite-store.js';
import type { Store, UserRecord } from '../../src/store/store.js';
import { createMemoryStore } from '../support/memory-store.js';

function manualClock(start = Date.UTC(2024, 4, 1, 8, 0, 0)): Clock & { advance(ms: number): void } {
  let now = start;
  return {
    now: () => new Date(now),
    advance(ms: number) {
      now += ms;
    },
  };
}

/** The real scrypt check, counted: how often a node paid for it is what the cache is about. */
function countedVerify(): { verifyPassword: NonNullable<AuthenticatorOptions['verifyPassword']>; calls: () => number } {
  let calls = 0;
  return {
    verifyPassword: (password, passwordHash) => {
      calls += 1;
      return verifyPassword(password, passwordHash);
    },
    calls: () => calls,
  };
}

const PEER = 'peer@example.org';
const OLD_PASSWORD = 'the first password';
const NEW_PASSWORD = 'the second password';
let oldHash: string;
let newHash: string;

before(async () => {
  // Hashed once for the file: scrypt is slow on purpose.
  [oldHash, newHash] = await Promise.all([hashPassword(OLD_PASSWORD), hashPassword(NEW_PASSWORD)]);
});

function peerRecord(change: Partial<UserRecord> = {}): UserRecord {
  return { username: PEER, passwordHash: oldHash, roles: ['integrator'], created_at: '2024-05-01T08:00:00', ...change };
}

/** Two gateway nodes: one store, an authenticator each (each with its own memory). */
async function twoNodes(store: Store = createMemoryStore(), clock: Clock = manualClock()) {
  await store.putUser(peerRecord());
  const a = countedVerify();
  const b = countedVerify();
  return {
    store,
    nodeA: new Authenticator(store, clock, { verifyPassword: a.verifyPassword }),
    nodeB: new Authenticator(store, clock, { verifyPassword: b.verifyPassword }),
    checksOnB: b.calls,
  };
}

describe('HTTP Basic credentials on several gateway nodes sharing one store', () => {
  it('a user disabled through one node is refused by another at its very next request', async () => {
    const { store, nodeA, nodeB, checksOnB } = await twoNodes();
    assert.equal((await nodeA.authenticate(PEER, OLD_PASSWORD))?.username, PEER);
    assert.equal((await nodeB.authenticate(PEER, OLD_PASSWORD))?.username, PEER);
    assert.ok(await nodeB.authenticate(PEER, OLD_PASSWORD), 'node B remembers the verified password');
    assert.equal(checksOnB(), 1);

    await store.putUser(peerRecord({ disabled: true }));
    assert.equal(await nodeB.authenticate(PEER, OLD_PASSWORD), undefined);
    assert.equal(await nodeA.authenticate(PEER, OLD_PASSWORD), undefined);
  });

  it('enabling the user again lets the same credentials in without a new password check', async () => {
    const { store, nodeB, checksOnB } = await twoNodes();
    assert.ok(await nodeB.authenticate(PEER, OLD_PASSWORD));
    await store.putUser(peerRecord({ disabled: true }));
    assert.equal(await nodeB.authenticate(PEER, OLD_PASSWORD), undefined);
    await store.putUser(peerRecord());
    assert.equal((await nodeB.authenticate(PEER, OLD_PASSWORD))?.disabled, undefined);
    assert.equal(checksOnB(), 1, 'the password did not change, so the remembered check still holds');
  });

  it('after a password change on one node another refuses the old password and accepts the new one', async () => {
    const { store, nodeA, nodeB, checksOnB } = await twoNodes();
    assert.ok(await nodeB.authenticate(PEER, OLD_PASSWORD));
    assert.ok(await nodeB.authenticate(PEER, OLD_PASSWORD));
    assert.equal(checksOnB(), 1, 'node B remembers the old password');

    await store.putUser(peerRecord({ passwordHash: newHash }));
    assert.equal(await nodeB.authenticate(PEER, OLD_PASSWORD), undefined);
    assert.equal((await nodeB.authenticate(PEER, NEW_PASSWORD))?.username, PEER);
    assert.equal(await nodeA.authenticate(PEER, OLD_PASSWORD), undefined);
  });

  it('a deleted user is refused, and a new user of the same name needs the new password', async () => {
    const { store, nodeB, checksOnB } = await twoNodes();
    assert.ok(await nodeB.authenticate(PEER, OLD_PASSWORD));
    assert.ok(await nodeB.authenticate(PEER, OLD_PASSWORD));
    assert.equal(checksOnB(), 1, 'node B remembers the password');
    assert.equal(await store.deleteUser(PEER), true);
    assert.equal(await nodeB.authenticate(PEER, OLD_PASSWORD), undefined);

    await store.putUser(peerRecord({ passwordHash: newHash, roles: ['viewer'] }));
    assert.equal(await nodeB.authenticate(PEER, OLD_PASSWORD), undefined);
    assert.deepEqual((await nodeB.authenticate(PEER, NEW_PASSWORD))?.roles, ['viewer']);
  });

  it('roles changed through one node are the roles another node answers with at once', async () => {
    const { store, nodeB, checksOnB } = await twoNodes();
    assert.deepEqual((await nodeB.authenticate(PEER, OLD_PASSWORD))?.roles, ['integrator']);
    await store.putUser(peerRecord({ roles: ['viewer'] }));
    assert.deepEqual((await nodeB.authenticate(PEER, OLD_PASSWORD))?.roles, ['viewer']);
    assert.equal(checksOnB(), 1, 'the answer came from the remembered check, with the record read now');
  });

  it('holds for two connections to one SQLite file, as two gateway processes have', async () => {
    const folder = await mkdtemp(path.join(os.tmpdir(), 'sluice-auth-'));
    const file = path.join(folder, 'sluice.db');
    const storeA = await openSqliteStore({ file });
    const storeB = await openSqliteStore({ file });
    try {
      const clock = manualClock();
      await storeA.putUser(peerRecord());
      const nodeA = new Authenticator(storeA, clock);
      const nodeB = new Authenticator(storeB, clock);
      assert.ok(await nodeB.authenticate(PEER, OLD_PASSWORD));

      await storeA.putUser(peerRecord({ disabled: true }));
      assert.equal(await nodeB.authenticate(PEER, OLD_PASSWORD), undefined, 'disabled on A, refused on B');
      await storeA.putUser(peerRecord());
      assert.ok(await nodeB.authenticate(PEER, OLD_PASSWORD), 'enabled on A, accepted on B');

      await storeA.putUser(peerRecord({ passwordHash: newHash }));
      assert.equal(await nodeB.authenticate(PEER, OLD_PASSWORD), undefined, 'old password refused on B');
      assert.ok(await nodeB.authenticate(PEER, NEW_PASSWORD), 'new password accepted on B');

      await storeA.deleteUser(PEER);
      assert.equal(await nodeB.authenticate(PEER, NEW_PASSWORD), undefined, 'deleted on A, refused on B');
      assert.equal(await nodeA.authenticate(PEER, NEW_PASSWORD), undefined);
    } finally {
      await storeA.close();
      await storeB.close();
      await rm(folder, { recursive: true, force: true });
    }
  });
});

describe('what a node remembers of verified passwords', () => {
  it('reads the user record on every request but checks the password once', async () => {
    const store = createMemoryStore();
    await store.putUser(peerRecord());
    let reads = 0;
    const counting = { getUser: (username: string) => ((reads += 1), store.getUser(username)) };
    const verify = countedVerify();
    const authenticator = new Authenticator(counting, manualClock(), { verifyPassword: verify.verifyPassword });
    for (let i = 0; i < 5; i += 1) assert.ok(await authenticator.authenticate(PEER, OLD_PASSWORD));
    assert.equal(reads, 5);
    assert.equal(verify.calls(), 1);
  });

  it('never remembers a wrong password, nor accepts it after the right one was remembered', async () => {
    const { nodeB, checksOnB } = await twoNodes();
    assert.equal(await nodeB.authenticate(PEER, 'a guess'), undefined);
    assert.ok(await nodeB.authenticate(PEER, OLD_PASSWORD));
    assert.equal(await nodeB.authenticate(PEER, 'a guess'), undefined);
    assert.equal(await nodeB.authenticate(PEER, `${OLD_PASSWORD} `), undefined);
    assert.equal(await nodeB.authenticate('someone@example.org', OLD_PASSWORD), undefined, 'the password of one user does not open another name');
    assert.equal(checksOnB(), 4, 'every wrong password was checked');
  });

  it('runs one password check for a burst of requests with the same new credentials', async () => {
    const { nodeB, checksOnB } = await twoNodes();
    const answers = await Promise.all(Array.from({ length: 8 }, () => nodeB.authenticate(PEER, OLD_PASSWORD)));
    assert.ok(answers.every((user) => user?.username === PEER));
    assert.equal(checksOnB(), 1);
  });

  it('checks the password again once its verification has gone unused for the idle time', async () => {
    const store = createMemoryStore();
    await store.putUser(peerRecord());
    const clock = manualClock();
    const verify = countedVerify();
    const authenticator = new Authenticator(store, clock, { idleMs: 60_000, verifyPassword: verify.verifyPassword });
    assert.ok(await authenticator.authenticate(PEER, OLD_PASSWORD));
    clock.advance(50_000);
    assert.ok(await authenticator.authenticate(PEER, OLD_PASSWORD));
    clock.advance(50_000);
    assert.ok(await authenticator.authenticate(PEER, OLD_PASSWORD));
    assert.equal(verify.calls(), 1, 'use keeps it remembered');
    clock.advance(60_000);
    assert.ok(await authenticator.authenticate(PEER, OLD_PASSWORD));
    assert.equal(verify.calls(), 2);
  });

  it('remembers a bounded number of credentials, dropping the least recently used', async () => {
    const store = createMemoryStore();
    const users = ['a@example.org', 'b@example.org', 'c@example.org'];
    for (const username of users) await store.putUser(peerRecord({ username }));
    const verify = countedVerify();
    const authenticator = new Authenticator(store, manualClock(), { maxRemembered: 2, verifyPassword: verify.verifyPassword });
    const signIn = async (username: string) => assert.ok(await authenticator.authenticate(username, OLD_PASSWORD));
    await signIn('a@example.org');
    await signIn('b@example.org');
    await signIn('a@example.org');
    await signIn('c@example.org');
    assert.equal(verify.calls(), 3);
    await signIn('a@example.org');
    assert.equal(verify.calls(), 3, 'a was used recently, so it stayed');
    await signIn('b@example.org');
    assert.equal(verify.calls(), 4, 'b was the least recently used, so it went');
  });

  it('forgets everything it remembered when asked', async () => {
    const { nodeB, checksOnB } = await twoNodes();
    assert.ok(await nodeB.authenticate(PEER, OLD_PASSWORD));
    nodeB.forget();
    assert.ok(await nodeB.authenticate(PEER, OLD_PASSWORD));
    assert.equal(checksOnB(), 2);
  });
});

describe('the admin account at startup', () => {
  it('says when SLUICE_ADMIN_PASSWORD replaced the password an admin had set, and not otherwise', async () => {
    const store = createMemoryStore();
    const clock = manualClock();
    const first = await ensureAdmin(store, { username: 'admin' }, clock);
    assert.ok(first.generatedPassword);
    assert.equal(first.passwordReplaced, undefined);
    const replaced = await ensureAdmin(store, { username: 'admin', password: 'from the environment' }, clock);
    assert.equal(replaced.passwordReplaced, true);
    assert.equal(replaced.generatedPassword, undefined);
    const same = await ensureAdmin(store, { username: 'admin', password: 'from the environment' }, clock);
    assert.equal(same.passwordReplaced, undefined, 'the same password again changes nothing');
    assert.ok(await verifyPassword('from the environment', (await store.getUser('admin'))!.passwordHash));
  });
});
