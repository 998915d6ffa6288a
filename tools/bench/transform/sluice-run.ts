/**
 * One Sluice transform run in its own process, so its peak RSS (main thread + worker threads) is
 * measured alone. Prints one JSON line. Used by run.ts:
 *
 *   node [--import tsx] sluice-run.ts --engine <engine.js|engine.ts> --mode whole|chunked
 *        --stylesheet F --input F --output F [--workers N] [--batch N] [--cache DIR]
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { once } from 'node:events';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { pathToFileURL } from 'node:url';
import type { createTransformEngine as CreateEngine } from '../../../src/transform/engine.js';

const { values } = parseArgs({
  options: {
    engine: { type: 'string' },
    mode: { type: 'string' },
    stylesheet: { type: 'string' },
    input: { type: 'string' },
    output: { type: 'string' },
    workers: { type: 'string', default: '2' },
    batch: { type: 'string', default: '200' },
    cache: { type: 'string' },
    'max-input': { type: 'string' },
  },
});

const { createTransformEngine } = (await import(pathToFileURL(path.resolve(values.engine!)).href)) as { createTransformEngine: typeof CreateEngine };
const stylesheet = path.resolve(values.stylesheet!);
const engine = createTransformEngine({
  stylesheetsDir: path.dirname(stylesheet),
  cacheDir: values.cache ?? path.join(path.dirname(values.output!), 'cache'),
  workers: Number(values.workers),
  batchWorkers: Number(values.workers),
  batchRecords: Number(values.batch),
  timeoutMs: 3_600_000,
  ...(values['max-input'] ? { maxInputBytes: Number(values['max-input']) } : {}),
});

// Compile (or load the cached SEF) and start nothing else before the clock starts.
await engine.prepare({ path: stylesheet });
const cpuBefore = process.cpuUsage();
const started = performance.now();
let records = 0;
let chunks = 0;
const out = createWriteStream(values.output!);
if (values.mode === 'chunked') {
  const summary = await engine.transformStream(
    {
      stylesheet: { path: stylesheet },
      open: () => createReadStream(values.input!, { highWaterMark: 256 * 1024 }),
      chunkContext: ['gis_location'],
    },
    async (text) => {
      if (!out.write(text)) await once(out, 'drain');
    },
  );
  records = summary.records;
  chunks = summary.chunks;
} else {
  const result = await engine.transform({ stylesheet: { path: stylesheet }, input: await readFile(values.input!) });
  out.write(result.output);
}
out.end();
await once(out, 'finish');
const wallMs = performance.now() - started;
const cpu = process.cpuUsage(cpuBefore);
await engine.close();
process.stdout.write(
  `${JSON.stringify({
    wallMs,
    cpuMs: (cpu.user + cpu.system) / 1000,
    maxRssMb: process.resourceUsage().maxRSS / 1024,
    records,
    chunks,
  })}\n`,
);
