/**
 * The worker's clock: every enabled job in the store is scheduled with node-schedule — a cron
 * expression as is, an interval as "next run = this run's start + interval". The job list is read
 * again periodically, so schedules added through the API or the CLI (possibly by another process)
 * are picked up. Running a job is the runner's business (it takes the job's lease, so two workers
 * on one store never run the same job at once); within this process a job never overlaps itself.
 *
 * With `tickHolder` (every gateway process does; sync-module.ts) several processes share the
 * schedule: the job's lease alone would let a second process run a tick again right after the
 * first finished, so each tick is claimed in the store first (lease.ts claimTick) and only the
 * claimant runs it. For that every process must agree which tick it is: interval ticks then sit on
 * a grid counted from the epoch (every 600 s at :00, :10, …) instead of from this process's start.
 */
import schedule from 'node-schedule';
import type { Logger } from '../logger.js';
import type { JobRecord, Store } from '../store/store.js';
import { claimTick } from './lease.js';

export interface SchedulerDeps {
  store: Store;
  logger: Logger;
  /** Runs one job to its end; failures are the job's own business (logged there). */
  runJob(job: JobRecord): Promise<void>;
  /** How often the job list is read again (default 30 s). */
  reloadMs?: number;
  now?: () => number;
  /** Claims each tick in the store under this holder id (several processes on one store). */
  tickHolder?: string;
}

/** How long after a tick a late process may still claim it: half the gap to the next tick, at most this. */
const MAX_CLAIM_WINDOW_MS = 5 * 60_000;

interface Scheduled {
  signature: string;
  job: JobRecord;
  handle: schedule.Job | undefined;
}

function signatureOf(job: JobRecord): string {
  return JSON.stringify([job.kind, job.target, job.cron ?? null, job.interval_seconds ?? null]);
}

export class JobScheduler {
  private readonly scheduled = new Map<string, Scheduled>();
  private readonly running = new Map<string, Promise<void>>();
  private reloadTimer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(private readonly deps: SchedulerDeps) {}

  private now(): number {
    return this.deps.now?.() ?? Date.now();
  }

  async start(): Promise<void> {
    await this.reload();
    this.reloadTimer = setInterval(() => {
      this.reload().catch((error: unknown) => this.deps.logger.error({ err: error }, 'reading the job list failed'));
    }, this.deps.reloadMs ?? 30_000);
    this.reloadTimer.unref();
  }

  /** Jobs currently scheduled, with their next run. */
  list(): { job: JobRecord; next: Date | undefined }[] {
    return [...this.scheduled.values()].map((entry) => {
      // node-schedule hands out cron-parser's CronDate for cron jobs; callers get a plain Date.
      const next = entry.handle?.nextInvocation();
      return { job: entry.job, next: next ? new Date(next.getTime()) : undefined };
    });
  }

  async reload(): Promise<void> {
    if (this.stopped) return;
    const jobs = (await this.deps.store.listJobs()).filter((job) => job.enabled);
    const wanted = new Set(jobs.map((job) => job.id));
    for (const [id, entry] of this.scheduled) {
      if (!wanted.has(id)) {
        entry.handle?.cancel();
        this.scheduled.delete(id);
      }
    }
    for (const job of jobs) {
      const signature = signatureOf(job);
      const current = this.scheduled.get(job.id);
      if (current?.signature === signature) {
        current.job = job;
        continue;
      }
      current?.handle?.cancel();
      const entry: Scheduled = { signature, job, handle: undefined };
      this.scheduled.set(job.id, entry);
      if (job.cron !== undefined) {
        entry.handle = schedule.scheduleJob(job.cron, (fireDate: Date) => this.fire(entry, fireDate)) ?? undefined;
        if (!entry.handle) this.deps.logger.warn({ job: job.id, cron: job.cron }, 'job has no next run; not scheduled');
      } else if (job.interval_seconds !== undefined) {
        this.scheduleNext(entry, this.now());
      }
    }
  }

