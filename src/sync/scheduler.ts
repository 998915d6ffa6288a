/**
 * The worker's clock: every enabled job in the store is scheduled with node-schedule — a cron
 * expression as is, an interval as "next run = this run's start + interval". The job list is read
 * again periodically, so schedules added through the API or the CLI (possibly by another process)
 * are picked up. Running a job is the runner's business (it takes the job's lease, so two workers
 * on one store never run the same job at once); within this process a job never overlaps itself.
 */
import schedule from 'node-schedule';
import type { Logger } from '../logger.js';
import type { JobRecord, Store } from '../store/store.js';

export interface SchedulerDeps {
  store: Store;
  logger: Logger;
  /** Runs one job to its end; failures are the job's own business (logged there). */
  runJob(job: JobRecord): Promise<void>;
  /** How often the job list is read again (default 30 s). */
  reloadMs?: number;
  now?: () => number;
}

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
        entry.handle = schedule.scheduleJob(job.cron, () => this.fire(entry)) ?? undefined;
        if (!entry.handle) this.deps.logger.warn({ job: job.id, cron: job.cron }, 'job has no next run; not scheduled');
      } else if (job.interval_seconds !== undefined) {
        this.scheduleNext(entry, this.now());
      }
    }
  }

  private scheduleNext(entry: Scheduled, from: number): void {
    if (this.stopped || this.scheduled.get(entry.job.id) !== entry) return;
    const at = new Date(from + entry.job.interval_seconds! * 1000);
    entry.handle = schedule.scheduleJob(at, () => {
      this.scheduleNext(entry, this.now());
      this.fire(entry);
    }) ?? undefined;
  }

  private fire(entry: Scheduled): void {
    const { job } = entry;
    if (this.stopped || this.running.has(job.id)) return;
    const run = this.deps
      .runJob(job)
      .catch((error: unknown) => this.deps.logger.error({ err: error, job: job.id }, 'job failed'))
      .finally(() => this.running.delete(job.id));
    this.running.set(job.id, run);
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
