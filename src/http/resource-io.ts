/**
 * The two things every Eden-facing endpoint does: stream an export of one resource, and import a
 * request body. Shared by the plain REST routes and the /sync endpoints.
 */
import { once } from 'node:events';
import type { Response } from 'express';
import { SluiceError } from '../errors.js';
import { exportResources, type ExportOptions } from '../exporter/exporter.js';
import { parseUrlFilters } from '../exporter/url-filters.js';
import { importResources, importS3XMLBytes, type ImportOptions, type ImportResult } from '../importer/importer.js';
import { fromS3JSON, toS3JSON } from '../s3xml/s3json.js';
import { serializeS3XMLStream } from '../s3xml/serialize.js';
import type { S3Resource } from '../s3xml/model.js';
import { parseMsince } from '../s3xml/timestamps.js';
import type { Store } from '../store/store.js';
import { changeWindow } from '../sync/change-window.js';
import { edenMessage } from './eden-reply.js';

const NAME_PART = /^[a-z][a-z0-9]*$/;
const TABLE = /^[a-z][a-z0-9]*_[a-z0-9_]+$/;

/** `org` + `office` → `org_office`, refusing anything that is not an Eden table name. */
export function tableName(prefix: string, name: string): string {
  if (!NAME_PART.test(prefix) || !/^[a-z][a-z0-9_]*$/.test(name)) {
    throw new SluiceError('BAD_RESOURCE', `"${prefix}/${name}" is not a resource`, {
      status: 400,
      fix: 'Use /<prefix>/<name>.xml, e.g. /org/organisation.xml',
    });
  }
  return `${prefix}_${name}`;
}

export function checkTableName(resource: unknown): string {
  if (typeof resource !== 'string' || !TABLE.test(resource)) {
    throw new SluiceError('INVALID_REQUEST', 'Invalid request', {
      status: 400,
      fix: 'Give resource=<prefix>_<name>, e.g. resource=org_organisation (mixed synchronization is not supported)',
    });
  }
  return resource;
}

function singleValue(query: Record<string, unknown>, key: string): string | undefined {
  const value = query[key];
  if (value === undefined) return undefined;
  if (Array.isArray(value)) return String(value[value.length - 1]);
  return String(value);
}

function nonNegativeInt(value: string | undefined, name: string): number | undefined {
  if (value === undefined || value === '') return undefined;
  if (!/^\d+$/.test(value)) {
    throw new SluiceError('BAD_PARAMETER', `${name}="${value}" is not a non-negative integer`, { status: 400 });
  }
  return Number(value);
}

/** Reads Eden's export parameters from a query string (msince strictly, filters, paging). */
export function exportOptionsFromQuery(
  resource: string,
  query: Record<string, unknown>,
  defaults: { includeDeleted?: boolean } = {},
): ExportOptions {
  const msince = singleValue(query, 'msince');
  const components = singleValue(query, 'mcomponents') ?? singleValue(query, 'components');
  const afterSeq = singleValue(query, 'since_seq');
  return {
    resource,
    msince: msince === undefined || msince === '' ? undefined : parseMsince(msince),
    afterSeq: nonNegativeInt(afterSeq, 'since_seq'),
    includeDeleted: query.include_deleted !== undefined ? true : defaults.includeDeleted ?? false,
    filters: parseUrlFilters(query),
    start: nonNegativeInt(singleValue(query, 'start'), 'start'),
    limit: nonNegativeInt(singleValue(query, 'limit'), 'limit'),
    components:
      components === undefined
        ? true
        : components.toLowerCase() === 'none'
          ? false
          : components.split(',').map((c) => c.trim()).filter(Boolean),
  };
}

async function writeAll(res: Response, chunks: AsyncIterable<string>): Promise<void> {
  for await (const chunk of chunks) {
    if (!res.write(chunk)) await once(res, 'drain');
  }
  res.end();
}

