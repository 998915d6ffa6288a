import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { permissionFlags, QUIET_WARNINGS } from '../compile/node-permissions.js';
import { nodeModulesDir, runningFromSource, transformDir, transformModuleUrl } from '../runtime-paths.js';
import type { FailureKind, JobOutcome } from './protocol.js';
import type { HostReply, HostRequest } from './process-host.js';
import type { PoolJob, WorkerPoolOptions } from './worker-pool.js';

/**
 * Runs transforms on a worker pool inside a separate Node process (`process-host`). Two reasons
 * to pay for a process rather than a thread:
 * - untrusted stylesheets: the process runs under Node's permission model (`permissions`), the
 *   only robust limit on what SaxonJS may read (see sandbox/sandbox-runner.ts);
 * - memory: a thread's heap limit is not a safe boundary. A large allocation that crosses it can
 *   abort the whole process instead of ending the thread with ERR_WORKER_OUT_OF_MEMORY
 *   (nodejs/node#47224; measured here: a 20 MB record in a thread with a 128 MB heap aborts the
 *   gateway). In a process of its own, that abort ends only the child, and is reported as
 *   `out-of-memory`.
 * A process serves many jobs and is started again when it dies; an idle one holds no event loop.
 */

export interface ProcessRunnerOptions {
  pool: WorkerPoolOptions;
  /** Run under the permission model, able to read only these folders (and its own code). */
  permissions?: { readDirectories: string[] };
}

interface Waiting {
  job: PoolJob;
  sefText: string;
  timeoutMs: number;
  resolve: (outcome: JobOutcome) => void;
}

interface Pending {
  request: Waiting;
  timer: NodeJS.Timeout;
  jobId: number;
}

interface ProcessFailure {
  kind: Extract<FailureKind, 'timeout' | 'crashed' | 'out-of-memory'>;
  message: string;
}

/** Time the child's own pool gets to report a timeout before the whole process is killed. */
const WATCHDOG_GRACE_MS = 5_000;
/** How long to wait, after the child exits, for the last of its stderr (the OOM report). */
const STDERR_DRAIN_MS = 500;
/** What V8 prints when a heap limit aborts the process. */
const OUT_OF_MEMORY_REPORT = /heap out of memory|Allocation failed/;

export class ProcessRunner {
  private child: ChildProcess | undefined;
  private readonly pending = new Map<number, Pending>();
  private readonly waiting: Waiting[] = [];
  private stylesheetsSent = new Set<string>();
  private nextRequestId = 1;
  private closing = false;

  constructor(private readonly options: ProcessRunnerOptions) {}

  /** Threads in the child process: how many jobs it runs at once. */
  get size(): number {
    return this.options.pool.size;
  }

  /** Runs one job; never rejects: every failure comes back as a JobFailure. */
  run(job: PoolJob, sefText: string, timeoutMs: number): Promise<JobOutcome> {
    if (this.closing) return Promise.resolve({ id: 0, ok: false, kind: 'crashed', message: 'the transform engine is closed' });
    return new Promise((resolve) => {
      this.waiting.push({ job, sefText, timeoutMs, resolve });
      this.dispatch();
    });
  }

  async close(): Promise<void> {
    this.closing = true;
    const child = this.child;
    if (!child) {
      this.failAll({ kind: 'crashed', message: 'the transform engine is closed' });
      return;
    }
    // Hold the event loop while waiting: an idle child is unreferenced, and without this a
    // process with nothing else to do would end mid-wait (exit 13, "unsettled top-level await").
    this.setReferenced(child, true);
    this.killChild(child, { kind: 'crashed', message: 'the transform engine is closed' });
    if (child.exitCode === null && child.signalCode === null) {
      await new Promise<void>((resolve) => child.once('exit', () => resolve()));
    }
  }

  /**
   * Sends at most one job per thread of the child, so every job sent starts at once and the
   * watchdog can time it from the moment it is sent.
   */
  private dispatch(): void {
    while (this.waiting.length > 0 && this.pending.size < this.size) {
      const next = this.waiting.shift()!;
      this.send(next, false);
    }
  }

  private send(request: Waiting, withStylesheet: boolean): void {
    const child = this.ensureChild();
    const requestId = this.nextRequestId++;
    const timer = setTimeout(() => {
      // The child did not answer even after its own deadline: it is wedged; start over.
      this.killChild(child, { kind: 'timeout', message: `the transform did not finish within ${request.timeoutMs} ms` });
    }, request.timeoutMs + WATCHDOG_GRACE_MS);
    this.pending.set(requestId, { request, timer, jobId: requestId });
    this.setReferenced(child, true);
    // The child keeps stylesheets it has seen; the SEF text crosses the process boundary once.
    const known = !withStylesheet && this.stylesheetsSent.has(request.job.stylesheetKey);
    this.stylesheetsSent.add(request.job.stylesheetKey);
    const message: HostRequest = { requestId, job: request.job, timeoutMs: request.timeoutMs, ...(known ? {} : { sefText: request.sefText }) };
    child.send(message);
  }

