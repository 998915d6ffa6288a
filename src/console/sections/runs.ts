/**
 * Run history: every run of a job or of Sync Now with its result, counts, bytes and duration, and
 * one run in full: its log lines and the captured requests and responses (bodies cut to the
 * capture cap), each of which can be opened in the transform preview.
 */
import type { Router } from 'express';
import { SluiceError } from '../../errors.js';
import type { RunRecord, RunStatus } from '../../store/store.js';
import { badge, bytes, definitionList, duration, options, shorten, table, time } from '../components.js';
import { page, queryText, render, type ConsoleEnv } from '../context.js';
import { html, type Html } from '../html.js';
import { payloadOf } from '../captured-payloads.js';
import { describeMode } from './sync-log.js';

const STATUSES: RunStatus[] = ['running', 'success', 'warning', 'error', 'fatal', 'interrupted'];
/** Bodies longer than this are shown cut (the whole capture stays available to the preview). */
const SHOWN_BODY_CHARS = 64 * 1024;

function countsText(counts: Record<string, number>): string {
  const parts: string[] = [];
  for (const direction of ['pull', 'push'] as const) {
    const records = counts[`${direction}_records`];
    if (records === undefined) continue;
    const detail = ['created', 'updated', 'deleted', 'conflicts', 'errors']
      .map((key) => [key, counts[`${direction}_${key}`] ?? 0] as const)
      .filter(([, value]) => value > 0)
      .map(([key, value]) => `${value} ${key}`);
    parts.push(`${direction} ${records}${detail.length ? ` (${detail.join(', ')})` : ''}`);
  }
  return parts.join('; ') || '—';
}

function body(text: string | undefined): Html {
  if (!text) return html`<p class="muted">no body</p>`;
  const cut = text.length > SHOWN_BODY_CHARS;
  return html`<pre class="payload" data-pretty>${cut ? text.slice(0, SHOWN_BODY_CHARS) : text}</pre>${cut ? html`<p class="muted small">Shown cut at ${SHOWN_BODY_CHARS} characters.</p>` : ''}`;
}

export function registerRuns(router: Router, env: ConsoleEnv): void {
  router.get(
    '/console/runs',
    page(env, ['analyst', 'integrator'], async (req, res, ctx) => {
      const now = env.clock.now();
      const repository = queryText(req, 'repository');
      const statusText = queryText(req, 'status');
      const status = statusText && (STATUSES as string[]).includes(statusText) ? (statusText as RunStatus) : undefined;
      const runs = await env.store.listRuns({ ...(repository ? { repository } : {}), ...(status ? { status } : {}), limit: 100 });
      const repositories = await env.store.listRepositories();
      const names = new Map(repositories.map((entry) => [entry.uuid, entry.name] as const));
      const rows = runs.map(
        (run: RunRecord) => html`<tr>
  <td><a href="/console/runs/${encodeURIComponent(run.id)}">${time(run.started_at, now)}</a></td>
  <td>${run.repository ? names.get(run.repository) ?? shorten(run.repository, 24) : '—'}</td>
  <td>${run.trigger}</td>
  <td>${badge(run.status)}</td>
  <td>${duration(run.duration_ms)}</td>
  <td>${countsText(run.counts)}</td>
  <td>${bytes(run.bytes_in)} in · ${bytes(run.bytes_out)} out</td>
</tr>`,
      );
      render(req, res, ctx, {
        title: 'Runs',
        body: html`<form method="get" action="/console/runs" class="filters">
  <label>Repository <select name="repository"><option value="">all</option>${options(
    repositories.map((entry) => ({ value: entry.uuid, label: entry.name })),
    repository,
  )}</select></label>
  <label>Result <select name="status"><option value="">all</option>${options(STATUSES, status)}</select></label>
  <button type="submit">Filter</button>
</form>
${table(['Started', 'Repository', 'Trigger', 'Result', 'Took', 'Records', 'Bytes'], rows, { empty: 'No runs yet.' })}`,
      });
    }),
  );

  router.get(
    '/console/runs/:id',
    page(env, ['analyst', 'integrator'], async (req, res, ctx) => {
      const run = await env.store.getRun(String(req.params.id));
      if (!run) throw new SluiceError('RUN_NOT_FOUND', `There is no run ${String(req.params.id)}`, { status: 404, fix: 'Pick a run from the run history' });
      const now = env.clock.now();
      const repository = run.repository ? await env.store.getRepository(run.repository) : undefined;
      const log = await env.store.listLog({ run_id: run.id, limit: 200 });
      const captures = run.captures.map((capture, index) => {
        const payload = payloadOf(capture);
        return html`<details class="capture">
  <summary><span class="mono">${capture.method}</span> ${shorten(capture.url, 100)} → ${capture.status ?? capture.error ?? 'no answer'}
    <span class="muted small">${capture.mode}${capture.resource ? ` · ${capture.resource}` : ''} · ${bytes(capture.request_bytes)} out · ${bytes(capture.response_bytes)} in${capture.truncated ? ' · cut' : ''}</span></summary>
  ${capture.error ? html`<p class="flash flash-error">${capture.error}</p>` : ''}
  ${payload ? html`<p><a class="button" href="/console/preview?run=${encodeURIComponent(run.id)}&amp;capture=${index}${run.kind.startsWith('ushahidi') ? '&format=ushahidi' : ''}">Open in the preview</a></p>` : ''}
  <h3>Request</h3>${body(capture.request_body)}
  <h3>Response</h3>${body(capture.response_body)}
</details>`;
      });
      const conflicts = (run.counts.pull_conflicts ?? 0) + (run.counts.push_conflicts ?? 0);
      const queued =
        conflicts > 0
          ? html`<p class="notice">${conflicts} conflict${conflicts === 1 ? '' : 's'} of this run wait${conflicts === 1 ? 's' : ''} in the queue: <a href="/console/conflicts">resolve them on the Conflicts page</a>.</p>`
          : '';
      const content = html`${queued}${definitionList([
        ['Repository', repository ? html`<a href="/console/repositories/${encodeURIComponent(repository.uuid)}">${repository.name}</a>` : run.repository ?? '—'],
        ['Result', badge(run.status)],
        ['Trigger', run.trigger],
        ['Started', time(run.started_at)],
        ['Finished', time(run.finished_at)],
        ['Took', duration(run.duration_ms)],
        ['Records', countsText(run.counts)],
        ['Bytes', `${bytes(run.bytes_in)} in, ${bytes(run.bytes_out)} out`],
        ['Process', run.holder ?? '—'],
        ['Message', run.message ?? '—'],
      ])}
<section><h2>Log</h2>
${table(
  ['When', 'Resource', 'Direction', 'Action', 'Result', 'Message'],
  log
    .slice()
    .reverse()
    .map(
      (entry) => html`<tr><td><a href="/console/log/${entry.id}">${time(entry.timestmp, now)}</a></td><td>${entry.resource ?? '—'}</td><td class="small">${describeMode(entry.mode)}</td><td>${entry.action}</td><td>${badge(entry.result)}</td><td>${shorten(entry.message, 200)}</td></tr>`,
    ),
  { empty: 'No log lines for this run.' },
)}</section>
<section><h2>Captured exchanges</h2>
${captures.length ? captures : html`<p class="empty">No captured bodies (older runs keep their counts only).</p>`}
</section>`;
      render(req, res, ctx, { title: `Run ${run.id.slice(0, 8)}`, body: content, scripts: ['xml-tools.js'] });
    }),
  );
}
