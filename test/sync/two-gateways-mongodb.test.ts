/**
 * The sync end-to-end scenario of two-gateways.test.ts (support/two-gateways-scenario.ts) with both
 * gateways on MongoDB: each `sluice start --store mongodb://…/<its own database>` on the test
 * server (DocumentDB via tools/mongodb-test-server, or SLUICE_TEST_MONGODB_URL). Without a server
 * this fails and says what to run; it is never skipped.
 */
import { after, before, describe, it } from 'node:test';
import { startTestMongo, type TestMongo } from '../../tools/mongodb-test-server/server.js';
import { spawnGateway, type GatewayProcess } from './support/gateways.js';
import { dropDatabase, mongoUrlWithDatabase } from './support/mongo-databases.js';
import { SCENARIO_TITLE, twoGatewayScenario } from './support/two-gateways-scenario.js';

describe('two Sluice gateways on loopback, both on MongoDB', { timeout: 420_000 }, () => {
  let mongo: TestMongo | undefined;
  let a: GatewayProcess | undefined;
  let b: GatewayProcess | undefined;
  const databases = [`sluice_two_a_${process.pid}`, `sluice_two_b_${process.pid}`] as const;

  before(async () => {
    mongo = await startTestMongo();
    const url = mongo.url;
    [a, b] = await Promise.all([
      spawnGateway({ name: 'Gateway A', domain: 'a.test', store: mongoUrlWithDatabase(url, databases[0]) }),
      spawnGateway({ name: 'Gateway B', domain: 'b.test', store: mongoUrlWithDatabase(url, databases[1]) }),
    ]);
  });

  after(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
    if (mongo) for (const database of databases) await dropDatabase(mongo.url, database);
    await mongo?.stop();
  });

  it(SCENARIO_TITLE, (t) => twoGatewayScenario(a!, b!, (step) => t.diagnostic(step)));
});
