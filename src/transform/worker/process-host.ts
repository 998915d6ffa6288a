import type { JobOutcome } from './protocol.js';
import { WorkerPool, type PoolJob, type WorkerPoolOptions } from './worker-pool.js';

/**
 * Entry of a transform process (see process-runner.ts): a Node process running jobs on its own
 * worker pool, talking to the engine over IPC. For untrusted stylesheets it is started under the
 * permission model (it may read only node_modules, its own code and the granted folders, and
 * write nothing) and its threads are sandboxed.
 */

export interface HostRequest {
  requestId: number;
  job: PoolJob;
  /** Sent the first time a stylesheet is used in this process. */
  sefText?: string;
  timeoutMs: number;
}

export interface HostReply {
  requestId: number;
  outcome: JobOutcome;
}

if (!process.send) throw new Error('process-host must be started with an IPC channel');

const poolOptions = JSON.parse(process.argv[2] ?? '{}') as WorkerPoolOptions;
const pool = new WorkerPool(poolOptions);

const MAX_STYLESHEETS = 32;
const stylesheets = new Map<string, string>();

process.on('message', (request: HostRequest) => {
  const key = request.job.stylesheetKey;
  if (request.sefText !== undefined) {
    stylesheets.delete(key);
    stylesheets.set(key, request.sefText);
    if (stylesheets.size > MAX_STYLESHEETS) stylesheets.delete(stylesheets.keys().next().value!);
  }
  const sefText = stylesheets.get(key);
  const reply = (outcome: JobOutcome): void => {
    const message: HostReply = { requestId: request.requestId, outcome };
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
