/**
 * The conflict queue as people see it: each open conflict with both versions and, field by field,
 * what differs; and its resolution — keep the local version, take the remote one, or choose per
 * field. The chosen version is written as a new version of the record (modified now, a person's
 * decision), so that it also wins at the peers on the next push instead of being argued again.
 * Every resolution is logged.
 */
import { SluiceError } from '../errors.js';
import { importResources } from '../importer/importer.js';
import { dataValue, type FieldValue, type S3Data, type S3Reference, type S3Resource } from '../s3xml/model.js';
import { formatTimestamp, type Clock } from '../s3xml/timestamps.js';
import type { ConflictEntry, ConflictQuery, RecordWrite, Store, StoredRecord } from '../store/store.js';
import { SyncLogWriter } from './sync-log.js';

export type Side = 'local' | 'remote';

export type Resolution = { keep: Side } | { fields: Record<string, Side> };

export interface FieldDifference {
  field: string;
  local: FieldValue | undefined;
  remote: FieldValue | undefined;
  local_text?: string;
  remote_text?: string;
}

export interface ConflictView extends ConflictEntry {
  differences: FieldDifference[];
}

type FieldEntry = { kind: 'data'; data: S3Data } | { kind: 'reference'; reference: S3Reference } | { kind: 'attribute'; value: string };

function entriesOf(version: { data: S3Data[]; references: S3Reference[]; attributes: Record<string, string>; deleted?: boolean; replaced_by?: string }): Map<string, FieldEntry> {
  const entries = new Map<string, FieldEntry>();
  for (const data of version.data) entries.set(data.field, { kind: 'data', data });
  for (const reference of version.references) entries.set(reference.field, { kind: 'reference', reference });
  for (const [name, value] of Object.entries(version.attributes)) entries.set(`@${name}`, { kind: 'attribute', value });
  entries.set('deleted', { kind: 'attribute', value: String(version.deleted === true) });
  if (version.replaced_by !== undefined) entries.set('replaced_by', { kind: 'attribute', value: version.replaced_by });
  return entries;
}

function valueOf(entry: FieldEntry | undefined): { value: FieldValue | undefined; text?: string } {
  if (!entry) return { value: undefined };
  if (entry.kind === 'data') return { value: dataValue(entry.data), ...(entry.data.text === undefined ? {} : { text: entry.data.text }) };
  if (entry.kind === 'reference') return { value: entry.reference.uuid ?? null, ...(entry.reference.text === undefined ? {} : { text: entry.reference.text }) };
  return { value: entry.value };
}

/** Field by field, what the two versions hold for the fields the conflict names. */
export function differences(conflict: ConflictEntry): FieldDifference[] {
  const local = conflict.local ? entriesOf(conflict.local) : new Map<string, FieldEntry>();
  const remote = entriesOf({ ...conflict.remote, deleted: conflict.remote.deleted === true });
  return conflict.fields.map((field) => {
    const l = valueOf(local.get(field));
    const r = valueOf(remote.get(field));
    return {
      field,
      local: l.value,
      remote: r.value,
      ...(l.text === undefined ? {} : { local_text: l.text }),
      ...(r.text === undefined ? {} : { remote_text: r.text }),
    };
  });
}

function withoutSeq(record: StoredRecord): RecordWrite {
  const { seq: _seq, ...write } = record;
  return write;
}

/** The local record with the chosen remote fields written over it. */
function merge(local: StoredRecord, remote: S3Resource, choose: (field: string) => Side): RecordWrite {
  const data = new Map(local.data.map((entry) => [entry.field, entry] as const));
  const references = new Map(local.references.map((entry) => [entry.field, entry] as const));
  for (const entry of remote.data) {
    if (choose(entry.field) === 'remote') {
      references.delete(entry.field);
      data.set(entry.field, entry);
    }
  }
  for (const entry of remote.references) {
    if (choose(entry.field) === 'remote') {
      data.delete(entry.field);
      references.set(entry.field, entry);
    }
  }
  const attributes = { ...local.attributes };
  for (const [name, value] of Object.entries(remote.attributes)) if (choose(`@${name}`) === 'remote') attributes[name] = value;
  const write: RecordWrite = { ...withoutSeq(local), data: [...data.values()], references: [...references.values()], attributes };
  if (choose('deleted') === 'remote') {
    write.deleted = remote.deleted === true;
    if (remote.replaced_by !== undefined && write.deleted) write.replaced_by = remote.replaced_by;
    else delete write.replaced_by;
  }
  return write;
}

export class ConflictQueue {
  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
  ) {}

  async list(query: ConflictQuery = {}): Promise<ConflictView[]> {
    return (await this.store.listConflicts(query)).map((conflict) => ({ ...conflict, differences: differences(conflict) }));
  }

  async get(id: number): Promise<ConflictView> {
    const conflict = await this.store.getConflict(id);
    if (!conflict) throw new SluiceError('CONFLICT_NOT_FOUND', `There is no conflict ${id}`, { status: 404, fix: 'Reload the conflict queue' });
    return { ...conflict, differences: differences(conflict) };
  }

  /** Applies the resolution to the record, closes the conflict and logs both. */
  async resolve(id: number, resolution: Resolution, by?: string): Promise<ConflictView> {
    const conflict = await this.get(id);
    if (conflict.status === 'resolved') {
      throw new SluiceError('CONFLICT_ALREADY_RESOLVED', `Conflict ${id} was already resolved`, { status: 409, fix: 'Reload the conflict queue' });
    }
    const choose = (field: string): Side => ('keep' in resolution ? resolution.keep : (resolution.fields[field] ?? 'local'));
    if ('fields' in resolution) {
      const unknown = Object.keys(resolution.fields).filter((field) => !conflict.fields.includes(field));
      if (unknown.length > 0) {
        throw new SluiceError('BAD_RESOLUTION', `Conflict ${id} has no differing field ${unknown.join(', ')}`, { status: 400, fix: `Choose among ${conflict.fields.join(', ')}` });
      }
    }
    const at = formatTimestamp(this.clock.now());
    const current = await this.store.getRecord(conflict.resource, conflict.uuid);
    if (current) {
      const write = merge(current, conflict.remote, choose);
      await this.store.putRecord({ ...write, modified_on: at });
    } else if ('keep' in resolution && resolution.keep === 'remote') {
      // The record is gone here: taking the remote version creates it.
      await importResources(this.store, [{ ...conflict.remote, modified_on: at }], { resource: conflict.resource, updatePolicy: 'OTHER', clock: this.clock });
    }
    const recorded = { ...('keep' in resolution ? { keep: resolution.keep } : { fields: resolution.fields }), ...(by === undefined ? {} : { by }) };
    await this.store.resolveConflict(id, recorded, at);
    const what = 'keep' in resolution ? `kept the ${resolution.keep} version` : `chose ${Object.entries(resolution.fields).map(([f, s]) => `${f}=${s}`).join(', ')}`;
    await new SyncLogWriter(this.store, this.clock, conflict.repository === undefined ? {} : { repository: conflict.repository }).write({
      mode: 'none/none',
      action: 'resolve conflict',
      result: 'success',
      resource: conflict.resource,
      message: `Conflict ${id} on ${conflict.resource} ${conflict.uuid} (${conflict.method}, ${conflict.fields.join(', ')}): ${by ?? 'someone'} ${what}`,
    });
    return this.get(id);
  }
}
