import { existsSync } from 'node:fs';
import path from 'node:path';
import { Ajv } from 'ajv';
import express, { type Request, type Response, type Router } from 'express';
import { asSluiceError, SluiceError } from '../errors.js';
import type { ApiRouteSpec } from './api/schema-registry.js';
import { carriedFormat } from '../formats/convert.js';
import { CSV_RESOURCES, findFormat, stylesheetPath, type FormatDeclaration } from '../formats/registry.js';
import { createFormatSteps, type Step, type StepName } from '../formats/steps.js';
import { ushahidiImportInput } from '../formats/ushahidi-input.js';
import { parseS3XML } from '../s3xml/parse.js';
import { parseS3JSON, stringifyS3JSON } from '../s3xml/s3json.js';
import { serializeS3XML } from '../s3xml/serialize.js';
import type { StylesheetRef, TransformEngine, TransformResult } from '../transform/engine.js';

/**
 * `POST /api/preview`: run a format's stylesheet (or an uploaded one) and an optional instance
 * mapping over a sample input, and show everything an analyst needs before it goes live: the
 * output, its media type, the time taken, `xsl:message` output, compiler warnings, errors with
 * line/column, and, for XML outputs with a known schema, the validation result.
 *
 * Import direction: format import stylesheet, then the mapping. Export: the mapping, then the
 * format export stylesheet. Uploaded stylesheets and mappings run sandboxed.
 */

export interface PreviewDeps {
  engine: TransformEngine;
  stylesheetsDir: string;
  validate?: (xml: string, schema: string) => Promise<{ valid: boolean; errors: { line?: number; message: string }[] }>;
  /** The format steps (CSV/XLSX/S3JSON codecs); defaults to the standard ones. */
  steps?: Record<StepName, Step>;
}

export interface PreviewError {
  code: string;
  message: string;
  step: string;
  xsltCode?: string;
  module?: string;
  line?: number;
  column?: number;
}

export interface PreviewValidation {
  schema: string;
  /** False when the format has no official schema: nothing was checked, and that is not a fault. */
  checked: boolean;
  /** null when not checked. */
  valid: boolean | null;
  errors: { line?: number; message: string }[];
  note?: string;
}

export interface PreviewResponse {
  output: string | null;
  /** `base64` when the output is bytes (XLSX); absent for text. */
  outputEncoding?: 'base64';
  mediaType: string | null;
  durationMs: number;
  messages: string[];
  warnings: string[];
  errors: PreviewError[];
  steps: { step: string; durationMs: number }[];
  validation?: PreviewValidation;
}

/** What the preview says for a format without an official schema (API and console alike). */
export const NO_SCHEMA_NOTE = 'no schema to validate against';

/** The request body; also usable for the OpenAPI document. */
export const PREVIEW_BODY_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  required: ['direction', 'input'],
  properties: {
    format: { type: 'string', pattern: '^[A-Za-z0-9_-]+$', description: 'a format (cap, csv, s3json, ushahidi…) or a folder under stylesheets/' },
    stylesheet: { type: 'string', minLength: 1, description: 'uploaded XSLT text (runs sandboxed)' },
    direction: { enum: ['import', 'export'] },
    mapping: { type: 'string', minLength: 1, description: 'instance mapping XSLT text (runs sandboxed)' },
    resource: { type: 'string', pattern: '^[a-z][a-z0-9]*_[a-z0-9_]+$', description: 'the table (CSV/XLSX column stylesheets); read from the input on export' },
    input: { type: 'string' },
    params: { type: 'object', additionalProperties: { type: 'string' } },
  },
} as const;

/** The answer's shape, for the OpenAPI document. */
export const PREVIEW_RESPONSE_SCHEMA = {
  type: 'object',
  required: ['output', 'mediaType', 'durationMs', 'messages', 'warnings', 'errors', 'steps'],
  properties: {
    output: { type: ['string', 'null'] },
    outputEncoding: { enum: ['base64'] },
    mediaType: { type: ['string', 'null'] },
    durationMs: { type: 'number' },
    messages: { type: 'array', items: { type: 'string' } },
    warnings: { type: 'array', items: { type: 'string' } },
    errors: {
      type: 'array',
      items: {
        type: 'object',
        required: ['code', 'message', 'step'],
        properties: {
          code: { type: 'string' },
          message: { type: 'string' },
          step: { type: 'string' },
          xsltCode: { type: 'string' },
          module: { type: 'string' },
          line: { type: 'integer', description: '1-based' },
          column: { type: 'integer', description: '1-based' },
        },
      },
    },
    steps: { type: 'array', items: { type: 'object', properties: { step: { type: 'string' }, durationMs: { type: 'number' } } } },
    validation: {
      type: 'object',
      properties: {
        schema: { type: 'string' },
        checked: { type: 'boolean' },
        valid: { type: ['boolean', 'null'] },
        errors: { type: 'array', items: { type: 'object', properties: { line: { type: 'integer' }, message: { type: 'string' } } } },
        note: { type: 'string' },
      },
    },
  },
} as const;

