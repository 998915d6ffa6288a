/**
 * The exporter: store records out as S3XML resources, the way Eden's `get_tree` builds them
 * (reference §1.5, §1.6, §2.2): every row of one table as a master, in modified_on order, with
 * its components nested (rows the store holds as components of another record go out as masters
 * too, carrying their join reference), deleted stubs on request, then every referenced record once
 * as an extra top-level resource, up to a depth. Records are read from the store page by page;
 * what is held in memory is one page plus the keys of what was already exported (to write each
 * record once).
 */
import { SluiceError } from '../errors.js';
import { emptyResource, referenceUuids, type S3Reference, type S3Resource } from '../s3xml/model.js';
import { parseMsince } from '../s3xml/timestamps.js';
import type { FieldFilter, RecordQuery, Store, StoredRecord } from '../store/store.js';
import { ComponentTables } from '../importer/component-lookup.js';
import { JoinFields } from '../importer/join-fields.js';
import { matchesFilters } from '../store/url-filter-match.js';
import { ComponentsAsMasters } from './components-as-masters.js';

export interface ExportOptions {
  resource: string;
  /** modified_on >= msince (strict format; rejecting a malformed one is the HTTP layer's job, but it is checked here too). */
  msince?: string;
  /** seq > afterSeq: the exact change feed between Sluice peers. */
  afterSeq?: number;
  /**
   * seq <= untilSeq: closes the change window (a page of the change feed is `(afterSeq, untilSeq]`;
   * see sync/change-window.ts). A master counts as changed when it or a component changed inside.
   */
  untilSeq?: number;
  includeDeleted?: boolean;
  filters?: FieldFilter[];
  /** Paging over masters. */
  start?: number;
  limit?: number;
  /** true (default) = all components, false = none, a list = these tables or aliases. */
  components?: boolean | string[];
  /** Append referenced records (default true). */
  dereference?: boolean;
  /** Dereferencing depth (default 10, Eden's MAXDEPTH). */
  maxDepth?: number;
  /** This instance's domain, prefixed to uids as Eden's `export_uid` does. */
  domain?: string;
}

/** Records read from the store at once. */
const BATCH = 500;
/** Components nest under components this deep at most (Eden exports one level; imports may bring more). */
const MAX_COMPONENT_DEPTH = 4;

/** Eden's `export_uid`: `domain/uid` unless the uid is a URN or already carries a domain. */
export function exportUid(uid: string, domain: string | undefined): string {
  if (!domain || uid.startsWith('urn:') || uid.includes('/')) return uid;
  return `${domain}/${uid}`;
}

function exportReference(reference: S3Reference, domain: string | undefined): S3Reference {
  if (reference.uuid === undefined || !domain) return reference;
  const raw = reference.uuid.trim();
  if (!raw.startsWith('[')) return { ...reference, uuid: exportUid(raw, domain) };
  const uuids = referenceUuids(reference);
  const exported = uuids.map((uuid) => exportUid(uuid, domain));
  const changed = exported.some((uuid, i) => uuid !== uuids[i]);
  return changed ? { ...reference, uuid: JSON.stringify(exported) } : reference;
}

/** A deleted record travels as a stub: uuid, deleted, modified_on and replaced_by only. */
function deletedStub(record: StoredRecord, domain: string | undefined, alias: string | undefined): S3Resource {
  return {
    ...emptyResource(record.resource),
    ...(alias === undefined ? {} : { alias }),
    uuid: exportUid(record.uuid, domain),
    deleted: true,
    modified_on: record.modified_on,
    ...(record.replaced_by === undefined ? {} : { replaced_by: exportUid(record.replaced_by, domain) }),
  };
}

/** A live record as S3XML; the exported mci is the local one + 1 (mci 1 = "from the originating instance"). */
export function recordToResource(record: StoredRecord, domain: string | undefined, alias?: string): S3Resource {
  if (record.deleted) return deletedStub(record, domain, alias);
  return {
    name: record.resource,
    ...(alias === undefined ? {} : { alias }),
    uuid: exportUid(record.uuid, domain),
    mci: record.mci + 1,
    ...(record.created_on === undefined ? {} : { created_on: record.created_on }),
    modified_on: record.modified_on,
    attributes: { ...record.attributes },
    data: record.data.map((data) => ({ ...data })),
    references: record.references.map((reference) => exportReference(reference, domain)),
    components: [],
  };
}

interface Settings {
  resource: string;
  msince: string | undefined;
  afterSeq: number | undefined;
  untilSeq: number | undefined;
  includeDeleted: boolean;
  filters: FieldFilter[];
  start: number;
  limit: number | undefined;
  components: boolean | ReadonlySet<string>;
  maxDepth: number;
  domain: string | undefined;
}

