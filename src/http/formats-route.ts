/**
 * Eden-style URLs for every registered format: `GET|PUT|POST /<prefix>/<name>.<ext>` (e.g.
 * `/cap/alert.cap`, `/med/hospital.have`, `/org/office.csv`) and one record as
 * `GET /<prefix>/<name>/<uuid or identifier>.<ext>`. Bytes go through the format converter
 * (decode step → import stylesheet → instance mapping → importer, and the mirror image).
 */
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import express, { type Request, type Response, type Router } from 'express';
import type { Authenticator } from '../auth/users.js';
import { SluiceError } from '../errors.js';
import { exportResources } from '../exporter/exporter.js';
import type { FormatConverter, StylesheetSource } from '../formats/convert.js';
import { formatForExtension, type FormatDeclaration } from '../formats/registry.js';
import { importS3XMLBytes } from '../importer/importer.js';
import type { S3Resource } from '../s3xml/model.js';
import { serializeS3XML } from '../s3xml/serialize.js';
import { formatTimestamp, type Clock } from '../s3xml/timestamps.js';
import type { Store } from '../store/store.js';
import { allowAnonymousRead, requireUser } from './basic-auth.js';
import { RESERVED_PREFIXES, skipRouter } from './eden-rest.js';
import { exportOptionsFromQuery, importReply, tableName } from './resource-io.js';

export interface FormatRouteDeps {
  store: Store;
  converter: FormatConverter;
  authenticator: Authenticator;
  clock: Clock;
  domain: string;
  baseUrl: string;
  maxBodyBytes: number;
  mappingsDir: string;
  anonymousRead: boolean;
  /** Largest number of master records one format export may hold (formats are whole-document). */
  maxExportRecords?: number;
}

/** Extensions answered natively (streamed) by the Eden REST router. */
const NATIVE = new Set(['xml', 's3json']);

function formatOf(file: string): { name: string; format: FormatDeclaration } | undefined {
  const dot = file.lastIndexOf('.');
  if (dot <= 0) return undefined;
  const ext = file.slice(dot + 1).toLowerCase();
  if (NATIVE.has(ext)) return undefined;
  const format = formatForExtension(ext);
  return format ? { name: file.slice(0, dot), format } : undefined;
}

function checkResourceFits(format: FormatDeclaration, resource: string): void {
  if (format.resources && !format.resources.includes(resource)) {
    throw new SluiceError('FORMAT_RESOURCE_MISMATCH', `${format.label} is for ${format.resources.join(', ')}, not ${resource}`, {
      status: 400,
      fix: `Use /${format.resources[0]!.replace('_', '/')}.${format.extension}`,
    });
  }
}

/** `?mapping=<instance>` applies mappings/<instance>.xsl (compiled with `sluice mapping compile`). */
async function instanceMapping(dir: string, instance: unknown): Promise<StylesheetSource | undefined> {
  if (instance === undefined || instance === '') return undefined;
  if (typeof instance !== 'string' || !/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/.test(instance)) {
    throw new SluiceError('BAD_MAPPING_NAME', 'mapping must name an instance (letters, digits, _ . -)', { status: 400 });
  }
  const file = path.join(dir, `${instance}.xsl`);
  if (!existsSync(file)) {
    throw new SluiceError('MAPPING_NOT_FOUND', `no compiled mapping for instance "${instance}"`, {
      status: 404,
      fix: `Create mappings/${instance}.json and run "sluice mapping compile ${instance}"`,
    });
  }
  return { text: await readFile(file, 'utf8') };
}

function stylesheetParams(deps: FormatRouteDeps, resource: string, extra: Record<string, string> = {}): Record<string, string> {
  const [prefix, ...rest] = resource.split('_');
  return {
    domain: deps.domain,
    base_url: deps.baseUrl,
    prefix: prefix!,
    name: rest.join('_'),
    utcnow: formatTimestamp(deps.clock.now()),
    msguid: `urn:uuid:${randomUUID()}`,
    ...extra,
  };
}

