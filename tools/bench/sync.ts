/**
 * Sync benchmark: a full pull between two gateways over loopback, then incremental pulls of 100
 * changed records, with the peer holding 100k and then 1M records.
 *
 *   node --import tsx tools/bench/sync.ts [--records 100000] [--big 1000000] [--changed 100] [--page 500] [--dir /tmp]
 *                                         [--store sqlite|mongodb|mongodb://…]
 *
 * `--store` is the puller's store (the peer stays on SQLite): `mongodb` is the test server of
 * tools/mongodb-test-server (SLUICE_TEST_MONGODB_URL, else DocumentDB), in a database of its own
 * that is dropped afterwards; a mongodb:// URL is used as given (its database is not dropped).
 *
 * The peer is a real `sluice start` process (its own CPU); the puller runs here. The peer's store is
 * seeded directly (not measured); the changed records are written into the peer's store file while
 * it runs, as another process would. Prints records/s of the full pull and milliseconds of each
 * incremental pull (the whole Sync Now: lease, request, import, checkpoint, log, run history).
 * Targets: ≥ 10k records/s; ≤ 150 ms for 100 changed records, flat from 100k to 1M.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { loadConfig, repoRoot } from '../../src/config.js';
import { silentLogger } from '../../src/logger.js';
import { startGateway } from '../../src/start.js';
import { openSqliteStore } from '../../src/store/sqlite-store.js';
import type { RecordWrite, Store } from '../../src/store/store.js';
import { startTestMongo, type TestMongo } from '../mongodb-test-server/server.js';

const { values: args } = parseArgs({
  options: {
    records: { type: 'string', default: '100000' },
    big: { type: 'string', default: '1000000' },
    changed: { type: 'string', default: '100' },
    page: { type: 'string', default: '1000' },
    dir: { type: 'string', default: tmpdir() },
    store: { type: 'string', default: 'sqlite' },
  },
});
const RECORDS = Number(args.records);
const BIG = Number(args.big);
const CHANGED = Number(args.changed);
const PAGE = Number(args.page);
const ADMIN = { user: 'bench@example.org', password: 'bench password for the sync bench' };
const ORGANISATIONS = 50;

function office(i: number, modifiedOn: string, name = `Office ${i} & annex`): RecordWrite {
  const id = String(i).padStart(12, '0');
  return {
    resource: 'org_office',
    uuid: `urn:uuid:00000000-0000-4000-8000-${id}`,
    mci: 0,
    created_on: '2024-01-01T00:00:00',
    modified_on: modifiedOn,
    deleted: false,
    attributes: { created_by: 'admin@example.org' },
    data: [
      { field: 'name', text: name },
      { field: 'code', text: `C-${i}` },
      { field: 'obsolete', value: 'false', text: 'No' },
      { field: 'phone1', text: `+977-1-${id}` },
    ],
    references: [{ field: 'organisation_id', resource: 'org_organisation', uuid: `urn:uuid:org-${i % ORGANISATIONS}`, text: `Organisation ${i % ORGANISATIONS}` }],
  };
}

async function seed(store: Store, from: number, to: number): Promise<void> {
  if (from === 0) {
    await store.transaction(async (tx) => {
      for (let i = 0; i < ORGANISATIONS; i++) {
        await tx.putRecord({ resource: 'org_organisation', uuid: `urn:uuid:org-${i}`, mci: 0, modified_on: '2024-01-01T00:00:00', deleted: false, attributes: {}, data: [{ field: 'name', text: `Organisation ${i}` }], references: [] });
      }
    });
  }
  for (let start = from; start < to; start += 2000) {
    await store.transaction(async (tx) => {
      for (let i = start; i < Math.min(to, start + 2000); i++) await tx.putRecord(office(i, new Date(Date.UTC(2024, 0, 1) + i * 1000).toISOString().slice(0, 19)));
    });
  }
}

/** CPU seconds a process has used (Linux /proc; undefined elsewhere). */
function cpuSecondsOf(pid: number): number | undefined {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return undefined;
  }
}

function ownCpuSeconds(): number {
  const usage = process.cpuUsage();
  return (usage.user + usage.system) / 1e6;
}

