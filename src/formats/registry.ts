/**
 * The external formats Sluice converts to and from, as declared data (DESIGN §1): what a format
 * is called, how it travels (extension, media types), which stylesheets convert it (paths under
 * stylesheets/), which TypeScript steps run around the XSLT where XSLT is the wrong tool, and
 * whether the documents it produces must pass the official XSDs.
 *
 * Routes like `GET /cap/alert.cap` or `POST /<prefix>/<name>.csv` look a format up here by
 * extension, then run: decode step → import stylesheet → (instance mapping) → importer, or
 * exporter → (instance mapping) → export stylesheet → encode step.
 */
import { SluiceError } from '../errors.js';
import type { StepName } from './steps.js';

export type FormatName = 'cap' | 'cap-atom' | 'have' | 'de' | 'csv' | 'xlsx' | 's3json' | 'geojson' | 'osm';

/**
 * `document`: the stylesheet needs the whole document at once (a CAP feed becomes one DE
 * envelope, a GeoJSON FeatureCollection gathers every record). `record`: every output record
 * depends only on its own input record (and the records it references), so the engine may split
 * a large input into chunks and run them separately.
 */
export type StylesheetScope = 'document' | 'record';

export interface ResourceName {
  prefix: string;
  name: string;
}

export interface FormatDeclaration {
  name: FormatName;
  label: string;
  /** URL extension, as in `/cap/alert.cap`. */
  extension: string;
  /** The first one is sent in Content-Type; all are accepted on input. */
  mediaTypes: readonly string[];
  /** `true` when the wire form is bytes rather than text (XLSX). */
  binary: boolean;
  /**
   * Import/export stylesheet paths relative to stylesheets/. `{prefix}` and `{name}` are filled
   * in for per-resource stylesheets (CSV column maps); see `stylesheetPath()`.
   */
  importStylesheet?: string;
  exportStylesheet?: string;
  /** Step that turns the received bytes into the XML the import stylesheet reads. */
  decode?: StepName;
  /**
   * The import stylesheet reads JSON: either as `<json>` text from the `json-wrap` step, or
   * as the `$json` parameter from xsl:initial-template (the transform engine's jsonInput mode).
   */
  jsonImport?: boolean;
  /** Step that turns the export stylesheet's output into the bytes sent. */
  encode?: StepName;
  importScope: StylesheetScope;
  exportScope: StylesheetScope;
  /** Check inbound documents / outbound results against the official XSDs (see validate.ts). */
  xsd?: { inbound: boolean; outbound: boolean };
  /** Formats whose exports this one carries for their own tables (EDXL-DE wraps CAP and HAVE). */
  wraps?: readonly FormatName[];
  /** The S3 resources the stylesheets are written for; undefined means any resource. */
  resources?: readonly string[];
}

const FORMATS: readonly FormatDeclaration[] = [
  {
    name: 'cap',
    label: 'CAP 1.2 (Common Alerting Protocol)',
    extension: 'cap',
    mediaTypes: ['application/cap+xml', 'application/xml', 'text/xml'],
    binary: false,
    importStylesheet: 'cap/import.xsl',
    exportStylesheet: 'cap/export.xsl',
    importScope: 'record',
    // One alert is an <alert>, several become one EDXL-DE envelope.
    exportScope: 'document',
    xsd: { inbound: true, outbound: true },
    resources: ['cap_alert'],
  },
  {
    name: 'cap-atom',
    label: 'Atom index of current CAP alerts',
    extension: 'atom',
    mediaTypes: ['application/atom+xml'],
    binary: false,
    exportStylesheet: 'cap/atom.xsl',
    importScope: 'document',
    exportScope: 'document',
    resources: ['cap_alert'],
  },
  {
    name: 'have',
    label: 'EDXL-HAVE 1.0 (hospital availability)',
    extension: 'have',
    mediaTypes: ['application/edxl-have+xml', 'application/xml', 'text/xml'],
    binary: false,
    importStylesheet: 'have/import.xsl',
    exportStylesheet: 'have/export.xsl',
    importScope: 'record',
    exportScope: 'document',
    xsd: { inbound: true, outbound: true },
    resources: ['med_hospital', 'hms_hospital'],
  },
  {
    name: 'de',
    label: 'EDXL-DE 1.0 (distribution envelope)',
    extension: 'de',
    mediaTypes: ['application/edxl-de+xml', 'application/xml', 'text/xml'],
    binary: false,
    importStylesheet: 'de/import.xsl',
    // Tables that CAP or HAVE is written for travel as that payload (the converter runs their
    // export first, see `wraps`); any other table travels as its S3XML in a namespaced wrapper.
    exportStylesheet: 'de/export.xsl',
    importScope: 'document',
    exportScope: 'document',
    xsd: { inbound: true, outbound: true },
    wraps: ['cap', 'have'],
  },
  {
    name: 'csv',
    label: 'CSV (Eden s3csv columns)',
    extension: 'csv',
    mediaTypes: ['text/csv', 'application/csv'],
    binary: false,
    importStylesheet: 'csv/{prefix}/{name}.xsl',
    exportStylesheet: 'csv/{prefix}/{name}.export.xsl',
    decode: 'csv-decode',
    encode: 'csv-encode',
    importScope: 'record',
    exportScope: 'record',
  },
  {
    name: 'xlsx',
    label: 'Excel workbook (Eden s3csv columns)',
    extension: 'xlsx',
    mediaTypes: ['application/vnd.openxmlformats-officedocument.spreadsheetml.sheet'],
    binary: true,
    importStylesheet: 'csv/{prefix}/{name}.xsl',
    exportStylesheet: 'csv/{prefix}/{name}.export.xsl',
    decode: 'xlsx-decode',
    encode: 'xlsx-encode',
    importScope: 'record',
    exportScope: 'record',
  },
  {
    name: 's3json',
    label: 'S3JSON (Eden native JSON)',
    extension: 's3json',
    mediaTypes: ['application/json'],
    binary: false,
    importStylesheet: 's3json/import.xsl',
    exportStylesheet: 's3json/export.xsl',
    decode: 's3json-decode',
    encode: 's3json-encode',
    importScope: 'record',
    exportScope: 'record',
  },
  {
    name: 'geojson',
    label: 'GeoJSON',
    extension: 'geojson',
    mediaTypes: ['application/geo+json', 'application/json'],
    binary: false,
    importStylesheet: 'geojson/import.xsl',
    exportStylesheet: 'geojson/export.xsl',
    decode: 'json-wrap',
    jsonImport: true,
    importScope: 'document',
    exportScope: 'document',
  },
  {
    name: 'osm',
    label: 'OpenStreetMap XML (points of interest)',
    extension: 'osm',
    mediaTypes: ['application/vnd.openstreetmap.data+xml', 'application/xml', 'text/xml'],
    binary: false,
    importStylesheet: 'osm/import.xsl',
    importScope: 'document',
    exportScope: 'document',
    resources: ['med_hospital', 'cr_shelter', 'org_office', 'gis_location'],
  },
];