export function formatsRouter(deps: FormatRouteDeps): Router {
  const router = express.Router();
  const read = deps.anonymousRead ? allowAnonymousRead(deps.authenticator) : requireUser(deps.authenticator);
  const write = requireUser(deps.authenticator, 'integrator');
  const maxExport = deps.maxExportRecords ?? 10_000;
  router.use(RESERVED_PREFIXES, skipRouter);

  async function sendExport(req: Request, res: Response, resource: string, format: FormatDeclaration, only?: string): Promise<void> {
    checkResourceFits(format, resource);
    const query = { ...(req.query as Record<string, unknown>) };
    const options = exportOptionsFromQuery(resource, query);
    const resources: S3Resource[] = [];
    let masters = 0;
    for await (const r of exportResources(deps.store, { ...options, domain: deps.domain })) {
      if (r.name === resource) {
        if (only && r.uuid !== only && !r.uuid?.endsWith(`/${only}`) && !r.data.some((d) => d.field === 'identifier' && d.text === only)) continue;
        if (++masters > maxExport) {
          throw new SluiceError('EXPORT_TOO_LARGE', `more than ${maxExport} ${resource} records for one ${format.label} document`, {
            status: 413,
            fix: 'Narrow the export with msince, limit or URL filters',
          });
        }
      }
      resources.push(r);
    }
    if (only && masters === 0) {
      throw new SluiceError('NOT_FOUND', `no ${resource} record "${only}"`, { status: 404 });
    }
    const s3xml = serializeS3XML({ attributes: { success: masters > 0 ? 'true' : 'false', results: String(masters), domain: deps.domain, url: deps.baseUrl }, resources });
    const result = await deps.converter.exportDocument(format.name, s3xml, {
      resource,
      mapping: await instanceMapping(deps.mappingsDir, req.query.mapping),
      params: stylesheetParams(deps, resource, { mode: String(req.query.xsltmode ?? '') }),
    });
    res.status(200).type(format.binary ? format.mediaTypes[0]! : `${result.mediaType}; charset=utf-8`);
    if (format.binary) res.send(Buffer.from(result.body as Uint8Array));
    else res.send(result.body);
  }

  router.get('/:prefix/:name/:file', read, async (req, res, next) => {
    const found = formatOf(req.params.file as string);
    if (!found) return next();
    const resource = tableName(req.params.prefix as string, req.params.name as string);
    await sendExport(req, res, resource, found.format, decodeURIComponent(found.name));
  });

  router.get('/:prefix/:file', read, async (req, res, next) => {
    const found = formatOf(req.params.file as string);
    if (!found) return next();
    await sendExport(req, res, tableName(req.params.prefix as string, found.name), found.format);
  });

  const importHandler = async (req: Request, res: Response, next: express.NextFunction): Promise<void> => {
    const found = formatOf(req.params.file as string);
    if (!found) return next();
    const resource = tableName(req.params.prefix as string, found.name);
    checkResourceFits(found.format, resource);
    const body = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    const converted = await deps.converter.importDocument(found.format.name, found.format.binary ? new Uint8Array(body) : body.toString('utf8'), {
      resource,
      mapping: await instanceMapping(deps.mappingsDir, req.query.mapping),
      params: stylesheetParams(deps, resource, { xsltmode: String(req.query.xsltmode ?? ''), source_url: '' }),
    });
    const result = await importS3XMLBytes(deps.store, () => [converted.s3xml], {
      resource,
      clock: deps.clock,
      localDomain: deps.domain,
      defaultMci: 0,
    });
    res.status(200).json({
      ...importReply(result),
      messages: converted.messages,
      unmapped: converted.mapping.unmapped,
    });
  };
  const body = express.raw({ type: () => true, limit: deps.maxBodyBytes });
  router.put('/:prefix/:file', write, body, importHandler);
  router.post('/:prefix/:file', write, body, importHandler);
  return router;
}
