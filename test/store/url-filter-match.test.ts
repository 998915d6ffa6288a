import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { FieldFilter } from '../../src/store/store.js';
import {
  compareCodePoints,
  compareFilterTexts,
  filterableValues,
  likeMatches,
  matchesFilter,
  matchesFilters,
  numericValue,
} from '../../src/store/url-filter-match.js';
import { reference, textData, valueData } from '../support/records.js';

const f = (field: string, op: FieldFilter['op'], values: (string | null)[], negate = false): FieldFilter => ({ field, op, values, negate });

describe('url filter matching', () => {
  const office = {
    data: [
      textData('name', 'Pokhara Office'),
      valueData('status', 'Actual', 'Actual'),
      valueData('beds', 10, '10'),
      valueData('obsolete', false, 'No'),
      valueData('tags', ['health', 'wash']),
      valueData('nothing', null),
      { field: 'raw', value: 'not json' },
    ],
    references: [reference('organisation_id', 'org_organisation', 'urn:uuid:ifrc'), reference('sector_id', 'org_sector', ['s1', 's2'])],
  };

  it('collects decoded data values and reference uuids per field, leaving NULLs out', () => {
    const values = filterableValues(office);
    assert.deepEqual(values.get('name'), ['Pokhara Office']);
    assert.deepEqual(values.get('status'), ['Actual']);
    assert.deepEqual(values.get('beds'), ['10']);
    assert.deepEqual(values.get('obsolete'), ['false']);
    assert.deepEqual(values.get('tags'), ['health', 'wash']);
    assert.deepEqual(values.get('raw'), ['not json']);
    assert.deepEqual(values.get('sector_id'), ['s1', 's2']);
    assert.equal(values.has('nothing'), false);
  });

  it('treats decimal numbers and true/false in any case as numeric, nothing else', () => {
    assert.equal(numericValue('10'), 10);
    assert.equal(numericValue('-2.50'), -2.5);
    assert.equal(numericValue('1e3'), 1000);
    assert.equal(numericValue('.5'), 0.5);
    assert.equal(numericValue('False'), 0);
    assert.equal(numericValue('TRUE'), 1);
    for (const text of ['', ' 1', '0x10', 'Infinity', '1e999', 'NaN', '2024-03-05', '1,5', 'yes']) {
      assert.equal(numericValue(text), undefined, text);
    }
  });

  it('compares numerically only when both sides are numeric', () => {
    assert.ok(compareFilterTexts('9', '10') < 0);
    assert.ok(compareFilterTexts('9', '10a') > 0);
    assert.equal(compareFilterTexts('10.0', '1e1'), 0);
  });

  it('orders strings by code point, as UTF-8 bytes sort, not by UTF-16 unit', () => {
    assert.ok(compareCodePoints('\uffff', '😀') < 0);
    assert.ok('\uffff' > '😀');
    assert.ok(compareCodePoints('a', 'ab') < 0);
    assert.equal(compareCodePoints('é', 'é'), 0);
  });

  it('like is anchored, case-insensitive, with * and ? wildcards and literal regex characters', () => {
    assert.ok(likeMatches('Pokhara Office', '*office'));
    assert.ok(likeMatches('ÉCOLE', 'é*'));
    assert.ok(likeMatches('a😀c', 'a?c'));
    assert.ok(likeMatches('line\nbreak', 'line*'));
    assert.ok(!likeMatches('Pokhara Office', 'office'));
    assert.ok(likeMatches('a.b(c)[d]', 'a.b(c)[d]'));
    assert.ok(!likeMatches('axb', 'a.b'));
  });

  it('eq on a valued field uses the decoded value, on a reference the uuid', () => {
    assert.ok(matchesFilter(office, f('status', 'eq', ['Actual'])));
    assert.ok(matchesFilter(office, f('obsolete', 'eq', ['False'])));
    assert.ok(matchesFilter(office, f('organisation_id', 'eq', ['urn:uuid:ifrc'])));
    assert.ok(matchesFilter(office, f('sector_id', 'belongs', ['s9', 's2'])));
    assert.ok(!matchesFilter(office, f('status', 'eq', ['actual'])));
  });

  it('ne and negation both match records without the field', () => {
    assert.ok(matchesFilter(office, f('missing', 'ne', ['x'])));
    assert.ok(matchesFilter(office, f('missing', 'eq', ['x'], true)));
    assert.ok(matchesFilter(office, f('missing', 'gt', ['1'], true)));
    assert.ok(!matchesFilter(office, f('missing', 'gt', ['1'])));
    assert.ok(!matchesFilter(office, f('tags', 'ne', ['wash'])));
  });

  it('null means NONE: it matches missing fields, never in ordering comparisons', () => {
    assert.ok(matchesFilter(office, f('nothing', 'eq', [null])));
    assert.ok(matchesFilter(office, f('missing', 'like', [null])));
    assert.ok(!matchesFilter(office, f('name', 'eq', [null])));
    assert.ok(matchesFilter(office, f('name', 'ne', [null])));
    assert.ok(!matchesFilter(office, f('missing', 'lt', [null])));
  });

  it('an empty value list matches nothing, and its negation everything', () => {
    assert.ok(!matchesFilter(office, f('name', 'belongs', [])));
    assert.ok(matchesFilter(office, f('name', 'belongs', [], true)));
    assert.ok(matchesFilter(office, f('name', 'ne', [])));
  });

  it('several filters must all match', () => {
    assert.ok(matchesFilters(office, [f('beds', 'ge', ['10']), f('name', 'like', ['pok*'])]));
    assert.ok(!matchesFilters(office, [f('beds', 'ge', ['10']), f('name', 'like', ['kat*'])]));
    assert.ok(matchesFilters(office, []));
  });

  it('refuses unknown operators and non-string values with BAD_FILTER', () => {
    assert.throws(() => matchesFilter(office, f('name', 'contains' as FieldFilter['op'], ['x'])), { code: 'BAD_FILTER' });
    assert.throws(() => matchesFilter(office, f('', 'eq', ['x'])), { code: 'BAD_FILTER' });
    assert.throws(() => matchesFilter(office, f('name', 'eq', [5 as unknown as string])), { code: 'BAD_FILTER' });
  });
});
