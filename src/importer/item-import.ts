/**
 * One element → one record decision, inside the transaction of its page: identity, method,
 * strategy, conflict detection, update policy, write. Eden's S3ImportItem.commit, with the
 * corrections listed in README.md.
 */
import { asSluiceError, isSluiceError } from '../errors.js';
import type { S3Reference, S3Resource } from '../s3xml/model.js';
import { formatTimestamp, isStrictTimestamp } from '../s3xml/timestamps.js';
import type { ParentLink, RecordWrite, StoredRecord, StoreTransaction } from '../store/store.js';
import type { ComponentTables } from './component-lookup.js';
import { detached } from './detach.js';
import { tuidKey, type DocumentIndex } from './document-index.js';
import { applyFields, differingFields, normalizeContent, type RecordContent } from './fields.js';
import { anonymousIdentityOf, componentUuid, inlineUuid, resolveAnonymous, stripLocalDomain } from './identity.js';
import { referenceTo, singleUuid, type JoinFields } from './join-fields.js';
import type { NormalizedOptions } from './options.js';
import { fieldPolicy, policyAccepts, recordPolicy, type ImportMethod, type VersionStamp } from './policies.js';
import { repointReference, resolveReferences } from './references.js';
import type { ImportResult } from './result.js';

/** State that outlives one page: the document index and what earlier pages resolved. */
export interface ImportRun {
  readonly options: NormalizedOptions;
  readonly index: DocumentIndex;
  /** (resource, tuid) → uuid, filled as tuids are resolved or their elements imported. */
  readonly tuidUuids: Map<string, string>;
  readonly componentTables: ComponentTables;
  /** Join fields of components, learned once per run. */
  readonly joinFields: JoinFields;
  /** modified_on for elements that carry none: the import's start, once for the whole run. */
  readonly importStamp: string;
}

type Placement =
  | { kind: 'top' }
  | { kind: 'component'; parent: ParentLink; position: number }
  | { kind: 'inline'; ownerResource: string; ownerUuid: string; field: string; referenceUuid?: string };

/** A component whose join key, arriving on it as a master, names another master than its own. */
interface Move {
  to: ParentLink;
  field: string;
  /** The stored record holds no reference under `field`: its parent link alone says where it belongs. */
  implied: boolean;
}

/** Where an item ended up, for linking (inline references) and for nesting (components). */
interface ItemOutcome {
  uuid: string;
  /** A live record exists under `uuid` after this item (its components may be imported). */
  live: boolean;
}

type Counted = 'created' | 'updated' | 'deleted' | 'merged' | 'unchanged' | 'skipped' | 'conflict';

const RESOURCE_NAME = /^[A-Za-z0-9]+(?:_[A-Za-z0-9]+)+$/;

/** Drops keys whose value is undefined, so stored records compare equal to what was meant. */
function compact<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, item]) => item !== undefined)) as T;
}

function withoutSeq(record: StoredRecord): RecordWrite {
  const { seq: _seq, ...write } = record;
  return write;
}

function sameParent(a: ParentLink | undefined, b: ParentLink | undefined): boolean {
  return a?.resource === b?.resource && a?.uuid === b?.uuid && a?.alias === b?.alias;
}

export class PageImporter {
  constructor(
    private readonly tx: StoreTransaction,
    private readonly run: ImportRun,
    private readonly page: ImportResult,
  ) {}

  private get options(): NormalizedOptions {
    return this.run.options;
  }

  async importTopLevel(resource: S3Resource, position: number): Promise<void> {
    if (!this.run.index.isSelected(position, resource.name)) {
      this.page.skipped.push({
        resource: resource.name,
        ...(resource.uuid ? { uuid: stripLocalDomain(resource.uuid, this.options.localDomain) } : {}),
        code: 'NOT_SELECTED',
        reason: `top-level ${resource.name} is neither of the target table ${this.options.resource ?? ''} nor referenced by it`,
      });
      return;
    }
    await this.importItem(resource, { kind: 'top' });
  }

  private async importItem(item: S3Resource, placement: Placement): Promise<ItemOutcome | undefined> {
    try {
      return await this.importChecked(item, placement);
    } catch (error) {
      if (!isSluiceError(error) || error.severity !== 'record') throw error;
      const problem = asSluiceError(error);
      this.recordError(item, item.uuid, problem.code, problem.message);
      return undefined;
    }
  }

