import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { permissionFlags, QUIET_WARNINGS } from '../compile/node-permissions.js';
import { nodeModulesDir, runningFromSource, transformDir, transformModuleUrl } from '../runtime-paths.js';
import type { JobOutcome } from '../worker/protocol.js';
import type { PoolJob, WorkerPoolOptions } from '../worker/worker-pool.js';
import type { SandboxReply, SandboxRequest } from './sandbox-host.js';

/**
 * Runs untrusted stylesheets in a separate Node process under the permission model. SaxonJS
 * reads any `file:` URI it is given and has no resolver hook, so the only robust limit is the
 * operating-system level one: that process may read node_modules, the engine's own code and the
 * granted folders, and may write nothing. One process serves every stylesheet with the same
 * grants and is reused across requests (starting one costs about half a second).
 */

export interface SandboxRunnerOptions {
  /** Folders the stylesheet may read (its own folder, configured folders). */
  readDirectories: string[];
  pool: WorkerPoolOptions;
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

/** Time the sandbox's own pool gets to report a timeout before the whole process is killed. */
const WATCHDOG_GRACE_MS = 5_000;

export class SandboxRunner {
  private child: ChildProcess | undefined;
  private readonly pending = new Map<number, Pending>();
  private readonly waiting: Waiting[] = [];
  private stylesheetsSent = new Set<string>();
  private nextRequestId = 1;
  private closing = false;

  constructor(private readonly options: SandboxRunnerOptions) {}

  /** Threads in the sandbox process: how many jobs it runs at once. */
  get size(): number {
    return this.options.pool.size;
  }

  run(job: PoolJob, sefText: string, timeoutMs: number): Promise<JobOutcome> {
    return new Promise((resolve) => {
      this.waiting.push({ job, sefText, timeoutMs, resolve });
      this.dispatch();
    });
  }

  /**
   * Sends at most one job per sandbox thread, so every job sent starts at once and the watchdog
   * can time it from the moment it is sent.
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
      // The sandbox did not answer even after its own deadline: it is wedged; start over.
      this.killChild(child, { kind: 'timeout', message: `the transform did not finish within ${request.timeoutMs} ms` });
    }, request.timeoutMs + WATCHDOG_GRACE_MS);
    this.pending.set(requestId, { request, timer, jobId: requestId });
    this.setReferenced(child, true);
    // The sandbox keeps stylesheets it has seen; the SEF text crosses the process boundary once.
    const known = !withStylesheet && this.stylesheetsSent.has(request.job.stylesheetKey);
    this.stylesheetsSent.add(request.job.stylesheetKey);
    const message: SandboxRequest = { requestId, job: request.job, timeoutMs: request.timeoutMs, ...(known ? {} : { sefText: request.sefText }) };
    child.send(message);
  }

  async close(): Promise<void> {
    this.closing = true;
    const child = this.child;
    if (!child) {
      this.failAll({ kind: 'crashed', message: 'the transform engine is closed' });
      return;
    }
    // Hold the event loop while waiting: an idle sandbox is unreferenced, and without this a
    // process with nothing else to do would end mid-wait (exit 13, "unsettled top-level await").
    this.setReferenced(child, true);
    this.killChild(child, { kind: 'crashed', message: 'the transform engine is closed' });
    if (child.exitCode === null && child.signalCode === null) {
      await new Promise<void>((resolve) => child.once('exit', () => resolve()));
    }
  }

  private ensureChild(): ChildProcess {
    if (this.child) return this.child;
    const codeDir = transformDir();
    const projectDir = path.dirname(nodeModulesDir());
    const flags = [
      QUIET_WARNINGS,
      ...permissionFlags({
        readDirectories: [
          nodeModulesDir(),
          codeDir,
          ...this.options.readDirectories,
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
    const entry = fileURLToPath(transformModuleUrl('sandbox/sandbox-host'));
    const child = spawn(process.execPath, [...flags, entry, JSON.stringify(this.options.pool)], {
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
      serialization: 'advanced',
      cwd: codeDir,
      // Nothing from the gateway's environment (secrets) reaches the sandbox.
      env: runningFromSource ? { TSX_DISABLE_CACHE: '1' } : {},
    });
    let stderr = '';
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
      stderr = (stderr + chunk).slice(-4_000);
    });
    child.on('message', (reply: SandboxReply) => {
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
      const detail = stderr.trim().split('\n').slice(-3).join(' ');
      this.failAll({ kind: 'crashed', message: `the sandbox process stopped (${signal ?? code})${detail ? `: ${detail}` : ''}` });
    });
    child.on('error', () => {
      if (this.child === child) this.killChild(child, { kind: 'crashed', message: 'the sandbox process could not be started' });
    });
    this.child = child;
    this.stylesheetsSent = new Set();
    return child;
  }

  private setReferenced(child: ChildProcess, referenced: boolean): void {
    // An idle sandbox must not keep a CLI process alive.
    const channel = child.channel as { ref?: () => void; unref?: () => void } | undefined;
    if (referenced) {
      child.ref();
      channel?.ref?.();
    } else {
      child.unref();
      channel?.unref?.();
    }
  }

  private killChild(child: ChildProcess, failure: { kind: 'timeout' | 'crashed'; message: string }): void {
    if (this.child === child) this.child = undefined;
    child.kill('SIGKILL');
    this.failAll(failure);
  }

  /** Fails the jobs that were running in a sandbox that is gone; waiting jobs go to a new one. */
  private failAll(failure: { kind: 'timeout' | 'crashed'; message: string }): void {
    for (const [requestId, pending] of this.pending) {
      clearTimeout(pending.timer);
      pending.request.resolve({ id: pending.jobId, ok: false, kind: failure.kind, message: failure.message });
      this.pending.delete(requestId);
    }
    if (this.closing) {
      for (const waiting of this.waiting.splice(0)) waiting.resolve({ id: 0, ok: false, kind: 'crashed', message: failure.message });
    } else this.dispatch();
  }
}
