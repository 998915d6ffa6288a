/**
 * The MongoDB-compatible server for tests: `SLUICE_TEST_MONGODB_URL` when it is set (a real MongoDB
 * replica set), else DocumentDB from the chroot that setup.sh provisioned, behind an in-process
 * wire adapter. Provisioning itself (minutes, root) is never done here: without either, this fails
 * with a message that says what to run.
 *
 *   const mongo = await startTestMongo();     // { url, source }
 *   …new MongoClient(mongo.url)…
 *   await mongo.stop();
 *
 * PostgreSQL is started when it is not already running (setup.sh, which needs root) and stopped
 * again by the last user that this helper started it for; a server started by someone else (CI's
 * setup step) is left running.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import pg from 'pg';
import { startWireAdapter } from './wire-adapter.js';
import type { WireAdapter } from './wire-adapter.js';

const run = promisify(execFile);
const here = path.dirname(fileURLToPath(import.meta.url));

export const DEFAULT_DOCUMENTDB_ROOT = '/var/cache/sluice-documentdb';
export const DEFAULT_POSTGRES_PORT = 55432;
const READY_MARKER = '.sluice-documentdb-ready';

export interface TestMongo {
  url: string;
  source: 'SLUICE_TEST_MONGODB_URL' | 'documentdb';
  stop(): Promise<void>;
}

export interface TestMongoOptions {
  env?: Record<string, string | undefined>;
  /** Wire adapter port; 0 (default) picks a free one. */
  port?: number;
  /** Rolls back transactions idle this long (default 60 s, as mongod). */
  transactionLifetimeMs?: number;
}

export class TestServerUnavailable extends Error {}

async function postgresAnswers(url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2000 });
  try {
    await client.connect();
    await client.query('SELECT 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Who uses a PostgreSQL this helper started: one file per user, named after its process. */
class UserRegistry {
  private readonly token: string;

  constructor(private readonly folder: string) {
    this.token = `${process.pid}-${Math.random().toString(36).slice(2, 10)}`;
  }

  enter(): void {
    mkdirSync(this.folder, { recursive: true });
    writeFileSync(path.join(this.folder, this.token), '');
  }

  /** Leaves; true when no live process is left using the server. */
  leave(): boolean {
    rmSync(path.join(this.folder, this.token), { force: true });
    const others = readdirSync(this.folder).filter((name) => {
      const pid = Number(name.split('-')[0]);
      if (Number.isInteger(pid) && isAlive(pid)) return true;
      rmSync(path.join(this.folder, name), { force: true });
      return false;
    });
    return others.length === 0;
  }
}

export async function startDocumentDb(root: string, postgresPort: number, options: TestMongoOptions = {}): Promise<TestMongo> {
  const postgresUrl = `postgres://postgres@127.0.0.1:${postgresPort}/postgres`;
  const provisioned = existsSync(path.join(root, READY_MARKER));
  if (!provisioned && !(await postgresAnswers(postgresUrl))) {
    throw new TestServerUnavailable(
      `No MongoDB-compatible server for the MongoDB store tests: SLUICE_TEST_MONGODB_URL is not set and there is no provisioned DocumentDB chroot at ${root}. ` +
        `Provision it once (as root, about 2-4 minutes): tools/mongodb-test-server/setup.sh ${root}` +
        ' (or set SLUICE_TEST_MONGODB_URL to a MongoDB replica set, or SLUICE_DOCUMENTDB_ROOT to another chroot).',
    );
  }
  // Registered before looking again, so a user finishing meanwhile cannot stop the server under us.
  const users = new UserRegistry(`${root}.users`);
  users.enter();
  let startedHere = false;
  let adapter: WireAdapter;
  try {
    if (!(await postgresAnswers(postgresUrl))) {
      if (process.getuid?.() !== 0) {
        throw new TestServerUnavailable(
          `DocumentDB's PostgreSQL is not running on 127.0.0.1:${postgresPort} and starting it needs root (chroot). Run: sudo tools/mongodb-test-server/setup.sh ${root} ${postgresPort}`,
        );
      }
      try {
        await run(path.join(here, 'setup.sh'), [root, String(postgresPort)], { timeout: 120_000 });
      } catch (error) {
        const stderr = (error as { stderr?: string }).stderr ?? '';
        throw new TestServerUnavailable(`Starting DocumentDB's PostgreSQL failed: ${stderr.trim() || String(error)}`);
      }
      startedHere = true;
    }
    adapter = await startWireAdapter({
      postgresUrl,
      ...(options.port !== undefined ? { port: options.port } : {}),
      ...(options.transactionLifetimeMs !== undefined ? { transactionLifetimeMs: options.transactionLifetimeMs } : {}),
    });
  } catch (error) {
    users.leave();
    throw error;
  }
  return {
    url: adapter.url,
    source: 'documentdb',
    async stop() {
      await adapter.close();
      if (users.leave() && startedHere) await run(path.join(here, 'stop.sh'), [root], { timeout: 60_000 });
    },
  };
}

/** The test server as configured by the environment (see the module comment). */
export async function startTestMongo(options: TestMongoOptions = {}): Promise<TestMongo> {
  const env = options.env ?? process.env;
  const external = env.SLUICE_TEST_MONGODB_URL;
  if (external) return { url: external, source: 'SLUICE_TEST_MONGODB_URL', stop: async () => undefined };
  const root = env.SLUICE_DOCUMENTDB_ROOT || DEFAULT_DOCUMENTDB_ROOT;
  const postgresPort = Number(env.SLUICE_DOCUMENTDB_PGPORT || DEFAULT_POSTGRES_PORT);
  return startDocumentDb(root, postgresPort, options);
}