  private recordError(item: S3Resource, uuid: string | undefined, code: string, message: string): undefined {
    this.page.errors.push({ resource: item.name, ...(uuid === undefined ? {} : { uuid }), code, message });
    return undefined;
  }

  /** Record-level problems Eden's validation would reject; the job goes on without the item. */
  private validate(item: S3Resource, uuid: string | undefined): boolean {
    if (!RESOURCE_NAME.test(item.name)) {
      this.recordError(item, uuid, 'INVALID_RESOURCE_NAME', `"${item.name}" is not a table name of the form prefix_name`);
      return false;
    }
    for (const field of ['modified_on', 'created_on'] as const) {
      const value = item[field];
      if (value !== undefined && !isStrictTimestamp(value)) {
        this.recordError(item, uuid, 'INVALID_TIMESTAMP', `${field} "${value}" is not a YYYY-MM-DDTHH:MM:SS timestamp`);
        return false;
      }
    }
    if (item.mci !== undefined && (!Number.isInteger(item.mci) || item.mci < 0)) {
      this.recordError(item, uuid, 'INVALID_MCI', `mci "${String(item.mci)}" is not a non-negative integer`);
      return false;
    }
    if (item.replaced_by !== undefined && item.deleted !== true) {
      this.recordError(item, uuid, 'REPLACED_BY_WITHOUT_DELETED', 'replaced_by is only meaningful on a deleted record (a merge stub)');
      return false;
    }
    return true;
  }

  private async identify(item: S3Resource, placement: Placement): Promise<string> {
    const own = item.uuid === undefined ? '' : stripLocalDomain(item.uuid, this.options.localDomain);
    if (own !== '') return own;
    const known = item.tuid === undefined ? undefined : this.run.tuidUuids.get(tuidKey(item.name, item.tuid));
    if (known !== undefined) return known;
    switch (placement.kind) {
      case 'component':
        return componentUuid(placement.parent.uuid, item, placement.position);
      case 'inline':
        return placement.referenceUuid ?? inlineUuid(placement.ownerResource, placement.ownerUuid, placement.field);
      case 'top':
        return resolveAnonymous(this.tx, anonymousIdentityOf(item));
    }
  }

  private async importChecked(item: S3Resource, placement: Placement): Promise<ItemOutcome | undefined> {
    if (!this.validate(item, item.uuid)) return undefined;
    const uuid = await this.identify(item, placement);
    if (item.tuid !== undefined) this.run.tuidUuids.set(detached(tuidKey(item.name, item.tuid)), detached(uuid));
    const original = await this.tx.getRecord(item.name, uuid);

    const method: ImportMethod = item.deleted ? (item.replaced_by ? 'merge' : 'delete') : original ? 'update' : 'create';
    if ((method === 'delete' || method === 'merge') && !original) {
      this.skip(item, placement, uuid, 'UNKNOWN_TARGET', `cannot ${method} ${item.name} ${uuid}: no such record here`);
      return undefined;
    }
    if (!this.options.strategy.has(method)) {
      this.page.skipped.push({ resource: item.name, uuid, code: 'METHOD_NOT_ALLOWED', reason: `${method} is not in the import strategy` });
      if (!original) return undefined;
      // The record as it stands still anchors references and, if live, its components (each
      // component is an item of its own that the strategy judges separately).
      const live = !original.deleted;
      if (live && method === 'update') await this.importComponents(item, uuid);
      return { uuid, live };
    }
    const remote: VersionStamp = {
      modified_on: item.modified_on ?? this.run.importStamp,
      mci: item.mci ?? this.options.defaultMci,
    };

    if (method === 'delete' || method === 'merge') {
      const stored = original as StoredRecord;
      if (method === 'merge') {
        const winner = stripLocalDomain(item.replaced_by as string, this.options.localDomain);
        if (winner === uuid) return this.recordError(item, uuid, 'MERGE_INTO_ITSELF', 'replaced_by names the record itself');
        await this.removeRecord(item, placement, stored, remote, winner);
      } else {
        await this.removeRecord(item, placement, stored, remote, undefined);
      }
      return { uuid, live: false };
    }

    const inlineUuids = await this.importInlineResources(item, uuid);
    const resolved = await resolveReferences(item.references, inlineUuids, {
      localDomain: this.options.localDomain,
      resolveTuid: (resource, tuid) => this.resolveTuid(resource, tuid),
    });
    for (const missing of resolved.unresolved) {
      this.page.skipped.push({
        resource: item.name,
        uuid,
        code: 'UNRESOLVED_REFERENCE',
        reason: `${missing.field} → ${missing.resource} tuid "${missing.tuid}" is not in the document; the reference was dropped`,
      });
    }
    const join = await this.settleJoin(item, placement, original, resolved.references);
    const incoming: RecordContent = normalizeContent(
      compact({ created_on: item.created_on, attributes: { ...item.attributes }, data: item.data, references: join.references }),
    );
    const parent = placement.kind === 'component' ? placement.parent : undefined;
    if (parent) this.run.componentTables.noteComponentTable(detached(item.name));

    const live =
      method === 'create'
        ? await this.create(item, placement, uuid, incoming, remote, parent)
        : await this.update(item, placement, original as StoredRecord, incoming, remote, parent, resolved.references, join.move);
    if (live) await this.importComponents(item, uuid);
    return { uuid, live };
  }

