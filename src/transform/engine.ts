import { createHash } from 'node:crypto';
import { mkdir, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { SluiceError } from '../errors.js';
import { batchDocuments, collectContext, type BatchDocument, type SourceOpener } from './chunking/batches.js';
import { ContextStore } from './chunking/context-store.js';
import { TextFrameJoiner, XmlRootJoiner, type OutputJoiner } from './chunking/output-join.js';
import { besideSefPath, StylesheetCompiler, stylesheetTreeKey, type CompiledStylesheet } from './compile/stylesheet-compiler.js';
import { admitXmlInput, byteLengthOf, inputTooLarge } from './input-guard.js';
import { SandboxRunner } from './sandbox/sandbox-runner.js';
import { checkUntrustedStylesheet, isWithin } from './sandbox/static-check.js';
import { loadStylesheetTree, type StylesheetTree } from './stylesheet/module-tree.js';
import { splitS3XML } from './chunking/s3xml-splitter.js';
import { errorFromFailure, recordTooLarge, type OversizedRecord } from './transform-errors.js';
import { heapFloorMb, heapNeededMb, OversizedLane, oversizedTimeoutMs } from './worker/oversized-lane.js';
import type { JobOutcome, JobSuccess } from './worker/protocol.js';
import { WorkerPool, type PoolJob } from './worker/worker-pool.js';

/**
 * The transform engine: compiled SEF stylesheets run by SaxonJS on a pool of worker threads, with
 * untrusted stylesheets sent to a sandboxed process, and large S3XML documents transformed in
 * batches. It reads stylesheets and writes its cache only under the folders it is given; it reads
 * no environment and opens no network connection.
 */

export interface TransformEngineOptions {
  /** Stylesheets shipped with Sluice: trusted, compiled at build time (SEF beside the source). */
  stylesheetsDir: string;
  /** Where run-time compiled stylesheets and uploads are kept. */
  cacheDir: string;
  /** Folders that custom (untrusted) stylesheets may read besides their own. */
  allowedDirs?: string[];
  /** Worker threads; default one per core. */
  workers?: number;
  /** Wall-clock limit per transform (per batch when chunked); default 30 s. */
  timeoutMs?: number;
  /** Largest input accepted for a whole-document transform; default 64 MiB. */
  maxInputBytes?: number;
  /** Stack per worker thread; deep template recursion needs more than Node's default. */
  stackSizeMb?: number;
  /** Heap limit per worker thread; unset leaves V8's default. */
  maxOldGenerationSizeMb?: number;
  /** Young-generation limit per worker thread; smaller means less memory, more frequent GC. */
  maxYoungGenerationSizeMb?: number;
  /** Records per batch in chunked mode; default 100. */
  batchRecords?: number;
  /**
   * Heap limits of the threads that run batches (chunked mode), which is what keeps a chunked
   * run's memory flat whatever the input size. Defaults: 64 MB old, 8 MB young generation.
   * Measured (tools/bench/transform): SaxonJS with the parsed SEF holds ~15 MB and a 100-record
   * batch's tree ~10–20 MB, so 64 MB leaves room for batches up to the 1 MiB batch size cap; a
   * young generation of 8 MB instead of 32 MB saves ~20 MB per thread at no measurable CPU cost
   * (SaxonJS's trees outlive a scavenge anyway).
   */
  batchHeap?: { maxOldGenerationSizeMb: number; maxYoungGenerationSizeMb: number };
  /**
   * Threads for chunked runs. Default: as many as fit in `batchMemoryMb`, at least one and at most
   * `workers`.
   */
  batchWorkers?: number;
  /**
   * Peak memory a chunked run should stay within, the whole process included; default 256 MB.
   * Measured with the default batch heap (10k–300k records, tools/bench/transform): about 80 MB
   * for the process without batch threads and 110 MB per batch thread, so 256 MB allows one
   * thread and 300 MB two. Only used when batchWorkers is unset.
   */
  batchMemoryMb?: number;
  /**
   * Limits of the run-time compile cache in `cacheDir`, applied whenever a new stylesheet is
   * compiled. Defaults: entries unused for 30 days go, then the least recently used beyond 256 MiB.
   */
  compileCache?: { maxUnusedDays?: number; maxBytes?: number };
  /** Clock (ms since the epoch) for the compile cache's last-use marks; default Date.now. */
  now?: () => number;
  /**
   * Heap ceiling for one oversized job: a record that alone exceeds the 1 MiB batch cap (chunked
   * runs), or a whole document whose heap estimate exceeds what a pooled thread should hold
   * (256 MB, or maxOldGenerationSizeMb when that is less). Such a job runs alone, in a process of
   * its own with this ceiling; a record that cannot fit it fails at once with
   * TRANSFORM_RECORD_TOO_LARGE, one that overflows it fails with that code when it does. SaxonJS needs about 20 MB of heap per MB of a long text field,
   * so 1536 MB carries a record of about 75 MB. Default: a quarter of the machine's memory,
   * between 256 MB and 1536 MB.
   */
  maxRecordHeapMb?: number;
  /** How users raise maxRecordHeapMb (e.g. an environment variable), named in the error's fix. */
  maxRecordHeapSetting?: string;
}

export type StylesheetRef =
  /** A .xsl file; trusted when under stylesheetsDir, sandboxed otherwise. */
  | { path: string }
  /** Uploaded text: always sandboxed; relative URIs resolve against baseDir. */
  | { text: string; baseDir?: string };

export interface TransformRequest {
  stylesheet: StylesheetRef;
  input: string | Uint8Array;
  params?: Record<string, string>;
  /** Split the S3XML input into batches of top-level resources (record-local stylesheets). */
  chunked?: boolean;
  /** Chunked mode: resource names that are lookups for the others (see chunking/batches.ts). */
  chunkContext?: string[];
  /** Pass the input as the `$json` parameter (for json-to-xml()) and start at xsl:initial-template. */
  jsonInput?: boolean;
  timeoutMs?: number;
}

export interface TransformResult {
  output: string;
  mediaType: string;
  method: string;
  /** `xsl:message` output, in order. */
  messages: string[];
  durationMs: number;
  /** Batches, in chunked mode. */
  chunks?: number;
  /** Notes from compilation, e.g. stand-ins supplied for names the stylesheet does not define. */
  warnings?: string[];
  /** `xsl:result-document` outputs by URI (kept in memory, never written to disk). */
  resultDocuments?: Record<string, string>;
}

export interface StreamTransformRequest {
  stylesheet: StylesheetRef;
  /** Opens the S3XML input; called twice when chunkContext is given (lookup pass, then batches). */
  open: SourceOpener;
  params?: Record<string, string>;
  chunkContext?: string[];
  batchRecords?: number;
  /** Per batch. */
  timeoutMs?: number;
  onProgress?: (progress: { records: number; bytes: number; chunks: number }) => void;
}

export interface StreamTransformSummary {
  mediaType: string;
  method: string;
  messages: string[];
  warnings: string[];
  durationMs: number;
  chunks: number;
  records: number;
  /** Threads that ran the batches. */
  threads?: number;
}

export interface PreparedStylesheetInfo {
  mediaType: string;
  method: string;
  trusted: boolean;
  warnings: string[];
  globalParams: string[];
}

export interface TransformEngine {
  transform(request: TransformRequest): Promise<TransformResult>;
  /** Chunked streaming for big S3XML: output goes to `write` in order as batches finish. */
  transformStream(request: StreamTransformRequest, write: (text: string) => void | Promise<void>): Promise<StreamTransformSummary>;
  /** Compiles (and, for untrusted stylesheets, checks) without running: fails early on bad stylesheets. */
  prepare(stylesheet: StylesheetRef): Promise<PreparedStylesheetInfo>;
  close(): Promise<void>;
}

interface JobRunner {
  readonly size: number;
  run(job: PoolJob, sefText: string, timeoutMs: number): Promise<JobOutcome>;
  close(): Promise<void>;
}

interface PreparedStylesheet {
  compiled: CompiledStylesheet;
  /** Whole-document jobs. */
  runner: JobRunner;
  /** Batches of a chunked run: threads with bounded heaps (or the sandbox for untrusted sheets). */
  batchRunner: () => JobRunner;
  trusted: boolean;
  baseOutputUri: string;
  sandboxRoots?: string[];
}

const DEFAULT_TIMEOUT_MS = 30_000;
const DEFAULT_MAX_INPUT_BYTES = 64 * 1024 * 1024;
const DEFAULT_STACK_SIZE_MB = 32;
/** Batch sizes of chunked runs when the caller gives none (exported for tools/bench). */
export const CHUNKED_DEFAULTS = { batchRecords: 100, batchBytes: 1024 * 1024 } as const;
const DEFAULT_BATCH_RECORDS = CHUNKED_DEFAULTS.batchRecords;
const DEFAULT_BATCH_BYTES = CHUNKED_DEFAULTS.batchBytes;
const DEFAULT_BATCH_HEAP = { maxOldGenerationSizeMb: 64, maxYoungGenerationSizeMb: 8 };
const DEFAULT_BATCH_MEMORY_MB = 256;
/** Measured peak RSS of a chunked run, before and per batch thread (see batchMemoryMb). */
const BATCH_PROCESS_MB = 80;
const BATCH_THREAD_MB = 110;
/** Whole-document jobs run on a pooled thread up to this heap estimate (see heapNeededMb). */
const DEFAULT_POOLED_JOB_HEAP_MB = 256;
const MIN_RECORD_HEAP_MB = 256;
const MAX_DEFAULT_RECORD_HEAP_MB = 1536;
const DEFAULT_COMPILE_CACHE_LIMITS = { maxUnusedDays: 30, maxBytes: 256 * 1024 * 1024 };
const MAX_MESSAGES = 1_000;
/** Sandboxes with different folder grants are different processes; keep a few warm. */
const MAX_SANDBOXES = 3;

function defaultMaxRecordHeapMb(): number {
  const quarter = Math.floor(os.totalmem() / (4 * 1024 * 1024));
  return Math.min(MAX_DEFAULT_RECORD_HEAP_MB, Math.max(MIN_RECORD_HEAP_MB, quarter));
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

function stylesheetNotFound(file: string): SluiceError {
  return new SluiceError('XSLT_STYLESHEET_NOT_FOUND', `no stylesheet at ${file}`, {
    status: 404,
    fix: 'Check the stylesheet path or format name',
    details: { stylesheet: file },
  });
}

class Engine implements TransformEngine {
  private readonly stylesheetsDir: string;
  private readonly cacheDir: string;
  private readonly allowedDirs: string[];
  private readonly workers: number;
  private readonly timeoutMs: number;
  private readonly maxInputBytes: number;
  private readonly compiler: StylesheetCompiler;
  private pool: WorkerPool | undefined;
  private batchPool: WorkerPool | undefined;
  private oversized: OversizedLane | undefined;
  private readonly sandboxes = new Map<string, SandboxRunner>();
  private readonly trees = new Map<string, { signature: string; tree: StylesheetTree }>();
  private closed = false;

  constructor(private readonly options: TransformEngineOptions) {
    this.stylesheetsDir = path.resolve(options.stylesheetsDir);
    this.cacheDir = path.resolve(options.cacheDir);
    this.allowedDirs = (options.allowedDirs ?? []).map((dir) => path.resolve(dir));
    this.workers = Math.max(1, options.workers ?? os.availableParallelism());
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.maxInputBytes = options.maxInputBytes ?? DEFAULT_MAX_INPUT_BYTES;
    this.compiler = new StylesheetCompiler({
      cacheDir: this.cacheDir,
      now: options.now ?? Date.now,
      limits: { ...DEFAULT_COMPILE_CACHE_LIMITS, ...options.compileCache },
    });
  }

  async prepare(stylesheet: StylesheetRef): Promise<PreparedStylesheetInfo> {
    const prepared = await this.prepareStylesheet(stylesheet);
    return {
      mediaType: prepared.compiled.info.mediaType,
      method: prepared.compiled.info.method,
      trusted: prepared.trusted,
      warnings: prepared.compiled.warnings,
      globalParams: prepared.compiled.info.globalParams,
    };
  }

  async transform(request: TransformRequest): Promise<TransformResult> {
    const started = performance.now();
    const timeoutMs = request.timeoutMs ?? this.timeoutMs;
    if (request.chunked) {
      const chunks: string[] = [];
      const input = request.input;
      const bytes = typeof input === 'string' ? Buffer.from(input, 'utf8') : input;
      const summary = await this.transformStream(
        {
          stylesheet: request.stylesheet,
          open: async function* () {
            yield bytes;
          },
          ...(request.params ? { params: request.params } : {}),
          ...(request.chunkContext ? { chunkContext: request.chunkContext } : {}),
          timeoutMs,
        },
        (text) => {
          chunks.push(text);
        },
      );
      return {
        output: chunks.join(''),
        mediaType: summary.mediaType,
        method: summary.method,
        messages: summary.messages,
        durationMs: performance.now() - started,
        chunks: summary.chunks,
        warnings: summary.warnings,
      };
    }

    let job: PoolJob;
    const prepared = await this.prepareStylesheet(request.stylesheet);
    const params = { ...(request.params ?? {}) };
    if (request.jsonInput) {
      const bytes = byteLengthOf(request.input);
      if (bytes > this.maxInputBytes) throw inputTooLarge(bytes, this.maxInputBytes);
      params['json'] = typeof request.input === 'string' ? request.input : new TextDecoder('utf-8').decode(request.input);
      job = this.jobFor(prepared, undefined, params);
    } else {
      job = this.jobFor(prepared, admitXmlInput(request.input, this.maxInputBytes), params);
    }
    const bytes = byteLengthOf(request.input);
    const success =
      heapNeededMb(bytes) > this.pooledJobHeapMb() ? await this.runOversizedDocument(prepared, job, request.input, timeoutMs) : await this.runJob(prepared, job, timeoutMs);
    const result: TransformResult = {
      output: success.output,
      mediaType: prepared.compiled.info.mediaType,
      method: prepared.compiled.info.method,
      messages: success.messages,
      durationMs: performance.now() - started,
    };
    if (prepared.compiled.warnings.length > 0) result.warnings = prepared.compiled.warnings;
    if (Object.keys(success.resultDocuments).length > 0) result.resultDocuments = success.resultDocuments;
    return result;
  }

  async transformStream(request: StreamTransformRequest, write: (text: string) => void | Promise<void>): Promise<StreamTransformSummary> {
    const started = performance.now();
    const timeoutMs = request.timeoutMs ?? this.timeoutMs;
    const prepared = await this.prepareStylesheet(request.stylesheet);
    const { method } = prepared.compiled.info;
    if (!['xml', 'xhtml', 'html', 'text'].includes(method)) {
      throw new SluiceError('XSLT_CHUNKING_UNSUPPORTED', `chunked transforms join XML or text outputs; this stylesheet's output method is ${method}`, {
        status: 422,
        fix: 'Transform the document whole (without chunking)',
      });
    }
    const params = request.params ?? {};
    const contextNames = request.chunkContext ?? [];
    // Lookup context beyond a few MiB goes to a scratch file, so memory stays flat however many
    // lookup resources the input holds.
    const context = contextNames.length > 0 ? await collectContext(request.open, contextNames, { spillDir: path.join(this.cacheDir, 'tmp') }) : new Map<string, Buffer>();
    const batchOptions = {
      records: Math.max(1, request.batchRecords ?? this.options.batchRecords ?? DEFAULT_BATCH_RECORDS),
      bytes: Math.min(DEFAULT_BATCH_BYTES, this.maxInputBytes),
      contextResources: contextNames,
    };

    const messages: string[] = [];
    let joiner: OutputJoiner | undefined;
    let chunks = 0;
    let records = 0;
    let bytes = 0;
    const runner = prepared.batchRunner();
    // Two batches per thread keep every thread busy while the next batch is being cut.
    const maxInFlight = runner.size * 2;
    const inFlight: { batch: BatchDocument; outcome: Promise<JobOutcome>; oversized?: { timeoutMs: number } }[] = [];

    const drainOne = async (): Promise<void> => {
      const { batch, outcome, oversized } = inFlight.shift()!;
      const result = await outcome;
      if (!result.ok) {
        if (oversized && result.kind === 'out-of-memory') throw this.recordTooLargeError(batch, true);
        throw errorFromFailure(result, {
          modules: prepared.compiled.modules,
          timeoutMs: oversized?.timeoutMs ?? timeoutMs,
          batch: { index: batch.index, offset: batch.offset },
          ...(oversized ? this.heapContext() : {}),
        });
      }
      for (const message of result.messages) if (messages.length < MAX_MESSAGES) messages.push(message);
      chunks++;
      records += batch.records;
      bytes += batch.bytes.length;
      const text = joiner!.add(result.output);
      if (text) await write(text);
      request.onProgress?.({ records, bytes, chunks });
    };

    try {
      for await (const event of batchDocuments(request.open, batchOptions, context)) {
        if ('frame' in event) {
          if (method === 'text') {
            const empty = `${event.frame.prolog}${event.frame.rootStartTag}${event.frame.rootEndTag}`;
            const frame = await runner.run(this.jobFor(prepared, empty, params), prepared.compiled.sefText, timeoutMs);
            joiner = new TextFrameJoiner(frame.ok ? frame.output : '');
          } else joiner = new XmlRootJoiner();
          continue;
        }
        const { batch } = event;
        if (batch.bytes.length > this.maxInputBytes) throw inputTooLarge(batch.bytes.length, this.maxInputBytes, `batch ${batch.index + 1}`);
        const job = this.jobFor(prepared, batch.bytes, params);
        if (batch.records === 1 && batch.bytes.length > batchOptions.bytes) {
          // One record bigger than the batch cap would not fit a batch thread's heap; a thread
          // that overflows its heap can take the whole process down, so it runs in the lane.
          if (heapFloorMb(batch.bytes.length) > this.oversizedLane().maxHeapMb) throw this.recordTooLargeError(batch, false);
          const oversized = { timeoutMs: oversizedTimeoutMs(timeoutMs, batch.bytes.length) };
          inFlight.push({ batch, outcome: this.runInLane(prepared, job, oversized.timeoutMs), oversized });
        } else inFlight.push({ batch, outcome: runner.run(job, prepared.compiled.sefText, timeoutMs) });
        if (inFlight.length >= maxInFlight) await drainOne();
      }
      while (inFlight.length > 0) await drainOne();
    } catch (error) {
      // Let the batches already handed out finish before reporting, so no thread is left busy.
      await Promise.allSettled(inFlight.map((entry) => entry.outcome));
      throw error;
    } finally {
      if (context instanceof ContextStore) await context.close();
    }
    const closing = joiner?.finish() ?? '';
    if (closing) await write(closing);
    return {
      mediaType: prepared.compiled.info.mediaType,
      method,
      messages,
      warnings: prepared.compiled.warnings,
      durationMs: performance.now() - started,
      chunks,
      records,
      threads: runner.size,
    };
  }

  async close(): Promise<void> {
    this.closed = true;
    const closing: Promise<void>[] = [];
    if (this.pool) closing.push(this.pool.close());
    if (this.batchPool) closing.push(this.batchPool.close());
    this.batchPool = undefined;
    if (this.oversized) closing.push(this.oversized.close());
    this.oversized = undefined;
    for (const sandbox of this.sandboxes.values()) closing.push(sandbox.close());
    this.sandboxes.clear();
    this.pool = undefined;
    await Promise.all(closing);
  }

  private jobFor(prepared: PreparedStylesheet, source: string | Uint8Array | undefined, params: Record<string, string>): PoolJob {
    const job: PoolJob = { stylesheetKey: prepared.compiled.key, params, baseOutputUri: prepared.baseOutputUri };
    if (typeof source === 'string') job.sourceText = source;
    else if (source !== undefined) job.sourceBytes = source;
    if (prepared.sandboxRoots) job.sandboxRoots = prepared.sandboxRoots;
    return job;
  }

  private async runJob(prepared: PreparedStylesheet, job: PoolJob, timeoutMs: number): Promise<JobSuccess> {
    const outcome = await prepared.runner.run(job, prepared.compiled.sefText, timeoutMs);
    if (!outcome.ok) throw errorFromFailure(outcome, { modules: prepared.compiled.modules, timeoutMs });
    return outcome;
  }

  /** Heap estimate up to which a whole-document job runs on a pooled thread. */
  private pooledJobHeapMb(): number {
    const configured = this.options.maxOldGenerationSizeMb;
    return configured ? Math.min(DEFAULT_POOLED_JOB_HEAP_MB, configured) : DEFAULT_POOLED_JOB_HEAP_MB;
  }

  private oversizedLane(): OversizedLane {
    if (this.closed) throw new SluiceError('XSLT_ENGINE_CLOSED', 'the transform engine is closed', { status: 503 });
    this.oversized ??= new OversizedLane({
      maxHeapMb: this.options.maxRecordHeapMb ?? defaultMaxRecordHeapMb(),
      stackSizeMb: this.options.stackSizeMb ?? DEFAULT_STACK_SIZE_MB,
    });
    return this.oversized;
  }

  private runInLane(prepared: PreparedStylesheet, job: PoolJob, timeoutMs: number): Promise<JobOutcome> {
    return this.oversizedLane().run({
      job,
      sefText: prepared.compiled.sefText,
      timeoutMs,
      ...(prepared.sandboxRoots ? { sandboxRoots: prepared.sandboxRoots } : {}),
    });
  }

  private heapContext(): { heapLimitMb: number; heapSetting?: string } {
    return {
      heapLimitMb: this.oversizedLane().maxHeapMb,
      ...(this.options.maxRecordHeapSetting ? { heapSetting: this.options.maxRecordHeapSetting } : {}),
    };
  }

  private recordTooLargeError(batch: BatchDocument, tried: boolean): SluiceError {
    const first = batch.firstRecord;
    const record: OversizedRecord = { bytes: batch.bytes.length, offset: batch.offset };
    if (first?.name) record.resource = first.name;
    if (first?.uuid) record.uuid = first.uuid;
    if (first && first.element !== 'resource') record.element = first.element;
    return this.tooLarge(record, tried);
  }

  private tooLarge(record: OversizedRecord, tried: boolean): SluiceError {
    const { heapLimitMb, heapSetting } = this.heapContext();
    return recordTooLarge(record, {
      limitMb: heapLimitMb,
      ...(tried ? {} : { floorMb: heapFloorMb(record.bytes) }),
      // Past a failed try, double the limit at least: the typical need did not hold for this stylesheet.
      suggestedMb: Math.max(heapNeededMb(record.bytes), tried ? heapLimitMb * 2 : 0),
      ...(heapSetting ? { setting: heapSetting } : {}),
    });
  }

  /**
   * A whole document too big for a pooled thread. When it runs out of memory and one record makes
   * up most of it, the error names that record, since that is what the user can act on.
   */
  private async runOversizedDocument(prepared: PreparedStylesheet, job: PoolJob, input: string | Uint8Array, timeoutMs: number): Promise<JobSuccess> {
    const bytes = byteLengthOf(input);
    const allowedMs = oversizedTimeoutMs(timeoutMs, bytes);
    const outcome = await this.runInLane(prepared, job, allowedMs);
    if (outcome.ok) return outcome;
    if (outcome.kind === 'out-of-memory') {
      const largest = await largestTopLevelElement(input);
      if (largest && largest.bytes * 2 > bytes) throw this.tooLarge(largest, true);
    }
    throw errorFromFailure(outcome, { modules: prepared.compiled.modules, timeoutMs: allowedMs, ...this.heapContext() });
  }

  private trustedPool(): WorkerPool {
    if (this.closed) throw new SluiceError('XSLT_ENGINE_CLOSED', 'the transform engine is closed', { status: 503 });
    this.pool ??= new WorkerPool({
      size: this.workers,
      stackSizeMb: this.options.stackSizeMb ?? DEFAULT_STACK_SIZE_MB,
      ...this.heapLimits(),
    });
    return this.pool;
  }

  private batchThreads(): WorkerPool {
    if (this.closed) throw new SluiceError('XSLT_ENGINE_CLOSED', 'the transform engine is closed', { status: 503 });
    this.batchPool ??= new WorkerPool({
      size: this.batchWorkerCount(),
      stackSizeMb: this.options.stackSizeMb ?? DEFAULT_STACK_SIZE_MB,
      ...(this.options.batchHeap ?? DEFAULT_BATCH_HEAP),
    });
    return this.batchPool;
  }

  private batchWorkerCount(): number {
    if (this.options.batchWorkers) return Math.max(1, this.options.batchWorkers);
    const budget = this.options.batchMemoryMb ?? DEFAULT_BATCH_MEMORY_MB;
    const fitting = Math.floor((budget - BATCH_PROCESS_MB) / BATCH_THREAD_MB);
    return Math.min(this.workers, Math.max(1, fitting));
  }

  private heapLimits(): { maxOldGenerationSizeMb?: number; maxYoungGenerationSizeMb?: number } {
    return {
      ...(this.options.maxOldGenerationSizeMb ? { maxOldGenerationSizeMb: this.options.maxOldGenerationSizeMb } : {}),
      ...(this.options.maxYoungGenerationSizeMb ? { maxYoungGenerationSizeMb: this.options.maxYoungGenerationSizeMb } : {}),
    };
  }

  private sandboxFor(roots: string[]): SandboxRunner {
    if (this.closed) throw new SluiceError('XSLT_ENGINE_CLOSED', 'the transform engine is closed', { status: 503 });
    const key = [...new Set(roots)].sort().join('\n');
    let sandbox = this.sandboxes.get(key);
    if (sandbox) {
      this.sandboxes.delete(key);
      this.sandboxes.set(key, sandbox);
      return sandbox;
    }
    sandbox = new SandboxRunner({
      readDirectories: [...new Set(roots)],
      pool: {
        size: this.workers,
        stackSizeMb: this.options.stackSizeMb ?? DEFAULT_STACK_SIZE_MB,
        ...this.heapLimits(),
      },
    });
    this.sandboxes.set(key, sandbox);
    if (this.sandboxes.size > MAX_SANDBOXES) {
      const [oldestKey, oldest] = this.sandboxes.entries().next().value!;
      this.sandboxes.delete(oldestKey);
      void oldest.close();
    }
    return sandbox;
  }

  /** Parses the stylesheet's modules again only when one of them changed on disk. */
  private async treeFor(file: string, allowedRoots?: string[]): Promise<StylesheetTree> {
    const known = this.trees.get(file);
    if (known && !allowedRoots) {
      const signature = await this.signatureOf(known.tree.modules.map((module) => module.path));
      if (signature === known.signature) return known.tree;
    }
    const tree = await loadStylesheetTree(file, allowedRoots ? { allowedRoots } : {});
    if (!allowedRoots) this.trees.set(file, { signature: await this.signatureOf(tree.modules.map((module) => module.path)), tree });
    return tree;
  }

  private async signatureOf(files: string[]): Promise<string> {
    const parts = await Promise.all(
      files.map(async (file) => {
        try {
          const info = await stat(file);
          return `${file}:${info.mtimeMs}:${info.size}`;
        } catch {
          return `${file}:missing`;
        }
      }),
    );
    return parts.join('\n');
  }

  private async prepareStylesheet(reference: StylesheetRef): Promise<PreparedStylesheet> {
    if (this.closed) throw new SluiceError('XSLT_ENGINE_CLOSED', 'the transform engine is closed', { status: 503 });
    if ('path' in reference) {
      const file = path.resolve(this.stylesheetsDir, reference.path);
      try {
        if (!(await stat(file)).isFile()) throw stylesheetNotFound(file);
      } catch (error) {
        if (error instanceof SluiceError) throw error;
        throw stylesheetNotFound(file);
      }
      const folder = path.dirname(file);
      if (isWithin(file, [this.stylesheetsDir])) {
        const tree = await this.treeFor(file);
        const key = stylesheetTreeKey(tree);
        const compiled = (await this.compiler.loadIfCurrent(besideSefPath(file), key)) ?? (await this.compiler.compile(tree));
        return {
          compiled,
          runner: this.trustedPool(),
          batchRunner: () => this.batchThreads(),
          trusted: true,
          baseOutputUri: pathToFileURL(folder + path.sep).href,
        };
      }
      return this.prepareUntrusted(file, undefined, [folder, ...this.allowedDirs]);
    }
    const hash = sha256(reference.text);
    if (reference.baseDir) {
      const baseDir = path.resolve(reference.baseDir);
      return this.prepareUntrusted(path.join(baseDir, `upload-${hash.slice(0, 16)}.xsl`), reference.text, [baseDir, ...this.allowedDirs]);
    }
    // Without a folder of its own, an upload lives in the uploads folder so document('') works.
    const uploads = path.join(this.cacheDir, 'uploads');
    const file = path.join(uploads, `upload-${hash.slice(0, 16)}.xsl`);
    await mkdir(uploads, { recursive: true });
    await writeFile(file, reference.text);
    return this.prepareUntrusted(file, reference.text, [uploads, ...this.allowedDirs], false);
  }

  private async prepareUntrusted(file: string, text: string | undefined, roots: string[], virtual = text !== undefined): Promise<PreparedStylesheet> {
    const tree = await loadStylesheetTree(file, { allowedRoots: roots, ...(text !== undefined ? { principalText: text } : {}) });
    checkUntrustedStylesheet(tree, roots);
    const compiled = await this.compiler.compile(tree, { sandboxReadDirectories: roots, principalIsVirtual: virtual });
    const sandbox = this.sandboxFor(roots);
    return {
      compiled,
      runner: sandbox,
      batchRunner: () => sandbox,
      trusted: false,
      baseOutputUri: pathToFileURL(path.dirname(file) + path.sep).href,
      sandboxRoots: roots,
    };
  }
}

/** The biggest child of the document's root, or undefined when the input does not split. */
async function largestTopLevelElement(input: string | Uint8Array): Promise<OversizedRecord | undefined> {
  const bytes = typeof input === 'string' ? Buffer.from(input, 'utf8') : input;
  let largest: OversizedRecord | undefined;
  try {
    for await (const event of splitS3XML(
      (async function* () {
        yield bytes;
      })(),
    )) {
      if (event.kind !== 'item' || (largest && largest.bytes >= event.item.bytes.length)) continue;
      const { item } = event;
      largest = { bytes: item.bytes.length, offset: item.offset };
      if (item.name) largest.resource = item.name;
      if (item.uuid) largest.uuid = item.uuid;
      if (item.element !== 'resource') largest.element = item.element;
    }
  } catch {
    return undefined;
  }
  return largest;
}

export function createTransformEngine(options: TransformEngineOptions): TransformEngine {
  return new Engine(options);
}
