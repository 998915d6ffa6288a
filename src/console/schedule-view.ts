/**
 * How a repository's schedule reads on a page: "every 10 min" or the cron expression, and when it
 * runs next. An interval job runs again its interval after its last run started (that is how the
 * scheduler counts); a cron job at the expression's next time.
 */
import schedule from 'node-schedule';
import type { JobRecord, RunRecord } from '../store/store.js';

export function describeSchedule(job: JobRecord | undefined): string {
  if (!job) return 'not scheduled';
  const what = job.cron !== undefined ? `cron ${job.cron}` : `every ${describeSeconds(job.interval_seconds ?? 0)}`;
  return job.enabled ? what : `${what} (paused)`;
}

export function describeSeconds(seconds: number): string {
  if (seconds % 86400 === 0) return `${seconds / 86400} d`;
  if (seconds % 3600 === 0) return `${seconds / 3600} h`;
  if (seconds % 60 === 0) return `${seconds / 60} min`;
  return `${seconds} s`;
}

const cronCache = new Map<string, { at: number; next: Date | undefined }>();

/** The next time a cron expression fires after `now` (node-schedule's own reading of it). */
function nextCron(cron: string, now: Date): Date | undefined {
  const cached = cronCache.get(cron);
  if (cached && cached.next && cached.next.getTime() > now.getTime() && now.getTime() - cached.at < 60_000) return cached.next;
  const probe = schedule.scheduleJob(cron, () => undefined);
  const next = probe?.nextInvocation() ?? undefined;
  probe?.cancel();
  if (cronCache.size > 500) cronCache.clear();
  cronCache.set(cron, { at: now.getTime(), next: next ? new Date(next.getTime()) : undefined });
  return next ? new Date(next.getTime()) : undefined;
}

/** When the job runs next; undefined when it is paused or cannot run. */
export function nextRun(job: JobRecord | undefined, lastScheduledRun: RunRecord | undefined, now: Date): Date | undefined {
  if (!job || !job.enabled) return undefined;
  if (job.cron !== undefined) return nextCron(job.cron, now);
  if (job.interval_seconds === undefined) return undefined;
  const started = lastScheduledRun ? Date.parse(`${lastScheduledRun.started_at}Z`) : Number.NaN;
  const interval = job.interval_seconds * 1000;
  if (Number.isNaN(started)) return new Date(now.getTime() + interval);
  let next = started + interval;
  // Missed turns (the worker was down) are not run twice: the next one counts from now.
  if (next < now.getTime()) next = now.getTime() + ((interval - ((now.getTime() - started) % interval)) % interval || interval);
  return new Date(next);
}

export function timestampOf(date: Date): string {
  return date.toISOString().slice(0, 19);
}
