/**
 * Eden's URL filters (`S3URLQuery`, reference §2.3) → store FieldFilters. Only master-field
 * selectors (`~.field`) are supported; the store evaluates them (RecordQuery.filters) so paging
 * and counts stay exact. Everything else Eden accepts in a selector is refused with BAD_FILTER
 * rather than ignored, because an ignored filter silently exports more than was asked for.
 *
 * Two entry points: `parseUrlFilters` reads a request's query, where keys without a selector are
 * other parameters (msince, limit); `parseFilterList` reads filters written as `key=value` strings
 * (task and pool settings, `--filter`, bundles), where every entry must be a filter.
 */
import { SluiceError } from '../errors.js';
import type { FieldFilter, FilterOp } from '../store/store.js';

const OPS: readonly FilterOp[] = ['eq', 'ne', 'lt', 'le', 'gt', 'ge', 'like', 'belongs'];
const EDEN_ONLY_OPS = ['contains', 'anyof', 'typeof', 'intersects'];
const FIELD = /^[A-Za-z_][A-Za-z0-9_]*$/;

function badFilter(message: string, fix: string, key: string): SluiceError {
  return new SluiceError('BAD_FILTER', message, { status: 400, severity: 'job', fix, details: { filter: key } });
}

/**
 * Splits a filter value as Eden's `parse_value` does: commas separate values except inside double
 * quotes, a backslash makes the next quote literal, unquoted NONE/None is NULL, and the quotes
 * around a value are removed. No whitespace is trimmed.
 */
export function parseFilterValues(raw: string): (string | null)[] {
  const values: (string | null)[] = [];
  let word = '';
  let quoted = false;
  let escaped = false;
  const finish = () => {
    values.push(word === 'NONE' || word === 'None' ? null : word.replace(/^"+|"+$/g, ''));
    word = '';
  };
  for (const char of raw) {
    if (escaped) {
      escaped = false;
      if (char === '"') {
        word += char;
        continue;
      }
    }
    if (char === '\\') {
      escaped = true;
    } else if (char === '"') {
      word += char;
      quoted = !quoted;
    } else if (char === ',' && !quoted) {
      finish();
    } else {
      word += char;
    }
  }
  finish();
  return values;
}

/** `~.field`, or a refusal that says which Eden selector feature is not supported. */
function selectorField(selector: string, key: string): string {
  if (selector.includes('|')) {
    throw badFilter(`filter ${key}: alternatives (a|b) are not supported`, 'Send one selector per filter', key);
  }
  if (selector.includes('$')) {
    throw badFilter(
      `filter ${key}: traversing a reference ($) is not supported`,
      'Filter on the reference field itself with the referenced uuid, e.g. ~.organisation_id=urn:uuid:…',
      key,
    );
  }
  if (!selector.startsWith('~.')) {
    throw badFilter(
      `filter ${key}: only master fields (~.field) can be filtered`,
      'Use a selector of the form ~.field; component selectors are not supported',
      key,
    );
  }
  const field = selector.slice(2);
  if (!FIELD.test(field)) throw badFilter(`filter ${key}: "${field}" is not a field name`, 'Use a selector of the form ~.field', key);
  return field;
}

function parseKey(key: string, resource: string | undefined): { field: string; op: FilterOp; negate: boolean } | undefined {
  let rest = key;
  // Sync URLs prefix a filter with the table it applies to: [~] or [prefix_name].
  const prefix = /^\[([^\]]*)\]/.exec(rest);
  if (prefix) {
    const table = prefix[1] ?? '';
    if (table !== '~' && table !== resource) {
      throw badFilter(
        `filter ${key} applies to table ${table}, not ${resource ?? 'the exported table'}`,
        'Filter only the table being exported ([~] or no prefix)',
        key,
      );
    }
    rest = rest.slice(prefix[0].length);
  }
  if (!rest.includes('.') && !rest.includes('(')) {
    if (prefix) throw badFilter(`filter ${key} has no selector`, 'Write filters as ~.field__op=value', key);
    return undefined;
  }
  const negate = rest.endsWith('!');
  if (negate) rest = rest.slice(0, -1);
  let op: FilterOp = 'eq';
  const split = rest.lastIndexOf('__');
  if (split >= 0) {
    const name = rest.slice(split + 2);
    if (!(OPS as readonly string[]).includes(name)) {
      const why = EDEN_ONLY_OPS.includes(name) ? 'is not supported' : 'is unknown';
      throw badFilter(`filter ${key}: operator ${name} ${why}`, `Use one of ${OPS.join(', ')}`, key);
    }
    op = name as FilterOp;
    rest = rest.slice(0, split);
  }
  if (rest.includes('(')) {
    throw badFilter(`filter ${key}: expressions in selectors are not supported`, 'Use a selector of the form ~.field', key);
  }
  return { field: selectorField(rest, key), op, negate };
}

