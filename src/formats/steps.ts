/**
 * The TypeScript steps a format may name around its stylesheets (registry.ts `decode`/`encode`),
 * for the work XSLT is the wrong tool for: reading CSV and XLSX, writing them, and handing JSON to
 * XSLT 3 as text. Each step is bytes-or-text in, bytes-or-text out; none touches disk or network.
 */
import { SluiceError } from '../errors.js';
import { csvToTableXml, decodeCsvBytes, tableXmlToCsv } from './csv.js';
import { escapeText } from './table-xml.js';
import { tableXmlToXlsx, xlsxToTableXml } from './xlsx.js';

export type StepName = 'csv-decode' | 'csv-encode' | 'xlsx-decode' | 'xlsx-encode' | 'json-wrap' | 's3json-decode' | 's3json-encode';

export type StepData = string | Uint8Array;

export interface StepContext {
  /** The resource being imported or exported (`org_office`); names the CSV/XLSX table. */
  resource?: string;
  /** CSV export: start with a BOM for Excel. */
  bom?: boolean;
  /** XLSX import: the worksheet to read. */
  sheet?: string;
}

export type Step = (input: StepData, context: StepContext) => Promise<StepData>;

/** The S3JSON codec (src/s3xml/s3json.ts) is passed in by the composition root. */
export interface S3JsonCodec {
  jsonToXml(json: string): string | Promise<string>;
  xmlToJson(xml: string): string | Promise<string>;
}

export interface FormatStepsDependencies {
  s3json?: S3JsonCodec;
}

export function createFormatSteps(dependencies: FormatStepsDependencies = {}): Record<StepName, Step> {
  const s3json = (): S3JsonCodec => {
    if (!dependencies.s3json) {
      throw new SluiceError('STEP_NOT_AVAILABLE', 'No S3JSON codec was given to the format steps', {
        status: 500,
        fix: 'Pass the S3JSON codec from src/s3xml/s3json.ts to createFormatSteps()',
      });
    }
    return dependencies.s3json;
  };
  return {
    'csv-decode': async (input, context) => csvToTableXml(input, { tableName: context.resource ?? '' }),
    'csv-encode': async (input, context) => tableXmlToCsv(asText(input), { bom: context.bom ?? false }),
    'xlsx-decode': async (input, context) =>
      xlsxToTableXml(asBytes(input), { tableName: context.resource ?? '', ...(context.sheet ? { sheet: context.sheet } : {}) }),
    'xlsx-encode': async (input) => tableXmlToXlsx(asText(input)),
    'json-wrap': async (input) => wrapJson(asText(input)),
    's3json-decode': async (input) => s3json().jsonToXml(asText(input)),
    's3json-encode': async (input) => s3json().xmlToJson(asText(input)),
  };
}

/**
 * JSON enters XSLT 3 as text: `<json>…</json>`, read by the stylesheet with parse-json() or
 * json-to-xml(). The JSON is checked here, so a stylesheet never sees malformed input.
 */
export function wrapJson(text: string): string {
  const json = text.replace(/^\uFEFF/, '');
  try {
    JSON.parse(json);
  } catch (error) {
    throw new SluiceError('JSON_INVALID', `The JSON document cannot be read: ${(error as Error).message}`, {
      status: 422,
      cause: error,
      fix: 'Send well-formed JSON (UTF-8)',
    });
  }
  return `<json>${escapeText(json)}</json>`;
}

function asText(input: StepData): string {
  return typeof input === 'string' ? input : decodeCsvBytes(input);
}

function asBytes(input: StepData): Uint8Array {
  return typeof input === 'string' ? new TextEncoder().encode(input) : input;
}
