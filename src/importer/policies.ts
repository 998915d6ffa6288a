/**
 * Eden's update and conflict policies (reference §3.4), as pure decisions over two versions of a
 * record. Where Eden's code disagrees with its own intent (the MASTER branch of `onconflict`),
 * the intent wins; see README.md.
 */
import { SluiceError } from '../errors.js';

export type Policy = 'THIS' | 'OTHER' | 'NEWER' | 'MASTER';
export type ImportMethod = 'create' | 'update' | 'delete' | 'merge';
export type UpdatePolicy = Policy | ({ __default__: Policy } & Record<string, Policy>);

export const POLICIES: readonly Policy[] = ['THIS', 'OTHER', 'NEWER', 'MASTER'];
export const IMPORT_METHODS: readonly ImportMethod[] = ['create', 'update', 'delete', 'merge'];

/** What a policy needs to know about one side of an update. */
export interface VersionStamp {
  modified_on: string;
  mci: number;
}

/**
 * True when `policy` lets the incoming version replace the local one.
 * - THIS: never; OTHER: always;
 * - NEWER: the incoming version is at least as new (Eden drops a field only if local is newer);
 * - MASTER: the incoming version was sent by the originating instance (wire mci 1) and ours is a
 *   copy (local mci not 0).
 * The same rule settles conflicts: Eden's conflict NEWER ("accept if local <= remote") is this
 * NEWER, and its conflict MASTER (`original.mci == 0 or item.mci == 1`) is read as intended.
 */
export function policyAccepts(policy: Policy, local: VersionStamp, remote: VersionStamp): boolean {
  switch (policy) {
    case 'THIS':
      return false;
    case 'OTHER':
      return true;
    case 'NEWER':
      return remote.modified_on >= local.modified_on;
    case 'MASTER':
      return remote.mci === 1 && local.mci !== 0;
  }
}

/** The policy that governs one field (data or reference field name, or `@attribute`). */
export function fieldPolicy(updatePolicy: UpdatePolicy, field: string): Policy {
  if (typeof updatePolicy === 'string') return updatePolicy;
  return Object.prototype.hasOwnProperty.call(updatePolicy, field) ? (updatePolicy[field] as Policy) : updatePolicy.__default__;
}

/** The policy for whole-record decisions (delete, merge, undelete). */
export function recordPolicy(updatePolicy: UpdatePolicy): Policy {
  return typeof updatePolicy === 'string' ? updatePolicy : updatePolicy.__default__;
}

function isPolicy(value: unknown): value is Policy {
  return typeof value === 'string' && (POLICIES as readonly string[]).includes(value);
}

function badOption(message: string, fix: string): SluiceError {
  return new SluiceError('BAD_IMPORT_OPTIONS', message, { status: 400, severity: 'job', fix });
}

/**
 * Eden quietly treats an unknown policy as THIS; a typo in a task should not silently freeze a
 * table, so Sluice refuses it before importing anything.
 */
export function checkPolicy(value: unknown, option: string): Policy {
  if (!isPolicy(value)) {
    throw badOption(`${option} "${String(value)}" is not a policy`, `Use one of ${POLICIES.join(', ')}`);
  }
  return value;
}

export function checkUpdatePolicy(value: unknown): UpdatePolicy {
  if (typeof value === 'string') return checkPolicy(value, 'updatePolicy');
  if (value === null || typeof value !== 'object') {
    throw badOption('updatePolicy must be a policy or a {field: policy} map', 'Pass e.g. "NEWER" or {"__default__": "NEWER", "status": "MASTER"}');
  }
  const entries = Object.entries(value as Record<string, unknown>);
  if (!entries.some(([field]) => field === '__default__')) {
    throw badOption('updatePolicy map has no __default__', 'Add "__default__": "NEWER" (or another policy) to the map');
  }
  const checked: Record<string, Policy> = {};
  for (const [field, policy] of entries) checked[field] = checkPolicy(policy, `updatePolicy.${field}`);
  return checked as UpdatePolicy;
}

export function checkStrategy(value: unknown): ImportMethod[] {
  if (!Array.isArray(value)) throw badOption('strategy must be a list of methods', `Use some of ${IMPORT_METHODS.join(', ')}`);
  for (const method of value) {
    if (!(IMPORT_METHODS as readonly unknown[]).includes(method)) {
      throw badOption(`strategy method "${String(method)}" is unknown`, `Use some of ${IMPORT_METHODS.join(', ')}`);
    }
  }
  return value as ImportMethod[];
}
