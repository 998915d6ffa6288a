/**
 * A task for a table whose rows arrived as components (offices nested under organisations) syncs
 * all of them: the change window counts them, a push sends them as masters with their join key,
 * and what comes back is matched to the stored components rather than duplicated or moved.
 */
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { exportResources } from '../../src/exporter/exporter.js';
import { importResources } from '../../src/importer/importer.js';
import type { S3Resource } from '../../src/s3xml/model.js';
import { parseS3XML } from '../../src/s3xml/parse.js';
import type { Store } from '../../src/store/store.js';
import { changeWindow } from '../../src/sync/change-window.js';
import { createFakeEden, type FakeEden } from '../fakes/fake-eden/index.js';
import { createMemoryStore } from '../support/memory-store.js';
import { ADMIN, startSyncGateway, type SyncGateway } from './support/gateways.js';

const clock = { now: () => new Date('2024-06-01T00:00:00Z') };
const ORGANISATIONS = 4;
const OFFICES_EACH = 3;

/** Organisations with their offices nested, as Eden exports organisations (no organisation_id in the offices). */
function organisations(): S3Resource[] {
  return Array.from({ length: ORGANISATIONS }, (_, i) => ({
    name: 'org_organisation',
    uuid: `urn:uuid:org-${i}`,
    modified_on: `2024-05-0${i + 1}T00:00:00`,
    attributes: {},
    data: [{ field: 'name', text: `Organisation ${i}` }],
    references: [],
    components: Array.from({ length: OFFICES_EACH }, (_, k) => ({
      name: 'org_office',
      uuid: `urn:uuid:office-${i}-${k}`,
      modified_on: `2024-05-0${i + 1}T00:00:0${k}`,
      attributes: {},
      data: [{ field: 'name', text: `Office ${i}.${k}` }],
      references: [],
      components: [],
    })),
  }));
}

async function seedOrganisations(store: Store): Promise<void> {
  const result = await importResources(store, organisations(), { clock });
  assert.deepEqual(result.errors, []);
}

/** Where each stored office sits: uuid → its organisation's uuid. */
async function officeParents(store: Store): Promise<Map<string, string | undefined>> {
  const offices = await store.queryRecords({ resource: 'org_office', includeDeleted: true });
  return new Map(offices.map((office) => [office.uuid, office.parent?.uuid]));
}

describe('change windows over rows stored as components', () => {
  it('count those rows, so paging through the windows delivers every office once', async () => {
    const store = createMemoryStore();
    await seedOrganisations(store);
    const delivered: string[] = [];
    let afterSeq = 0;
    for (let pages = 0; pages < 20; pages++) {
      const window = await changeWindow(store, 'org_office', afterSeq, 5);
      if (window.untilSeq <= afterSeq) break;
      for await (const resource of exportResources(store, { resource: 'org_office', afterSeq, untilSeq: window.untilSeq, dereference: false })) {
        assert.equal(resource.references[0]?.field, 'organisation_id');
        delivered.push(resource.uuid!);
      }
      afterSeq = window.untilSeq;
      if (!window.more) break;
    }
    assert.equal(delivered.length, ORGANISATIONS * OFFICES_EACH);
    assert.equal(new Set(delivered).size, delivered.length);
    await store.close();
  });
});

