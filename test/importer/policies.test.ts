import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { importResources, type ImportMethod, type Policy } from '../../src/importer/importer.js';
import { fieldPolicy, policyAccepts } from '../../src/importer/policies.js';
import type { S3Resource } from '../../src/s3xml/model.js';
import type { Store } from '../../src/store/store.js';
import { fieldText, fixedClock, get, res, seed, storeKinds, text, withStore } from './support.js';

const POLICIES: Policy[] = ['THIS', 'OTHER', 'NEWER', 'MASTER'];
const METHODS: ImportMethod[] = ['create', 'update', 'delete', 'merge'];
const UUID = 'urn:uuid:office';
const WINNER = 'urn:uuid:winner';
const EARLIER = '2024-05-01T00:00:00';
const LATER = '2024-05-02T00:00:00';
const LAST_SYNC = '2024-04-01T00:00:00';

interface Scenario {
  /** The incoming version is newer than the local one. */
  newer: boolean;
  /** The incoming version comes from the originating instance (wire mci 1) and ours is a copy. */
  fromMaster: boolean;
}

const SCENARIOS: Scenario[] = [
  { newer: true, fromMaster: true },
  { newer: true, fromMaster: false },
  { newer: false, fromMaster: true },
  { newer: false, fromMaster: false },
];

function describeScenario({ newer, fromMaster }: Scenario): string {
  return `${newer ? 'a newer' : 'an older'} version ${fromMaster ? 'from the master copy' : 'from another copy'}`;
}

/** What Eden's policies (as corrected) decide for a scenario. */
function expectAccepted(policy: Policy, { newer, fromMaster }: Scenario): boolean {
  return { THIS: false, OTHER: true, NEWER: newer, MASTER: fromMaster }[policy];
}

function incoming(method: ImportMethod, scenario: Scenario): S3Resource {
  const stamp = { uuid: UUID, modified_on: scenario.newer ? LATER : EARLIER, mci: scenario.fromMaster ? 1 : 2 };
  switch (method) {
    case 'create':
    case 'update':
      return res('org_office', { ...stamp, data: [text('name', 'Remote'), text('code', 'PKR-01')] });
    case 'delete':
      return res('org_office', { ...stamp, deleted: true });
    case 'merge':
      return res('org_office', { ...stamp, deleted: true, replaced_by: WINNER });
  }
}

async function seedLocal(store: Store, scenario: Scenario): Promise<void> {
  await seed(store, [
    {
      resource: 'org_office',
      uuid: UUID,
      // A local copy (mci 2) unless the scenario needs ours to be the original.
      mci: 2,
      modified_on: scenario.newer ? EARLIER : LATER,
      data: [text('name', 'Local'), text('code', 'PKR-01')],
    },
  ]);
}

async function assertApplied(store: Store, method: ImportMethod, scenario: Scenario): Promise<void> {
  const record = await get(store, 'org_office', UUID);
  const remoteTime = scenario.newer ? LATER : EARLIER;
  switch (method) {
    case 'create':
      assert.equal(fieldText(record, 'name'), 'Remote');
      assert.equal(record.mci, scenario.fromMaster ? 1 : 2, 'a created record keeps the wire mci');
      break;
    case 'update':
      assert.equal(fieldText(record, 'name'), 'Remote');
      assert.equal(record.mci, 2, 'an updated record keeps the local mci');
      break;
    case 'delete':
      assert.equal(record.deleted, true);
      assert.equal(record.replaced_by, undefined);
      break;
    case 'merge':
      assert.equal(record.deleted, true);
      assert.equal(record.replaced_by, WINNER);
      break;
  }
  assert.equal(record.modified_on, remoteTime, 'imports write the incoming modified_on, never a new one');
}

async function assertKept(store: Store, scenario: Scenario): Promise<void> {
  const record = await get(store, 'org_office', UUID);
  assert.equal(fieldText(record, 'name'), 'Local');
  assert.equal(record.deleted, false);
  assert.equal(record.modified_on, scenario.newer ? EARLIER : LATER);
}

const RESULT_LIST = { create: 'created', update: 'updated', delete: 'deleted', merge: 'merged' } as const;

