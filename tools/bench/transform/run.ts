/**
 * Transform benchmark: the same XSLT 1.0 S3XML → CSV mapping (keys, a lookup table read with
 * document(), recursive templates, sorting) through xsltproc, Saxon-HE (Java, when SAXON_JAR is set
 * and java is installed) and Sluice (whole document, and chunked on the worker pool), on generated
 * S3XML of any number of organisations. Checks that every output is byte-identical to xsltproc's
 * and prints records/s, CPU seconds, peak RSS (and the highest RSS in each quarter of the run, to
 * show memory does not creep with input size), the ratio to xsltproc, then where Sluice's time
 * goes per record (parse, tree build, transform, serialise).
 *
 *   node --import tsx tools/bench/transform/run.ts [--records 10000,100000,300000]
 *        [--workers auto,2] [--batch N] [--repeat N] [--engine dist|src] [--work DIR]
 *        [--xsltproc-max-records 100000] [--reuse-reference] [--skip-batched-xsltproc] [--reuse-dist]
 *
 * `--workers auto` runs the engine's default configuration (pool size chosen by its memory
 * budget, default batch size): the row that has to meet the memory target.
 * xsltproc on the whole document is quadratic in this mapping (858 s at 100k records), so it is
 * skipped above `--xsltproc-max-records`; `--reuse-reference` reuses an earlier run's reference
 * output and timing from the work folder (printed with its date). Outputs are then checked against
 * xsltproc run on the same batches.
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
import { SaxesParser } from 'saxes';
import { batchDocuments, collectContext } from '../../../src/transform/chunking/batches.js';
import { CHUNKED_DEFAULTS } from '../../../src/transform/engine.js';
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
    workers: { type: 'string', default: os.availableParallelism() > 1 ? `auto,${os.availableParallelism()}` : 'auto' },
    batch: { type: 'string' },
    repeat: { type: 'string', default: '1' },
    engine: { type: 'string', default: 'dist' },
    work: { type: 'string', default: path.join(os.tmpdir(), 'sluice-bench-transform') },
    'skip-batched-xsltproc': { type: 'boolean', default: false },
    'xsltproc-max-records': { type: 'string', default: '100000' },
    'reuse-reference': { type: 'boolean', default: false },
    'whole-max-mb': { type: 'string', default: '64' },
    /** Use .tmp/bench-dist as it is (another bench run compiled it and may be using it). */
    'reuse-dist': { type: 'boolean', default: false },
  },
});

const batchRecords = Number(values.batch ?? CHUNKED_DEFAULTS.batchRecords);

interface Row {
  engine: string;
  mode: string;
  records: number;
  wallS: number;
  cpuS: number | undefined;
  rssMb: number | undefined;
  /** Highest RSS in each quarter of the run (Sluice rows). */
  rssQuartersMb?: number[];
  identical: boolean | undefined;
  note?: string;
}

interface Timing {
  wallS: number;
  cpuS: number;
  rssMb: number;
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
  workers: string,
): Promise<Timing & { rssQuartersMb: number[]; threads: number | undefined }> {
  const fromSource = engine.endsWith('.ts');
  const args = [
    ...(fromSource ? ['--import', 'tsx', path.join(HERE, 'sluice-run.ts')] : [path.join(DIST, 'sluice-run.mjs')]),
    ...['--engine', engine, '--mode', mode, '--stylesheet', STYLESHEET, '--input', input, '--output', output],
    ...['--workers', workers, '--cache', cache, '--max-input', String(Number(values['whole-max-mb']) * 1024 * 1024)],
    ...(values.batch ? ['--batch', values.batch] : []),
  ];
  const { stdout } = await execFileAsync(process.execPath, args, { maxBuffer: 16 * 1024 * 1024, cwd: ROOT });
  const result = JSON.parse(stdout.trim().split('\n').pop()!) as { wallMs: number; cpuMs: number; maxRssMb: number; rssQuartersMb: number[]; threads?: number };
  return { wallS: result.wallMs / 1000, cpuS: result.cpuMs / 1000, rssMb: result.maxRssMb, rssQuartersMb: result.rssQuartersMb, threads: result.threads };
}

