/**
 * Which reference field of a component holds its master's key (Eden's `joinby`). Eden leaves the
 * join key out of a nested component and fills it on import (reference §1.5), so the store keeps a
 * nested component with a `parent` link and without that reference. Eden also exports every row of
 * a table on its own, with the key (`/org/office.xml` → `<reference field="organisation_id" …>`):
 * a component sent as a master of its own table must carry the key again, and one that comes back
 * that way must be recognised as the component it is. Shared by the exporter and the importer.
 *
 * The field is known, first match wins:
 * 1. from the record itself, when it carries a reference to its own master (some import
 *    stylesheets write one in nested components too, e.g. CAP's `info_id`);
 * 2. from Eden's declarations for the components Sluice commonly carries (`EDEN_JOIN_FIELDS`);
 * 3. from the store: top-level records of the same table that reference the master's table under
 *    one field only (one query per table, remembered for the run).
 * Otherwise it is unknown, and the component travels as a master without the key.
 */
import type { S3Reference } from '../s3xml/model.js';
import type { ParentLink, RecordAccess } from '../store/store.js';

/**
 * Join keys of the components Sluice's demo data and import stylesheets nest without one (HAVE:
 * hospital components; CAP: everything under the alert; orgs: offices), keyed `master>component`.
 * `org_office.organisation_id` is reference §1.11 A; the others follow Eden's rule for a join key,
 * the master's short name + `_id`, except `org_site_tag`, which joins on the super-entity key
 * `site_id` (a super-entity reference names the instance table, §1.4). Aliased components
 * (`org_organisation_branch` as `branch` / `parent`) join on different keys and are not listed.
 */
const EDEN_JOIN_FIELDS: ReadonlyMap<string, string> = new Map([
  ['org_organisation>org_office', 'organisation_id'],
  ['med_hospital>med_hospital_status', 'hospital_id'],
  ['med_hospital>med_bed_capacity', 'hospital_id'],
  ['med_hospital>med_hospital_services', 'hospital_id'],
  ['med_hospital>med_hospital_activity', 'hospital_id'],
  ['med_hospital>org_site_tag', 'site_id'],
  ['cap_alert>cap_info', 'alert_id'],
  ['cap_alert>cap_info_parameter', 'alert_id'],
  ['cap_alert>cap_resource', 'alert_id'],
  ['cap_alert>cap_area', 'alert_id'],
  ['cap_alert>cap_area_location', 'alert_id'],
  ['cap_alert>cap_area_tag', 'alert_id'],
]);

/** Top-level records read to learn a table's references (enough to see a pattern, cheap to read). */
const SAMPLE_SIZE = 100;

/** The single-valued reference to exactly this record, if there is one. */
export function referenceTo(references: readonly S3Reference[], target: { resource: string; uuid: string }): S3Reference | undefined {
  return references.find((reference) => reference.resource === target.resource && singleUuid(reference) === target.uuid);
}

/** The one uuid a reference names, or undefined for list references, tuids and empty ones. */
export function singleUuid(reference: S3Reference): string | undefined {
  const raw = reference.uuid?.trim();
  return raw === undefined || raw === '' || raw.startsWith('[') ? undefined : raw;
}

export class JoinFields {
  /** component table → referenced table → the fields its top-level records use for it. */
  private readonly learned = new Map<string, Promise<Map<string, Set<string>>>>();

  constructor(private readonly access: RecordAccess) {}

  /**
   * The join field of a record of `component` under `parent`, given the record's own references
   * (rule 1), or undefined when it cannot be known.
   */
  async fieldOf(component: string, parent: ParentLink, references: readonly S3Reference[], access?: RecordAccess): Promise<string | undefined> {
    const own = referenceTo(references, parent);
    if (own) return own.field;
    if (parent.alias === undefined) {
      const declared = EDEN_JOIN_FIELDS.get(`${parent.resource}>${component}`);
      if (declared !== undefined) return declared;
    }
    const fields = (await this.topLevelReferences(component, access)).get(parent.resource);
    return fields?.size === 1 ? [...fields][0] : undefined;
  }

  /**
   * Fields that may hold a join key of `component` that is not stored (so a store-side filter on
   * them cannot judge a component): declared and learned ones, and any `…_id` (Eden's FK names).
   */
  async mayBeImplied(component: string, field: string, access?: RecordAccess): Promise<boolean> {
    if (field.endsWith('_id')) return true;
    for (const [key, declared] of EDEN_JOIN_FIELDS) if (key.endsWith(`>${component}`) && declared === field) return true;
    for (const fields of (await this.topLevelReferences(component, access)).values()) if (fields.has(field)) return true;
    return false;
  }

  private topLevelReferences(component: string, access: RecordAccess | undefined): Promise<Map<string, Set<string>>> {
    let found = this.learned.get(component);
    if (!found) {
      found = this.readTopLevelReferences(component, access ?? this.access);
      this.learned.set(component, found);
    }
    return found;
  }

  private async readTopLevelReferences(component: string, access: RecordAccess): Promise<Map<string, Set<string>>> {
    const byTable = new Map<string, Set<string>>();
    for (const record of await access.queryRecords({ resource: component, topLevelOnly: true, limit: SAMPLE_SIZE })) {
      for (const reference of record.references) {
        if (singleUuid(reference) === undefined) continue;
        let fields = byTable.get(reference.resource);
        if (!fields) {
          fields = new Set();
          byTable.set(reference.resource, fields);
        }
        fields.add(reference.field);
      }
    }
    return byTable;
  }
}