describe('policy decisions', () => {
  it('follow Eden: THIS never, OTHER always, NEWER when not older, MASTER from the master copy onto a copy', () => {
    const local = { modified_on: EARLIER, mci: 2 };
    assert.equal(policyAccepts('THIS', local, { modified_on: LATER, mci: 1 }), false);
    assert.equal(policyAccepts('OTHER', local, { modified_on: '2000-01-01T00:00:00', mci: 9 }), true);
    assert.equal(policyAccepts('NEWER', local, { modified_on: EARLIER, mci: 2 }), true, 'same second counts as newer');
    assert.equal(policyAccepts('NEWER', local, { modified_on: '2024-04-30T23:59:59', mci: 2 }), false);
    assert.equal(policyAccepts('MASTER', local, { modified_on: '2000-01-01T00:00:00', mci: 1 }), true);
    assert.equal(policyAccepts('MASTER', { modified_on: EARLIER, mci: 0 }, { modified_on: LATER, mci: 1 }), false, 'our original is never overwritten');
    assert.equal(policyAccepts('MASTER', local, { modified_on: LATER, mci: 2 }), false);
  });

  it('pick a field\'s own policy from a per-field map and fall back to __default__', () => {
    const policy = { __default__: 'THIS', status: 'OTHER' } as const;
    assert.equal(fieldPolicy(policy, 'status'), 'OTHER');
    assert.equal(fieldPolicy(policy, 'name'), 'THIS');
    assert.equal(fieldPolicy(policy, 'constructor'), 'THIS');
    assert.equal(fieldPolicy('NEWER', 'anything'), 'NEWER');
  });
});

