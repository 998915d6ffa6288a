import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, it } from 'node:test';
import { silentLogger } from '../../src/logger.js';
import type { JobRecord } from '../../src/store/store.js';
import { JobScheduler } from '../../src/sync/scheduler.js';
import { checkCron } from '../../src/sync/task-registry.js';
import { createMemoryStore } from '../support/memory-store.js';

function job(overrides: Partial<JobRecord>): JobRecord {
  return { id: 'sync:peer', kind: 'sync', target: 'urn:uuid:peer', enabled: true, created_at: '2024-03-01T00:00:00', updated_at: '2024-03-01T00:00:00', ...overrides };
}

/**
 * Polls `check` until it holds. The deadline only bounds a failing test: on a loaded machine
 * timers fire late, so no assertion here depends on how much time has passed.
 */
async function waitUntil(what: string, check: () => boolean, ms = 15_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting until ${what}`);
    await sleep(10);
  }
}

describe('the job scheduler', () => {
  it('runs enabled cron jobs, never overlapping a run of the same job, and picks up changes on reload', async () => {
    const store = createMemoryStore();
    await store.putJob(job({ cron: '* * * * * *' }));
    await store.putJob(job({ id: 'sync:off', target: 'urn:uuid:off', cron: '* * * * * *', enabled: false }));
    const started: { id: string; at: number }[] = [];
    let active = 0;
    let overlapped = false;
    let finishRun = () => {};
    const scheduler = new JobScheduler({
      store,
      logger: silentLogger(),
      reloadMs: 60_000,
      async runJob(running) {
        started.push({ id: running.id, at: Date.now() });
        active += 1;
        if (active > 1) overlapped = true;
        // The run lasts until the test ends it, whatever the load does to the timers.
        await new Promise<void>((resolve) => (finishRun = resolve));
        active -= 1;
      },
    });
    await scheduler.start();
    try {
      assert.deepEqual(scheduler.list().map((entry) => entry.job.id), ['sync:peer']);
      assert.ok(scheduler.list()[0]!.next instanceof Date);
      await waitUntil('the first run started', () => started.length === 1);
      const firstStart = started[0]!.at;
      // A tick fires while the first run is still going (node-schedule moves `next` on as it fires).
      await waitUntil('the next tick came due', () => (scheduler.list()[0]?.next?.getTime() ?? 0) > firstStart + 1000);
      assert.equal(started.length, 1, 'ticks that come due while the job runs are skipped');
      finishRun();
      await waitUntil('a later tick started the job again', () => started.length === 2);
      assert.equal(overlapped, false);
      assert.ok(started.every((entry) => entry.id === 'sync:peer'));
      finishRun();

      await store.deleteJob('sync:peer');
      await scheduler.reload();
      assert.deepEqual(scheduler.list(), []);
    } finally {
      finishRun();
      await scheduler.stop();
    }
  });

  it('runs interval jobs again after their interval', async () => {
    const store = createMemoryStore();
    await store.putJob(job({ interval_seconds: 1 }));
    const runs: number[] = [];
    const scheduler = new JobScheduler({ store, logger: silentLogger(), async runJob() { runs.push(Date.now()); } });
    await scheduler.start();
    try {
      await waitUntil('the job ran twice', () => runs.length >= 2);
    } finally {
      await scheduler.stop();
    }
    // Timers may fire a millisecond early, never a whole interval.
    assert.ok(runs[1]! - runs[0]! >= 990, `${runs[1]! - runs[0]!} ms between runs`);
  });

  it('keeps an interval job on its schedule when its next tick passed before the tick could be set (a loaded machine)', async () => {
    const store = createMemoryStore();
    await store.putJob(job({ interval_seconds: 1 }));
    let runs = 0;
    const scheduler = new JobScheduler({
      store,
      logger: silentLogger(),
      tickHolder: 'host:1:a',
      // A clock read just before the second turned (as when the process is descheduled between
      // reading it and setting the timer): the grid tick it computes has passed by the time it is set.
      now: () => Math.floor(Date.now() / 1000) * 1000 - 1,
      async runJob() {
        runs += 1;
      },
    });
    await scheduler.start();
    try {
      await waitUntil('the job ran on two ticks', () => runs >= 2);
    } finally {
      await scheduler.stop();
    }
    assert.ok(runs >= 2);
  });

  it('refuses a cron expression without a next run', () => {
    assert.equal(checkCron('*/10 * * * *'), '*/10 * * * *');
    assert.throws(() => checkCron('every ten minutes'), (error: { code?: string }) => error.code === 'BAD_SCHEDULE');
  });
});
