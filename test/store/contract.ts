/**
 * The store contract suite: every Store implementation runs these tests unchanged.
 *
 *   storeContract('sqlite', () => openSqliteStore({ file }), async () => removeFiles(file));
 *
 * `open()` must open the SAME backing location (file, database) every time it is called, so that a
 * test can close the store and open it again. `cleanup()` empties that location; it runs after every
 * test. The location must be empty before the first test.
 *
 * Filter semantics are checked against the oracle in src/store/url-filter-match.ts on random records.
 */
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import fc from 'fast-check';
import type { FieldFilter, NewConflict, RecordQuery, RecordWrite, Store, StoredRecord, StoreTransaction } from '../../src/store/store.js';
import { matchesFilters } from '../../src/store/url-filter-match.js';
import { nextUuid, recordWrite, reference, textData, valueData } from '../support/records.js';
import { filterableBodyArbitrary, filterArbitrary } from './filter-arbitraries.js';
import { consoleStateContract } from './console-state-contract.js';
import { discoveryStateContract } from './discovery-state-contract.js';
import { syncStateContract } from './sync-state-contract.js';

const uuids = (records: StoredRecord[]): string[] => records.map((record) => record.uuid);
const sorted = (values: string[]): string[] => [...values].sort();

function withSeq(write: RecordWrite, seq: number): StoredRecord {
  return { ...write, seq };
}

/** A resource name no other test uses, so tests do not see each other's records. */
let resourceCounter = 0;
function freshResource(): string {
  resourceCounter += 1;
  return `test_resource${resourceCounter}`;
}

function conflictFor(record: StoredRecord | null, overrides: Partial<NewConflict> = {}): NewConflict {
  return {
    resource: record?.resource ?? 'org_office',
    uuid: record?.uuid ?? nextUuid(),
    repository: 'urn:uuid:peer-1',
    method: 'update',
    policy: 'NEWER',
    local: record,
    remote: {
      name: record?.resource ?? 'org_office',
      uuid: record?.uuid ?? 'urn:uuid:remote',
      mci: 2,
      modified_on: '2024-03-06T10:00:00',
      attributes: { modified_by: 'peer@example.org' },
      data: [textData('name', 'Remote name')],
      references: [],
      components: [],
    },
    fields: ['name'],
    created_at: '2024-03-06T10:00:05',
    ...overrides,
  };
}

async function rejectsWithCode(promise: Promise<unknown>, code: string): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.equal((error as { code?: unknown }).code, code);
    return true;
  });
}