  /**
   * The reference to a stored component's master under the join field, when it arrives with the
   * item: on a component sent as a master of its own table (Eden exports every row of a table with
   * its keys), or written into a nested one. The parent link already says it, so where the stored
   * record does not hold that reference it is not news: storing it would count as a change and
   * bounce between peers. A top-level item whose key names another master moves the component
   * there (it was moved at the peer); nested, the master it sits in decides, as in Eden.
   */
  private async settleJoin(
    item: S3Resource,
    placement: Placement,
    original: StoredRecord | undefined,
    references: S3Reference[],
  ): Promise<{ references: S3Reference[]; move?: Move }> {
    const link = placement.kind === 'component' ? placement.parent : placement.kind === 'top' ? original?.parent : undefined;
    if (original === undefined || link === undefined) return { references };
    const field = referenceTo(original.references, link)?.field ?? (await this.run.joinFields.fieldOf(item.name, link, references, this.tx));
    const arriving = field === undefined ? undefined : references.find((reference) => reference.field === field);
    const target = arriving === undefined || arriving.resource !== link.resource ? undefined : singleUuid(arriving);
    if (field === undefined || target === undefined) return { references };
    const stored = original.references.some((reference) => reference.field === field);
    const kept = stored ? references : references.filter((reference) => reference !== arriving);
    if (target === link.uuid || placement.kind !== 'top') return { references: kept };
    return { references: kept, move: { to: { ...link, uuid: target }, field, implied: !stored } };
  }

  private async resolveTuid(resource: string, tuid: string): Promise<string | undefined> {
    const key = tuidKey(resource, tuid);
    const known = this.run.tuidUuids.get(key);
    if (known !== undefined) return known;
    const target = this.run.index.tuids.get(key);
    if (!target) return undefined;
    const uuid = 'uuid' in target ? target.uuid : await resolveAnonymous(this.tx, target.anonymous);
    this.run.tuidUuids.set(detached(key), detached(uuid));
    return uuid;
  }

  private async importInlineResources(item: S3Resource, ownerUuid: string): Promise<Map<S3Reference, string>> {
    const uuids = new Map<S3Reference, string>();
    for (const reference of item.references) {
      if (!reference.inline) continue;
      const single =
        reference.uuid !== undefined && !reference.uuid.trim().startsWith('[') ? stripLocalDomain(reference.uuid, this.options.localDomain) : '';
      const outcome = await this.importItem(reference.inline, {
        kind: 'inline',
        ownerResource: item.name,
        ownerUuid,
        field: reference.field,
        ...(single === '' ? {} : { referenceUuid: single }),
      });
      if (outcome) uuids.set(reference, outcome.uuid);
    }
    return uuids;
  }

  private async importComponents(item: S3Resource, uuid: string): Promise<void> {
    const positions = new Map<string, number>();
    for (const component of item.components) {
      const group = `${component.name}\u0000${component.alias ?? ''}`;
      const position = positions.get(group) ?? 0;
      positions.set(group, position + 1);
      const parent: ParentLink = { resource: item.name, uuid, ...(component.alias === undefined ? {} : { alias: component.alias }) };
      await this.importItem(component, { kind: 'component', parent, position });
    }
  }

