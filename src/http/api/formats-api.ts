/**
 * `GET /api/formats`: the formats the Eden-style URLs speak (`/<prefix>/<name>.<extension>`), in
 * which directions, for which tables, and whether the official XSDs their documents must pass are
 * installed. UNSUPPORTED_FORMAT answers point here.
 */
import { listFormats, type FormatDeclaration } from '../../formats/registry.js';
import { STANDARDS_FIX, type SchemaAvailability } from '../../formats/xsd.js';
import type { ApiRegistry, JsonSchema } from './schema-registry.js';
import { PREVIEW_ROUTE_SPEC } from '../preview-route.js';

export interface FormatApiDeps {
  /** Usually the XSD validator's `availability()`. */
  schemaAvailability: () => Promise<SchemaAvailability>;
}

export interface FormatView {
  name: string;
  label: string;
  extension: string;
  mediaTypes: string[];
  import: boolean;
  export: boolean;
  /** Tables the format is written for; absent when any table works. */
  resources?: string[];
  /** A URL to try it on. */
  example: string;
  /** `available` / `unavailable` when the official XSDs gate this format; `not-needed` otherwise. */
  validation: 'available' | 'unavailable' | 'not-needed';
}

export interface FormatsReply {
  /** Answered by the Eden REST interface itself, for every table. */
  native: { extension: string; label: string }[];
  formats: FormatView[];
  validation: SchemaAvailability & { formats: string[]; fix?: string };
}

const NATIVE = [
  { extension: 'xml', label: 'S3XML (Eden native XML)' },
  { extension: 's3json', label: 'S3JSON (Eden native JSON)' },
];

function exampleUrl(format: FormatDeclaration): string {
  const table = format.resources?.[0] ?? 'org_office';
  const cut = table.indexOf('_');
  return `/${table.slice(0, cut)}/${table.slice(cut + 1)}.${format.extension}`;
}

export function describeFormats(availability: SchemaAvailability): FormatsReply {
  const gated = listFormats().filter((format) => format.xsd?.inbound || format.xsd?.outbound);
  return {
    native: NATIVE,
    formats: listFormats().map((format) => ({
      name: format.name,
      label: format.label,
      extension: format.extension,
      mediaTypes: [...format.mediaTypes],
      import: format.importStylesheet !== undefined,
      export: format.exportStylesheet !== undefined,
      ...(format.resources ? { resources: [...format.resources] } : {}),
      example: exampleUrl(format),
      validation: !(format.xsd?.inbound || format.xsd?.outbound) ? 'not-needed' : availability.available ? 'available' : 'unavailable',
    })),
    validation: {
      ...availability,
      formats: gated.map((format) => format.name),
      ...(availability.available ? {} : { fix: STANDARDS_FIX }),
    },
  };
}

const FORMATS_RESPONSE: JsonSchema = {
  type: 'object',
  required: ['native', 'formats', 'validation'],
  properties: {
    native: { type: 'array', items: { type: 'object', properties: { extension: { type: 'string' }, label: { type: 'string' } } } },
    formats: {
      type: 'array',
      items: {
        type: 'object',
        required: ['name', 'label', 'extension', 'mediaTypes', 'import', 'export', 'example', 'validation'],
        properties: {
          name: { type: 'string' },
          label: { type: 'string' },
          extension: { type: 'string' },
          mediaTypes: { type: 'array', items: { type: 'string' } },
          import: { type: 'boolean' },
          export: { type: 'boolean' },
          resources: { type: 'array', items: { type: 'string' } },
          example: { type: 'string' },
          validation: { enum: ['available', 'unavailable', 'not-needed'] },
        },
      },
    },
    validation: {
      type: 'object',
      required: ['available', 'standardsDir', 'missing', 'formats'],
      properties: {
        available: { type: 'boolean', description: 'false: CAP, HAVE and DE documents are refused (503 XSD_SCHEMAS_MISSING)' },
        standardsDir: { type: 'string' },
        missing: { type: 'array', items: { type: 'string' } },
        formats: { type: 'array', items: { type: 'string' } },
        fix: { type: 'string' },
      },
    },
  },
};

export function registerFormatRoutes(api: ApiRegistry, deps: FormatApiDeps): void {
  // Served by preview-route.ts (its own body limit and statuses); listed here for /api/openapi.json.
  api.document(PREVIEW_ROUTE_SPEC);
  api.route(
    { method: 'get', path: '/api/formats', summary: 'Formats, their URLs, and whether XSD validation is available', roles: [], response: FORMATS_RESPONSE, tag: 'formats' },
    async (_req, res) => {
      res.json(describeFormats(await deps.schemaAvailability()));
    },
  );
}
