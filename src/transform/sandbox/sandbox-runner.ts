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

interface Pending {
  resolve: (outcome: JobOutcome) => void;
  timer: NodeJS.Timeout;
  jobId: number;
}

/** Time the sandbox's own pool gets to report a timeout before the whole process is killed. */
const WATCHDOG_GRACE_MS = 5_000;

export class SandboxRunner {
  private child: ChildProcess | undefined;
  private readonly pending = new Map<number, Pending>();
  private nextRequestId = 1;

  constructor(private readonly options: SandboxRunnerOptions) {}

  /** Threads in the sandbox process: how many jobs it runs at once. */
  get size(): number {
    return this.options.pool.size;
  }

  run(job: PoolJob, sefText: string, timeoutMs: number): Promise<JobOutcome> {
    const child = this.ensureChild();
    const requestId = this.nextRequestId++;
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        // The sandbox did not answer even after its own deadline: it is wedged; start over.
        this.killChild(child, { kind: 'timeout', message: `the transform did not finish within ${timeoutMs} ms` });
      }, timeoutMs + WATCHDOG_GRACE_MS);
      this.pending.set(requestId, { resolve, timer, jobId: requestId });
      this.setReferenced(child, true);
      const request: SandboxRequest = { requestId, job, sefText, timeoutMs };
      child.send(request);
    });
  }

  async close(): Promise<void> {
    const child = this.child;
    if (!child) return;
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
      if (this.pending.size === 0) this.setReferenced(child, false);
      pending.resolve(reply.outcome);
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

  private failAll(failure: { kind: 'timeout' | 'crashed'; message: string }): void {
    for (const [requestId, pending] of this.pending) {
      clearTimeout(pending.timer);
      pending.resolve({ id: pending.jobId, ok: false, kind: failure.kind, message: failure.message });
      this.pending.delete(requestId);
    }
  }
}
