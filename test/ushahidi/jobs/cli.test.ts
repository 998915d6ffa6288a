/**
 * `sluice source add` and `sluice sync` as a script runs them, in a process of their own, against
 * the fake Ushahidi: the exit code says whether the whole poll and push succeeded.
 */
import assert from 'node:assert/strict';
import { cp, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { localStatusOf } from '../../../src/ushahidi/status-push.js';
import { openSqliteStore } from '../../../src/store/sqlite-store.js';
import type { Store } from '../../../src/store/store.js';
import { createFakeUshahidi, type FakeUshahidi } from '../../../tools/fake-ushahidi/index.js';
import { runCli } from '../../sync/support/gateways.js';
import { closeTestEngine, testEngine } from './support.js';

async function withStore<T>(dataDir: string, work: (store: Store) => Promise<T>): Promise<T> {
  const store = await openSqliteStore({ file: path.join(dataDir, 'sluice.db') });
  try {
    return await work(store);
  } finally {
    await store.close();
  }
}

describe('sluice source and sluice sync', { timeout: 180_000 }, () => {
  let fake: FakeUshahidi;
  let dataDir: string;

  before(async () => {
    fake = await createFakeUshahidi({ posts: 120 });
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'sluice-cli-source-'));
    // Compiled stylesheets are cached by content hash: seeding the data directory's cache with the
    // tests' one spares the child process the compiles (which are not what is tested here).
    const engine = testEngine();
    await engine.prepare({ path: path.join(process.cwd(), 'stylesheets', 'ushahidi', 'import.xsl') });
    await closeTestEngine();
    await cp(path.join(os.tmpdir(), 'sluice-transform-test-cache'), path.join(dataDir, 'cache', 'xslt'), { recursive: true }).catch(() => undefined);
  });

  after(async () => {
    await fake?.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('refuses a source whose login fails, and stores nothing', async () => {
    const refused = await runCli(['source', 'add', 'haiti', fake.url, '--type', 'ushahidi-v5', '--user', fake.admin.email, '--password', 'wrong', '--data', dataDir]);
    assert.notEqual(refused.code, 0);
    assert.match(refused.stderr, /USHAHIDI_LOGIN_FAILED/);
    assert.deepEqual(await withStore(dataDir, (store) => store.listRepositories()), []);
  });

  it('adds a source, polls it with sync (exit 0), and sends a changed status back', async () => {
    const added = await runCli(['source', 'add', 'haiti', fake.url, '--type', 'ushahidi-v5', '--user', fake.admin.email, '--password', fake.admin.password, '--data', dataDir]);
    assert.equal(added.code, 0, added.stderr);
    assert.match(added.stdout, /Added source "haiti": [0-9a-f-]{36} \(ushahidi-v5\); posts become event_incident_report records/);
    const jobs = await withStore(dataDir, (store) => store.listJobs());
    assert.deepEqual(
      jobs.map((job) => [job.kind, job.interval_seconds]).sort(),
      [
        ['sync', 300],
        ['ushahidi-reconcile', 3600],
      ],
      'polled every five minutes, reconciled every hour',
    );

    const synced = await runCli(['sync', 'haiti', '--data', dataDir]);
    assert.equal(synced.code, 0, synced.stderr);
    assert.match(synced.stdout, /haiti: success .* polled 120 posts \(records written: \d+ created/);
    const deployment = new URL(fake.url).host;
    const draft = [...fake.state.postsBetween()].find((post) => post.status === 'draft')!;
    await withStore(dataDir, async (store) => {
      assert.equal(await store.countRecords({ resource: 'event_incident_report' }), 120);
      const ticket = (await store.getRecord('event_incident_report', `${deployment}/${draft.id}`))!;
      assert.equal(localStatusOf(ticket, 'status'), 'Unverified');
      const { seq: _seq, ...rest } = ticket;
      await store.putRecord({ ...rest, data: [...ticket.data.filter((d) => d.field !== 'status'), { field: 'status', text: 'Verified' }] });
    });

    const pushed = await runCli(['sync', 'haiti', '--data', dataDir]);
    assert.equal(pushed.code, 0, pushed.stderr);
    assert.match(pushed.stdout, /pushed 1 status \(/);
    assert.equal(fake.state.post(draft.id)!.status, 'published');

    const listed = await runCli(['source', 'list', '--json', '--data', dataDir]);
    assert.equal(listed.code, 0, `${listed.stderr}\n${listed.stdout}`);
    const [view] = JSON.parse(listed.stdout) as { name: string; has_password: boolean; password?: string }[];
    assert.equal(view?.name, 'haiti');
    assert.equal(view?.has_password, true);
    assert.equal(view?.password, undefined, 'never shown');
  });

  it('exits non-zero when the deployment keeps failing', async () => {
    fake.hooks.failNext({ path: '/api/v5/posts' }, 100);
    try {
      const failed = await runCli(['sync', 'haiti', '--data', dataDir]);
      assert.equal(failed.code, 69, failed.stdout);
      assert.match(failed.stderr, /USHAHIDI_UNAVAILABLE/);
    } finally {
      fake.hooks.clearFaults();
    }
  });
});