export interface ExportContext {
  store: Store;
  domain: string;
  baseUrl: string;
}

/** Root attributes as Eden writes them: success, start, limit, results, domain, url. */
async function rootAttributes(ctx: ExportContext, options: ExportOptions): Promise<Record<string, string>> {
  const total = await ctx.store.countRecords({
    resource: options.resource,
    msince: options.msince,
    afterSeq: options.afterSeq,
    includeDeleted: options.includeDeleted,
    filters: options.filters,
  });
  const start = options.start ?? 0;
  const results = Math.max(0, Math.min(total - start, options.limit ?? Number.POSITIVE_INFINITY));
  return {
    success: results > 0 ? 'true' : 'false',
    ...(options.start !== undefined ? { start: String(options.start) } : {}),
    ...(options.limit !== undefined ? { limit: String(options.limit) } : {}),
    results: String(results),
    domain: ctx.domain,
    url: ctx.baseUrl,
  };
}

/**
 * With `since_seq` (Sluice peers) a page is a seq window rather than `limit` masters (see
 * sync/change-window.ts); the root then says where it ends (`last_seq`) and whether to ask again
 * (`more`), so the puller's checkpoint moves exactly as far as the page went.
 */
async function paged(ctx: ExportContext, options: ExportOptions): Promise<{ options: ExportOptions; root: Record<string, string> }> {
  if (options.afterSeq === undefined) return { options, root: await rootAttributes(ctx, options) };
  const window = await changeWindow(ctx.store, options.resource, options.afterSeq, options.limit);
  const { limit: _limit, ...rest } = options;
  const windowed: ExportOptions = { ...rest, untilSeq: window.untilSeq };
  // No `results` count here: counting the rest of a large feed on every page would cost more than the page.
  const root = {
    success: String(window.untilSeq > window.afterSeq),
    domain: ctx.domain,
    url: ctx.baseUrl,
    last_seq: String(window.untilSeq),
    more: String(window.more),
  };
  return { options: windowed, root };
}

export async function sendS3XML(res: Response, ctx: ExportContext, options: ExportOptions): Promise<void> {
  const page = await paged(ctx, options);
  res.status(200).type('application/xml; charset=utf-8');
  const resources = exportResources(ctx.store, { ...page.options, domain: ctx.domain });
  await writeAll(res, serializeS3XMLStream(page.root, resources));
}

export async function sendS3JSON(res: Response, ctx: ExportContext, options: ExportOptions): Promise<void> {
  const page = await paged(ctx, options);
  const root = page.root;
  const resources: S3Resource[] = [];
  for await (const resource of exportResources(ctx.store, { ...page.options, domain: ctx.domain })) resources.push(resource);
  res.status(200).type('application/json; charset=utf-8').send(JSON.stringify(toS3JSON({ attributes: root, resources })));
}

export type BodyFormat = 's3xml' | 's3json';

export async function importBody(
  store: Store,
  body: Buffer,
  format: BodyFormat,
  options: ImportOptions,
): Promise<ImportResult> {
  if (format === 's3json') {
    let json: unknown;
    try {
      json = JSON.parse(body.toString('utf8'));
    } catch (error) {
      throw new SluiceError('S3JSON_MALFORMED', `the body is not JSON: ${(error as Error).message}`, { status: 400 });
    }
    const doc = fromS3JSON(json);
    return importResources(store, doc.resources, options);
  }
  return importS3XMLBytes(store, () => [body], options);
}

/** Eden's import reply, with Sluice's fuller result (uuids rather than row ids). */
export function importReply(result: ImportResult): Record<string, unknown> {
  const invalid = result.errors.length;
  return edenMessage('success', 200, invalid ? `${invalid} invalid items ignored` : undefined, {
    records: result.records,
    created: result.created,
    updated: result.updated,
    deleted: result.deleted,
    merged: result.merged,
    skipped: result.skipped,
    conflicts: result.conflicts,
    errors: result.errors,
  });
}