/** Saxon-HE runs only when asked for (SAXON_JAR) and when there is a java to run it. */
async function findSaxon(): Promise<{ jar: string } | { skipped: string }> {
  const jar = process.env['SAXON_JAR'];
  if (!jar) return { skipped: 'set SAXON_JAR to the Saxon-HE jar (and install java) to add its rows' };
  if (!existsSync(jar)) return { skipped: `SAXON_JAR=${jar} does not exist` };
  try {
    await execFileAsync('java', ['-version']);
  } catch {
    return { skipped: 'SAXON_JAR is set but java is not installed' };
  }
  return { jar };
}

/** Writes the same batches Sluice makes (with their lookup context) as files, for xsltproc. */
async function writeBatchFiles(input: string, dir: string, records: number): Promise<string[]> {
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  const open = () => createReadStream(input, { highWaterMark: 256 * 1024 });
  const context = await collectContext(open, ['gis_location']);
  const files: string[] = [];
  for await (const event of batchDocuments(open, { records, bytes: CHUNKED_DEFAULTS.batchBytes, contextResources: ['gis_location'] }, context)) {
    if (!('batch' in event)) continue;
    const file = path.join(dir, `batch-${String(event.batch.index).padStart(6, '0')}.xml`);
    await writeFile(file, event.batch.bytes);
    files.push(file);
  }
  return files;
}

interface SaxonForProfile {
  getResource(options: { text: string; type: 'xml' }): Promise<unknown>;
  transform(options: Record<string, unknown>, mode: 'sync'): { principalResult: unknown };
  serialize(value: unknown, options: Record<string, string>): string;
}

/**
 * Where the time goes, per record, on one thread (CPU time). SaxonJS gives no timings of its
 * own, so each phase runs separately on the same batches: cutting batches (main thread, both
 * passes); decoding the batch bytes; parsing — a SAX pass with saxes that builds nothing, the
 * floor of any XML parse; tree build — SaxonJS's getResource() minus that parse; the transform to
 * a raw result tree; serialising that result. Each batch runs twice and the second round counts
 * (the first warms the JIT).
 */
