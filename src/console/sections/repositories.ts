/**
 * Repositories and sources: the list; adding one fingerprint-first (URL → the peer's uuid shown →
 * the operator confirms → only then credentials, which go out with the registration); a
 * repository's settings, its tasks (mode, methods, policies, filters) and its schedule.
 */
import type { Request, Router } from 'express';
import { listMappingInstances } from '../../formats/mapping-files.js';
import { IMPORT_METHODS, POLICIES } from '../../importer/policies.js';
import type { SyncTaskRecord } from '../../store/store.js';
import type { RepositoryPatch, RepositoryView } from '../../sync/repository-registry.js';
import { applyLowBandwidthPatch, BYTES_PER_SECOND_RANGE, PAGE_SIZE_RANGE, type WireFormat } from '../../transports/low-bandwidth-settings.js';
import { SYNC_MODES } from '../../sync/task-settings.js';
import { SluiceError } from '../../errors.js';
import { asSluiceError } from '../../errors.js';
import { badge, definitionList, options, postButton, table, time } from '../components.js';
import { action, field, fieldList, page, queryText, render, requiredField, setFlash, type ConsoleEnv } from '../context.js';
import { fieldError, FIX_BELOW, formError, interactiveFix, invalid } from '../form-errors.js';
import { html, type Html } from '../html.js';
import { linkMapping, mappingInstanceOf } from '../instance-links.js';
import { csrfField, type Flash, type PageContext } from '../layout.js';
import { describeSchedule } from '../schedule-view.js';
import { isSourceRecord, sourcePage } from './sources.js';

const INTEGRATOR = ['integrator'] as const;

function repositoryPath(uuid: string, rest = ''): string {
  return `/console/repositories/${encodeURIComponent(uuid)}${rest}`;
}

function policyText(policy: SyncTaskRecord['update_policy']): string {
  if (typeof policy === 'string') return policy;
  const { __default__: fallback, ...fields } = policy;
  return [fallback, ...Object.entries(fields).map(([name, value]) => `${name}=${value}`)].join(', ');
}

/** "field=POLICY" lines → the per-field part of an update policy. */
function parseFieldPolicies(text: string): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const line of text.split(/\r?\n/)) {
    const trimmed = line.trim();
    if (trimmed === '') continue;
    const at = trimmed.indexOf('=');
    if (at <= 0) throw new SluiceError('BAD_TASK', `"${trimmed}" is not of the form field=POLICY`, { status: 400, fix: 'Write one field=POLICY per line, e.g. status=THIS' });
    fields[trimmed.slice(0, at).trim()] = trimmed.slice(at + 1).trim().toUpperCase();
  }
  return fields;
}

function lines(text: string | undefined): string[] {
  return (text ?? '')
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== '');
}

/** The task form's fields as the task registry's input (also a pool's task template). */
export function taskInput(req: Request): Record<string, unknown> {
  const fallback = (field(req, 'update_policy') ?? 'NEWER').toUpperCase();
  const perField = parseFieldPolicies(field(req, 'field_policies') ?? '');
  return {
    mode: field(req, 'mode') ?? 'both',
    strategy: fieldList(req, 'strategy'),
    update_policy: Object.keys(perField).length ? { __default__: fallback, ...perField } : fallback,
    conflict_policy: (field(req, 'conflict_policy') ?? 'NEWER').toUpperCase(),
    filters: lines(field(req, 'filters')),
    components: field(req, 'components') === 'on',
  };
}

export type TaskFieldValues = Pick<SyncTaskRecord, 'mode' | 'strategy' | 'update_policy' | 'conflict_policy' | 'filters' | 'components'>;

