/**
 * Schedules as typed on the command line: `--every` in seconds or with a unit, `--cron` with five
 * or six fields only (node-schedule would read four fields as seconds-first and run hourly jobs).
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parseDuration } from '../../src/cli/durations.js';
import { EXIT } from '../../src/cli/exit-codes.js';
import { isSluiceError } from '../../src/errors.js';
import { openSqliteStore } from '../../src/store/sqlite-store.js';
import { checkCron } from '../../src/sync/task-registry.js';
import { runCli } from '../sync/support/gateways.js';

describe('parseDuration', () => {
  it('reads plain seconds and the s, m, h and d units', () => {
    assert.deepEqual(['90', '90s', '10m', '2h', '1d', ' 10M '].map((text) => parseDuration(text, '--every')), [90, 90, 600, 7200, 86_400, 600]);
  });

  it('refuses other forms and lists the accepted ones in the fix', () => {
    for (const text of ['10x', '1.5h', '-5', 'ten', '', '10 min']) {
      assert.throws(
        () => parseDuration(text, '--every'),
        (error: unknown) => isSluiceError(error) && error.code === 'CLI_BAD_OPTION' && /90s .*10m .*2h .*1d/.test(error.fix ?? ''),
        text,
      );
    }
  });

  it('refuses 0 with a true message unless 0 means "no schedule" for that option', () => {
    assert.throws(() => parseDuration('0', '--every'), (error: unknown) => isSluiceError(error) && /without pause/.test(error.message) && /--disable/.test(error.fix ?? ''));
    assert.equal(parseDuration('0', '--every', { allowZero: true }), 0);
  });
});

describe('checkCron', () => {
  it('accepts five and six fields', () => {
    assert.equal(checkCron('*/10 * * * *'), '*/10 * * * *');
    assert.equal(checkCron('0 */10 * * * *'), '0 */10 * * * *');
  });

  it('refuses four or seven fields, saying how many it saw', () => {
    for (const cron of ['*/10 * * *', '* * * * * * *', '*']) {
      assert.throws(() => checkCron(cron), (error: unknown) => isSluiceError(error) && error.code === 'BAD_SCHEDULE' && /has \d+ fields?; a cron expression has five/.test(error.message), cron);
    }
  });
});

describe('sluice repo schedule', { timeout: 60_000 }, () => {
  let dataDir: string;

  before(async () => {
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'sluice-schedule-'));
    const store = await openSqliteStore({ file: path.join(dataDir, 'sluice.db') });
    try {
      await store.putRepository({ uuid: 'urn:uuid:peer', name: 'peer', apitype: 'eden', url: 'http://127.0.0.1:1', created_at: '2024-01-01T00:00:00', updated_at: '2024-01-01T00:00:00', config: {} });
    } finally {
      await store.close();
    }
  });
  after(() => rm(dataDir, { recursive: true, force: true }));

  it('takes --every 10m as 600 seconds and refuses a four-field --cron with exit 64', async () => {
    const every = await runCli(['repo', 'schedule', 'peer', '--every', '10m', '--data', dataDir]);
    assert.equal(every.code, 0, every.stderr);
    assert.equal(every.stdout, 'peer: every 600 s\n');
    const cron = await runCli(['repo', 'schedule', 'peer', '--cron', '*/10 * * *', '--data', dataDir]);
    assert.equal(cron.code, EXIT.USAGE);
    assert.match(cron.stderr, /BAD_SCHEDULE: "\*\/10 \* \* \*" has 4 fields/);
  });
});
