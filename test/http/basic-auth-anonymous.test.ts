/**
 * Demo mode's anonymous reads: no credentials is anonymous, but credentials that are sent are
 * checked (a wrong password is 401 AUTH_FAILED, not a silent anonymous 200).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { listenOnLoopback } from '../support/listen.js';
import express from 'express';
import type { Authenticator } from '../../src/auth/users.js';
import { allowAnonymousRead } from '../../src/http/basic-auth.js';
import type { UserRecord } from '../../src/store/store.js';

const READER: UserRecord = { username: 'reader@example.org', passwordHash: 'unused', roles: ['viewer'], created_at: '2024-01-01T00:00:00' };

/** Knows one user and one password; the middleware only calls authenticate(). */
const authenticator = {
  async authenticate(username: string, password: string): Promise<UserRecord | undefined> {
    return username === READER.username && password === 'right password' ? READER : undefined;
  },
} as unknown as Authenticator;

function basic(user: string, password: string): string {
  return `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
}

describe('anonymous reads in demo mode', () => {
  let closeServer: () => Promise<void>;
  let base: string;

  before(async () => {
    const app = express();
    app.get('/org/office.xml', allowAnonymousRead(authenticator), (req, res) => {
      res.json({ user: req.user?.username ?? null });
    });
    ({ base, close: closeServer } = await listenOnLoopback(app));
  });
  after(() => closeServer());

  it('a request without credentials reads anonymously', async () => {
    const response = await fetch(`${base}/org/office.xml`);
    assert.equal(response.status, 200);
    assert.deepEqual(await response.json(), { user: null });
  });

  it('a wrong password is refused with 401 AUTH_FAILED and the Basic challenge', async () => {
    const response = await fetch(`${base}/org/office.xml`, { headers: { authorization: basic('admin', 'wrong') } });
    assert.equal(response.status, 401);
    assert.equal(response.headers.get('www-authenticate'), 'Basic realm="sluice"');
    assert.equal(((await response.json()) as { code: string }).code, 'AUTH_FAILED');
  });

  it('a right password reads as that user', async () => {
    const response = await fetch(`${base}/org/office.xml`, { headers: { authorization: basic(READER.username, 'right password') } });
    assert.equal(response.status, 200);
    assert.deepEqual(await response.json(), { user: READER.username });
  });
});
