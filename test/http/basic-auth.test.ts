/**
 * Two gateways on one store file (as several nodes share one MongoDB store): what an administrator
 * does to a user on node A holds on node B at B's very next request, over real HTTP.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, beforeEach, describe, it } from 'node:test';
import { hashPassword } from '../../src/auth/passwords.js';
import { ADMIN, startTestGateway, type TestGateway } from '../support/gateway.js';
import { csrfOf, openPage, postForm, signInWithForm, type FormSession } from '../console/support/form-session.js';

const PEER = { user: 'peer@example.org', password: 'the peer password 1' };
const NEW_PASSWORD = 'the peer password 2';
/** What an Eden peer asks for with its Basic credentials; it needs the integrator role. */
const PULL = '/sync/sync.xml?resource=org_organisation';

describe('a user changed on one gateway node, seen by another at its next request', () => {
  let dataDir: string;
  let nodeA: TestGateway | undefined;
  let nodeB: TestGateway | undefined;
  let admin: FormSession;
  let peerHash: string;

  before(async () => {
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'sluice-shared-users-'));
    nodeA = await startTestGateway({ dataDir, name: 'node A' });
    nodeB = await startTestGateway({ dataDir, name: 'node B' });
    admin = await signInWithForm(nodeA.url, ADMIN.user, ADMIN.password);
    peerHash = await hashPassword(PEER.password);
  });

  beforeEach(async () => {
    await nodeA!.store.putUser({ username: PEER.user, passwordHash: peerHash, roles: ['integrator'], created_at: '2024-05-01T08:00:00' });
  });

  after(async () => {
    await nodeA?.stop();
    await nodeB?.stop();
    await rm(dataDir, { recursive: true, force: true });
  });

  /** An administrator's console form on node A, as a person sends it. */
  async function adminPostsOnA(pathname: string, fields: Record<string, string> = {}): Promise<void> {
    const page = await openPage(nodeA!.url, admin, '/console/users');
    const answer = await postForm(nodeA!.url, admin, pathname, csrfOf(page.body), fields);
    assert.equal(answer.status, 303, `${pathname} was accepted`);
  }

  async function pullOnB(password = PEER.password): Promise<number> {
    const response = await nodeB!.request(PULL, { auth: { user: PEER.user, password } });
    await response.arrayBuffer();
    return response.status;
  }

  const userPath = (action = '') => `/console/users/${encodeURIComponent(PEER.user)}${action}`;

  it('node B refuses the Basic credentials of a user disabled on node A, and takes them again once enabled', async () => {
    assert.equal(await pullOnB(), 200);
    assert.equal(await pullOnB(), 200, 'node B has the verified password in memory now');

    await adminPostsOnA(userPath('/disable'));
    assert.equal(await pullOnB(), 401);

    await adminPostsOnA(userPath('/enable'));
    assert.equal(await pullOnB(), 200);
  });

  it('node B refuses the old password once node A changed it, and accepts the new one', async () => {
    assert.equal(await pullOnB(), 200);
    await adminPostsOnA(userPath(), { roles: 'integrator', password: NEW_PASSWORD });
    assert.equal(await pullOnB(), 401);
    assert.equal(await pullOnB(NEW_PASSWORD), 200);
  });

  it('node B refuses a user deleted on node A', async () => {
    assert.equal(await pullOnB(), 200);
    await adminPostsOnA(userPath('/delete'));
    assert.equal(await pullOnB(), 401);
  });

  it('node B answers with the roles node A gave, at once', async () => {
    assert.equal(await pullOnB(), 200);
    await adminPostsOnA(userPath(), { roles: 'viewer' });
    assert.equal(await pullOnB(), 403, 'a viewer may not pull');
  });

  it('a console session on node B ends when node A disables its user, even if nothing else ends it', async () => {
    const session = await signInWithForm(nodeB!.url, PEER.user, PEER.password);
    assert.ok((await openPage(nodeB!.url, session, '/console')).signedIn);
    // Straight to the store, without ending sessions as the console's Disable does: the session
    // layer must see the flag by itself.
    const record = await nodeA!.store.getUser(PEER.user);
    await nodeA!.store.putUser({ ...record!, disabled: true });
    assert.equal((await openPage(nodeB!.url, session, '/console')).signedIn, false);
  });

  it("a console session on node B ends when node A's administrator disables its user", async () => {
    const session = await signInWithForm(nodeB!.url, PEER.user, PEER.password);
    assert.ok((await openPage(nodeB!.url, session, '/console')).signedIn);
    await adminPostsOnA(userPath('/disable'));
    assert.equal((await openPage(nodeB!.url, session, '/console')).signedIn, false);
    await adminPostsOnA(userPath('/enable'));
    assert.equal((await openPage(nodeB!.url, session, '/console')).signedIn, false, 'enabling again does not bring back an ended session');
  });
});
