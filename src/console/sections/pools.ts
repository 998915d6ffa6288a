/**
 * Sync pools: partners sharing tags and one task template. The list with a form to create one; a
 * pool's page with its template (edit), members (join, leave) and candidates — gateways heard on
 * the LAN sharing a tag — to accept (fingerprint first: the uuid it advertised is shown, and the
 * registration fails if the address answers with another) or reject. Reading is for viewers and
 * integrators, changing for admins, as in the admin API.
 */
import type { Request, Router } from 'express';
import type { PoolCandidate, PoolInput, PoolPatch, PoolTemplate, PoolView } from '../../pools/pool-registry.js';
import { SluiceError } from '../../errors.js';
import type { RepositoryRecord } from '../../store/store.js';
import { badge, definitionList, options, postButton, table, time } from '../components.js';
import { action, field, page, render, requiredField, type ConsoleEnv } from '../context.js';
import { html, type Html } from '../html.js';
import { csrfField, type PageContext } from '../layout.js';
import { interestTags, isAdmin, POOL_READERS, tableList } from './discovery.js';
import { taskFields, taskInput } from './repositories.js';

function requirePools(env: ConsoleEnv): NonNullable<ConsoleEnv['pools']> {
  if (!env.pools) {
    throw new SluiceError('POOLS_UNAVAILABLE', 'This gateway runs without sync pools', { status: 404, fix: 'Start the gateway with sluice start' });
  }
  return env.pools;
}

function poolPath(name: string, rest = ''): string {
  return `/console/pools/${encodeURIComponent(name)}${rest}`;
}

/** Tags or resources typed with commas, spaces or one per line. */
function words(text: string | undefined): string[] {
  return (text ?? '')
    .split(/[\s,]+/)
    .map((word) => word.trim())
    .filter((word) => word !== '');
}

function scheduleText(schedule: PoolTemplate['schedule']): string {
  if (!schedule) return 'Sync Now only';
  if (schedule.cron) return `cron ${schedule.cron}`;
  const seconds = schedule.interval_seconds ?? 0;
  return seconds % 60 === 0 ? `every ${seconds / 60} min` : `every ${seconds} s`;
}

/** The schedule boxes: an interval or a cron expression; both empty means no schedule. */
function scheduleInput(req: Request): PoolTemplate['schedule'] | null {
  const cron = field(req, 'cron')?.trim();
  const interval = field(req, 'interval_seconds')?.trim();
  if (cron) return { cron };
  if (interval) return { interval_seconds: Number(interval) };
  return null;
}

/** The template form's fields as the pool registry's template. */
function templateInput(req: Request): Record<string, unknown> {
  return { ...taskInput(req), resources: words(field(req, 'resources')), schedule: scheduleInput(req) };
}

function templateFields(template: PoolTemplate | undefined): Html {
  return html`<label>Resources <textarea name="resources" rows="2" required placeholder="org_office pr_person">${(template?.resources ?? []).join('\n')}</textarea></label>
${taskFields(template)}
<div class="grid">
  <label>Every (seconds) <input name="interval_seconds" type="number" min="1" value="${template?.schedule?.interval_seconds ?? (template ? '' : 600)}"></label>
  <label>or cron <input name="cron" value="${template?.schedule?.cron ?? ''}" placeholder="*/10 * * * *"></label>
</div>
<p class="muted small">Leave both schedule boxes empty to sync only with Sync Now.</p>`;
}

function credentialFields(pool: PoolView | undefined): Html {
  return html`<fieldset><legend>Shared credentials (optional)</legend>
  <label>User name at the members <input name="username" autocomplete="off" value="${pool?.username ?? ''}" placeholder="sync@example.org"></label>
  <label>Password <input name="password" type="password" autocomplete="new-password" placeholder="${pool?.has_password ? 'unchanged' : ''}"></label>
  <p class="muted small">Used when a candidate is accepted without its own credentials. Stored encrypted, never shown.</p>
</fieldset>`;
}