function toFilter(key: string, parsed: { field: string; op: FilterOp; negate: boolean }, raw: string): FieldFilter {
  const values = parseFilterValues(raw);
  const { field } = parsed;
  let { op, negate } = parsed;
  if (values.length > 1) {
    if (op === 'eq') op = 'belongs';
    else if (op === 'ne') {
      op = 'belongs';
      negate = !negate;
    } else if (op !== 'belongs') {
      throw badFilter(`filter ${key}: ${op} takes one value, got ${values.length}`, 'Quote a value that contains commas: "a,b"', key);
    }
  }
  return { field, op, values, negate };
}

/**
 * The URL filters among a request's query parameters (keys containing a `.` or `(`, as in Eden;
 * other parameters such as msince or limit are not filters and are left alone). Repeated keys are
 * AND-ed. `resource` is the exported table, needed only to accept `[prefix_name]` sync prefixes.
 */
export function parseUrlFilters(query: Record<string, unknown>, resource?: string): FieldFilter[] {
  const filters: FieldFilter[] = [];
  for (const [key, value] of Object.entries(query)) {
    const parsed = parseKey(key, resource);
    if (!parsed) continue;
    const raws = Array.isArray(value) ? value : [value];
    for (const raw of raws) {
      if (typeof raw !== 'string') {
        throw badFilter(`filter ${key}: value must be text`, 'Send the filter as ~.field__op=value', key);
      }
      filters.push(toFilter(key, parsed, raw));
    }
  }
  return filters;
}

const EXAMPLE = '~.obsolete=False (or ~.name__like=Red*, ~.beds__ge=10)';

function splitFilterString(filter: string): [string, string] {
  const at = filter.indexOf('=');
  if (at <= 0) {
    throw badFilter(`filter "${filter}" is not of the form ~.field=value`, `Write filters like ${EXAMPLE}`, filter);
  }
  return [filter.slice(0, at), filter.slice(at + 1)];
}

/** The selector part of a key, without the `[table]` prefix, operator or negation. */
function hasSelector(key: string): boolean {
  const rest = key.replace(/^\[[^\]]*\]/, '');
  return rest.includes('.') || rest.includes('(');
}

/**
 * Throws BAD_FILTER when a `key=value` string is not Eden URL filter syntax at all, e.g.
 * `obsolete=False` (no `~.` selector: in a query Eden would take it for another parameter and
 * ignore it). The operator and field are checked by `parseFilterList`.
 */
export function assertFilterSyntax(filter: string): void {
  const [key, value] = splitFilterString(filter);
  if (hasSelector(key)) return;
  const bare = key.replace(/^\[[^\]]*\]/, '');
  const suggestion = /^[A-Za-z_][A-Za-z0-9_]*(__[a-z]+)?!?$/.test(bare) ? `~.${bare}=${value}` : EXAMPLE;
  throw badFilter(
    `filter "${filter}" is not an Eden URL filter: "${bare}" needs the ~. selector prefix`,
    `Write it as ${suggestion}; filters are ~.field=value, optionally with an operator: ~.field__op=value (ops: ${OPS.join(', ')})`,
    filter,
  );
}

/** Filters given as `key=value` strings; every one must be a filter (AND-ed, like repeated keys). */
export function parseFilterList(filters: readonly string[], resource?: string): FieldFilter[] {
  return filters.map((filter) => {
    assertFilterSyntax(filter);
    const [key, value] = splitFilterString(filter);
    return toFilter(key, parseKey(key, resource)!, value);
  });
}
