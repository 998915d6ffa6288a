/**
 * Exporting table R means every row of R, as Eden does (`/org/office.xml`, sync of `org_office`),
 * including the rows the store holds as components of another record. Such a row goes out as a
 * master with the reference to its master under the join field, which Eden leaves out of nested
 * components (reference §1.5) and the store therefore usually does not hold.
 */
import { dataValue } from '../s3xml/model.js';
import type { ParentLink, Store, StoredRecord } from '../store/store.js';
import type { JoinFields } from '../importer/join-fields.js';

/** Master labels remembered per export; beyond this the memory is started afresh. */
const MAX_LABELS = 10_000;

export class ComponentsAsMasters {
  private readonly labels = new Map<string, string | undefined>();

  constructor(
    private readonly store: Store,
    private readonly joinFields: JoinFields,
  ) {}

  /**
   * The record as the master of its own table: unchanged unless it is a live component lacking
   * its join reference and the join field is known (else it goes without, see join-fields.ts).
   */
  async asMaster(record: StoredRecord): Promise<StoredRecord> {
    const { parent } = record;
    if (parent === undefined || record.deleted) return record;
    const field = await this.joinFields.fieldOf(record.resource, parent, record.references);
    if (field === undefined || record.references.some((reference) => reference.field === field)) return record;
    const text = await this.label(parent);
    return {
      ...record,
      references: [...record.references, { field, resource: parent.resource, uuid: parent.uuid, ...(text === undefined ? {} : { text }) }],
    };
  }

  /** The master's name, as Eden writes a reference's representation. */
  private async label(parent: ParentLink): Promise<string | undefined> {
    const key = `${parent.resource}\u0000${parent.uuid}`;
    if (this.labels.has(key)) return this.labels.get(key);
    const master = await this.store.getRecord(parent.resource, parent.uuid);
    const name = master?.data.find((data) => data.field === 'name');
    const value = name === undefined ? null : (name.text ?? dataValue(name));
    const label = typeof value === 'string' && value !== '' ? value : undefined;
    if (this.labels.size >= MAX_LABELS) this.labels.clear();
    this.labels.set(key, label);
    return label;
  }
}
