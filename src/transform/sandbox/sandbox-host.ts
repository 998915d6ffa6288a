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
  sefText: string;
  timeoutMs: number;
}

export interface SandboxReply {
  requestId: number;
  outcome: JobOutcome;
}

if (!process.send) throw new Error('sandbox-host must be started with an IPC channel');

const poolOptions = JSON.parse(process.argv[2] ?? '{}') as WorkerPoolOptions;
const pool = new WorkerPool({ ...poolOptions, sandboxed: true });

process.on('message', (request: SandboxRequest) => {
  void pool.run(request.job, request.sefText, request.timeoutMs).then((outcome) => {
    const reply: SandboxReply = { requestId: request.requestId, outcome };
    process.send?.(reply);
  });
});

process.on('disconnect', () => {
  void pool.close().finally(() => process.exit(0));
});