  private async create(
    item: S3Resource,
    placement: Placement,
    uuid: string,
    incoming: RecordContent,
    remote: VersionStamp,
    parent: ParentLink | undefined,
  ): Promise<boolean> {
    await this.tx.putRecord(
      compact({
        resource: item.name,
        uuid,
        mci: remote.mci,
        created_on: incoming.created_on,
        modified_on: remote.modified_on,
        deleted: false,
        parent,
        attributes: incoming.attributes,
        data: incoming.data,
        references: incoming.references,
      }),
    );
    this.page.created.push(uuid);
    this.count(item, placement, 'created');
    return true;
  }

  private async update(
    item: S3Resource,
    placement: Placement,
    original: StoredRecord,
    incoming: RecordContent,
    remote: VersionStamp,
    parent: ParentLink | undefined,
    resolvedReferences: S3Reference[],
    move: Move | undefined,
  ): Promise<boolean> {
    const { uuid } = original;
    const differing = differingFields(original, incoming);
    if (move?.implied) differing.push(move.field);
    const undelete = original.deleted;
    // A record exported as a top-level dependency may be someone's component: never unlink it.
    const reparent = parent !== undefined && !sameParent(original.parent, parent);
    if (differing.length === 0 && !undelete && !reparent) {
      this.page.unchanged.push(uuid);
      this.count(item, placement, 'unchanged');
      return true;
    }
    const changedFields = undelete ? ['deleted', ...differing] : differing;
    if (await this.rejectedAsConflict(item, placement, original, remote, 'update', changedFields, resolvedReferences)) {
      return !original.deleted;
    }
    const policy = recordPolicy(this.options.updatePolicy);
    if (undelete && !policyAccepts(policy, original, remote)) {
      this.skip(item, placement, uuid, 'POLICY_KEPT_LOCAL', `the local record is deleted and update policy ${policy} keeps it so`);
      return false;
    }
    const accepted = new Set(differing.filter((field) => policyAccepts(fieldPolicy(this.options.updatePolicy, field), original, remote)));
    if (accepted.size === 0 && !undelete && !reparent) {
      this.skip(item, placement, uuid, 'POLICY_KEPT_LOCAL', `update policy keeps the local value of ${differing.join(', ')}`);
      return true;
    }
    const moved = move !== undefined && accepted.has(move.field) ? move.to : undefined;
    const content = applyFields(original, incoming, accepted);
    const { created_on: _created, replaced_by: _replaced, ...kept } = withoutSeq(original);
    await this.tx.putRecord(
      compact({
        ...kept,
        ...content,
        ...(undelete ? { deleted: false } : { replaced_by: original.replaced_by }),
        parent: moved ?? parent ?? original.parent,
        modified_on: remote.modified_on,
        mci: original.mci,
      }),
    );
    this.page.updated.push(uuid);
    this.count(item, placement, 'updated');
    return true;
  }

  /** DELETE (winner undefined) or MERGE into `winner`; both soft: the record stays, marked deleted. */
  private async removeRecord(
    item: S3Resource,
    placement: Placement,
    original: StoredRecord,
    remote: VersionStamp,
    winner: string | undefined,
  ): Promise<void> {
    const method = winner === undefined ? 'delete' : 'merge';
    const { uuid } = original;
    if (original.deleted && (winner === undefined || original.replaced_by === winner)) {
      this.page.unchanged.push(uuid);
      this.count(item, placement, 'unchanged');
      return;
    }
    const fields = winner === undefined ? ['deleted'] : original.deleted ? ['replaced_by'] : ['deleted', 'replaced_by'];
    if (await this.rejectedAsConflict(item, placement, original, remote, method, fields, [])) return;
    const policy = recordPolicy(this.options.updatePolicy);
    if (!policyAccepts(policy, original, remote)) {
      const verb = method === 'delete' ? 'deleting' : 'merging';
      this.skip(item, placement, uuid, 'POLICY_KEPT_LOCAL', `update policy ${policy} keeps the local record rather than ${verb} it`);
      return;
    }
    await this.tx.putRecord(
      compact({ ...withoutSeq(original), deleted: true, replaced_by: winner, modified_on: remote.modified_on }),
    );
    if (winner === undefined) {
      this.page.deleted.push(uuid);
      await this.cascadeDelete(original, remote.modified_on);
      this.count(item, placement, 'deleted');
    } else {
      this.page.merged.push(uuid);
      await this.repointReferences(uuid, winner);
      await this.reparentComponents(original, winner);
      this.count(item, placement, 'merged');
    }
  }

