import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SluiceError } from '../../src/errors.js';
import { assertFilterSyntax, parseFilterList, parseFilterValues, parseUrlFilters } from '../../src/exporter/url-filters.js';

function refusal(query: Record<string, unknown>, resource?: string): SluiceError {
  try {
    parseUrlFilters(query, resource);
  } catch (error) {
    assert.ok(error instanceof SluiceError);
    return error;
  }
  assert.fail(`expected ${JSON.stringify(query)} to be refused`);
}

describe('URL filters', () => {
  it('read a plain master-field selector as eq', () => {
    assert.deepEqual(parseUrlFilters({ '~.name': 'Pokhara' }), [{ field: 'name', op: 'eq', values: ['Pokhara'], negate: false }]);
  });

  it('read every supported operator and the trailing ! as negation', () => {
    const filters = parseUrlFilters({
      '~.beds__lt': '10',
      '~.beds__le': '11',
      '~.beds__gt': '1',
      '~.beds__ge': '2',
      '~.name__like': 'Pok*',
      '~.code__ne': 'X',
      '~.obsolete!': 'False',
      '~.status__belongs!': 'Actual,Exercise',
    });
    assert.deepEqual(filters, [
      { field: 'beds', op: 'lt', values: ['10'], negate: false },
      { field: 'beds', op: 'le', values: ['11'], negate: false },
      { field: 'beds', op: 'gt', values: ['1'], negate: false },
      { field: 'beds', op: 'ge', values: ['2'], negate: false },
      { field: 'name', op: 'like', values: ['Pok*'], negate: false },
      { field: 'code', op: 'ne', values: ['X'], negate: false },
      { field: 'obsolete', op: 'eq', values: ['False'], negate: true },
      { field: 'status', op: 'belongs', values: ['Actual', 'Exercise'], negate: true },
    ]);
  });

  it('turn a comma list on eq into belongs and on ne into a negated belongs', () => {
    assert.deepEqual(parseUrlFilters({ '~.status': 'Actual,Exercise', '~.scope__ne': 'Public,Private' }), [
      { field: 'status', op: 'belongs', values: ['Actual', 'Exercise'], negate: false },
      { field: 'scope', op: 'belongs', values: ['Public', 'Private'], negate: true },
    ]);
  });

  it('split values as Eden does: quotes protect commas, unquoted NONE is null, nothing is trimmed', () => {
    assert.deepEqual(parseFilterValues('"a,b",c'), ['a,b', 'c']);
    assert.deepEqual(parseFilterValues('NONE'), [null]);
    assert.deepEqual(parseFilterValues('None,x'), [null, 'x']);
    assert.deepEqual(parseFilterValues('"NONE"'), ['NONE']);
    assert.deepEqual(parseFilterValues(' padded '), [' padded ']);
    assert.deepEqual(parseFilterValues('say \\"hi\\"'), ['say "hi']);
    assert.deepEqual(parseFilterValues(''), ['']);
  });

  it('AND repeated keys and leave parameters that are not filters alone', () => {
    const filters = parseUrlFilters({ '~.name__like': ['P*', '*a'], msince: '2024-01-01T00:00:00', limit: '10', include_deleted: 'True' });
    assert.deepEqual(filters, [
      { field: 'name', op: 'like', values: ['P*'], negate: false },
      { field: 'name', op: 'like', values: ['*a'], negate: false },
    ]);
  });

  it('accept the [~] and [table] prefixes of sync URLs for the exported table', () => {
    assert.deepEqual(parseUrlFilters({ '[~]~.name': 'A', '[org_office]~.code': 'B' }, 'org_office'), [
      { field: 'name', op: 'eq', values: ['A'], negate: false },
      { field: 'code', op: 'eq', values: ['B'], negate: false },
    ]);
    assert.equal(refusal({ '[org_organisation]~.name': 'A' }, 'org_office').code, 'BAD_FILTER');
  });

  for (const [title, query, hint] of [
    ['a reference traversal', { '~.organisation_id$name': 'IFRC' }, /referenced uuid/],
    ['a component selector', { 'office.name': 'Annex' }, /~\.field/],
    ['alternatives', { '~.name|~.acronym__like': 'R*' }, /one selector/],
    ['an Eden operator Sluice does not support', { '~.sector_id__contains': '1' }, /Use one of/],
    ['an unknown operator', { '~.name__near': 'x' }, /Use one of/],
    ['several values for an ordering operator', { '~.beds__lt': '1,2' }, /Quote/],
    ['an expression selector', { '(~.name)': 'x' }, /~\.field/],
    ['a value that is not text', { '~.name': { nested: 'x' } }, /~\.field__op=value/],
    ['a field name that is not one', { '~.na-me': 'x' }, /~\.field/],
  ] as const) {
    it(`refuse ${title} with BAD_FILTER and a fix hint`, () => {
      const error = refusal(query);
      assert.equal(error.code, 'BAD_FILTER');
      assert.equal(error.status, 400);
      assert.match(error.fix ?? '', hint);
    });
  }
});

