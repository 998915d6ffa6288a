/**
 * fast-check arbitraries for realistic S3XML documents, shared by every round-trip test (codec,
 * stores, importer, exporter). Everything generated is what the parser itself would produce:
 * normalised timestamps, `deleted` only as `true`, no undefined-valued keys, unique field names
 * per resource, XML-legal characters only. So `parse(serialize(x))` must deep-equal `x`.
 *
 * Keep these stable: other suites depend on their shape. Add options rather than change defaults.
 */
import fc from 'fast-check';
import type { S3Data, S3Document, S3Reference, S3Resource } from '../../src/s3xml/model.js';

export interface ResourceArbitraryOptions {
  /** How deep components and inline resources nest below this resource (default 2). */
  maxNesting?: number;
  /** Most data fields per resource (default 6). */
  maxData?: number;
  /** Most references per resource (default 3). */
  maxReferences?: number;
  /** Most components per resource (default 2). */
  maxComponents?: number;
  /** Generate deleted stubs, with and without replaced_by (default true). */
  deletedStubs?: boolean;
  /** Generate `tuid`s on resources and references (default true; stores may want false). */
  tuids?: boolean;
  /** Generate references with an anonymous resource nested inside (default true). */
  inlineResources?: boolean;
  /** Restrict resource names, e.g. to the tables a store test has set up. */
  resourceNames?: readonly string[];
}

export interface DocumentArbitraryOptions extends ResourceArbitraryOptions {
  /** Most top-level resources (default 5). */
  maxResources?: number;
}

export const EDEN_TABLES = [
  'org_organisation',
  'org_office',
  'org_office_type',
  'org_sector',
  'org_facility',
  'gis_location',
  'med_hospital',
  'med_bed_capacity',
  'hms_hospital',
  'event_incident_report',
  'event_event_type',
  'irs_ireport',
  'pr_person',
  'pr_contact',
  'cap_alert',
  'cap_info',
  'cap_area',
  'project_project',
  'req_req',
  'inv_warehouse',
] as const;

const COMPONENT_ALIASES = ['branch', 'parent', 'tag', 'office', 'contact', 'status', 'bed_capacity', 'image'] as const;

const FIELD_NAMES = [
  'name', 'code', 'acronym', 'comments', 'obsolete', 'status', 'phone1', 'email', 'website',
  'lat', 'lon', 'gis_feature_type', 'level', 'addr_street', 'addr_postcode', 'beds_baseline',
  'beds_available', 'bed_type', 'facility_type', 'date', 'start_date', 'end_date', 'priority',
  'description', 'identifier', 'sender', 'msg_type', 'scope', 'urgency', 'severity', 'certainty',
  'value', 'tag', 'image', 'wkt', 'first_name', 'last_name', 'gender', 'age_group', 'verified',
] as const;

const REFERENCE_FIELDS = [
  ['location_id', 'gis_location'],
  ['organisation_id', 'org_organisation'],
  ['office_type_id', 'org_office_type'],
  ['sector_id', 'org_sector'],
  ['site_id', 'org_office'],
  ['event_type_id', 'event_event_type'],
  ['person_id', 'pr_person'],
  ['parent', 'gis_location'],
  ['alert_id', 'cap_alert'],
  ['info_id', 'cap_info'],
] as const;

const EXTRA_RESOURCE_ATTRIBUTES = ['created_by', 'modified_by', 'owned_by_user', 'owned_by_group', 'url', 'approved', 'llrepr'] as const;

/** Realistic fragments: several scripts, XML specials, astral characters, layout characters. */
const TEXT_FRAGMENTS = [
  'Pokhara', 'Field Office', 'Himal Relief', ' ', '  ', '\n', '\t', '\r\n', '\r',
  '<', '>', '&', '"', "'", ']]>', '&amp;', '<!--', '-->', '<![CDATA[', '<!DOCTYPE', '&#10;',
  'पोखरा', 'काठमाडौं', 'مكتب الإغاثة', 'Пожарная часть', '办公室', '病院', 'Ελλάδα', 'ትግራይ', 'ñandú',
  '🚑', '🏥', '\u{1F30A}', 'e\u0301', '\u00A0', '\u200B', '\uFFFD', '\u{10FFFD}',
];

const textFragment = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...TEXT_FRAGMENTS) },
  { weight: 1, arbitrary: fc.string({ unit: 'grapheme', maxLength: 6 }).map(stripNonXml) },
);

