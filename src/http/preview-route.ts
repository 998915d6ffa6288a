import { existsSync } from 'node:fs';
import path from 'node:path';
import { Ajv } from 'ajv';
import express, { type Request, type Response, type Router } from 'express';
import { asSluiceError, SluiceError } from '../errors.js';
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

export interface PreviewResponse {
  output: string | null;
  mediaType: string | null;
  durationMs: number;
  messages: string[];
  warnings: string[];
  errors: PreviewError[];
  steps: { step: string; durationMs: number }[];
  validation?: { schema: string; valid: boolean; errors: { line?: number; message: string }[] };
}

/** The request body; also usable for the OpenAPI document. */
export const PREVIEW_BODY_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  required: ['direction', 'input'],
  properties: {
    format: { type: 'string', pattern: '^[A-Za-z0-9_-]+$', description: 'a folder under stylesheets/' },
    stylesheet: { type: 'string', minLength: 1, description: 'uploaded XSLT text (runs sandboxed)' },
    direction: { enum: ['import', 'export'] },
    mapping: { type: 'string', minLength: 1, description: 'instance mapping XSLT text (runs sandboxed)' },
    input: { type: 'string' },
    params: { type: 'object', additionalProperties: { type: 'string' } },
  },
} as const;

interface PreviewBody {
  format?: string;
  stylesheet?: string;
  direction: 'import' | 'export';
  mapping?: string;
  input: string;
  params?: Record<string, string>;
}

const ajv = new Ajv({ allErrors: true, strict: false });
const validateBody = ajv.compile<PreviewBody>(PREVIEW_BODY_SCHEMA);

function badRequest(message: string, fix: string): SluiceError {
  return new SluiceError('BAD_PREVIEW_REQUEST', message, { status: 400, fix });
}

function previewError(error: unknown, step: string): PreviewError {
  const failure = asSluiceError(error);
  const details = failure.details;
  const entry: PreviewError = { code: failure.code, message: failure.message, step };
  if (typeof details['xsltCode'] === 'string') entry.xsltCode = details['xsltCode'];
  // Shipped stylesheets are named relative to stylesheets/ (`stylesheet`), others by their path.
  const module = details['module'] ?? details['stylesheet'];
  if (typeof module === 'string') entry.module = module;
  if (typeof details['line'] === 'number') entry.line = details['line'];
  if (typeof details['column'] === 'number') entry.column = details['column'];
  return entry;
}

interface PreviewStep {
  name: string;
  stylesheet: StylesheetRef;
}

function stepsFor(body: PreviewBody, stylesheetsDir: string): PreviewStep[] {
  if (body.format && body.stylesheet) throw badRequest('give either "format" or "stylesheet", not both', 'Drop one of them');
  let main: PreviewStep;
  if (body.format) {
    const relative = `${body.format}/${body.direction}.xsl`;
    if (!existsSync(path.join(stylesheetsDir, relative))) {
      throw new SluiceError('UNKNOWN_FORMAT', `there is no ${body.direction} stylesheet for the format "${body.format}"`, {
        status: 404,
        fix: 'Use a format that has stylesheets/<format>/<direction>.xsl',
      });
    }
    main = { name: `${body.format} ${body.direction}`, stylesheet: { path: relative } };
  } else if (body.stylesheet) {
    main = { name: 'stylesheet', stylesheet: { text: body.stylesheet } };
  } else if (body.mapping) {
    return [{ name: 'mapping', stylesheet: { text: body.mapping } }];
  } else {
    throw badRequest('nothing to run', 'Give "format", "stylesheet" or "mapping"');
  }
  if (!body.mapping) return [main];
  const mapping: PreviewStep = { name: 'mapping', stylesheet: { text: body.mapping } };
  return body.direction === 'import' ? [main, mapping] : [mapping, main];
}

export function previewRouter(deps: PreviewDeps): Router {
  const router = express.Router();
  router.post('/api/preview', express.json({ limit: '16mb' }), async (req: Request, res: Response) => {
    const started = performance.now();
    const response: PreviewResponse = { output: null, mediaType: null, durationMs: 0, messages: [], warnings: [], errors: [], steps: [] };
    let status = 200;
    let currentStep = 'request';
    try {
      if (!validateBody(req.body)) {
        const problems = (validateBody.errors ?? []).map((error) => `${error.instancePath || 'body'} ${error.message ?? 'is invalid'}`);
        throw badRequest(`the preview request is not valid: ${problems.join('; ')}`, 'Send {format|stylesheet, direction, mapping?, input, params?}');
      }
      const body = req.body;
      let input = body.input;
      let last: TransformResult | undefined;
      for (const step of stepsFor(body, deps.stylesheetsDir)) {
        currentStep = step.name;
        const result = await deps.engine.transform({ stylesheet: step.stylesheet, input, ...(body.params ? { params: body.params } : {}) });
        response.steps.push({ step: step.name, durationMs: Math.round(result.durationMs) });
        response.messages.push(...result.messages);
        for (const warning of result.warnings ?? []) response.warnings.push(`${step.name}: ${warning}`);
        input = result.output;
        last = result;
      }
      response.output = last?.output ?? null;
      response.mediaType = last?.mediaType ?? null;
      if (last && deps.validate && body.format && body.direction === 'export' && last.method === 'xml') {
        currentStep = 'validation';
        try {
          const validation = await deps.validate(last.output, body.format);
          response.validation = { schema: body.format, ...validation };
        } catch (error) {
          // Typically XSD_SCHEMAS_MISSING: the analyst should learn why, and what the operator must set.
          const failure = asSluiceError(error);
          response.warnings.push(`validation: not validated: ${failure.message} [${failure.code}]${failure.fix ? `. ${failure.fix}` : ''}`);
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
