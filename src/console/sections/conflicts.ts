/**
 * The conflict queue: updates that a policy did not settle, waiting for a person. One conflict
 * shows field by field what the local and the remote version hold; the person keeps the local
 * version, takes the remote one, or chooses per field. The record as it is now is shown under it.
 */
import type { Request, Router } from 'express';
import { SluiceError } from '../../errors.js';
import { dataValue, type FieldValue } from '../../s3xml/model.js';
import type { ConflictStatus, StoredRecord } from '../../store/store.js';
import type { FieldDifference, Resolution, Side } from '../../sync/conflict-queue.js';
import { hasRole } from '../../auth/users.js';
import { badge, definitionList, options, shorten, table, time } from '../components.js';
import { action, field, page, queryText, render, type ConsoleEnv } from '../context.js';
import { html, type Html } from '../html.js';
import { csrfField } from '../layout.js';

function shown(value: FieldValue | undefined, text?: string): Html {
  if (value === undefined) return html`<span class="muted">(absent)</span>`;
  const machine = typeof value === 'string' ? value : JSON.stringify(value);
  return text !== undefined && text !== machine ? html`<span>${text}</span> <span class="mono muted small">${machine}</span>` : html`<span>${machine}</span>`;
}

function recordTable(record: StoredRecord): Html {
  const rows = [
    ...record.data.map((data) => html`<tr><th scope="row">${data.field}</th><td>${shown(dataValue(data), data.text)}</td></tr>`),
    ...record.references.map((reference) => html`<tr><th scope="row">${reference.field}</th><td>→ ${reference.resource} <span class="mono small">${reference.uuid ?? ''}</span></td></tr>`),
  ];
  return html`<div class="scroll"><table class="record" id="current-record"><tbody>
<tr><th scope="row">modified_on</th><td>${record.modified_on}</td></tr>
<tr><th scope="row">deleted</th><td>${record.deleted ? 'yes' : 'no'}</td></tr>
${rows}</tbody></table></div>`;
}

function conflictId(req: Request): number {
  const raw = String(req.params.id);
  if (!/^\d+$/.test(raw)) throw new SluiceError('CONFLICT_NOT_FOUND', `There is no conflict ${raw}`, { status: 404 });
  return Number(raw);
}

/** The form's choice: one of the two buttons, or a side per field. */
function resolutionFrom(req: Request, differences: FieldDifference[]): Resolution {
  const keep = field(req, 'keep');
  if (keep === 'local' || keep === 'remote') return { keep };
  const fields: Record<string, Side> = {};
  for (const difference of differences) {
    const side = field(req, `field:${difference.field}`);
    if (side === 'local' || side === 'remote') fields[difference.field] = side;
  }
  if (Object.keys(fields).length === 0) throw new SluiceError('BAD_RESOLUTION', 'Choose a version for at least one field', { status: 400 });
  return { fields };
}