/** How /api/openapi.json describes the route. */
export const PREVIEW_ROUTE_SPEC = {
  method: 'post',
  path: '/api/preview',
  summary: 'Run a format\'s stylesheet (or an uploaded one) and an optional instance mapping over a sample input',
  roles: ['analyst', 'integrator'],
  body: PREVIEW_BODY_SCHEMA,
  response: PREVIEW_RESPONSE_SCHEMA,
  tag: 'formats',
} satisfies ApiRouteSpec;

interface PreviewBody {
  format?: string;
  stylesheet?: string;
  direction: 'import' | 'export';
  mapping?: string;
  resource?: string;
  input: string;
  params?: Record<string, string>;
}

const ajv = new Ajv({ allErrors: true, strict: false });
const validateBody = ajv.compile<PreviewBody>(PREVIEW_BODY_SCHEMA);

function badRequest(message: string, fix: string): SluiceError {
  return new SluiceError('BAD_PREVIEW_REQUEST', message, { status: 400, fix });
}

/** Who wrote the stylesheet a step runs, in the analyst's words (never a server path). */
const AUTHOR_OF_STEP: Record<string, string> = { stylesheet: 'your stylesheet', mapping: 'the instance mapping' };

function previewError(error: unknown, step: string): PreviewError {
  const failure = asSluiceError(error);
  const details = failure.details;
  const entry: PreviewError = { code: failure.code, message: failure.message, step };
  if (typeof details['xsltCode'] === 'string') entry.xsltCode = details['xsltCode'];
  // Shipped stylesheets are named relative to stylesheets/ (`stylesheet`), others by their path.
  const module = details['module'] ?? details['stylesheet'];
  if (typeof details['line'] === 'number') entry.line = details['line'];
  if (typeof details['column'] === 'number') entry.column = details['column'];
  if (failure.code === 'XML_MALFORMED' && entry.line !== undefined) {
    // The XML parser counts lines from 0 in its message while the details are 1-based, as
    // editors count; the message is brought in line with the details so both say the same.
    const where = `line ${entry.line}${entry.column === undefined ? '' : `, column ${entry.column}`}`;
    entry.message = entry.message.replace(/\bline \d+(?:,? column \d+)?/, where);
  }
  const author = AUTHOR_OF_STEP[step];
  if (typeof module === 'string' && author && path.isAbsolute(module)) {
    // Uploaded text is compiled from a cache file; its path means nothing to the analyst.
    entry.module = author;
    const at = entry.line === undefined ? author : `${author}, line ${entry.line}`;
    entry.message = entry.message.split(`${module}${entry.line === undefined ? '' : `:${entry.line}`}`).join(at).split(module).join(author);
  } else if (typeof module === 'string') {
    entry.module = module;
  }
  return entry;
}

interface PreviewStep {
  name: string;
  stylesheet: StylesheetRef;
  jsonInput?: boolean;
}

/** How one preview runs: the stylesheets in order, and the TypeScript steps around them. */
interface PreviewPlan {
  steps: PreviewStep[];
  /** A registry format (cap, csv, s3json…); undefined for bare stylesheet folders and uploads. */
  format?: FormatDeclaration;
  decode?: StepName;
  encode?: StepName;
  resource?: string;
  /** Turns the input into the `json` parameter (Ushahidi). */
  jsonInput?: (input: string, params: Record<string, string>) => { json: string; note: string };
}

const USHAHIDI = 'ushahidi';

/** Every table the input holds records of, in document order. */
export function tablesIn(s3xml: string): string[] {
  const found = new Set<string>();
  for (const match of s3xml.matchAll(/<resource\b[^>]*?\bname\s*=\s*["']([^"']+)["']/g)) if (match[1]) found.add(match[1]);
  return [...found];
}

function describeTables(tables: readonly string[]): string {
  return tables.length === 0 ? 'no records' : tables.join(', ');
}

function unknownFormat(body: PreviewBody): SluiceError {
  return new SluiceError('UNKNOWN_FORMAT', `there is no ${body.direction} stylesheet for the format "${body.format}"`, {
    status: 404,
    fix: 'Use a format that has stylesheets/<format>/<direction>.xsl',
  });
}

