import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Where the pieces the engine starts as separate threads or processes live. The same code runs
 * from `src/` under tsx (tests, development) and from `dist/` (production), so every entry point
 * is resolved relative to this module and its extension follows this module's own.
 */

const require = createRequire(import.meta.url);

/** True when this module runs as TypeScript source through tsx rather than as compiled JS. */
export const runningFromSource = import.meta.url.endsWith('.ts');

const extension = runningFromSource ? '.ts' : '.js';

/** A module of this folder by its name without extension, e.g. `worker/transform-worker`. */
export function transformModuleUrl(name: string): URL {
  return new URL(`./${name}${extension}`, import.meta.url);
}

export function xslt3CliPath(): string {
  return require.resolve('xslt3/xslt3.js');
}

export function saxonJsPath(): string {
  return require.resolve('saxon-js');
}

/** The node_modules folder that holds saxon-js and its dependencies (axios & co.). */
export function nodeModulesDir(): string {
  const saxon = saxonJsPath();
  const marker = `${path.sep}node_modules${path.sep}`;
  return saxon.slice(0, saxon.lastIndexOf(marker) + marker.length - 1);
}

/** This folder (src/transform or dist/transform). */
export function transformDir(): string {
  return path.dirname(fileURLToPath(import.meta.url));
}

let cachedSaxonVersion: string | undefined;

/** The installed SaxonJS version; part of every compiled-stylesheet cache key. */
export function saxonJsVersion(): string {
  cachedSaxonVersion ??= (JSON.parse(readFileSync(path.join(path.dirname(saxonJsPath()), 'package.json'), 'utf8')) as { version: string }).version;
  return cachedSaxonVersion;
}
