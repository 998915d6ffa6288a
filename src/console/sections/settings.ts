/**
 * Settings: this gateway's uuid (what peers know it by; they check it when they add it
 * fingerprint-first) and name, and the default proxy for reaching peers.
 */
import type { Router } from 'express';
import { definitionList } from '../components.js';
import { action, field, page, render, type ConsoleEnv } from '../context.js';
import { html } from '../html.js';
import { csrfField } from '../layout.js';

export function registerSettings(router: Router, env: ConsoleEnv): void {
  router.get(
    '/console/settings',
    page(env, ['admin'], async (req, res, ctx) => {
      const settings = await env.sync.settings();
      render(req, res, ctx, {
        title: 'Settings',
        body: html`<section>
  <h2>This gateway</h2>
  ${definitionList([
    ['Uuid', html`<span class="mono fingerprint" id="gateway-uuid">${settings.uuid}</span>`],
    ['Name', settings.name],
    ['Address', env.baseUrl],
    ['Store', env.store.kind],
    ['Version', env.version],
  ])}
  <p class="muted small">Peers that add this gateway are shown this uuid before they send credentials: read it out to them.
  The name is set with --name or SLUICE_NAME.</p>
</section>
<section>
  <h2>Default proxy</h2>
  <form method="post" action="/console/settings/proxy" class="card">
    ${csrfField(ctx)}
    <label>HTTP proxy for peers <input name="proxy" type="url" value="${settings.proxy ?? ''}" placeholder="http://proxy.example.org:3128" size="40"></label>
    <p class="muted small">Used for every repository that has no proxy of its own. Leave empty to connect directly.</p>
    <button type="submit" class="primary">Save</button>
  </form>
</section>`,
      });
    }),
  );

  router.post(
    '/console/settings/proxy',
    action(env, ['admin'], async (req) => {
      const proxy = field(req, 'proxy')?.trim() ?? '';
      const settings = await env.sync.setProxy(proxy === '' ? null : proxy);
      return { to: '/console/settings', flash: { kind: 'ok', message: settings.proxy ? `Peers are reached through ${settings.proxy}.` : 'Peers are reached directly.' } };
    }),
  );
}