function settingsOf(options: ExportOptions): Settings {
  const bad = (message: string, fix: string) => new SluiceError('BAD_EXPORT_OPTIONS', message, { status: 400, fix });
  const count = (value: number | undefined, name: string): number | undefined => {
    if (value !== undefined && (!Number.isInteger(value) || value < 0)) {
      throw bad(`${name} must be a non-negative integer`, `Pass ${name} as a whole number`);
    }
    return value;
  };
  return {
    resource: options.resource,
    msince: options.msince === undefined ? undefined : parseMsince(options.msince),
    afterSeq: count(options.afterSeq, 'afterSeq'),
    untilSeq: count(options.untilSeq, 'untilSeq'),
    includeDeleted: options.includeDeleted ?? false,
    filters: options.filters ?? [],
    start: count(options.start, 'start') ?? 0,
    limit: count(options.limit, 'limit'),
    components: Array.isArray(options.components) ? new Set(options.components) : (options.components ?? true),
    maxDepth: options.dereference === false ? 0 : (count(options.maxDepth, 'maxDepth') ?? 10),
    domain: options.domain,
  };
}

/** Whether the `components` option asks for this component (by table or by alias). */
function wantsComponent(settings: Settings, component: StoredRecord): boolean {
  const { components } = settings;
  if (typeof components === 'boolean') return components;
  return components.has(component.resource) || (component.parent?.alias !== undefined && components.has(component.parent.alias));
}

function recordKey(resource: string, uuid: string): string {
  return `${resource}\u0000${uuid}`;
}

class TreeBuilder {
  /** Masters and dependencies already written, so none goes out twice at top level. */
  readonly exported = new Set<string>();
  /** References met while writing the current depth, to be dereferenced at the next. */
  pending = new Map<string, { resource: string; uuid: string }>();

  constructor(
    private readonly store: Store,
    private readonly settings: Settings,
    private readonly componentTables: ComponentTables,
  ) {}

  private noteReferences(record: StoredRecord): void {
    if (record.deleted) return;
    for (const reference of record.references) {
      for (const uuid of referenceUuids(reference)) {
        const key = recordKey(reference.resource, uuid);
        if (!this.exported.has(key)) this.pending.set(key, { resource: reference.resource, uuid });
      }
    }
  }

  /** A master with its components nested (deleted components as stubs when deleted records are wanted). */
  async master(record: StoredRecord, depth = 0): Promise<S3Resource> {
    // Components are not remembered: one that is also referenced is appended at top level as
    // well, which the importer handles (it keeps the parent link), and the set stays half as big.
    if (depth === 0) this.exported.add(recordKey(record.resource, record.uuid));
    this.noteReferences(record);
    const resource = recordToResource(record, this.settings.domain, depth === 0 ? undefined : record.parent?.alias);
    if (record.deleted || this.settings.components === false || depth >= MAX_COMPONENT_DEPTH) return resource;
    const components = await this.componentTables.componentsOf(
      { resource: record.resource, uuid: record.uuid },
      { includeDeleted: this.settings.includeDeleted },
    );
    for (const component of components) {
      if (wantsComponent(this.settings, component)) resource.components.push(await this.master(component, depth + 1));
    }
    return resource;
  }

  /** A referenced record, once, without components; undefined when it is not in the store. */
  async dependency(target: { resource: string; uuid: string }): Promise<S3Resource | undefined> {
    const key = recordKey(target.resource, target.uuid);
    if (this.exported.has(key)) return undefined;
    this.exported.add(key);
    // Super-entity references name the instance table; fall back to the uuid alone.
    const record = (await this.store.getRecord(target.resource, target.uuid)) ?? (await this.store.findByUuid(target.uuid))[0];
    if (!record) return undefined;
    const actualKey = recordKey(record.resource, record.uuid);
    if (actualKey !== key && this.exported.has(actualKey)) return undefined;
    if (record.deleted && !this.settings.includeDeleted) return undefined;
    this.exported.add(actualKey);
    this.noteReferences(record);
    return recordToResource(record, this.settings.domain);
  }
}

/**
 * Masters whose components changed in the window although they did not change themselves
 * (Eden: a master is exported if it or any component changed since msince).
 */
async function mastersWithChangedComponents(store: Store, settings: Settings, componentTables: ComponentTables): Promise<Set<string>> {
  const parents = new Set<string>();
  if (settings.msince === undefined && settings.afterSeq === undefined && settings.untilSeq === undefined) return parents;
  if (settings.components === false) return parents;
  for (const table of await componentTables.list()) {
    for (let start = 0; ; start += BATCH) {
      const batch = await store.queryRecords({
        resource: table,
        ...(settings.msince === undefined ? {} : { msince: settings.msince }),
        ...(settings.afterSeq === undefined ? {} : { afterSeq: settings.afterSeq }),
        includeDeleted: settings.includeDeleted,
        start,
        limit: BATCH,
      });
      for (const record of batch) {
        if (settings.untilSeq !== undefined && record.seq > settings.untilSeq) continue;
        if (record.parent?.resource === settings.resource && wantsComponent(settings, record)) parents.add(record.parent.uuid);
      }
      if (batch.length < BATCH) break;
    }
  }
  return parents;
}

