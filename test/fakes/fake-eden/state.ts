/**
 * The fake Eden instance's data and its sync semantics, written from the reference
 * (eden-sync-and-s3xml.md §1.5–1.7, §2.5, §3.3–3.5), not from Sluice's code:
 * - export: masters of one table in modified_on order with components nested, deleted records as
 *   stubs (uuid, deleted, modified_on, replaced_by), every referenced record appended once at top
 *   level without the msince window (depth ≤ 10), `mci` = local + 1, `msince` as `>=` on seconds;
 * - import: by uuid, NEWER update policy (the /sync/sync controller drops the URL's policies), the
 *   item's modified_on stored as is, deletes and merges soft, unknown delete targets skipped,
 *   references resolved in the document then the store and otherwise silently dropped.
 */
import { randomUUID } from 'node:crypto';
import { attributesXml, escapeXml, type XmlElement } from './xml.js';

export interface EdenField {
  /** The raw `value` attribute (JSON-encoded), when the field has one. */
  value?: string;
  text?: string;
}

export interface EdenRecord {
  id: number;
  table: string;
  uuid: string;
  mci: number;
  created_on: string;
  modified_on: string;
  modified_by?: string;
  deleted: boolean;
  replaced_by?: string;
  fields: Record<string, EdenField>;
  references: Record<string, { table: string; uuid: string }>;
  parent?: { table: string; uuid: string };
}

export interface ImportReport {
  records: number;
  created: number[];
  updated: number[];
  deleted: number[];
  errors: string[];
}

const STRICT_MSINCE = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})$/;

/** Eden's s3_parse_datetime with "%Y-%m-%dT%H:%M:%S": anything else is None (the filter is dropped). */
export function parseMsinceLikeEden(value: string | null): string | undefined {
  if (value === null || !STRICT_MSINCE.test(value)) return undefined;
  const date = new Date(`${value}Z`);
  if (Number.isNaN(date.getTime()) || date.toISOString().slice(0, 19) !== value) return undefined;
  return value;
}

/** Eden reads record timestamps with dateutil: naive = UTC. The fake accepts the ISO forms Sluice sends. */
function readTimestamp(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const date = new Date(/[zZ]|[+-]\d\d:?\d\d$/.test(value) ? value : `${value}Z`);
  return Number.isNaN(date.getTime()) ? undefined : date.toISOString().slice(0, 19);
}

const MAX_DEPTH = 10;

export class EdenState {
  /** This instance's sync_config uuid: its repository identity. */
  readonly configUuid: string;
  readonly repositories = new Map<string, { name: string; apitype: string }>();
  private readonly tables = new Map<string, Map<string, EdenRecord>>();
  private nextId = 1;

  constructor(
    private readonly clock: () => number,
    readonly domain: string,
    readonly baseUrl: string,
    configUuid?: string,
  ) {
    this.configUuid = configUuid ?? `urn:uuid:${randomUUID()}`;
  }

  now(): string {
    return new Date(this.clock()).toISOString().slice(0, 19);
  }

  private table(name: string): Map<string, EdenRecord> {
    let table = this.tables.get(name);
    if (!table) {
      table = new Map();
      this.tables.set(name, table);
    }
    return table;
  }

  get(table: string, uuid: string): EdenRecord | undefined {
    return this.tables.get(table)?.get(uuid);
  }

  all(table: string): EdenRecord[] {
    return [...(this.tables.get(table)?.values() ?? [])];
  }

  private findByUuid(uuid: string): EdenRecord | undefined {
    for (const table of this.tables.values()) {
      const record = table.get(uuid);
      if (record) return record;
    }
    return undefined;
  }

  // Local edits, as a user of the Eden instance would make them (stamped with the fake's clock).

  upsert(
    table: string,
    fields: Record<string, string | EdenField>,
    options: { uuid?: string; references?: Record<string, { table: string; uuid: string }>; parent?: { table: string; uuid: string } } = {},
  ): EdenRecord {
    const uuid = options.uuid ?? `urn:uuid:${randomUUID()}`;
    const now = this.now();
    const normalized: Record<string, EdenField> = {};
    for (const [name, value] of Object.entries(fields)) normalized[name] = typeof value === 'string' ? { text: value } : value;
    const existing = this.get(table, uuid);
    if (existing) {
      Object.assign(existing.fields, normalized);
      if (options.references) Object.assign(existing.references, options.references);
      existing.modified_on = now;
      existing.modified_by = 'admin@example.org';
      existing.deleted = false;
      delete existing.replaced_by;
      return existing;
    }
    const record: EdenRecord = {
      id: this.nextId++,
      table,
      uuid,
      mci: 0,
      created_on: now,
      modified_on: now,
      modified_by: 'admin@example.org',
      deleted: false,
      fields: normalized,
      references: { ...(options.references ?? {}) },
      ...(options.parent ? { parent: options.parent } : {}),
    };
    this.table(table).set(uuid, record);
    return record;
  }