describe('filter lists (task, pool and --filter settings)', () => {
  function listRefusal(filters: string[], resource?: string): SluiceError {
    try {
      parseFilterList(filters, resource);
    } catch (error) {
      assert.ok(error instanceof SluiceError);
      return error;
    }
    assert.fail(`expected ${JSON.stringify(filters)} to be refused`);
  }

  it('read every entry as a filter and AND repeated fields', () => {
    assert.deepEqual(parseFilterList(['~.obsolete=False', '~.beds__ge=10', '~.beds__lt=50', '[org_office]~.name__like=Red*'], 'org_office'), [
      { field: 'obsolete', op: 'eq', values: ['False'], negate: false },
      { field: 'beds', op: 'ge', values: ['10'], negate: false },
      { field: 'beds', op: 'lt', values: ['50'], negate: false },
      { field: 'name', op: 'like', values: ['Red*'], negate: false },
    ]);
  });

  it('keep everything after the first = as the value', () => {
    assert.deepEqual(parseFilterList(['~.comments=a=b']), [{ field: 'comments', op: 'eq', values: ['a=b'], negate: false }]);
  });

  it('refuse a filter without the ~. selector instead of ignoring it, and show it rewritten', () => {
    const error = listRefusal(['obsolete=False']);
    assert.equal(error.code, 'BAD_FILTER');
    assert.equal(error.status, 400);
    assert.match(error.message, /"obsolete=False" is not an Eden URL filter/);
    assert.match(error.fix ?? '', /Write it as ~\.obsolete=False/);
    assert.match(listRefusal(['name__like=Red*']).fix ?? '', /~\.name__like=Red\*/);
    assert.match(listRefusal(['[~]obsolete=False']).fix ?? '', /~\.field/);
  });

  it('refuse an entry that is not key=value, with an example', () => {
    for (const filter of ['obsolete', '=False', '']) {
      const error = listRefusal([filter]);
      assert.equal(error.code, 'BAD_FILTER');
      assert.match(error.fix ?? '', /~\.obsolete=False/);
    }
  });

  it('apply the same selector and operator checks as URL queries', () => {
    assert.match(listRefusal(['~.name__near=x']).fix ?? '', /Use one of/);
    assert.equal(listRefusal(['[org_organisation]~.name=A'], 'org_office').code, 'BAD_FILTER');
  });

  it('leave query parameters that are not filters to the URL parser, where Eden ignores them too', () => {
    assert.deepEqual(parseUrlFilters({ obsolete: 'False', limit: '10' }), []);
    assert.throws(() => assertFilterSyntax('obsolete=False'), /not an Eden URL filter/);
    assert.doesNotThrow(() => assertFilterSyntax('~.obsolete=False'));
  });
});
