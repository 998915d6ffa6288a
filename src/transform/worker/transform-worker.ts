import { parentPort, workerData } from 'node:worker_threads';
import type { TransformJob } from './protocol.js';
import { runTransform } from './run-transform.js';

/** Thread entry: runs transform jobs one at a time, as they arrive. */

if (!parentPort) throw new Error('transform-worker must run as a worker thread');
const port = parentPort;

const sandboxed = (workerData as { sandboxed?: boolean } | undefined)?.sandboxed ?? false;

/** A sandboxed thread refuses to run unless Node's permission model really restricts it. */
function sandboxActive(): boolean {
  const permission = (process as { permission?: { has(scope: string, reference?: string): boolean } }).permission;
  // A path no grant covers (asking about '/' itself is unreliable with several grants in Node 20).
  const probe = '/sluice-permission-probe/outside';
  return permission !== undefined && !permission.has('fs.read', probe) && !permission.has('fs.write', probe);
}

if (sandboxed) {
  // Node's permission model limits files but not the network. SaxonJS refuses non-file URIs in
  // synchronous transforms and the static check refuses its JavaScript bridge; removing the
  // network globals closes what would remain if either ever changed.
  const globals = globalThis as Record<string, unknown>;
  for (const name of ['fetch', 'WebSocket', 'EventSource', 'XMLHttpRequest']) delete globals[name];
}

port.on('message', (job: TransformJob) => {
  if (sandboxed && !sandboxActive()) {
    port.postMessage({ id: job.id, ok: false, kind: 'crashed', message: 'the sandbox is not active; refusing to run an untrusted stylesheet' });
    return;
  }
  port.postMessage(runTransform(job));
});
