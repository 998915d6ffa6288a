/**
 * The per-instance mapping document (mappings/<instance>.json): what the mapping editor edits and
 * the generator compiles. Validated with ajv against mappings/schema.json, plus the checks a
 * JSON Schema cannot express (no resource or field mapped twice in one direction).
 */
import { readFileSync } from 'node:fs';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { SluiceError } from '../errors.js';

export type UnmappedPolicyName = 'pass' | 'default' | 'drop' | 'reject';

export interface UnmappedPolicy {
  policy: UnmappedPolicyName;
  /** Required for `default`: the value written instead of an unmapped one. */
  default?: string;
}

export interface DirectionMapping {
  /** Source machine value → target machine value. */
  values?: Record<string, string>;
  unmapped?: UnmappedPolicy;
}

export interface FieldMapping {
  local: string;
  remote?: string;
  /** Peer → Sluice (imports). */
  inbound?: DirectionMapping;
  /** Sluice → peer (exports). */
  outbound?: DirectionMapping;
}

export interface ResourceMapping {
  local: string;
  remote?: string;
  fields?: FieldMapping[];
}

export interface MappingDocument {
  $schema?: string;
  instance: string;
  description?: string;
  unmapped?: UnmappedPolicy;
  resources: ResourceMapping[];
}

/** mappings/schema.json, next to the compiled code's repository root (src/ and dist/ alike). */
export const MAPPING_SCHEMA_URL = new URL('../../mappings/schema.json', import.meta.url);

let compiled: ValidateFunction | undefined;

function schemaValidator(): ValidateFunction {
  if (!compiled) {
    const schema = JSON.parse(readFileSync(MAPPING_SCHEMA_URL, 'utf8')) as object;
    compiled = new Ajv({ allErrors: true, strict: true }).compile(schema);
  }
  return compiled;
}

export interface MappingProblem {
  /** JSON pointer into the document, e.g. `/resources/0/fields/2/inbound/unmapped`. */
  path: string;
  message: string;
}

/** ajv's message, with the values an enum allows (ajv keeps them in params, not in the message). */
function problemMessage(error: ErrorObject): string {
  const message = error.message ?? 'is not valid';
  const allowed = (error.params as { allowedValues?: unknown }).allowedValues;
  if (error.keyword === 'enum' && Array.isArray(allowed)) return `${message}: ${allowed.map((value) => JSON.stringify(value)).join(', ')}`;
  return message;
}

/** The problems of a candidate mapping document; empty when it is valid. */
export function mappingProblems(candidate: unknown): MappingProblem[] {
  const validate = schemaValidator();
  if (!validate(candidate)) {
    return (validate.errors ?? []).map((error: ErrorObject) => ({
      path: error.instancePath || '/',
      message: problemMessage(error),
    }));
  }
  return duplicateProblems(candidate as MappingDocument);
}

/** Returns the document typed, or throws MAPPING_INVALID listing every problem. */
export function validateMappingDocument(candidate: unknown, source = 'The mapping'): MappingDocument {
  const problems = mappingProblems(candidate);
  if (problems.length > 0) {
    const first = problems[0] as MappingProblem;
    throw new SluiceError('MAPPING_INVALID', `${source} is not valid: ${first.path} ${first.message}`, {
      status: 422,
      fix: 'Correct the listed places; mappings/schema.json describes the format',
      details: { problems },
    });
  }
  return candidate as MappingDocument;
}

/** Two entries for the same table or field in one direction would make the result depend on order. */
function duplicateProblems(document: MappingDocument): MappingProblem[] {
  const problems: MappingProblem[] = [];
  const seen = (names: (string | undefined)[], label: string, path: (i: number) => string): void => {
    const first = new Map<string, number>();
    names.forEach((name, i) => {
      if (name === undefined) return;
      const earlier = first.get(name);
      if (earlier === undefined) first.set(name, i);
      else problems.push({ path: path(i), message: `maps ${label} "${name}" again (first at ${path(earlier)})` });
    });
  };
  seen(document.resources.map((r) => r.local), 'local table', (i) => `/resources/${i}`);
  seen(document.resources.map((r) => r.remote ?? r.local), 'remote table', (i) => `/resources/${i}`);
  document.resources.forEach((resource, r) => {
    const fields = resource.fields ?? [];
    seen(fields.map((f) => f.local), 'local field', (i) => `/resources/${r}/fields/${i}`);
    seen(fields.map((f) => f.remote ?? f.local), 'remote field', (i) => `/resources/${r}/fields/${i}`);
    fields.forEach((field, f) => {
      for (const direction of ['inbound', 'outbound'] as const) {
        const keys = Object.keys(field[direction]?.values ?? {});
        seen(
          keys.map((key) => key.replace(/[ \t\r\n]+/g, ' ').trim()),
          'value',
          (i) => `/resources/${r}/fields/${f}/${direction}/values/${escapePointer(keys[i] as string)}`,
        );
      }
    });
  });
  return problems;
}

function escapePointer(token: string): string {
  return token.replace(/~/g, '~0').replace(/\//g, '~1');
}
