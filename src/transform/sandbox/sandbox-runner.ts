import { ProcessRunner } from '../worker/process-runner.js';
import type { WorkerPoolOptions } from '../worker/worker-pool.js';

/**
 * Runs untrusted stylesheets in a separate Node process under the permission model. SaxonJS
 * reads any `file:` URI it is given and has no resolver hook, so the only robust limit is the
 * operating-system level one: that process may read node_modules, the engine's own code and the
 * granted folders, and may write nothing; its threads have no network globals. One process serves
 * every stylesheet with the same grants and is reused across requests (starting one costs about
 * half a second).
 */

export interface SandboxRunnerOptions {
  /** Folders the stylesheet may read (its own folder, configured folders). */
  readDirectories: string[];
  pool: WorkerPoolOptions;
}

export class SandboxRunner extends ProcessRunner {
  constructor(options: SandboxRunnerOptions) {
    super({ pool: { ...options.pool, sandboxed: true }, permissions: { readDirectories: options.readDirectories } });
  }
}
