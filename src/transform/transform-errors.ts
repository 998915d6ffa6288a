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
  /** For chunked runs: which batch failed. */
  batch?: { index: number; offset: number };
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
    case 'out-of-memory':
      return new SluiceError('XSLT_MEMORY_LIMIT', `the transform ran out of memory${batchNote}`, {
        status: 422,
        severity: 'limit',
        fix: 'Send a smaller document, or transform S3XML in batches (chunked) when the stylesheet is record-local',
        details: { ...batchDetails },
      });
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
