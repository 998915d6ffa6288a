import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { SluiceError } from '../errors.js';
import { resolveModuleHint } from './compile/stylesheet-compiler.js';
import type { JobFailure } from './worker/protocol.js';

/**
 * Turns what a worker reports into SluiceErrors with stable codes. Callers match on `code`; the
 * XSLT error code (`XTDE1260`, `FODC0002`, a user code from `error()`) is in `details.xsltCode`,
 * the stylesheet location in `details.module`/`line`/`column`.
 */

export interface FailureContext {
  /** The original stylesheet modules, principal first. */
  modules: string[];
  timeoutMs: number;
  /** Heap ceiling the job ran with, when it ran in the oversized lane. */
  heapLimitMb?: number;
  /** How users raise that ceiling (named in the fix). */
  heapSetting?: string;
  /** For chunked runs: which batch failed. */
  batch?: { index: number; offset: number };
  /** Sluice's own stylesheets folder, when not the one beside this install's code. */
  shippedStylesheetsDir?: string;
}

/** `stylesheets/` of this install (the same from src/ under tsx and from dist/). */
const SHIPPED_STYLESHEETS_DIR = fileURLToPath(new URL('../../stylesheets/', import.meta.url));

/** Errors that Sluice's stylesheets raise on purpose, with `error(QName(this, 'CODE'), …)`. */
const SLUICE_ERROR_NAMESPACE = 'Q{urn:x-sluice:errors}';

/** `de/export.xsl` for a module under the shipped folder; undefined for anyone else's stylesheet. */
function shippedStylesheetName(module: string, shippedDir: string): string | undefined {
  const file = module.startsWith('file:') ? fileURLToPath(module) : module;
  if (!path.isAbsolute(file)) return undefined;
  const relative = path.relative(path.resolve(shippedDir), file);
  if (relative === '' || relative.startsWith('..') || path.isAbsolute(relative)) return undefined;
  return relative.split(path.sep).join('/');
}

/**
 * A stylesheet Sluice ships is not the user's to fix, and its server path is nobody's business.
 * A refusal it raises on purpose is about the data (its code becomes the error code); anything
 * else is a Sluice defect.
 */
function shippedStylesheetFailure(failure: JobFailure, stylesheet: string, batchNote: string, extra: Record<string, unknown>): SluiceError {
  const details = {
    ...(failure.xsltCode ? { xsltCode: failure.xsltCode } : {}),
    stylesheet,
    ...(failure.line !== undefined ? { line: failure.line } : {}),
    ...extra,
  };
  if (failure.xsltCode?.startsWith(SLUICE_ERROR_NAMESPACE)) {
    return new SluiceError(failure.xsltCode.slice(SLUICE_ERROR_NAMESPACE.length), `${failure.message}${batchNote}`, {
      status: 422,
      fix: 'The records cannot be expressed in this format: select other records (table, filters) or use another format',
      details,
    });
  }
  const where = `${stylesheet}${failure.line !== undefined ? ` line ${failure.line}` : ''}`;
  return new SluiceError('SLUICE_STYLESHEET_DEFECT', `Sluice's stylesheet ${where} failed: ${failure.xsltCode ? `${failure.xsltCode} ` : ''}${failure.message}${batchNote}`, {
    status: 500,
    fix: 'This is a defect in Sluice, not in your data or settings: report it with the request and the input that caused it',
    details,
  });
}

/** A record the engine could not transform whole, as the error names it. */
export interface OversizedRecord {
  /** The table (`name` attribute), when the element has one. */
  resource?: string;
  uuid?: string;
  /** The element, when it is not an S3XML `<resource>` (a CSV `<row>`, a CAP `<alert>`). */
  element?: string;
  bytes: number;
  /** Offset of the record in the input. */
  offset: number;
}

export interface RecordHeapLimit {
  limitMb: number;
  /** Refused from its size: the heap it needs at the very least. Absent when it was tried and ran out. */
  floorMb?: number;
  /** What to raise the limit to (a typical need for a record of this size). */
  suggestedMb: number;
  /** How users raise the limit (a setting or environment variable), named in the fix. */
  setting?: string;
}

function describeRecord(record: OversizedRecord): string {
  const what = record.resource ? `record ${record.resource}` : `element <${record.element ?? 'resource'}>`;
  return `${what}${record.uuid ? ` ${record.uuid}` : ''} (${record.bytes} bytes, from input byte ${record.offset})`;
}

/**
 * One record needs more memory than a transform may use. Nothing of the document is delivered, so
 * nothing is half-imported; the limit is raised where the operator configures the engine.
 */