function formatPlan(body: PreviewBody & { format: string }, stylesheetsDir: string): PreviewPlan {
  const name = `${body.format} ${body.direction}`;
  if (body.format === USHAHIDI) {
    if (body.direction !== 'import') throw unknownFormat(body);
    return {
      steps: [{ name, stylesheet: { path: 'ushahidi/import.xsl' }, jsonInput: true }],
      jsonInput: (input, params) => {
        const read = ushahidiImportInput(input, { deployment: params['deployment'] ?? 'preview.invalid', timeZone: params['timezone'] ?? 'UTC' });
        const deploymentNote = read.readAs === 'import document' || params['deployment'] ? '' : '; record uuids use the deployment "preview.invalid" (set the deployment parameter to see real ones)';
        return { json: read.json, note: `read as a ${read.readAs} with ${read.posts} post${read.posts === 1 ? '' : 's'}${deploymentNote}` };
      },
    };
  }
  const format = findFormat(body.format);
  if (!format) {
    const relative = `${body.format}/${body.direction}.xsl`;
    if (!existsSync(path.join(stylesheetsDir, relative))) throw unknownFormat(body);
    return { steps: [{ name, stylesheet: { path: relative } }] };
  }
  const template = body.direction === 'import' ? format.importStylesheet : format.exportStylesheet;
  if (!template) throw unknownFormat(body);
  const resource = body.resource ?? (body.direction === 'export' ? tablesIn(body.input)[0] : undefined);
  if (template.includes('{') && resource !== undefined && !CSV_RESOURCES.includes(resource)) {
    throw new SluiceError('FORMAT_NO_COLUMNS', `${format.name.toUpperCase()} has column stylesheets for ${CSV_RESOURCES.join(', ')}; the input has ${resource}`, {
      status: 422,
      fix: 'Load records of one of those tables, or write a column stylesheet under stylesheets/csv/<prefix>/',
    });
  }
  const steps: PreviewStep[] = [];
  const carried = body.direction === 'export' ? carriedFormat(format, resource) : undefined;
  if (carried) steps.push({ name: `${carried.name} export`, stylesheet: { path: stylesheetPath(carried, 'export', resource) } });
  steps.push({ name, stylesheet: { path: stylesheetPath(format, body.direction, resource) } });
  return {
    steps,
    format,
    ...(resource === undefined ? {} : { resource }),
    ...(body.direction === 'import' && format.decode ? { decode: format.decode } : {}),
    ...(body.direction === 'export' && format.encode ? { encode: format.encode } : {}),
  };
}

function planFor(body: PreviewBody, stylesheetsDir: string): PreviewPlan {
  if (body.format && body.stylesheet) throw badRequest('give either "format" or "stylesheet", not both', 'Drop one of them');
  let plan: PreviewPlan;
  if (body.format) {
    plan = formatPlan({ ...body, format: body.format }, stylesheetsDir);
  } else if (body.stylesheet) {
    plan = { steps: [{ name: 'stylesheet', stylesheet: { text: body.stylesheet } }] };
  } else if (body.mapping) {
    return { steps: [{ name: 'mapping', stylesheet: { text: body.mapping } }] };
  } else {
    throw badRequest('nothing to run', 'Give "format", "stylesheet" or "mapping"');
  }
  if (!body.mapping) return plan;
  const mapping: PreviewStep = { name: 'mapping', stylesheet: { text: body.mapping } };
  return { ...plan, steps: body.direction === 'import' ? [...plan.steps, mapping] : [mapping, ...plan.steps] };
}

/**
 * A format written for some tables, given records of none of them, runs "successfully" into an
 * empty envelope; the analyst must hear that before reading the output.
 */
function tableMismatch(plan: PreviewPlan, body: PreviewBody): string | undefined {
  const wanted = plan.format?.resources;
  if (!wanted || body.direction !== 'export') return undefined;
  const tables = tablesIn(body.input);
  if (tables.some((table) => wanted.includes(table))) return undefined;
  return `${plan.format?.name.toUpperCase()} export takes ${wanted.join(' or ')} records; the input has ${describeTables(tables)}`;
}

function noInput(): SluiceError {
  return new SluiceError('PREVIEW_NO_INPUT', 'there is no input: paste or load a document first', {
    status: 400,
    fix: 'Paste a document, upload a file, pick a captured payload or load records of this gateway',
  });
}

function defaultSteps(): Record<StepName, Step> {
  return createFormatSteps({
    s3json: {
      jsonToXml: (json) => serializeS3XML(parseS3JSON(json)),
      xmlToJson: async (xml) => stringifyS3JSON(await parseS3XML(xml), { pretty: true }),
    },
  });
}