  private startFlags(): string[] {
    const permissions = this.options.permissions;
    if (!permissions) return runningFromSource ? ['--import', 'tsx'] : [];
    const codeDir = transformDir();
    const projectDir = path.dirname(nodeModulesDir());
    const flags = [
      QUIET_WARNINGS,
      ...permissionFlags({
        readDirectories: [
          nodeModulesDir(),
          codeDir,
          ...permissions.readDirectories,
          // tsx probes the upper-cased path to learn whether the file system is case-sensitive.
          ...(runningFromSource ? [codeDir.toUpperCase()] : []),
        ],
        // Node looks up package.json files to decide the module type of our .js/.ts files.
        readFiles: [path.join(projectDir, 'package.json'), path.join(projectDir, 'tsconfig.json')],
        workers: true,
        childProcesses: runningFromSource,
      }),
    ];
    if (runningFromSource) flags.push('--import', 'tsx');
    return flags;
  }

  private ensureChild(): ChildProcess {
    if (this.child) return this.child;
    const entry = fileURLToPath(transformModuleUrl('worker/process-host'));
    const child = spawn(process.execPath, [...this.startFlags(), entry, JSON.stringify(this.options.pool)], {
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
      serialization: 'advanced',
      cwd: transformDir(),
      // Nothing from the gateway's environment (secrets) reaches the child.
      env: runningFromSource ? { TSX_DISABLE_CACHE: '1' } : {},
    });
    let stderr = '';
    let stderrEnded = false;
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
      stderr = (stderr + chunk).slice(-4_000);
    });
    child.stderr?.on('end', () => {
      stderrEnded = true;
    });
    child.on('message', (reply: HostReply) => {
      const pending = this.pending.get(reply.requestId);
      if (!pending) return;
      this.pending.delete(reply.requestId);
      clearTimeout(pending.timer);
      if (!reply.outcome.ok && reply.outcome.kind === 'need-stylesheet') {
        this.send(pending.request, true);
        return;
      }
      if (this.pending.size === 0 && this.waiting.length === 0) this.setReferenced(child, false);
      pending.request.resolve(reply.outcome);
      this.dispatch();
    });
    child.on('exit', (code, signal) => {
      if (this.child !== child) return;
      this.child = undefined;
      // The jobs lost with this child; jobs sent meanwhile to its successor are not theirs to fail.
      const lost = [...this.pending.values()];
      this.pending.clear();
      for (const pending of lost) clearTimeout(pending.timer);
      // The OOM report may still be on its way through the pipe when 'exit' fires.
      const report = (): void => {
        const detail = stderr.trim().split('\n').slice(-3).join(' ');
        const outOfMemory = OUT_OF_MEMORY_REPORT.test(stderr);
        this.fail(lost, {
          kind: outOfMemory ? 'out-of-memory' : 'crashed',
          message: outOfMemory ? 'the transform ran out of memory' : `the transform process stopped (${signal ?? code})${detail ? `: ${detail}` : ''}`,
        });
      };
      if (stderrEnded || !child.stderr) report();
      else {
        const timer = setTimeout(report, STDERR_DRAIN_MS);
        child.stderr.once('end', () => {
          clearTimeout(timer);
          report();
        });
      }
    });
    child.on('error', () => {
      if (this.child === child) this.killChild(child, { kind: 'crashed', message: 'the transform process could not be started' });
    });
    this.child = child;
    this.stylesheetsSent = new Set();
    return child;
  }

  private setReferenced(child: ChildProcess, referenced: boolean): void {
    // An idle child must not keep a CLI process alive.
    const channel = child.channel as { ref?: () => void; unref?: () => void } | undefined;
    if (referenced) {
      child.ref();
      channel?.ref?.();
    } else {
      child.unref();
      channel?.unref?.();
    }
  }

  private killChild(child: ChildProcess, failure: ProcessFailure): void {
    if (this.child === child) this.child = undefined;
    child.kill('SIGKILL');
    this.failAll(failure);
  }

  /** Fails the jobs that were running in a child that is gone; waiting jobs go to a new one. */
  private failAll(failure: ProcessFailure): void {
    const lost = [...this.pending.values()];
    this.pending.clear();
    this.fail(lost, failure);
  }

  private fail(lost: Pending[], failure: ProcessFailure): void {
    for (const pending of lost) {
      clearTimeout(pending.timer);
      pending.request.resolve({ id: pending.jobId, ok: false, kind: failure.kind, message: failure.message });
    }
    if (this.closing) {
      for (const waiting of this.waiting.splice(0)) waiting.resolve({ id: 0, ok: false, kind: 'crashed', message: failure.message });
    } else this.dispatch();
  }
}
