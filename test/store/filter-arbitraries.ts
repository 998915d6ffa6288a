/**
 * fast-check generators for the filter property test: records and filters drawn from small pools
 * so that random filters actually hit (equal texts, numeric texts, booleans, case variants, lists,
 * NULLs, non-ASCII), which is where stores and the oracle could disagree.
 */
import fc from 'fast-check';
import type { S3Data, S3Reference } from '../../src/s3xml/model.js';
import type { FieldFilter, FilterOp } from '../../src/store/store.js';

export const FILTER_FIELDS = ['a', 'b', 'r'] as const;

const TEXTS = ['x', 'X', 'abc', 'ABC', 'a?c', '10', '9', '9.0', '2.5', '-1', '+3', '1e1', 'true', 'False', '', 'é', 'É', 'Ünï', '😀', 'z😀', '\uffff', 'a b'];
const RAW_VALUES = ['"x"', '"ABC"', '10', '9.0', '-1', 'true', 'false', 'null', '["x","10"]', '[]', '[["é"],null]', '{"k":1}', 'notjson', '"9"'];
const UUIDS = ['u1', 'U1', 'u2', 'urn:uuid:ü/1', '10'];
const PATTERNS = ['x*', '*C', '?0', '*', 'a?c', 'É*', '*😀', '??', 'a b', '1*'];
const OPS: FilterOp[] = ['eq', 'ne', 'lt', 'le', 'gt', 'ge', 'like', 'belongs'];

const dataArbitrary: fc.Arbitrary<S3Data> = fc.oneof(
  fc.record({ field: fc.constantFrom('a', 'b'), text: fc.constantFrom(...TEXTS) }),
  fc.record({ field: fc.constantFrom('a', 'b'), value: fc.constantFrom(...RAW_VALUES), text: fc.constantFrom(...TEXTS) }),
  fc.record({ field: fc.constantFrom('a', 'b'), value: fc.constantFrom(...RAW_VALUES) }),
);

const referenceArbitrary: fc.Arbitrary<S3Reference> = fc.oneof(
  fc.record({ field: fc.constant('r'), resource: fc.constant('org_organisation'), uuid: fc.constantFrom(...UUIDS) }),
  fc.record({
    field: fc.constant('r'),
    resource: fc.constant('org_organisation'),
    uuid: fc.uniqueArray(fc.constantFrom(...UUIDS), { maxLength: 3 }).map((list) => JSON.stringify(list)),
  }),
);

export const filterableBodyArbitrary = fc.record({
  data: fc.array(dataArbitrary, { maxLength: 4 }),
  references: fc.array(referenceArbitrary, { maxLength: 2 }),
});

const filterValueArbitrary = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom<string | null>(...TEXTS, ...UUIDS) },
  { weight: 1, arbitrary: fc.constant<string | null>(null) },
);

export const filterArbitrary: fc.Arbitrary<FieldFilter> = fc
  .record({
    field: fc.constantFrom<string>(...FILTER_FIELDS, 'missing'),
    op: fc.constantFrom(...OPS),
    negate: fc.boolean(),
    values: fc.array(filterValueArbitrary, { minLength: 1, maxLength: 3 }),
    pattern: fc.oneof(fc.constantFrom<string | null>(...PATTERNS), fc.constant<string | null>(null)),
  })
  .map(({ field, op, negate, values, pattern }) => ({
    field,
    op,
    negate,
    values: op === 'like' ? [pattern] : op === 'belongs' ? values : values.slice(0, 1),
  }));
