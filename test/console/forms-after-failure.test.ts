/**
 * Console forms after a failure: what was typed comes back (never the password) with the error at
 * its field; interactive fixes do not promise retries nobody makes; warnings and neutral notices
 * where the review found red errors or silence.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createFakeUshahidi, type FakeUshahidi } from '../../tools/fake-ushahidi/index.js';
import { syncNowOutcome } from '../../src/console/sections/dashboard.js';
import type { RepositoryRecord } from '../../src/store/store.js';
import { ADMIN } from '../support/gateway.js';
import { ACCOUNTS, startConsoleGateway, type ConsoleGateway } from './support/console-gateway.js';
import { csrfOf, openPage, postForm, signInWithForm, type FormSession } from './support/form-session.js';

const WRONG_PASSWORD = 'not the password 7';

/** A repository registered earlier whose peer is gone (nothing here contacts it). */
function offlinePeer(uuid: string, name: string): RepositoryRecord {
  return { uuid, name, url: 'http://127.0.0.1:9/eden', apitype: 'eden', config: {}, created_at: '2024-01-01T00:00:00', updated_at: '2024-01-01T00:00:00' };
}

describe('console forms after a failure', { timeout: 60_000 }, () => {
  let here: ConsoleGateway;
  let peer: ConsoleGateway;
  let fake: FakeUshahidi;
  let session: FormSession;
  let csrf: string;

  before(async () => {
    [here, peer, fake] = await Promise.all([
      startConsoleGateway({ name: 'Kathmandu hub' }),
      startConsoleGateway({ name: 'Pokhara gateway', demo: true, users: false }),
      createFakeUshahidi({ posts: 2 }),
    ]);
    session = await signInWithForm(here.url, ACCOUNTS.integrator.user, ACCOUNTS.integrator.password);
    csrf = csrfOf((await openPage(here.url, session, '/console/repositories')).body);
  });

  after(async () => {
    await here?.stop();
    await peer?.stop();
    await fake?.close();
  });

  /** Follows one redirect of a form post and returns the page it lands on. */
  async function landing(answer: Response): Promise<{ path: string; body: string }> {
    assert.equal(answer.status, 303, 'the form was accepted');
    const path = answer.headers.get('location')!;
    return { path, body: (await openPage(here.url, session, path)).body };
  }

  it('a refused Ushahidi login shows the source form again with everything typed but the password', async () => {
    const answer = await postForm(here.url, session, '/console/sources', csrf, {
      name: 'Haiti reports',
      url: fake.url,
      type: 'ushahidi-v5',
      username: fake.admin.email,
      password: WRONG_PASSWORD,
      resource: 'event_incident_report',
      status_field: 'status',
      mapping: '',
      poll_seconds: '120',
    });
    assert.ok(answer.status >= 400, `a failure status, not ${answer.status}`);
    const body = await answer.text();
    assert.match(body, /name="name"[^>]*value="Haiti reports"/);
    assert.ok(body.includes(`value="${fake.url}"`), 'the deployment URL is kept');
    assert.ok(body.includes(`value="${fake.admin.email}"`), 'the user name is kept');
    assert.match(body, /name="poll_seconds"[^>]*value="120"/);
    assert.ok(!body.includes(WRONG_PASSWORD), 'the password is never sent back');
    assert.match(body, /name="password"[^>]*aria-invalid="true"/, 'the error is at the password box');
    assert.match(body, /id="password-error"/);
    assert.deepEqual(await here.store.listRepositories(), [], 'nothing was stored');
  });

  it('a refused registration shows step 3 again with the name and user name, and says nothing is stored yet', async () => {
    const answer = await postForm(here.url, session, '/console/repositories', csrf, {
      url: peer.url,
      proxy: '',
      expect_uuid: peer.identity.uuid,
      name: 'Pokhara here',
      username: ADMIN.user,
      password: WRONG_PASSWORD,
      accept_push: 'on',
      wire_format: 's3xml',
      page_size: '50',
      max_bytes_per_second: '',
    });
    assert.ok(answer.status >= 400, `a failure status, not ${answer.status}`);
    const body = await answer.text();
    assert.match(body, /name="name"[^>]*value="Pokhara here"/);
    assert.match(body, /name="username"[^>]*value="admin@example.org"/);
    assert.match(body, /name="page_size"[^>]*value="50"/);
    assert.ok(!body.includes(WRONG_PASSWORD), 'the password is never sent back');
    assert.match(body, /name="password"[^>]*aria-invalid="true"/);
    assert.match(body, /PEER_AUTH_FAILED/);
    assert.ok(!/stored for this repository/.test(body), 'no talk of a stored password before anything is stored');
    assert.deepEqual(await here.store.listRepositories(), []);
  });

  it('a peer that cannot be reached is answered with advice to try again, not a promise of retries', async () => {
    const answer = await postForm(here.url, session, '/console/repositories/new/fingerprint', csrf, { url: 'http://127.0.0.1:9/eden', proxy: '' });
    assert.ok(answer.status >= 400);
    const body = await answer.text();
    assert.match(body, /PEER_UNAVAILABLE|PEER_TIMEOUT/);
    assert.match(body, /check the URL and that the peer is running, then try again/i);
    assert.ok(!/is retried/.test(body), 'nothing is retried for a lookup');
    assert.ok(body.includes('value="http://127.0.0.1:9/eden"'), 'the address is kept');
  });

  it('a task for a table nobody knows is added with a warning', async () => {
    const uuid = 'urn:uuid:0b7c2f3e-1a2b-4c3d-8e9f-000000000001';
    await here.store.putRepository(offlinePeer(uuid, 'offline peer'));
    const added = await landing(
      await postForm(here.url, session, `/console/repositories/${encodeURIComponent(uuid)}/tasks`, csrf, { resource: 'org_offices', mode: 'pull', update_policy: 'NEWER', conflict_policy: 'NEWER' }),
    );
    assert.match(added.body, /class="flash flash-warning"[^]*Task for org_offices added\. Neither this gateway nor what it has heard from the peer knows a table org_offices/);
    assert.equal((await here.store.listTasks({ repository: uuid })).length, 1, 'a warning, not a refusal');
  });

  it('Sync Now on a repository without tasks points at the task form, neutrally', async () => {
    const uuid = 'urn:uuid:0b7c2f3e-1a2b-4c3d-8e9f-000000000002';
    await here.store.putRepository(offlinePeer(uuid, 'empty peer'));
    const answer = await postForm(here.url, session, `/console/repositories/${encodeURIComponent(uuid)}/sync`, csrf);
    const landed = await landing(answer);
    assert.equal(landed.path, `/console/repositories/${encodeURIComponent(uuid)}`);
    assert.match(landed.body, /class="flash flash-ok"[^]*This repository has no tasks yet: add one below\./);
    assert.ok(!landed.body.includes('sluice task add'), 'no CLI advice in the console');
  });

  it('the page of an unknown repository links the Repositories page instead of CLI commands', async () => {
    const missing = await openPage(here.url, session, '/console/repositories/no-such-peer');
    assert.equal(missing.status, 404);
    assert.match(missing.body, /href="\/console\/repositories"/);
    assert.ok(!missing.body.includes('sluice repo list'));
  });
});

describe('the Sync Now message', () => {
  it('names the conflicts a run queued', () => {
    const outcome = syncNowOutcome('urn:uuid:r', { id: 'run-1', status: 'warning', message: '4 tasks: pulled 0 records, pushed 50 records', counts: { tasks: 4, pull_conflicts: 3, push_conflicts: 1 } });
    assert.equal(outcome.to, '/console/runs/run-1');
    assert.match(outcome.flash!.message, /4 conflicts wait in the queue/);
    assert.equal(outcome.flash!.kind, 'warning', 'amber: the run worked, the conflicts want a look');
    assert.deepEqual(outcome.flash!.link, { href: '/console/conflicts', label: 'Resolve them' });
  });

  it('says nothing of conflicts when there were none', () => {
    const outcome = syncNowOutcome('urn:uuid:r', { id: 'run-2', status: 'success', message: '1 task: pulled 2 records, pushed 0 records', counts: { tasks: 1 } });
    assert.equal(outcome.flash!.kind, 'ok');
    assert.ok(!/conflict/.test(outcome.flash!.message));
  });
});
