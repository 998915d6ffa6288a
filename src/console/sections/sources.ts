/**
 * Ushahidi sources: deployments registered like repositories (same schedule, lease, log, run
 * history and Sync Now), added with their API version and credentials. Sluice logs in and reads one
 * post before storing anything, so a wrong address or password shows at once.
 */
import type { Request, Router } from 'express';
import { asSluiceError, SluiceError } from '../../errors.js';
import { listMappingInstances } from '../../formats/mapping-files.js';
import type { RepositoryRecord } from '../../store/store.js';
import { badge, definitionList, options, postButton, table, time } from '../components.js';
import { action, field, page, render, requiredField, setFlash, type ConsoleEnv } from '../context.js';
import { fieldError, FIX_BELOW, formError, invalid } from '../form-errors.js';
import { html, type Html } from '../html.js';
import { linkMapping } from '../instance-links.js';
import { csrfField, type Flash, type PageContext } from '../layout.js';
import { describeSchedule } from '../schedule-view.js';

const INTEGRATOR = ['integrator'] as const;
export const SOURCE_APITYPES = ['ushahidi-v5', 'ushahidi-v2'];

export function isSourceRecord(repository: Pick<RepositoryRecord, 'apitype'>): boolean {
  return SOURCE_APITYPES.includes(repository.apitype);
}

function sources(env: ConsoleEnv): NonNullable<ConsoleEnv['sources']> {
  if (!env.sources) throw new SluiceError('SOURCES_UNAVAILABLE', 'Ushahidi sources are not available in this gateway', { status: 404 });
  return env.sources;
}

/** The page of one source (the repository page shows this for Ushahidi sources). */
export async function sourcePage(env: ConsoleEnv, ctx: PageContext, record: RepositoryRecord, instances: string[]): Promise<Html> {
  const view = (await env.sources?.list())?.find((entry) => entry.uuid === record.uuid);
  const job = await env.sync.tasks.getSchedule(record.uuid);
  const now = env.clock.now();
  const runs = await env.store.listRuns({ repository: record.uuid, limit: 5 });
  const base = `/console/repositories/${encodeURIComponent(record.uuid)}`;
  return html`<div class="section-head"><p class="mono">${record.uuid}</p>${postButton(ctx, `${base}/sync`, 'Sync Now', { className: 'primary big' })}</div>
${definitionList([
  ['Kind', record.apitype],
  ['URL', record.url ?? '—'],
  ['Deployment', view?.deployment ?? '—'],
  ['User name', view?.username ?? '—'],
  ['Password', view?.has_password ? 'stored (encrypted)' : 'none'],
  ['Posts become', view ? `${view.resource} (status in ${view.status_field})` : '—'],
  ['Mapping', view?.mapping ? html`<a href="/console/mappings/${encodeURIComponent(view.mapping)}">${view.mapping}</a>` : 'none (default statuses)'],
  ['Time zone', view?.time_zone ?? 'UTC'],
  ['Schedule', describeSchedule(job)],
])}
<section class="columns">
  <div>
    <h2>Schedule</h2>
    <form method="post" action="${base}/schedule" class="card">${csrfField(ctx)}
      <label>Poll every (seconds) <input name="interval_seconds" type="number" min="1" value="${job?.interval_seconds ?? (job?.cron ? '' : 300)}"></label>
      <label>or cron <input name="cron" value="${job?.cron ?? ''}" placeholder="*/5 * * * *"></label>
      <label class="check"><input type="checkbox" name="enabled"${job?.enabled ?? true ? html` checked` : ''}> Enabled</label>
      <button type="submit" class="primary">Save schedule</button>
    </form>
  </div>
  <div>
    <h2>Mapping</h2>
    <form method="post" action="${base}/mapping" class="card">${csrfField(ctx)}
      <label>Mapping instance <select name="instance"><option value="">none</option>${options(instances, view?.mapping)}</select></label>
      <button type="submit">Use this mapping</button>
    </form>
    <p>${postButton(ctx, `/console/sources/${encodeURIComponent(record.uuid)}/delete`, 'Remove source', { className: 'danger', confirm: `Remove ${record.name} with its schedules?` })}</p>
  </div>
</section>
<section><h2>Recent runs</h2>
${table(
  ['Started', 'Trigger', 'Result', 'Message'],
  runs.map((run) => html`<tr><td><a href="/console/runs/${encodeURIComponent(run.id)}">${time(run.started_at, now)}</a></td><td>${run.trigger}</td><td>${badge(run.status)}</td><td>${run.message ?? ''}</td></tr>`),
  { empty: 'Never run.' },
)}</section>`;
}

/** What the add form shows again after a failed check (never the password). */
interface SourceFormValues {
  name: string;
  url: string;
  type: string;
  username: string;
  resource: string;
  status_field: string;
  mapping: string;
  poll_seconds: string;
}

const EMPTY_SOURCE_FORM: SourceFormValues = {
  name: '',
  url: '',
  type: 'ushahidi-v5',
  username: '',
  resource: 'event_incident_report',
  status_field: 'status',
  mapping: '',
  poll_seconds: '300',
};

const CREDENTIAL_CODES = new Set(['USHAHIDI_LOGIN_FAILED', 'USHAHIDI_AUTH_FAILED', 'USHAHIDI_CREDENTIALS_REQUIRED', 'USHAHIDI_ACCESS_DENIED', 'USHAHIDI_FORBIDDEN']);
const ADDRESS_CODES = new Set(['USHAHIDI_BAD_BASE_URL', 'USHAHIDI_UNAVAILABLE', 'USHAHIDI_NOT_CLASSIC_API', 'USHAHIDI_BAD_RESPONSE', 'PEER_UNAVAILABLE', 'PEER_TIMEOUT']);