export function taskFields(task: TaskFieldValues | undefined): Html {
  const policy = task?.update_policy ?? 'NEWER';
  const fallback = typeof policy === 'string' ? policy : policy.__default__;
  const perField = typeof policy === 'string' ? '' : Object.entries(policy).filter(([name]) => name !== '__default__').map(([name, value]) => `${name}=${value}`).join('\n');
  const strategy = task?.strategy ?? [...IMPORT_METHODS];
  return html`<div class="grid">
  <label>Mode <select name="mode">${options(SYNC_MODES, task?.mode ?? 'both')}</select></label>
  <fieldset class="checks"><legend>Methods</legend>${IMPORT_METHODS.map(
    (method) => html`<label><input type="checkbox" name="strategy" value="${method}"${strategy.includes(method) ? html` checked` : ''}> ${method}</label>`,
  )}</fieldset>
  <label>Update policy <select name="update_policy">${options(POLICIES, fallback)}</select></label>
  <label>Conflict policy <select name="conflict_policy">${options(POLICIES, task?.conflict_policy ?? 'NEWER')}</select></label>
  <label>Per-field policies <textarea name="field_policies" rows="2" placeholder="status=THIS">${perField}</textarea></label>
  <label>Filters <textarea name="filters" rows="2" placeholder="~.obsolete=False">${(task?.filters ?? []).join('\n')}</textarea></label>
  <label class="check"><input type="checkbox" name="components"${task?.components ?? true ? html` checked` : ''}> Components travel with their masters</label>
</div>`;
}

function addSteps(current: number): Html {
  const steps = ['Address', 'Confirm the peer', 'Credentials'];
  return html`<ol class="steps">${steps.map((label, i) => html`<li${i + 1 === current ? html` aria-current="step"` : ''}>${label}</li>`)}</ol>`;
}

function addressForm(ctx: PageContext, url = '', proxy = ''): Html {
  return html`${addSteps(1)}
<form method="post" action="/console/repositories/new/fingerprint" class="card">
  ${csrfField(ctx)}
  <label>Peer URL <input name="url" type="url" required value="${url}" placeholder="https://eden.example.org/eden" size="48"></label>
  <label>Proxy (optional) <input name="proxy" type="url" value="${proxy}" placeholder="http://proxy.example.org:3128"></label>
  <p class="muted small">Sluice first asks the peer who it is, without sending any password.</p>
  <button type="submit" class="primary">Look up the peer</button>
</form>`;
}

/** The low-bandwidth form fields, named as the registry names them (so its errors point at them). */
const LOW_BANDWIDTH_FIELDS = ['wire_format', 'page_size', 'max_bytes_per_second'] as const;
type LowBandwidthField = (typeof LOW_BANDWIDTH_FIELDS)[number];

/** Which low-bandwidth field a registry error is about, to show it next to that field. */
export function lowBandwidthFieldOf(code: string, message: string): LowBandwidthField | undefined {
  if (code === 'WIRE_FORMAT_UNSUPPORTED') return 'wire_format';
  if (code !== 'BAD_REPOSITORY') return undefined;
  return LOW_BANDWIDTH_FIELDS.find((name) => message.startsWith(`${name} `));
}

const repositoryErrorField = (error: SluiceError): string | undefined => lowBandwidthFieldOf(error.code, error.message);

/** An empty box removes the option (null); anything else goes to the registry to be checked. */
function optionalNumber(req: Request, name: LowBandwidthField): number | null {
  const text = field(req, name)?.trim() ?? '';
  return text === '' ? null : Number(text);
}

function wireFormatOf(req: Request): WireFormat | undefined {
  const value = field(req, 'wire_format')?.trim();
  return value === undefined || value === '' ? undefined : (value as WireFormat);
}

/** The form's low-bandwidth options as a registry patch. */
function lowBandwidthPatch(req: Request): Pick<RepositoryPatch, 'wire_format' | 'page_size' | 'max_bytes_per_second'> {
  const wireFormat = wireFormatOf(req);
  return {
    ...(wireFormat === undefined ? {} : { wire_format: wireFormat }),
    page_size: optionalNumber(req, 'page_size'),
    max_bytes_per_second: optionalNumber(req, 'max_bytes_per_second'),
  };
}

/**
 * The error of the last save when it was about one field: shown next to that field, with only a
 * pointer to it at the top of the page.
 */
function takeFieldError(ctx: PageContext): Flash | undefined {
  const flash = ctx.flash;
  if (!flash || flash.kind !== 'error' || !flash.field) return undefined;
  ctx.flash = { kind: 'error', message: 'Nothing was saved: one of the values below needs fixing.' };
  return flash;
}