export function previewRouter(deps: PreviewDeps): Router {
  const router = express.Router();
  const formatSteps = deps.steps ?? defaultSteps();
  router.post('/api/preview', express.json({ limit: '16mb' }), async (req: Request, res: Response) => {
    const started = performance.now();
    const response: PreviewResponse = { output: null, mediaType: null, durationMs: 0, messages: [], warnings: [], errors: [], steps: [] };
    let status = 200;
    let currentStep = 'request';
    try {
      if (!validateBody(req.body)) {
        const problems = (validateBody.errors ?? []).map((error) => `${error.instancePath || 'body'} ${error.message ?? 'is invalid'}`);
        throw badRequest(`the preview request is not valid: ${problems.join('; ')}`, 'Send {format|stylesheet, direction, mapping?, resource?, input, params?}');
      }
      const body = req.body;
      if (body.input.trim() === '') throw noInput();
      const plan = planFor(body, deps.stylesheetsDir);
      const params = body.params ?? {};
      const mismatch = tableMismatch(plan, body);
      if (mismatch) response.warnings.push(mismatch);
      const stepContext = plan.resource === undefined ? {} : { resource: plan.resource };
      let input: string = body.input;
      if (plan.decode) {
        currentStep = plan.decode;
        const decoded = await formatSteps[plan.decode](input, stepContext);
        input = typeof decoded === 'string' ? decoded : new TextDecoder('utf-8').decode(decoded);
      }
      if (plan.jsonInput) {
        currentStep = 'input';
        const read = plan.jsonInput(input, params);
        input = read.json;
        response.messages.push(`input: ${read.note}`);
      }
      let last: TransformResult | undefined;
      for (const step of plan.steps) {
        currentStep = step.name;
        const result = await deps.engine.transform({
          stylesheet: step.stylesheet,
          input,
          ...(Object.keys(params).length ? { params } : {}),
          ...(step.jsonInput ? { jsonInput: true } : {}),
        });
        response.steps.push({ step: step.name, durationMs: Math.round(result.durationMs) });
        response.messages.push(...result.messages);
        for (const warning of result.warnings ?? []) response.warnings.push(`${step.name}: ${warning}`);
        input = result.output;
        last = result;
      }
      response.output = last?.output ?? null;
      response.mediaType = last?.mediaType ?? null;
      if (last && body.format && body.direction === 'export') {
        currentStep = 'validation';
        const validation = await validationOf(plan, body.format, last, deps);
        if (validation.warning) response.warnings.push(validation.warning);
        if (validation.result) response.validation = validation.result;
      }
      if (last && plan.encode && plan.format) {
        currentStep = plan.encode;
        const encoded = await formatSteps[plan.encode](last.output, stepContext);
        response.mediaType = plan.format.mediaTypes[0] ?? null;
        if (typeof encoded === 'string') {
          response.output = encoded;
        } else {
          response.output = Buffer.from(encoded).toString('base64');
          response.outputEncoding = 'base64';
        }
      }
    } catch (error) {
      const failure = asSluiceError(error);
      status = failure.status >= 500 ? 500 : failure.status;
      response.errors.push(previewError(failure, currentStep));
      const before = failure.details['messages'];
      if (Array.isArray(before)) response.messages.push(...before.filter((message): message is string => typeof message === 'string'));
    }
    response.durationMs = Math.round(performance.now() - started);
    res.status(status).json(response);
  });
  return router;
}

/**
 * Registry formats say whether an official schema exists (CAP, HAVE, DE); the others are not
 * validated and say so plainly. Bare stylesheet folders are left to the wiring's validator.
 */
async function validationOf(
  plan: PreviewPlan,
  formatName: string,
  result: TransformResult,
  deps: PreviewDeps,
): Promise<{ result?: PreviewValidation; warning?: string }> {
  const declaresSchema = plan.format ? plan.format.xsd?.outbound === true : undefined;
  const unchecked = { schema: formatName, checked: false, valid: null, errors: [], note: NO_SCHEMA_NOTE };
  if (declaresSchema === false || result.method !== 'xml') return plan.format ? { result: unchecked } : {};
  if (!deps.validate) return {};
  try {
    const verdict = await deps.validate(result.output, formatName);
    return { result: { schema: formatName, checked: true, ...verdict } };
  } catch (error) {
    // Typically XSD_SCHEMAS_MISSING: the analyst should learn why, and what the operator must set.
    const failure = asSluiceError(error);
    if (failure.code === 'NO_SCHEMA') return { result: unchecked };
    return { warning: `validation: not validated: ${failure.message} [${failure.code}]${failure.fix ? `. ${failure.fix}` : ''}` };
  }
}
