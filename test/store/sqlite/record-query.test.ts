import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import fc from 'fast-check';
import { openSqliteStore } from '../../../src/store/sqlite-store.js';
import { openConnections } from '../../../src/store/sqlite/connections.js';
import { buildRecordCount, buildRecordQuery, drivingFilterProbes } from '../../../src/store/sqlite/record-query.js';
import { RESOURCE_COUNTS_SQL } from '../../../src/store/sqlite/record-reader.js';
import { rowToRecord } from '../../../src/store/sqlite/record-rows.js';
import type { RecordRow } from '../../../src/store/sqlite/record-rows.js';
import type { FieldFilter, RecordQuery } from '../../../src/store/store.js';
import { matchesFilters } from '../../../src/store/url-filter-match.js';
import { recordWrite } from '../../support/records.js';
import { FILTER_FIELDS, filterableBodyArbitrary, filterArbitrary } from '../filter-arbitraries.js';

const folder = mkdtempSync(path.join(tmpdir(), 'sluice-record-query-'));
const { writer, reader } = openConnections(path.join(folder, 'plans.db'), 1000);
after(() => {
  reader.close();
  writer.close();
  rmSync(folder, { recursive: true, force: true });
});

/** The steps of SQLite's plan; the plan depends on schema and SQL, not on how many rows exist. */
function plan(query: RecordQuery): string[] {
  const { sql, params } = buildRecordQuery(query);
  return (writer.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...params) as { detail: string }[]).map((row) => row.detail);
}

function assertNoFullScan(steps: string[]): void {
  for (const step of steps) {
    assert.doesNotMatch(step, /^SCAN /, `full scan in plan:\n${steps.join('\n')}`);
    assert.doesNotMatch(step, /TEMP B-TREE/, `sort in plan:\n${steps.join('\n')}`);
  }
}