  private async cascadeDelete(master: StoredRecord, modifiedOn: string): Promise<void> {
    const components = await this.run.componentTables.componentsOf(
      { resource: master.resource, uuid: master.uuid },
      { includeDeleted: false, access: this.tx },
    );
    for (const component of components) {
      await this.tx.putRecord({ ...withoutSeq(component), deleted: true, modified_on: modifiedOn });
      this.page.deleted.push(component.uuid);
      await this.cascadeDelete(component, modifiedOn);
    }
  }

  /**
   * Records pointing at the merged-away record now point at the winner. Their modified_on is
   * left alone: the peer that merged re-points its own copies, so this is not news to send on
   * (their seq still moves, so exact change feeds see it).
   */
  private async repointReferences(loser: string, winner: string): Promise<void> {
    for (const record of await this.tx.findReferencing(loser)) {
      const references = record.references.map((reference) => repointReference(reference, loser, winner));
      await this.tx.putRecord({ ...withoutSeq(record), references });
    }
  }

  private async reparentComponents(loser: StoredRecord, winner: string): Promise<void> {
    const components = await this.run.componentTables.componentsOf(
      { resource: loser.resource, uuid: loser.uuid },
      { includeDeleted: true, access: this.tx },
    );
    for (const component of components) {
      const parent: ParentLink = { ...(component.parent as ParentLink), uuid: winner };
      await this.tx.putRecord({ ...withoutSeq(component), parent });
    }
  }

  /**
   * Conflict detection as Eden does it (both sides modified since the last sync), settled by the
   * conflict policy. A rejected conflict is written to the queue with both versions.
   */
  private async rejectedAsConflict(
    item: S3Resource,
    placement: Placement,
    original: StoredRecord,
    remote: VersionStamp,
    method: 'update' | 'delete' | 'merge',
    fields: string[],
    resolvedReferences: S3Reference[],
  ): Promise<boolean> {
    const { lastSync, conflictPolicy } = this.options;
    if (lastSync === undefined) return false;
    if (!(original.modified_on >= lastSync && remote.modified_on >= lastSync)) return false;
    if (policyAccepts(conflictPolicy, original, remote)) return false;
    const { components: _components, ...rest } = item;
    const received: S3Resource = compact({
      ...rest,
      uuid: original.uuid,
      tuid: undefined,
      references: method === 'update' ? resolvedReferences : item.references,
      components: [],
    });
    const entry = await this.tx.addConflict(
      compact({
        resource: original.resource,
        uuid: original.uuid,
        repository: this.options.repository,
        method,
        policy: conflictPolicy,
        local: original,
        remote: received,
        fields,
        created_at: formatTimestamp(this.options.clock.now()),
      }),
    );
    this.page.conflicts.push({ resource: original.resource, uuid: original.uuid, conflictId: entry.id });
    this.count(item, placement, 'conflict');
    return true;
  }

  private skip(item: S3Resource, placement: Placement, uuid: string, code: string, reason: string): void {
    this.page.skipped.push({ resource: item.name, uuid, code, reason });
    this.count(item, placement, 'skipped');
  }

  /**
   * Eden's `records` counts the items of the target table that were processed without error; a
   * skipped delete of an unknown uuid counts too. Without a target table, top-level items count.
   */
  private count(item: S3Resource, placement: Placement, outcome: Counted): void {
    const target = this.options.resource;
    const isTarget = target === undefined ? placement.kind === 'top' : item.name === target;
    if (!isTarget) return;
    if (outcome !== 'conflict') this.page.records += 1;
    const mtime = item.modified_on;
    if (mtime !== undefined && (this.page.mtime === undefined || mtime > this.page.mtime)) this.page.mtime = mtime;
  }
}
