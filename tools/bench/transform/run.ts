/**
 * Transform benchmark: the same XSLT 1.0 S3XML → CSV mapping (keys, a lookup table read with
 * document(), recursive templates, sorting) through xsltproc, Saxon-HE (Java, when installed) and
 * Sluice (whole document, and chunked on the worker pool), on generated S3XML with 10k and 100k
 * organisations. Checks that every output is byte-identical to xsltproc's and prints records/s,
 * CPU seconds, peak RSS and the ratio to xsltproc, then where Sluice's time goes.
 *
 *   node --import tsx tools/bench/transform/run.ts [--records 10000,100000] [--workers 2,1]
 *        [--batch 200] [--engine dist|src] [--work DIR] [--skip-batched-xsltproc]
 *
 * `--engine dist` (default) compiles src/ to .tmp/bench-dist first, so the workers run plain JS as
 * in production; `src` runs the TypeScript through tsx (slower start, more memory).
 */
import { execFile, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs, promisify } from 'node:util';
import { createReadStream } from 'node:fs';
import { batchDocuments, collectContext } from '../../../src/transform/chunking/batches.js';
import { StylesheetCompiler } from '../../../src/transform/compile/stylesheet-compiler.js';
import { loadStylesheetTree } from '../../../src/transform/stylesheet/module-tree.js';
import { writeS3XML } from './generate.js';

const execFileAsync = promisify(execFile);
const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, '../../..');
const STYLESHEET = path.join(HERE, 's3xml-to-csv.xsl');
const CSV_HEADER = 'uuid,name,acronym,type,country,website,phone,sectors,location,lat,lon,modified,status,offices,office_list,comments\n';

const { values } = parseArgs({
  options: {
    records: { type: 'string', default: '10000,100000' },
    workers: { type: 'string', default: os.availableParallelism() > 1 ? `${os.availableParallelism()},1` : '1' },
    batch: { type: 'string', default: '200' },
    engine: { type: 'string', default: 'dist' },
    work: { type: 'string', default: path.join(os.tmpdir(), 'sluice-bench-transform') },
    'skip-batched-xsltproc': { type: 'boolean', default: false },
    'whole-max-mb': { type: 'string', default: '64' },
  },
});

interface Row {
  engine: string;
  mode: string;
  records: number;
  wallS: number;
  cpuS: number | undefined;
  rssMb: number | undefined;
  identical: boolean | undefined;
  note?: string;
}

function sha256(text: string | Buffer): string {
  return createHash('sha256').update(text).digest('hex');
}

