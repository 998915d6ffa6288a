import type { JobOutcome } from './protocol.js';
import { ProcessRunner } from './process-runner.js';
import { SandboxRunner } from '../sandbox/sandbox-runner.js';
import type { PoolJob } from './worker-pool.js';

/**
 * Jobs too big for the pooled threads: a record that alone exceeds the batch size cap, a whole
 * document whose heap estimate exceeds what a pooled thread is meant to hold. Each runs in a
 * process of its own (see process-runner.ts for why not a thread) whose heap ceiling is the
 * configured maximum, one at a time, so that however many big records arrive, the engine holds at
 * most one such heap on top of its pools. The process ends with the job, and its memory with it.
 */

const MIB = 1024 * 1024;

/**
 * Heap SaxonJS needs for a document dominated by one long text (measured on Node 20 / SaxonJS 2.7,
 * a record with one long field through the CSV export and mapping stylesheets: 5 MB needs
 * 65–128 MB, 20 MB 321–384 MB, 50 MB 897–1024 MB). Most of it is SaxonJS's string comparison,
 * which turns both strings into arrays of characters (`Array.from`) to look for astral ones:
 * ~16 bytes of heap per character compared. Documents of many small records need far less.
 */
const HEAP_BASE_MB = 32;
const HEAP_MB_PER_INPUT_MB = 20;

export function heapNeededMb(bytes: number): number {
  return Math.ceil(HEAP_BASE_MB + (HEAP_MB_PER_INPUT_MB * bytes) / MIB);
}

/**
 * Heap no stylesheet can do without: the decoded input and the serialized output are both whole
 * strings in the thread's heap. A record above this is refused without being tried; below it, it
 * is tried, since light stylesheets need far less than heapNeededMb says.
 */
export function heapFloorMb(bytes: number): number {
  return Math.ceil(HEAP_BASE_MB + (2 * bytes) / MIB);
}

/**
 * Extra time an oversized job gets on top of the time limit: SaxonJS takes about 0.5 s per MiB of
 * a long text (50 MB: 19–24 s), so a 30 s limit meant for runaway stylesheets would otherwise stop
 * a record that is merely big.
 */
const ALLOWANCE_MS_PER_MIB = 1_000;

export function oversizedTimeoutMs(timeoutMs: number, bytes: number): number {
  return timeoutMs + Math.ceil(bytes / MIB) * ALLOWANCE_MS_PER_MIB;
}

export interface OversizedLaneOptions {
  /** Heap ceiling of an oversized job's thread. */
  maxHeapMb: number;
  stackSizeMb: number;
}

export interface OversizedJob {
  job: PoolJob;
  sefText: string;
  timeoutMs: number;
  /** Set for untrusted stylesheets: the job runs under the permission model with these grants. */
  sandboxRoots?: string[];
}

/** Young generation of an oversized job's thread: big trees outlive a scavenge anyway. */
const OVERSIZED_YOUNG_GENERATION_MB = 16;

export class OversizedLane {
  private queue: Promise<unknown> = Promise.resolve();
  private current: ProcessRunner | undefined;
  private closed = false;

  constructor(private readonly options: OversizedLaneOptions) {}

  get maxHeapMb(): number {
    return this.options.maxHeapMb;
  }

  /** Runs after the oversized jobs already queued; never rejects. */
  run(request: OversizedJob): Promise<JobOutcome> {
    const outcome = this.queue.then(() => this.runAlone(request));
    this.queue = outcome;
    return outcome;
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.current?.close();
  }

  private async runAlone(request: OversizedJob): Promise<JobOutcome> {
    if (this.closed) return { id: 0, ok: false, kind: 'crashed', message: 'the transform engine is closed' };
    const pool = {
      size: 1,
      stackSizeMb: this.options.stackSizeMb,
      maxOldGenerationSizeMb: this.options.maxHeapMb,
      maxYoungGenerationSizeMb: OVERSIZED_YOUNG_GENERATION_MB,
    };
    const runner = request.sandboxRoots ? new SandboxRunner({ readDirectories: request.sandboxRoots, pool }) : new ProcessRunner({ pool });
    this.current = runner;
    try {
      return await runner.run(request.job, request.sefText, request.timeoutMs);
    } finally {
      this.current = undefined;
      await runner.close();
    }
  }
}