/**
 * Masters in order: every row of the table, components of other records included (as masters with
 * their join reference, see components-as-masters.ts). Paged from the store; the window, filters,
 * start and limit are applied here when the store cannot apply them exactly:
 * - with `extraParents` (masters due because a component changed) the window is not in the query;
 * - `untilSeq` is not a store query field;
 * - a filter on a field that may be a component's implied join key is judged on the record as
 *   exported, since the store does not hold that reference.
 */
async function* masters(
  store: Store,
  settings: Settings,
  extraParents: ReadonlySet<string>,
  asMasters: ComponentsAsMasters,
  filterHere: boolean,
): AsyncGenerator<StoredRecord> {
  const windowInQuery = extraParents.size === 0;
  const query: RecordQuery = {
    resource: settings.resource,
    includeDeleted: settings.includeDeleted,
    orderBy: settings.afterSeq === undefined ? 'modified_on' : 'seq',
    ...(filterHere ? {} : { filters: settings.filters }),
    ...(windowInQuery && settings.msince !== undefined ? { msince: settings.msince } : {}),
    ...(windowInQuery && settings.afterSeq !== undefined ? { afterSeq: settings.afterSeq } : {}),
  };

  if (windowInQuery && !filterHere && settings.untilSeq === undefined) {
    let offset = settings.start;
    let remaining = settings.limit ?? Number.POSITIVE_INFINITY;
    while (remaining > 0) {
      const size = Math.min(BATCH, remaining);
      const batch = await store.queryRecords({ ...query, start: offset, limit: size });
      for (const record of batch) yield await asMasters.asMaster(record);
      if (batch.length < size) return;
      offset += batch.length;
      remaining -= batch.length;
    }
    return;
  }

  const changedInWindow = (record: StoredRecord) =>
    (settings.msince === undefined || record.modified_on >= settings.msince) &&
    (settings.afterSeq === undefined || record.seq > settings.afterSeq) &&
    (settings.untilSeq === undefined || record.seq <= settings.untilSeq);
  let skipped = 0;
  let yielded = 0;
  for (let offset = 0; ; offset += BATCH) {
    const batch = await store.queryRecords({ ...query, start: offset, limit: BATCH });
    for (const record of batch) {
      if (windowInQuery) {
        if (settings.untilSeq !== undefined && record.seq > settings.untilSeq) {
          // In seq order nothing after this one is inside the window.
          if (query.orderBy === 'seq') return;
          continue;
        }
      } else if (!changedInWindow(record) && !extraParents.has(record.uuid)) {
        continue;
      }
      const master = await asMasters.asMaster(record);
      if (filterHere && !matchesFilters(master, settings.filters)) continue;
      if (skipped < settings.start) {
        skipped += 1;
        continue;
      }
      if (settings.limit !== undefined && yielded >= settings.limit) return;
      yielded += 1;
      yield master;
    }
    if (batch.length < BATCH) return;
  }
}

/**
 * Whether the filters must be judged here rather than in the store: only when the table holds
 * components at all and a filter names a field that may be their unstored join key.
 */
async function filtersNeedExportedRecords(settings: Settings, componentTables: ComponentTables, joinFields: JoinFields): Promise<boolean> {
  if (settings.filters.length === 0 || !(await componentTables.list()).has(settings.resource)) return false;
  for (const filter of settings.filters) {
    if (await joinFields.mayBeImplied(settings.resource, filter.field)) return true;
  }
  return false;
}

export async function* exportResources(store: Store, options: ExportOptions): AsyncGenerator<S3Resource> {
  const settings = settingsOf(options);
  const componentTables = new ComponentTables(store);
  const builder = new TreeBuilder(store, settings, componentTables);
  const extraParents = await mastersWithChangedComponents(store, settings, componentTables);
  const joinFields = new JoinFields(store);
  const filterHere = await filtersNeedExportedRecords(settings, componentTables, joinFields);

  for await (const record of masters(store, settings, extraParents, new ComponentsAsMasters(store, joinFields), filterHere)) {
    if (builder.exported.has(recordKey(record.resource, record.uuid))) continue;
    yield await builder.master(record);
  }

  for (let depth = 1; depth <= settings.maxDepth && builder.pending.size > 0; depth += 1) {
    const level = builder.pending;
    builder.pending = new Map();
    for (const target of level.values()) {
      const resource = await builder.dependency(target);
      if (resource) yield resource;
    }
  }
}
