/**
 * LAN discovery: the gateways this one has heard on the network (mDNS), with their tables and
 * interest tags, and this gateway's own beacon interests. Reading is for viewers and integrators
 * (as the admin API allows); changing interests and asking the LAN again is for admins.
 */
import type { Router } from 'express';
import type { BeaconInterest } from '../../discovery/service-records.js';
import { SluiceError } from '../../errors.js';
import { formatTimestamp } from '../../s3xml/timestamps.js';
import { options, postButton, table, time } from '../components.js';
import { action, field, page, render, requiredField, type ConsoleEnv } from '../context.js';
import { html, type Html } from '../html.js';
import { csrfField, type PageContext } from '../layout.js';

export const POOL_READERS = ['viewer', 'integrator'] as const;

/** Changes to discovery and pools are the admin's, as in the admin API. */
export function isAdmin(ctx: PageContext): boolean {
  return ctx.user.roles.includes('admin');
}

const DIRECTIONS = [
  { value: 'both', label: 'both ways' },
  { value: 'download', label: 'download (we receive)' },
  { value: 'upload', label: 'upload (we send)' },
];

export function interestTags(interests: readonly BeaconInterest[]): Html {
  if (interests.length === 0) return html`<span class="muted">none</span>`;
  return html`${interests.map((interest) => html`<span class="tag" title="${interest.direction}">${interest.tag}${interest.direction === 'both' ? '' : html` <span class="small">(${interest.direction})</span>`}</span> `)}`;
}

export function tableList(tables: readonly string[]): Html {
  if (tables.length === 0) return html`<span class="muted">none</span>`;
  const shown = tables.slice(0, 8).join(', ');
  return html`<span class="mono small" title="${tables.join(', ')}">${shown}${tables.length > 8 ? ` and ${tables.length - 8} more` : ''}</span>`;
}

/** The beacon and pools come from the composition root; without them the pages say so. */
export function requireBeacon(env: ConsoleEnv): NonNullable<ConsoleEnv['beacon']> {
  if (!env.beacon) {
    throw new SluiceError('DISCOVERY_UNAVAILABLE', 'This gateway runs without the beacon and sync pools', { status: 404, fix: 'Start the gateway with sluice start' });
  }
  return env.beacon;
}

function interestsSection(ctx: PageContext, interests: BeaconInterest[], admin: boolean): Html {
  const rows = interests.map(
    (interest) => html`<tr><td><strong>${interest.tag}</strong></td><td>${interest.direction}</td>
<td>${admin ? postButton(ctx, `/console/discovery/interests/${encodeURIComponent(interest.tag)}/delete`, 'Remove', { className: 'danger', title: `Stop announcing interest in ${interest.tag}` }) : ''}</td></tr>`,
  );
  return html`<section id="interests">
  <h2>This gateway's interests</h2>
  <p class="muted small">Announced on the LAN and in /sync/config.json: gateways sharing a tag with one of your pools become its candidates.</p>
  ${table(['Tag', 'Direction', ''], rows, { empty: 'No interests: this gateway announces no tags.' })}
  ${admin
    ? html`<form method="post" action="/console/discovery/interests" class="card inline-form">${csrfField(ctx)}
    <label>Tag <input name="tag" required maxlength="32" pattern="[A-Za-z0-9][A-Za-z0-9_\\-]{0,31}" placeholder="haiti"></label>
    <label>Direction <select name="direction">${options(DIRECTIONS, 'both')}</select></label>
    <button type="submit" class="primary">Add interest</button>
  </form>`
    : ''}
</section>`;
}

export function registerDiscovery(router: Router, env: ConsoleEnv): void {
  router.get(
    '/console/discovery',
    page(env, [...POOL_READERS], async (req, res, ctx) => {
      const beacon = requireBeacon(env);
      const admin = isAdmin(ctx);
      const now = env.clock.now();
      const [gateways, interests, repositories] = await Promise.all([beacon.discovered(), beacon.interests(), env.store.listRepositories()]);
      const known = new Set(repositories.map((repository) => repository.uuid));
      const rows = gateways.map(
        (gateway) => html`<tr>
  <td><strong>${gateway.name}</strong>${known.has(gateway.uuid) ? html` <span class="badge badge-ok">repository</span>` : ''}</td>
  <td class="mono small">${gateway.uuid}</td>
  <td class="mono small">${gateway.url}</td>
  <td>${interestTags(gateway.interests)}</td>
  <td>${tableList(gateway.tables)}</td>
  <td>${time(gateway.last_seen_at, now)}</td>
</tr>`,
      );
      render(req, res, ctx, {
        title: 'Gateways on the LAN',
        body: html`<p>Gateways that announced themselves on this network (multicast DNS). Nothing here is registered
automatically: a pool's candidates are accepted by an administrator on the <a href="/console/pools">Pools</a> page.</p>
${admin && env.browse ? html`<p>${postButton(ctx, '/console/discovery/browse', 'Ask the LAN now', { title: 'Answers arrive over the next seconds: reload the page' })}</p>` : ''}
${table(['Name', 'UUID', 'URL', 'Tags', 'Tables', 'Last seen'], rows, { empty: 'No gateway heard yet. Gateways must run with discovery on and listen on the LAN (--host 0.0.0.0).', className: 'discovered' })}
${interestsSection(ctx, interests, admin)}
<p class="muted small">Checked ${formatTimestamp(now).replace('T', ' ')} UTC.</p>`,
      });
    }),
  );

  router.post(
    '/console/discovery/interests',
    action(
      env,
      ['admin'],
      async (req) => {
        const tag = requiredField(req, 'tag', 'the tag');
        const direction = field(req, 'direction') ?? 'both';
        if (direction !== 'both' && direction !== 'download' && direction !== 'upload') {
          throw new SluiceError('BAD_TAG', `"${direction}" is not a direction`, { status: 400, fix: 'Use download, upload or both' });
        }
        const interests = await requireBeacon(env).register(tag, direction);
        const added = interests.find((interest) => interest.tag === tag.trim().toLowerCase());
        return { to: '/console/discovery#interests', flash: { kind: 'ok', message: `This gateway now announces interest in ${added?.tag ?? tag} (${added?.direction ?? direction}).` } };
      },
      '/console/discovery',
    ),
  );

  router.post(
    '/console/discovery/interests/:tag/delete',
    action(
      env,
      ['admin'],
      async (req) => {
        const tag = String(req.params.tag);
        await requireBeacon(env).unregister(tag);
        return { to: '/console/discovery#interests', flash: { kind: 'ok', message: `Interest in ${tag} withdrawn.` } };
      },
      '/console/discovery',
    ),
  );

  router.post(
    '/console/discovery/browse',
    action(
      env,
      ['admin'],
      async () => {
        if (!env.browse) throw new SluiceError('DISCOVERY_OFF', 'LAN discovery is off on this gateway', { status: 400, fix: 'Start it without --no-discovery (and SLUICE_DISCOVERY not false)' });
        env.browse();
        return { to: '/console/discovery', flash: { kind: 'ok', message: 'Asked the LAN; answers arrive over the next seconds. Reload the page to see them.' } };
      },
      '/console/discovery',
    ),
  );
}
