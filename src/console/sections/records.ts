/**
 * Records, and tickets among them: the records of one table, newest first, filtered by their status,
 * and one record's fields and references. On a table an Ushahidi source imports into, integrators
 * triage a ticket (Unverified, Verified, Actionable, Actioned…) here instead of with a REST PUT; the
 * status is written through the importer exactly as Eden's PUT would write it, so the source's
 * status push sends it back to the deployment on its next run.
 */
import type { Request, Router } from 'express';
import { hasRole } from '../../auth/users.js';
import { SluiceError } from '../../errors.js';
import type { MappingDocument } from '../../formats/mapping-document.js';
import { readMappingDocument } from '../../formats/mapping-files.js';
import { importResources } from '../../importer/importer.js';
import { dataValue, type FieldValue, type S3Data, type S3Resource } from '../../s3xml/model.js';
import { formatTimestamp } from '../../s3xml/timestamps.js';
import type { FieldFilter, StoredRecord } from '../../store/store.js';
import { DEFAULT_SOURCE_RESOURCE, DEFAULT_STATUS_FIELD, effectiveMappingDocument, type SourceView } from '../../ushahidi/sources.js';
import { definitionList, options, shorten, table, time } from '../components.js';
import { action, field, page, queryText, render, type ConsoleEnv } from '../context.js';
import { html, query, type Html } from '../html.js';
import { csrfField } from '../layout.js';

export const RECORDS_PAGE_SIZE = 50;
const TABLE_NAME = /^[a-z][a-z0-9]*_[a-z0-9_]+$/;

function checkTable(name: string): string {
  if (!TABLE_NAME.test(name)) throw new SluiceError('BAD_TABLE', `"${name}" is not a table name`, { status: 400, fix: 'Pick a table from the list' });
  return name;
}

/** A field's value as people read it: the label when there is one, else the machine value. */
function fieldText(record: StoredRecord, name: string): string | undefined {
  const data = record.data.find((entry) => entry.field === name);
  if (!data) return undefined;
  if (data.text !== undefined && data.text !== '') return data.text;
  const value = dataValue(data);
  if (value === null) return undefined;
  return typeof value === 'string' ? value : JSON.stringify(value);
}

export function recordName(record: StoredRecord): string {
  return fieldText(record, 'name') ?? fieldText(record, 'title') ?? record.uuid;
}

/** The status field of a table: the one its Ushahidi source triages, else Eden's usual `status`. */
function statusFieldOf(sourcesOfTable: readonly SourceView[]): string {
  return sourcesOfTable[0]?.status_field ?? DEFAULT_STATUS_FIELD;
}

/**
 * Where a record came from: the source whose deployment starts its uuid (`<deployment>/<post id>`),
 * else the domain an Eden uid carries (`<domain>/<uuid>`), else unknown.
 */
export function originOf(uuid: string, sources: readonly SourceView[]): { source?: SourceView; domain?: string } {
  const source = sources.find((entry) => entry.deployment !== '' && uuid.toLowerCase().startsWith(`${entry.deployment}/`));
  if (source) return { source, domain: source.deployment };
  const slash = uuid.lastIndexOf('/');
  if (slash > 0 && !uuid.startsWith('urn:')) return { domain: uuid.slice(0, slash) };
  return {};
}

/** The local statuses a source can send back: those its value mapping (or the defaults) maps outbound. */
export function triageValues(document: MappingDocument | undefined, source: Pick<SourceView, 'type' | 'resource' | 'status_field'>): string[] {
  const settings = { api: source.type === 'ushahidi-v2' ? ('v2' as const) : ('v5' as const), resource: source.resource, status_field: source.status_field };
  const effective = effectiveMappingDocument(document, settings);
  const mapping = effective.resources.find((entry) => entry.local === source.resource)?.fields?.find((entry) => entry.local === source.status_field);
  return Object.keys(mapping?.outbound?.values ?? {});
}

async function sourcesOf(env: ConsoleEnv): Promise<SourceView[]> {
  return (await env.sources?.list()) ?? [];
}

async function allowedStatuses(env: ConsoleEnv, source: SourceView): Promise<string[]> {
  // An unreadable mapping also stops the status push; the defaults keep the form usable meanwhile.
  const document = source.mapping ? await readMappingDocument(env.mappingsDir, source.mapping).catch(() => undefined) : undefined;
  return triageValues(document, source);
}

function recordPath(record: Pick<StoredRecord, 'resource' | 'uuid'>): string {
  return `/console/records/${encodeURIComponent(record.resource)}/${encodeURIComponent(record.uuid)}`;
}

function shownValue(value: FieldValue, text: string | undefined): Html {
  const machine = typeof value === 'string' ? value : JSON.stringify(value);
  return text !== undefined && text !== machine ? html`${text} <span class="mono muted small">${machine}</span>` : html`${machine}`;
}

function pageNumber(req: Request): number {
  const raw = queryText(req, 'page');
  return raw && /^\d{1,6}$/.test(raw) ? Math.max(1, Number(raw)) : 1;
}