describe('a push task for a table whose rows are components, to an Eden peer', () => {
  let eden: FakeEden;
  let gateway: SyncGateway;

  beforeEach(async () => {
    eden = await createFakeEden({ now: () => Date.parse('2024-06-01T10:00:00Z') });
    gateway = await startSyncGateway({ name: 'Sluice with nested offices' });
  });

  afterEach(async () => {
    await gateway.stop();
    await eden.close();
  });

  it('sends every office with its organisation_id, and Eden stores each under its own organisation', async () => {
    await seedOrganisations(gateway.store);
    await gateway.sync.repositories.add({ name: 'eden', url: eden.url, username: eden.admin.email, password: eden.admin.password });
    await gateway.sync.tasks.add('eden', 'org_office', { mode: 'push' });
    const { run } = await gateway.sync.syncNow('eden');
    assert.equal(run.status, 'success', run.message);
    assert.equal(run.counts.push_records, ORGANISATIONS * OFFICES_EACH, 'Eden counts the offices it imported');
    const parents = await officeParents(gateway.store);
    for (const [uuid, organisation] of parents) {
      const office = eden.state.get('org_office', uuid);
      assert.ok(office, `${uuid} reached Eden`);
      assert.deepEqual(office.references.organisation_id, { table: 'org_organisation', uuid: organisation });
      assert.ok(eden.state.get('org_organisation', organisation!), 'the organisation came along as a dependency');
    }
    assert.equal(eden.state.all('org_office').length, ORGANISATIONS * OFFICES_EACH);
  });
});

describe('a Sluice to Sluice round trip of rows stored as components', { timeout: 120_000 }, () => {
  let a: SyncGateway;
  let b: SyncGateway;

  beforeEach(async () => {
    a = await startSyncGateway({ name: 'A', domain: 'a.test' });
    b = await startSyncGateway({ name: 'B', domain: 'b.test' });
    await a.sync.repositories.add({ name: 'B', url: b.url, username: ADMIN.user, password: ADMIN.password });
    await b.sync.repositories.add({ name: 'A', url: a.url, username: ADMIN.user, password: ADMIN.password });
  });

  afterEach(async () => {
    await a.stop();
    await b.stop();
  });

  it('neither duplicates nor moves the offices, and organisations still nest them', async () => {
    await seedOrganisations(a.store);
    const before = await officeParents(a.store);
    await a.sync.tasks.add('B', 'org_office', { mode: 'both' });
    await b.sync.tasks.add('A', 'org_office', { mode: 'both' });

    const first = await a.sync.syncNow('B');
    assert.equal(first.run.status, 'success', first.run.message);
    assert.equal(first.run.counts.push_created, ORGANISATIONS * OFFICES_EACH + ORGANISATIONS, 'offices and their organisations');
    const onB = await b.store.queryRecords({ resource: 'org_office' });
    assert.equal(onB.length, ORGANISATIONS * OFFICES_EACH);
    assert.ok(onB.every((office) => office.references.some((reference) => reference.field === 'organisation_id' && reference.uuid === before.get(office.uuid))));

    // B sends them back as masters with organisation_id: A recognises its components.
    const seq = await a.store.lastSeq();
    const back = await b.sync.syncNow('A');
    assert.equal(back.run.status, 'success', back.run.message);
    const again = await a.sync.syncNow('B');
    assert.equal(again.run.status, 'success', again.run.message);
    assert.equal((again.run.counts.pull_created ?? 0) + (again.run.counts.pull_updated ?? 0), 0);
    assert.equal((back.run.counts.push_created ?? 0) + (back.run.counts.push_updated ?? 0), 0);
    assert.equal(await a.store.lastSeq(), seq, 'nothing was written on A');
    assert.deepEqual(await officeParents(a.store), before);

    // B receives the organisations with their offices nested: the same offices, now under them.
    await a.sync.tasks.add('B', 'org_organisation', { mode: 'push' });
    const organisationsPushed = await a.sync.syncNow('B');
    assert.equal(organisationsPushed.run.status, 'success', organisationsPushed.run.message);
    assert.equal((await b.store.queryRecords({ resource: 'org_office' })).length, ORGANISATIONS * OFFICES_EACH);
    assert.deepEqual(await officeParents(b.store), before);

    const response = await a.request('/org/organisation.xml?maxdepth=0');
    const document = await parseS3XML(Buffer.from(await response.arrayBuffer()));
    assert.equal(document.resources.length, ORGANISATIONS);
    assert.ok(document.resources.every((organisation) => organisation.components.length === OFFICES_EACH));
  });
});