/** The form field a failed check is about: the password box for a refused login, the URL for an unreachable deployment. */
function sourceFieldOf(error: SluiceError): keyof SourceFormValues | 'password' | undefined {
  if (CREDENTIAL_CODES.has(error.code)) return 'password';
  if (ADDRESS_CODES.has(error.code)) return 'url';
  if (error.code === 'BAD_FORM' && error.message.startsWith('the name')) return 'name';
  if (error.code === 'BAD_FORM' && error.message.startsWith('the URL')) return 'url';
  return undefined;
}

function sourceForm(ctx: PageContext, instances: string[], values: SourceFormValues, error: Flash | undefined): Html {
  return html`<form method="post" action="/console/sources" class="card">${csrfField(ctx)}
  <label>Name <input name="name" required maxlength="64" placeholder="Flood reports Nepal" value="${values.name}"${invalid(error, 'name')}>${fieldError(error, 'name')}</label>
  <label>Deployment URL <input name="url" type="url" required placeholder="https://floods.ushahidi.io" value="${values.url}"${invalid(error, 'url')}>${fieldError(error, 'url')}</label>
  <label>API <select name="type">${options(
    [
      { value: 'ushahidi-v5', label: 'Platform (v3/v5 API)' },
      { value: 'ushahidi-v2', label: 'Classic (v2 API)' },
    ],
    values.type,
  )}</select></label>
  <label>User name <input name="username" autocomplete="off" value="${values.username}"></label>
  <label>Password <input name="password" type="password" autocomplete="new-password"${invalid(error, 'password')}>${fieldError(error, 'password')}</label>
  <div class="grid">
    <label>Posts become <input name="resource" value="${values.resource}" pattern="[a-z][a-z0-9]*_[a-z0-9_]+"></label>
    <label>Status field <input name="status_field" value="${values.status_field}"></label>
    <label>Mapping <select name="mapping"><option value="">default statuses</option>${options(instances, values.mapping || undefined)}</select></label>
    <label>Poll every (seconds) <input name="poll_seconds" type="number" min="0" value="${values.poll_seconds}"></label>
  </div>
  <p class="muted small">Sluice logs in and reads one post before it stores anything. The password is stored encrypted.</p>
  <button type="submit" class="primary">Check and add</button>
</form>`;
}

function submittedValues(req: Request): SourceFormValues {
  const text = (name: keyof SourceFormValues): string => field(req, name) ?? EMPTY_SOURCE_FORM[name];
  return {
    name: text('name'),
    url: text('url'),
    type: text('type'),
    username: text('username'),
    resource: text('resource'),
    status_field: text('status_field'),
    mapping: text('mapping'),
    poll_seconds: text('poll_seconds'),
  };
}

export function registerSources(router: Router, env: ConsoleEnv): void {
  router.get(
    '/console/sources/new',
    page(env, [...INTEGRATOR], async (req, res, ctx) => {
      sources(env);
      const instances = await listMappingInstances(env.mappingsDir).catch(() => [] as string[]);
      render(req, res, ctx, { title: 'Add an Ushahidi source', body: sourceForm(ctx, instances, EMPTY_SOURCE_FORM, undefined) });
    }),
  );

  // A failed check shows the form again with what was typed (not post/redirect/get): the password
  // is the only box to fill in again.
  router.post(
    '/console/sources',
    page(env, [...INTEGRATOR], async (req, res, ctx) => {
      const values = submittedValues(req);
      let view;
      try {
        const type = values.type;
        if (type !== 'ushahidi-v5' && type !== 'ushahidi-v2') throw new SluiceError('BAD_SOURCE', 'Choose the API of the deployment', { status: 400 });
        const username = values.username.trim() || undefined;
        const password = field(req, 'password') || undefined;
        const mapping = values.mapping.trim() || undefined;
        const poll = values.poll_seconds.trim();
        view = await sources(env).add({
          name: requiredField(req, 'name', 'the name'),
          url: requiredField(req, 'url', 'the URL'),
          type,
          ...(username === undefined ? {} : { username }),
          ...(password === undefined ? {} : { password }),
          resource: values.resource.trim() || 'event_incident_report',
          statusField: values.status_field.trim() || 'status',
          ...(mapping === undefined ? {} : { mapping }),
          ...(poll ? { pollSeconds: Number(poll) } : {}),
        });
        if (mapping) await linkMapping(env.store, env.clock, view.uuid, mapping);
      } catch (error) {
        const failure = asSluiceError(error);
        if (failure.status >= 500 && !failure.code.startsWith('USHAHIDI_') && !failure.code.startsWith('PEER_')) env.logger.error({ err: error }, 'adding a source failed');
        const named = sourceFieldOf(failure);
        const flash = formError(failure, named);
        ctx.flash = named ? { ...FIX_BELOW, message: 'Nothing was added: one of the values below needs fixing.' } : flash;
        const instances = await listMappingInstances(env.mappingsDir).catch(() => [] as string[]);
        render(req, res, ctx, { title: 'Add an Ushahidi source', body: sourceForm(ctx, instances, values, named ? flash : undefined) }, failure.status >= 500 ? 502 : 400);
        return;
      }
      await setFlash(env, req, { kind: 'ok', message: `Added the source ${view.name} (${view.deployment}).` });
      res.redirect(303, `/console/repositories/${encodeURIComponent(view.uuid)}`);
    }),
  );

  router.post(
    '/console/sources/:uuid/delete',
    action(env, [...INTEGRATOR], async (req) => {
      await sources(env).remove(String(req.params.uuid));
      return { to: '/console/repositories', flash: { kind: 'ok', message: 'Source removed with its schedules.' } };
    }),
  );
}