/** The ticket's source: the one its uuid names, else the one importing into its table. */
function ticketSource(record: StoredRecord, sources: readonly SourceView[]): SourceView | undefined {
  const ofTable = sources.filter((entry) => entry.resource === record.resource);
  return ofTable.find((entry) => originOf(record.uuid, [entry]).source) ?? ofTable[0];
}

export function registerRecords(router: Router, env: ConsoleEnv): void {
  router.get(
    '/console/records',
    page(env, [], async (req, res, ctx) => {
      const now = env.clock.now();
      const tables = (await env.store.resources()).sort((a, b) => a.resource.localeCompare(b.resource));
      const asked = queryText(req, 'table');
      const tableName = asked
        ? checkTable(asked)
        : tables.some((entry) => entry.resource === DEFAULT_SOURCE_RESOURCE && entry.count > 0)
          ? DEFAULT_SOURCE_RESOURCE
          : tables.find((entry) => entry.count > 0)?.resource ?? DEFAULT_SOURCE_RESOURCE;
      const sources = await sourcesOf(env);
      const ofTable = sources.filter((entry) => entry.resource === tableName);
      const statusField = statusFieldOf(ofTable);
      const status = queryText(req, 'status');
      const filters: FieldFilter[] = status === undefined ? [] : [{ field: statusField, op: 'eq', values: [status], negate: false }];
      const base = { resource: tableName, topLevelOnly: true, filters };
      const total = await env.store.countRecords(base);
      const pages = Math.max(1, Math.ceil(total / RECORDS_PAGE_SIZE));
      const current = Math.min(pageNumber(req), pages);
      // The store lists oldest first; newest first is read from the end.
      const end = total - (current - 1) * RECORDS_PAGE_SIZE;
      const start = Math.max(0, end - RECORDS_PAGE_SIZE);
      const records = end > 0 ? (await env.store.queryRecords({ ...base, start, limit: end - start })).reverse() : [];
      const statusValues = (await env.store.fieldValues(tableName, statusField, 50)).map((entry) => (typeof entry.value === 'string' ? entry.value : JSON.stringify(entry.value)));
      const rows = records.map(
        (record) => html`<tr>
  <td><a href="${recordPath(record)}">${shorten(recordName(record), 80)}</a></td>
  <td>${fieldText(record, statusField) ?? html`<span class="muted">—</span>`}</td>
  <td>${time(record.modified_on, now)}</td>
  <td class="mono small">${shorten(record.uuid, 48)}</td>
</tr>`,
      );
      const link = (pageAt: number): string => `/console/records${query({ table: tableName, status, page: pageAt === 1 ? undefined : pageAt })}`;
      render(req, res, ctx, {
        title: 'Records',
        body: html`<form method="get" action="/console/records" class="filters">
  <label>Table <select name="table">${options(
    tables.some((entry) => entry.resource === tableName) ? tables.map((entry) => ({ value: entry.resource, label: `${entry.resource} (${entry.count})` })) : [tableName, ...tables.map((entry) => ({ value: entry.resource, label: `${entry.resource} (${entry.count})` }))],
    tableName,
  )}</select></label>
  <label>${statusField} <select name="status"><option value="">any</option>${options(status !== undefined && !statusValues.includes(status) ? [status, ...statusValues] : statusValues, status)}</select></label>
  <button type="submit">Show</button>
</form>
${ofTable.length ? html`<p class="muted small">Imported from ${ofTable.map((source, index) => html`${index ? ', ' : ''}<a href="/console/repositories/${encodeURIComponent(source.uuid)}">${source.name}</a>`)}; open a ticket to triage it.</p>` : ''}
<p class="muted small" id="records-count">${total} record(s)${status !== undefined ? ` with ${statusField} ${status}` : ''}, newest first.</p>
${table(['Name', statusField, 'Modified', 'uuid'], rows, { empty: status !== undefined ? `No records of ${tableName} with ${statusField} ${status}.` : `${tableName} holds no records.` })}
${pages > 1
  ? html`<nav class="pager" aria-label="Pages">${current > 1 ? html`<a href="${link(current - 1)}" rel="prev">Newer</a>` : ''} <span>Page ${current} of ${pages}</span> ${current < pages ? html`<a href="${link(current + 1)}" rel="next">Older</a>` : ''}</nav>`
  : ''}`,
      });
    }),
  );

  router.get(
    '/console/records/:table/:uuid',
    page(env, [], async (req, res, ctx) => {
      const tableName = checkTable(String(req.params.table));
      const uuid = String(req.params.uuid);
      const record = await env.store.getRecord(tableName, uuid);
      if (!record) throw new SluiceError('RECORD_NOT_FOUND', `There is no record ${uuid} in ${tableName}`, { status: 404, fix: 'Open it from the records list' });
      const sources = await sourcesOf(env);
      const origin = originOf(record.uuid, sources);
      const source = ticketSource(record, sources);
      const statusField = source?.status_field ?? DEFAULT_STATUS_FIELD;
      const currentStatus = fieldText(record, statusField);
      const mayTriage = source !== undefined && hasRole(ctx.user, 'integrator') && !record.deleted;
      const allowed = mayTriage ? await allowedStatuses(env, source) : [];
      const rows = [
        ...record.data.map((data) => html`<tr><th scope="row">${data.field}</th><td>${shownValue(dataValue(data), data.text)}</td></tr>`),
        ...record.references.map(
          (reference) => html`<tr><th scope="row">${reference.field}</th><td>→ ${reference.resource} <span class="mono small">${reference.uuid ?? ''}</span>${reference.text ? html` ${reference.text}` : ''}</td></tr>`,
        ),
      ];
      const sourceLink = source ? html`<a href="/console/repositories/${encodeURIComponent(source.uuid)}">${source.name}</a>` : undefined;
      const body = html`${definitionList([
        ['Table', html`<a href="/console/records${query({ table: record.resource })}">${record.resource}</a>`],
        ['uuid', html`<span class="mono">${record.uuid}</span>`],
        ['Came from', origin.source ? html`${sourceLink} <span class="muted small">(${origin.domain})</span>` : origin.domain ?? html`<span class="muted">unknown (created here or by a peer without a domain in its uids)</span>`],
        [statusField, currentStatus ?? html`<span class="muted">—</span>`],
        ['Created', time(record.created_on)],
        ['Modified', time(record.modified_on)],
        ...(record.deleted ? ([['Deleted', record.replaced_by ? `yes, replaced by ${record.replaced_by}` : 'yes']] as [string, string][]) : []),
      ])}
${mayTriage
  ? html`<form method="post" action="${recordPath(record)}/status" class="card triage">${csrfField(ctx)}
  <label>${statusField} <select name="status">${options(allowed, currentStatus)}</select></label>
  <button type="submit" class="primary">Set status</button>
  <p class="muted small">It goes to the deployment on the next run of ${sourceLink} (or its Sync Now).</p>
</form>`
  : ''}
<section><h2>Fields</h2>
${table(['Field', 'Value'], rows, { className: 'record', empty: 'The record has no fields.' })}
</section>`;
      render(req, res, ctx, { title: shorten(recordName(record), 100), body });
    }),
  );

  router.post(
    '/console/records/:table/:uuid/status',
    action(
      env,
      ['integrator'],
      async (req) => {
        const tableName = checkTable(String(req.params.table));
        const uuid = String(req.params.uuid);
        const record = await env.store.getRecord(tableName, uuid);
        if (!record) throw new SluiceError('RECORD_NOT_FOUND', `There is no record ${uuid} in ${tableName}`, { status: 404 });
        const source = ticketSource(record, await sourcesOf(env));
        if (!source) throw new SluiceError('NOT_A_TICKET', `No Ushahidi source imports into ${tableName}`, { status: 400, fix: 'Change other records through their own system' });
        const status = field(req, 'status') ?? '';
        const allowed = await allowedStatuses(env, source);
        if (!allowed.includes(status)) {
          throw new SluiceError('BAD_STATUS', `"${status}" is not a status ${source.name} can send`, { status: 400, fix: `Choose one of ${allowed.join(', ')}` });
        }
        await writeStatus(env, record, source.status_field, status);
        return {
          to: recordPath(record),
          flash: {
            kind: 'ok',
            message: `Status of ${recordName(record)} set to ${status}; it goes to Ushahidi on the next run of ${source.name} (or Sync Now).`,
            link: { href: `/console/repositories/${encodeURIComponent(source.uuid)}`, label: `Open ${source.name}` },
          },
        };
      },
      '/console/records',
    ),
  );
}

