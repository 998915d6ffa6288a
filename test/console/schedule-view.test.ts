import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { describeSchedule, nextRun } from '../../src/console/schedule-view.js';
import type { JobRecord, RunRecord } from '../../src/store/store.js';

const job = (overrides: Partial<JobRecord>): JobRecord => ({
  id: 'sync:peer',
  kind: 'sync',
  target: 'peer',
  enabled: true,
  created_at: '2024-05-01T00:00:00',
  updated_at: '2024-05-01T00:00:00',
  ...overrides,
});

const run = (started: string): RunRecord => ({ id: 'r', kind: 'sync', trigger: 'schedule', status: 'success', started_at: started, counts: {}, bytes_in: 0, bytes_out: 0, captures: [] });

describe('how a schedule reads', () => {
  it('says every so often, or the cron expression, and when it is paused', () => {
    assert.equal(describeSchedule(undefined), 'not scheduled');
    assert.equal(describeSchedule(job({ interval_seconds: 600 })), 'every 10 min');
    assert.equal(describeSchedule(job({ interval_seconds: 7200 })), 'every 2 h');
    assert.equal(describeSchedule(job({ interval_seconds: 45 })), 'every 45 s');
    assert.equal(describeSchedule(job({ cron: '*/5 * * * *', enabled: false })), 'cron */5 * * * * (paused)');
  });

  it('runs an interval job its interval after the last scheduled run started', () => {
    const now = new Date('2024-05-01T10:05:00Z');
    assert.equal(nextRun(job({ interval_seconds: 600 }), run('2024-05-01T10:00:00'), now)?.toISOString(), '2024-05-01T10:10:00.000Z');
  });

  it('does not promise a run in the past when turns were missed', () => {
    const now = new Date('2024-05-01T10:37:00Z');
    assert.equal(nextRun(job({ interval_seconds: 600 }), run('2024-05-01T10:00:00'), now)?.toISOString(), '2024-05-01T10:40:00.000Z');
  });

  it('finds the next time of a cron job and nothing for a paused one', () => {
    const next = nextRun(job({ cron: '0 3 * * *' }), undefined, new Date());
    assert.ok(next);
    assert.equal(next.getMinutes(), 0);
    assert.equal(next.getHours(), 3);
    assert.ok(next.getTime() > Date.now());
    assert.equal(nextRun(job({ interval_seconds: 60, enabled: false }), undefined, new Date()), undefined);
  });
});