async function profile(input: string, cache: string, sampleBatches: number): Promise<string[]> {
  const compiled = await new StylesheetCompiler({ cacheDir: cache }).compile(await loadStylesheetTree(STYLESHEET));
  const saxon = createRequire(import.meta.url)('saxon-js') as SaxonForProfile;
  const sef = JSON.parse(compiled.sefText) as unknown;
  const open = () => createReadStream(input, { highWaterMark: 256 * 1024 });
  const cpu = (): number => {
    const usage = process.cpuUsage();
    return (usage.user + usage.system) / 1000;
  };
  let mark = cpu();
  const context = await collectContext(open, ['gis_location']);
  const batches: Buffer[] = [];
  let records = 0;
  let sampleRecords = 0;
  for await (const event of batchDocuments(open, { records: batchRecords, bytes: CHUNKED_DEFAULTS.batchBytes, contextResources: ['gis_location'] }, context)) {
    if (!('batch' in event)) continue;
    records += event.batch.records;
    if (batches.length < sampleBatches) {
      batches.push(event.batch.bytes);
      sampleRecords += event.batch.records;
    }
  }
  const cutMs = cpu() - mark;
  const phases = { decode: 0, parse: 0, tree: 0, transform: 0, serialise: 0 };
  const decoder = new TextDecoder('utf-8');
  for (const round of [0, 1]) {
    for (const bytes of batches) {
      const times = { decode: 0, parse: 0, tree: 0, transform: 0, serialise: 0 };
      mark = cpu();
      const text = decoder.decode(bytes);
      times.decode = cpu() - mark;
      mark = cpu();
      const sax = new SaxesParser();
      sax.write(text).close();
      times.parse = cpu() - mark;
      mark = cpu();
      const document = await saxon.getResource({ text, type: 'xml' });
      times.tree = Math.max(0, cpu() - mark - times.parse);
      mark = cpu();
      const raw = saxon.transform({ stylesheetInternal: sef, sourceNode: document, destination: 'raw' }, 'sync');
      times.transform = cpu() - mark;
      mark = cpu();
      saxon.serialize(raw.principalResult, { method: 'text' });
      times.serialise = cpu() - mark;
      if (round === 1) for (const phase of Object.keys(phases) as (keyof typeof phases)[]) phases[phase] += times[phase];
    }
  }
  const total = Object.values(phases).reduce((sum, ms) => sum + ms, 0) + (cutMs / records) * sampleRecords;
  const line = (label: string, ms: number, perRecords: number): string => {
    const micros = (ms / perRecords) * 1000;
    return `${label.padEnd(48)} ${micros.toFixed(0).padStart(6)} µs/record  ${(((ms / perRecords) * sampleRecords * 100) / total).toFixed(0).padStart(3)} %`;
  };
  return [
    `${batches.length} batches of ${batchRecords} records from ${path.basename(input)}, one thread, CPU time:`,
    line('cut into batches (main thread, 2 passes)', cutMs, records),
    line('decode UTF-8 (worker)', phases.decode, sampleRecords),
    line('parse (SAX pass, no tree; saxes)', phases.parse, sampleRecords),
    line('tree build (SaxonJS getResource − parse)', phases.tree, sampleRecords),
    line('transform (SaxonJS, raw result)', phases.transform, sampleRecords),
    line('serialise (SaxonJS.serialize)', phases.serialise, sampleRecords),
    `so one thread tops out near ${Math.round(sampleRecords / (total / 1000))} records/s on this machine at this load`,
  ];
}

function format(rows: Row[], baseline: Map<number, number>, batchedBaseline: Map<number, number>): string {
  const header = ['engine', 'mode', 'records', 'wall s', 'CPU s', 'records/s', 'peak RSS MB', 'RSS by quarter MB', 'ratio to xsltproc', 'to xsltproc same batches', 'output'];
  const ratio = (rate: number, reference: number | undefined): string => (reference ? (rate / reference).toFixed(2) : '—');
  const lines = rows.map((row) => {
    const rate = row.records / row.wallS;
    return [
      row.engine,
      row.mode,
      String(row.records),
      row.wallS.toFixed(2),
      row.cpuS === undefined || Number.isNaN(row.cpuS) ? '—' : row.cpuS.toFixed(2),
      Math.round(rate).toString(),
      row.rssMb === undefined || Number.isNaN(row.rssMb) ? '—' : Math.round(row.rssMb).toString(),
      row.rssQuartersMb ? row.rssQuartersMb.join(' ') : '—',
      ratio(rate, baseline.get(row.records)),
      ratio(rate, batchedBaseline.get(row.records)),
      row.identical === undefined ? (row.note ?? '—') : row.identical ? (row.note ?? 'identical') : 'DIFFERENT',
    ];
  });
  const widths = header.map((title, i) => Math.max(title.length, ...lines.map((line) => line[i]!.length)));
  const render = (cells: string[]): string => `| ${cells.map((cell, i) => cell.padEnd(widths[i]!)).join(' | ')} |`;
  return [render(header), render(widths.map((width) => '-'.repeat(width))), ...lines.map(render)].join('\n');
}