/**
 * Writes one field as Eden's REST PUT does: through the importer, with the gateway's clock as the new
 * modified_on. Only the status travels; the importer leaves the other fields as they are.
 */
async function writeStatus(env: ConsoleEnv, record: StoredRecord, statusField: string, status: string): Promise<void> {
  const previous = record.data.find((entry) => entry.field === statusField);
  // Keep the element's shape (value attribute, label or both) so exports look as they did.
  const data: S3Data = { field: statusField };
  if (!previous || previous.value !== undefined) data.value = JSON.stringify(status);
  if (!previous || previous.text !== undefined) data.text = status;
  const resource: S3Resource = {
    name: record.resource,
    uuid: record.uuid,
    modified_on: formatTimestamp(env.clock.now()),
    attributes: {},
    data: [data],
    references: [],
    components: [],
  };
  const result = await importResources(env.store, [resource], { resource: record.resource, clock: env.clock, localDomain: env.domain, strategy: ['update'] });
  const failure = result.errors[0];
  if (failure) throw new SluiceError('STATUS_NOT_SAVED', `The status was not saved: ${failure.message} (${failure.code})`, { status: 400 });
  if (result.aborted) throw new SluiceError('STATUS_NOT_SAVED', `The status was not saved: ${result.aborted.message} (${result.aborted.code})`, { status: 500 });
}
