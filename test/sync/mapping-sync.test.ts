/**
 * Peer sync through the repository's value mapping: two in-process gateways (and the fake Eden),
 * the puller linked to a mapping that maps three status values and renames a field (and, with
 * Eden, a table). Records land mapped, go back with the outbound values, a saved change applies
 * from the next run, and a mapping that cannot be read stops the run before anything moves.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { linkMapping } from '../../src/console/instance-links.js';
import { systemClock } from '../../src/s3xml/timestamps.js';
import type { RecordWrite } from '../../src/store/store.js';
import { createFakeEden, type FakeEden } from '../fakes/fake-eden/index.js';
import { ADMIN, startTestGateway, type TestGateway } from '../support/gateway.js';
import { fieldText as field, hospital, hospitalUuid as seriesUuid } from '../support/hospitals.js';

const INSTANCE = 'bagmati';

const STATUS_FIELD = {
  local: 'status',
  inbound: { values: { Functioning: '1', Damaged: '2', Closed: '3' } },
  outbound: { values: { '1': 'Functioning', '2': 'Damaged', '3': 'Closed' } },
};

const MAPPING = {
  instance: INSTANCE,
  unmapped: { policy: 'pass' },
  resources: [{ local: 'med_hospital', fields: [STATUS_FIELD, { local: 'phone_exchange', remote: 'phone' }] }],
};

const SERIES = '7b2e0c00';
const hospitalUuid = (index: number): string => seriesUuid(index, SERIES);
const peerHospital = (index: number, status: string, modifiedOn = '2024-06-01T08:00:00'): RecordWrite => hospital(index, status, { series: SERIES, modifiedOn });

async function saveMapping(gateway: TestGateway, document: unknown): Promise<void> {
  const instance = (document as { instance: string }).instance;
  const response = await gateway.request(`/api/mappings/${instance}`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(document),
  });
  assert.equal(response.status, 200, await response.text());
}

async function importHere(gateway: TestGateway, xml: string): Promise<void> {
  const response = await gateway.request('/med/hospital.xml', { method: 'POST', headers: { 'content-type': 'text/xml' }, body: xml });
  const reply = (await response.json()) as { status?: string };
  assert.equal(reply.status, 'success', JSON.stringify(reply));
}

describe('peer sync through the repository\'s value mapping', () => {
  let mappingsDir: string;
  let here: TestGateway;
  let peer: TestGateway;
  let eden: FakeEden;
  let repository: string;

  before(async () => {
    mappingsDir = await mkdtemp(path.join(os.tmpdir(), 'sluice-sync-mappings-'));
    [here, peer, eden] = await Promise.all([
      startTestGateway({ name: 'Kathmandu hub', env: { SLUICE_MAPPINGS: mappingsDir } }),
      startTestGateway({ name: 'Bagmati hospitals' }),
      createFakeEden(),
    ]);
    for (const [index, status] of ['Functioning', 'Damaged', 'Closed', 'Evacuated'].entries()) await peer.store.putRecord(peerHospital(index + 1, status));
    await saveMapping(here, MAPPING);
    repository = (await here.sync.repositories.add({ name: 'Bagmati hospitals', url: peer.url, username: ADMIN.user, password: ADMIN.password })).uuid;
    await linkMapping(here.store, systemClock, repository, INSTANCE);
    await here.sync.tasks.add(repository, 'med_hospital', { mode: 'both' });
  });

  after(async () => {
    await here?.stop();
    await peer?.stop();
    await eden?.close();
    await rm(mappingsDir, { recursive: true, force: true });
  });

  it('imports the peer\'s records with mapped values under the local field name and reports the unmapped value', async () => {
    const outcome = await here.sync.syncNow(repository);
    assert.equal(outcome.run.status, 'success', outcome.run.message);
    assert.equal(outcome.run.counts.pull_created, 4);

    const landed = await Promise.all([1, 2, 3, 4].map((index) => here.store.getRecord('med_hospital', hospitalUuid(index))));
    assert.deepEqual(landed.map((record) => field(record, 'status')), ['1', '2', '3', 'Evacuated']);
    assert.equal(field(landed[0], 'phone_exchange'), '01-441251');
    assert.equal(field(landed[0], 'phone'), undefined);

    const pullLine = (await here.store.listLog({ repository })).find((entry) => entry.mode === 'pull/outgoing' && entry.action === 'import');
    assert.match(pullLine?.message ?? '', /unmapped status "Evacuated" ×1 \(passed\)/);

    // The console's report reads the captured pull: the raw document, before the mapping.
    const response = await here.request(`/api/mappings/${INSTANCE}/unmapped`);
    assert.equal(response.status, 200);
    const report = (await response.json()) as { counts: { direction: string; field: string; value: string; action: string }[] };
    assert.deepEqual(
      report.counts.map(({ direction, field: name, value, action }) => ({ direction, field: name, value, action })),
      [{ direction: 'inbound', field: 'status', value: 'Evacuated', action: 'passed' }],
    );

    // Whatever the same run's push sent back went through the outbound direction: the peer keeps its values and names.
    const echoed = await peer.store.getRecord('med_hospital', hospitalUuid(1));
    assert.equal(field(echoed, 'status'), 'Functioning');
    assert.equal(field(echoed, 'phone_exchange'), undefined);
    assert.equal(outcome.run.counts.push_errors ?? 0, 0);
  });

  it('pushes local changes to the peer with the outbound values under the peer\'s field name', async () => {
    await importHere(
      here,
      `<s3xml>
        <resource name="med_hospital" uuid="${hospitalUuid(1)}" modified_on="2025-01-02T10:00:00">
          <data field="name">Hospital 1</data><data field="status">3</data><data field="phone_exchange">01-441251</data>
        </resource>
        <resource name="med_hospital" uuid="${hospitalUuid(50)}" modified_on="2025-01-02T10:00:00">
          <data field="name">Field hospital</data><data field="status">2</data><data field="phone_exchange">01-999000</data>
        </resource>
      </s3xml>`,
    );
    const outcome = await here.sync.syncNow(repository);
    assert.equal(outcome.run.status, 'success', outcome.run.message);

    const updated = await peer.store.getRecord('med_hospital', hospitalUuid(1));
    assert.equal(field(updated, 'status'), 'Closed');
    const created = await peer.store.getRecord('med_hospital', hospitalUuid(50));
    assert.equal(field(created, 'status'), 'Damaged');
    assert.equal(field(created, 'phone'), '01-999000');
    assert.equal(field(created, 'phone_exchange'), undefined);
    // Still the local values here.
    assert.equal(field(await here.store.getRecord('med_hospital', hospitalUuid(50)), 'status'), '2');
  });

  it('applies a saved change of the mapping from the next run on', async () => {
    await saveMapping(here, {
      ...MAPPING,
      resources: [{ ...MAPPING.resources[0], fields: [{ ...STATUS_FIELD, inbound: { values: { ...STATUS_FIELD.inbound.values, Evacuated: '4' } } }, MAPPING.resources[0]!.fields[1]] }],
    });
    await peer.store.putRecord(peerHospital(5, 'Evacuated', '2025-02-01T08:00:00'));
    const outcome = await here.sync.syncNow(repository);
    assert.equal(outcome.run.status, 'success', outcome.run.message);
    assert.equal(field(await here.store.getRecord('med_hospital', hospitalUuid(5)), 'status'), '4');
    // Records imported before the change are not rewritten: the mapping applies to what comes in.
    assert.equal(field(await here.store.getRecord('med_hospital', hospitalUuid(4)), 'status'), 'Evacuated');
    const pullLine = (await here.store.listLog({ repository })).find((entry) => entry.mode === 'pull/outgoing' && entry.run_id === outcome.run.id);
    assert.doesNotMatch(pullLine?.message ?? '', /unmapped/);
  });

  it('fails the run with a stable code and imports nothing when the mapping is broken or missing, then catches up', async () => {
    await peer.store.putRecord(peerHospital(6, 'Damaged', '2025-03-01T08:00:00'));
    await writeFile(path.join(mappingsDir, `${INSTANCE}.json`), '{"instance": "bagmati", "resources": [');
    const broken = await here.sync.syncNow(repository);
    assert.equal(broken.run.status, 'fatal');
    assert.deepEqual(broken.failures.map((failure) => failure.code), ['MAPPING_INVALID']);
    assert.equal(await here.store.getRecord('med_hospital', hospitalUuid(6)), undefined);

    await linkMapping(here.store, systemClock, repository, 'nowhere');
    const missing = await here.sync.syncNow(repository);
    assert.equal(missing.run.status, 'fatal');
    assert.deepEqual(missing.failures.map((failure) => failure.code), ['MAPPING_NOT_FOUND']);
    assert.match(missing.run.message ?? '', /nowhere.*Bagmati hospitals/);
    assert.equal(await here.store.getRecord('med_hospital', hospitalUuid(6)), undefined);

    await linkMapping(here.store, systemClock, repository, INSTANCE);
    await saveMapping(here, MAPPING);
    const repaired = await here.sync.syncNow(repository);
    assert.equal(repaired.run.status, 'success', repaired.run.message);
    assert.equal(field(await here.store.getRecord('med_hospital', hospitalUuid(6)), 'status'), '2');
  });

  it('asks an Eden peer for its own name of a renamed table, imports it under the local name and pushes it back under the peer\'s', async () => {
    const edenHospital = eden.state.upsert('hms_hospital', { name: 'Bir Hospital', status: 'Functioning', phone: '01-4221119' });
    await saveMapping(here, {
      instance: 'eden-hms',
      resources: [{ local: 'med_hospital', remote: 'hms_hospital', fields: [STATUS_FIELD, { local: 'phone_exchange', remote: 'phone' }] }],
    });
    const added = await here.sync.repositories.add({ name: 'eden', url: eden.url, username: eden.admin.email, password: eden.admin.password });
    await linkMapping(here.store, systemClock, added.uuid, 'eden-hms');
    await here.sync.tasks.add(added.uuid, 'med_hospital', { mode: 'both' });

    const first = await here.sync.syncNow(added.uuid);
    assert.equal(first.run.status, 'success', first.run.message);
    const pulls = eden.hooks.requests({ method: 'GET', path: '/sync/sync.xml' });
    assert.deepEqual(pulls.map((request) => request.query.resource), ['hms_hospital']);
    const landed = await here.store.getRecord('med_hospital', edenHospital.uuid);
    assert.equal(field(landed, 'status'), '1');
    assert.equal(field(landed, 'phone_exchange'), '01-4221119');

    await importHere(
      here,
      `<s3xml><resource name="med_hospital" uuid="${edenHospital.uuid}" modified_on="2030-01-01T00:00:00">
        <data field="name">Bir Hospital</data><data field="status">2</data><data field="phone_exchange">01-4221119</data>
      </resource></s3xml>`,
    );
    const second = await here.sync.syncNow(added.uuid);
    assert.equal(second.run.status, 'success', second.run.message);
    const pushes = eden.hooks.requests({ method: 'POST', path: '/sync/sync.xml' });
    assert.ok(pushes.length > 0 && pushes.every((request) => request.query.resource === 'hms_hospital'));
    assert.equal(eden.state.get('hms_hospital', edenHospital.uuid)?.fields.status?.text, 'Damaged');
    assert.equal(eden.state.all('med_hospital').length, 0);
  });
});
