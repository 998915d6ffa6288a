import { createReadStream, createWriteStream } from 'node:fs';
import { readFile, rename, rm, stat } from 'node:fs/promises';
import { once } from 'node:events';
import path from 'node:path';
import type { Writable } from 'node:stream';
import type { Command } from 'commander';
import { SluiceError } from '../../errors.js';
import { createTransformEngine, type StylesheetRef, type TransformEngine } from '../../transform/engine.js';
import { configFrom } from '../context.js';
import { engineLimits } from '../../config.js';
import { exitCodeFor } from '../exit-codes.js';
import { describeFailure } from '../failure-report.js';
import { createProgress } from '../progress.js';

/**
 * `sluice transform`: run a stylesheet over a file, the way the gateway would.
 *
 *   sluice transform --stylesheet map.xsl [--param name=value]… [--chunked] [-o out] INPUT
 *   sluice transform --format cap --direction export [-o out] INPUT
 *
 * A stylesheet outside the stylesheets folder runs sandboxed. `--chunked` declares the stylesheet
 * record-local: the S3XML input is cut into batches of top-level resources that are transformed in
 * parallel and joined in order, so memory stays bounded whatever the input size.
 */

interface TransformCommandOptions {
  stylesheet?: string;
  format?: string;
  direction?: string;
  param?: string[];
  chunked?: boolean;
  chunkContext?: string;
  batch?: string;
  jsonInput?: boolean;
  output?: string;
  workers?: string;
  timeout?: string;
  data?: string;
}

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

function usage(message: string, fix: string): SluiceError {
  return new SluiceError('BAD_ARGUMENTS', message, { fix });
}

function parseParams(pairs: string[]): Record<string, string> {
  const params: Record<string, string> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw usage(`--param "${pair}" is not name=value`, 'Write --param domain=example.org');
    params[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return params;
}

function positiveInteger(value: string | undefined, option: string): number | undefined {
  if (value === undefined) return undefined;
  const number = Number(value);
  if (!Number.isInteger(number) || number < 1) throw usage(`${option} must be a positive whole number`, `Write ${option} 2`);
  return number;
}

function stylesheetFrom(options: TransformCommandOptions): StylesheetRef {
  if (options.stylesheet && options.format) throw usage('give either --stylesheet or --format, not both', 'Drop one of them');
  if (options.stylesheet) return { path: path.resolve(options.stylesheet) };
  if (!options.format) throw usage('no stylesheet given', 'Add --stylesheet FILE.xsl, or --format NAME --direction import|export');
  if (options.direction !== 'import' && options.direction !== 'export') {
    throw usage('--format needs --direction import or --direction export', 'Add --direction import or --direction export');
  }
  if (!/^[A-Za-z0-9_-]+$/.test(options.format)) throw usage(`"${options.format}" is not a format name`, 'Use a folder name under stylesheets/, e.g. cap');
  return { path: `${options.format}/${options.direction}.xsl` };
}

async function readInput(input: string): Promise<Buffer> {
  if (input !== '-') return readFile(input);
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** Writes the output, remembering whether it ended a line (a terminal prompt must not follow it). */
function outputWriter(out: Writable): { write(text: string): Promise<void>; endsLine(): boolean } {
  let last = '\n';
  return {
    async write(text) {
      if (text.length > 0) last = text[text.length - 1]!;
      if (!out.write(text)) await once(out, 'drain');
    },
    endsLine: () => last === '\n',
  };
}

async function run(input: string, options: TransformCommandOptions, engine: TransformEngine): Promise<void> {
  const stylesheet = stylesheetFrom(options);
  const params = parseParams(options.param ?? []);
  const temporary = options.output ? `${options.output}.partial` : undefined;
  const out: Writable = temporary ? createWriteStream(temporary) : process.stdout;
  const writer = outputWriter(out);
  try {
    if (options.chunked) {
      if (input === '-' && options.chunkContext) {
        throw usage('--chunk-context reads the input twice, which stdin cannot do', 'Give the input as a file');
      }
      const total = input === '-' ? 0 : (await stat(input)).size;
      const progress = createProgress();
      if (temporary && total > 0) progress.start(total, 'transform');
      const batchRecords = positiveInteger(options.batch, '--batch');
      await engine.transformStream(
        {
          stylesheet,
          open: () => (input === '-' ? process.stdin : createReadStream(input, { highWaterMark: 256 * 1024 })),
          params,
          ...(options.chunkContext ? { chunkContext: options.chunkContext.split(',').map((name) => name.trim()).filter(Boolean) } : {}),
          ...(batchRecords ? { batchRecords } : {}),
          onProgress: ({ bytes }) => progress.update(Math.min(bytes, total)),
        },
        (text) => writer.write(text),
      );
      progress.stop();
    } else {
      const result = await engine.transform({ stylesheet, input: await readInput(input), params, jsonInput: options.jsonInput ?? false });
      for (const message of result.messages) process.stderr.write(`xsl:message: ${message}\n`);
      await writer.write(result.output);
    }
    // Files keep the stylesheet's bytes exactly; on stdout the output ends its line.
    if (!temporary && !writer.endsLine()) await writer.write('\n');
    if (temporary) {
      out.end();
      await once(out, 'finish');
      await rename(temporary, options.output!);
    }
  } catch (error) {
    if (temporary) {
      out.destroy();
      await rm(temporary, { force: true });
    }
    throw error;
  }
}

export function registerTransformCommand(program: Command): void {
  program
    .command('transform')
    .description('run an XSLT stylesheet (or a format\'s import/export stylesheet) over a file')
    .argument('<input>', 'the input file (- for stdin)')
    .option('--stylesheet <file>', 'the stylesheet to run (.xsl); sandboxed unless it is under stylesheets/')
    .option('--format <name>', 'use stylesheets/<name>/<direction>.xsl')
    .option('--direction <direction>', 'import or export (with --format)')
    .option('--param <name=value>', 'a stylesheet parameter (repeatable)', collect)
    .option('--chunked', 'the stylesheet is record-local: transform S3XML in batches, in parallel')
    .option('--chunk-context <names>', 'with --chunked: comma-separated resource names used as lookups (e.g. gis_location)')
    .option('--batch <records>', 'with --chunked: records per batch')
    .option('--json-input', 'pass the input as the $json parameter and start at xsl:initial-template')
    .option('-o, --output <file>', 'write the result to this file instead of stdout')
    .option('--workers <n>', 'worker threads (default: one per core; with --chunked, as many as fit in 256 MB)')
    .option('--timeout <ms>', 'time limit per transform (per batch with --chunked)')
    .option('--data <dir>', 'data directory (the compiled-stylesheet cache lives there)')
    .action(async (input: string, options: TransformCommandOptions) => {
      let engine: TransformEngine | undefined;
      try {
        const config = configFrom(options.data ? { data: options.data } : {});
        const workers = positiveInteger(options.workers, '--workers');
        const timeoutMs = positiveInteger(options.timeout, '--timeout');
        engine = createTransformEngine({
          stylesheetsDir: config.stylesheetsDir,
          cacheDir: path.join(config.dataDir, 'cache', 'xslt'),
          ...(workers ? { workers, batchWorkers: workers } : {}),
          ...(timeoutMs ? { timeoutMs } : {}),
          ...engineLimits(config),
        });
        await run(input, options, engine);
      } catch (error) {
        // Reported here rather than thrown, so the engine is closed before the report; the exit
        // status and the report are the same as for every other command.
        process.stderr.write(describeFailure(error));
        process.exitCode = exitCodeFor(error);
      } finally {
        await engine?.close();
      }
    });
}