/** Runs a command under GNU time for wall, CPU and peak RSS. */
async function timed(command: string, args: string[], stdoutFile?: string): Promise<{ wallS: number; cpuS: number; rssMb: number; stdout: string }> {
  const useTime = existsSync('/usr/bin/time');
  const started = performance.now();
  const child = spawn(useTime ? '/usr/bin/time' : command, useTime ? ['-f', 'BENCH %e %U %S %M', command, ...args] : args, {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const out: Buffer[] = [];
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  const wallS = (performance.now() - started) / 1000;
  if (code !== 0) throw new Error(`${command} failed (${code}): ${stderr.slice(-2000)}`);
  const stdout = Buffer.concat(out);
  if (stdoutFile) await writeFile(stdoutFile, stdout);
  const line = /BENCH ([\d.]+) ([\d.]+) ([\d.]+) (\d+)/.exec(stderr);
  return {
    wallS: line ? Number(line[1]) : wallS,
    cpuS: line ? Number(line[2]) + Number(line[3]) : Number.NaN,
    rssMb: line ? Number(line[4]) / 1024 : Number.NaN,
    stdout: stdoutFile ? '' : stdout.toString('utf8'),
  };
}

const DIST = path.join(ROOT, '.tmp', 'bench-dist');

/** Compiles src/ (and the runner) to plain JS, so no TypeScript loader runs in the measured process. */
async function ensureDistEngine(): Promise<string> {
  process.stderr.write('compiling src/ to .tmp/bench-dist …\n');
  const require = createRequire(import.meta.url);
  const tsc = require.resolve('typescript/bin/tsc');
  // Other folders may not type-check while they are being written; tsc still emits.
  await execFileAsync(process.execPath, [tsc, '-p', path.join(ROOT, 'tsconfig.build.json'), '--outDir', DIST]).catch(() => undefined);
  const engine = path.join(DIST, 'transform', 'engine.js');
  if (!existsSync(engine)) throw new Error('could not compile the engine to .tmp/bench-dist');
  const ts = (await import('typescript')).default;
  const runner = ts.transpileModule(await readFile(path.join(HERE, 'sluice-run.ts'), 'utf8'), {
    compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
  });
  await writeFile(path.join(DIST, 'sluice-run.mjs'), runner.outputText);
  return engine;
}

async function runSluice(
  engine: string,
  mode: 'whole' | 'chunked',
  input: string,
  output: string,
  cache: string,
  workers: number,
): Promise<{ wallS: number; cpuS: number; rssMb: number }> {
  const fromSource = engine.endsWith('.ts');
  const args = [
    ...(fromSource ? ['--import', 'tsx', path.join(HERE, 'sluice-run.ts')] : [path.join(DIST, 'sluice-run.mjs')]),
    '--engine',
    engine,
    '--mode',
    mode,
    '--stylesheet',
    STYLESHEET,
    '--input',
    input,
    '--output',
    output,
    '--workers',
    String(workers),
    '--batch',
    values.batch!,
    '--cache',
    cache,
    '--max-input',
    String(Number(values['whole-max-mb']) * 1024 * 1024),
  ];
  const { stdout } = await execFileAsync(process.execPath, args, { maxBuffer: 16 * 1024 * 1024, cwd: ROOT });
  const result = JSON.parse(stdout.trim().split('\n').pop()!) as { wallMs: number; cpuMs: number; maxRssMb: number };
  return { wallS: result.wallMs / 1000, cpuS: result.cpuMs / 1000, rssMb: result.maxRssMb };
}

function findSaxonJar(): string | undefined {
  const candidates = [process.env['SAXON_JAR'], '/usr/share/java/Saxon-HE.jar', '/usr/share/java/saxon.jar'];
  return candidates.find((candidate): candidate is string => Boolean(candidate && existsSync(candidate)));
}

/** Writes the same batches Sluice makes (with their lookup context) as files, for xsltproc. */
async function writeBatchFiles(input: string, dir: string, records: number): Promise<string[]> {
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  const open = () => createReadStream(input, { highWaterMark: 256 * 1024 });
  const context = await collectContext(open, ['gis_location']);
  const files: string[] = [];
  for await (const event of batchDocuments(open, { records, bytes: 64 * 1024 * 1024, contextResources: ['gis_location'] }, context)) {
    if (!('batch' in event)) continue;
    const file = path.join(dir, `batch-${String(event.batch.index).padStart(5, '0')}.xml`);
    await writeFile(file, event.batch.bytes);
    files.push(file);
  }
  return files;
}

/** Where the time goes, on one thread: cutting batches, SaxonJS parsing, transforming + serialising. */
async function profile(input: string, cache: string, batchRecords: number): Promise<string[]> {
  const compiled = await new StylesheetCompiler({ cacheDir: cache }).compile(await loadStylesheetTree(STYLESHEET));
  const saxon = createRequire(import.meta.url)('saxon-js') as {
    getResource(options: { text: string; type: 'xml' }): Promise<unknown>;
    transform(options: Record<string, unknown>, mode: 'sync'): { principalResult: string };
  };
  const sef = JSON.parse(compiled.sefText) as unknown;
  const open = () => createReadStream(input, { highWaterMark: 256 * 1024 });
  const cpu = (): number => {
    const usage = process.cpuUsage();
    return (usage.user + usage.system) / 1000;
  };
  let mark = cpu();
  const context = await collectContext(open, ['gis_location']);
  const batches: string[] = [];
  let bytes = 0;
  let records = 0;
  for await (const event of batchDocuments(open, { records: batchRecords, bytes: 2 * 1024 * 1024, contextResources: ['gis_location'] }, context)) {
    if (!('batch' in event)) continue;
    bytes += event.batch.bytes.length;
    records += event.batch.records;
    if (batches.length < 10) batches.push(event.batch.bytes.toString('utf8'));
  }
  const splitMs = cpu() - mark;
  const sampleRecords = Math.min(records, batches.length * batchRecords);
  let parseMs = 0;
  let transformMs = 0;
  for (const [round, text] of [...batches, ...batches].entries()) {
    mark = cpu();
    const document = await saxon.getResource({ text, type: 'xml' });
    const parsed = cpu() - mark;
    mark = cpu();
    saxon.transform({ stylesheetInternal: sef, sourceNode: document, destination: 'serialized' }, 'sync');
    // The first round warms up the JIT; count the second.
    if (round >= batches.length) {
      parseMs += parsed;
      transformMs += cpu() - mark;
    }
  }
  const perRecord = (ms: number): string => `${((ms / sampleRecords) * 1000).toFixed(0)} µs/record`;
  return [
    `cutting ${records} records into batches (two passes over ${(bytes / 1048576).toFixed(0)} MB, main thread): ${(splitMs / 1000).toFixed(2)} CPU s = ${((splitMs / records) * 1000).toFixed(0)} µs/record`,
    `SaxonJS parsing a batch into its tree: ${perRecord(parseMs)}`,
    `SaxonJS transforming + serialising: ${perRecord(transformMs)}`,
    `so one thread tops out near ${Math.round(sampleRecords / ((parseMs + transformMs) / 1000))} records/s`,
  ];
}

function format(rows: Row[], baseline: Map<number, number>): string {
  const header = ['engine', 'mode', 'records', 'wall s', 'CPU s', 'records/s', 'peak RSS MB', 'ratio to xsltproc', 'output'];
  const lines = rows.map((row) => {
    const rate = row.records / row.wallS;
    const reference = baseline.get(row.records);
    return [
      row.engine,
      row.mode,
      String(row.records),
      row.wallS.toFixed(2),
      row.cpuS === undefined || Number.isNaN(row.cpuS) ? '—' : row.cpuS.toFixed(2),
      Math.round(rate).toString(),
      row.rssMb === undefined || Number.isNaN(row.rssMb) ? '—' : Math.round(row.rssMb).toString(),
      reference ? (rate / reference).toFixed(2) : '—',
      row.identical === undefined ? (row.note ?? '—') : row.identical ? 'identical' : 'DIFFERENT',
    ];
  });
  const widths = header.map((title, i) => Math.max(title.length, ...lines.map((line) => line[i]!.length)));
  const render = (cells: string[]): string => `| ${cells.map((cell, i) => cell.padEnd(widths[i]!)).join(' | ')} |`;
  return [render(header), render(widths.map((width) => '-'.repeat(width))), ...lines.map(render)].join('\n');
}

async function main(): Promise<void> {
  const work = path.resolve(values.work!);
  await mkdir(work, { recursive: true });
  const cache = path.join(work, 'cache');
  const engine = values.engine === 'src' ? path.join(ROOT, 'src/transform/engine.ts') : await ensureDistEngine();
  const sizes = values.records!.split(',').map(Number);
  const workerCounts = values.workers!.split(',').map(Number);
  const rows: Row[] = [];
  const baseline = new Map<number, number>();
  const saxonJar = findSaxonJar();
  const load = (): string => os.loadavg().map((value) => value.toFixed(1)).join(' ');
  process.stderr.write(`machine: ${os.availableParallelism()} cores, load ${load()}; engine ${path.relative(ROOT, engine)}; batch ${values.batch} records, workers ${values.workers}\n`);

  for (const records of sizes) {
    const input = path.join(work, `in-${records}.xml`);
    if (!existsSync(input)) {
      process.stderr.write(`generating ${records} records …\n`);
      await writeS3XML(records, input);
    }
    const inputMb = (await stat(input)).size / 1048576;
    process.stderr.write(`\n${records} records, ${inputMb.toFixed(1)} MB (load ${load()})\n`);

    const referenceFile = path.join(work, `out-${records}.xsltproc.csv`);
    process.stderr.write('  xsltproc, whole document …\n');
    const reference = await timed('xsltproc', ['--nonet', '-o', referenceFile, STYLESHEET, input]);
    const expected = sha256(await readFile(referenceFile));
    rows.push({ engine: 'xsltproc (libxslt)', mode: 'whole document', records, wallS: reference.wallS, cpuS: reference.cpuS, rssMb: reference.rssMb, identical: true, note: 'reference' });
    baseline.set(records, records / reference.wallS);

    if (!values['skip-batched-xsltproc']) {
      process.stderr.write('  xsltproc, the same batches as Sluice, one process …\n');
      const files = await writeBatchFiles(input, path.join(work, `batches-${records}`), Number(values.batch));
      const batched = await timed('xsltproc', ['--nonet', STYLESHEET, ...files]);
      // Each batch repeats the CSV header; keep the first, as Sluice's join does.
      const joined = CSV_HEADER + batched.stdout.split(CSV_HEADER).join('');
      rows.push({
        engine: 'xsltproc (libxslt)',
        mode: `same ${files.length} batches`,
        records,
        wallS: batched.wallS,
        cpuS: batched.cpuS,
        rssMb: batched.rssMb,
        identical: sha256(joined) === expected,
      });
      await rm(path.join(work, `batches-${records}`), { recursive: true, force: true });
    }

    if (saxonJar) {
      process.stderr.write('  Saxon-HE (Java), whole document …\n');
      const saxonFile = path.join(work, `out-${records}.saxon.csv`);
      const saxon = await timed('java', ['-cp', saxonJar, 'net.sf.saxon.Transform', `-s:${input}`, `-xsl:${STYLESHEET}`, `-o:${saxonFile}`]);
      rows.push({ engine: 'Saxon-HE (Java)', mode: 'whole document, cold JVM', records, wallS: saxon.wallS, cpuS: saxon.cpuS, rssMb: saxon.rssMb, identical: sha256(await readFile(saxonFile)) === expected });
    }

    if (inputMb <= Number(values['whole-max-mb'])) {
      process.stderr.write('  Sluice, whole document …\n');
      const file = path.join(work, `out-${records}.sluice-whole.csv`);
      const whole = await runSluice(engine, 'whole', input, file, cache, workerCounts[0]!);
      rows.push({ engine: 'Sluice (SaxonJS 2.7)', mode: 'whole document', records, ...whole, identical: sha256(await readFile(file)) === expected });
    } else {
      rows.push({
        engine: 'Sluice (SaxonJS 2.7)',
        mode: 'whole document',
        records,
        wallS: Number.NaN,
        cpuS: undefined,
        rssMb: undefined,
        identical: undefined,
        note: `not run: ${inputMb.toFixed(0)} MB is over the ${values['whole-max-mb']} MB input limit`,
      });
    }

    for (const workers of workerCounts) {
      process.stderr.write(`  Sluice, chunked, ${workers} worker(s) …\n`);
      const chunkedFile = path.join(work, `out-${records}.sluice-chunked.csv`);
      const chunked = await runSluice(engine, 'chunked', input, chunkedFile, cache, workers);
      rows.push({
        engine: 'Sluice (SaxonJS 2.7)',
        mode: `chunked, ${workers} worker${workers > 1 ? 's' : ''}, ${values.batch}/batch`,
        records,
        ...chunked,
        identical: sha256(await readFile(chunkedFile)) === expected,
      });
    }
  }

  const printable = rows.filter((row) => !Number.isNaN(row.wallS));
  const skipped = rows.filter((row) => Number.isNaN(row.wallS));
  process.stdout.write(`\n${format(printable, baseline)}\n`);
  for (const row of skipped) process.stdout.write(`(${row.engine}, ${row.mode}, ${row.records} records: ${row.note})\n`);
  if (!saxonJar) process.stdout.write('(Saxon-HE: not installed; set SAXON_JAR to include it)\n');

  process.stdout.write('\nWhere the time goes (one thread, CPU time):\n');
  const largest = path.join(work, `in-${sizes[sizes.length - 1]}.xml`);
  for (const line of await profile(largest, cache, Number(values.batch))) process.stdout.write(`- ${line}\n`);
  process.stdout.write(`\nload average at the end: ${load()} (other work on the machine inflates wall times)\n`);
  const leftovers = (await readdir(work)).filter((file) => file.startsWith('batches-'));
  for (const file of leftovers) await rm(path.join(work, file), { recursive: true, force: true });
}

await main();