export interface LowBandwidthValues {
  wire_format: WireFormat;
  /** As stored, or as typed when a form comes back with an error. */
  page_size?: number | string;
  max_bytes_per_second?: number | string;
}

/**
 * Wire format, page size and bandwidth cap. S3JSON is offered only to Sluice peers: Eden reads and
 * answers S3XML only (the registry refuses it for them too).
 */
function lowBandwidthFields(values: LowBandwidthValues, sluicePeer: boolean, error: Flash | undefined): Html {
  const formats = sluicePeer
    ? [
        { value: 's3xml', label: 'S3XML (Eden\u2019s format)' },
        { value: 's3json', label: 'S3JSON (smaller; Sluice peers only)' },
      ]
    : [{ value: 's3xml', label: 'S3XML (the only format Eden speaks)' }];
  return html`<fieldset class="low-bandwidth"><legend>Slow links</legend>
  <label>Wire format <select name="wire_format"${invalid(error, 'wire_format')}>${options(formats, values.wire_format)}</select>${fieldError(error, 'wire_format')}</label>
  <label>Page size (changes per page) <input name="page_size" type="number" inputmode="numeric" min="${PAGE_SIZE_RANGE.min}" max="${PAGE_SIZE_RANGE.max}" step="1" value="${values.page_size ?? ''}" placeholder="the gateway's default"${invalid(error, 'page_size')}>${fieldError(error, 'page_size')}</label>
  <label>Bandwidth cap (bytes per second) <input name="max_bytes_per_second" type="number" inputmode="numeric" min="${BYTES_PER_SECOND_RANGE.min}" max="${BYTES_PER_SECOND_RANGE.max}" step="1" value="${values.max_bytes_per_second ?? ''}" placeholder="no cap"${invalid(error, 'max_bytes_per_second')}>${fieldError(error, 'max_bytes_per_second')}</label>
  <p class="muted small">Leave a box empty for no cap or the default page size. A 9600 baud radio link carries about 1000 bytes a second.</p>
</fieldset>`;
}

/** What step 3 shows again after a refused registration (never the password). */
interface CredentialsFormValues {
  url: string;
  uuid?: string;
  proxy: string;
  name: string;
  username: string;
  accept_push: boolean;
  lowBandwidth: { wire_format: WireFormat; page_size?: string; max_bytes_per_second?: string };
}

const PEER_CREDENTIAL_CODES = new Set(['PEER_AUTH_FAILED', 'PEER_FORBIDDEN']);

/** The step-3 field a failed registration is about. */
function credentialsFieldOf(error: SluiceError): string | undefined {
  if (PEER_CREDENTIAL_CODES.has(error.code)) return 'password';
  if (error.code === 'BAD_FORM' && error.message.startsWith('the name')) return 'name';
  return lowBandwidthFieldOf(error.code, error.message);
}

function submittedCredentials(req: Request): CredentialsFormValues {
  const uuid = field(req, 'expect_uuid')?.trim() || undefined;
  const pageSize = field(req, 'page_size');
  const maxBytes = field(req, 'max_bytes_per_second');
  const wireFormat = wireFormatOf(req);
  return {
    url: field(req, 'url') ?? '',
    proxy: field(req, 'proxy') ?? '',
    name: field(req, 'name') ?? '',
    username: field(req, 'username') ?? '',
    accept_push: field(req, 'accept_push') === 'on',
    lowBandwidth: {
      wire_format: wireFormat === 's3json' ? 's3json' : 's3xml',
      ...(pageSize ? { page_size: pageSize } : {}),
      ...(maxBytes ? { max_bytes_per_second: maxBytes } : {}),
    },
    ...(uuid === undefined ? {} : { uuid }),
  };
}

