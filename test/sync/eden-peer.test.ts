/**
 * Sluice against a fake Eden instance (test/fakes/fake-eden) that behaves as the reference says:
 * no fingerprint page, registration required for pushes, strict msince at second precision,
 * deletion and merge stubs, dereferenced records, HTTP 200 with "status":"failed".
 */
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { checkpointId } from '../../src/sync/checkpoints.js';
import { createFakeEden, type FakeEden } from '../fakes/fake-eden/index.js';
import { startSyncGateway, type SyncGateway } from './support/gateways.js';

const STRICT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}$/;

describe('sync with an Eden peer', () => {
  let eden: FakeEden;
  let gateway: SyncGateway;
  let edenNow = Date.parse('2024-05-01T10:00:00Z');

  beforeEach(async () => {
    edenNow = Date.parse('2024-05-01T10:00:00Z');
    eden = await createFakeEden({ now: () => edenNow });
    gateway = await startSyncGateway({ name: 'Sluice next to Eden' });
  });

  afterEach(async () => {
    await gateway.stop();
    await eden.close();
  });

  async function addEden(): Promise<string> {
    const repository = await gateway.sync.repositories.add({ name: 'eden', url: eden.url, username: eden.admin.email, password: eden.admin.password });
    await gateway.sync.tasks.add('eden', 'org_office', {});
    return repository.uuid;
  }

  it('learns an Eden peer\'s uuid from its registration reply, after asking for its fingerprint without credentials', async () => {
    assert.equal(await gateway.sync.repositories.fingerprint(eden.url), undefined);
    await assert.rejects(gateway.sync.repositories.add({ name: 'eden', url: eden.url }), (error: { code?: string }) => error.code === 'PEER_FINGERPRINT_UNAVAILABLE');
    const uuid = await addEden();
    assert.equal(uuid, eden.state.configUuid);
    assert.deepEqual([...eden.state.repositories.keys()], [gateway.identity.uuid]);
    const [fingerprint] = eden.hooks.requests({ path: '/sync/config.json' });
    assert.equal(fingerprint!.authorization, undefined, 'no credentials before the uuid is known');
    assert.ok(eden.hooks.requests({ path: '/sync/repository/register.json' })[0]!.authorization?.startsWith('Basic '));
    const view = (await gateway.sync.repositories.list())[0]!;
    assert.equal(view.software, 'eden');
    assert.equal(view.has_password, true);
    assert.equal('password' in view, false);
  });

  it('pulls records, their referenced records, deletions and merges, asking with a strict msince and include_deleted', async () => {
    const organisation = eden.state.upsert('org_organisation', { name: 'Himal Relief' });
    const offices = Array.from({ length: 30 }, (_, i) => {
      edenNow += 1000;
      return eden.state.upsert('org_office', { name: `Office ${i}`, obsolete: { value: 'false', text: 'No' } }, { references: { organisation_id: { table: 'org_organisation', uuid: organisation.uuid } } });
    });
    await addEden();
    const first = await gateway.sync.syncNow('eden');
    assert.equal(first.run.status, 'success', first.run.message);
    assert.equal(first.run.counts.pull_created, 31, '30 offices and the organisation they reference');
    assert.equal((await gateway.store.getRecord('org_organisation', organisation.uuid))?.data[0]?.text, 'Himal Relief');

    edenNow += 5000;
    eden.state.remove('org_office', offices[3]!.uuid);
    eden.state.merge('org_office', offices[4]!.uuid, offices[5]!.uuid);
    eden.state.upsert('org_office', { name: 'Office 6, renamed' }, { uuid: offices[6]!.uuid });
    const second = await gateway.sync.syncNow('eden');
    assert.equal(second.run.status, 'success', second.run.message);
    assert.equal((await gateway.store.getRecord('org_office', offices[3]!.uuid))?.deleted, true);
    assert.equal((await gateway.store.getRecord('org_office', offices[4]!.uuid))?.replaced_by, offices[5]!.uuid);
    assert.equal((await gateway.store.getRecord('org_office', offices[6]!.uuid))?.data[0]?.text, 'Office 6, renamed');

    const pulls = eden.hooks.requests({ method: 'GET', path: '/sync/sync.xml' });
    assert.equal(pulls.length, 2);
    assert.equal(pulls[0]!.query.msince, undefined);
    for (const pull of pulls) {
      assert.equal(pull.query.include_deleted, 'True');
      assert.equal(pull.query.repository, gateway.identity.uuid);
      assert.equal(pull.query.resource, 'org_office');
    }
    // The second pull starts at the youngest second already seen (no +1 s), in Eden's strict format.
    assert.match(pulls[1]!.query.msince!, STRICT);
    assert.equal(pulls[1]!.query.msince, offices[29]!.modified_on);
  });

  it('does not lose a record saved later in the same second as the last one pulled, and applies nothing twice', async () => {
    const first = eden.state.upsert('org_office', { name: 'Early in the second' });
    await addEden();
    const run1 = await gateway.sync.syncNow('eden');
    assert.equal(run1.run.counts.pull_created, 1);
    // Eden saves another record within the same second (its clock has not moved).
    const second = eden.state.upsert('org_office', { name: 'Later in the same second' });
    assert.equal(second.modified_on, first.modified_on);
    const run2 = await gateway.sync.syncNow('eden');
    assert.equal(run2.run.status, 'success');
    assert.equal(run2.run.counts.pull_created, 1, 'the same-second record arrives');
    assert.equal(run2.run.counts.pull_unchanged, 1, 'the record already here is recognised, not applied again');
    assert.equal(run2.run.counts.pull_updated, 0);
    assert.ok(await gateway.store.getRecord('org_office', second.uuid));
    const pulls = eden.hooks.requests({ method: 'GET', path: '/sync/sync.xml' });
    assert.equal(pulls[1]!.query.msince, first.modified_on, 'Eden would have asked from one second later and missed it');
  });

  it('pushes local changes with their timestamps, and only what changed since the last successful push', async () => {
    await addEden();
    await gateway.store.transaction(async (tx) => {
      for (let i = 0; i < 12; i++) {
        await tx.putRecord({ resource: 'org_office', uuid: `urn:uuid:local-${i}`, mci: 0, created_on: '2024-05-01T08:00:00', modified_on: '2024-05-01T09:00:00', deleted: false, attributes: {}, data: [{ field: 'name', text: `Local ${i}` }], references: [] });
      }
    });
    const run = await gateway.sync.syncNow('eden');
    assert.equal(run.run.status, 'success', run.run.message);
    assert.equal(run.run.counts.push_created, 12);
    const pushed = eden.state.get('org_office', 'urn:uuid:local-3')!;
    assert.equal(pushed.modified_on, '2024-05-01T09:00:00');
    assert.equal(pushed.mci, 1, 'sent as mci 1: from the originating instance');
    const [post] = eden.hooks.requests({ method: 'POST', path: '/sync/sync.xml' });
    assert.equal(post!.query.repository, gateway.identity.uuid);
    assert.equal(post!.query.strategy, 'create,update,delete,merge');

    await gateway.store.putRecord({ resource: 'org_office', uuid: 'urn:uuid:local-3', mci: 0, created_on: '2024-05-01T08:00:00', modified_on: '2024-05-01T11:00:00', deleted: false, attributes: {}, data: [{ field: 'name', text: 'Local 3, renamed' }], references: [] });
    const again = await gateway.sync.syncNow('eden');
    // The pull brings the pushed records back (unchanged, Eden's url attribute ignored); the push sends the one change only.
    assert.equal(again.run.counts.pull_unchanged, 11);
    assert.equal(again.run.counts.push_records, 1);
    assert.equal(eden.state.get('org_office', 'urn:uuid:local-3')!.fields.name!.text, 'Local 3, renamed');
  });

  it('does not push records pulled from Eden back to it, but does push them once they change here', async () => {
    const offices = Array.from({ length: 8 }, (_, i) => {
      edenNow += 1000;
      return eden.state.upsert('org_office', { name: `Eden office ${i}` });
    });
    await addEden();
    const first = await gateway.sync.syncNow('eden');
    assert.equal(first.run.status, 'success', first.run.message);
    assert.equal(first.run.counts.pull_created, 8);
    assert.equal(first.run.counts.push_skipped, 8, 'every pulled record is recognised as Eden\'s own');
    assert.equal(first.run.counts.push_records ?? 0, 0);
    assert.equal(eden.hooks.requests({ method: 'POST', path: '/sync/sync.xml' }).length, 0, 'nothing went back over the wire');

    const changed = (await gateway.store.getRecord('org_office', offices[2]!.uuid))!;
    await gateway.store.putRecord({ ...changed, modified_on: '2024-05-02T09:00:00', data: [{ field: 'name', text: 'Eden office 2, corrected here' }] });
    const second = await gateway.sync.syncNow('eden');
    assert.equal(second.run.status, 'success', second.run.message);
    const [post] = eden.hooks.requests({ method: 'POST', path: '/sync/sync.xml' });
    assert.ok(post, 'the local change is pushed');
    assert.equal(second.run.counts.push_records, 1);
    assert.equal(eden.state.get('org_office', offices[2]!.uuid)!.fields.name!.text, 'Eden office 2, corrected here');
  });

  it('treats HTTP 200 with "status":"failed" as a failed push and sends the same records next time', async () => {
    await addEden();
    await gateway.store.putRecord({ resource: 'org_office', uuid: 'urn:uuid:refused', mci: 0, modified_on: '2024-05-01T09:00:00', deleted: false, attributes: {}, data: [{ field: 'name', text: 'Refused once' }], references: [] });
    eden.hooks.failNext({ method: 'POST', path: '/sync/sync.xml' }, 1, { kind: 'push-failed', message: 'Validation error' });
    const failed = await gateway.sync.syncNow('eden');
    assert.equal(failed.run.status, 'error');
    assert.equal(eden.state.get('org_office', 'urn:uuid:refused'), undefined);
    const [entry] = await gateway.store.listLog({ run_id: failed.run.id, result: 'error' });
    assert.match(entry!.message, /PEER_PUSH_FAILED.*status failed.*Validation error/);
    assert.equal(entry!.mode, 'push/outgoing');
    assert.equal(entry!.remote, true);

    const retried = await gateway.sync.syncNow('eden');
    assert.equal(retried.run.status, 'success', retried.run.message);
    assert.equal(eden.state.get('org_office', 'urn:uuid:refused')?.fields.name?.text, 'Refused once');
  });

  it('reports "Registration required" as fatal and pushes again once registered', async () => {
    const uuid = await addEden();
    eden.state.repositories.clear();
    await gateway.store.putRecord({ resource: 'org_office', uuid: 'urn:uuid:waiting', mci: 0, modified_on: '2024-05-01T09:00:00', deleted: false, attributes: {}, data: [{ field: 'name', text: 'Waiting' }], references: [] });
    const refused = await gateway.sync.syncNow('eden');
    assert.equal(refused.run.status, 'fatal');
    assert.ok(refused.failures.some((failure) => failure.code === 'PEER_REGISTRATION_REQUIRED'));
    await gateway.sync.repositories.register(uuid);
    const accepted = await gateway.sync.syncNow('eden');
    assert.equal(accepted.run.status, 'success', accepted.run.message);
    assert.ok(eden.state.get('org_office', 'urn:uuid:waiting'));
  });

  it('retries a pull cut in the middle of its body and a peer failing three times, then succeeds', async () => {
    for (let i = 0; i < 40; i++) eden.state.upsert('org_office', { name: `Office ${i} with a longer name to fill the body` });
    await addEden();
    eden.hooks.failNext({ method: 'GET', path: '/sync/sync.xml' }, 1, { kind: 'cut' });
    eden.hooks.failNext({ method: 'GET', path: '/sync/sync.xml' }, 3, { kind: 'status', status: 500 });
    const run = await gateway.sync.syncNow('eden');
    assert.equal(run.run.status, 'success', run.run.message);
    assert.equal(run.run.counts.pull_created, 40);
    assert.equal(eden.hooks.requests({ method: 'GET', path: '/sync/sync.xml' }).length, 5);
    const retries = await gateway.store.listLog({ run_id: run.run.id });
    assert.equal(retries.filter((entry) => entry.action === 'retry').length, 4);
    assert.ok(retries.some((entry) => /PEER_UNAVAILABLE/.test(entry.message)), 'the cut is logged');
  });

  it('counts elements Eden ignored as invalid as a warning', async () => {
    await addEden();
    await gateway.store.putRecord({ resource: 'org_office', uuid: 'urn:uuid:bad', mci: 0, modified_on: '2024-05-01T09:00:00', deleted: false, attributes: {}, data: [], references: [] });
    await gateway.store.putRecord({ resource: 'org_office', uuid: 'urn:uuid:good', mci: 0, modified_on: '2024-05-01T09:00:00', deleted: false, attributes: {}, data: [{ field: 'name', text: 'Good' }], references: [] });
    eden.hooks.rejectElements((element) => (element.attributes.uuid === 'urn:uuid:bad' ? 'name: value required' : undefined));
    const run = await gateway.sync.syncNow('eden');
    assert.equal(run.run.status, 'warning');
    assert.ok(eden.state.get('org_office', 'urn:uuid:good'));
    const id = checkpointId((await gateway.store.listTasks())[0]!, 'push', 'eden');
    assert.ok((await gateway.store.getCheckpoint(id))?.value.seq, 'the push itself went through, so its checkpoint moved');
  });
});
