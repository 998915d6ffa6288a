/**
 * Messages between the engine and the threads (or the sandbox process) that run SaxonJS. Plain
 * data only: they cross `postMessage` and, for the sandbox, a process boundary as JSON.
 */

export interface TransformJob {
  id: number;
  /** Content hash of the compiled stylesheet; workers keep the parsed SEF under this key. */
  stylesheetKey: string;
  /** Sent when the worker may not have this stylesheet yet. */
  sefText?: string;
  /** The XML source; absent when the stylesheet starts from `xsl:initial-template`. */
  sourceText?: string;
  /**
   * The XML source as UTF-8 bytes (chunked batches): decoded in the worker, which keeps the
   * main thread's heap small while it cuts batches.
   */
  sourceBytes?: Uint8Array;
  params: Record<string, string>;
  /** Folder URI against which `xsl:result-document` hrefs resolve (nothing is ever written). */
  baseOutputUri: string;
  /** Set for untrusted stylesheets: the only folders their secondary results may name. */
  sandboxRoots?: string[];
}

export interface JobSuccess {
  id: number;
  ok: true;
  output: string;
  messages: string[];
  resultDocuments: Record<string, string>;
}

export type FailureKind =
  /** An XSLT/XPath dynamic error (XError), with its code and location. */
  | 'xslt'
  /** The source document is not well-formed XML. */
  | 'input'
  /** Template recursion exhausted the worker's stack. */
  | 'stack-overflow'
  /** The stylesheet reached outside its allowed folders. */
  | 'sandbox'
  /** The worker no longer holds the SEF for this key and needs it resent. */
  | 'need-stylesheet'
  /** The wall-clock limit ran out; the worker was stopped. */
  | 'timeout'
  /** The worker ran out of its heap limit and was stopped. */
  | 'out-of-memory'
  /** The worker (or the sandbox process) died for another reason. */
  | 'crashed'
  | 'internal';

export interface JobFailure {
  id: number;
  ok: false;
  kind: FailureKind;
  message: string;
  xsltCode?: string;
  line?: number;
  column?: number;
  module?: string;
  /** `xsl:message` output produced before the failure (often the best clue). */
  messages?: string[];
}

export type JobOutcome = JobSuccess | JobFailure;
