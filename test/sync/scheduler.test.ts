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

describe('the job scheduler', () => {
  it('runs enabled cron jobs, never overlapping a run of the same job, and picks up changes on reload', async () => {
    const store = createMemoryStore();
    await store.putJob(job({ cron: '* * * * * *' }));
    await store.putJob(job({ id: 'sync:off', target: 'urn:uuid:off', cron: '* * * * * *', enabled: false }));
    const started: string[] = [];
    let active = 0;
    let overlapped = false;
    const scheduler = new JobScheduler({
      store,
      logger: silentLogger(),
      reloadMs: 60_000,
      async runJob(running) {
        started.push(running.id);
        active += 1;
        if (active > 1) overlapped = true;
        await sleep(1500);
        active -= 1;
      },
    });
    await scheduler.start();
    try {
      assert.deepEqual(scheduler.list().map((entry) => entry.job.id), ['sync:peer']);
      assert.ok(scheduler.list()[0]!.next instanceof Date);
      await sleep(2600);
      assert.ok(started.length >= 1 && started.length <= 2, `${started.length} runs`);
      assert.equal(overlapped, false);
      assert.ok(started.every((id) => id === 'sync:peer'));

      await store.deleteJob('sync:peer');
      await scheduler.reload();
      assert.deepEqual(scheduler.list(), []);
    } finally {
      await scheduler.stop();
    }
  });

  it('runs interval jobs again after their interval', async () => {
    const store = createMemoryStore();
    await store.putJob(job({ interval_seconds: 1 }));
    let runs = 0;
    const scheduler = new JobScheduler({ store, logger: silentLogger(), async runJob() { runs += 1; } });
    await scheduler.start();
    try {
      await sleep(2300);
    } finally {
      await scheduler.stop();
    }
    assert.equal(runs, 2);
  });

  it('refuses a cron expression without a next run', () => {
    assert.equal(checkCron('*/10 * * * *'), '*/10 * * * *');
    assert.throws(() => checkCron('every ten minutes'), (error: { code?: string }) => error.code === 'BAD_SCHEDULE');
  });
});