async function startPeer(dataDir: string): Promise<{ url: string; pid: number; stop(): Promise<void> }> {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(repoRoot, 'src/cli/bin.ts'), 'start', '--data', dataDir, '--host', '127.0.0.1', '--port', '0', '--no-worker', '--name', 'bench peer'], {
    cwd: repoRoot,
    env: { ...process.env, SLUICE_ADMIN_USER: ADMIN.user, SLUICE_ADMIN_PASSWORD: ADMIN.password, SLUICE_LOG_LEVEL: 'info', SLUICE_DOMAIN: 'peer.bench', SLUICE_DISCOVERY: 'false' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const url = await new Promise<string>((resolve, reject) => {
    let output = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      output += chunk.toString('utf8');
      const line = output.split('\n').find((candidate) => candidate.includes('listening on'));
      if (line) resolve((JSON.parse(line) as { url: string }).url);
    });
    child.once('exit', (code) => reject(new Error(`peer exited with ${code}`)));
  });
  return {
    url,
    pid: child.pid!,
    async stop() {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    },
  };
}

/** Changes `count` records spread over the peer's store, as a user of the peer would. */
async function changeOnPeer(file: string, total: number, count: number, round: number): Promise<void> {
  const store = await openSqliteStore({ file });
  try {
    await store.transaction(async (tx) => {
      for (let k = 0; k < count; k++) {
        const i = Math.floor(((k + 0.5) * total) / count);
        const modifiedOn = new Date(Date.UTC(2025, 0, 1 + round) + k * 1000).toISOString().slice(0, 19);
        await tx.putRecord(office(i, modifiedOn, `Office ${i}, changed in round ${round}`));
      }
    });
  } finally {
    await store.close();
  }
}

