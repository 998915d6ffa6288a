import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import type { JobFailure, JobOutcome, TransformJob } from './protocol.js';

/**
 * Runs one transform with SaxonJS inside a worker thread. Parsed SEF objects are kept per
 * stylesheet key and reused (SaxonJS 2.x accepts the same `stylesheetInternal` object again;
 * re-parsing the SEF text costs milliseconds per call).
 */

interface SaxonResult {
  principalResult?: unknown;
  resultDocuments?: Record<string, unknown>;
}

interface SaxonMessage {
  textContent?: string | null;
}

interface SaxonApi {
  transform(options: Record<string, unknown>, mode: 'sync'): SaxonResult;
  setLogLevel?(level: number): void;
}

interface XErrorLike {
  code?: string;
  message?: string;
  xsltLineNr?: number | string | null;
  xsltModule?: string | null;
}

const require = createRequire(import.meta.url);
let saxon: SaxonApi | undefined;

function saxonJs(): SaxonApi {
  if (!saxon) {
    saxon = require('saxon-js') as SaxonApi;
    // SaxonJS prints failures to the console itself; errors travel back as data instead.
    saxon.setLogLevel?.(0);
  }
  return saxon;
}

const utf8 = new TextDecoder('utf-8');
const MAX_STYLESHEETS = 32;
const stylesheets = new Map<string, unknown>();

function stylesheetFor(job: TransformJob): unknown {
  const known = stylesheets.get(job.stylesheetKey);
  if (known) {
    stylesheets.delete(job.stylesheetKey);
    stylesheets.set(job.stylesheetKey, known);
    return known;
  }
  if (job.sefText === undefined) return undefined;
  const parsed: unknown = JSON.parse(job.sefText);
  stylesheets.set(job.stylesheetKey, parsed);
  if (stylesheets.size > MAX_STYLESHEETS) stylesheets.delete(stylesheets.keys().next().value!);
  return parsed;
}

const STANDARD_ERRORS = 'Q{http://www.w3.org/2005/xqt-errors}';

function normalizeCode(code: string | undefined): string | undefined {
  if (!code) return undefined;
  return code.startsWith(STANDARD_ERRORS) ? code.slice(STANDARD_ERRORS.length) : code;
}

function withinRoots(uri: string, roots: string[]): boolean {
  if (!uri.startsWith('file:')) return false;
  const target = path.resolve(fileURLToPath(uri));
  return roots.some((root) => target === root || target.startsWith(root.endsWith(path.sep) ? root : root + path.sep));
}

/** Access errors from Node's permission model surface through SaxonJS as ordinary XErrors. */
function isPermissionDenial(message: string): boolean {
  return /Access to this API has been restricted|ERR_ACCESS_DENIED/.test(message);
}

function failureFrom(job: TransformJob, error: unknown, messages: string[]): JobFailure {
  if (error instanceof RangeError && /call stack/i.test(error.message)) {
    return { id: job.id, ok: false, kind: 'stack-overflow', message: 'template recursion went too deep', messages };
  }
  const xerror = error as XErrorLike;
  const message = xerror?.message ?? String(error);
  const code = normalizeCode(xerror?.code);
  const failure: JobFailure = { id: job.id, ok: false, kind: 'xslt', message, messages };
  if (code) failure.xsltCode = code;
  // SaxonJS gives the line as a number or as a numeric string depending on the instruction.
  const line = Number(xerror?.xsltLineNr ?? Number.NaN);
  if (Number.isFinite(line)) failure.line = line;
  if (xerror?.xsltModule) failure.module = xerror.xsltModule;
  const hasSource = job.sourceText !== undefined || job.sourceBytes !== undefined;
  if (code === 'FODC0002' && xerror?.xsltLineNr == null && hasSource && !/^Cannot read/.test(message)) {
    // The principal source failed to parse: SaxonJS counts lines from 0.
    const position = /at line (\d+) column (\d+)/.exec(message);
    failure.kind = 'input';
    if (position) {
      failure.line = Number(position[1]) + 1;
      failure.column = Number(position[2]);
    }
  } else if (job.sandboxRoots && (isPermissionDenial(message) || /non-file resources/.test(message))) {
    failure.kind = 'sandbox';
  }
  if (!code && failure.kind === 'xslt') failure.kind = 'internal';
  return failure;
}

export function runTransform(job: TransformJob): JobOutcome {
  const stylesheet = stylesheetFor(job);
  if (!stylesheet) return { id: job.id, ok: false, kind: 'need-stylesheet', message: 'stylesheet not loaded' };
  const messages: string[] = [];
  const params: Record<string, string> = {};
  for (const [name, value] of Object.entries(job.params)) params[name.startsWith('Q{') ? name : `Q{}${name}`] = value;
  const options: Record<string, unknown> = {
    stylesheetInternal: stylesheet,
    destination: 'serialized',
    stylesheetParams: params,
    baseOutputURI: job.baseOutputUri,
    deliverMessage: (message: SaxonMessage) => {
      messages.push(message?.textContent ?? '');
    },
    // Secondary results stay in memory: SaxonJS would otherwise write them anywhere on disk.
    deliverResultDocument: () => ({ destination: 'serialized' }),
  };
  if (job.sourceText !== undefined) options['sourceText'] = job.sourceText;
  else if (job.sourceBytes !== undefined) options['sourceText'] = utf8.decode(job.sourceBytes);
  else options['initialTemplate'] = 'Q{http://www.w3.org/1999/XSL/Transform}initial-template';
  try {
    const result = saxonJs().transform(options, 'sync');
    const resultDocuments: Record<string, string> = {};
    for (const [uri, value] of Object.entries(result.resultDocuments ?? {})) {
      if (job.sandboxRoots && !withinRoots(uri, job.sandboxRoots)) {
        return { id: job.id, ok: false, kind: 'sandbox', message: `xsl:result-document may not write ${uri}`, messages };
      }
      resultDocuments[uri] = String(value);
    }
    return { id: job.id, ok: true, output: String(result.principalResult ?? ''), messages, resultDocuments };
  } catch (error) {
    return failureFrom(job, error, messages);
  }
}