function createForm(ctx: PageContext): Html {
  return html`<details class="card" id="create-pool"><summary>Create a pool</summary>
<form method="post" action="/console/pools">${csrfField(ctx)}
  <div class="grid">
    <label>Name <input name="name" required maxlength="64" pattern="[A-Za-z0-9][A-Za-z0-9_.\\-]{0,63}" placeholder="haiti-response"></label>
    <label>Tags <input name="tags" required placeholder="haiti, cholera"></label>
  </div>
  ${templateFields(undefined)}
  ${credentialFields(undefined)}
  <button type="submit" class="primary">Create pool</button>
</form>
</details>`;
}

/**
 * One candidate as its own `<tbody>`: the facts on one row and, for admins, the accept form on a
 * full-width row under it (inside a cell of the facts row it was squeezed into the last column).
 */
function candidateRows(ctx: PageContext, pool: string, candidate: PoolCandidate, admin: boolean, now: Date): Html {
  const base = poolPath(pool, `/candidates/${encodeURIComponent(candidate.uuid)}`);
  const accept = admin
    ? html`<tr class="accept-row"><td colspan="8"><details class="accept"><summary>Accept ${candidate.name}…</summary>
  <form method="post" action="${base}/accept" class="card accept-form">${csrfField(ctx)}
    <div class="fingerprint-check">
      <p>Sluice will register <span class="mono">${candidate.url}</span> only if it answers as</p>
      <p class="fingerprint mono">${candidate.uuid}</p>
    </div>
    <label>Name here <input name="name" maxlength="64" value="${candidate.name}"></label>
    <label>User name at the peer <input name="username" autocomplete="off" placeholder="the pool's, if any"></label>
    <label>Password at the peer <input name="password" type="password" autocomplete="new-password"></label>
    <div><button type="submit" class="primary">Accept ${candidate.name}</button></div>
  </form>
</details></td></tr>`
    : html``;
  const reject = admin && candidate.status === 'pending' ? postButton(ctx, `${base}/reject`, 'Reject', { className: 'danger' }) : html``;
  return html`<tbody class="candidate"><tr>
  <td><strong>${candidate.name}</strong>${candidate.registered ? html` <span class="badge badge-info">repository</span>` : ''}</td>
  <td class="mono small candidate-uuid">${candidate.uuid}</td>
  <td class="mono small">${candidate.url}</td>
  <td>${candidate.shared_tags.join(', ')}</td>
  <td>${tableList(candidate.tables)}</td>
  <td>${time(candidate.last_seen_at, now)}</td>
  <td>${badge(candidate.status === 'pending' ? 'open' : 'disabled', candidate.status)}</td>
  <td>${reject}</td>
</tr>${accept}</tbody>`;
}

function memberRows(ctx: PageContext, pool: PoolView, admin: boolean): Html[] {
  return pool.members.map(
    (member) => html`<tr>
  <td><a href="/console/repositories/${encodeURIComponent(member.uuid)}">${member.name}</a></td>
  <td class="mono small">${member.uuid}</td>
  <td class="mono small">${member.url ?? '—'}</td>
  <td>${admin ? postButton(ctx, poolPath(pool.name, `/members/${encodeURIComponent(member.uuid)}/leave`), 'Leave the pool', { confirm: `Take ${member.name} out of ${pool.name}? It keeps its tasks.` }) : ''}</td>
</tr>`,
  );
}

function joinForm(ctx: PageContext, pool: PoolView, repositories: RepositoryRecord[]): Html {
  const outside = repositories.filter((repository) => repository.config.pool === undefined && repository.apitype === 'eden');
  if (outside.length === 0) return html``;
  return html`<form method="post" action="${poolPath(pool.name, '/members')}" class="card inline-form">${csrfField(ctx)}
  <label>Repository <select name="repository">${options(outside.map((repository) => ({ value: repository.uuid, label: repository.name })), undefined)}</select></label>
  <button type="submit">Add to the pool</button>
</form>`;
}

