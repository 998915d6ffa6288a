/**
 * What a run tells people, read where they read it: the log line of an Ushahidi poll names its
 * cursor in plain numbers and says what each count counts; counts of one are singular.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createFakeUshahidi, type FakeUshahidi } from '../../tools/fake-ushahidi/index.js';
import { ACCOUNTS, startConsoleGateway, type ConsoleGateway } from './support/console-gateway.js';
import { csrfOf, openPage, postForm, signInWithForm, type FormSession } from './support/form-session.js';

describe('run and log messages of an Ushahidi poll', { timeout: 60_000 }, () => {
  let gateway: ConsoleGateway;
  let fake: FakeUshahidi;
  let session: FormSession;
  let csrf: string;
  let source: string;

  before(async () => {
    [gateway, fake] = await Promise.all([startConsoleGateway(), createFakeUshahidi({ posts: 1 })]);
    session = await signInWithForm(gateway.url, ACCOUNTS.integrator.user, ACCOUNTS.integrator.password);
    csrf = csrfOf((await openPage(gateway.url, session, '/console/repositories')).body);
    const added = await postForm(gateway.url, session, '/console/sources', csrf, {
      name: 'One post',
      url: fake.url,
      type: 'ushahidi-v5',
      username: fake.admin.email,
      password: fake.admin.password,
      poll_seconds: '0',
    });
    assert.equal(added.status, 303, 'the source was added');
    source = decodeURIComponent(added.headers.get('location')!.split('/').pop()!);
    const synced = await postForm(gateway.url, session, `/console/repositories/${encodeURIComponent(source)}/sync`, csrf);
    assert.equal(synced.status, 303);
  });

  after(async () => {
    await gateway?.stop();
    await fake?.close();
  });

  it('the poll line shows the cursor as numbers and labels the store counts apart from the posts', async () => {
    const lines = await gateway.store.listLog({ repository: source });
    const poll = lines.find((line) => line.action === 'import');
    assert.ok(poll, `a poll was logged: ${JSON.stringify(lines.map((line) => line.message))}`);
    assert.match(poll.message, /^1 post in 1 page; records in the store, components counted: \d+ created; cursor \S+ → \S+/);
    assert.ok(!poll.message.includes('{'), `no raw JSON in ${poll.message}`);
  });

  it('the run message says "1 post" and "0 statuses"', async () => {
    const [run] = await gateway.store.listRuns({ repository: source, limit: 1 });
    assert.equal(run?.message, 'polled 1 post, pushed 0 statuses');
  });

  it('the log page shows directions in plain words', async () => {
    const log = await openPage(gateway.url, session, `/console/log?repository=${encodeURIComponent(source)}`);
    assert.match(log.body, /pulled from the peer/);
    assert.ok(!log.body.includes('pull/outgoing'));
    assert.match(log.body, /class="message-cell"/);
  });
});
