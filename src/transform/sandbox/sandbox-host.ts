import type { JobOutcome } from '../worker/protocol.js';
import { WorkerPool, type PoolJob, type WorkerPoolOptions } from '../worker/worker-pool.js';

/**
 * Entry of the sandbox process: a Node process started under the permission model (it may read
 * only node_modules, its own code and the folders granted to the stylesheet, and write nothing)
 * that runs untrusted stylesheets on its own worker pool. The engine talks to it over IPC.
 */

export interface SandboxRequest {
  requestId: number;
  job: PoolJob;
  /** Sent the first time a stylesheet is used in this sandbox. */
  sefText?: string;
  timeoutMs: number;
}

export interface SandboxReply {
  requestId: number;
  outcome: JobOutcome;
}

if (!process.send) throw new Error('sandbox-host must be started with an IPC channel');

const poolOptions = JSON.parse(process.argv[2] ?? '{}') as WorkerPoolOptions;
const pool = new WorkerPool({ ...poolOptions, sandboxed: true });

const MAX_STYLESHEETS = 32;
const stylesheets = new Map<string, string>();

process.on('message', (request: SandboxRequest) => {
  const key = request.job.stylesheetKey;
  if (request.sefText !== undefined) {
    stylesheets.delete(key);
    stylesheets.set(key, request.sefText);
    if (stylesheets.size > MAX_STYLESHEETS) stylesheets.delete(stylesheets.keys().next().value!);
  }
  const sefText = stylesheets.get(key);
  const reply = (outcome: JobOutcome): void => {
    const message: SandboxReply = { requestId: request.requestId, outcome };
    process.send?.(message);
  };
  if (sefText === undefined) {
    reply({ id: 0, ok: false, kind: 'need-stylesheet', message: 'stylesheet not loaded' });
    return;
  }
  void pool.run(request.job, sefText, request.timeoutMs).then(reply);
});

process.on('disconnect', () => {
  void pool.close().finally(() => process.exit(0));
});
