/**
 * One Sluice transform run in its own process, so its peak RSS (main thread + worker threads) is
 * measured alone. Prints one JSON line. Used by run.ts:
 *
 *   node [--import tsx] sluice-run.ts --engine <engine.js|engine.ts> --mode whole|chunked
 *        --stylesheet F --input F --output F [--workers N|auto] [--batch N] [--cache DIR]
 *
 * `--workers auto` (and no `--batch`) leaves the engine's defaults alone: that is the default
 * configuration whose memory the benchmark checks.
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { once } from 'node:events';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { pathToFileURL } from 'node:url';
import type { createTransformEngine as CreateEngine, TransformEngineOptions } from '../../../src/transform/engine.js';

const { values } = parseArgs({
  options: {
    engine: { type: 'string' },
    mode: { type: 'string' },
    stylesheet: { type: 'string' },
    input: { type: 'string' },
    output: { type: 'string' },
    workers: { type: 'string', default: 'auto' },
    batch: { type: 'string' },
    cache: { type: 'string' },
    'max-input': { type: 'string' },
  },
});

const { createTransformEngine } = (await import(pathToFileURL(path.resolve(values.engine!)).href)) as { createTransformEngine: typeof CreateEngine };
const stylesheet = path.resolve(values.stylesheet!);
const options: TransformEngineOptions = {
  stylesheetsDir: path.dirname(stylesheet),
  cacheDir: values.cache ?? path.join(path.dirname(values.output!), 'cache'),
  timeoutMs: 3_600_000,
  ...(values['max-input'] ? { maxInputBytes: Number(values['max-input']) } : {}),
};
if (values.workers !== 'auto') Object.assign(options, { workers: Number(values.workers), batchWorkers: Number(values.workers) });
if (values.batch) options.batchRecords = Number(values.batch);
const engine = createTransformEngine(options);

// Compile (or load the cached SEF) and start nothing else before the clock starts.
await engine.prepare({ path: stylesheet });

// RSS sampled through the run: the peak alone does not show whether memory creeps up with input.
const samples: { at: number; rssMb: number; records: number }[] = [];
let records = 0;
let chunks = 0;
const sampler = setInterval(() => samples.push({ at: performance.now(), rssMb: process.memoryUsage.rss() / 1048576, records }), 250);

const cpuBefore = process.cpuUsage();
const started = performance.now();
let threads: number | undefined;
const out = createWriteStream(values.output!);
if (values.mode === 'chunked') {
  const summary = await engine.transformStream(
    {
      stylesheet: { path: stylesheet },
      open: () => createReadStream(values.input!, { highWaterMark: 256 * 1024 }),
      chunkContext: ['gis_location'],
      onProgress: (progress) => {
        records = progress.records;
      },
    },
    async (text) => {
      if (!out.write(text)) await once(out, 'drain');
    },
  );
  records = summary.records;
  chunks = summary.chunks;
  threads = summary.threads;
} else {
  const result = await engine.transform({ stylesheet: { path: stylesheet }, input: await readFile(values.input!) });
  out.write(result.output);
}
out.end();
await once(out, 'finish');
const wallMs = performance.now() - started;
const cpu = process.cpuUsage(cpuBefore);
clearInterval(sampler);
await engine.close();

/** Highest sampled RSS in each quarter of the run: flat quarters mean memory does not creep. */
function quarters(): number[] {
  const result = [0, 0, 0, 0];
  for (const sample of samples) {
    const quarter = Math.min(3, Math.floor(((sample.at - started) / wallMs) * 4));
    if (quarter >= 0) result[quarter] = Math.max(result[quarter]!, Math.round(sample.rssMb));
  }
  return result;
}

process.stdout.write(
  `${JSON.stringify({
    wallMs,
    cpuMs: (cpu.user + cpu.system) / 1000,
    maxRssMb: process.resourceUsage().maxRSS / 1024,
    rssQuartersMb: quarters(),
    records,
    chunks,
    threads,
  })}\n`,
);