describe('sqlite record queries', () => {
  it('an incremental msince page is one index range in modified_on, uuid order, with no sort', () => {
    const steps = plan({ resource: 'org_office', msince: '2024-03-05T16:40:02', limit: 100 });
    assertNoFullScan(steps);
    assert.match(steps.join('\n'), /SEARCH r USING INDEX records_by_resource_modified \(resource=\? AND modified_on>\?\)/);
  });

  it('an incremental afterSeq page in seq order is one index range with no sort', () => {
    const steps = plan({ resource: 'org_office', afterSeq: 1_000_000, orderBy: 'seq', limit: 100 });
    assertNoFullScan(steps);
    assert.match(steps.join('\n'), /SEARCH r USING INDEX records_by_resource_seq \(resource=\? AND seq>\?\)/);
  });

  it('masters-only and live-only conditions do not change the incremental plan', () => {
    const steps = plan({ resource: 'org_office', msince: '2024-03-05T16:40:02', topLevelOnly: true, limit: 100, start: 200 });
    assertNoFullScan(steps);
    assert.match(steps.join('\n'), /records_by_resource_modified/);
  });

  it('the components of one master are one index range', () => {
    const steps = plan({ resource: 'org_office', parent: { resource: 'org_organisation', uuid: 'urn:uuid:1' } });
    assertNoFullScan(steps);
    assert.match(steps.join('\n'), /SEARCH r USING INDEX records_by_parent \(parent_resource=\? AND parent_uuid=\? AND resource=\?\)/);
  });

  it('filters check each candidate record with one probe of its own values, in index order', () => {
    const text = plan({ resource: 'org_office', filters: [{ field: 'name', op: 'eq', values: ['Pokhara'], negate: false }], limit: 100 });
    assertNoFullScan(text);
    assert.match(text.join('\n'), /SEARCH r USING INDEX records_by_resource_modified \(resource=\?\)/);
    assert.match(text.join('\n'), /SEARCH f USING PRIMARY KEY \(record_id=\? AND field=\? AND str=\?\)/);
    const number = plan({ resource: 'org_office', msince: '2024-03-05T16:40:02', filters: [{ field: 'beds', op: 'lt', values: ['10'], negate: true }], limit: 100 });
    assertNoFullScan(number);
    assert.match(number.join('\n'), /records_by_resource_modified \(resource=\? AND modified_on>\?\)/);
  });

  it('a driving filter looks its values up in the field index and only sorts what it found', () => {
    const query: RecordQuery = {
      resource: 'org_office',
      msince: '2024-03-05T16:40:02',
      afterSeq: 10,
      filters: [{ field: 'beds', op: 'belongs', values: ['10', 'many'], negate: false }],
      limit: 100,
    };
    const { sql, params } = buildRecordQuery(query, { drivingFilter: 0 });
    const steps = (writer.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...params) as { detail: string }[]).map((row) => row.detail);
    assert.equal(steps.some((step) => /^SCAN /.test(step)), false, steps.join('\n'));
    assert.match(steps.join('\n'), /SEARCH r USING INTEGER PRIMARY KEY \(rowid=\?\)/);
    assert.match(steps.join('\n'), /record_fields_by_number \(resource=\? AND field=\? AND num=\?\)/);
    assert.match(steps.join('\n'), /record_fields_by_text \(resource=\? AND field=\? AND str=\?\)/);
  });

  it('only positive eq and belongs filters without NONE are offered as driving filters', () => {
    const filters: FieldFilter[] = [
      { field: 'a', op: 'eq', values: ['x'], negate: false },
      { field: 'b', op: 'eq', values: ['x'], negate: true },
      { field: 'c', op: 'belongs', values: ['x', null], negate: false },
      { field: 'd', op: 'ne', values: ['x'], negate: false },
      { field: 'e', op: 'like', values: ['x*'], negate: false },
      { field: 'f', op: 'belongs', values: ['1', '2'], negate: false },
    ];
    assert.deepEqual(drivingFilterProbes({ resource: 'org_office', filters }).map((probe) => probe.filterIndex), [0, 5]);
    assert.deepEqual(drivingFilterProbes({ resource: 'org_office', filters, parent: { resource: 'org_organisation', uuid: 'u' } }), []);
    assert.throws(() => buildRecordQuery({ resource: 'org_office', filters }, { drivingFilter: 1 }));
  });

  it('both plans select exactly the records matchesFilters accepts', async () => {
    const file = path.join(folder, 'oracle.db');
    const store = await openSqliteStore({ file });
    const resource = 'test_oracle';
    const bodies = fc.sample(filterableBodyArbitrary, { numRuns: 80, seed: 7 });
    for (const [index, body] of bodies.entries()) await store.putRecord(recordWrite({ resource, uuid: `r${index}`, ...body }));
    const records = await store.queryRecords({ resource });
    // The SQL below runs on the raw file, so the fields must be indexed first (field-index.ts).
    await store.countRecords({ resource, filters: [...FILTER_FIELDS, 'missing'].map((field) => ({ field, op: 'ne', negate: false, values: [null] })) });
    await store.close();
    const { reader: oracleReader, writer: oracleWriter } = openConnections(file, 1000);
    try {
      const drivable = filterArbitrary.filter((filter) => (filter.op === 'eq' || filter.op === 'belongs') && !filter.negate && filter.values.every((value) => value !== null));
      fc.assert(
        fc.property(drivable, fc.array(filterArbitrary, { maxLength: 2 }), (driving, others) => {
          const query: RecordQuery = { resource, filters: [driving, ...others] };
          const expected = records.filter((record) => matchesFilters(record, query.filters!)).map((record) => record.uuid).sort();
          for (const choice of [{}, { drivingFilter: 0 }]) {
            const { sql, params } = buildRecordQuery(query, choice);
            const selected = (oracleReader.prepare(sql).all(...params) as RecordRow[]).map((row) => rowToRecord(row).uuid).sort();
            assert.deepEqual(selected, expected, `${JSON.stringify(query.filters)} ${JSON.stringify(choice)}`);
          }
        }),
        { numRuns: 300, seed: 3 },
      );
    } finally {
      oracleReader.close();
      oracleWriter.close();
    }
  });

  it('resource counts read only indexes, never the records themselves', () => {
    const steps = (writer.prepare(`EXPLAIN QUERY PLAN ${RESOURCE_COUNTS_SQL}`).all() as { detail: string }[]).map((row) => row.detail);
    for (const step of steps.filter((detail) => /^(SCAN|SEARCH) records/.test(detail))) {
      assert.match(step, /COVERING INDEX/, steps.join('\n'));
    }
  });

  it('counts use the same conditions without ordering or paging', () => {
    const { sql, params } = buildRecordCount({ resource: 'org_office', msince: '2024-03-05T16:40:02', start: 10, limit: 5 });
    assert.doesNotMatch(sql, /ORDER BY|LIMIT|OFFSET/);
    assert.deepEqual(params, ['org_office', '2024-03-05T16:40:02']);
  });

  it('refuses negative or fractional paging with BAD_QUERY', () => {
    assert.throws(() => buildRecordQuery({ resource: 'org_office', limit: -1 }), { code: 'BAD_QUERY' });
    assert.throws(() => buildRecordQuery({ resource: 'org_office', start: 1.5 }), { code: 'BAD_QUERY' });
    assert.throws(() => buildRecordQuery({ resource: '' }), { code: 'BAD_QUERY' });
  });
});