export function recordTooLarge(record: OversizedRecord, heap: RecordHeapLimit): SluiceError {
  const problem =
    heap.floorMb === undefined
      ? `ran out of memory within the ${heap.limitMb} MB transform heap limit`
      : `needs at least ${heap.floorMb} MB of transform heap; the limit is ${heap.limitMb} MB`;
  const setting = heap.setting ?? 'the transform engine option maxRecordHeapMb';
  return new SluiceError('TRANSFORM_RECORD_TOO_LARGE', `${describeRecord(record)} ${problem}`, {
    status: 413,
    severity: 'limit',
    fix: `Raise ${setting} to at least ${heap.suggestedMb} MB if the machine has that much memory free, or make the record smaller (keep attachments and very long texts out of it)`,
    details: {
      ...(record.resource ? { resource: record.resource } : {}),
      ...(record.uuid ? { uuid: record.uuid } : {}),
      ...(record.element ? { element: record.element } : {}),
      bytes: record.bytes,
      inputOffset: record.offset,
      heapLimitMb: heap.limitMb,
      suggestedHeapMb: heap.suggestedMb,
    },
  });
}

export function errorFromFailure(failure: JobFailure, context: FailureContext): SluiceError {
  const batchDetails = context.batch ? { batch: context.batch.index, inputOffset: context.batch.offset } : {};
  const batchNote = context.batch ? ` (batch ${context.batch.index + 1}, from input byte ${context.batch.offset})` : '';
  const messages = failure.messages && failure.messages.length > 0 ? { messages: failure.messages } : {};
  switch (failure.kind) {
    case 'timeout':
      return new SluiceError('XSLT_TIMEOUT', `the transform did not finish within ${context.timeoutMs} ms${batchNote}`, {
        status: 422,
        severity: 'limit',
        fix: 'Look for a loop that never ends in the stylesheet, or raise the transform time limit for large inputs',
        details: { timeoutMs: context.timeoutMs, ...batchDetails, ...messages },
      });
    case 'stack-overflow':
      return new SluiceError('XSLT_STACK_OVERFLOW', `the stylesheet's template recursion went too deep${batchNote}`, {
        status: 422,
        severity: 'limit',
        fix: 'Look for a recursion that never ends; for long strings use replace()/tokenize() instead of recursive templates',
        details: { ...batchDetails, ...messages },
      });
    case 'out-of-memory': {
      const limit = context.heapLimitMb;
      return new SluiceError('XSLT_MEMORY_LIMIT', `the transform ran out of memory${limit ? ` within the ${limit} MB heap limit` : ''}${batchNote}`, {
        status: 422,
        severity: 'limit',
        fix: limit
          ? `Raise ${context.heapSetting ?? 'the transform engine option maxRecordHeapMb'} if the machine has the memory, send a smaller document, or transform S3XML in batches (chunked) when the stylesheet is record-local`
          : 'Send a smaller document, or transform S3XML in batches (chunked) when the stylesheet is record-local',
        details: { ...batchDetails, ...(limit ? { heapLimitMb: limit } : {}) },
      });
    }
    case 'sandbox':
      return new SluiceError('XSLT_SANDBOX_VIOLATION', `${failure.message}${batchNote}`, {
        status: 403,
        fix: 'Uploaded and custom stylesheets may read only their own folder and the configured folders, and no URLs',
        details: {
          ...(failure.xsltCode ? { xsltCode: failure.xsltCode } : {}),
          ...(failure.line !== undefined ? { line: failure.line } : {}),
          ...batchDetails,
        },
      });
    case 'input':
      return new SluiceError('XML_MALFORMED', `the input is not well-formed XML: ${failure.message}${batchNote}`, {
        status: 400,
        fix: 'Check the document with an XML validator',
        details: {
          ...(failure.line !== undefined ? { line: failure.line } : {}),
          ...(failure.column !== undefined ? { column: failure.column } : {}),
          ...batchDetails,
        },
      });
    case 'xslt': {
      const module = resolveModuleHint(failure.module, new Map(), context.modules) ?? failure.module;
      const shipped = module ? shippedStylesheetName(module, context.shippedStylesheetsDir ?? SHIPPED_STYLESHEETS_DIR) : undefined;
      if (shipped !== undefined) return shippedStylesheetFailure(failure, shipped, batchNote, { ...batchDetails, ...messages });
      const where = module ? `${module}${failure.line !== undefined ? `:${failure.line}` : ''}: ` : '';
      return new SluiceError('XSLT_RUNTIME_ERROR', `${where}${failure.xsltCode ? `${failure.xsltCode} ` : ''}${failure.message}${batchNote}`, {
        status: 422,
        fix: 'Fix the stylesheet at the reported line, or the input it cannot handle',
        details: {
          xsltCode: failure.xsltCode,
          ...(module ? { module } : {}),
          ...(failure.line !== undefined ? { line: failure.line } : {}),
          ...(failure.column !== undefined ? { column: failure.column } : {}),
          ...batchDetails,
          ...messages,
        },
      });
    }
    default:
      return new SluiceError('XSLT_ENGINE_FAILURE', `the transform engine failed: ${failure.message}${batchNote}`, {
        status: 500,
        fix: 'Retry; if it keeps failing, report it with the stylesheet and input',
        details: { ...batchDetails },
      });
  }
}
