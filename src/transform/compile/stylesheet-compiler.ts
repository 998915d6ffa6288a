import { createHash, randomUUID } from 'node:crypto';
import { mkdir, readFile, rename, rm, utimes, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { SluiceError } from '../../errors.js';
import { saxonJsVersion } from '../runtime-paths.js';
import {
  COMPAT_LAYER_VERSION,
  emptyStandIns,
  planCompilation,
  standInCount,
  standInsFromCompilerMessage,
  type StandIns,
} from '../stylesheet/eden-compat.js';
import type { StylesheetTree } from '../stylesheet/module-tree.js';
import { cleanCompileCache, type CacheCleanupResult } from './cache-cleanup.js';
import { readSefInfo, type SefInfo } from './sef-info.js';
import { exportSef, Xslt3ExportError, type CompileFailure } from './xslt3-export.js';

/**
 * Compiles stylesheet trees to SEF once per distinct content. The cache key is a hash of every
 * module's path and text plus the SaxonJS version and the compatibility layer's version, so an
 * edited include, a SaxonJS upgrade or a changed wrapper all lead to a fresh compile. Results are
 * kept on disk (survive restarts) and in memory (one compile per key, even under concurrency).
 */

export interface CompiledMeta {
  key: string;
  saxonJs: string;
  info: SefInfo;
  standIns: { templates: string[]; keys: string[]; params: string[] };
  /** Every original module, principal first; errors are reported against these files. */
  modules: string[];
}

export interface CompiledStylesheet extends CompiledMeta {
  sefPath: string;
  sefText: string;
  /** Human-readable notes for previews, e.g. which stand-ins were supplied. */
  warnings: string[];
}

export interface CompileOptions {
  /** Compile under Node's permission model, reading only these folders (untrusted stylesheets). */
  sandboxReadDirectories?: string[];
  /** Write the SEF here (with a `.meta.json` sidecar) instead of into the cache. */
  outputPath?: string;
  /** The principal module's path does not exist on disk (uploaded text placed in a folder). */
  principalIsVirtual?: boolean;
}

export interface StylesheetCompilerOptions {
  cacheDir: string;
  concurrency?: number;
  /**
   * Clock for the cache's last-use marks and cleanup. Without it the compiler neither marks uses
   * nor cleans (build.ts compiles into a scratch folder and needs neither).
   */
  now?: () => number;
  /**
   * Limits of the cache folder, applied after every fresh compile (that is when it grows):
   * entries unused for `maxUnusedDays`, then the least recently used beyond `maxBytes`.
   */
  limits?: { maxUnusedDays?: number; maxBytes?: number };
}

const MAX_ATTEMPTS = 12;
/** SEF files kept in memory after reading them from disk. */
const MAX_LOADED = 64;

function isWithin(file: string, folder: string): boolean {
  const relative = path.relative(path.resolve(folder), path.resolve(file));
  return relative !== '' && !relative.startsWith('..') && !path.isAbsolute(relative);
}

export function stylesheetTreeKey(tree: StylesheetTree): string {
  const hash = createHash('sha256');
  hash.update(`saxon-js ${saxonJsVersion()}\0compat ${COMPAT_LAYER_VERSION}\0`);
  for (const module of tree.modules) hash.update(`${module.path}\0${module.text}\0`);
  return hash.digest('hex');
}

/** The sidecar that records which sources a SEF beside its stylesheet was compiled from. */
export function metaPathFor(sefPath: string): string {
  return sefPath.replace(/\.json$/, '.meta.json');
}

/** `foo/import.xsl` → `foo/import.sef.json`. */
export function besideSefPath(stylesheetPath: string): string {
  return stylesheetPath.replace(/\.xslt?$/i, '') + '.sef.json';
}

function describeStandIns(standIns: StandIns): CompiledMeta['standIns'] {
  return {
    templates: [...standIns.templates.keys()].sort(),
    keys: [...standIns.keys].sort(),
    params: [...standIns.params].sort(),
  };
}

function warningsFor(meta: CompiledMeta): string[] {
  const warnings: string[] = [];
  const list = (names: string[]): string => names.map((name) => name.replace(/^Q\{\}/, '')).join(', ');
  if (meta.standIns.templates.length) warnings.push(`named templates not defined by the stylesheet, replaced by empty stand-ins: ${list(meta.standIns.templates)}`);
  if (meta.standIns.keys.length) warnings.push(`keys not declared by the stylesheet, replaced by empty keys: ${list(meta.standIns.keys)}`);
  if (meta.standIns.params.length) warnings.push(`variables not declared by the stylesheet, supplied as empty parameters: ${list(meta.standIns.params)}`);
  return warnings;
}

function mergeStandIns(into: StandIns, from: StandIns): void {
  from.params.forEach((name) => into.params.add(name));
  from.keys.forEach((name) => into.keys.add(name));
  for (const [name, params] of from.templates) {
    const known = into.templates.get(name) ?? new Set<string>();
    params.forEach((param) => known.add(param));
    into.templates.set(name, known);
  }
}

/** Maps xslt3's module hint (`cap/import.xsl`, a file URI, a copy's path) to an original file. */
export function resolveModuleHint(hint: string | undefined, originals: Map<string, string>, modules: string[]): string | undefined {
  if (!hint) return undefined;
  let candidate = hint;
  if (hint.startsWith('file:')) {
    try {
      candidate = fileURLToPath(hint);
    } catch {
      candidate = hint;
    }
  }
  const direct = originals.get(candidate) ?? (modules.includes(candidate) ? candidate : undefined);
  if (direct) return direct;
  const suffix = candidate.startsWith(path.sep) ? candidate : `${path.sep}${candidate}`;
  for (const [copy, original] of originals) if (copy.endsWith(suffix)) return original;
  return modules.find((module) => module.endsWith(suffix));
}

export function compileErrorFrom(failure: CompileFailure, file: string | undefined, cause?: unknown): SluiceError {
  const where = file ? `${file}:${failure.line ?? '?'}: ` : '';
  return new SluiceError('XSLT_COMPILE_ERROR', `${where}${failure.message}`, {
    status: 422,
    fix: 'Fix the stylesheet at the reported line; it must compile with SaxonJS (xslt3)',
    details: {
      xsltCode: failure.xsltCode,
      ...(file ? { module: file } : {}),
      ...(failure.line !== undefined ? { line: failure.line } : {}),
    },
    ...(cause ? { cause } : {}),
  });
}

export class StylesheetCompiler {
  private readonly inFlight = new Map<string, Promise<CompiledStylesheet>>();
  private readonly loaded = new Map<string, CompiledStylesheet>();
  private readonly slots: (() => void)[] = [];
  private running = 0;

  private cleaning: Promise<CacheCleanupResult | undefined> | undefined;

  constructor(private readonly options: StylesheetCompilerOptions) {}

  /**
   * Applies the cache limits now. Stylesheets this compiler holds in memory are never removed.
   * Resolves to undefined when no clock was given.
   */
  cleanCache(limits = this.options.limits ?? {}): Promise<CacheCleanupResult | undefined> {
    const now = this.options.now;
    if (!now) return Promise.resolve(undefined);
    // One cleanup at a time; a second request while one runs shares it.
    this.cleaning ??= cleanCompileCache(this.options.cacheDir, {
      now: now(),
      ...limits,
      inUse: new Set([...this.loaded.values()].map((compiled) => compiled.key)),
    }).finally(() => {
      this.cleaning = undefined;
    });
    return this.cleaning;
  }

  /** Compiles (or finds in the cache) the SEF for a stylesheet tree. */
  compile(tree: StylesheetTree, options: CompileOptions = {}): Promise<CompiledStylesheet> {
    const key = stylesheetTreeKey(tree);
    const memoKey = `${key}\0${options.outputPath ?? ''}`;
    let pending = this.inFlight.get(memoKey);
    if (!pending) {
      // Concurrent requests for the same content share one compile; afterwards the result lives
      // in the bounded `loaded` memo (a failure is not kept: the author will fix the file).
      pending = this.compileOnce(tree, key, options).finally(() => this.inFlight.delete(memoKey));
      this.inFlight.set(memoKey, pending);
    }
    return pending;
  }

  /**
   * Reads a previously written SEF + sidecar if it was compiled from exactly these sources. What
   * was read stays in memory: the key changes whenever a source does.
   */
  async loadIfCurrent(sefPath: string, key: string): Promise<CompiledStylesheet | undefined> {
    const memoKey = `${sefPath}\0${key}`;
    const known = this.loaded.get(memoKey);
    if (known) return known;
    try {
      const meta = JSON.parse(await readFile(metaPathFor(sefPath), 'utf8')) as CompiledMeta;
      if (meta.key !== key) return undefined;
      const sefText = await readFile(sefPath, 'utf8');
      await this.markUsed(sefPath);
      return this.remember(sefPath, { ...meta, sefPath, sefText, warnings: warningsFor(meta) });
    } catch {
      return undefined;
    }
  }

  /** The sidecar's mtime is the entry's last use, what cache cleanup goes by. */
  private async markUsed(sefPath: string): Promise<void> {
    if (!this.options.now || !isWithin(sefPath, this.options.cacheDir)) return;
    const seconds = this.options.now() / 1000;
    await utimes(metaPathFor(sefPath), seconds, seconds).catch(() => undefined);
  }

  private remember(sefPath: string, compiled: CompiledStylesheet): CompiledStylesheet {
    this.loaded.set(`${sefPath}\0${compiled.key}`, compiled);
    if (this.loaded.size > MAX_LOADED) this.loaded.delete(this.loaded.keys().next().value!);
    return compiled;
  }

  private async withSlot<T>(work: () => Promise<T>): Promise<T> {
    const limit = this.options.concurrency ?? 2;
    if (this.running >= limit) await new Promise<void>((resolve) => this.slots.push(resolve));
    this.running++;
    try {
      return await work();
    } finally {
      this.running--;
      this.slots.shift()?.();
    }
  }

  private async compileOnce(tree: StylesheetTree, key: string, options: CompileOptions): Promise<CompiledStylesheet> {
    const sefPath = options.outputPath ?? path.join(this.options.cacheDir, 'sef', `${key}.sef.json`);
    const cached = await this.loadIfCurrent(sefPath, key);
    if (cached) return cached;
    return this.withSlot(async () => {
      const again = await this.loadIfCurrent(sefPath, key);
      if (again) return again;
      const workDir = path.join(this.options.cacheDir, 'work', `${key.slice(0, 16)}-${randomUUID().slice(0, 8)}`);
      let compiled: CompiledStylesheet;
      try {
        compiled = await this.compileWithStandIns(tree, key, sefPath, workDir, options);
      } finally {
        await rm(workDir, { recursive: true, force: true });
      }
      // The cache only grows here, so this is where its limits are applied; a failed cleanup
      // must not fail the compile that triggered it.
      if (this.options.limits && isWithin(sefPath, this.options.cacheDir)) await this.cleanCache().catch(() => undefined);
      return compiled;
    });
  }

  private async compileWithStandIns(
    tree: StylesheetTree,
    key: string,
    sefPath: string,
    workDir: string,
    options: CompileOptions,
  ): Promise<CompiledStylesheet> {
    const extra = emptyStandIns();
    const modules = tree.modules.map((module) => module.path);
    await mkdir(path.dirname(sefPath), { recursive: true });
    for (let attempt = 1; ; attempt++) {
      const plan = planCompilation(tree, workDir, { extraStandIns: extra, principalIsVirtual: options.principalIsVirtual ?? false });
      for (const file of plan.files) {
        await mkdir(path.dirname(file.path), { recursive: true });
        await writeFile(file.path, file.text);
      }
      const temporary = path.join(path.dirname(sefPath), `.${path.basename(sefPath)}.${randomUUID().slice(0, 8)}.tmp`);
      try {
        await exportSef({
          entryPath: plan.entryPath,
          outputPath: temporary,
          ...(options.sandboxReadDirectories ? { sandboxReadDirectories: [...options.sandboxReadDirectories, workDir] } : {}),
        });
      } catch (error) {
        await rm(temporary, { force: true });
        if (!(error instanceof Xslt3ExportError)) throw error;
        const missing = standInsFromCompilerMessage(error.failure.xsltCode, error.failure.message);
        const before = standInCount(extra);
        if (missing) mergeStandIns(extra, missing);
        if (missing && standInCount(extra) > before && tree.principal.isStylesheetElement && attempt < MAX_ATTEMPTS) continue;
        const file = resolveModuleHint(error.failure.moduleHint, plan.originals, modules) ?? (error.failure.line ? tree.principal.path : undefined);
        throw compileErrorFrom(error.failure, file, error);
      }
      const sefText = await readFile(temporary, 'utf8');
      const meta: CompiledMeta = {
        key,
        saxonJs: saxonJsVersion(),
        info: readSefInfo(sefText),
        standIns: describeStandIns(plan.standIns),
        modules,
      };
      // SEF first, sidecar last: a crash in between leaves a sidecar that no longer matches.
      await rename(temporary, sefPath);
      const metaTemporary = `${temporary}.meta`;
      await writeFile(metaTemporary, `${JSON.stringify(meta, null, 2)}\n`);
      await rename(metaTemporary, metaPathFor(sefPath));
      return this.remember(sefPath, { ...meta, sefPath, sefText, warnings: warningsFor(meta) });
    }
  }
}
