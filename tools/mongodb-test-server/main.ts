/**
 * Runs the MongoDB test server in the foreground until Ctrl-C / SIGTERM, printing its URL:
 *
 *   node --import tsx tools/mongodb-test-server/main.ts [--port 27017] [--transaction-lifetime-ms 60000]
 *
 * Same configuration as the tests' helper (server.ts): SLUICE_DOCUMENTDB_ROOT (default
 * /var/cache/sluice-documentdb, provisioned by setup.sh), SLUICE_DOCUMENTDB_PGPORT (55432).
 * Useful to point a gateway at it by hand: `sluice start --store "$(url printed here)"`.
 */
import { parseArgs } from 'node:util';
import { startTestMongo, TestServerUnavailable } from './server.js';

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '27017' },
    'transaction-lifetime-ms': { type: 'string' },
  },
});

try {
  const lifetime = values['transaction-lifetime-ms'];
  const server = await startTestMongo({
    env: { ...process.env, SLUICE_TEST_MONGODB_URL: undefined },
    port: Number(values.port),
    ...(lifetime !== undefined ? { transactionLifetimeMs: Number(lifetime) } : {}),
  });
  process.stdout.write(`${server.url}\n`);
  let stopping = false;
  const stop = async (): Promise<void> => {
    if (stopping) return;
    stopping = true;
    await server.stop();
    process.exit(0);
  };
  process.on('SIGINT', () => void stop());
  process.on('SIGTERM', () => void stop());
} catch (error) {
  process.stderr.write(`${error instanceof TestServerUnavailable ? error.message : String(error)}\n`);
  process.exit(1);
}
