import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ADMIN, startTestGateway, type TestGateway } from '../support/gateway.js';
import { csrfOf, openPage, postForm, signInWithForm } from './support/form-session.js';

describe('console sign-ins shared by gateway processes on one store', () => {
  let dataDir: string;
  let nodeA: TestGateway | undefined;
  let nodeB: TestGateway | undefined;

  before(async () => {
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'sluice-shared-sessions-'));
    // Two gateways on one store file, as several nodes share one MongoDB store.
    nodeA = await startTestGateway({ dataDir, name: 'node A' });
    nodeB = await startTestGateway({ dataDir, name: 'node B' });
  });

  after(async () => {
    await nodeA?.stop();
    await nodeB?.stop();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('a sign-in on one node works on the other, with the same CSRF token, and survives a restart', async () => {
    const session = await signInWithForm(nodeA!.url, ADMIN.user, ADMIN.password);
    const onA = await openPage(nodeA!.url, session, '/console/users');
    const onB = await openPage(nodeB!.url, session, '/console/users');
    assert.ok(onA.signedIn && onB.signedIn, 'signed in on both nodes');
    assert.match(onB.body, /Users and roles/);
    assert.equal(csrfOf(onB.body), csrfOf(onA.body));

    // A change sent to node B with the token node A gave is accepted, and its message shows on A.
    const added = await postForm(nodeB!.url, session, '/console/users', csrfOf(onA.body), { username: 'nina@example.org', password: 'a long enough password', roles: 'viewer' });
    assert.equal(added.status, 303);
    assert.ok(await nodeA!.store.getUser('nina@example.org'));
    assert.match((await openPage(nodeA!.url, session, '/console/users')).body, /Added nina@example.org/);

    await nodeA!.stop();
    nodeA = await startTestGateway({ dataDir, name: 'node A' });
    assert.ok((await openPage(nodeA.url, session, '/console')).signedIn, 'still signed in after node A restarted');
  });

  it('signing out on one node ends the session on every node', async () => {
    const session = await signInWithForm(nodeB!.url, ADMIN.user, ADMIN.password);
    const page = await openPage(nodeA!.url, session, '/console');
    assert.ok(page.signedIn);
    const out = await postForm(nodeA!.url, session, '/console/logout', csrfOf(page.body));
    assert.equal(out.status, 303);
    assert.equal((await openPage(nodeB!.url, session, '/console')).signedIn, false);
    assert.equal((await openPage(nodeA!.url, session, '/console')).signedIn, false);
  });

  it('the store holds only the hash of a session id', async () => {
    const session = await signInWithForm(nodeA!.url, ADMIN.user, ADMIN.password);
    const id = decodeURIComponent(session.cookie.slice('sluice_session='.length));
    const { createHash } = await import('node:crypto');
    const stored = await nodeB!.store.getConsoleSession(createHash('sha256').update(id).digest('hex'));
    assert.equal(stored?.username, ADMIN.user);
    assert.ok(!JSON.stringify(stored).includes(id));
  });
});
