/**
 * Two Sluice processes on loopback, both on the embedded SQLite store, run the sync end-to-end
 * scenario (support/two-gateways-scenario.ts): 10k records both ways, then updates, deletes and
 * merges from both sides. two-gateways-mongodb.test.ts runs the same scenario on MongoDB.
 */
import { after, before, describe, it } from 'node:test';
import { spawnGateway, type GatewayProcess } from './support/gateways.js';
import { SCENARIO_TITLE, twoGatewayScenario } from './support/two-gateways-scenario.js';

describe('two Sluice gateways on loopback', { timeout: 240_000 }, () => {
  let a: GatewayProcess;
  let b: GatewayProcess;

  before(async () => {
    [a, b] = await Promise.all([spawnGateway({ name: 'Gateway A', domain: 'a.test' }), spawnGateway({ name: 'Gateway B', domain: 'b.test' })]);
  });

  after(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
  });

  it(SCENARIO_TITLE, (t) => twoGatewayScenario(a, b, (step) => t.diagnostic(step)));
});