export function storeContract(name: string, open: () => Promise<Store>, cleanup?: () => Promise<void>): void {
  describe(`store contract: ${name}`, () => {
    let store: Store;

    beforeEach(async () => {
      store = await open();
    });

    afterEach(async () => {
      await store.close();
      await cleanup?.();
    });

    syncStateContract(() => store);
    discoveryStateContract(() => store);
    consoleStateContract(() => store);

    describe('records', () => {
      it('a fresh store holds no records and its lastSeq is 0', async () => {
        assert.equal(await store.lastSeq(), 0);
        assert.deepEqual(await store.resources(), []);
      });

      it('putRecord then getRecord gives back every field as written, plus the seq', async () => {
        const master = recordWrite({ resource: 'org_organisation' });
        const write = recordWrite({
          resource: 'org_office',
          uuid: 'urn:uuid:5b4a0f5e-8f0e-4c1a-9d43-0a1b2c3d4e5f',
          mci: 2,
          created_on: '2024-01-01T08:00:00',
          modified_on: '2024-03-05T16:40:02',
          deleted: true,
          replaced_by: 'urn:uuid:winner',
          parent: { resource: master.resource, uuid: master.uuid, alias: 'branch' },
          attributes: { created_by: 'admin@example.org', modified_by: 'user@example.org', owned_by_group: 'Admin' },
          data: [
            textData('name', 'Pokhara Office'),
            valueData('status', 'Actual', 'Actual'),
            valueData('obsolete', false, 'No'),
            valueData('lat', 28.2096, '28.2096'),
            valueData('tags', ['a', 'b']),
            { field: 'image', attributes: { url: 'https://host/eden/default/download/x.jpg', filename: 'front.jpg' } },
            { field: 'comments', text: '' },
          ],
          references: [
            { ...reference('location_id', 'gis_location', 'urn:uuid:cc33', 'Pokhara (Kaski)'), attributes: { lat: '28.2096', lon: '83.9856' } },
            reference('sector_id', 'org_sector', ['urn:uuid:s1', 'urn:uuid:s2'], 'Health, WASH'),
          ],
        });
        const stored = await store.putRecord(write);
        assert.ok(stored.seq > 0);
        assert.deepEqual(stored, withSeq(write, stored.seq));
        assert.deepEqual(await store.getRecord(write.resource, write.uuid), withSeq(write, stored.seq));
      });

      it('a record without optional parts comes back without them', async () => {
        const write = recordWrite();
        const stored = await store.putRecord(write);
        const read = await store.getRecord(write.resource, write.uuid);
        assert.deepEqual(read, withSeq(write, stored.seq));
        for (const key of ['created_on', 'replaced_by', 'parent'] as const) assert.equal(key in read!, false, key);
      });

      it('getRecord returns undefined for an unknown record', async () => {
        assert.equal(await store.getRecord('org_office', 'urn:uuid:nowhere'), undefined);
      });

      it('records handed in or out are copies that later mutation cannot change', async () => {
        const write = recordWrite({ data: [textData('name', 'Before')], attributes: { created_by: 'a@example.org' } });
        const stored = await store.putRecord(write);
        write.data[0]!.text = 'Mutated input';
        write.attributes.created_by = 'mutated';
        stored.data.push(textData('extra', 'x'));
        const read = await store.getRecord(write.resource, write.uuid);
        assert.equal(read!.data.length, 1);
        assert.equal(read!.data[0]!.text, 'Before');
        assert.equal(read!.attributes.created_by, 'a@example.org');
      });

      it('putRecord on an existing resource and uuid replaces the whole record', async () => {
        const first = recordWrite({ created_on: '2024-01-01T00:00:00', data: [textData('name', 'Old')], references: [reference('x_id', 'x_x', 'urn:uuid:t')] });
        await store.putRecord(first);
        const second: RecordWrite = { ...recordWrite({ uuid: first.uuid }), modified_on: '2024-04-01T00:00:00', data: [textData('name', 'New')] };
        const stored = await store.putRecord(second);
        assert.deepEqual(await store.getRecord(first.resource, first.uuid), withSeq(second, stored.seq));
        assert.equal(await store.countRecords({ resource: first.resource, includeDeleted: true }), 1);
        assert.deepEqual(await store.findReferencing('urn:uuid:t'), []);
      });

      it('the same uuid in two resources makes two records, and findByUuid returns both', async () => {
        const uuid = nextUuid();
        await store.putRecord(recordWrite({ resource: 'org_office', uuid, data: [textData('name', 'office')] }));
        await store.putRecord(recordWrite({ resource: 'org_facility', uuid, data: [textData('name', 'facility')] }));
        assert.equal((await store.getRecord('org_office', uuid))!.data[0]!.text, 'office');
        assert.equal((await store.getRecord('org_facility', uuid))!.data[0]!.text, 'facility');
        assert.deepEqual((await store.findByUuid(uuid)).map((record) => record.resource).sort(), ['org_facility', 'org_office']);
        assert.deepEqual(await store.findByUuid('urn:uuid:nowhere'), []);
      });

      it('getRecords returns the existing records of one resource among the uuids asked, inside a transaction its own writes too', async () => {
        const [a, b, c] = [nextUuid(), nextUuid(), nextUuid()];
        await store.putRecord(recordWrite({ resource: 'org_office', uuid: a, data: [textData('name', 'a')] }));
        await store.putRecord(recordWrite({ resource: 'org_facility', uuid: b, data: [textData('name', 'b elsewhere')] }));
        const names = (records: { uuid: string; data: { text?: string }[] }[]) => records.map((record) => `${record.uuid}=${record.data[0]?.text}`).sort();
        assert.deepEqual(names(await store.getRecords('org_office', [a, b, c, a])), [`${a}=a`]);
        assert.deepEqual(await store.getRecords('org_office', []), []);
        const inside = await store.transaction(async (tx) => {
          await tx.putRecord(recordWrite({ resource: 'org_office', uuid: c, data: [textData('name', 'c')] }));
          await tx.putRecord(recordWrite({ resource: 'org_office', uuid: a, data: [textData('name', 'a2')] }));
          return names(await tx.getRecords('org_office', [a, b, c]));
        });
        assert.deepEqual(inside, [`${a}=a2`, `${c}=c`].sort());
        const full = (await store.getRecords('org_office', [c]))[0]!;
        assert.deepEqual(full, await store.getRecord('org_office', c));
      });

      it('uuids with slashes, colons, spaces and non-ASCII characters round-trip exactly', async () => {
        const strange = [
          'eden.example.org/urn:uuid:1234',
          'urn:uuid:ABCDEF00-0000-4000-8000-000000000000',
          'wrike/IEAAAAAQ',
          'urn:civicrm:contact:host/17',
          'Ünïcödé/日本語/😀',
          'with space and "quotes" and \'apostrophes\'',
          '%_*?\\',
        ];
        for (const uuid of strange) await store.putRecord(recordWrite({ uuid }));
        for (const uuid of strange) assert.equal((await store.getRecord('org_office', uuid))?.uuid, uuid);
        assert.equal((await store.getRecord('org_office', 'wrike/ieaaaaaq')), undefined);
        assert.deepEqual(sorted(uuids(await store.queryRecords({ resource: 'org_office' }))), sorted(strange));
      });

      it('random records round-trip through putRecord and getRecord', async () => {
        const text = fc.string({ unit: 'grapheme', maxLength: 12 });
        const writeArbitrary = fc.record({
          uuid: fc.string({ unit: 'grapheme', minLength: 1, maxLength: 20 }),
          mci: fc.integer({ min: 0, max: 1000 }),
          deleted: fc.boolean(),
          attributes: fc.dictionary(fc.constantFrom('created_by', 'modified_by', 'approved', 'url'), text, { noNullPrototype: true }),
          data: fc.array(
            fc.record({ field: fc.constantFrom('name', 'code', 'comments'), value: text, text }, { requiredKeys: ['field'], noNullPrototype: true }),
            { maxLength: 4 },
          ),
          references: fc.array(
            fc.record({ field: fc.constant('location_id'), resource: fc.constant('gis_location'), uuid: text, text }, { requiredKeys: ['field', 'resource'], noNullPrototype: true }),
            { maxLength: 2 },
          ),
        });
        await fc.assert(
          fc.asyncProperty(writeArbitrary, async (parts) => {
            const write = recordWrite({ ...parts, resource: 'test_roundtrip' });
            const stored = await store.putRecord(write);
            assert.deepEqual(await store.getRecord('test_roundtrip', parts.uuid), withSeq(write, stored.seq));
          }),
          { numRuns: 60 },
        );
      });

      it('seq increases strictly with every write, across resources and rewrites, and lastSeq is the last one', async () => {
        const before = await store.lastSeq();
        const a = recordWrite({ resource: 'org_office' });
        const seqs = [
          (await store.putRecord(a)).seq,
          (await store.putRecord(recordWrite({ resource: 'org_facility' }))).seq,
          (await store.putRecord({ ...a, modified_on: '2024-03-05T16:40:03' })).seq,
          (await store.putRecord(a)).seq,
        ];
        assert.ok(seqs[0]! > before);
        for (let i = 1; i < seqs.length; i++) assert.ok(seqs[i]! > seqs[i - 1]!, `seq ${seqs[i]} after ${seqs[i - 1]}`);
        assert.equal(await store.lastSeq(), seqs[seqs.length - 1]);
        assert.equal((await store.getRecord(a.resource, a.uuid))!.seq, seqs[3]);
      });

      it('findReferencing finds every record pointing at a uuid, list references included', async () => {
        const target = nextUuid();
        const single = recordWrite({ resource: 'org_office', references: [reference('organisation_id', 'org_organisation', target)] });
        const list = recordWrite({ resource: 'project_project', references: [reference('organisation_id', 'org_organisation', ['urn:uuid:other', target])] });
        const unrelated = recordWrite({ resource: 'org_office', data: [textData('name', target)] });
        for (const write of [single, list, unrelated]) await store.putRecord(write);
        const found = await store.findReferencing(target);
        assert.deepEqual(found.map((record) => `${record.resource} ${record.uuid}`).sort(), [`org_office ${single.uuid}`, `project_project ${list.uuid}`].sort());
      });

      it('a record without a uuid is refused with STORE_INVALID_RECORD and nothing is written', async () => {
        const before = await store.lastSeq();
        await rejectsWithCode(store.putRecord(recordWrite({ uuid: '' })), 'STORE_INVALID_RECORD');
        assert.equal(await store.lastSeq(), before);
      });
    });

    describe('queries', () => {
      it('msince selects records modified at or after that second (Eden: >=)', async () => {
        const resource = freshResource();
        for (const second of ['00', '01', '02', '03']) {
          await store.putRecord(recordWrite({ resource, uuid: `u${second}`, modified_on: `2024-03-05T16:40:${second}` }));
        }
        assert.deepEqual(uuids(await store.queryRecords({ resource, msince: '2024-03-05T16:40:02' })), ['u02', 'u03']);
        assert.deepEqual(uuids(await store.queryRecords({ resource, msince: '2024-03-05T16:40:04' })), []);
        assert.equal(await store.countRecords({ resource, msince: '2024-03-05T16:40:01' }), 3);
      });

      it('afterSeq selects exactly the records written after that seq, even within one second', async () => {
        const resource = freshResource();
        const first = await store.putRecord(recordWrite({ resource, uuid: 'a' }));
        const second = await store.putRecord(recordWrite({ resource, uuid: 'b' }));
        await store.putRecord(recordWrite({ resource: freshResource() }));
        const rewritten = await store.putRecord(recordWrite({ resource, uuid: 'a' }));
        assert.deepEqual(uuids(await store.queryRecords({ resource, afterSeq: first.seq, orderBy: 'seq' })), ['b', 'a']);
        assert.deepEqual(uuids(await store.queryRecords({ resource, afterSeq: second.seq, orderBy: 'seq' })), ['a']);
        assert.deepEqual(uuids(await store.queryRecords({ resource, afterSeq: rewritten.seq })), []);
        assert.deepEqual(uuids(await store.queryRecords({ resource, afterSeq: 0, orderBy: 'seq' })), ['b', 'a']);
      });

      it('deleted records are left out unless includeDeleted is set', async () => {
        const resource = freshResource();
        await store.putRecord(recordWrite({ resource, uuid: 'live' }));
        await store.putRecord(recordWrite({ resource, uuid: 'gone', deleted: true }));
        await store.putRecord(recordWrite({ resource, uuid: 'merged', deleted: true, replaced_by: 'live' }));
        assert.deepEqual(uuids(await store.queryRecords({ resource })), ['live']);
        assert.deepEqual(sorted(uuids(await store.queryRecords({ resource, includeDeleted: true }))), ['gone', 'live', 'merged']);
        assert.equal(await store.countRecords({ resource }), 1);
        assert.equal(await store.countRecords({ resource, includeDeleted: true }), 3);
      });

      it('a query returns only records of the named resource', async () => {
        const resource = freshResource();
        const other = freshResource();
        await store.putRecord(recordWrite({ resource, uuid: 'mine' }));
        await store.putRecord(recordWrite({ resource: other, uuid: 'theirs' }));
        assert.deepEqual(uuids(await store.queryRecords({ resource })), ['mine']);
      });

      it('parent selects the components of one master and topLevelOnly the masters', async () => {
        const masterResource = freshResource();
        const componentResource = freshResource();
        const masterA = recordWrite({ resource: masterResource, uuid: 'A' });
        const masterB = recordWrite({ resource: masterResource, uuid: 'B' });
        await store.putRecord(masterA);
        await store.putRecord(masterB);
        await store.putRecord(recordWrite({ resource: componentResource, uuid: 'a1', parent: { resource: masterResource, uuid: 'A' } }));
        await store.putRecord(recordWrite({ resource: componentResource, uuid: 'a2', parent: { resource: masterResource, uuid: 'A', alias: 'branch' } }));
        await store.putRecord(recordWrite({ resource: componentResource, uuid: 'b1', parent: { resource: masterResource, uuid: 'B' } }));
        await store.putRecord(recordWrite({ resource: componentResource, uuid: 'top' }));
        assert.deepEqual(uuids(await store.queryRecords({ resource: componentResource, parent: { resource: masterResource, uuid: 'A' } })), ['a1', 'a2']);
        assert.deepEqual(uuids(await store.queryRecords({ resource: componentResource, topLevelOnly: true })), ['top']);
        assert.equal(await store.countRecords({ resource: componentResource, parent: { resource: masterResource, uuid: 'B' } }), 1);
        assert.deepEqual(uuids(await store.queryRecords({ resource: componentResource, parent: { resource: 'other_master', uuid: 'A' } })), []);
      });

      it('results are ordered by modified_on then uuid by default, or by seq on request', async () => {
        const resource = freshResource();
        const writes = [
          recordWrite({ resource, uuid: 'c', modified_on: '2024-03-05T10:00:00' }),
          recordWrite({ resource, uuid: 'b', modified_on: '2024-03-05T09:00:00' }),
          recordWrite({ resource, uuid: 'a', modified_on: '2024-03-05T10:00:00' }),
          recordWrite({ resource, uuid: 'd', modified_on: '2024-03-04T23:59:59' }),
        ];
        for (const write of writes) await store.putRecord(write);
        assert.deepEqual(uuids(await store.queryRecords({ resource })), ['d', 'b', 'a', 'c']);
        assert.deepEqual(uuids(await store.queryRecords({ resource, orderBy: 'modified_on' })), ['d', 'b', 'a', 'c']);
        assert.deepEqual(uuids(await store.queryRecords({ resource, orderBy: 'seq' })), ['c', 'b', 'a', 'd']);
      });

      it('start and limit page through the ordered results without gaps or overlaps; countRecords ignores them', async () => {
        const resource = freshResource();
        const expected: string[] = [];
        for (let i = 0; i < 23; i++) {
          const uuid = `r${String(i).padStart(2, '0')}`;
          expected.push(uuid);
          await store.putRecord(recordWrite({ resource, uuid, modified_on: `2024-03-05T10:00:${String(Math.floor(i / 3)).padStart(2, '0')}` }));
        }
        const paged: string[] = [];
        for (let start = 0; start < 30; start += 5) paged.push(...uuids(await store.queryRecords({ resource, start, limit: 5 })));
        assert.deepEqual(paged, expected);
        assert.deepEqual(uuids(await store.queryRecords({ resource, start: 20 })), ['r20', 'r21', 'r22']);
        assert.deepEqual(uuids(await store.queryRecords({ resource, limit: 0 })), []);
        assert.equal(await store.countRecords({ resource, start: 5, limit: 5 }), 23);
      });

      it('msince, afterSeq, includeDeleted and filters combine with AND', async () => {
        const resource = freshResource();
        const old = await store.putRecord(recordWrite({ resource, uuid: 'old', modified_on: '2024-01-01T00:00:00', data: [textData('kind', 'x')] }));
        await store.putRecord(recordWrite({ resource, uuid: 'new-x', modified_on: '2024-06-01T00:00:00', data: [textData('kind', 'x')] }));
        await store.putRecord(recordWrite({ resource, uuid: 'new-y', modified_on: '2024-06-01T00:00:00', data: [textData('kind', 'y')] }));
        await store.putRecord(recordWrite({ resource, uuid: 'new-x-deleted', deleted: true, modified_on: '2024-06-01T00:00:00', data: [textData('kind', 'x')] }));
        const kindX: FieldFilter = { field: 'kind', op: 'eq', values: ['x'], negate: false };
        assert.deepEqual(uuids(await store.queryRecords({ resource, msince: '2024-02-01T00:00:00', filters: [kindX] })), ['new-x']);
        assert.deepEqual(
          sorted(uuids(await store.queryRecords({ resource, afterSeq: old.seq, includeDeleted: true, filters: [kindX] }))),
          ['new-x', 'new-x-deleted'],
        );
      });

      describe('URL filters', () => {
        const f = (field: string, op: FieldFilter['op'], values: (string | null)[], negate = false): FieldFilter => ({ field, op, values, negate });
        let resource: string;

        beforeEach(async () => {
          resource = freshResource();
          const records: RecordWrite[] = [
            recordWrite({ resource, uuid: 'pokhara', data: [textData('name', 'Pokhara Office'), valueData('status', 'Actual', 'Actual'), valueData('beds', 10, '10'), valueData('obsolete', false, 'No'), valueData('tags', ['health', 'wash'])], references: [reference('organisation_id', 'org_organisation', 'urn:uuid:ifrc'), reference('sector_id', 'org_sector', ['urn:uuid:s1', 'urn:uuid:s2'])] }),
            recordWrite({ resource, uuid: 'kathmandu', data: [textData('name', 'Kathmandu clinic'), valueData('status', 'Exercise', 'Exercise'), valueData('beds', 9, '9'), valueData('obsolete', true, 'Yes')], references: [reference('organisation_id', 'org_organisation', 'urn:uuid:nrcs')] }),
            recordWrite({ resource, uuid: 'dhading', data: [textData('name', 'dhading CLINIC'), valueData('status', 'Test', 'Test'), valueData('beds', 100, '100')] }),
            recordWrite({ resource, uuid: 'empty', data: [valueData('status', null), valueData('tags', [])] }),
          ];
          for (const record of records) await store.putRecord(record);
        });

        const select = async (...filters: FieldFilter[]): Promise<string[]> => sorted(uuids(await store.queryRecords({ resource, filters })));

        it('eq compares a plain field on its text and a valued field on its decoded value', async () => {
          assert.deepEqual(await select(f('name', 'eq', ['Pokhara Office'])), ['pokhara']);
          assert.deepEqual(await select(f('status', 'eq', ['Actual'])), ['pokhara']);
          assert.deepEqual(await select(f('status', 'eq', ['"Actual"'])), []);
        });

        it('numbers compare as numbers when both sides are numeric, otherwise as text', async () => {
          assert.deepEqual(await select(f('beds', 'gt', ['9'])), ['dhading', 'pokhara']);
          assert.deepEqual(await select(f('beds', 'le', ['10.0'])), ['kathmandu', 'pokhara']);
          assert.deepEqual(await select(f('beds', 'eq', ['1e1'])), ['pokhara']);
          assert.deepEqual(await select(f('name', 'lt', ['L'])), ['kathmandu']);
          assert.deepEqual(await select(f('name', 'ge', ['a'])), ['dhading']);
        });

        it('booleans match true/false in any case, as Eden URLs write them', async () => {
          assert.deepEqual(await select(f('obsolete', 'eq', ['False'])), ['pokhara']);
          assert.deepEqual(await select(f('obsolete', 'eq', ['TRUE'])), ['kathmandu']);
        });

        it('like is case-insensitive with * for any run and ? for one character', async () => {
          assert.deepEqual(await select(f('name', 'like', ['*clinic'])), ['dhading', 'kathmandu']);
          assert.deepEqual(await select(f('name', 'like', ['?hading*'])), ['dhading']);
          assert.deepEqual(await select(f('name', 'like', ['clinic'])), []);
          assert.deepEqual(await select(f('name', 'like', ['*office*'])), ['pokhara']);
        });

        it('belongs matches any of its values', async () => {
          assert.deepEqual(await select(f('status', 'belongs', ['Actual', 'Exercise', 'Unknown'])), ['kathmandu', 'pokhara']);
          assert.deepEqual(await select(f('beds', 'belongs', ['9', '100'])), ['dhading', 'kathmandu']);
        });

        it('NONE (null) matches fields that are missing, null or an empty list', async () => {
          assert.deepEqual(await select(f('status', 'eq', [null])), ['empty']);
          assert.deepEqual(await select(f('tags', 'eq', [null])), ['dhading', 'empty', 'kathmandu']);
          assert.deepEqual(await select(f('status', 'ne', [null])), ['dhading', 'kathmandu', 'pokhara']);
          assert.deepEqual(await select(f('status', 'belongs', ['Test', null])), ['dhading', 'empty']);
          assert.deepEqual(await select(f('beds', 'lt', [null])), []);
        });

        it('ne is the exact opposite of eq, so records without the field match it', async () => {
          assert.deepEqual(await select(f('status', 'ne', ['Actual'])), ['dhading', 'empty', 'kathmandu']);
          assert.deepEqual(await select(f('organisation_id', 'ne', ['urn:uuid:ifrc'])), ['dhading', 'empty', 'kathmandu']);
        });

        it('a negated filter selects every record the filter does not select', async () => {
          assert.deepEqual(await select(f('beds', 'gt', ['9'], true)), ['empty', 'kathmandu']);
          assert.deepEqual(await select(f('status', 'ne', ['Actual'], true)), ['pokhara']);
          assert.deepEqual(await select(f('name', 'like', ['*clinic'], true)), ['empty', 'pokhara']);
        });

        it('reference fields compare on the referenced uuid, list references on any of theirs', async () => {
          assert.deepEqual(await select(f('organisation_id', 'eq', ['urn:uuid:nrcs'])), ['kathmandu']);
          assert.deepEqual(await select(f('sector_id', 'eq', ['urn:uuid:s2'])), ['pokhara']);
          assert.deepEqual(await select(f('organisation_id', 'eq', [null])), ['dhading', 'empty']);
        });

        it('list values match when any element matches', async () => {
          assert.deepEqual(await select(f('tags', 'eq', ['wash'])), ['pokhara']);
          assert.deepEqual(await select(f('tags', 'like', ['HEAL*'])), ['pokhara']);
        });

        it('several filters are AND-ed, and a filter on an unknown field selects nothing', async () => {
          assert.deepEqual(await select(f('name', 'like', ['*clinic']), f('beds', 'lt', ['50'])), ['kathmandu']);
          assert.deepEqual(await select(f('nonexistent', 'eq', ['x'])), []);
          assert.equal(await store.countRecords({ resource, filters: [f('name', 'like', ['*clinic'])] }), 2);
        });

        it('an unknown operator is refused with BAD_FILTER', async () => {
          await rejectsWithCode(store.queryRecords({ resource, filters: [f('name', 'contains' as FieldFilter['op'], ['x'])] }), 'BAD_FILTER');
        });
      });

      it('every random filter selects exactly the records matchesFilters accepts', async () => {
        const resource = freshResource();
        const records = fc.sample(filterableBodyArbitrary, { numRuns: 80, seed: 20240305 });
        for (const [index, body] of records.entries()) {
          await store.putRecord(recordWrite({ resource, uuid: `r${index}`, ...body }));
        }
        const stored = await store.queryRecords({ resource });
        assert.equal(stored.length, records.length);
        await fc.assert(
          fc.asyncProperty(fc.array(filterArbitrary, { minLength: 1, maxLength: 3 }), async (filters) => {
            const expected = sorted(uuids(stored.filter((record) => matchesFilters(record, filters))));
            const query: RecordQuery = { resource, filters };
            assert.deepEqual(sorted(uuids(await store.queryRecords(query))), expected, JSON.stringify(filters));
            assert.equal(await store.countRecords(query), expected.length);
          }),
          { numRuns: 300, seed: 1 },
        );
      });
    });

    describe('transactions', () => {
      it('a transaction commits all of its writes together and returns what work returned', async () => {
        const resource = freshResource();
        const result = await store.transaction(async (tx) => {
          await tx.putRecord(recordWrite({ resource, uuid: 'one' }));
          await tx.putRecord(recordWrite({ resource, uuid: 'two' }));
          await tx.addConflict(conflictFor(null, { resource }));
          return 'done';
        });
        assert.equal(result, 'done');
        assert.equal(await store.countRecords({ resource }), 2);
        assert.equal((await store.listConflicts({ resource })).length, 1);
      });

      it('a throw inside work rolls back every write and rejects with the same error', async () => {
        const resource = freshResource();
        const kept = await store.putRecord(recordWrite({ resource, uuid: 'kept', data: [textData('name', 'before')] }));
        const failure = new Error('import failed half-way');
        await assert.rejects(
          store.transaction(async (tx) => {
            await tx.putRecord(recordWrite({ resource, uuid: 'new' }));
            await tx.putRecord(recordWrite({ resource, uuid: 'kept', data: [textData('name', 'after')] }));
            await tx.addConflict(conflictFor(null, { resource }));
            await sleep(1);
            throw failure;
          }),
          (error) => error === failure,
        );
        assert.deepEqual(await store.getRecord(resource, 'kept'), kept);
        assert.equal(await store.getRecord(resource, 'new'), undefined);
        assert.deepEqual(await store.listConflicts({ resource }), []);
        assert.equal(await store.lastSeq(), kept.seq);
        const next = await store.putRecord(recordWrite({ resource }));
        assert.ok(next.seq > kept.seq);
      });

      it('reads outside an open transaction do not see its writes; reads through it do', async () => {
        const resource = freshResource();
        const seqBefore = await store.lastSeq();
        await store.transaction(async (tx) => {
          await tx.putRecord(recordWrite({ resource, uuid: 'pending', data: [textData('name', 'x')] }));
          assert.equal(await store.getRecord(resource, 'pending'), undefined);
          assert.equal(await store.countRecords({ resource }), 0);
          assert.deepEqual(await store.findByUuid('pending'), []);
          assert.equal(await store.lastSeq(), seqBefore);
          assert.equal((await tx.getRecord(resource, 'pending'))?.uuid, 'pending');
          assert.equal(await tx.countRecords({ resource }), 1);
          assert.deepEqual(uuids(await tx.queryRecords({ resource, filters: [{ field: 'name', op: 'eq', values: ['x'], negate: false }] })), ['pending']);
          assert.deepEqual(uuids(await tx.findByUuid('pending')), ['pending']);
        });
        assert.equal((await store.getRecord(resource, 'pending'))?.uuid, 'pending');
      });

      it('concurrent transactions run one after another, never interleaved', async () => {
        const resource = freshResource();
        await store.putRecord(recordWrite({ resource, uuid: 'counter', data: [valueData('count', 0)] }));
        const events: string[] = [];
        const increment = (name: string) =>
          store.transaction(async (tx) => {
            events.push(`${name} start`);
            const current = await tx.getRecord(resource, 'counter');
            const count = Number(current!.data[0]!.value);
            await sleep(2);
            await tx.putRecord({ ...current!, data: [valueData('count', count + 1)] });
            events.push(`${name} end`);
          });
        await Promise.all(['t1', 't2', 't3', 't4', 't5'].map(increment));
        assert.equal((await store.getRecord(resource, 'counter'))!.data[0]!.value, '5');
        for (let i = 0; i < events.length; i += 2) {
          assert.equal(events[i]!.split(' ')[0], events[i + 1]!.split(' ')[0], events.join(', '));
        }
      });

      it('a write outside a transaction waits for the open one, so seq order is commit order', async () => {
        const resource = freshResource();
        let signalStarted!: () => void;
        const started = new Promise<void>((resolve) => (signalStarted = resolve));
        let signalFinish!: () => void;
        const finish = new Promise<void>((resolve) => (signalFinish = resolve));
        const transaction = store.transaction(async (tx) => {
          const record = await tx.putRecord(recordWrite({ resource, uuid: 'inside' }));
          signalStarted();
          await finish;
          return record;
        });
        await started;
        let outsideDone = false;
        const outsideWrite = store.putRecord(recordWrite({ resource, uuid: 'outside' })).then((record) => {
          outsideDone = true;
          return record;
        });
        await sleep(5);
        assert.equal(outsideDone, false);
        assert.equal(await store.getRecord(resource, 'outside'), undefined);
        signalFinish();
        const inside = await transaction;
        const outside = await outsideWrite;
        assert.ok(outside.seq > inside.seq);
        assert.deepEqual(uuids(await store.queryRecords({ resource, afterSeq: 0, orderBy: 'seq' })), ['inside', 'outside']);
      });

      it('a transaction handle used after its transaction ended is refused', async () => {
        let handle: StoreTransaction | undefined;
        await store.transaction(async (tx) => {
          handle = tx;
        });
        await rejectsWithCode(handle!.putRecord(recordWrite()), 'STORE_TRANSACTION_CLOSED');
      });
    });

    describe('conflict queue', () => {
      it('conflicts are added open, listed oldest first, filtered, and read back whole', async () => {
        const local = await store.putRecord(recordWrite({ data: [textData('name', 'Local name')] }));
        const first = await store.addConflict(conflictFor(local));
        const second = await store.addConflict(conflictFor(null, { resource: 'org_facility', repository: undefined, method: 'delete', policy: 'MASTER' }));
        assert.ok(second.id > first.id);
        assert.equal(first.status, 'open');
        assert.deepEqual(first, { ...conflictFor(local), id: first.id, status: 'open' });
        assert.equal('repository' in second, false);
        assert.equal(second.local, null);
        assert.deepEqual(await store.getConflict(first.id), first);
        assert.equal(await store.getConflict(first.id + 1000), undefined);
        assert.deepEqual((await store.listConflicts()).map((entry) => entry.id), [first.id, second.id]);
        assert.deepEqual((await store.listConflicts({ resource: 'org_facility' })).map((entry) => entry.id), [second.id]);
        assert.deepEqual((await store.listConflicts({ limit: 1 })).map((entry) => entry.id), [first.id]);
      });

      it('resolving a conflict records the resolution and time and takes it out of the open list', async () => {
        const entry = await store.addConflict(conflictFor(null));
        const other = await store.addConflict(conflictFor(null));
        await store.resolveConflict(entry.id, { choice: 'remote', by: 'admin' }, '2024-03-07T09:00:00');
        const resolved = await store.getConflict(entry.id);
        assert.equal(resolved!.status, 'resolved');
        assert.deepEqual(resolved!.resolution, { choice: 'remote', by: 'admin' });
        assert.equal(resolved!.resolved_at, '2024-03-07T09:00:00');
        assert.deepEqual((await store.listConflicts({ status: 'open' })).map((e) => e.id), [other.id]);
        assert.deepEqual((await store.listConflicts({ status: 'resolved' })).map((e) => e.id), [entry.id]);
      });

      it('resolving an unknown or already resolved conflict fails with a stable code', async () => {
        const entry = await store.addConflict(conflictFor(null));
        await rejectsWithCode(store.resolveConflict(entry.id + 1000, {}, '2024-03-07T09:00:00'), 'CONFLICT_NOT_FOUND');
        await store.resolveConflict(entry.id, { choice: 'local' }, '2024-03-07T09:00:00');
        await rejectsWithCode(store.resolveConflict(entry.id, { choice: 'remote' }, '2024-03-07T09:05:00'), 'CONFLICT_ALREADY_RESOLVED');
        assert.deepEqual((await store.getConflict(entry.id))!.resolution, { choice: 'local' });
      });
    });

    describe('gateway state', () => {
      it('users are stored, replaced by username and listed by username', async () => {
        const bob = { username: 'bob', passwordHash: 'scrypt$16384$8$1$c2FsdA$aGFzaA', roles: ['operator'], created_at: '2024-03-01T00:00:00' };
        const alice = { username: 'alice', passwordHash: 'scrypt$16384$8$1$eA$eQ', roles: [], created_at: '2024-03-02T00:00:00' };
        await store.putUser(bob);
        await store.putUser(alice);
        assert.deepEqual(await store.getUser('bob'), bob);
        assert.equal(await store.getUser('carol'), undefined);
        const promoted = { ...bob, roles: ['operator', 'admin'] };
        await store.putUser(promoted);
        assert.deepEqual(await store.listUsers(), [alice, promoted]);
      });

      it('settings are read back, overwritten, and undefined when never set', async () => {
        assert.equal(await store.getSetting('gateway.uuid'), undefined);
        await store.setSetting('gateway.uuid', 'urn:uuid:gateway-1');
        await store.setSetting('gateway.name', '');
        await store.setSetting('gateway.uuid', 'urn:uuid:gateway-2');
        assert.equal(await store.getSetting('gateway.uuid'), 'urn:uuid:gateway-2');
        assert.equal(await store.getSetting('gateway.name'), '');
      });

      it('repositories are stored, replaced by uuid, listed by name and deleted', async () => {
        const peer = { uuid: 'urn:uuid:peer-b', name: 'B peer', apitype: 'eden', url: 'https://b.example.org/eden', config: { username: 'sync@b', password: { encrypted: 'x' }, policies: ['NEWER'] }, created_at: '2024-03-01T00:00:00', updated_at: '2024-03-01T00:00:00' };
        const files = { uuid: 'urn:uuid:peer-a', name: 'A drop folder', apitype: 'filesync', config: {}, created_at: '2024-03-02T00:00:00', updated_at: '2024-03-02T00:00:00' };
        await store.putRepository(peer);
        await store.putRepository(files);
        assert.deepEqual(await store.getRepository(peer.uuid), peer);
        assert.deepEqual(await store.getRepository(files.uuid), files);
        const renamed = { ...peer, name: 'Another peer', updated_at: '2024-03-03T00:00:00' };
        await store.putRepository(renamed);
        assert.deepEqual(await store.listRepositories(), [files, renamed]);
        await store.deleteRepository(files.uuid);
        await store.deleteRepository('urn:uuid:never-registered');
        assert.deepEqual(await store.listRepositories(), [renamed]);
        assert.equal(await store.getRepository(files.uuid), undefined);
      });

      it('the sync log is listed newest first, filtered, and paged with beforeId', async () => {
        const appended = [];
        for (let i = 0; i < 12; i++) {
          appended.push(
            await store.appendLog({
              timestmp: `2024-03-05T10:00:${String(i).padStart(2, '0')}`,
              ...(i % 3 === 0 ? {} : { repository: i % 2 === 0 ? 'urn:uuid:peer-even' : 'urn:uuid:peer-odd' }),
              ...(i % 4 === 0 ? { resource: 'org_office' } : {}),
              mode: i % 2 === 0 ? 'pull/incoming' : 'push/outgoing',
              action: 'import',
              result: i === 5 ? 'error' : 'success',
              remote: i === 5,
              message: `step ${i}`,
              ...(i < 6 ? { run_id: 'run-1' } : { run_id: 'run-2' }),
            }),
          );
        }
        for (let i = 1; i < appended.length; i++) assert.ok(appended[i]!.id > appended[i - 1]!.id);
        assert.equal('repository' in appended[0]!, false);
        assert.equal(appended[5]!.remote, true);
        const newestFirst = [...appended].reverse();
        assert.deepEqual(await store.listLog(), newestFirst);
        assert.deepEqual(await store.listLog({ limit: 3 }), newestFirst.slice(0, 3));
        assert.deepEqual(await store.listLog({ beforeId: appended[3]!.id }), newestFirst.slice(9));
        assert.deepEqual(await store.listLog({ beforeId: appended[8]!.id, limit: 2 }), [appended[7], appended[6]]);
        assert.deepEqual((await store.listLog({ result: 'error' })).map((e) => e.message), ['step 5']);
        assert.deepEqual((await store.listLog({ repository: 'urn:uuid:peer-odd', run_id: 'run-1' })).map((e) => e.message), ['step 5', 'step 1']);
        assert.deepEqual((await store.listLog({ resource: 'org_office' })).map((e) => e.message), ['step 8', 'step 4', 'step 0']);
      });

      it('listLog without a limit returns the newest 100 entries', async () => {
        for (let i = 0; i < 105; i++) {
          await store.appendLog({ timestmp: '2024-03-05T10:00:00', mode: 'none/none', action: 'check', result: 'success', remote: false, message: `m${i}`, run_id: 'bulk' });
        }
        const listed = await store.listLog({ run_id: 'bulk' });
        assert.equal(listed.length, 100);
        assert.equal(listed[0]!.message, 'm104');
      });
    });

    describe('introspection', () => {
      it('fieldValues lists decoded values of live records, most frequent first, with their labels', async () => {
        const resource = freshResource();
        const statuses: [string, string][] = [['Actual', 'Actual'], ['Actual', 'Actual'], ['Actual', 'Tatsächlich'], ['Exercise', 'Exercise'], ['Test', 'Test'], ['Test', 'Test']];
        for (const [value, label] of statuses) await store.putRecord(recordWrite({ resource, data: [valueData('status', value, label), textData('name', 'x')] }));
        await store.putRecord(recordWrite({ resource, deleted: true, data: [valueData('status', 'Exercise', 'Exercise')] }));
        await store.putRecord(recordWrite({ resource, data: [valueData('status', null)] }));
        await store.putRecord(recordWrite({ resource: freshResource(), data: [valueData('status', 'Exercise', 'Exercise')] }));
        assert.deepEqual(await store.fieldValues(resource, 'status'), [
          { value: 'Actual', text: 'Actual', count: 3 },
          { value: 'Test', text: 'Test', count: 2 },
          { value: 'Exercise', text: 'Exercise', count: 1 },
        ]);
        assert.deepEqual(await store.fieldValues(resource, 'status', 1), [{ value: 'Actual', text: 'Actual', count: 3 }]);
        assert.deepEqual(await store.fieldValues(resource, 'nonexistent'), []);
      });

      it('fieldValues keeps numbers, booleans and text-only values as the importer decodes them', async () => {
        const resource = freshResource();
        await store.putRecord(recordWrite({ resource, data: [valueData('gis_feature_type', 1, 'Point'), valueData('obsolete', false, 'No'), textData('name', 'A')] }));
        await store.putRecord(recordWrite({ resource, data: [valueData('gis_feature_type', 1, 'Point'), textData('name', 'A')] }));
        assert.deepEqual(await store.fieldValues(resource, 'gis_feature_type'), [{ value: 1, text: 'Point', count: 2 }]);
        assert.deepEqual(await store.fieldValues(resource, 'obsolete'), [{ value: false, text: 'No', count: 1 }]);
        assert.deepEqual(await store.fieldValues(resource, 'name'), [{ value: 'A', text: 'A', count: 2 }]);
      });

      it('resources lists every resource with its count of live records', async () => {
        const a = freshResource();
        const b = freshResource();
        await store.putRecord(recordWrite({ resource: a }));
        await store.putRecord(recordWrite({ resource: a }));
        await store.putRecord(recordWrite({ resource: a, deleted: true }));
        await store.putRecord(recordWrite({ resource: b, deleted: true }));
        const counts = new Map((await store.resources()).map((entry) => [entry.resource, entry.count]));
        assert.equal(counts.get(a), 2);
        assert.equal(counts.get(b), 0);
        assert.equal(counts.has('never_written'), false);
      });
    });

    describe('persistence', () => {
      it('everything written survives close and reopen, and seq continues where it stopped', async () => {
        const record = await store.putRecord(recordWrite({ data: [textData('name', 'persisted')] }));
        const conflict = await store.addConflict(conflictFor(record));
        await store.setSetting('gateway.uuid', 'urn:uuid:persisted');
        await store.putUser({ username: 'admin', passwordHash: 'scrypt$1$1$1$a$b', roles: ['admin'], created_at: '2024-03-01T00:00:00' });
        await store.putRepository({ uuid: 'urn:uuid:peer', name: 'peer', apitype: 'eden', config: { a: 1 }, created_at: '2024-03-01T00:00:00', updated_at: '2024-03-01T00:00:00' });
        const log = await store.appendLog({ timestmp: '2024-03-05T10:00:00', mode: 'pull/incoming', action: 'fetch', result: 'success', remote: false, message: 'ok' });
        await store.close();

        store = await open();
        assert.deepEqual(await store.getRecord(record.resource, record.uuid), record);
        assert.equal(await store.lastSeq(), record.seq);
        assert.deepEqual(await store.getConflict(conflict.id), conflict);
        assert.equal(await store.getSetting('gateway.uuid'), 'urn:uuid:persisted');
        assert.equal((await store.getUser('admin'))?.roles[0], 'admin');
        assert.equal((await store.getRepository('urn:uuid:peer'))?.name, 'peer');
        assert.deepEqual(await store.listLog(), [log]);
        const next = await store.putRecord(recordWrite());
        assert.ok(next.seq > record.seq);
      });

      it('a closed store refuses further calls with STORE_CLOSED, and closing twice is harmless', async () => {
        await store.close();
        await store.close();
        await rejectsWithCode(store.getRecord('org_office', 'x'), 'STORE_CLOSED');
        await rejectsWithCode(store.putRecord(recordWrite()), 'STORE_CLOSED');
        store = await open();
      });
    });
  });
}
