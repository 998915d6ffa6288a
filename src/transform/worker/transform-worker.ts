import { parentPort, workerData } from 'node:worker_threads';
import type { TransformJob } from './protocol.js';
import { runTransform } from './run-transform.js';

/** Thread entry: runs transform jobs one at a time, as they arrive. */

if (!parentPort) throw new Error('transform-worker must run as a worker thread');
const port = parentPort;

if ((workerData as { sandboxed?: boolean } | undefined)?.sandboxed) {
  // Node's permission model limits files but not the network. SaxonJS refuses non-file URIs in
  // synchronous transforms and the static check refuses its JavaScript bridge; removing the
  // network globals closes what would remain if either ever changed.
  const globals = globalThis as Record<string, unknown>;
  for (const name of ['fetch', 'WebSocket', 'EventSource', 'XMLHttpRequest']) delete globals[name];
}

port.on('message', (job: TransformJob) => {
  port.postMessage(runTransform(job));
});
