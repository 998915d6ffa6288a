/**
 * Contract tests for console state (sessions keyed by the hash of their id, deleting and disabling
 * users); called from storeContract, so every Store implementation runs them.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ConsoleSessionRecord, Store } from '../../src/store/store.js';

const T0 = Date.UTC(2024, 4, 1, 8, 0, 0);

function session(idHash: string, username: string, overrides: Partial<ConsoleSessionRecord> = {}): ConsoleSessionRecord {
  return { id_hash: idHash, username, created_at: T0, last_seen_at: T0, expires_at: T0 + 60_000, ...overrides };
}

const hash = (n: number) => n.toString(16).padStart(64, '0');

export function consoleStateContract(current: () => Store): void {
  describe('console state', () => {
    it('console sessions are stored whole, replaced by id hash and deleted', async () => {
      const store = current();
      const first = session(hash(1), 'ana@example.org', { flash: '{"kind":"ok","message":"Saved."}' });
      await store.putConsoleSession(first);
      assert.deepEqual(await store.getConsoleSession(hash(1)), first);
      assert.equal(await store.getConsoleSession(hash(2)), undefined);
      const replaced = session(hash(1), 'ana@example.org', { last_seen_at: T0 + 5_000, expires_at: T0 + 65_000 });
      await store.putConsoleSession(replaced);
      assert.deepEqual(await store.getConsoleSession(hash(1)), replaced);
      assert.equal(await store.deleteConsoleSession(hash(1)), true);
      assert.equal(await store.deleteConsoleSession(hash(1)), false);
      assert.equal(await store.getConsoleSession(hash(1)), undefined);
    });

    it('updating a console session changes only what is named and never brings an ended one back', async () => {
      const store = current();
      await store.putConsoleSession(session(hash(3), 'ines@example.org'));
      assert.equal(await store.updateConsoleSession(hash(3), { flash: 'hello' }), true);
      assert.deepEqual(await store.getConsoleSession(hash(3)), session(hash(3), 'ines@example.org', { flash: 'hello' }));
      assert.equal(await store.updateConsoleSession(hash(3), { last_seen_at: T0 + 10, expires_at: T0 + 70 }), true);
      assert.deepEqual(await store.getConsoleSession(hash(3)), session(hash(3), 'ines@example.org', { flash: 'hello', last_seen_at: T0 + 10, expires_at: T0 + 70 }));
      assert.equal(await store.updateConsoleSession(hash(3), { flash: null }), true);
      assert.deepEqual(await store.getConsoleSession(hash(3)), session(hash(3), 'ines@example.org', { last_seen_at: T0 + 10, expires_at: T0 + 70 }));

      await store.deleteConsoleSession(hash(3));
      assert.equal(await store.updateConsoleSession(hash(3), { last_seen_at: T0 + 20, expires_at: T0 + 80 }), false);
      assert.equal(await store.getConsoleSession(hash(3)), undefined);
    });

    it("ending a user's console sessions spares the one named and other users'", async () => {
      const store = current();
      await store.putConsoleSession(session(hash(10), 'ana@example.org'));
      await store.putConsoleSession(session(hash(11), 'ana@example.org'));
      await store.putConsoleSession(session(hash(12), 'ana@example.org'));
      await store.putConsoleSession(session(hash(13), 'victor@example.org'));
      assert.equal(await store.deleteUserConsoleSessions('ana@example.org', hash(11)), 2);
      assert.ok(await store.getConsoleSession(hash(11)));
      assert.equal(await store.getConsoleSession(hash(10)), undefined);
      assert.ok(await store.getConsoleSession(hash(13)));
      assert.equal(await store.deleteUserConsoleSessions('ana@example.org'), 1);
      assert.equal(await store.getConsoleSession(hash(11)), undefined);
      await store.deleteUserConsoleSessions('victor@example.org');
    });

    it('expired console sessions are deleted at most a batch at a time', async () => {
      const store = current();
      for (let i = 0; i < 5; i += 1) await store.putConsoleSession(session(hash(20 + i), 'ana@example.org', { expires_at: T0 + i * 1000 }));
      await store.putConsoleSession(session(hash(30), 'ana@example.org', { expires_at: T0 + 60_000 }));
      assert.equal(await store.deleteExpiredConsoleSessions(T0 + 3000, 3), 3);
      assert.equal(await store.deleteExpiredConsoleSessions(T0 + 3000, 3), 1, 'the fourth expired one, in the next batch');
      assert.equal(await store.deleteExpiredConsoleSessions(T0 + 3000, 3), 0);
      assert.ok(await store.getConsoleSession(hash(24)), 'expires later than now');
      assert.ok(await store.getConsoleSession(hash(30)));
      assert.equal(await store.deleteExpiredConsoleSessions(T0 + 60_000, 0), 0, 'a batch of none deletes none');
      assert.equal(await store.deleteExpiredConsoleSessions(T0 + 60_000, 10), 2);
    });

    it('users can be disabled and enabled again, and deleted', async () => {
      const store = current();
      const user = { username: 'dora@example.org', passwordHash: 'scrypt$x', roles: ['viewer'], created_at: '2024-05-01T08:00:00' };
      await store.putUser({ ...user, disabled: true });
      assert.deepEqual(await store.getUser(user.username), { ...user, disabled: true });
      assert.equal((await store.listUsers()).find((listed) => listed.username === user.username)?.disabled, true);
      await store.putUser(user);
      assert.deepEqual(await store.getUser(user.username), user);
      assert.equal(await store.deleteUser(user.username), true);
      assert.equal(await store.deleteUser(user.username), false);
      assert.equal(await store.getUser(user.username), undefined);
    });
  });
}
