/**
 * Exit codes follow the README's table: by what a failure says about the world (its status, a
 * network cause), not by which command raised it. The unit part pins the mapping; the process part
 * runs the real binary on the mistakes people make.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { EXIT, describeSystemError, exitCodeFor } from '../../src/cli/exit-codes.js';
import { describeFailure } from '../../src/cli/failure-report.js';
import { SluiceError } from '../../src/errors.js';
import { UpstreamStatusError } from '../../src/net/retry.js';
import { ADMIN, runCli, startSyncGateway, type SyncGateway } from '../sync/support/gateways.js';

function errno(code: string, file: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`${code}: something, stat '${file}'`), { code, path: file, syscall: 'stat' });
}

describe('exitCodeFor', () => {
  it('gives 77 to refused credentials, here or at a peer, and not to a stylesheet refused by the sandbox', () => {
    assert.equal(exitCodeFor(new UpstreamStatusError('PEER_AUTH_FAILED', 'refused', 401)), EXIT.NO_PERMISSION);
    assert.equal(exitCodeFor(new SluiceError('AUTH_FAILED', 'refused', { status: 401 })), EXIT.NO_PERMISSION);
    assert.equal(exitCodeFor(new SluiceError('USHAHIDI_AUTH_FAILED', 'refused', { status: 401 })), EXIT.NO_PERMISSION);
    assert.equal(exitCodeFor(new UpstreamStatusError('PEER_FORBIDDEN', 'no role', 403)), EXIT.NO_PERMISSION);
    assert.equal(exitCodeFor(new UpstreamStatusError('USHAHIDI_LOGIN_FAILED', 'invalid_grant', 400)), EXIT.NO_PERMISSION);
    assert.equal(exitCodeFor(new SluiceError('XSLT_SANDBOX_VIOLATION', 'reads /etc', { status: 403 })), EXIT.DATA);
  });

  it('gives 69 to peers that answer with an error or cannot be reached, whatever the code', () => {
    assert.equal(exitCodeFor(new UpstreamStatusError('PEER_HTTP_ERROR', 'HTTP 404', 404)), EXIT.UNAVAILABLE);
    assert.equal(exitCodeFor(new SluiceError('UPSTREAM_UNREACHABLE', 'refused', { status: 502 })), EXIT.UNAVAILABLE);
    assert.equal(exitCodeFor(new SluiceError('UPSTREAM_TIMEOUT', 'slow', { status: 504 })), EXIT.UNAVAILABLE);
    const selection = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { name: 'MongoServerSelectionError' });
    assert.equal(exitCodeFor(new SluiceError('STORE_OPEN_FAILED', 'Cannot open the MongoDB store', { status: 500, cause: selection })), EXIT.UNAVAILABLE);
  });

  it('keeps 70 for what is left: a bug', () => {
    assert.equal(exitCodeFor(new TypeError("Cannot read properties of null (reading 'family')")), EXIT.SOFTWARE);
    assert.equal(exitCodeFor(new SluiceError('STORE_FAILED', 'constraint', { status: 500 })), EXIT.SOFTWARE);
  });

  it('gives 64 to usage mistakes, 78 to configuration and startup conflicts, 74 to files, 65 to refused data', () => {
    assert.equal(exitCodeFor(new SluiceError('BAD_ARGUMENTS', '--format needs --direction')), EXIT.USAGE);
    assert.equal(exitCodeFor(new SluiceError('BAD_SCHEDULE', 'four fields')), EXIT.USAGE);
    assert.equal(exitCodeFor(new SluiceError('PORT_IN_USE', 'in use', { status: 409 })), EXIT.CONFIG);
    assert.equal(exitCodeFor(new SluiceError('DATA_DIR_IN_USE', 'in use', { status: 409 })), EXIT.CONFIG);
    assert.equal(exitCodeFor(errno('ENOENT', 'nothere.xml')), EXIT.IO);
    assert.equal(exitCodeFor(new SluiceError('XML_MALFORMED', 'line 1')), EXIT.DATA);
  });

  it('turns a missing file into FILE_NOT_FOUND with a fix, and leaves other errors alone', () => {
    const described = describeSystemError(errno('ENOENT', 'nothere.xml'));
    assert.ok(described instanceof SluiceError);
    assert.equal(described.code, 'FILE_NOT_FOUND');
    assert.equal(described.message, 'nothere.xml does not exist');
    assert.ok(described.fix);
    const other = new Error('boom');
    assert.equal(describeSystemError(other), other);
  });

  it('reports a failure once: code and message, its listed problems, then what to do', () => {
    const error = new SluiceError('MAPPING_INVALID', 'x.json is not valid: /a must be string', {
      fix: 'Correct the listed places',
      details: { problems: [{ path: '/a', message: 'must be string' }, { path: '/b', message: 'must be number' }] },
    });
    assert.equal(describeFailure(error), 'sluice: MAPPING_INVALID: x.json is not valid: /a must be string\n  /a must be string\n  /b must be number\n  what to do: Correct the listed places\n');
  });
});

describe('exit codes of the real binary', { timeout: 120_000 }, () => {
  let peer: SyncGateway;
  let dataDir: string;

  before(async () => {
    peer = await startSyncGateway({ name: 'the peer', domain: 'peer.test' });
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'sluice-exit-'));
  });

  after(async () => {
    await peer?.stop();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('import of a missing file exits 74 with FILE_NOT_FOUND and a fix line', async () => {
    const result = await runCli(['import', 'nothere.xml', '--data', dataDir]);
    assert.equal(result.code, EXIT.IO);
    assert.match(result.stderr, /^sluice: FILE_NOT_FOUND: nothere\.xml does not exist\n  what to do: /);
  });

  it('transform --format without --direction is a usage error (64)', async () => {
    const result = await runCli(['transform', '--format', 'cap', 'package.json']);
    assert.equal(result.code, EXIT.USAGE, result.stderr);
    assert.match(result.stderr, /--direction/);
  });

  it('repo add with a password the peer refuses exits 77 and stores nothing', async () => {
    const result = await runCli(['repo', 'add', 'peer', peer.url, '--user', ADMIN.user, '--password', 'wrong', '--yes', '--data', dataDir]);
    assert.equal(result.code, EXIT.NO_PERMISSION, result.stderr);
    assert.match(result.stderr, /PEER_AUTH_FAILED/);
  });

  it('repo add to a URL that answers 404 exits 69', async () => {
    const result = await runCli(['repo', 'add', 'peer', `${peer.url}/nothere`, '--user', ADMIN.user, '--password', ADMIN.password, '--yes', '--data', dataDir]);
    assert.equal(result.code, EXIT.UNAVAILABLE, result.stderr);
    assert.match(result.stderr, /HTTP 404/);
  });

  it('source add to an unreachable host exits 69', async () => {
    const result = await runCli(['source', 'add', 'haiti', 'http://127.0.0.1:1', '--type', 'ushahidi-v5', '--user', 'a', '--password', 'b', '--data', dataDir]);
    assert.equal(result.code, EXIT.UNAVAILABLE, result.stderr);
    assert.match(result.stderr, /UPSTREAM_UNREACHABLE/);
  });

  it('repo add without an answer on stdin is a usage error naming --yes; answered no it exits 1', async () => {
    const unanswered = await runCli(['repo', 'add', 'peer', peer.url, '--data', dataDir], { input: '' });
    assert.equal(unanswered.code, EXIT.USAGE);
    assert.match(unanswered.stderr, /NO_ANSWER: .*nothing was sent or stored\n  what to do: .*--yes/);
    const declined = await runCli(['repo', 'add', 'peer', peer.url, '--data', dataDir], { input: 'n\n' });
    assert.equal(declined.code, EXIT.DECLINED);
    assert.equal(EXIT.DECLINED, 1);
  });
});
