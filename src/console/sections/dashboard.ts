/**
 * The dashboard: every repository's job with its schedule, next run and last result, failures
 * first; the open conflicts and the latest failures from the log; and Sync Now. Most people should
 * not need more than this page to know whether sync works.
 */
import type { Router } from 'express';
import { hasRole } from '../../auth/users.js';
import { SluiceError } from '../../errors.js';
import type { JobRecord, LogEntry, RunRecord, RunStatus } from '../../store/store.js';
import type { RepositoryView } from '../../sync/repository-registry.js';
import { syncJobId } from '../../sync/task-registry.js';
import { badge, duration, postButton, shorten, table, time } from '../components.js';
import { action, page, render, type ActionOutcome, type ConsoleEnv } from '../context.js';
import { html } from '../html.js';
import { describeSchedule, nextRun, timestampOf } from '../schedule-view.js';

/** Worst first: what needs a person comes to the top. */
const STATUS_RANK: Record<RunStatus | 'never', number> = { fatal: 0, error: 1, interrupted: 2, warning: 3, running: 4, never: 5, success: 6 };

export interface RepositoryJob {
  repository: RepositoryView;
  job: JobRecord | undefined;
  lastRun: RunRecord | undefined;
  next: Date | undefined;
  tasks: number;
}

export async function repositoryJobs(env: ConsoleEnv, now: Date): Promise<RepositoryJob[]> {
  const repositories = await env.sync.repositories.list();
  const jobs = new Map((await env.store.listJobs({ kind: 'sync' })).map((job) => [job.id, job] as const));
  const rows: RepositoryJob[] = [];
  for (const repository of repositories) {
    const job = jobs.get(syncJobId(repository.uuid));
    const [lastRun] = await env.store.listRuns({ repository: repository.uuid, limit: 1 });
    const [lastScheduled] = job ? await env.store.listRuns({ job: job.id, limit: 1 }) : [];
    rows.push({
      repository,
      job,
      lastRun,
      next: nextRun(job, lastScheduled, now),
      tasks: (await env.store.listTasks({ repository: repository.uuid })).length,
    });
  }
  return rows.sort(
    (a, b) =>
      STATUS_RANK[a.lastRun?.status ?? 'never'] - STATUS_RANK[b.lastRun?.status ?? 'never'] || a.repository.name.localeCompare(b.repository.name),
  );
}

/** Waits for a run at most this long before answering (a long run goes on; the page says so). */
const SYNC_NOW_WAIT_MS = 20_000;

/**
 * Where Sync Now lands and what it says. A repository without tasks is not a failure (nothing was
 * tried): it goes to the repository page, where tasks are added. Queued conflicts are named, since
 * a run that queued them still "pulled 0".
 */
export function syncNowOutcome(repository: string, run: Pick<RunRecord, 'id' | 'status' | 'message' | 'counts'>): ActionOutcome {
  if (run.counts.tasks === 0) {
    return { to: `/console/repositories/${encodeURIComponent(repository)}`, flash: { kind: 'ok', message: 'This repository has no tasks yet: add one below.' } };
  }
  const conflicts = (run.counts.pull_conflicts ?? 0) + (run.counts.push_conflicts ?? 0);
  const queued = conflicts > 0 ? ` ${conflicts} conflict${conflicts === 1 ? '' : 's'} wait${conflicts === 1 ? 's' : ''} in the queue.` : '';
  return {
    to: `/console/runs/${encodeURIComponent(run.id)}`,
    flash: {
      kind: run.status === 'success' ? 'ok' : run.status === 'warning' ? 'warning' : 'error',
      message: `Sync finished: ${run.status}. ${run.message ?? ''}${queued}`,
      ...(conflicts > 0 ? { link: { href: '/console/conflicts', label: 'Resolve them' } } : {}),
    },
  };
}