/** xsltproc on the whole document; with --reuse-reference, an earlier run's result and timing. */
async function xsltprocReference(input: string, records: number, work: string): Promise<(Timing & { file: string; note: string }) | undefined> {
  const file = path.join(work, `out-${records}.xsltproc.csv`);
  const timingFile = path.join(work, `out-${records}.xsltproc.json`);
  const inputStat = await stat(input);
  if (values['reuse-reference'] && existsSync(file) && existsSync(timingFile)) {
    const saved = JSON.parse(await readFile(timingFile, 'utf8')) as Timing & { inputBytes: number; inputMtimeMs: number; measuredAt: string; load: string };
    if (saved.inputBytes === inputStat.size && saved.inputMtimeMs === inputStat.mtimeMs) {
      return { ...saved, file, note: `reference, measured ${saved.measuredAt} (load ${saved.load})` };
    }
  }
  if (records > Number(values['xsltproc-max-records'])) return undefined;
  process.stderr.write('  xsltproc, whole document …\n');
  const timing = await timed('xsltproc', ['--nonet', '-o', file, STYLESHEET, input]);
  const saved = { wallS: timing.wallS, cpuS: timing.cpuS, rssMb: timing.rssMb, inputBytes: inputStat.size, inputMtimeMs: inputStat.mtimeMs, measuredAt: new Date().toISOString(), load: loadAverage() };
  await writeFile(timingFile, JSON.stringify(saved));
  return { ...saved, file, note: 'reference' };
}

function loadAverage(): string {
  return os
    .loadavg()
    .map((value) => value.toFixed(1))
    .join(' ');
}