function credentialsForm(ctx: PageContext, values: CredentialsFormValues, error: Flash | undefined): Html {
  const { url, uuid, proxy } = values;
  return html`${addSteps(3)}
<form method="post" action="/console/repositories" class="card">
  ${csrfField(ctx)}
  <input type="hidden" name="url" value="${url}"><input type="hidden" name="proxy" value="${proxy}">
  ${uuid ? html`<input type="hidden" name="expect_uuid" value="${uuid}"><p>Peer <span class="mono">${uuid}</span> at <span class="mono">${url}</span></p>` : html`<p>Peer at <span class="mono">${url}</span></p>`}
  <label>Name here <input name="name" required maxlength="64" value="${values.name}"${invalid(error, 'name')}>${fieldError(error, 'name')}</label>
  <label>User name at the peer <input name="username" autocomplete="off" placeholder="admin@example.org" value="${values.username}"></label>
  <label>Password at the peer <input name="password" type="password" autocomplete="new-password"${invalid(error, 'password')}>${fieldError(error, 'password')}</label>
  <label class="check"><input type="checkbox" name="accept_push"${values.accept_push ? html` checked` : ''}> Accept pushes from this peer</label>
  ${lowBandwidthFields(values.lowBandwidth, uuid !== undefined, error)}
  <p class="muted small">Sluice registers with the peer now. Only then is the password stored (encrypted; it is never shown again).</p>
  <button type="submit" class="primary">Add and register</button>
</form>`;
}

/** Tables this gateway holds records of, and those the peer advertised on the LAN. */
async function knownTables(env: ConsoleEnv, repository: string): Promise<string[]> {
  const advertised = (await env.store.getDiscoveredGateway(repository))?.advert['tables'];
  return [...(await env.store.resources()).map((entry) => entry.resource), ...(Array.isArray(advertised) ? advertised.filter((table): table is string => typeof table === 'string') : [])];
}

