/**
 * The sync commands as a person (or a script) runs them against a data directory: `repo add`
 * shows the peer's uuid and asks before sending anything, `task add`, and `sync` whose exit code
 * says whether the whole run succeeded.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { openSqliteStore } from '../../../src/store/sqlite-store.js';
import { ADMIN, runCli, startSyncGateway, type SyncGateway } from '../../sync/support/gateways.js';

describe('sluice repo, task and sync', { timeout: 120_000 }, () => {
  let peer: SyncGateway;
  let dataDir: string;

  before(async () => {
    peer = await startSyncGateway({ name: 'the peer', domain: 'peer.test' });
    await peer.store.putRecord({ resource: 'org_office', uuid: 'urn:uuid:cli-1', mci: 0, modified_on: '2024-03-01T00:00:00', deleted: false, attributes: {}, data: [{ field: 'name', text: 'Via the CLI' }], references: [] });
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'sluice-cli-sync-'));
  });

  after(async () => {
    await peer?.stop();
    await rm(dataDir, { recursive: true, force: true });
  });

  const repositories = async () => {
    const store = await openSqliteStore({ file: path.join(dataDir, 'sluice.db') });
    try {
      return await store.listRepositories();
    } finally {
      await store.close();
    }
  };

  it('repo add shows the peer\'s uuid and, answered no, sends and stores nothing', async () => {
    const declined = await runCli(['repo', 'add', 'peer', peer.url, '--user', ADMIN.user, '--password', ADMIN.password, '--data', dataDir], { input: 'n\n' });
    assert.equal(declined.code, 1);
    assert.ok(declined.stdout.includes(`The peer at ${peer.url} is ${peer.identity.uuid} ("the peer")`), declined.stdout);
    assert.match(declined.stderr, /Register "peer" as .* and send it the credentials\? \[y\/N\]/);
    assert.match(declined.stderr, /Cancelled; nothing was sent or stored/);
    assert.deepEqual(await repositories(), []);
    assert.deepEqual(await peer.store.listRepositories(), []);
  });

  it('repo add answered yes registers the peer; task add and sync then pull its records (exit 0)', async () => {
    const added = await runCli(['repo', 'add', 'peer', peer.url, '--user', ADMIN.user, '--password', ADMIN.password, '--data', dataDir], { input: 'y\n' });
    assert.equal(added.code, 0, added.stderr);
    assert.match(added.stdout, new RegExp(`Added repository "peer": ${peer.identity.uuid} \\(sluice\\), registered with the peer`));
    assert.equal((await repositories())[0]?.uuid, peer.identity.uuid);
    assert.equal((await peer.store.listRepositories()).length, 1);

    const task = await runCli(['task', 'add', 'peer', 'org_office', '--mode', 'pull', '--data', dataDir]);
    assert.equal(task.code, 0, task.stderr);
    assert.match(task.stdout, /org_office with peer, mode pull/);

    const sync = await runCli(['sync', 'peer', '--data', dataDir]);
    assert.equal(sync.code, 0, sync.stderr);
    assert.match(sync.stdout, /peer: success .* pulled 1 \(1 created, 0 updated, 0 deleted\)/);
  });

  it('repo set changes the low-bandwidth options, "none" clears them, and a bad value changes nothing', async () => {
    const set = await runCli(['repo', 'set', 'peer', '--wire-format', 's3json', '--page-size', '200', '--max-bytes-per-second', '20000', '--data', dataDir, '--json']);
    assert.equal(set.code, 0, set.stderr);
    const changed = JSON.parse(set.stdout) as Record<string, unknown>;
    assert.equal(changed.wire_format, 's3json');
    assert.equal(changed.page_size, 200);
    assert.equal(changed.max_bytes_per_second, 20000);

    const bad = await runCli(['repo', 'set', 'peer', '--page-size', 'lots', '--data', dataDir]);
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /CLI_BAD_OPTION/);
    const nothing = await runCli(['repo', 'set', 'peer', '--data', dataDir]);
    assert.notEqual(nothing.code, 0);
    assert.match(nothing.stderr, /Nothing to change/);

    const cleared = await runCli(['repo', 'set', 'peer', '--wire-format', 's3xml', '--page-size', 'none', '--max-bytes-per-second', 'none', '--data', dataDir, '--json']);
    assert.equal(cleared.code, 0, cleared.stderr);
    const after = JSON.parse(cleared.stdout) as Record<string, unknown>;
    assert.equal(after.wire_format, 's3xml');
    assert.equal(after.page_size, undefined);
    assert.equal(after.max_bytes_per_second, undefined);
    assert.equal((await repositories())[0]?.name, 'peer');
  });

  it('sync exits non-zero when the run did not fully succeed', async () => {
    const badTask = await runCli(['task', 'add', 'peer', 'org_office', '--data', dataDir]);
    assert.equal(badTask.code, 65, 'a second task for the same resource is refused');
    assert.match(badTask.stderr, /TASK_EXISTS/);
    const stopped = peer.url;
    await peer.stop();
    const sync = await runCli(['sync', 'peer', '--data', dataDir]);
    assert.equal(sync.code, 69, `${sync.stdout}\n${sync.stderr}`);
    assert.match(sync.stderr, /PEER_UNAVAILABLE/);
    peer = await startSyncGateway({ name: 'restarted' });
    assert.notEqual(peer.url, stopped);
  });
});