  /** The next interval tick after `from`: one interval on, or the next grid point when ticks are shared. */
  private nextIntervalTick(intervalMs: number, from: number): number {
    if (this.deps.tickHolder === undefined) return from + intervalMs;
    return (Math.floor(from / intervalMs) + 1) * intervalMs;
  }

  private scheduleNext(entry: Scheduled, from: number): void {
    if (this.stopped || this.scheduled.get(entry.job.id) !== entry) return;
    const intervalMs = entry.job.interval_seconds! * 1000;
    const at = new Date(this.nextIntervalTick(intervalMs, from));
    const tick = () => {
      // From the tick, not from now: a late timer must not push the grid (and the next claim) along.
      this.scheduleNext(entry, this.deps.tickHolder === undefined ? this.now() : Math.max(at.getTime(), this.now()));
      this.fire(entry, at);
    };
    entry.handle = schedule.scheduleJob(at, tick) ?? undefined;
    if (entry.handle === undefined) {
      // node-schedule refuses a date that has already passed (it returns null), and a grid tick a few
      // milliseconds ahead passes before node-schedule looks whenever this process is descheduled
      // in between (a loaded machine). Left alone, the job would never be scheduled again; the tick
      // is due, so it runs now and schedules the one after it.
      setImmediate(() => {
        if (!this.stopped && this.scheduled.get(entry.job.id) === entry) tick();
      });
    }
  }

  /** The end of the window in which a tick may be claimed: half-way to the next tick. */
  private claimWindowEnd(entry: Scheduled, tick: number): number {
    const next = entry.job.interval_seconds !== undefined ? tick + entry.job.interval_seconds * 1000 : entry.handle?.nextInvocation()?.getTime();
    const gap = next !== undefined && next > tick ? next - tick : 2 * MAX_CLAIM_WINDOW_MS;
    return tick + Math.min(Math.floor(gap / 2), MAX_CLAIM_WINDOW_MS);
  }

  private fire(entry: Scheduled, fireDate?: Date): void {
    const { job } = entry;
    if (this.stopped || this.running.has(job.id)) return;
    const run = this.claim(entry, fireDate)
      .then((claimed) => (claimed ? this.deps.runJob(job) : undefined))
      .catch((error: unknown) => this.deps.logger.error({ err: error, job: job.id }, 'job failed'))
      .finally(() => this.running.delete(job.id));
    this.running.set(job.id, run);
  }

  /** True when this process is to run the tick (always, when ticks are not shared). */
  private async claim(entry: Scheduled, fireDate: Date | undefined): Promise<boolean> {
    const holder = this.deps.tickHolder;
    if (holder === undefined || fireDate === undefined) return true;
    const tick = fireDate.getTime();
    // Timers may fire a millisecond early; a run must not look as if it belonged to the tick before.
    const early = tick - this.now();
    if (early > 0) await new Promise((resolve) => setTimeout(resolve, early));
    const windowEnd = this.claimWindowEnd(entry, tick);
    const now = this.now();
    const at = new Date(tick).toISOString();
    if (now >= windowEnd) {
      this.deps.logger.warn({ job: entry.job.id, tick: at, late_ms: now - tick }, 'tick missed: this process fired too late to claim it');
      return false;
    }
    const claimed = await claimTick({ store: this.deps.store, holder, now }, entry.job.id, tick, windowEnd);
    if (!claimed) this.deps.logger.debug({ job: entry.job.id, tick: at }, 'tick taken by another process');
    return claimed;
  }

  /** Runs a job now, outside its schedule (waits for it). */
  async runNow(job: JobRecord): Promise<void> {
    const running = this.running.get(job.id);
    if (running) return running;
    const run = this.deps.runJob(job).finally(() => this.running.delete(job.id));
    this.running.set(job.id, run);
    return run;
  }

  /** Cancels every schedule and waits for the runs in progress to end. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.reloadTimer) clearInterval(this.reloadTimer);
    for (const entry of this.scheduled.values()) entry.handle?.cancel();
    this.scheduled.clear();
    await Promise.allSettled([...this.running.values()]);
  }
}
