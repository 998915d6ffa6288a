/**
 * Posts per second for the whole poll: N posts fetched from the fake Ushahidi, turned into tickets
 * by stylesheets/ushahidi/import.xsl and the source's value mapping on the transform engine's
 * threads, and imported into a fresh SQLite store, page by page with the cursor. The stages are
 * also timed alone, so the figure can be explained: fetching, the two stylesheets, the importer.
 *
 *   node --import tsx tools/bench/ushahidi-import.ts [--posts 10000] [--page 500] [--batch 100]
 *        [--read-ahead 2] [--workers N] [--in-process] [--repeat 1] [--poll-only]
 *
 * The end-to-end poll prints where its time went (PollTimings from the poll job) and the CPU it
 * used, in this process (all threads) and in the fake's; --repeat runs it again on fresh stores,
 * so a noisy machine shows as a range. CPU figures are what to compare across runs on a loaded box.
 *
 * The fake runs in its own process by default (as a real deployment would), so its CPU is not
 * counted against the gateway's event loop — but on a small machine it still takes a core.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { generateMappingXslt } from '../../src/formats/mapping-generator.js';
import { importResources } from '../../src/importer/importer.js';
import { silentLogger } from '../../src/logger.js';
import { parseS3XML } from '../../src/s3xml/parse.js';
import { systemClock } from '../../src/s3xml/timestamps.js';
import { createSecretBox } from '../../src/secrets.js';
import { openSqliteStore } from '../../src/store/sqlite-store.js';
import { createTransformEngine } from '../../src/transform/engine.js';
import { deploymentDomain, importDocumentJson } from '../../src/ushahidi/import-document.js';
import type { UshahidiPost } from '../../src/ushahidi/source.js';
import { emptyPollTimings, type PollTimings } from '../../src/ushahidi/poll-job.js';
import { createUshahidiSources, effectiveMappingDocument } from '../../src/ushahidi/sources.js';
import { statusToken } from '../../src/ushahidi/status-push.js';
import { UshahidiV5Client } from '../../src/ushahidi/ushahidi-v5-client.js';
import { DEFAULT_USERS, createFakeUshahidi } from '../fake-ushahidi/index.js';

const { values } = parseArgs({
  options: {
    posts: { type: 'string', default: '10000' },
    page: { type: 'string', default: '500' },
    batch: { type: 'string', default: '100' },
    'read-ahead': { type: 'string', default: '2' },
    workers: { type: 'string', default: String(os.availableParallelism()) },
    'in-process': { type: 'boolean', default: false },
    repeat: { type: 'string', default: '1' },
    'poll-only': { type: 'boolean', default: false },
  },
});
const postCount = Number(values.posts);
const pageSize = Number(values.page);
const batch = Number(values.batch);
const readAhead = Number(values['read-ahead']);
const workers = Number(values.workers);
const repeat = Math.max(1, Number(values.repeat));
const TARGET = 5_000;

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const IMPORT_XSL = path.join(REPO, 'stylesheets', 'ushahidi', 'import.xsl');

async function startFake(): Promise<{ url: string; pid?: number; stop: () => Promise<void> }> {
  if (values['in-process']) {
    const fake = await createFakeUshahidi({ posts: postCount });
    return { url: fake.url, stop: () => fake.close() };
  }
  const main = fileURLToPath(new URL('../fake-ushahidi/main.ts', import.meta.url));
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', main, '--posts', String(postCount), '--port', '0'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let output = '';
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout!.on('data', (chunk: Buffer) => {
      output += chunk.toString('utf8');
      const match = /listening on (http:\/\/\S+)/.exec(output);
      if (match) resolve(match[1]!);
    });
    child.once('exit', (code) => reject(new Error(`the fake exited (${code}) before listening`)));
  });
  return {
    url,
    ...(child.pid === undefined ? {} : { pid: child.pid }),
    stop: async () => {
      child.kill('SIGTERM');
      await once(child, 'exit');
    },
  };
}

/** CPU ms a process (or, with /task/<tid>, one of its threads) used so far (Linux /proc; undefined elsewhere). */
function processCpuMs(pid: number | undefined, thread = ''): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const fields = readFileSync(`/proc/${pid}${thread}/stat`, 'utf8').split(') ')[1]!.split(' ');
    // utime and stime, in clock ticks (100 per second on Linux).
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
  } catch {
    return undefined;
  }
}

