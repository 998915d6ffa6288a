import { Worker } from 'node:worker_threads';
import { runningFromSource, transformModuleUrl } from '../runtime-paths.js';
import type { JobFailure, JobOutcome, TransformJob } from './protocol.js';

/**
 * A fixed set of worker threads running SaxonJS. SaxonJS is synchronous and CPU-bound, so a
 * transform on the main thread would stop the gateway from serving anything else; here each
 * transform has a thread, a deadline (the thread is terminated and replaced when it passes), a
 * larger stack than the main thread (deep template recursion) and an optional heap limit.
 */

export interface WorkerPoolOptions {
  size: number;
  stackSizeMb: number;
  maxOldGenerationSizeMb?: number;
  maxYoungGenerationSizeMb?: number;
  /** Remove network globals from the threads (untrusted stylesheets). */
  sandboxed?: boolean;
}

export type PoolJob = Omit<TransformJob, 'id' | 'sefText'>;

interface Assignment {
  job: TransformJob;
  sefText: string;
  timeoutMs: number;
  resolve: (outcome: JobOutcome) => void;
  timer?: NodeJS.Timeout;
  resent: boolean;
}

interface Slot {
  worker: Worker | undefined;
  loaded: Set<string>;
  current: Assignment | undefined;
}

const LOADER_FLAGS = new Set(['--import', '--require', '-r', '--loader', '--experimental-loader']);

export function withoutLoaders(flags: string[]): string[] {
  const kept: string[] = [];
  for (let i = 0; i < flags.length; i++) {
    const flag = flags[i]!;
    if (LOADER_FLAGS.has(flag)) {
      i++;
      continue;
    }
    if ([...LOADER_FLAGS].some((loader) => flag.startsWith(`${loader}=`))) continue;
    kept.push(flag);
  }
  return kept;
}

function startWorker(options: WorkerPoolOptions): Worker {
  const resourceLimits = {
    stackSizeMb: options.stackSizeMb,
    ...(options.maxOldGenerationSizeMb ? { maxOldGenerationSizeMb: options.maxOldGenerationSizeMb } : {}),
    ...(options.maxYoungGenerationSizeMb ? { maxYoungGenerationSizeMb: options.maxYoungGenerationSizeMb } : {}),
  };
  const workerData = { sandboxed: options.sandboxed ?? false };
  // Threads inherit the parent's flags except module loaders (an `--import tsx` would load a
  // TypeScript compiler into every thread for nothing). The permission flags must stay: a thread
  // started with other flags is outside Node's permission model.
  const shared = { resourceLimits, workerData, execArgv: withoutLoaders(process.execArgv) };
  const entry = transformModuleUrl('worker/transform-worker');
  if (!runningFromSource) return new Worker(entry, shared);
  // From TypeScript source, register tsx in the thread before loading the entry.
  const tsxApi = import.meta.resolve('tsx/esm/api');
  const bootstrap = `import(${JSON.stringify(tsxApi)}).then((api) => { api.register(); return import(${JSON.stringify(entry.href)}); })`;
  return new Worker(bootstrap, { ...shared, eval: true });
}

export class WorkerPool {
  private readonly slots: Slot[];
  private readonly queue: Assignment[] = [];
  private nextId = 1;
  private closed = false;

  constructor(private readonly options: WorkerPoolOptions) {
    this.slots = Array.from({ length: Math.max(1, options.size) }, () => ({ worker: undefined, loaded: new Set<string>(), current: undefined }));
  }

  get size(): number {
    return this.slots.length;
  }

