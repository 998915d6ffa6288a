/**
 * The sync log (Eden's sync_log fields) with filters by repository, resource, result and run, paged
 * back by id; and one entry in full.
 */
import type { Router } from 'express';
import { SluiceError } from '../../errors.js';
import type { LogEntry, LogQuery, LogResult } from '../../store/store.js';
import { badge, definitionList, options, shorten, table, time } from '../components.js';
import { page, queryText, render, type ConsoleEnv } from '../context.js';
import { html, query } from '../html.js';

const RESULTS: LogResult[] = ['success', 'warning', 'error', 'fatal'];
const PAGE_SIZE = 50;

const MODE_WORDS: Readonly<Record<string, string>> = {
  'pull/outgoing': 'pulled from the peer',
  'push/outgoing': 'pushed to the peer',
  'pull/incoming': 'the peer pulled from here',
  'push/incoming': 'the peer pushed here',
  'none/none': 'none (a check)',
};

/** Eden's log mode ("pull/outgoing": the method, then which side started it) in plain words; the API keeps Eden's. */
export function describeMode(mode: string): string {
  return MODE_WORDS[mode] ?? mode;
}

export function registerSyncLog(router: Router, env: ConsoleEnv): void {
  router.get(
    '/console/log',
    page(env, [], async (req, res, ctx) => {
      const now = env.clock.now();
      const repository = queryText(req, 'repository');
      const resource = queryText(req, 'resource');
      const resultText = queryText(req, 'result');
      const result = resultText && (RESULTS as string[]).includes(resultText) ? (resultText as LogResult) : undefined;
      const run = queryText(req, 'run');
      const before = queryText(req, 'before');
      const beforeId = before && /^\d+$/.test(before) ? Number(before) : undefined;
      const filter: LogQuery = {
        ...(repository ? { repository } : {}),
        ...(resource ? { resource } : {}),
        ...(result ? { result } : {}),
        ...(run ? { run_id: run } : {}),
        ...(beforeId ? { beforeId } : {}),
        limit: PAGE_SIZE + 1,
      };
      const entries = await env.store.listLog(filter);
      const more = entries.length > PAGE_SIZE;
      const shown = entries.slice(0, PAGE_SIZE);
      const repositories = await env.store.listRepositories();
      const names = new Map(repositories.map((entry) => [entry.uuid, entry.name] as const));
      const resources = (await env.store.listTasks()).map((task) => task.resource);
      const rows = shown.map(
        (entry) => html`<tr class="result-${entry.result}">
  <td><a href="/console/log/${entry.id}">${time(entry.timestmp, now)}</a></td>
  <td>${entry.repository ? names.get(entry.repository) ?? shorten(entry.repository, 24) : '—'}</td>
  <td>${entry.resource ?? '—'}</td>
  <td class="small">${describeMode(entry.mode)}</td>
  <td>${entry.action}</td>
  <td>${badge(entry.result)}${entry.remote ? html` <span class="badge badge-muted" title="The peer's fault">remote</span>` : ''}</td>
  <td class="message-cell">${shorten(entry.message, 160)}</td>
</tr>`,
      );
      const filters = html`<form method="get" action="/console/log" class="filters">
  <label>Repository <select name="repository"><option value="">all</option>${options(
    repositories.map((entry) => ({ value: entry.uuid, label: entry.name })),
    repository,
  )}</select></label>
  <label>Resource <input name="resource" list="log-resources" value="${resource ?? ''}" size="16"></label>
  <datalist id="log-resources">${[...new Set(resources)].map((name) => html`<option value="${name}"></option>`)}</datalist>
  <label>Result <select name="result"><option value="">all</option>${options(RESULTS, result)}</select></label>
  ${run ? html`<input type="hidden" name="run" value="${run}"><span class="badge badge-info">run ${shorten(run, 13)}</span>` : ''}
  <button type="submit">Filter</button> <a href="/console/log">Clear</a>
</form>`;
      const older = more
        ? html`<p><a class="button" href="/console/log${query({ repository, resource, result, run, before: shown[shown.length - 1]!.id })}">Older entries</a></p>`
        : '';
      render(req, res, ctx, {
        title: 'Sync log',
        body: html`${filters}${table(['When', 'Repository', 'Resource', 'Direction', 'Action', 'Result', 'Message'], rows, { empty: 'No log entries match.', className: 'log' })}${older}`,
      });
    }),
  );

  router.get(
    '/console/log/:id',
    page(env, [], async (req, res, ctx) => {
      const raw = String(req.params.id);
      const id = /^\d+$/.test(raw) ? Number(raw) : Number.NaN;
      const [entry]: (LogEntry | undefined)[] = Number.isNaN(id) ? [] : await env.store.listLog({ beforeId: id + 1, limit: 1 });
      if (!entry || entry.id !== id) throw new SluiceError('LOG_ENTRY_NOT_FOUND', `There is no log entry ${raw}`, { status: 404, fix: 'Go back to the sync log' });
      const repository = entry.repository ? await env.store.getRepository(entry.repository) : undefined;
      const body = html`${definitionList([
        ['Time', time(entry.timestmp)],
        ['Repository', entry.repository ? html`${repository ? html`<a href="/console/repositories/${encodeURIComponent(entry.repository)}">${repository.name}</a> ` : ''}<span class="mono small">${entry.repository}</span>` : '—'],
        ['Resource', entry.resource ?? 'none'],
        ['Direction', describeMode(entry.mode)],
        ['Action', entry.action],
        ['Result', badge(entry.result)],
        ['Remote (the peer\u2019s fault)', entry.remote ? 'yes' : 'no'],
        ['Run', entry.run_id ? html`<a href="/console/runs/${encodeURIComponent(entry.run_id)}">${entry.run_id}</a>` : '—'],
        ['Entry', String(entry.id)],
      ])}
<h2>Message</h2>
<pre class="message">${entry.message}</pre>
<p><a href="/console/log${query({ run: entry.run_id })}">${entry.run_id ? 'Every entry of this run' : 'Back to the log'}</a></p>`;
      render(req, res, ctx, { title: `Log entry ${entry.id}`, body });
    }),
  );
}
