/**
 * Small things a person reads: refusing to add a repository twice, a --page-size fix in the
 * CLI's own words, an empty candidates list said out loud, help text on every pool subcommand,
 * and a one-shot command not promising a retry.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { EXIT } from '../../../src/cli/exit-codes.js';
import { describeFailure } from '../../../src/cli/failure-report.js';
import { buildProgram } from '../../../src/cli/main.js';
import { SluiceError } from '../../../src/errors.js';
import { openSqliteStore } from '../../../src/store/sqlite-store.js';
import { runCli } from '../../sync/support/gateways.js';

const PEER = { uuid: 'urn:uuid:kathmandu', name: 'kathmandu', apitype: 'eden', url: 'http://127.0.0.1:1/eden', created_at: '2024-01-01T00:00:00', updated_at: '2024-01-01T00:00:00', config: {} };

describe('small CLI messages', { timeout: 90_000 }, () => {
  let dataDir: string;

  before(async () => {
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'sluice-small-'));
    const store = await openSqliteStore({ file: path.join(dataDir, 'sluice.db') });
    try {
      await store.putRepository(PEER);
    } finally {
      await store.close();
    }
  });
  after(() => rm(dataDir, { recursive: true, force: true }));

  it('repo add with a name already taken is refused before anything is sent', async () => {
    const result = await runCli(['repo', 'add', 'Kathmandu', 'http://127.0.0.1:1/other', '--yes', '--data', dataDir]);
    assert.equal(result.code, EXIT.DATA);
    assert.match(result.stderr, /REPOSITORY_EXISTS: A repository is already called "kathmandu" .*nothing was changed\n  what to do: Change it with sluice repo set kathmandu/);
    assert.doesNotMatch(result.stdout, /Added repository/);
  });

  it('--page-size 0 is refused with the range and "none", not JSON null', async () => {
    const result = await runCli(['repo', 'set', 'kathmandu', '--page-size', '0', '--data', dataDir]);
    assert.equal(result.code, EXIT.USAGE);
    assert.match(result.stderr, /--page-size 0 is not a whole number from 1 to 10000\n  what to do: .*--page-size none removes it/);
    assert.doesNotMatch(result.stderr, /null/);
  });

  it('pool candidates says so when there are none', async () => {
    const created = await runCli(['pool', 'create', 'haiti', '--tag', 'haiti', '--data', dataDir]);
    assert.equal(created.code, 0, created.stderr);
    const result = await runCli(['pool', 'candidates', 'haiti', '--data', dataDir]);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /^No candidates for pool haiti/);
  });

  it('every pool subcommand has a description, and export --help names its default once', () => {
    const program = buildProgram();
    const pool = program.commands.find((command) => command.name() === 'pool')!;
    const undescribed = [...pool.commands, ...pool.commands.flatMap((command) => command.commands)].filter((command) => command.description() === '').map((command) => command.name());
    assert.deepEqual(undescribed, []);
    const help = program.commands.find((command) => command.name() === 'export')!.helpInformation();
    const formatLine = help.split('\n').find((line) => line.includes('--format'));
    assert.equal(formatLine?.replace(/\s+/g, ' ').trim(), '--format <format> s3xml or s3json (default: "s3xml")');
  });

  it('a one-shot command does not promise that the request is retried', () => {
    const report = describeFailure(new SluiceError('PEER_UNAVAILABLE', 'GET http://x/sync/config.json failed', { status: 502, fix: 'Peer repository unavailable; the request is retried. Check the URL and that the peer is up' }));
    assert.equal(report, 'sluice: PEER_UNAVAILABLE: GET http://x/sync/config.json failed\n  what to do: Peer repository unavailable; retries did not help. Check the URL and that the peer is up\n');
  });
});
