import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { isSluiceError, type SluiceError } from '../../src/errors.js';
import { createTransformEngine, type TransformEngine, type TransformEngineOptions } from '../../src/transform/engine.js';

export const FIXTURES = fileURLToPath(new URL('../fixtures/xslt/', import.meta.url));

/**
 * Compiled stylesheets are cached by content hash, so sharing one cache folder across test files
 * and runs makes every run after the first skip the one-second xslt3 compiles.
 */
export const SHARED_CACHE_DIR = path.join(os.tmpdir(), 'sluice-transform-test-cache');

export function testEngine(options: Partial<TransformEngineOptions> = {}): TransformEngine {
  return createTransformEngine({
    stylesheetsDir: FIXTURES,
    cacheDir: SHARED_CACHE_DIR,
    workers: 1,
    timeoutMs: 20_000,
    ...options,
  });
}

export async function scratchDir(prefix: string): Promise<string> {
  return mkdtemp(path.join(os.tmpdir(), `sluice-${prefix}-`));
}

const execFileAsync = promisify(execFile);

/** Runs xsltproc (libxslt, what Eden uses through lxml). Fails, not skips, when it is missing. */
export async function xsltproc(stylesheet: string, input: string, params: Record<string, string> = {}): Promise<string> {
  const args = ['--nonet'];
  for (const [name, value] of Object.entries(params)) args.push('--stringparam', name, value);
  args.push(stylesheet, input);
  try {
    const { stdout } = await execFileAsync('xsltproc', args, { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
    return stdout;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new Error('xsltproc is not installed: the XSLT 1.0 compatibility tests need it (apt-get install xsltproc)');
    }
    throw error;
  }
}

/** The SluiceError a transform fails with; fails the test when it succeeds or throws anything else. */
export async function transformFailure(promise: Promise<unknown>): Promise<SluiceError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(isSluiceError(error), `expected a SluiceError, got ${String(error)}`);
    return error;
  }
  assert.fail('expected the transform to fail');
}