  /** Soft delete with cascade to components; FKs are nulled as Eden does (kept in deleted_fk). */
  remove(table: string, uuid: string, at = this.now()): EdenRecord | undefined {
    const record = this.get(table, uuid);
    if (!record || record.deleted) return undefined;
    record.deleted = true;
    record.modified_on = at;
    record.references = {};
    for (const other of this.tables.values()) {
      for (const component of other.values()) {
        if (component.parent?.uuid === uuid && !component.deleted) this.remove(component.table, component.uuid, at);
      }
    }
    return record;
  }

  /** S3Merge: the loser is deleted with replaced_by; references to it point at the winner (and are modified). */
  merge(table: string, loserUuid: string, winnerUuid: string, at = this.now()): void {
    const loser = this.get(table, loserUuid);
    if (!loser || loser.deleted) return;
    loser.deleted = true;
    loser.replaced_by = winnerUuid;
    loser.modified_on = at;
    loser.references = {};
    for (const other of this.tables.values()) {
      for (const record of other.values()) {
        for (const [field, reference] of Object.entries(record.references)) {
          if (reference.uuid === loserUuid) {
            record.references[field] = { ...reference, uuid: winnerUuid };
            record.modified_on = at;
          }
        }
      }
    }
  }

  // Export (GET /sync/sync.xml)

  private exportUid(uid: string): string {
    return uid.startsWith('urn:') || uid.includes('/') ? uid : `${this.domain}/${uid}`;
  }

  private recordXml(record: EdenRecord, exported: Set<string>, pending: EdenRecord[], options: { alias?: string; components: boolean }): string {
    const alias = options.alias;
    if (record.deleted) {
      return `<resource${attributesXml({
        name: record.table,
        alias,
        uuid: this.exportUid(record.uuid),
        deleted: 'True',
        modified_on: record.modified_on,
        replaced_by: record.replaced_by === undefined ? undefined : this.exportUid(record.replaced_by),
      })}/>`;
    }
    const [prefix, ...rest] = record.table.split('_');
    let xml = `<resource${attributesXml({
      name: record.table,
      alias,
      uuid: this.exportUid(record.uuid),
      mci: String(record.mci + 1),
      created_on: record.created_on,
      modified_on: record.modified_on,
      modified_by: record.modified_by,
      url: `${this.baseUrl}/${prefix}/${rest.join('_')}/${record.id}`,
    })}>`;
    for (const [field, data] of Object.entries(record.fields)) {
      xml += `<data${attributesXml({ field, value: data.value })}>${escapeXml(data.text ?? '')}</data>`;
    }
    for (const [field, reference] of Object.entries(record.references)) {
      const target = this.get(reference.table, reference.uuid);
      // References that cannot be read are omitted entirely (s3rtb).
      if (!target) continue;
      xml += `<reference${attributesXml({ field, resource: reference.table, uuid: this.exportUid(reference.uuid) })}>${escapeXml(target.fields.name?.text ?? '')}</reference>`;
      if (!exported.has(`${target.table}/${target.uuid}`) && !target.deleted) pending.push(target);
    }
    if (options.components) {
      for (const table of this.tables.values()) {
        for (const component of table.values()) {
          if (component.parent?.uuid === record.uuid && component.parent.table === record.table) {
            // No alias: Eden writes one only when it differs from the table's short name.
            xml += this.recordXml(component, exported, pending, { components: true });
          }
        }
      }
    }
    return `${xml}</resource>`;
  }

  /** The /sync/sync.xml export: deleted records always included (the controller sets include_deleted). */
  exportXml(table: string, msince: string | undefined, filters: Record<string, string>): { xml: string; masters: number } {
    const masters = this.all(table)
      .filter((record) => !record.parent)
      .filter((record) => msince === undefined || record.modified_on >= msince)
      .filter((record) => Object.entries(filters).every(([field, value]) => record.deleted || record.fields[field]?.text === value || record.fields[field]?.value === value))
      .sort((a, b) => (a.modified_on < b.modified_on ? -1 : a.modified_on > b.modified_on ? 1 : a.id - b.id));
    const exported = new Set(masters.map((record) => `${record.table}/${record.uuid}`));
    let pending: EdenRecord[] = [];
    const parts: string[] = [];
    for (const record of masters) parts.push(this.recordXml(record, exported, pending, { components: true }));
    for (let depth = 1; depth <= MAX_DEPTH && pending.length > 0; depth++) {
      const level = pending;
      pending = [];
      for (const record of level) {
        const key = `${record.table}/${record.uuid}`;
        if (exported.has(key)) continue;
        exported.add(key);
        // Dereferenced records come without components (rcomponents defaults to none).
        parts.push(this.recordXml(record, exported, pending, { components: false }));
      }
    }
    const root = attributesXml({ success: masters.length > 0 ? 'true' : 'false', results: String(masters.length), domain: this.domain, url: this.baseUrl });
    return { xml: `<?xml version='1.0' encoding='utf-8'?>\n<s3xml${root}>${parts.join('')}</s3xml>`, masters: masters.length };
  }

