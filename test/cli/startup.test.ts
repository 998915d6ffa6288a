/**
 * `sluice start` mistakes: a port in use and a data directory another gateway holds are refused
 * with a stable code, the exit code for bad configuration, and nothing left half-started.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { EXIT } from '../../src/cli/exit-codes.js';
import { loadConfig } from '../../src/config.js';
import { LOCK_FILE_NAME } from '../../src/data-dir-lock.js';
import { isSluiceError } from '../../src/errors.js';
import { silentLogger } from '../../src/logger.js';
import { startGateway } from '../../src/start.js';
import { runCli, spawnGateway, type GatewayProcess } from '../sync/support/gateways.js';

describe('sluice start refuses what another gateway holds', { timeout: 120_000 }, () => {
  let running: GatewayProcess;
  let otherDir: string;

  before(async () => {
    running = await spawnGateway({ name: 'first', domain: 'first.test' });
    otherDir = await mkdtemp(path.join(os.tmpdir(), 'sluice-second-'));
  });

  after(async () => {
    await running?.stop();
    await rm(otherDir, { recursive: true, force: true });
  });

  it('a second gateway on a port in use exits 78 with PORT_IN_USE, a fix naming --port, and no lock left behind', async () => {
    const port = new URL(running.url).port;
    const second = await runCli(['start', '--data', otherDir, '--host', '127.0.0.1', '--port', port, '--no-worker']);
    assert.equal(second.code, EXIT.CONFIG, second.stderr);
    assert.match(second.stderr, new RegExp(`^sluice: PORT_IN_USE: port ${port} on 127\\.0\\.0\\.1 is in use\\n`));
    assert.match(second.stderr, /what to do: .*--port/);
    assert.doesNotMatch(second.stderr, /INTERNAL_ERROR/);
    assert.equal(existsSync(path.join(otherDir, LOCK_FILE_NAME)), false, 'the lock was released');
  });

  it('a second gateway on the same data directory exits 78 with DATA_DIR_IN_USE and never listens', async () => {
    const second = await runCli(['start', '--data', running.dataDir, '--host', '127.0.0.1', '--port', '0', '--no-worker']);
    assert.equal(second.code, EXIT.CONFIG, second.stderr);
    assert.match(second.stderr, new RegExp(`DATA_DIR_IN_USE: the data directory .* is in use by another gateway \\(pid ${running.child.pid}`));
    assert.match(second.stderr, /what to do: Stop the other gateway .*--data/);
    assert.doesNotMatch(second.stdout, /listening on/);
    assert.ok(existsSync(path.join(running.dataDir, LOCK_FILE_NAME)), 'the first gateway keeps its lock');
  });
});

describe('startGateway on a port in use', () => {
  let blocker: Server;
  let dir: string;

  before(async () => {
    blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    dir = await mkdtemp(path.join(os.tmpdir(), 'sluice-port-'));
  });

  after(async () => {
    await new Promise((resolve) => blocker.close(resolve));
    await rm(dir, { recursive: true, force: true });
  });

  it('throws PORT_IN_USE and closes what it opened, so the same directory starts at once on another port', async () => {
    const port = (blocker.address() as { port: number }).port;
    const env = { SLUICE_ADMIN_PASSWORD: 'a password long enough' };
    const config = loadConfig({ host: '127.0.0.1', port, data: dir, worker: false, discovery: false }, env);
    const failure = await startGateway(config, { logger: silentLogger(), print: () => undefined }).then(
      () => assert.fail('the gateway started on a port in use'),
      (error: unknown) => error,
    );
    assert.ok(isSluiceError(failure) && failure.code === 'PORT_IN_USE', String(failure));
    assert.equal(existsSync(path.join(dir, LOCK_FILE_NAME)), false);

    const retry = await startGateway({ ...config, port: 0 }, { logger: silentLogger(), print: () => undefined });
    try {
      assert.match(retry.url, /^http:\/\/127\.0\.0\.1:\d+$/);
    } finally {
      await retry.close();
    }
  });
});