export function registerDashboard(router: Router, env: ConsoleEnv): void {
  router.get(
    '/console',
    page(env, [], async (req, res, ctx) => {
      const now = env.clock.now();
      const rows = await repositoryJobs(env, now);
      const mayRun = hasRole(ctx.user, 'integrator');
      const openConflicts = (await env.store.listConflicts({ status: 'open', limit: 1000 })).length;
      const failures: LogEntry[] = [...(await env.store.listLog({ result: 'fatal', limit: 5 })), ...(await env.store.listLog({ result: 'error', limit: 5 }))]
        .sort((a, b) => b.id - a.id)
        .slice(0, 6);
      const names = new Map(rows.map((row) => [row.repository.uuid, row.repository.name] as const));
      const failing = rows.filter((row) => row.lastRun && STATUS_RANK[row.lastRun.status] <= STATUS_RANK.warning).length;

      const summary = html`<section class="tiles">
  <a class="tile ${failing ? 'tile-bad' : 'tile-ok'}" href="/console/runs"><strong>${failing}</strong> repositor${failing === 1 ? 'y needs' : 'ies need'} attention</a>
  <a class="tile ${openConflicts ? 'tile-warn' : 'tile-ok'}" href="/console/conflicts"><strong>${openConflicts}</strong> open conflict${openConflicts === 1 ? '' : 's'}</a>
  <span class="tile"><strong>${rows.length}</strong> repositor${rows.length === 1 ? 'y' : 'ies'}</span>
</section>`;

      const jobRows = rows.map(
        (row) => html`<tr>
  <td><a href="/console/repositories/${encodeURIComponent(row.repository.uuid)}">${row.repository.name}</a><br><span class="muted small">${row.tasks} task${row.tasks === 1 ? '' : 's'}</span></td>
  <td>${describeSchedule(row.job)}</td>
  <td>${row.next ? time(timestampOf(row.next), now) : html`<span class="muted">—</span>`}</td>
  <td>${row.lastRun ? html`<a href="/console/runs/${encodeURIComponent(row.lastRun.id)}">${badge(row.lastRun.status)}</a> ${time(row.lastRun.finished_at ?? row.lastRun.started_at, now)}<br><span class="muted small">${shorten(row.lastRun.message ?? '', 90)}</span>` : badge('never', 'never run')}</td>
  <td>${row.lastRun ? duration(row.lastRun.duration_ms) : '—'}</td>
  <td>${mayRun ? postButton(ctx, `/console/repositories/${encodeURIComponent(row.repository.uuid)}/sync`, 'Sync Now', { className: 'primary' }) : ''}</td>
</tr>`,
      );

      const body = html`${summary}
<section>
  <div class="section-head"><h2>Synchronization jobs</h2>
  ${mayRun && rows.length ? postButton(ctx, '/console/sync-all', 'Sync all now', { className: 'primary big' }) : ''}</div>
  ${table(['Repository', 'Schedule', 'Next run', 'Last result', 'Took', ''], jobRows, {
    empty: 'No repositories yet. Add one under Repositories to start synchronizing.',
  })}
</section>
<section>
  <h2>Latest failures</h2>
  ${table(
    ['When', 'Repository', 'Resource', 'Result', 'Message'],
    failures.map(
      (entry) => html`<tr>
  <td><a href="/console/log/${entry.id}">${time(entry.timestmp, now)}</a></td>
  <td>${entry.repository ? names.get(entry.repository) ?? entry.repository : '—'}</td>
  <td>${entry.resource ?? '—'}</td>
  <td>${badge(entry.result)}</td>
  <td>${shorten(entry.message, 140)}</td>
</tr>`,
    ),
    { empty: 'No failures logged.' },
  )}
  <p><a href="/console/log">The whole sync log</a></p>
</section>`;
      render(req, res, ctx, { title: 'Dashboard', body });
    }),
  );

  router.post(
    '/console/repositories/:uuid/sync',
    action(env, ['integrator'], async (req, user) => {
      const uuid = String(req.params.uuid);
      const started = env.sync.syncNow(uuid, { trigger: `manual:${user.username}` });
      let timer: NodeJS.Timeout | undefined;
      const waited = await Promise.race([
        started.then((outcome) => ({ outcome })),
        new Promise<{ outcome?: undefined }>((resolve) => {
          timer = setTimeout(() => resolve({}), SYNC_NOW_WAIT_MS);
        }),
      ]).finally(() => clearTimeout(timer));
      if (!waited.outcome) {
        started.catch((error: unknown) => env.logger.warn({ err: error, repository: uuid }, 'Sync Now failed'));
        return { to: '/console/runs', flash: { kind: 'ok', message: 'The run is still going; it shows here as running until it ends.' } };
      }
      return syncNowOutcome(uuid, waited.outcome.run);
    }),
  );

  router.post(
    '/console/sync-all',
    action(env, ['integrator'], async (_req, user) => {
      const repositories = await env.sync.repositories.list();
      if (repositories.length === 0) throw new SluiceError('NO_REPOSITORIES', 'There is no repository to synchronize', { status: 400 });
      // One after the other, in the background: runs of different repositories do not wait for each other's lease.
      void (async () => {
        for (const repository of repositories) {
          await env.sync.syncNow(repository.uuid, { trigger: `manual:${user.username}` }).catch((error: unknown) => {
            env.logger.warn({ err: error, repository: repository.uuid }, 'Sync Now failed');
          });
        }
      })();
      return { to: '/console/runs', flash: { kind: 'ok', message: `Started ${repositories.length} run${repositories.length === 1 ? '' : 's'}; they show here as they go.` } };
    }),
  );
}
