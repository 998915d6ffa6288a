/**
 * `sluice task`: a table nobody knows is accepted with a warning, a second task for a table points
 * at `task set`, which changes it, and `task list` shows peers by name under a header.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { EXIT } from '../../../src/cli/exit-codes.js';
import { openSqliteStore } from '../../../src/store/sqlite-store.js';
import { runCli } from '../../sync/support/gateways.js';

const PEER = { uuid: 'urn:uuid:pokhara', name: 'pokhara', apitype: 'eden', url: 'http://127.0.0.1:1/eden', created_at: '2024-01-01T00:00:00', updated_at: '2024-01-01T00:00:00', config: {} };

describe('sluice task', { timeout: 90_000 }, () => {
  let dataDir: string;

  before(async () => {
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'sluice-task-'));
    const store = await openSqliteStore({ file: path.join(dataDir, 'sluice.db') });
    try {
      await store.putRepository(PEER);
      await store.putRecord({ resource: 'org_office', uuid: 'urn:uuid:task-office', mci: 0, modified_on: '2024-03-01T00:00:00', deleted: false, attributes: {}, data: [{ field: 'name', text: 'Office' }], references: [] });
    } finally {
      await store.close();
    }
  });
  after(() => rm(dataDir, { recursive: true, force: true }));

  it('adds a task for a table nobody knows with a warning, and one for a known table without', async () => {
    const typo = await runCli(['task', 'add', 'pokhara', 'org_ofice', '--mode', 'pull', '--data', dataDir]);
    assert.equal(typo.code, 0, typo.stderr);
    assert.match(typo.stderr, /^warning: neither this gateway nor what it has heard from pokhara knows a table org_ofice/);
    const known = await runCli(['task', 'add', 'pokhara', 'org_office', '--mode', 'pull', '--data', dataDir]);
    assert.equal(known.code, 0, known.stderr);
    assert.equal(known.stderr, '');
  });

  it('refuses a second task for a table with a fix naming task set, which then changes the task', async () => {
    const again = await runCli(['task', 'add', 'pokhara', 'org_office', '--data', dataDir]);
    assert.equal(again.code, EXIT.DATA);
    assert.match(again.stderr, /TASK_EXISTS: .*\n  what to do: Change it with sluice task set pokhara org_office/);
    const changed = await runCli(['task', 'set', 'pokhara', 'org_office', '--mode', 'both', '--update-policy', 'this', '--data', dataDir]);
    assert.equal(changed.code, 0, changed.stderr);
    assert.match(changed.stdout, /org_office with pokhara, mode both, policies THIS\/NEWER/);
    const missing = await runCli(['task', 'set', 'pokhara', 'gis_location', '--mode', 'pull', '--data', dataDir]);
    assert.equal(missing.code, EXIT.DATA);
    assert.match(missing.stderr, /TASK_NOT_FOUND: pokhara has no task for gis_location/);
  });

  it('lists tasks under a header row with the repository by name', async () => {
    const listed = await runCli(['task', 'list', '--data', dataDir]);
    assert.equal(listed.code, 0, listed.stderr);
    const [header, ...rows] = listed.stdout.trimEnd().split('\n');
    assert.equal(header, 'id\trepository\tresource\tmode\tupdate/conflict policy\tfilters');
    assert.deepEqual(rows.map((row) => row.split('\t').slice(1, 4)).sort(), [['pokhara', 'org_office', 'both'], ['pokhara', 'org_ofice', 'pull']]);
  });
});