export function registerPools(router: Router, env: ConsoleEnv): void {
  router.get(
    '/console/pools',
    page(env, [...POOL_READERS], async (req, res, ctx) => {
      const pools = requirePools(env);
      const views = await pools.list();
      const rows: Html[] = [];
      for (const pool of views) {
        const pending = await pools.candidates(pool.name);
        rows.push(html`<tr>
  <td><a href="${poolPath(pool.name)}">${pool.name}</a></td>
  <td>${interestTags(pool.tags.map((tag) => ({ tag, direction: 'both' as const })))}</td>
  <td class="mono small">${pool.template.resources.join(', ') || '—'}</td>
  <td>${pool.template.mode}</td>
  <td>${scheduleText(pool.template.schedule)}</td>
  <td>${pool.members.length}</td>
  <td>${pending.length ? badge('open', `${pending.length} waiting`) : html`<span class="muted">none</span>`}</td>
</tr>`);
      }
      render(req, res, ctx, {
        title: 'Sync pools',
        body: html`<p>A pool groups partners that share tags: every member gets the pool's tasks and schedule. Gateways heard on
the LAN (<a href="/console/discovery">Discovery</a>) sharing a tag become candidates for an administrator to accept.</p>
${table(['Pool', 'Tags', 'Resources', 'Mode', 'Schedule', 'Members', 'Candidates'], rows, { empty: 'No pools yet.' })}
${isAdmin(ctx) ? createForm(ctx) : ''}`,
      });
    }),
  );

  router.post(
    '/console/pools',
    action(
      env,
      ['admin'],
      async (req) => {
        const username = field(req, 'username')?.trim() || undefined;
        const password = field(req, 'password') || undefined;
        const input: PoolInput = {
          name: requiredField(req, 'name', 'the name'),
          tags: words(field(req, 'tags')),
          template: templateInput(req),
          ...(username === undefined ? {} : { username }),
          ...(password === undefined ? {} : { password }),
        };
        const pool = await requirePools(env).create(input);
        return { to: poolPath(pool.name), flash: { kind: 'ok', message: `Pool ${pool.name} created. Candidates appear below as gateways with its tags are heard.` } };
      },
      '/console/pools',
    ),
  );

  router.get(
    '/console/pools/:name',
    page(env, [...POOL_READERS], async (req, res, ctx) => {
      const pools = requirePools(env);
      const pool = await pools.get(String(req.params.name));
      const admin = isAdmin(ctx);
      const now = env.clock.now();
      const [candidates, repositories] = await Promise.all([pools.candidates(pool.name, { includeRejected: true }), env.store.listRepositories()]);
      const body = html`${definitionList([
        ['Tags', interestTags(pool.tags.map((tag) => ({ tag, direction: 'both' as const })))],
        ['Resources', pool.template.resources.join(', ') || 'none'],
        ['Mode', pool.template.mode],
        ['Methods', pool.template.strategy.join(', ')],
        ['Policies (update / conflict)', `${typeof pool.template.update_policy === 'string' ? pool.template.update_policy : JSON.stringify(pool.template.update_policy)} / ${pool.template.conflict_policy}`],
        ['Filters', pool.template.filters.join(' & ') || '—'],
        ['Schedule', scheduleText(pool.template.schedule)],
        ['Shared credentials', pool.username ? `${pool.username}${pool.has_password ? ' (password stored)' : ''}` : 'none'],
        ['Changed', time(pool.updated_at, now)],
      ])}
<section id="candidates">
  <h2>Candidates</h2>
  <p class="muted small">Gateways heard on the LAN that share a tag with this pool. Check the uuid with the gateway's administrator before accepting.</p>
  ${table(['Name', 'Advertised UUID', 'URL', 'Shared tags', 'Tables', 'Last seen', 'Status', ''], candidates.map((candidate) => candidateRows(ctx, pool.name, candidate, admin, now)), {
    grouped: true,
    empty: 'No candidates: no gateway heard on the LAN shares a tag with this pool.',
    className: 'candidates',
  })}
</section>
<section id="members">
  <h2>Members</h2>
  ${table(['Repository', 'UUID', 'URL', ''], memberRows(ctx, pool, admin), { empty: 'No members yet.' })}
  ${admin ? joinForm(ctx, pool, repositories) : ''}
</section>
${admin
  ? html`<section id="template">
  <h2>Task template</h2>
  <p class="muted small">Saving changes the tasks and schedule of every member.</p>
  <form method="post" action="${poolPath(pool.name)}" class="card">${csrfField(ctx)}
    <label>Tags <input name="tags" required value="${pool.tags.join(', ')}"></label>
    ${templateFields(pool.template)}
    ${credentialFields(pool)}
    <label class="check"><input type="checkbox" name="clear_credentials"> Remove the shared credentials</label>
    <button type="submit" class="primary">Save the pool</button>
  </form>
  <p>${postButton(ctx, poolPath(pool.name, '/delete'), 'Delete pool', { className: 'danger', confirm: `Delete ${pool.name}? Members keep their tasks.` })}</p>
</section>`
  : ''}`;
      render(req, res, ctx, { title: `Pool ${pool.name}`, body });
    }),
  );

  const nameOf = (req: Request) => String(req.params.name);

  router.post(
    '/console/pools/:name',
    action(env, ['admin'], async (req) => {
      const username = field(req, 'username')?.trim() || undefined;
      const password = field(req, 'password') || undefined;
      const clear = field(req, 'clear_credentials') === 'on';
      const patch: PoolPatch = {
        tags: words(field(req, 'tags')),
        template: templateInput(req),
        ...(clear ? { username: null, password: null } : { ...(username === undefined ? {} : { username }), ...(password === undefined ? {} : { password }) }),
      };
      const pool = await requirePools(env).update(nameOf(req), patch);
      return { to: poolPath(pool.name), flash: { kind: 'ok', message: `Pool ${pool.name} saved; its ${pool.members.length} member${pool.members.length === 1 ? '' : 's'} follow.` } };
    }, '/console/pools'),
  );

  router.post(
    '/console/pools/:name/delete',
    action(env, ['admin'], async (req) => {
      await requirePools(env).remove(nameOf(req));
      return { to: '/console/pools', flash: { kind: 'ok', message: `Pool ${nameOf(req)} deleted; its members keep their tasks.` } };
    }, '/console/pools'),
  );

  router.post(
    '/console/pools/:name/candidates/:uuid/accept',
    action(env, ['admin'], async (req) => {
      const name = field(req, 'name')?.trim() || undefined;
      const username = field(req, 'username')?.trim() || undefined;
      const password = field(req, 'password') || undefined;
      const repository = await requirePools(env).accept(nameOf(req), String(req.params.uuid), {
        ...(name === undefined ? {} : { name }),
        ...(username === undefined ? {} : { username }),
        ...(password === undefined ? {} : { password }),
      });
      return { to: poolPath(nameOf(req)), flash: { kind: 'ok', message: `Accepted ${repository.name} (${repository.uuid}): it is a member now, with the pool's tasks.` } };
    }, '/console/pools'),
  );

  router.post(
    '/console/pools/:name/candidates/:uuid/reject',
    action(env, ['admin'], async (req) => {
      await requirePools(env).reject(nameOf(req), String(req.params.uuid));
      return { to: poolPath(nameOf(req)), flash: { kind: 'ok', message: `Rejected ${String(req.params.uuid)}; it is no longer proposed.` } };
    }, '/console/pools'),
  );

  router.post(
    '/console/pools/:name/members',
    action(env, ['admin'], async (req) => {
      const pool = await requirePools(env).join(nameOf(req), requiredField(req, 'repository', 'the repository'));
      return { to: poolPath(pool.name), flash: { kind: 'ok', message: `Added to ${pool.name}; it has the pool's tasks now.` } };
    }, '/console/pools'),
  );

  router.post(
    '/console/pools/:name/members/:uuid/leave',
    action(env, ['admin'], async (req) => {
      const pool = await requirePools(env).leave(nameOf(req), String(req.params.uuid));
      return { to: poolPath(pool.name), flash: { kind: 'ok', message: 'Taken out of the pool; it keeps its tasks.' } };
    }, '/console/pools'),
  );
}