function stripNonXml(value: string): string {
  return value.replace(/[^\t\n\r\x20-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu, '');
}

/** Free text as people type it into Eden: any script, XML specials, line breaks, surrounding space. */
export function arbText(maxFragments = 6): fc.Arbitrary<string> {
  return fc.array(textFragment, { maxLength: maxFragments }).map((parts) => parts.join(''));
}

/** A printable text that is not blank (names, labels). */
export function arbLabel(): fc.Arbitrary<string> {
  return arbText(4).filter((text) => text.trim() !== '');
}

const uid = fc.oneof(
  { weight: 6, arbitrary: fc.uuid({ version: 4 }).map((uuid) => `urn:uuid:${uuid}`) },
  { weight: 1, arbitrary: fc.integer({ min: 1, max: 99999 }).map((n) => `urn:gw:facility:${n}`) },
  { weight: 1, arbitrary: fc.uuid().map((uuid) => `eden.example.org/${uuid}`) },
);

/** Eden UIDs: `urn:uuid:<uuid4>` mostly, plus gateway-made and domain-prefixed ones. */
export function arbUid(): fc.Arbitrary<string> {
  return uid;
}

export function arbTuid(): fc.Arbitrary<string> {
  return fc.tuple(fc.constantFrom('LOC', 'ORG', 'EVENTTYPE', 'PERSON'), fc.stringMatching(/^[A-Za-z0-9-]{1,12}$/))
    .map(([prefix, id]) => `${prefix}:${id}`);
}

/** `YYYY-MM-DDTHH:MM:SS`, UTC, between 2000 and 2035. */
export function arbEdenTimestamp(): fc.Arbitrary<string> {
  return fc.integer({ min: Date.UTC(2000, 0, 1) / 1000, max: Date.UTC(2035, 11, 31) / 1000 })
    .map((seconds) => new Date(seconds * 1000).toISOString().slice(0, 19));
}

/** Raw `value` attributes: canonical JSON, non-canonical JSON, JSON strings and bare strings. */
export function arbDataValue(): fc.Arbitrary<string> {
  return fc.oneof(
    fc.integer({ min: -1000, max: 100000 }).map(String),
    fc.double({ noNaN: true, noDefaultInfinity: true, min: -180, max: 180 }).map((n) => JSON.stringify(n)),
    fc.boolean().map(String),
    fc.constant('null'),
    arbLabel().map((label) => JSON.stringify(label)),
    fc.constantFrom('Actual', 'true ', '1.0', '[1, 2]', '{"a": 1}', '2024-03-05T16:40:02'),
    fc.array(fc.constantFrom('Geo', 'Met', 'Health', 'WASH'), { maxLength: 3 }).map((list) => JSON.stringify(list)),
    fc.array(fc.integer({ min: 0, max: 50 }), { maxLength: 4 }).map((list) => JSON.stringify(list)),
    fc.record({ en: arbLabel(), ne: arbLabel() }, { noNullPrototype: true }).map((object) => JSON.stringify(object)),
  );
}

function arbData(field: string): fc.Arbitrary<S3Data> {
  const upload = fc.record({
    url: fc.constantFrom('https://eden.example.org/eden/default/download/org_office.image.ab12.jpg', 'local'),
    filename: fc.constantFrom('front.jpg', 'façade "1".png', 'plan\tv2.pdf'),
  }, { noNullPrototype: true });
  // Uploads carry url/filename (and usually nothing else); other fields carry value and/or text.
  if (field === 'image') {
    return fc.record({ field: fc.constant(field), attributes: upload, text: arbText(2) }, { requiredKeys: ['field', 'attributes'], noNullPrototype: true });
  }
  return fc.record({ field: fc.constant(field), value: arbDataValue(), text: arbText() }, { requiredKeys: ['field'], noNullPrototype: true });
}

function arbReferenceAttributes(resource: string): fc.Arbitrary<Record<string, string> | undefined> {
  if (resource !== 'gis_location') return fc.constant(undefined);
  const coordinate = (max: number) => fc.double({ min: -max, max, noNaN: true }).map((n) => n.toFixed(4));
  return fc.option(fc.record({ lat: coordinate(90), lon: coordinate(180) }, { noNullPrototype: true }), { nil: undefined });
}

function arbExtraAttributes(): fc.Arbitrary<Record<string, string>> {
  const values: Record<(typeof EXTRA_RESOURCE_ATTRIBUTES)[number], fc.Arbitrary<string>> = {
    created_by: fc.constantFrom('admin@example.org', 'ops@example.org'),
    modified_by: fc.constantFrom('ops@example.org', 'field.worker@example.org'),
    owned_by_user: fc.constantFrom('admin@example.org'),
    owned_by_group: fc.constantFrom('Administrator', 'Staff "A"'),
    url: fc.integer({ min: 1, max: 999 }).map((id) => `https://eden.example.org/eden/org/office/${id}`),
    approved: fc.constantFrom('true', 'false'),
    llrepr: arbText(3),
  };
  return fc.shuffledSubarray([...EXTRA_RESOURCE_ATTRIBUTES], { maxLength: 4 }).chain((names) =>
    fc.tuple(...names.map((name) => values[name])).map((chosen) => {
      const attributes: Record<string, string> = {};
      names.forEach((name, index) => { attributes[name] = chosen[index]!; });
      return attributes;
    }));
}

function deletedStub(names: readonly string[]): fc.Arbitrary<S3Resource> {
  return fc.record({
    name: fc.constantFrom(...names),
    uuid: arbUid(),
    modified_on: arbEdenTimestamp(),
    replaced_by: fc.option(arbUid(), { nil: undefined }),
  }, { noNullPrototype: true }).map(({ name, uuid, modified_on, replaced_by }) => {
    const resource: S3Resource = { name, uuid, deleted: true, modified_on, attributes: {}, data: [], references: [], components: [] };
    if (replaced_by !== undefined) resource.replaced_by = replaced_by;
    return resource;
  });
}

/**
 * Builds every arbitrary for one set of options once; `chain` then only picks among them, which
 * keeps generation fast (building arbitraries inside `chain` costs milliseconds per sample).
 */
class ResourceArbitraries {
  private readonly dataByField = new Map<string, fc.Arbitrary<S3Data>>();
  private readonly resourcesByNesting = new Map<string, fc.Arbitrary<S3Resource>>();
  private readonly referencesByKey = new Map<string, fc.Arbitrary<S3Reference>>();
  private readonly extraAttributes = arbExtraAttributes();

  constructor(private readonly options: Required<ResourceArbitraryOptions>) {}

  data(field: string): fc.Arbitrary<S3Data> {
    let arbitrary = this.dataByField.get(field);
    if (arbitrary === undefined) {
      arbitrary = arbData(field);
      this.dataByField.set(field, arbitrary);
    }
    return arbitrary;
  }

  reference(pair: readonly [string, string], nesting: number): fc.Arbitrary<S3Reference> {
    const key = `${pair[0]}/${nesting}`;
    let arbitrary = this.referencesByKey.get(key);
    if (arbitrary === undefined) {
      arbitrary = this.buildReference(pair, nesting);
      this.referencesByKey.set(key, arbitrary);
    }
    return arbitrary;
  }

  resource(nesting: number, allowStub: boolean, names: readonly string[] = this.options.resourceNames): fc.Arbitrary<S3Resource> {
    const key = `${nesting}/${allowStub}/${names.join(',')}`;
    let arbitrary = this.resourcesByNesting.get(key);
    if (arbitrary === undefined) {
      arbitrary = this.buildResource(nesting, allowStub, names);
      this.resourcesByNesting.set(key, arbitrary);
    }
    return arbitrary;
  }

  private buildReference([field, resource]: readonly [string, string], nesting: number): fc.Arbitrary<S3Reference> {
    const uuidList = fc.array(arbUid(), { minLength: 1, maxLength: 3 }).map((uids) => JSON.stringify(uids));
    const byUuid = fc.record({
      uuid: fc.oneof({ weight: 4, arbitrary: arbUid() }, { weight: 1, arbitrary: uuidList }),
      text: arbText(),
      attributes: arbReferenceAttributes(resource),
    }, { requiredKeys: ['uuid'], noNullPrototype: true });
    const byTuid = fc.record({ tuid: arbTuid(), text: arbText() }, { requiredKeys: ['tuid'], noNullPrototype: true });
    const variants: fc.Arbitrary<Partial<S3Reference>>[] = [byUuid];
    if (this.options.tuids) variants.push(byTuid);
    if (this.options.inlineResources && nesting > 0) {
      // Inline resources are anonymous records of the referenced table, as HAVE and CAP imports make them.
      variants.push(this.resource(0, false, [resource]).map((inline) => ({ inline })));
    }
    return fc.oneof(...variants).map((parts) => {
      const reference: S3Reference = { field, resource };
      if (parts.uuid !== undefined) reference.uuid = parts.uuid;
      if (parts.tuid !== undefined) reference.tuid = parts.tuid;
      if (parts.attributes !== undefined) reference.attributes = parts.attributes;
      if (parts.text !== undefined) reference.text = parts.text;
      if (parts.inline !== undefined) reference.inline = parts.inline;
      return reference;
    });
  }

  private buildResource(nesting: number, allowStub: boolean, names: readonly string[]): fc.Arbitrary<S3Resource> {
    const options = this.options;
    const head = fc.record({
      name: fc.constantFrom(...names),
      uuid: arbUid(),
      tuid: arbTuid(),
      mci: fc.integer({ min: 0, max: 5 }),
      created_on: arbEdenTimestamp(),
      modified_on: arbEdenTimestamp(),
    }, { requiredKeys: ['name'], noNullPrototype: true }).map((record) => {
      if (!options.tuids) delete record.tuid;
      return record;
    });
    const data = fc.uniqueArray(fc.constantFrom(...FIELD_NAMES), { maxLength: options.maxData })
      .chain((fields) => fc.tuple(...fields.map((field) => this.data(field))));
    const references = fc.uniqueArray(fc.constantFrom(...REFERENCE_FIELDS), { maxLength: options.maxReferences, selector: ([field]) => field })
      .chain((pairs) => fc.tuple(...pairs.map((pair) => this.reference(pair, nesting))));
    const components = nesting > 0
      ? fc.array(
        fc.tuple(this.resource(nesting - 1, false), fc.option(fc.constantFrom(...COMPONENT_ALIASES), { nil: undefined }))
          .map(([component, alias]) => (alias === undefined ? component : { ...component, alias })),
        { maxLength: options.maxComponents },
      )
      : fc.constant(undefined).map((): S3Resource[] => []);
    const full = fc.tuple(head, this.extraAttributes, data, references, components).map(
      ([typed, attributes, dataList, referenceList, componentList]): S3Resource => ({
        ...typed,
        attributes: { ...attributes },
        data: dataList,
        references: referenceList,
        components: componentList,
      }),
    );
    if (!allowStub || !options.deletedStubs) return full;
    return fc.oneof({ weight: 5, arbitrary: full }, { weight: 1, arbitrary: deletedStub(names) });
  }
}

function withDefaults(options: ResourceArbitraryOptions): Required<ResourceArbitraryOptions> {
  return {
    maxNesting: options.maxNesting ?? 2,
    maxData: options.maxData ?? 6,
    maxReferences: options.maxReferences ?? 3,
    maxComponents: options.maxComponents ?? 2,
    deletedStubs: options.deletedStubs ?? true,
    tuids: options.tuids ?? true,
    inlineResources: options.inlineResources ?? true,
    resourceNames: options.resourceNames ?? EDEN_TABLES,
  };
}

/** One record with its components (and, now and then, a deleted stub instead). */
export function arbResource(options: ResourceArbitraryOptions = {}): fc.Arbitrary<S3Resource> {
  const resolved = withDefaults(options);
  return new ResourceArbitraries(resolved).resource(resolved.maxNesting, true);
}

/** Root attributes as Eden writes them on a pull response. */
export function arbRootAttributes(): fc.Arbitrary<Record<string, string>> {
  return fc.record({
    success: fc.constantFrom('true', 'false'),
    results: fc.integer({ min: 0, max: 500 }).map(String),
    domain: fc.constantFrom('eden.example.org', 'localhost'),
    url: fc.constantFrom('https://eden.example.org/eden', 'http://127.0.0.1:8000/eden'),
  }, { requiredKeys: [], noNullPrototype: true });
}

export function arbDocument(options: DocumentArbitraryOptions = {}): fc.Arbitrary<S3Document> {
  return fc.record({
    attributes: arbRootAttributes(),
    resources: fc.array(arbResource(options), { maxLength: options.maxResources ?? 5 }),
  }, { noNullPrototype: true });
}