export function registerRepositories(router: Router, env: ConsoleEnv): void {
  router.get(
    '/console/repositories',
    page(env, [...INTEGRATOR], async (req, res, ctx) => {
      const now = env.clock.now();
      const repositories = await env.sync.repositories.list();
      const jobs = new Map((await env.store.listJobs({ kind: 'sync' })).map((job) => [job.target, job] as const));
      const kinds = new Map((await env.store.listRepositories()).filter(isSourceRecord).map((record) => [record.uuid, record.apitype] as const));
      const rows: Html[] = [];
      for (const repository of repositories) {
        const tasks = await env.store.listTasks({ repository: repository.uuid });
        const [lastRun] = await env.store.listRuns({ repository: repository.uuid, limit: 1 });
        rows.push(html`<tr>
  <td><a href="${repositoryPath(repository.uuid)}">${repository.name}</a></td>
  <td class="mono small">${repository.url ?? '—'}</td>
  <td>${kinds.get(repository.uuid) ?? repository.software}${repository.registered_by_peer && !repository.url ? html` <span class="muted small">(registered itself)</span>` : ''}</td>
  <td>${tasks.map((task) => task.resource).join(', ') || html`<span class="muted">none</span>`}</td>
  <td>${describeSchedule(jobs.get(repository.uuid))}</td>
  <td>${lastRun ? html`${badge(lastRun.status)} ${time(lastRun.started_at, now)}` : badge('never', 'never run')}</td>
</tr>`);
      }
      render(req, res, ctx, {
        title: 'Repositories and sources',
        body: html`<p class="buttons"><a class="button primary" href="/console/repositories/new">Add a repository</a>${env.sources ? html` <a class="button" href="/console/sources/new">Add an Ushahidi source</a>` : ''}</p>
${table(['Name', 'URL', 'Kind', 'Tasks', 'Schedule', 'Last run'], rows, { empty: 'No repositories yet.' })}`,
      });
    }),
  );

  router.get(
    '/console/repositories/new',
    page(env, [...INTEGRATOR], (req, res, ctx) => {
      render(req, res, ctx, { title: 'Add a repository', body: addressForm(ctx, queryText(req, 'url') ?? '') });
    }),
  );

  router.post(
    '/console/repositories/new/fingerprint',
    page(env, [...INTEGRATOR], async (req, res, ctx) => {
      const url = (field(req, 'url') ?? '').trim();
      const proxy = (field(req, 'proxy') ?? '').trim();
      let found;
      try {
        if (!url) throw new SluiceError('BAD_REPOSITORY', 'Give the peer URL', { status: 400 });
        found = await env.sync.repositories.fingerprint(url, proxy || undefined);
      } catch (error) {
        const failure = asSluiceError(error);
        ctx.flash = formError(failure);
        render(req, res, ctx, { title: 'Add a repository', body: addressForm(ctx, url, proxy) }, failure.status >= 500 ? 502 : 400);
        return;
      }
      const hidden = html`<input type="hidden" name="url" value="${url}"><input type="hidden" name="proxy" value="${proxy}">`;
      const body = found
        ? html`${addSteps(2)}
<div class="card">
  <p>The peer at <span class="mono">${url}</span> says it is</p>
  <p class="fingerprint mono" id="peer-uuid">${found.uuid}</p>
  ${found.name ? html`<p>named <strong id="peer-name">${found.name}</strong> (a Sluice gateway).</p>` : ''}
  <p>Check this uuid with the peer's administrator (it is on their Settings page) before you send credentials to it.</p>
  <form method="get" action="/console/repositories/new/credentials" class="inline">
    ${hidden}<input type="hidden" name="uuid" value="${found.uuid}"><input type="hidden" name="name" value="${found.name ?? ''}">
    <button type="submit" class="primary">Yes, this is the peer I expect</button>
  </form>
  <a class="button" href="/console/repositories/new">No, start again</a>
</div>`
        : html`${addSteps(2)}
<div class="card">
  <p>The peer at <span class="mono">${url}</span> does not publish its uuid: it is probably a Sahana Eden instance.</p>
  <p class="flash flash-error">Eden tells its uuid only when this gateway registers with it, so the credentials you give next are sent to that URL before its identity is known. Make sure the address is right (https).</p>
  <form method="get" action="/console/repositories/new/credentials" class="inline">
    ${hidden}
    <button type="submit" class="primary">Continue and give credentials</button>
  </form>
  <a class="button" href="/console/repositories/new">Start again</a>
</div>`;
      render(req, res, ctx, { title: 'Add a repository', body });
    }),
  );

  router.get(
    '/console/repositories/new/credentials',
    page(env, [...INTEGRATOR], (req, res, ctx) => {
      const uuid = queryText(req, 'uuid');
      const values: CredentialsFormValues = {
        url: queryText(req, 'url') ?? '',
        proxy: queryText(req, 'proxy') ?? '',
        name: queryText(req, 'name') ?? '',
        username: '',
        accept_push: true,
        lowBandwidth: { wire_format: 's3xml' },
        ...(uuid === undefined ? {} : { uuid }),
      };
      render(req, res, ctx, { title: 'Add a repository', body: credentialsForm(ctx, values, takeFieldError(ctx)) });
    }),
  );

  // A refused registration shows the form again with what was typed (not post/redirect/get): only
  // the password has to be given again.
  router.post(
    '/console/repositories',
    page(env, [...INTEGRATOR], async (req, res, ctx) => {
      const values = submittedCredentials(req);
      let view;
      try {
        const username = values.username.trim() || undefined;
        const password = field(req, 'password') || undefined;
        const expect = values.uuid;
        const proxy = values.proxy.trim() || undefined;
        const { page_size: pageSize, max_bytes_per_second: maxBytes, wire_format: wireFormat } = lowBandwidthPatch(req);
        const name = requiredField(req, 'name', 'the name');
        // The registry checks these only after registering with the peer: a bad page size would
        // send the credentials out and then store nothing. Checked here first, the same way.
        applyLowBandwidthPatch(
          { wire_format: 's3xml' },
          { ...(wireFormat === undefined ? {} : { wire_format: wireFormat }), page_size: pageSize, max_bytes_per_second: maxBytes },
          { software: expect === undefined ? 'eden' : 'sluice', name },
        );
        view = await env.sync.repositories.add({
          name,
          url: requiredField(req, 'url', 'the URL'),
          ...(username === undefined ? {} : { username }),
          ...(password === undefined ? {} : { password }),
          ...(expect === undefined ? {} : { expect_uuid: expect }),
          ...(proxy === undefined ? {} : { proxy }),
          accept_push: values.accept_push,
          ...(wireFormat === undefined ? {} : { wire_format: wireFormat }),
          ...(pageSize === null || pageSize === undefined ? {} : { page_size: pageSize }),
          ...(maxBytes === null || maxBytes === undefined ? {} : { max_bytes_per_second: maxBytes }),
        });
      } catch (error) {
        const failure = asSluiceError(error);
        if (failure.status >= 500 && !failure.code.startsWith('PEER_')) env.logger.error({ err: error }, 'adding a repository failed');
        const named = credentialsFieldOf(failure);
        // The peer client's fix speaks of the password "stored for this repository"; nothing is stored yet.
        const fix = named === 'password' && failure.code === 'PEER_AUTH_FAILED' ? 'Check the user name (Eden: the email) and password of your account at the peer' : interactiveFix(failure);
        const flash = formError(failure, named, fix);
        ctx.flash = named ? { ...FIX_BELOW, message: 'Nothing was added: one of the values below needs fixing.' } : flash;
        render(req, res, ctx, { title: 'Add a repository', body: credentialsForm(ctx, values, named ? flash : undefined) }, failure.status >= 500 ? 502 : 400);
        return;
      }
      await setFlash(env, req, { kind: 'ok', message: `Added ${view.name} (${view.uuid}). Now add a task for each resource to synchronize.` });
      res.redirect(303, repositoryPath(view.uuid));
    }),
  );

  router.get(
    '/console/repositories/:uuid',
    page(env, [...INTEGRATOR], async (req, res, ctx) => {
      const record = await env.sync.repositories.resolve(String(req.params.uuid));
      if (isSourceRecord(record)) {
        const instances = await listMappingInstances(env.mappingsDir).catch(() => [] as string[]);
        render(req, res, ctx, { title: record.name, body: await sourcePage(env, ctx, record, instances) });
        return;
      }
      const error = takeFieldError(ctx);
      const repository: RepositoryView = (await env.sync.repositories.list()).find((view) => view.uuid === record.uuid)!;
      const tasks = await env.store.listTasks({ repository: record.uuid });
      const job = await env.sync.tasks.getSchedule(record.uuid);
      const instances = await listMappingInstances(env.mappingsDir).catch(() => [] as string[]);
      const linked = mappingInstanceOf(record);
      const resources = (await env.store.resources()).map((entry) => entry.resource);
      const base = repositoryPath(record.uuid);
      const now = env.clock.now();
      const runs = await env.store.listRuns({ repository: record.uuid, limit: 5 });

      const taskRows = tasks.map(
        (task) => html`<tr>
  <td><strong>${task.resource}</strong></td><td>${task.mode}</td><td>${task.strategy.join(', ')}</td>
  <td>${policyText(task.update_policy)} / ${task.conflict_policy}</td><td class="mono small">${task.filters.join(' & ') || '—'}</td>
  <td><details><summary>Edit</summary>
    <form method="post" action="${base}/tasks/${encodeURIComponent(task.id)}" class="card">${csrfField(ctx)}${taskFields(task)}<button type="submit" class="primary">Save task</button></form>
    ${postButton(ctx, `${base}/tasks/${encodeURIComponent(task.id)}/delete`, 'Remove task', { className: 'danger', confirm: `Remove the ${task.resource} task and its checkpoints?` })}
  </details></td>
</tr>`,
      );

      const body = html`<div class="section-head">
  <p class="mono">${record.uuid}</p>
  ${postButton(ctx, `${base}/sync`, 'Sync Now', { className: 'primary big' })}
</div>
${definitionList([
  ['URL', repository.url ?? html`<span class="muted">none (the peer registered itself)</span>`],
  ['Kind', repository.software],
  ['Peer calls itself', repository.peer_name ?? '—'],
  ['User name', repository.username ?? '—'],
  ['Password', repository.has_password ? 'stored (encrypted)' : 'none'],
  ['Registered', repository.registered_at ? time(repository.registered_at, now) : 'no'],
  ['Accepts pushes', repository.accept_push ? 'yes' : 'no'],
  ['Wire format', repository.wire_format],
  ['Page size', repository.page_size ?? 'default'],
  ['Bandwidth cap', repository.max_bytes_per_second === undefined ? 'none' : `${repository.max_bytes_per_second} bytes/s`],
  ['Mapping', linked ? html`<a href="/console/mappings/${encodeURIComponent(linked)}">${linked}</a>` : 'none'],
  ['Schedule', describeSchedule(job)],
])}
<section>
  <h2>Tasks</h2>
  ${table(['Resource', 'Mode', 'Methods', 'Policies (update / conflict)', 'Filters', ''], taskRows, { empty: 'No tasks: nothing is synchronized with this repository yet.' })}
  <details class="card"${tasks.length === 0 ? html` open` : ''}><summary>Add a task</summary>
    <form method="post" action="${base}/tasks">${csrfField(ctx)}
      <label>Resource <input name="resource" list="resource-names" required pattern="[a-z][a-z0-9]*_[a-z0-9_]+" placeholder="org_office"></label>
      <datalist id="resource-names">${resources.map((name) => html`<option value="${name}"></option>`)}</datalist>
      ${taskFields(undefined)}
      <button type="submit" class="primary">Add task</button>
    </form>
  </details>
</section>
<section class="columns">
  <div>
    <h2>Schedule</h2>
    <form method="post" action="${base}/schedule" class="card">${csrfField(ctx)}
      <label>Every (seconds) <input name="interval_seconds" type="number" min="1" value="${job?.interval_seconds ?? (job?.cron ? '' : 600)}"></label>
      <label>or cron <input name="cron" value="${job?.cron ?? ''}" placeholder="*/10 * * * *"></label>
      <label class="check"><input type="checkbox" name="enabled"${job?.enabled ?? true ? html` checked` : ''}> Enabled</label>
      <button type="submit" class="primary">Save schedule</button>
    </form>
    ${job ? postButton(ctx, `${base}/schedule/delete`, 'Remove schedule', { className: 'danger' }) : ''}
  </div>
  <div>
    <h2>Settings</h2>
    <form method="post" action="${base}" class="card" id="repository-settings">${csrfField(ctx)}
      <label>Name <input name="name" required maxlength="64" value="${record.name}"></label>
      <label>URL <input name="url" type="url" value="${repository.url ?? ''}"></label>
      <label>User name <input name="username" autocomplete="off" value="${repository.username ?? ''}"></label>
      <label>New password <input name="password" type="password" autocomplete="new-password" placeholder="${repository.has_password ? 'unchanged' : ''}"></label>
      <label>Proxy <input name="proxy" value="${repository.proxy ?? ''}" placeholder="the gateway's default"></label>
      <label class="check"><input type="checkbox" name="accept_push"${repository.accept_push ? html` checked` : ''}> Accept pushes</label>
      ${lowBandwidthFields(repository, repository.software === 'sluice', error)}
      <button type="submit" class="primary">Save settings</button>
    </form>
    <form method="post" action="${base}/mapping" class="card">${csrfField(ctx)}
      <label>Mapping instance <select name="instance"><option value="">none</option>${options(instances, linked)}</select></label>
      <button type="submit">Use this mapping</button>
    </form>
    <p>${postButton(ctx, `${base}/register`, 'Register again')} ${postButton(ctx, `${base}/delete`, 'Remove repository', { className: 'danger', confirm: `Remove ${record.name} with its tasks and schedule?` })}</p>
  </div>
</section>
<section>
  <h2>Recent runs</h2>
  ${table(
    ['Started', 'Trigger', 'Result', 'Message'],
    runs.map((run) => html`<tr><td><a href="/console/runs/${encodeURIComponent(run.id)}">${time(run.started_at, now)}</a></td><td>${run.trigger}</td><td>${badge(run.status)}</td><td>${run.message ?? ''}</td></tr>`),
    { empty: 'Never run.' },
  )}
  <p><a href="/console/log?repository=${encodeURIComponent(record.uuid)}">Log of this repository</a></p>
</section>`;
      render(req, res, ctx, { title: record.name, body });
    }),
  );

  const uuidOf = (req: Request) => String(req.params.uuid);

  router.post(
    '/console/repositories/:uuid',
    action(env, [...INTEGRATOR], async (req) => {
      const password = field(req, 'password');
      const view = await env.sync.repositories.update(uuidOf(req), {
        name: requiredField(req, 'name', 'the name'),
        ...(field(req, 'url')?.trim() ? { url: field(req, 'url')!.trim() } : {}),
        username: field(req, 'username')?.trim() || null,
        ...(password ? { password } : {}),
        proxy: field(req, 'proxy')?.trim() || null,
        accept_push: field(req, 'accept_push') === 'on',
        ...lowBandwidthPatch(req),
      });
      return { to: repositoryPath(view.uuid), flash: { kind: 'ok', message: 'Settings saved.' } };
    }, '/console/repositories', repositoryErrorField),
  );

  router.post(
    '/console/repositories/:uuid/register',
    action(env, [...INTEGRATOR], async (req) => {
      const view = await env.sync.repositories.register(uuidOf(req));
      return { to: repositoryPath(view.uuid), flash: { kind: 'ok', message: `Registered with ${view.name} again.` } };
    }),
  );

  router.post(
    '/console/repositories/:uuid/delete',
    action(env, [...INTEGRATOR], async (req) => {
      await env.sync.repositories.remove(uuidOf(req));
      return { to: '/console/repositories', flash: { kind: 'ok', message: 'Repository removed.' } };
    }),
  );

  router.post(
    '/console/repositories/:uuid/mapping',
    action(env, [...INTEGRATOR], async (req) => {
      const record = await env.sync.repositories.resolve(uuidOf(req));
      const instance = field(req, 'instance')?.trim() || undefined;
      await linkMapping(env.store, env.clock, record.uuid, instance);
      return { to: repositoryPath(record.uuid), flash: { kind: 'ok', message: instance ? `Runs with ${record.name} now apply the mapping ${instance}.` : 'No mapping is applied now.' } };
    }),
  );

  router.post(
    '/console/repositories/:uuid/tasks',
    action(env, [...INTEGRATOR], async (req) => {
      const task = await env.sync.tasks.add(uuidOf(req), requiredField(req, 'resource', 'the resource'), taskInput(req));
      // Only a warning, as in the CLI: the peer may hold tables this gateway has never seen.
      const known = await knownTables(env, task.repository);
      const unknown = !known.includes(task.resource);
      return {
        to: repositoryPath(task.repository),
        flash: {
          kind: unknown ? 'warning' : 'ok',
          message: `Task for ${task.resource} added.${unknown ? ` Neither this gateway nor what it has heard from the peer knows a table ${task.resource}.` : ''}`,
          ...(unknown ? { fix: 'Check the spelling; a mistaken task can be edited or removed below.' } : {}),
        },
      };
    }),
  );

  router.post(
    '/console/repositories/:uuid/tasks/:id',
    action(env, [...INTEGRATOR], async (req) => {
      const task = await env.sync.tasks.update(String(req.params.id), taskInput(req));
      return { to: repositoryPath(task.repository), flash: { kind: 'ok', message: `Task for ${task.resource} saved.` } };
    }),
  );

  router.post(
    '/console/repositories/:uuid/tasks/:id/delete',
    action(env, [...INTEGRATOR], async (req) => {
      const task = await env.sync.tasks.get(String(req.params.id));
      await env.sync.tasks.remove(task.id);
      return { to: repositoryPath(task.repository), flash: { kind: 'ok', message: `Task for ${task.resource} removed.` } };
    }),
  );

  router.post(
    '/console/repositories/:uuid/schedule',
    action(env, [...INTEGRATOR], async (req) => {
      const cron = field(req, 'cron')?.trim();
      const interval = field(req, 'interval_seconds')?.trim();
      const enabled = field(req, 'enabled') === 'on';
      const input = cron ? { cron, enabled } : { interval_seconds: Number(interval || '0'), enabled };
      const job = await env.sync.tasks.setSchedule(uuidOf(req), input);
      return { to: repositoryPath(job.target), flash: { kind: 'ok', message: `Schedule saved: ${describeSchedule(job)}.` } };
    }),
  );

  router.post(
    '/console/repositories/:uuid/schedule/delete',
    action(env, [...INTEGRATOR], async (req) => {
      const record = await env.sync.repositories.resolve(uuidOf(req));
      await env.sync.tasks.removeSchedule(record.uuid);
      return { to: repositoryPath(record.uuid), flash: { kind: 'ok', message: 'Schedule removed: the repository runs only with Sync Now.' } };
    }),
  );
}
