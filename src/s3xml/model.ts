/**
 * The in-memory shape of S3XML (reference/eden-sync-and-s3xml.md §1). It keeps everything a round
 * trip needs: raw `value` attributes (still JSON-encoded), label texts, unknown attributes, the
 * order of children. Nothing here touches the network, the disk or the clock.
 */

/** `<data field="…" value="…">text</data>` */
export interface S3Data {
  field: string;
  /** The raw `value` attribute, still JSON-encoded as on the wire; absent when the element had none. */
  value?: string;
  /** The text content (Eden's representation/label); absent when the element had no text. */
  text?: string;
  /** Any other attributes (uploads carry `url` and `filename`). */
  attributes?: Record<string, string>;
}

/** `<reference field="…" resource="…" uuid="…"|tuid="…">text</reference>` */
export interface S3Reference {
  field: string;
  /** The referenced table (instance table for super-entity keys). */
  resource: string;
  /** The raw `uuid` attribute: one uid, or a JSON list of uids for list:reference fields. */
  uuid?: string;
  /** In-document temporary id; only meaningful inside one import document. */
  tuid?: string;
  text?: string;
  /** Other attributes such as `lat`, `lon`, `address`, `postcode`. */
  attributes?: Record<string, string>;
  /** An anonymous `<resource>` nested inside the reference (HAVE and CAP imports use them). */
  inline?: S3Resource;
}

/** `<resource name="prefix_table" …>` */
export interface S3Resource {
  name: string;
  uuid?: string;
  tuid?: string;
  alias?: string;
  /** As on the wire: exported mci = local mci + 1. */
  mci?: number;
  /** Normalised Eden timestamps (`YYYY-MM-DDTHH:MM:SS`, UTC). */
  created_on?: string;
  modified_on?: string;
  deleted?: boolean;
  replaced_by?: string;
  /** Every other attribute, verbatim (created_by, modified_by, owned_by_user, url, approved, …). */
  attributes: Record<string, string>;
  data: S3Data[];
  references: S3Reference[];
  components: S3Resource[];
}

/** A whole S3XML document: the root's attributes and its top-level resources. */
export interface S3Document {
  attributes: Record<string, string>;
  resources: S3Resource[];
}

/** The attributes of `<resource>` that have typed places in S3Resource. */
export const RESOURCE_KNOWN_ATTRIBUTES = [
  'name',
  'uuid',
  'tuid',
  'alias',
  'mci',
  'created_on',
  'modified_on',
  'deleted',
  'replaced_by',
] as const;

/** A scalar the stores can compare and index: the decoded machine value of a field. */
export type FieldValue = string | number | boolean | null | FieldValue[];

/**
 * The effective machine value of a `<data>` element, as Eden's importer sees it: the JSON-decoded
 * `value` attribute when present (a bare string that is not JSON stays a string), else the text.
 */
export function dataValue(data: S3Data): FieldValue {
  if (data.value !== undefined) {
    try {
      const decoded: unknown = JSON.parse(data.value);
      if (decoded !== null && typeof decoded === 'object' && !Array.isArray(decoded)) {
        return JSON.stringify(decoded);
      }
      return decoded as FieldValue;
    } catch {
      return data.value;
    }
  }
  return data.text ?? null;
}

/** The uids a reference points at (a JSON list for list:reference fields, else one). */
export function referenceUuids(ref: S3Reference): string[] {
  if (ref.uuid === undefined) return [];
  const raw = ref.uuid.trim();
  if (raw.startsWith('[')) {
    try {
      const list: unknown = JSON.parse(raw);
      if (Array.isArray(list)) return list.map(String);
    } catch {
      // fall through: treat as a single uid
    }
  }
  return [raw];
}

export function emptyResource(name: string): S3Resource {
  return { name, attributes: {}, data: [], references: [], components: [] };
}
