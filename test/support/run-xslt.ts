/**
 * A small stand-in for the transform engine, for format tests: compiles a stylesheet to SEF with
 * the xslt3 CLI (cached by content hash under the OS temp dir, so a second run is instant) and runs
 * it with SaxonJS. Swap it for `createTransformEngine(...).transform(...)` once the engine exists.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const require = createRequire(import.meta.url);

interface SaxonMessageNode {
  textContent?: string | null;
}
interface SaxonApi {
  transform(
    options: {
      stylesheetInternal: unknown;
      sourceText?: string;
      initialTemplate?: string;
      destination: 'serialized';
      stylesheetParams?: Record<string, unknown>;
      deliverMessage?: (node: SaxonMessageNode, errorCode: unknown) => void;
      deliverResultDocument?: () => { destination: 'serialized' };
      logLevel?: number;
    },
    mode: 'sync',
  ): { principalResult: string };
}
const SaxonJS = require('saxon-js') as SaxonApi;

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const STYLESHEETS_DIR = path.join(REPO_ROOT, 'stylesheets');
/** The official schemas and samples live beside the repository, never inside it. */
export const STANDARDS_DIR = process.env.SLUICE_STANDARDS_DIR ?? path.join(REPO_ROOT, '..', 'shared', 'standards');

const XSLT3_CLI = path.join(REPO_ROOT, 'node_modules', 'xslt3', 'xslt3.js');
const CACHE_DIR = path.join(os.tmpdir(), 'sluice-test-sef-cache');

export type StylesheetRef = { path: string } | { text: string };

export interface XsltRun {
  output: string;
  messages: string[];
}

const compiled = new Map<string, Promise<unknown>>();

export interface XsltRunOptions {
  /** Like the engine's jsonInput: `input` becomes the $json parameter, the run starts at xsl:initial-template. */
  jsonInput?: boolean;
}

/** Runs a stylesheet (a path under stylesheets/ or an absolute path, or inline text) on `input`. */
export async function runXslt(
  stylesheet: StylesheetRef | string,
  input: string,
  params: Record<string, string | number | boolean> = {},
  options: XsltRunOptions = {},
): Promise<XsltRun> {
  const ref: StylesheetRef = typeof stylesheet === 'string' ? { path: stylesheet } : stylesheet;
  const sef = await compile(ref);
  const messages: string[] = [];
  const stylesheetParams: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(params)) stylesheetParams[`Q{}${name}`] = value;
  if (options.jsonInput) stylesheetParams['Q{}json'] = input;
  const result = SaxonJS.transform(
    {
      stylesheetInternal: sef,
      ...(options.jsonInput ? { initialTemplate: 'Q{http://www.w3.org/1999/XSL/Transform}initial-template' } : { sourceText: input }),
      destination: 'serialized',
      stylesheetParams,
      deliverMessage: (node) => messages.push(node.textContent ?? ''),
      deliverResultDocument: () => ({ destination: 'serialized' }),
      logLevel: 0,
    },
    'sync',
  );
  return { output: result.principalResult, messages };
}

async function compile(ref: StylesheetRef): Promise<unknown> {
  const key = 'path' in ref ? `path:${path.resolve(STYLESHEETS_DIR, ref.path)}` : `text:${ref.text}`;
  let pending = compiled.get(key);
  if (!pending) {
    pending = compileUncached(ref);
    compiled.set(key, pending);
    pending.catch(() => compiled.delete(key));
  }
  // SaxonJS decorates the SEF object it is given; a fresh copy per run keeps runs independent.
  return structuredClone(await pending);
}

async function compileUncached(ref: StylesheetRef): Promise<unknown> {
  await mkdir(CACHE_DIR, { recursive: true });
  let xslPath: string;
  let hash: string;
  if ('path' in ref) {
    xslPath = path.resolve(STYLESHEETS_DIR, ref.path);
    hash = await hashWithModules(xslPath);
  } else {
    hash = createHash('sha256').update(ref.text).digest('hex');
    xslPath = path.join(CACHE_DIR, `${hash}.xsl`);
    await writeFile(xslPath, ref.text);
  }
  const sefPath = path.join(CACHE_DIR, `${hash}.sef.json`);
  try {
    return JSON.parse(await readFile(sefPath, 'utf8'));
  } catch {
    // not cached yet
  }
  const partial = `${sefPath}.${process.pid}.${Date.now()}.tmp`;
  try {
    await run(process.execPath, [XSLT3_CLI, `-xsl:${xslPath}`, `-export:${partial}`, '-nogo'], {
      maxBuffer: 16 * 1024 * 1024,
    });
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr ?? '';
    throw new Error(`xslt3 could not compile ${xslPath}:\n${stderr}`);
  }
  await rename(partial, sefPath);
  return JSON.parse(await readFile(sefPath, 'utf8'));
}

/** The cache key covers the stylesheet and every module it includes or imports, recursively. */
async function hashWithModules(xslPath: string): Promise<string> {
  const hash = createHash('sha256');
  const seen = new Set<string>();
  const visit = async (file: string): Promise<void> => {
    if (seen.has(file)) return;
    seen.add(file);
    const text = await readFile(file, 'utf8');
    hash.update(file).update('\0').update(text).update('\0');
    for (const match of text.matchAll(/<xsl:(?:include|import)\s+href="([^"]+)"/g)) {
      await visit(path.resolve(path.dirname(file), match[1] as string));
    }
  };
  await visit(xslPath);
  return hash.digest('hex');
}