  // Import (POST /sync/sync.xml)

  private importUid(uid: string): string {
    return uid.startsWith(`${this.domain}/`) ? uid.slice(this.domain.length + 1) : uid;
  }

  /**
   * Imports the target table's top-level elements, elements of other tables that they reference,
   * and components; `invalid` lets a test make Eden's validation reject an element.
   */
  importXml(table: string, root: XmlElement, invalid?: (element: XmlElement) => string | undefined): ImportReport {
    const report: ImportReport = { records: 0, created: [], updated: [], deleted: [], errors: [] };
    const resources = root.children.filter((child) => child.name === 'resource');
    const inDocument = new Map<string, XmlElement>();
    for (const element of resources) if (element.attributes.uuid) inDocument.set(this.importUid(element.attributes.uuid), element);
    const wanted = new Set<XmlElement>(resources.filter((element) => element.attributes.name === table));
    // Lookahead: elements of other tables are imported when something imported references them.
    let frontier = [...wanted];
    while (frontier.length > 0) {
      const next: XmlElement[] = [];
      for (const element of frontier) {
        for (const child of element.children) {
          if (child.name !== 'reference' || !child.attributes.uuid) continue;
          const target = inDocument.get(this.importUid(child.attributes.uuid));
          if (target && !wanted.has(target)) {
            wanted.add(target);
            next.push(target);
          }
        }
      }
      frontier = next;
    }
    // Referenced records first, so the references of the target's records resolve.
    const ordered = [...resources.filter((element) => wanted.has(element) && element.attributes.name !== table), ...resources.filter((element) => element.attributes.name === table)];
    for (const element of ordered) this.importElement(element, table, report, invalid, undefined, inDocument);
    return report;
  }

  private importElement(
    element: XmlElement,
    target: string,
    report: ImportReport,
    invalid: ((element: XmlElement) => string | undefined) | undefined,
    parent: { table: string; uuid: string } | undefined,
    inDocument: Map<string, XmlElement>,
  ): void {
    const table = element.attributes.name ?? '';
    const counts = table === target && !parent;
    const rawUuid = element.attributes.uuid;
    const uuid = rawUuid ? this.importUid(rawUuid) : `urn:uuid:${randomUUID()}`;
    const problem = invalid?.(element);
    if (problem) {
      report.errors.push(`(UID: ${uuid}) ${table}: ${problem}`);
      return;
    }
    const mtime = readTimestamp(element.attributes.modified_on) ?? this.now();
    const original = this.get(table, uuid);
    const deleted = /^true$/i.test(element.attributes.deleted ?? '');
    if (deleted) {
      if (counts) report.records += 1;
      if (!original || original.deleted) return;
      if (original.modified_on > mtime) return;
      const replacedBy = element.attributes.replaced_by;
      if (replacedBy) this.merge(table, uuid, this.importUid(replacedBy), mtime);
      else this.remove(table, uuid, mtime);
      report.deleted.push(original.id);
      return;
    }
    const fields: Record<string, EdenField> = {};
    const references: Record<string, { table: string; uuid: string }> = {};
    for (const child of element.children) {
      const field = child.attributes.field;
      if (child.name === 'data' && field) {
        fields[field] = { ...(child.attributes.value === undefined ? {} : { value: child.attributes.value }), text: child.text };
      } else if (child.name === 'reference' && field && child.attributes.uuid && child.attributes.resource) {
        const referenced = this.importUid(child.attributes.uuid);
        // Resolved in the document, then in the store; otherwise dropped without a word.
        if (inDocument.has(referenced) || this.findByUuid(referenced)) references[field] = { table: child.attributes.resource, uuid: referenced };
      }
    }
    if (counts) report.records += 1;
    if (original) {
      // NEWER: the item is applied unless the local version is newer.
      if (original.modified_on > mtime) return;
      Object.assign(original.fields, fields);
      Object.assign(original.references, references);
      original.modified_on = mtime;
      original.deleted = false;
      delete original.replaced_by;
      if (element.attributes.modified_by) original.modified_by = element.attributes.modified_by;
      report.updated.push(original.id);
    } else {
      const mci = Number(element.attributes.mci ?? '2');
      const record: EdenRecord = {
        id: this.nextId++,
        table,
        uuid,
        mci: Number.isInteger(mci) ? mci : 2,
        created_on: readTimestamp(element.attributes.created_on) ?? mtime,
        modified_on: mtime,
        ...(element.attributes.modified_by ? { modified_by: element.attributes.modified_by } : {}),
        deleted: false,
        fields,
        references,
        ...(parent ? { parent } : {}),
      };
      this.table(table).set(uuid, record);
      report.created.push(record.id);
    }
    for (const child of element.children) {
      if (child.name === 'resource') this.importElement(child, target, report, invalid, { table, uuid }, inDocument);
    }
  }
}
