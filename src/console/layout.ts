/**
 * The page shell every console page shares: head (own CSS and icon only, no CDN), the navigation
 * the signed-in user's roles allow, the flash message, and the page's own scripts.
 */
import type { Role } from '../auth/users.js';
import { hasRole } from '../auth/users.js';
import type { UserRecord } from '../store/store.js';
import { html, type Html, type HtmlValue } from './html.js';

export interface Flash {
  /** `warning`: it was done, but something deserves a look (amber, not an alert). */
  kind: 'ok' | 'warning' | 'error';
  message: string;
  /** Where to go about it; only console pages (`/console…`), it is rendered as a link. */
  link?: { href: string; label: string };
  /** The error's fix hint, shown under the message. */
  fix?: string;
  /** The form field the error is about, for pages that show it next to that field. */
  field?: string;
}

export interface PageContext {
  user: UserRecord;
  csrfToken: string;
  gateway: { name: string; uuid: string; version: string };
  /** The request path, to mark the current section. */
  path: string;
  flash?: Flash;
  /** Asset URLs carry a content hash so browsers may cache them for long. */
  asset(name: string): string;
}

export interface NavItem {
  href: string;
  label: string;
  roles: Role[];
}

/** Sections and who may open them (admin may open all). */
export const NAV: readonly NavItem[] = [
  { href: '/console', label: 'Dashboard', roles: [] },
  { href: '/console/repositories', label: 'Repositories', roles: ['integrator'] },
  { href: '/console/records', label: 'Records', roles: ['analyst', 'integrator'] },
  { href: '/console/log', label: 'Sync log', roles: [] },
  { href: '/console/runs', label: 'Runs', roles: ['analyst', 'integrator'] },
  { href: '/console/conflicts', label: 'Conflicts', roles: ['analyst', 'integrator'] },
  { href: '/console/mappings', label: 'Mappings', roles: ['integrator'] },
  { href: '/console/preview', label: 'Preview', roles: ['analyst', 'integrator'] },
  { href: '/console/discovery', label: 'Discovery', roles: ['viewer', 'integrator'] },
  { href: '/console/pools', label: 'Pools', roles: ['viewer', 'integrator'] },
  { href: '/console/settings', label: 'Settings', roles: ['admin'] },
  { href: '/console/users', label: 'Users', roles: ['admin'] },
];

export function mayOpen(user: UserRecord, roles: readonly Role[]): boolean {
  return roles.length === 0 ? user.roles.length > 0 : hasRole(user, ...roles);
}

function isCurrent(item: NavItem, path: string): boolean {
  return item.href === '/console' ? path === '/console' || path === '/console/' : path === item.href || path.startsWith(`${item.href}/`);
}

export function csrfField(ctx: Pick<PageContext, 'csrfToken'>): Html {
  return html`<input type="hidden" name="_csrf" value="${ctx.csrfToken}">`;
}

export interface ShellOptions {
  title: string;
  body: HtmlValue;
  /** Page scripts under /console/assets (deferred). */
  scripts?: string[];
  /** Extra class on <main> (e.g. `wide` for editors). */
  mainClass?: string;
}

function head(title: string, asset: (name: string) => string, scripts: string[]): Html {
  return html`<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title} · Sluice</title>
<link rel="icon" href="${asset('favicon.svg')}" type="image/svg+xml">
<link rel="stylesheet" href="${asset('console.css')}">
<script src="${asset('console.js')}" defer></script>
${scripts.map((script) => html`<script src="${asset(script)}" defer></script>\n`)}`;
}

function flashBox(flash: Flash | undefined): Html {
  if (!flash) return html``;
  const link = flash.link && flash.link.href.startsWith('/console') ? html` <a href="${flash.link.href}">${flash.link.label}</a>` : '';
  return html`<div class="flash flash-${flash.kind}" role="${flash.kind === 'error' ? 'alert' : 'status'}">
  <p>${flash.message}${link}</p>${flash.fix ? html`<p class="fix">${flash.fix}</p>` : ''}
</div>`;
}

export function shell(ctx: PageContext, options: ShellOptions): Html {
  const items = NAV.filter((item) => mayOpen(ctx.user, item.roles));
  return html`<!doctype html>
<html lang="en">
<head>
${head(options.title, ctx.asset, options.scripts ?? [])}
</head>
<body>
<header class="top">
  <a class="brand" href="/console" title="${ctx.gateway.name} (${ctx.gateway.uuid})">Sluice</a>
  <nav aria-label="Sections"><ul>
    ${items.map((item) => html`<li><a href="${item.href}"${isCurrent(item, ctx.path) ? html` aria-current="page"` : ''}>${item.label}</a></li>`)}
  </ul></nav>
  <form class="signout" method="post" action="/console/logout">
    ${csrfField(ctx)}
    <a class="who" href="/console/account" title="Roles: ${ctx.user.roles.join(', ') || 'none'}">${ctx.user.username}</a>
    <button type="submit" class="link">Sign out</button>
  </form>
</header>
<main class="${options.mainClass ?? ''}" data-csrf="${ctx.csrfToken}">
${flashBox(ctx.flash)}
<h1>${options.title}</h1>
${options.body}
</main>
<footer class="foot">Sluice ${ctx.gateway.version} · ${ctx.gateway.name} · <span class="mono">${ctx.gateway.uuid}</span></footer>
</body>
</html>`;
}

/** A page outside the signed-in shell (sign-in form, errors before sign-in). */
export function bareShell(asset: (name: string) => string, title: string, body: HtmlValue): Html {
  return html`<!doctype html>
<html lang="en">
<head>
${head(title, asset, [])}
</head>
<body class="bare">
<main>
${body}
</main>
</body>
</html>`;
}
