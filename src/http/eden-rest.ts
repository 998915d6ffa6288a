/**
 * Eden's plain REST interface: `GET|PUT|POST /<prefix>/<name>.xml|.s3json` and
 * `GET /<prefix>/<name>/options.xml?field=`. Other representations go through the format
 * registry (see formats-route.ts) and are mounted before this router.
 */
import express, { type Router } from 'express';
import type { Authenticator } from '../auth/users.js';
import { SluiceError } from '../errors.js';
import type { FieldValue } from '../s3xml/model.js';
import { allowAnonymousRead, requireUser } from './basic-auth.js';
import {
  exportOptionsFromQuery,
  importBody,
  importReply,
  sendS3JSON,
  sendS3XML,
  tableName,
  type BodyFormat,
  type ExportContext,
} from './resource-io.js';
import type { Clock } from '../s3xml/timestamps.js';

export interface EdenRestDeps extends ExportContext {
  authenticator: Authenticator;
  clock: Clock;
  maxBodyBytes: number;
  /** Allow reads without credentials (demo mode). */
  anonymousRead: boolean;
}

const NATIVE: Record<string, BodyFormat> = { xml: 's3xml', s3json: 's3json' };

/** URL prefixes Sluice itself uses; no Eden module is called that. */
export const RESERVED_PREFIXES = ['/api', '/console'];

export function skipRouter(_req: express.Request, _res: express.Response, next: express.NextFunction): void {
  next('router');
}

function splitFile(file: string): { name: string; ext: string } {
  const dot = file.lastIndexOf('.');
  if (dot <= 0) {
    throw new SluiceError('UNSUPPORTED_FORMAT', 'Unsupported data format!', {
      status: 415,
      fix: 'Add a representation to the URL, e.g. /org/organisation.xml',
    });
  }
  return { name: file.slice(0, dot), ext: file.slice(dot + 1).toLowerCase() };
}

function nativeFormat(ext: string): BodyFormat {
  const format = NATIVE[ext];
  if (!format) {
    throw new SluiceError('UNSUPPORTED_FORMAT', `Unsupported data format! (.${ext})`, {
      status: 415,
      fix: 'Use .xml or .s3json, or a format Sluice knows (see /api/formats)',
    });
  }
  return format;
}

function escapeXml(text: string): string {
  return text.replace(/[<>&"']/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[c]!);
}

function optionValue(value: FieldValue): string {
  return typeof value === 'string' ? value : JSON.stringify(value);
}

export function edenRestRouter(deps: EdenRestDeps): Router {
  const router = express.Router();
  const read = deps.anonymousRead ? allowAnonymousRead(deps.authenticator) : requireUser(deps.authenticator);
  const write = requireUser(deps.authenticator, 'integrator');
  const body = express.raw({ type: () => true, limit: deps.maxBodyBytes });
  // Sluice's own surfaces are not Eden tables: an unknown /api/x.json is a 404, not a 415.
  router.use(RESERVED_PREFIXES, skipRouter);

  router.get('/:prefix/:name/options.xml', read, async (req, res) => {
    const resource = tableName(req.params.prefix as string, req.params.name as string);
    const fields = String(req.query.field ?? '')
      .split(',')
      .map((f) => f.trim())
      .filter(Boolean);
    if (fields.length === 0) {
      throw new SluiceError('BAD_PARAMETER', 'options.xml needs ?field=<name>', { status: 400 });
    }
    const selects: string[] = [];
    for (const field of fields) {
      const values = await deps.store.fieldValues(resource, field, 1000);
      const options = values
        .map((v) => `<option value="${escapeXml(optionValue(v.value))}">${escapeXml(v.text ?? optionValue(v.value))}</option>`)
        .join('');
      selects.push(`<select name="${escapeXml(field)}" id="${resource}_${escapeXml(field)}">${options}</select>`);
    }
    const xml =
      fields.length === 1 ? selects[0]! : `<options resource="${resource}">${selects.join('')}</options>`;
    res.type('application/xml; charset=utf-8').send(`<?xml version='1.0' encoding='utf-8'?>\n${xml}`);
  });

  router.get('/:prefix/:file', read, async (req, res) => {
    const { name, ext } = splitFile(req.params.file as string);
    const resource = tableName(req.params.prefix as string, name);
    const format = nativeFormat(ext);
    // Eden honours include_deleted only for .xml.
    const query = format === 's3xml' ? req.query : { ...req.query, include_deleted: undefined };
    const options = exportOptionsFromQuery(resource, query as Record<string, unknown>);
    if (format === 's3json') await sendS3JSON(res, deps, options);
    else await sendS3XML(res, deps, options);
  });

  const importHandler = async (req: express.Request, res: express.Response): Promise<void> => {
    const { name, ext } = splitFile(req.params.file as string);
    const resource = tableName(req.params.prefix as string, name);
    const format = nativeFormat(ext);
    const payload = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    const result = await importBody(deps.store, payload, format, {
      resource,
      clock: deps.clock,
      localDomain: deps.domain,
    });
    res.status(200).json(importReply(result));
  };
  router.put('/:prefix/:file', write, body, importHandler);
  router.post('/:prefix/:file', write, body, importHandler);

  return router;
}
