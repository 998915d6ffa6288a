/**
 * The schedule shared by several processes on one store, without processes: tick claims
 * (src/sync/lease.ts claimTick) and schedulers that claim each tick before running it.
 */
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, it } from 'node:test';
import { silentLogger } from '../../src/logger.js';
import type { JobRecord } from '../../src/store/store.js';
import { claimTick } from '../../src/sync/lease.js';
import { JobScheduler } from '../../src/sync/scheduler.js';
import { createMemoryStore } from '../support/memory-store.js';

function job(overrides: Partial<JobRecord> = {}): JobRecord {
  return { id: 'sync:peer', kind: 'sync', target: 'urn:uuid:peer', enabled: true, created_at: '2024-03-01T00:00:00', updated_at: '2024-03-01T00:00:00', ...overrides };
}

describe('tick claims', () => {
  it('give each tick of a job to the first process that claims it, and the next tick to whoever claims it first', async () => {
    const store = createMemoryStore();
    const tick = 1_700_000_000_000;
    const windowEnd = tick + 30_000;
    assert.equal(await claimTick({ store, holder: 'host:1:a', now: tick + 5 }, 'sync:peer', tick, windowEnd), true);
    assert.equal(await claimTick({ store, holder: 'host:2:b', now: tick + 20 }, 'sync:peer', tick, windowEnd), false, 'a slower process stands back');
    assert.equal(await claimTick({ store, holder: 'host:1:a', now: tick + 29_999 }, 'sync:peer', tick, windowEnd), true, 'the claimant keeps its own claim');
    assert.equal(await claimTick({ store, holder: 'host:2:b', now: tick + 29_999 }, 'sync:other', tick, windowEnd), true, 'claims are per job');
    const next = tick + 60_000;
    assert.equal(await claimTick({ store, holder: 'host:2:b', now: next + 3 }, 'sync:peer', next, next + 30_000), true);
    assert.equal(await claimTick({ store, holder: 'host:1:a', now: next + 4 }, 'sync:peer', next, next + 30_000), false, 'holding the last tick does not cover the next');
  });

  it('are refused once the tick\'s window is over, so a late process cannot run a tick a second time', async () => {
    const store = createMemoryStore();
    const tick = 1_700_000_000_000;
    assert.equal(await claimTick({ store, holder: 'host:1:a', now: tick + 30_000 }, 'sync:peer', tick, tick + 30_000), false);
    assert.equal(await store.getLease('schedule:sync:peer'), undefined, 'nothing was written');
  });
});

describe('schedulers sharing one store', () => {
  it('run each tick of an interval job once between them, on a grid every process agrees on', async () => {
    const store = createMemoryStore();
    await store.putJob(job({ interval_seconds: 1 }));
    const runs: { process: number; at: number }[] = [];
    const schedulers = [1, 2, 3].map(
      (process) =>
        new JobScheduler({
          store,
          logger: silentLogger(),
          reloadMs: 60_000,
          tickHolder: `host:${process}:x`,
          async runJob() {
            runs.push({ process, at: Date.now() });
          },
        }),
    );
    await Promise.all(schedulers.map((scheduler) => scheduler.start()));
    try {
      const next = schedulers.map((scheduler) => scheduler.list()[0]!.next!.getTime());
      assert.equal(new Set(next).size, 1, 'every process has the same next tick');
      assert.equal(next[0]! % 1000, 0, 'on the grid of whole intervals');
      await sleep(3300);
    } finally {
      await Promise.all(schedulers.map((scheduler) => scheduler.stop()));
    }
    const ticks = runs.map((run) => Math.floor(run.at / 1000));
    assert.ok(runs.length >= 3, `${runs.length} runs in 3.3 s`);
    assert.equal(new Set(ticks).size, runs.length, `one run per tick: ${JSON.stringify(runs)}`);
  });

  it('without a tick holder keep the old behaviour: one interval after this process\'s start', async () => {
    const store = createMemoryStore();
    await store.putJob(job({ interval_seconds: 7 }));
    const scheduler = new JobScheduler({ store, logger: silentLogger(), reloadMs: 60_000, async runJob() {} });
    const before = Date.now();
    await scheduler.start();
    try {
      const next = scheduler.list()[0]!.next!.getTime();
      assert.ok(next >= before + 7000 && next <= Date.now() + 7000, `next run ${next - before} ms after start`);
    } finally {
      await scheduler.stop();
    }
  });
});