async function main(): Promise<void> {
  const work = path.resolve(values.work!);
  await mkdir(work, { recursive: true });
  const cache = path.join(work, 'cache');
  const distEngine = path.join(DIST, 'transform', 'engine.js');
  const engine =
    values.engine === 'src' ? path.join(ROOT, 'src/transform/engine.ts') : values['reuse-dist'] && existsSync(distEngine) ? distEngine : await ensureDistEngine();
  const sizes = values.records!.split(',').map(Number);
  const workerSettings = values.workers!.split(',').map((value) => value.trim());
  const repeat = Math.max(1, Number(values.repeat));
  const rows: Row[] = [];
  const baseline = new Map<number, number>();
  const batchedBaseline = new Map<number, number>();
  const notes: string[] = [];
  const saxon = await findSaxon();
  const loads: string[] = [loadAverage()];
  process.stderr.write(`machine: ${os.availableParallelism()} cores, load ${loadAverage()}; engine ${path.relative(ROOT, engine)}; batch ${batchRecords} records, workers ${values.workers}\n`);

  for (const records of sizes) {
    const input = path.join(work, `in-${records}.xml`);
    if (!existsSync(input)) {
      process.stderr.write(`generating ${records} records …\n`);
      await writeS3XML(records, input);
    }
    const inputMb = (await stat(input)).size / 1048576;
    process.stderr.write(`\n${records} records, ${inputMb.toFixed(1)} MB (load ${loadAverage()})\n`);

    let expected: string | undefined;
    const reference = await xsltprocReference(input, records, work);
    if (reference) {
      expected = sha256(await readFile(reference.file));
      rows.push({ engine: 'xsltproc (libxslt)', mode: 'whole document', records, ...reference, identical: true, note: reference.note });
      baseline.set(records, records / reference.wallS);
    } else {
      notes.push(`xsltproc whole document, ${records} records: skipped above --xsltproc-max-records ${values['xsltproc-max-records']} (quadratic in this mapping: 858 s at 100k)`);
    }

    if (!values['skip-batched-xsltproc']) {
      process.stderr.write('  xsltproc, the same batches as Sluice, one process …\n');
      const files = await writeBatchFiles(input, path.join(work, `batches-${records}`), batchRecords);
      const batched = await timed('xsltproc', ['--nonet', STYLESHEET, ...files]);
      // Each batch repeats the CSV header; keep the first, as Sluice's join does.
      const joined = CSV_HEADER + batched.stdout.split(CSV_HEADER).join('');
      const joinedHash = sha256(joined);
      rows.push({
        engine: 'xsltproc (libxslt)',
        mode: `same ${files.length} batches`,
        records,
        wallS: batched.wallS,
        cpuS: batched.cpuS,
        rssMb: batched.rssMb,
        identical: expected === undefined ? true : joinedHash === expected,
        ...(expected === undefined ? { note: 'reference (no whole-document run)' } : {}),
      });
      expected ??= joinedHash;
      batchedBaseline.set(records, records / batched.wallS);
      await rm(path.join(work, `batches-${records}`), { recursive: true, force: true });
    }

    if ('jar' in saxon) {
      process.stderr.write('  Saxon-HE (Java), whole document …\n');
      const saxonFile = path.join(work, `out-${records}.saxon.csv`);
      const result = await timed('java', ['-cp', saxon.jar, 'net.sf.saxon.Transform', `-s:${input}`, `-xsl:${STYLESHEET}`, `-o:${saxonFile}`]);
      const same = expected === undefined ? undefined : sha256(await readFile(saxonFile)) === expected;
      rows.push({ engine: 'Saxon-HE (Java)', mode: 'whole document, cold JVM', records, wallS: result.wallS, cpuS: result.cpuS, rssMb: result.rssMb, identical: same });
    }

    if (inputMb <= Number(values['whole-max-mb'])) {
      process.stderr.write('  Sluice, whole document …\n');
      const file = path.join(work, `out-${records}.sluice-whole.csv`);
      const whole = await runSluice(engine, 'whole', input, file, cache, workerSettings[0]!);
      rows.push({ engine: 'Sluice (SaxonJS 2.7)', mode: 'whole document', records, ...whole, identical: expected === undefined ? undefined : sha256(await readFile(file)) === expected });
    } else {
      notes.push(`Sluice whole document, ${records} records: not run, ${inputMb.toFixed(0)} MB is over the ${values['whole-max-mb']} MB input limit`);
    }

    for (const workers of workerSettings) {
      for (let attempt = 1; attempt <= repeat; attempt++) {
        process.stderr.write(`  Sluice, chunked, workers ${workers}${repeat > 1 ? `, run ${attempt}/${repeat}` : ''} (load ${loadAverage()}) …\n`);
        const chunkedFile = path.join(work, `out-${records}.sluice-chunked.csv`);
        const chunked = await runSluice(engine, 'chunked', input, chunkedFile, cache, workers);
        loads.push(loadAverage());
        const threads = `${chunked.threads ?? workers} thread${chunked.threads === 1 ? '' : 's'}`;
        rows.push({
          engine: 'Sluice (SaxonJS 2.7)',
          mode: `chunked, ${workers === 'auto' ? `default (${threads})` : threads}, ${batchRecords}/batch`,
          records,
          ...chunked,
          identical: expected === undefined ? undefined : sha256(await readFile(chunkedFile)) === expected,
        });
        await rm(chunkedFile, { force: true });
      }
    }
  }

  const printable = rows.filter((row) => !Number.isNaN(row.wallS));
  process.stdout.write(`\n${format(printable, baseline, batchedBaseline)}\n`);
  for (const note of notes) process.stdout.write(`(${note})\n`);
  process.stdout.write(`Saxon-HE: ${'jar' in saxon ? `rows above (${saxon.jar})` : `skipped: ${saxon.skipped}`}\n`);

  process.stdout.write('\nWhere the time goes:\n');
  const largest = path.join(work, `in-${sizes[sizes.length - 1]}.xml`);
  for (const line of await profile(largest, cache, 20)) process.stdout.write(`  ${line}\n`);
  loads.push(loadAverage());
  process.stdout.write(`\nload average (1/5/15 min) at the start, after each Sluice run and at the end: ${loads.join(' | ')} (other work on the machine inflates wall times)\n`);
  const leftovers = (await readdir(work)).filter((file) => file.startsWith('batches-'));
  for (const file of leftovers) await rm(path.join(work, file), { recursive: true, force: true });
}

await main();