for (const kind of storeKinds) {
  describe(`update policy × method on the ${kind.name}`, () => {
    for (const method of METHODS) {
      for (const policy of POLICIES) {
        for (const scenario of SCENARIOS) {
          const accepted = method === 'create' || expectAccepted(policy, scenario);
          it(
            `${method} with update policy ${policy} and ${describeScenario(scenario)} without a conflict ${accepted ? 'is applied' : 'keeps the local record'}`,
            withStore(kind, async (store) => {
              if (method !== 'create') await seedLocal(store, scenario);
              const result = await importResources(store, [incoming(method, scenario)], { clock: fixedClock, updatePolicy: policy });
              assert.deepEqual(result.conflicts, []);
              if (accepted) {
                assert.deepEqual(result[RESULT_LIST[method]], [UUID]);
                await assertApplied(store, method, scenario);
              } else {
                assert.deepEqual(result.skipped.map((entry) => entry.code), ['POLICY_KEPT_LOCAL']);
                await assertKept(store, scenario);
              }
              assert.equal(result.records, 1);
            }),
          );
        }

        const scenario: Scenario = { newer: true, fromMaster: false };
        const accepted = method === 'create' || expectAccepted(policy, scenario);
        it(
          `${method} with update and conflict policy ${policy} and a conflict ${method === 'create' ? 'cannot conflict' : accepted ? 'is applied' : 'goes to the conflict queue'}`,
          withStore(kind, async (store) => {
            if (method !== 'create') await seedLocal(store, scenario);
            const result = await importResources(store, [incoming(method, scenario)], {
              clock: fixedClock,
              updatePolicy: policy,
              conflictPolicy: policy,
              lastSync: LAST_SYNC,
              repository: 'urn:uuid:peer',
            });
            if (accepted) {
              assert.deepEqual(result.conflicts, []);
              assert.deepEqual(result[RESULT_LIST[method]], [UUID]);
              await assertApplied(store, method, scenario);
              assert.deepEqual(await store.listConflicts(), []);
              return;
            }
            assert.equal(result.conflicts.length, 1);
            await assertKept(store, scenario);
            const [entry] = await store.listConflicts();
            assert.ok(entry);
            assert.equal(entry.id, result.conflicts[0]?.conflictId);
            assert.equal(entry.uuid, UUID);
            assert.equal(entry.method, method);
            assert.equal(entry.policy, policy);
            assert.equal(entry.repository, 'urn:uuid:peer');
            assert.equal(entry.status, 'open');
            assert.equal(entry.created_at, '2024-06-01T12:00:00');
            assert.equal(entry.local && fieldText(entry.local, 'name'), 'Local');
            assert.equal(entry.remote.modified_on, LATER);
            if (method === 'update') {
              assert.deepEqual(entry.fields, ['name']);
              assert.equal(entry.remote.data[0]?.text, 'Remote');
            } else {
              assert.equal(entry.remote.deleted, true);
              assert.deepEqual(entry.fields, method === 'delete' ? ['deleted'] : ['deleted', 'replaced_by']);
            }
          }),
        );
      }
    }
  });

  describe(`conflict policies on the ${kind.name}`, () => {
    const cases: { policy: Policy; local: { modified_on: string; mci: number }; remote: { modified_on: string; mci: number }; accept: boolean; why: string }[] = [
      { policy: 'OTHER', local: { modified_on: LATER, mci: 0 }, remote: { modified_on: EARLIER, mci: 2 }, accept: true, why: 'always accepts' },
      { policy: 'THIS', local: { modified_on: EARLIER, mci: 2 }, remote: { modified_on: LATER, mci: 1 }, accept: false, why: 'always rejects' },
      { policy: 'NEWER', local: { modified_on: EARLIER, mci: 2 }, remote: { modified_on: EARLIER, mci: 2 }, accept: true, why: 'accepts when local is not newer' },
      { policy: 'NEWER', local: { modified_on: LATER, mci: 2 }, remote: { modified_on: EARLIER, mci: 2 }, accept: false, why: 'rejects when local is newer' },
      { policy: 'MASTER', local: { modified_on: LATER, mci: 3 }, remote: { modified_on: EARLIER, mci: 1 }, accept: true, why: 'accepts the master copy onto a copy' },
      {
        policy: 'MASTER',
        local: { modified_on: EARLIER, mci: 0 },
        remote: { modified_on: LATER, mci: 2 },
        accept: false,
        why: 'rejects a copy onto our original (where Eden\'s inverted branch accepts)',
      },
      { policy: 'MASTER', local: { modified_on: EARLIER, mci: 0 }, remote: { modified_on: LATER, mci: 1 }, accept: false, why: 'rejects even the master copy onto our original' },
    ];
    for (const { policy, local, remote, accept, why } of cases) {
      it(
        `${policy} ${why}`,
        withStore(kind, async (store) => {
          await seed(store, [{ resource: 'org_office', uuid: UUID, ...local, data: [text('name', 'Local')] }]);
          const result = await importResources(store, [res('org_office', { uuid: UUID, ...remote, data: [text('name', 'Remote')] })], {
            clock: fixedClock,
            updatePolicy: 'OTHER',
            conflictPolicy: policy,
            lastSync: LAST_SYNC,
          });
          assert.equal(fieldText(await get(store, 'org_office', UUID), 'name'), accept ? 'Remote' : 'Local');
          assert.equal(result.conflicts.length, accept ? 0 : 1);
          assert.equal((await store.listConflicts()).length, accept ? 0 : 1);
        }),
      );
    }

    it(
      'detects no conflict when the local record did not change since the last sync',
      withStore(kind, async (store) => {
        await seed(store, [{ resource: 'org_office', uuid: UUID, modified_on: '2024-03-31T23:59:59', data: [text('name', 'Local')] }]);
        const result = await importResources(store, [res('org_office', { uuid: UUID, modified_on: LATER, data: [text('name', 'Remote')] })], {
          clock: fixedClock,
          conflictPolicy: 'THIS',
          lastSync: LAST_SYNC,
        });
        assert.deepEqual(result.updated, [UUID]);
        assert.deepEqual(result.conflicts, []);
      }),
    );

    it(
      'detects no conflict when both sides changed to the same values',
      withStore(kind, async (store) => {
        await seed(store, [{ resource: 'org_office', uuid: UUID, modified_on: LATER, data: [text('name', 'Same')] }]);
        const result = await importResources(store, [res('org_office', { uuid: UUID, modified_on: LATER, data: [text('name', 'Same')] })], {
          clock: fixedClock,
          conflictPolicy: 'THIS',
          lastSync: LAST_SYNC,
        });
        assert.deepEqual(result.unchanged, [UUID]);
        assert.deepEqual(await store.listConflicts(), []);
      }),
    );

    it(
      'keeps a conflict entry when another record of its page fails validation',
      withStore(kind, async (store) => {
        await seed(store, [{ resource: 'org_office', uuid: UUID, modified_on: LATER, data: [text('name', 'Local')] }]);
        const result = await importResources(
          store,
          [res('org_office', { uuid: UUID, modified_on: LATER, data: [text('name', 'Remote')] }), res('org_office', { uuid: 'urn:uuid:x', mci: Number.NaN })],
          { clock: fixedClock, conflictPolicy: 'THIS', lastSync: LAST_SYNC },
        );
        assert.equal(result.conflicts.length, 1);
        assert.equal(result.errors[0]?.code, 'INVALID_MCI');
        assert.equal((await store.listConflicts()).length, 1);
      }),
    );
  });

  describe(`per-field update policies on the ${kind.name}`, () => {
    it(
      'update only the fields their policy allows and drop unchanged ones',
      withStore(kind, async (store) => {
        await seed(store, [
          {
            resource: 'org_office',
            uuid: UUID,
            mci: 2,
            modified_on: LATER,
            attributes: { modified_by: 'local@example.org' },
            data: [text('name', 'Local'), text('status', 'open'), text('code', 'A')],
          },
        ]);
        const result = await importResources(
          store,
          [
            res('org_office', {
              uuid: UUID,
              modified_on: EARLIER,
              mci: 1,
              attributes: { modified_by: 'remote@example.org' },
              data: [text('name', 'Remote'), text('status', 'closed'), text('code', 'A'), text('phone1', '123')],
            }),
          ],
          { clock: fixedClock, updatePolicy: { __default__: 'NEWER', status: 'MASTER', phone1: 'OTHER', '@modified_by': 'OTHER' } },
        );
        assert.deepEqual(result.updated, [UUID]);
        const record = await get(store, 'org_office', UUID);
        assert.deepEqual(record.data, [text('name', 'Local'), text('status', 'closed'), text('code', 'A'), text('phone1', '123')]);
        assert.deepEqual(record.attributes, { modified_by: 'remote@example.org' });
        assert.equal(record.mci, 2);
        assert.equal(record.modified_on, EARLIER);
      }),
    );
  });
}