export function registerConflicts(router: Router, env: ConsoleEnv): void {
  router.get(
    '/console/conflicts',
    page(env, ['analyst', 'integrator'], async (req, res, ctx) => {
      const now = env.clock.now();
      const statusText = queryText(req, 'status') ?? 'open';
      const status: ConflictStatus | undefined = statusText === 'resolved' || statusText === 'open' ? statusText : undefined;
      const conflicts = await env.sync.conflicts.list({ ...(status ? { status } : {}), limit: 200 });
      const names = new Map((await env.store.listRepositories()).map((entry) => [entry.uuid, entry.name] as const));
      const rows = conflicts.map(
        (conflict) => html`<tr>
  <td><a href="/console/conflicts/${conflict.id}">#${conflict.id}</a></td>
  <td>${time(conflict.created_at, now)}</td>
  <td>${conflict.resource}<br><span class="mono small">${shorten(conflict.uuid, 48)}</span></td>
  <td>${conflict.repository ? names.get(conflict.repository) ?? shorten(conflict.repository, 24) : '—'}</td>
  <td>${conflict.method} · ${conflict.policy}</td>
  <td>${conflict.fields.join(', ')}</td>
  <td>${badge(conflict.status)}</td>
</tr>`,
      );
      render(req, res, ctx, {
        title: 'Conflicts',
        body: html`<form method="get" action="/console/conflicts" class="filters">
  <label>Show <select name="status">${options(
    [
      { value: 'open', label: 'open' },
      { value: 'resolved', label: 'resolved' },
      { value: 'all', label: 'all' },
    ],
    status ?? 'all',
  )}</select></label> <button type="submit">Show</button>
</form>
${table(['', 'Found', 'Record', 'From', 'Method · policy', 'Fields that differ', 'Status'], rows, {
  empty: status === 'open' ? 'No open conflicts: every update was settled by its policy.' : 'No conflicts.',
})}`,
      });
    }),
  );

  router.get(
    '/console/conflicts/:id',
    page(env, ['analyst', 'integrator'], async (req, res, ctx) => {
      const conflict = await env.sync.conflicts.get(conflictId(req));
      const current = await env.store.getRecord(conflict.resource, conflict.uuid);
      const repository = conflict.repository ? await env.store.getRepository(conflict.repository) : undefined;
      const mayResolve = hasRole(ctx.user, 'integrator') && conflict.status === 'open';
      const rows = conflict.differences.map(
        (difference) => html`<tr>
  <th scope="row">${difference.field}</th>
  <td class="side-local">${shown(difference.local, difference.local_text)}</td>
  <td class="side-remote">${shown(difference.remote, difference.remote_text)}</td>
  ${mayResolve
    ? html`<td class="choice"><label><input type="radio" name="field:${difference.field}" value="local" checked> local</label>
    <label><input type="radio" name="field:${difference.field}" value="remote"> remote</label></td>`
    : ''}
</tr>`,
      );
      const diff = table(['Field', 'Local (here)', `Remote (${repository?.name ?? 'peer'})`, ...(mayResolve ? ['Keep'] : [])], rows, { className: 'diff' });
      const body = html`${definitionList([
        ['Record', html`${conflict.resource} <span class="mono small">${conflict.uuid}</span>`],
        ['From', repository ? html`<a href="/console/repositories/${encodeURIComponent(repository.uuid)}">${repository.name}</a>` : conflict.repository ?? 'unknown'],
        ['Method', conflict.method],
        ['Policy that did not settle it', conflict.policy],
        ['Found', time(conflict.created_at)],
        ['Status', html`${badge(conflict.status)}${conflict.resolved_at ? html` ${time(conflict.resolved_at)}` : ''}`],
        ...(conflict.resolution ? ([['Resolution', html`<span class="mono">${JSON.stringify(conflict.resolution)}</span>`]] as [string, Html][]) : []),
      ])}
${mayResolve
  ? html`<form method="post" action="/console/conflicts/${conflict.id}/resolve" class="resolve">
  ${csrfField(ctx)}
  ${diff}
  <div class="buttons">
    <button type="submit" name="keep" value="local">Keep local</button>
    <button type="submit" name="keep" value="remote">Take remote</button>
    <button type="submit" class="primary" id="apply-choices">Apply my choices per field</button>
  </div>
</form>`
  : diff}
<section><h2>The record now</h2>
${current ? recordTable(current) : html`<p class="empty">The record does not exist here${conflict.status === 'open' ? ' (taking the remote version creates it)' : ''}.</p>`}
</section>`;
      render(req, res, ctx, { title: `Conflict #${conflict.id}`, body });
    }),
  );

  router.post(
    '/console/conflicts/:id/resolve',
    action(
      env,
      ['integrator'],
      async (req, user) => {
        const id = conflictId(req);
        const conflict = await env.sync.conflicts.get(id);
        const resolution = resolutionFrom(req, conflict.differences);
        await env.sync.conflicts.resolve(id, resolution, user.username);
        const what = 'keep' in resolution ? `kept the ${resolution.keep} version` : `applied your choice for ${Object.keys(resolution.fields).length} field(s)`;
        return { to: `/console/conflicts/${id}`, flash: { kind: 'ok', message: `Conflict #${id} resolved: ${what}.` } };
      },
      '/console/conflicts',
    ),
  );
}
