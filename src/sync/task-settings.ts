/**
 * What a sync task says (Eden's sync_task, reference §3.1) and how it turns into import and export
 * options. Eden's defaults: mode both, all four methods, update policy NEWER, conflict policy NEWER.
 */
import { SluiceError } from '../errors.js';
import { assertFilterSyntax, parseFilterList } from '../exporter/url-filters.js';
import { checkPolicy, checkStrategy, checkUpdatePolicy, IMPORT_METHODS, type ImportMethod, type Policy, type UpdatePolicy } from '../importer/policies.js';
import type { FieldFilter, SyncMode, SyncTaskRecord } from '../store/store.js';

export const SYNC_MODES: readonly SyncMode[] = ['pull', 'push', 'both', 'none'];

export interface TaskSettings {
  mode: SyncMode;
  strategy: ImportMethod[];
  update_policy: UpdatePolicy;
  conflict_policy: Policy;
  /** `key=value` URL filters, e.g. `~.obsolete=False`. */
  filters: string[];
  components: boolean;
}

export const EDEN_TASK_DEFAULTS: Readonly<TaskSettings> = Object.freeze({
  mode: 'both',
  strategy: [...IMPORT_METHODS],
  update_policy: 'NEWER',
  conflict_policy: 'NEWER',
  filters: [],
  components: true,
});

const TABLE = /^[a-z][a-z0-9]*_[a-z0-9_]+$/;

function badTask(message: string, fix: string): SluiceError {
  return new SluiceError('BAD_TASK', message, { status: 400, fix });
}

export function checkResourceName(resource: string): string {
  if (!TABLE.test(resource)) throw badTask(`"${resource}" is not a table name`, 'Name the resource as prefix_name, e.g. org_office');
  return resource;
}

/** Splits `key=value` (the first `=`; the value may contain more). */
export function splitFilter(filter: string): [string, string] {
  const at = filter.indexOf('=');
  if (at <= 0) throw badTask(`filter "${filter}" is not of the form key=value`, 'Write filters like ~.obsolete=False');
  return [filter.slice(0, at), filter.slice(at + 1)];
}

/** The task's filters as a query object (repeated keys become lists, which Eden AND-s). */
export function filterQuery(filters: readonly string[]): Record<string, string | string[]> {
  const query: Record<string, string | string[]> = {};
  for (const filter of filters) {
    const [key, value] = splitFilter(filter);
    assertFilterSyntax(filter);
    const existing = query[key];
    query[key] = existing === undefined ? value : Array.isArray(existing) ? [...existing, value] : [existing, value];
  }
  return query;
}

/**
 * The filters as the store evaluates them, refusing (BAD_FILTER) what is not URL filter syntax or
 * what Sluice cannot filter on. Adding or updating a task or pool runs this before storing.
 */
export function storeFilters(task: Pick<SyncTaskRecord, 'filters' | 'resource'>): FieldFilter[] {
  return parseFilterList(task.filters, task.resource);
}

/** Checks and completes task settings (Eden's defaults for what is not given). */
export function normalizeTaskSettings(input: Partial<Record<keyof TaskSettings, unknown>>, base: TaskSettings = EDEN_TASK_DEFAULTS): TaskSettings {
  const mode = input.mode ?? base.mode;
  if (typeof mode !== 'string' || !(SYNC_MODES as readonly string[]).includes(mode)) {
    throw badTask(`mode "${String(mode)}" is not one of ${SYNC_MODES.join(', ')}`, 'Use pull, push, both or none');
  }
  const strategy = checkStrategy(input.strategy ?? base.strategy);
  const updatePolicy = checkUpdatePolicy(typeof input.update_policy === 'string' ? input.update_policy.toUpperCase() : (input.update_policy ?? base.update_policy));
  const conflictPolicy = checkPolicy(typeof input.conflict_policy === 'string' ? input.conflict_policy.toUpperCase() : (input.conflict_policy ?? base.conflict_policy), 'conflictPolicy');
  const filters = input.filters ?? base.filters;
  if (!Array.isArray(filters) || filters.some((filter) => typeof filter !== 'string')) {
    throw badTask('filters must be a list of key=value strings', 'Write filters like ["~.obsolete=False"]');
  }
  for (const filter of filters as string[]) splitFilter(filter);
  const components = input.components ?? base.components;
  if (typeof components !== 'boolean') throw badTask('components must be true or false', 'Leave it out to sync components with their masters');
  return {
    mode: mode as SyncMode,
    strategy: [...new Set(strategy)],
    update_policy: updatePolicy,
    conflict_policy: conflictPolicy,
    filters: [...(filters as string[])],
    components,
  };
}

export function settingsOf(task: SyncTaskRecord): TaskSettings {
  return normalizeTaskSettings(task);
}

export function pulls(task: Pick<SyncTaskRecord, 'mode'>): boolean {
  return task.mode === 'pull' || task.mode === 'both';
}

export function pushes(task: Pick<SyncTaskRecord, 'mode'>): boolean {
  return task.mode === 'push' || task.mode === 'both';
}