function ownCpuMs(): number {
  const usage = process.cpuUsage();
  return (usage.user + usage.system) / 1000;
}

function cpuNote(cpuMs: number, posts: number): string {
  return `CPU ${(cpuMs / 1000).toFixed(2)} s, ${(cpuMs / posts).toFixed(3)} ms/post`;
}

function line(label: string, posts: number, ms: number, note = ''): void {
  const rate = Math.round(posts / (ms / 1000));
  console.log(`${label.padEnd(44)} ${String(posts).padStart(6)} posts  ${(ms / 1000).toFixed(2).padStart(7)} s  ${String(rate).padStart(6)} posts/s${note ? `  ${note}` : ''}`);
}

async function inBatches<T>(items: readonly T[], size: number, work: (slice: T[]) => Promise<void>): Promise<void> {
  const slices: T[][] = [];
  for (let i = 0; i < items.length; i += size) slices.push(items.slice(i, i + size));
  await Promise.all(slices.map(work));
}

let xslAloneRate: number | undefined;

const fake = await startFake();
const dir = await mkdtemp(path.join(os.tmpdir(), 'sluice-bench-ushahidi-import-'));
const engine = createTransformEngine({ stylesheetsDir: path.join(REPO, 'stylesheets'), cacheDir: path.join(os.tmpdir(), 'sluice-bench-xslt-cache'), workers });
const admin = DEFAULT_USERS[0]!;
const domain = deploymentDomain(fake.url);
try {
  console.log(`fake Ushahidi (v5) with ${postCount} posts${values['in-process'] ? ' in this process' : ' in its own process'}; page ${pageSize}, transform batch ${batch}, read-ahead ${readAhead}, ${workers} engine threads, ${os.availableParallelism()} cores`);
  const mappingDocument = effectiveMappingDocument(undefined, { api: 'v5', resource: 'event_incident_report', status_field: 'status' });
  const mapping = { text: generateMappingXslt(mappingDocument) };

  // Compiles and warms both stylesheets (and the sandbox that runs the generated mapping); not timed.
  const warmPosts: UshahidiPost[] = [];
  for await (const page of new UshahidiV5Client({ baseUrl: fake.url, username: admin.email, password: admin.password }).fetchPostsSince(0, 50)) {
    warmPosts.push(...page.posts);
    if (warmPosts.length >= 200) break;
  }
  for (let round = 0; round < 3; round++) {
    await inBatches(warmPosts, 50, async (slice) => {
      const out = await engine.transform({ stylesheet: { path: IMPORT_XSL }, input: importDocumentJson(domain, 'v5', slice), jsonInput: true, params: { 'status-field': 'status' } });
      await engine.transform({ stylesheet: mapping, input: out.output, params: { direction: 'inbound' } });
    });
  }

  if (!values['poll-only']) {
    // 1. Fetching alone.
    let started = performance.now();
    let cpu = ownCpuMs();
    const posts: UshahidiPost[] = [];
    for await (const page of new UshahidiV5Client({ baseUrl: fake.url, username: admin.email, password: admin.password }).fetchPostsSince(0, pageSize)) posts.push(...page.posts);
    line('fetch (v5 client, keyset pages)', posts.length, performance.now() - started, cpuNote(ownCpuMs() - cpu, posts.length));

    // 2. The import stylesheet alone, batches in parallel on the engine's threads.
    const withTokens = posts.map((post) => ({ ...post, status: statusToken(post.triage) }));
    const imported: string[] = [];
    started = performance.now();
    cpu = ownCpuMs();
    await inBatches(withTokens, batch, async (slice) => {
      imported.push((await engine.transform({ stylesheet: { path: IMPORT_XSL }, input: importDocumentJson(domain, 'v5', slice), jsonInput: true, params: { 'status-field': 'status' } })).output);
    });
    const xslMs = performance.now() - started;
    line('import.xsl (JSON → S3XML)', posts.length, xslMs, cpuNote(ownCpuMs() - cpu, posts.length));
    xslAloneRate = posts.length / (xslMs / 1000);

    // 3. The value mapping alone (generated XSLT, sandboxed: its CPU is in another process).
    const mapped: string[] = [];
    started = performance.now();
    await Promise.all(imported.map(async (text) => mapped.push((await engine.transform({ stylesheet: mapping, input: text, params: { direction: 'inbound' } })).output)));
    line('value mapping over whole pages', posts.length, performance.now() - started, '(only for mappings beyond the status)');

    // 4. Parsing and importing alone (main thread, SQLite).
    const store = await openSqliteStore({ file: path.join(dir, 'importer-only.db') });
    let parseMs = 0;
    let importMs = 0;
    for (const text of mapped) {
      started = performance.now();
      const document = await parseS3XML(text);
      parseMs += performance.now() - started;
      started = performance.now();
      await importResources(store, document.resources, { resource: 'event_incident_report', updatePolicy: 'NEWER', defaultMci: 0, clock: systemClock, pageSize: Number.MAX_SAFE_INTEGER });
      importMs += performance.now() - started;
    }
    line('parse S3XML (saxes, main thread)', posts.length, parseMs);
    line('import (3 records a post, SQLite)', posts.length, importMs);
    await store.close();
  }

  // 5. The poll job end to end, as `sluice sync` runs it, on a fresh store each time.
  const rates: number[] = [];
  const ceilings: number[] = [];
  for (let round = 1; round <= repeat; round++) {
    const pollStore = await openSqliteStore({ file: path.join(dir, `poll-${round}.db`) });
    const timings: PollTimings = emptyPollTimings();
    const sources = createUshahidiSources({
      store: pollStore,
      clock: systemClock,
      logger: silentLogger(),
      secrets: createSecretBox(randomBytes(32)),
      holder: `bench:${process.pid}:x`,
      leaseTtlMs: 60_000,
      engine: () => ({
        transform: (request) => engine.transform(request),
        transformStream: (request, write) => engine.transformStream(request, write),
        prepare: (stylesheet) => engine.prepare(stylesheet),
        close: async () => undefined,
      }),
      importStylesheet: IMPORT_XSL,
      readMapping: () => Promise.reject(new Error('no mapping file in the bench')),
      transformBatch: batch,
      readAhead,
      pollTimings: timings,
    });
    const source = await sources.add({ name: 'bench', url: fake.url, type: 'ushahidi-v5', username: admin.email, password: admin.password, pageSize, check: false });
    const record = await sources.resolve(source.uuid);
    const fakeCpu = processCpuMs(fake.pid);
    const cpu = ownCpuMs();
    const load = os.loadavg()[0]!.toFixed(2);
    // The main thread's task id is the process id.
    const mainBefore = processCpuMs(process.pid, `/task/${process.pid}`);
    let started = performance.now();
    const first = await sources.run(record, { trigger: 'bench' });
    const pollMs = performance.now() - started;
    const ownCpu = ownCpuMs() - cpu;
    // The rest of this process's CPU is the engine's threads (and V8's GC and libuv helpers).
    const mainCpu = mainBefore === undefined ? undefined : processCpuMs(process.pid, `/task/${process.pid}`)! - mainBefore;
    const fakeUsed = fakeCpu === undefined ? undefined : processCpuMs(fake.pid)! - fakeCpu;
    const polled = first.run.counts.pull_records ?? 0;
    line(`poll end to end, run ${round} (fetch → XSLT → import)`, polled, pollMs, `${first.run.status}; load ${load}`);
    rates.push(polled / (pollMs / 1000));
    const phase = (name: string, ms: number, note: string) => console.log(`    ${name.padEnd(40)} ${(ms / 1000).toFixed(2).padStart(7)} s  ${(ms / polled).toFixed(3)} ms/post  ${note}`);
    phase('fetch (awaiting pages)', timings.fetch, 'overlaps the commit');
    phase('transform requests (queue + run, summed)', timings.transform, `${workers} threads; overlaps the rest`);
    phase('parse S3XML', timings.parse, 'main thread');
    phase('statuses (map once, settle per post)', timings.statuses, 'main thread');
    phase('import (importer + store, page txn)', timings.import, 'main thread');
    phase('commit loop waiting for a page', timings.waiting, 'fetch or XSLT behind the commit');
    if (mainCpu !== undefined) {
      phase('CPU of the main thread', mainCpu, 'the phases above, HTTP and JSON, glue');
      phase('CPU of the other threads', ownCpu - mainCpu, 'import.xsl on the engine threads, GC helpers');
    }
    const bound = timings.waiting > timings.import + timings.parse + timings.statuses ? 'fetch and import.xsl (the commit loop mostly waited for pages)' : 'the commit (parse, statuses, importer)';
    console.log(`    bounded by ${bound}`);
    // What this machine could do at best: every core busy all the time with this CPU per post.
    ceilings.push((os.availableParallelism() * 1000) / (ownCpu / polled));
    console.log(`    ceiling with every core busy: ${Math.round(ceilings.at(-1)!)} posts/s (${os.availableParallelism()} cores / ${(ownCpu / polled).toFixed(3)} ms of CPU per post)`);
    console.log(`    CPU: this process ${(ownCpu / 1000).toFixed(2)} s (${(ownCpu / polled).toFixed(3)} ms/post, all threads)${fakeUsed === undefined ? '' : `, the fake ${(fakeUsed / 1000).toFixed(2)} s`}; ${Math.round(polled / ((ownCpu + (fakeUsed ?? 0)) / 1000))} posts per CPU-second`);
    if (round === repeat) {
      started = performance.now();
      const again = await sources.run(record, { trigger: 'bench' });
      console.log(`${'re-poll, nothing new (overlap re-read)'.padEnd(44)} ${String(again.run.counts.pull_created ?? 0).padStart(6)} created ${((performance.now() - started) / 1000).toFixed(2).padStart(7)} s`);
      const tickets = await pollStore.countRecords({ resource: 'event_incident_report' });
      console.log(`${tickets} tickets`);
    }
    await sources.close();
    await pollStore.close();
  }

  const best = Math.round(Math.max(...rates));
  const range = rates.length > 1 ? `${Math.round(Math.min(...rates))}–${best}` : String(best);
  const ceiling = Math.round(Math.max(...ceilings));
  console.log(`\nceiling on ${os.availableParallelism()} cores from the CPU the poll used: ${ceiling} posts/s${ceiling < TARGET ? ` — ${(TARGET / ceiling).toFixed(2)}× below the target before any waiting: the CPU per post must fall first` : ''}`);
  if (xslAloneRate !== undefined) console.log(`import.xsl alone on ${workers} threads, no fetch or import alongside: ${Math.round(xslAloneRate)} posts/s; the poll ran at ${(best / xslAloneRate).toFixed(2)} of that`);
  console.log(`${range} posts/s end to end over ${rates.length} run(s) (target ${TARGET}: ${best >= TARGET ? 'met' : 'not met'}); load average now ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);
} finally {
  await engine.close();
  await fake.stop();
  await rm(dir, { recursive: true, force: true });
}