  /** Runs one job; never rejects: every failure comes back as a JobFailure. */
  run(job: PoolJob, sefText: string, timeoutMs: number): Promise<JobOutcome> {
    if (this.closed) return Promise.resolve({ id: 0, ok: false, kind: 'crashed', message: 'the transform engine is closed' });
    return new Promise((resolve) => {
      this.queue.push({ job: { ...job, id: this.nextId++ }, sefText, timeoutMs, resolve, resent: false });
      this.dispatch();
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const waiting of this.queue.splice(0)) waiting.resolve(this.failure(waiting, 'crashed', 'the transform engine is closed'));
    await Promise.all(
      this.slots.map(async (slot) => {
        const worker = slot.worker;
        slot.worker = undefined;
        if (slot.current) this.finish(slot, this.failure(slot.current, 'crashed', 'the transform engine is closed'));
        if (worker) await worker.terminate();
      }),
    );
  }

  private failure(assignment: Assignment, kind: JobFailure['kind'], message: string): JobFailure {
    return { id: assignment.job.id, ok: false, kind, message };
  }

  private dispatch(): void {
    while (this.queue.length > 0) {
      const idle = this.slots.filter((slot) => !slot.current);
      if (idle.length === 0) return;
      const next = this.queue[0]!;
      // Prefer a thread that already holds the parsed stylesheet.
      const slot = idle.find((candidate) => candidate.loaded.has(next.job.stylesheetKey)) ?? idle[0]!;
      this.queue.shift();
      this.assign(slot, next);
    }
  }

  private ensureWorker(slot: Slot): Worker {
    if (slot.worker) return slot.worker;
    const worker = startWorker(this.options);
    slot.worker = worker;
    slot.loaded = new Set();
    worker.on('message', (outcome: JobOutcome) => this.onMessage(slot, worker, outcome));
    worker.on('error', (error: Error & { code?: string }) => {
      if (slot.worker !== worker) return;
      const outOfMemory = error.code === 'ERR_WORKER_OUT_OF_MEMORY';
      this.replace(slot, worker);
      if (slot.current) {
        this.finish(
          slot,
          this.failure(slot.current, outOfMemory ? 'out-of-memory' : 'crashed', outOfMemory ? 'the transform ran out of memory' : error.message),
        );
      }
    });
    worker.on('exit', () => {
      if (slot.worker !== worker) return;
      slot.worker = undefined;
      if (slot.current) this.finish(slot, this.failure(slot.current, 'crashed', 'the transform thread exited'));
    });
    return worker;
  }

  private assign(slot: Slot, assignment: Assignment): void {
    slot.current = assignment;
    const worker = this.ensureWorker(slot);
    worker.ref();
    const key = assignment.job.stylesheetKey;
    const message: TransformJob = slot.loaded.has(key) ? assignment.job : { ...assignment.job, sefText: assignment.sefText };
    slot.loaded.add(key);
    assignment.timer = setTimeout(() => {
      if (slot.current !== assignment) return;
      this.replace(slot, worker);
      this.finish(slot, this.failure(assignment, 'timeout', `the transform did not finish within ${assignment.timeoutMs} ms`));
    }, assignment.timeoutMs);
    worker.postMessage(message);
  }

  private onMessage(slot: Slot, worker: Worker, outcome: JobOutcome): void {
    const assignment = slot.current;
    if (slot.worker !== worker || !assignment || outcome.id !== assignment.job.id) return;
    if (!outcome.ok && outcome.kind === 'need-stylesheet' && !assignment.resent) {
      // The thread evicted this stylesheet from its cache; send the SEF along this time.
      assignment.resent = true;
      worker.postMessage({ ...assignment.job, sefText: assignment.sefText });
      return;
    }
    this.finish(slot, outcome);
  }

  /** Stops a thread that is stuck or broken; the next job on this slot starts a fresh one. */
  private replace(slot: Slot, worker: Worker): void {
    if (slot.worker === worker) slot.worker = undefined;
    slot.loaded = new Set();
    void worker.terminate();
  }

  private finish(slot: Slot, outcome: JobOutcome): void {
    const assignment = slot.current;
    if (!assignment) return;
    clearTimeout(assignment.timer);
    slot.current = undefined;
    // Idle threads must not keep a CLI process alive.
    slot.worker?.unref();
    assignment.resolve(outcome);
    this.dispatch();
  }
}