/** The resources that ship CSV/XLSX column stylesheets (stylesheets/csv/<prefix>/<name>.xsl). */
export const CSV_RESOURCES: readonly string[] = [
  'org_organisation',
  'org_office',
  'gis_location',
  'med_hospital',
  'event_incident_report',
  'cap_alert',
];

export function listFormats(): readonly FormatDeclaration[] {
  return FORMATS;
}

export function findFormat(name: string): FormatDeclaration | undefined {
  return FORMATS.find((format) => format.name === name);
}

export function getFormat(name: string): FormatDeclaration {
  const format = findFormat(name);
  if (!format) {
    throw new SluiceError('FORMAT_UNKNOWN', `There is no format called "${name}"`, {
      status: 404,
      fix: `Use one of ${FORMATS.map((f) => f.name).join(', ')}`,
    });
  }
  return format;
}

/** `/cap/alert.cap` → the cap format; undefined for extensions Sluice handles itself (xml). */
export function formatForExtension(extension: string): FormatDeclaration | undefined {
  const wanted = extension.replace(/^\./, '').toLowerCase();
  return FORMATS.find((format) => format.extension === wanted);
}

/** The formats that accept a media type (parameters such as charset are ignored). */
export function formatsForMediaType(mediaType: string): FormatDeclaration[] {
  const wanted = mediaType.split(';')[0]?.trim().toLowerCase() ?? '';
  return FORMATS.filter((format) => format.mediaTypes.includes(wanted));
}

/**
 * The stylesheet path (relative to stylesheets/) for one direction, with `{prefix}`/`{name}`
 * filled in from the resource (`org_office` → prefix `org`, name `office`).
 */
export function stylesheetPath(
  format: FormatDeclaration,
  direction: 'import' | 'export',
  resource?: string | ResourceName,
): string {
  const template = direction === 'import' ? format.importStylesheet : format.exportStylesheet;
  if (!template) {
    throw new SluiceError('FORMAT_DIRECTION_UNSUPPORTED', `${format.label} cannot be used for ${direction}`, {
      status: 415,
      fix: `Use a format that supports ${direction}`,
    });
  }
  if (!template.includes('{')) return template;
  if (resource === undefined) {
    throw new SluiceError('FORMAT_NEEDS_RESOURCE', `${format.label} needs a resource name to pick its column stylesheet`, {
      status: 400,
      fix: 'Call the format on a resource URL such as /org/office.csv',
    });
  }
  const { prefix, name } = typeof resource === 'string' ? splitResourceName(resource) : resource;
  if (!/^[a-z][a-z0-9]*$/.test(prefix) || !/^[a-z][a-z0-9_]*$/.test(name)) {
    throw new SluiceError('FORMAT_BAD_RESOURCE', `"${prefix}_${name}" is not a valid resource name`, {
      status: 400,
      fix: 'Resource names are lower-case prefix_name, such as org_office',
    });
  }
  return template.replace('{prefix}', prefix).replace('{name}', name);
}

/**
 * Every entry stylesheet the registry names (relative to stylesheets/), CSV column stylesheets
 * included: what a build step compiles to SEF. Library modules they include are not listed.
 */
export function listStylesheetPaths(): string[] {
  const paths = new Set<string>();
  for (const format of FORMATS) {
    for (const direction of ['import', 'export'] as const) {
      const template = direction === 'import' ? format.importStylesheet : format.exportStylesheet;
      if (!template) continue;
      const resources = template.includes('{') ? CSV_RESOURCES : [undefined];
      for (const resource of resources) paths.add(stylesheetPath(format, direction, resource));
    }
  }
  return [...paths].sort();
}

export function splitResourceName(table: string): ResourceName {
  const cut = table.indexOf('_');
  if (cut <= 0 || cut === table.length - 1) {
    throw new SluiceError('FORMAT_BAD_RESOURCE', `"${table}" is not a prefix_name resource name`, {
      status: 400,
      fix: 'Resource names are lower-case prefix_name, such as org_office',
    });
  }
  return { prefix: table.slice(0, cut), name: table.slice(cut + 1) };
}