/** The puller's store as `--store` asks: the embedded file, the test MongoDB server, or a given URL. */
async function pullerStoreLocator(): Promise<{ locator: string; label: string; dispose(): Promise<void> }> {
  const asked = args.store;
  if (asked === 'sqlite') return { locator: 'sqlite', label: 'SQLite', dispose: async () => undefined };
  if (asked.startsWith('mongodb://') || asked.startsWith('mongodb+srv://')) return { locator: asked, label: 'MongoDB (given URL)', dispose: async () => undefined };
  if (asked !== 'mongodb') throw new Error(`--store ${asked}: use sqlite, mongodb (the test server) or a mongodb:// URL`);
  const mongo: TestMongo = await startTestMongo();
  const database = `sluice_bench_sync_${process.pid}`;
  const url = mongo.url.replace(/^(mongodb:\/\/[^/?]+)\/?/, `$1/${database}`);
  return {
    locator: url,
    label: `MongoDB (${mongo.source}, database ${database})`,
    async dispose() {
      const { MongoClient } = await import('mongodb');
      const client = new MongoClient(mongo.url);
      await client.db(database).dropDatabase();
      await client.close();
      await mongo.stop();
    },
  };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

async function main(): Promise<void> {
  const root = mkdtempSync(path.join(args.dir, 'sluice-bench-sync-'));
  const peerDir = path.join(root, 'peer');
  const pullerDir = path.join(root, 'puller');
  const peerFile = path.join(peerDir, 'sluice.db');
  let round = 0;
  try {
    mkdirSync(peerDir, { recursive: true });
    const seeded = performance.now();
    const peerStore = await openSqliteStore({ file: peerFile });
    await seed(peerStore, 0, RECORDS);
    await peerStore.close();
    console.log(`seeded the peer with ${RECORDS} records in ${((performance.now() - seeded) / 1000).toFixed(1)} s (not measured)`);

    const peer = await startPeer(peerDir);
    const pullerStore = await pullerStoreLocator();
    console.log(`puller store: ${pullerStore.label}`);
    const config = loadConfig(
      { host: '127.0.0.1', port: 0, data: pullerDir, store: pullerStore.locator, name: 'bench puller', worker: false },
      { SLUICE_ADMIN_USER: ADMIN.user, SLUICE_ADMIN_PASSWORD: ADMIN.password, SLUICE_DOMAIN: 'puller.bench' },
    );
    const puller = await startGateway(config, { logger: silentLogger(), print: () => undefined, syncOverrides: { pageSize: PAGE } });
    try {
      await puller.sync.repositories.add({ name: 'peer', url: peer.url, username: ADMIN.user, password: ADMIN.password });
      await puller.sync.tasks.add('peer', 'org_office', { mode: 'pull' });

      const full = async (label: string, expected: number) => {
        const started = performance.now();
        const cpuBefore = ownCpuSeconds();
        const peerBefore = cpuSecondsOf(peer.pid);
        const { run } = await puller.sync.syncNow('peer');
        const seconds = (performance.now() - started) / 1000;
        const cpu = ownCpuSeconds() - cpuBefore;
        const peerAfter = cpuSecondsOf(peer.pid);
        const peerCpu = peerBefore === undefined || peerAfter === undefined ? undefined : peerAfter - peerBefore;
        if (run.status !== 'success') throw new Error(`${label}: ${run.status} ${run.message}`);
        const records = run.counts.pull_records ?? 0;
        console.log(
          `${label}: ${records} records (${run.counts.pull_created} created) in ${seconds.toFixed(1)} s = ${Math.round(records / seconds)} records/s, ${(run.bytes_in / 1048576).toFixed(0)} MiB in ${run.counts.pull_pages} pages; peak RSS ${(process.memoryUsage().rss / 1048576).toFixed(0)} MB`,
        );
        console.log(
          `  CPU: puller ${cpu.toFixed(1)} s (${Math.round(records / cpu)} records per CPU-second)${peerCpu === undefined ? '' : `, peer ${peerCpu.toFixed(1)} s (${Math.round(records / peerCpu)} per CPU-second)`}; load average ${loadavg()[0]!.toFixed(1)} on ${cpus().length} cores`,
        );
        if (run.counts.pull_created! < expected) throw new Error(`${label}: expected ${expected} created`);
        return records / seconds;
      };
      const incremental = async (label: string, total: number) => {
        const times: number[] = [];
        const cpuTimes: number[] = [];
        for (let i = 0; i < 5; i++) {
          round += 1;
          await changeOnPeer(peerFile, total, CHANGED, round);
          const started = performance.now();
          const cpuBefore = ownCpuSeconds();
          const { run } = await puller.sync.syncNow('peer');
          times.push(performance.now() - started);
          cpuTimes.push((ownCpuSeconds() - cpuBefore) * 1000);
          if (run.status !== 'success' || run.counts.pull_updated !== CHANGED) throw new Error(`${label}: ${run.status} ${JSON.stringify(run.counts)} ${run.message}`);
        }
        console.log(
          `${label}: incremental pull of ${CHANGED} changed records: median ${median(times).toFixed(0)} ms (runs: ${times.map((t) => t.toFixed(0)).join(', ')} ms; puller CPU median ${median(cpuTimes).toFixed(0)} ms; load average ${loadavg()[0]!.toFixed(1)})`,
        );
        return median(times);
      };

      const rate = await full(`full pull of ${RECORDS}`, RECORDS);
      const small = await incremental(`${RECORDS} records`, RECORDS);
      let large: number | undefined;
      if (BIG > RECORDS) {
        const grown = performance.now();
        const growing = await openSqliteStore({ file: peerFile });
        await seed(growing, RECORDS, BIG);
        await growing.close();
        console.log(`grew the peer to ${BIG} records in ${((performance.now() - grown) / 1000).toFixed(1)} s (not measured)`);
        await full(`catch-up pull of ${BIG - RECORDS} more`, BIG - RECORDS);
        large = await incremental(`${BIG} records`, BIG);
      }
      console.log('');
      console.log(`full pull: ${Math.round(rate)} records/s (target >= 10000: ${rate >= 10_000 ? 'met' : 'NOT met'})`);
      console.log(
        `incremental pull of ${CHANGED}: ${small.toFixed(0)} ms at ${RECORDS}${large === undefined ? '' : `, ${large.toFixed(0)} ms at ${BIG}`} (target <= 150 ms, flat: ${
          small <= 150 && (large === undefined || large <= 150) ? 'met' : 'NOT met'
        })`,
      );
    } finally {
      await puller.close();
      await peer.stop();
      await pullerStore.dispose();
    }
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

await main();
