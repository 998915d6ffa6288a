/**
 * The sync end-to-end scenario, run by test/sync/two-gateways.test.ts (both gateways on SQLite) and
 * test/sync/two-gateways-mongodb.test.ts (both on MongoDB): two Sluice processes on loopback
 * register with each other fingerprint first and synchronise 10k records both ways — then updates,
 * deletes and merges made on both sides (one set of records changed on both, which NEWER settles) —
 * until both stores hold the same records.
 */
import assert from 'node:assert/strict';
import { ADMIN, basicAuth, comparable, exportTable, importXml, runCli, type GatewayProcess } from './gateways.js';
import { deletionsXml, mergesXml, officesXml, officeUuid, organisationsXml, orgUuid } from './records-xml.js';

export const SCENARIO_TITLE = 'register fingerprint first and sync 10k records both ways, then updates, deletes and merges from both sides';

const PER_SIDE = 5000;
const ORGS = 20;

async function api(gateway: GatewayProcess, method: string, path: string, body?: unknown): Promise<{ status: number; json: unknown }> {
  const response = await fetch(`${gateway.url}${path}`, {
    method,
    headers: { authorization: basicAuth(ADMIN.user, ADMIN.password), ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  return { status: response.status, json: text ? JSON.parse(text) : undefined };
}

async function assertSameTables(a: GatewayProcess, b: GatewayProcess): Promise<void> {
  for (const resource of ['org_organisation', 'org_office']) {
    const [left, right] = await Promise.all([exportTable(a, resource), exportTable(b, resource)]);
    assert.equal(left.size, right.size, `${resource}: A has ${left.size} records, B has ${right.size}`);
    const differing: string[] = [];
    for (const [uuid, record] of left) {
      const other = right.get(uuid);
      if (!other || JSON.stringify(comparable(record)) !== JSON.stringify(comparable(other))) differing.push(uuid);
    }
    assert.deepEqual(differing.slice(0, 5), [], `${resource}: ${differing.length} records differ`);
  }
}

/**
 * Runs the whole scenario on two fresh gateways (empty stores, nothing registered). `mark` hears
 * when each step ended (the tests pass it to t.diagnostic, so slow steps show in the output).
 */
export async function twoGatewayScenario(a: GatewayProcess, b: GatewayProcess, mark: (step: string) => void = () => undefined): Promise<void> {
  const began = Date.now();
  const done = (step: string) => mark(`${step}: ${((Date.now() - began) / 1000).toFixed(1)} s`);
  for (const [gateway, side] of [[a, 'a'], [b, 'b']] as const) {
    await importXml(gateway, 'org_organisation', organisationsXml(side, ORGS, '2024-01-01T00:00:00'));
    await importXml(gateway, 'org_office', officesXml(side, 0, PER_SIDE, '2024-01-01T00:00:00'));
  }

  done('seeded 10k records');

  // Fingerprint first: the CLI shows the peer's uuid (read without credentials) before registering.
  const addB = await runCli(['repo', 'add', 'B', b.url, '--user', ADMIN.user, '--password', ADMIN.password, '--yes', '--url', a.url]);
  assert.equal(addB.code, 0, addB.stderr);
  assert.ok(addB.stdout.includes(`The peer at ${b.url} is ${b.uuid}`), addB.stdout);
  const addA = await runCli(['repo', 'add', 'A', a.url, '--user', ADMIN.user, '--password', ADMIN.password, '--yes', '--url', b.url]);
  assert.equal(addA.code, 0, addA.stderr);
  // Each registered itself with the other: both know each other's uuid, and neither returns a password.
  const aRepos = (await api(a, 'GET', '/api/repositories')).json as { uuid: string; name: string; has_password: boolean; software: string }[];
  assert.deepEqual(aRepos.map((r) => [r.uuid, r.name, r.has_password, r.software]), [[b.uuid, 'B', true, 'sluice']]);
  assert.ok(!JSON.stringify(aRepos).includes(ADMIN.password));

  for (const [gateway, peer] of [[a, 'B'], [b, 'A']] as const) {
    for (const resource of ['org_organisation', 'org_office']) {
      const created = await api(gateway, 'POST', `/api/repositories/${peer}/tasks`, { resource });
      assert.equal(created.status, 201, JSON.stringify(created.json));
    }
  }

  done('registered and tasks created');
  const first = await runCli(['sync', 'B', '--url', a.url, '--json']);
  assert.equal(first.code, 0, `${first.stdout}\n${first.stderr}`);
  const firstRun = JSON.parse(first.stdout) as { status: string; counts: Record<string, number> };
  assert.equal(firstRun.status, 'success');
  assert.equal(firstRun.counts.pull_created, PER_SIDE + ORGS, 'every record of B was created on A exactly once');
  assert.equal(firstRun.counts.pull_updated, 0);
  done('A pulled and pushed');
  const fromB = await api(b, 'POST', '/api/repositories/A/sync', {});
  assert.equal(fromB.status, 200, JSON.stringify(fromB.json));
  assert.equal((fromB.json as { status: string }).status, 'success');
  done('B pulled and pushed');
  await assertSameTables(a, b);
  assert.equal((await exportTable(a, 'org_office')).size, 2 * PER_SIDE);
  done('compared');

  // Changes on both sides.
  const later = '2024-02-01T00:00:00';
  await importXml(a, 'org_office', officesXml('a', 0, 100, later, (i) => `A renamed its office ${i}`));
  await importXml(a, 'org_office', officesXml('b', 0, 50, later, (i) => `A renamed B's office ${i}`));
  await importXml(a, 'org_office', deletionsXml('org_office', range(100, 150).map((i) => officeUuid('a', i)), later));
  await importXml(a, 'org_office', mergesXml('org_office', range(150, 160).map((i) => [officeUuid('a', i), officeUuid('a', i + 10)]), later));
  await importXml(a, 'org_organisation', mergesXml('org_organisation', [[orgUuid('a', 0), orgUuid('a', 1)]], later));
  await importXml(b, 'org_office', officesXml('b', 1000, 1100, later, (i) => `B renamed its office ${i}`));
  await importXml(b, 'org_office', officesXml('a', 1000, 1050, later, (i) => `B renamed A's office ${i}`));
  await importXml(b, 'org_office', deletionsXml('org_office', range(1100, 1150).map((i) => officeUuid('b', i)), later));
  await importXml(b, 'org_office', mergesXml('org_office', range(1150, 1160).map((i) => [officeUuid('b', i), officeUuid('b', i + 10)]), later));
  // The same ten records changed on both sides; B's change is the newer one.
  await importXml(a, 'org_office', officesXml('a', 200, 210, '2024-02-01T10:00:00', (i) => `A's version of ${i}`));
  await importXml(b, 'org_office', officesXml('a', 200, 210, '2024-02-01T11:00:00', (i) => `B's version of ${i}`));

  done('changed on both sides');
  const second = await api(a, 'POST', '/api/repositories/B/sync', {});
  assert.equal(second.status, 200, JSON.stringify(second.json));
  const secondRun = second.json as { status: string; counts: Record<string, number> };
  assert.equal(secondRun.status, 'success', JSON.stringify(secondRun));
  const back = await api(b, 'POST', '/api/repositories/A/sync', {});
  assert.equal((back.json as { status: string }).status, 'success', JSON.stringify(back.json));
  await assertSameTables(a, b);

  done('synced the changes both ways and compared');
  const offices = await exportTable(b, 'org_office');
  assert.equal(offices.get(officeUuid('a', 5))!.data.find((d) => d.field === 'name')!.text, 'A renamed its office 5');
  assert.equal(offices.get(officeUuid('b', 5))!.data.find((d) => d.field === 'name')!.text, "A renamed B's office 5");
  assert.equal(offices.get(officeUuid('a', 1005))!.data.find((d) => d.field === 'name')!.text, "B renamed A's office 1005");
  assert.equal(offices.get(officeUuid('a', 205))!.data.find((d) => d.field === 'name')!.text, "B's version of 205");
  assert.equal(offices.get(officeUuid('a', 120))!.deleted, true);
  assert.equal(offices.get(officeUuid('b', 1120))!.deleted, true);
  assert.equal(offices.get(officeUuid('a', 155))!.replaced_by, officeUuid('a', 165));
  assert.equal(offices.get(officeUuid('b', 1155))!.replaced_by, officeUuid('b', 1165));
  // The organisation merged on A: B's copies of offices that pointed at the loser point at the winner.
  const office20 = offices.get(officeUuid('a', 20))!;
  assert.equal(office20.references.find((r) => r.field === 'organisation_id')!.uuid, orgUuid('a', 1));

  // Both sides logged what they did, with direction.
  const log = (await api(a, 'GET', `/api/log?repository=${encodeURIComponent(b.uuid)}&limit=50`)).json as { mode: string; result: string }[];
  assert.ok(log.some((entry) => entry.mode === 'pull/outgoing' && entry.result === 'success'));
  assert.ok(log.some((entry) => entry.mode === 'push/outgoing' && entry.result === 'success'));
  const bLog = (await api(b, 'GET', `/api/log?repository=${encodeURIComponent(a.uuid)}&limit=200`)).json as { mode: string }[];
  assert.ok(bLog.some((entry) => entry.mode === 'pull/incoming') && bLog.some((entry) => entry.mode === 'push/incoming'));
}

function range(from: number, to: number): number[] {
  return Array.from({ length: to - from }, (_, i) => from + i);
}
