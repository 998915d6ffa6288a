/**
 * What the console's sections share: their dependencies (handed in by the composition root), the
 * signed-in user's page context, role checks, flash messages and how a page or an action answers.
 *
 * Pages are GETs that render HTML. Actions are form POSTs that change something and then redirect
 * (post/redirect/get), carrying their outcome as a flash message; a failed action comes back to
 * the page it was sent from with the error's message and fix.
 */
import { gzipSync } from 'node:zlib';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { Authenticator, Role } from '../auth/users.js';
import type { LoginRateLimiter, Session, SessionStore } from '../auth/sessions.js';
import { asSluiceError, SluiceError } from '../errors.js';
import type { XsdValidator } from '../formats/xsd.js';
import type { GatewayIdentity } from '../gateway-identity.js';
import type { ApiRegistry } from '../http/api/schema-registry.js';
import type { Logger } from '../logger.js';
import type { Beacon } from '../pools/beacon.js';
import type { PoolRegistry } from '../pools/pool-registry.js';
import type { Clock } from '../s3xml/timestamps.js';
import type { Store, UserRecord } from '../store/store.js';
import type { SyncModule } from '../sync/sync-module.js';
import type { TransformEngine } from '../transform/engine.js';
import type { UshahidiSources } from '../ushahidi/sources.js';
import type { AssetServer } from './assets.js';
import { consolePageOf, formError, interactiveFix } from './form-errors.js';
import { html, type Html } from './html.js';
import { bareShell, mayOpen, shell, type Flash, type PageContext, type ShellOptions } from './layout.js';

declare module 'express-serve-static-core' {
  interface Request {
    /** The console session the request came with (cookie), when valid. */
    consoleSession?: Session;
  }
}

/** Values a peer's options.xml lists for a field (Eden's lookup lists), when the peer can be asked. */
export type PeerOptionsSource = (repository: string, resource: string, field: string) => Promise<{ value: string; text?: string }[]>;

export interface ConsoleDeps {
  store: Store;
  authenticator: Authenticator;
  clock: Clock;
  logger: Logger;
  identity: GatewayIdentity;
  version: string;
  sync: SyncModule;
  /** Ushahidi deployments registered like repositories (adding and removing them). */
  sources?: Pick<UshahidiSources, 'add' | 'list' | 'remove'>;
  engine: TransformEngine;
  stylesheetsDir: string;
  mappingsDir: string;
  /** XSD validation of CAP/HAVE/DE exports in the preview. */
  validator?: XsdValidator;
  /** The admin API registry to declare the console's JSON routes on (else the console keeps its own). */
  api?: ApiRegistry;
  domain: string;
  baseUrl: string;
  sessions?: SessionStore;
  loginLimiter?: LoginRateLimiter;
  /** Send cookies only over https (default: when baseUrl is https). */
  secureCookies?: boolean;
  /** Where console.css and the scripts are (default: src/console/assets of the repository). */
  assetsDir?: string;
  peerOptions?: PeerOptionsSource;
  /** This gateway's interest tags and the gateways heard on the LAN (Discovery page). */
  beacon?: Beacon;
  /** Sync pools (Pools page). */
  pools?: PoolRegistry;
  /** Asks the LAN for gateways now; absent when discovery is off. */
  browse?: () => void;
}

export interface ConsoleEnv extends ConsoleDeps {
  sessions: SessionStore;
  loginLimiter: LoginRateLimiter;
  assets: AssetServer;
  secure: boolean;
}

/** Keeps a message for the next page the user opens; in the store, so any gateway process shows it. */
export async function setFlash(env: ConsoleEnv, req: Request, flash: Flash): Promise<void> {
  if (req.consoleSession) await env.sessions.setFlash(req.consoleSession, JSON.stringify(flash));
}

function readFlash(text: string | undefined): Flash | undefined {
  if (text === undefined) return undefined;
  try {
    const flash = JSON.parse(text) as Flash;
    return typeof flash?.message === 'string' && (flash.kind === 'ok' || flash.kind === 'warning' || flash.kind === 'error') ? flash : undefined;
  } catch {
    return undefined;
  }
}

async function takeFlash(env: ConsoleEnv, session: Session): Promise<Flash | undefined> {
  return readFlash(await env.sessions.takeFlash(session));
}

/** Security headers for every console answer: only our own scripts, styles and images; no framing. */
export function setPageHeaders(res: Response): void {
  res.set({
    'Content-Security-Policy':
      "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    'X-Frame-Options': 'DENY',
    'X-Content-Type-Options': 'nosniff',
    'Referrer-Policy': 'same-origin',
    'Cache-Control': 'no-store',
  });
}

/** Sends a page, gzipped when the browser accepts it (slow links). */
export function sendHtml(req: Request, res: Response, page: Html, status = 200): void {
  setPageHeaders(res);
  res.status(status).type('text/html; charset=utf-8');
  const body = Buffer.from(page.value, 'utf8');
  if (body.length > 1400 && /\bgzip\b/.test(String(req.headers['accept-encoding'] ?? ''))) {
    res.set({ 'Content-Encoding': 'gzip', Vary: 'Accept-Encoding' });
    res.end(gzipSync(body, { level: 6 }));
    return;
  }
  res.end(body);
}

export function pageContext(env: ConsoleEnv, req: Request, flash?: Flash): PageContext {
  const session = req.consoleSession!;
  return {
    user: req.user!,
    csrfToken: session.csrfToken,
    gateway: { name: env.identity.name, uuid: env.identity.uuid, version: env.version },
    path: req.path,
    ...(flash ? { flash } : {}),
    asset: (name) => env.assets.url(name),
  };
}

export function render(req: Request, res: Response, ctx: PageContext, options: ShellOptions, status = 200): void {
  sendHtml(req, res, shell(ctx, options), status);
}

function loginRedirect(req: Request, res: Response): void {
  const next = req.method === 'GET' ? req.originalUrl : '/console';
  res.redirect(303, `/console/login?next=${encodeURIComponent(next)}`);
}

function forbidden(env: ConsoleEnv, req: Request, res: Response, roles: readonly Role[]): void {
  const ctx = pageContext(env, req);
  render(
    req,
    res,
    ctx,
    {
      title: 'Not for your role',
      body: html`<p>This page needs the role <strong>${roles.join(' or ')}</strong>. You are signed in as
<strong>${ctx.user.username}</strong> with ${ctx.user.roles.length ? ctx.user.roles.join(', ') : 'no roles'}.</p>
<p class="fix">Ask an administrator for the role, or go back to the <a href="/console">dashboard</a>.</p>`,
    },
    403,
  );
}

export type PageHandler = (req: Request, res: Response, ctx: PageContext) => Promise<void> | void;

/** A GET page for users holding one of `roles` (none = any signed-in user with a role). */
export function page(env: ConsoleEnv, roles: Role[], handler: PageHandler): RequestHandler {
  return async (req: Request, res: Response, next: NextFunction) => {
    if (!req.user || !req.consoleSession) return loginRedirect(req, res);
    if (!mayOpen(req.user, roles)) return forbidden(env, req, res, roles.length ? roles : ['viewer']);
    try {
      await handler(req, res, pageContext(env, req, await takeFlash(env, req.consoleSession)));
    } catch (error) {
      next(error);
    }
  };
}

export interface ActionOutcome {
  /** Where to go next (a console path). */
  to: string;
  flash?: Flash;
}

export type ActionHandler = (req: Request, user: UserRecord) => Promise<ActionOutcome>;

/** Where a failed action sends the user back to: the page it came from, when that is a console page. */
function backTo(req: Request, fallback: string): string {
  const referer = req.headers.referer;
  if (referer) {
    try {
      const url = new URL(referer);
      if (url.host === req.headers.host && url.pathname.startsWith('/console') && !url.pathname.startsWith('/console/login')) {
        return url.pathname + url.search;
      }
    } catch {
      // An unreadable Referer: use the fallback.
    }
  }
  return fallback;
}

/** A form POST for users holding one of `roles`; the CSRF token was checked by the session layer. */
/** Names the form field a failed action's error is about (shown next to it by pages that can). */
export type ErrorField = (error: SluiceError) => string | undefined;

/** A form POST for users holding one of `roles`; the CSRF token was checked by the session layer. */
export function action(env: ConsoleEnv, roles: Role[], handler: ActionHandler, fallback = '/console', errorField?: ErrorField): RequestHandler {
  return async (req: Request, res: Response, next: NextFunction) => {
    if (!req.user || !req.consoleSession) return loginRedirect(req, res);
    if (!mayOpen(req.user, roles)) return forbidden(env, req, res, roles);
    try {
      let outcome: ActionOutcome;
      try {
        outcome = await handler(req, req.user);
      } catch (error) {
        const failure = asSluiceError(error);
        if (failure.status >= 500) env.logger.error({ err: error }, 'console action failed');
        const named = errorField?.(failure) ?? (typeof failure.details.field === 'string' ? failure.details.field : undefined);
        outcome = {
          to: backTo(req, fallback),
          flash: formError(failure, named),
        };
      }
      if (outcome.flash) await setFlash(env, req, outcome.flash);
      res.redirect(303, outcome.to);
    } catch (error) {
      next(error);
    }
  };
}

/** A form field as one string (forms send strings; anything else is refused). */
export function field(req: Request, name: string): string | undefined {
  const body = req.body as Record<string, unknown> | undefined;
  const value = body?.[name];
  if (value === undefined) return undefined;
  if (typeof value === 'string') return value;
  if (Array.isArray(value) && value.every((item) => typeof item === 'string')) return value[value.length - 1] as string;
  throw new SluiceError('BAD_FORM', `the form field ${name} is not text`, { status: 400 });
}

export function requiredField(req: Request, name: string, label = name): string {
  const value = field(req, name)?.trim();
  if (!value) throw new SluiceError('BAD_FORM', `${label} is required`, { status: 400, fix: `Fill in ${label}` });
  return value;
}

/** Every value of a repeated field (checkboxes). */
export function fieldList(req: Request, name: string): string[] {
  const body = req.body as Record<string, unknown> | undefined;
  const value = body?.[name];
  if (value === undefined) return [];
  const list = Array.isArray(value) ? value : [value];
  if (!list.every((item) => typeof item === 'string')) throw new SluiceError('BAD_FORM', `the form field ${name} is not text`, { status: 400 });
  return list as string[];
}

export function queryText(req: Request, name: string): string | undefined {
  const value = req.query[name];
  if (typeof value === 'string' && value !== '') return value;
  return undefined;
}

/** The HTML error page for console paths (other paths keep Eden's JSON errors). */
export function errorPage(env: ConsoleEnv, req: Request, res: Response, error: unknown): void {
  const failure = asSluiceError(error);
  if (failure.status >= 500) env.logger.error({ err: error }, 'console page failed');
  const fix = interactiveFix(failure);
  const listed = consolePageOf(failure.code);
  const body = html`<p>${failure.message} <span class="mono">(${failure.code})</span></p>${fix ? html`<p class="fix">${fix}</p>` : ''}
<p>${listed ? html`<a href="${listed.href}">Open the ${listed.label} page</a> or go ` : ''}<a href="/console">back to the dashboard</a></p>`;
  if (req.user && req.consoleSession) {
    render(req, res, pageContext(env, req), { title: failure.status === 404 ? 'Not found' : 'Something went wrong', body }, failure.status);
  } else {
    sendHtml(req, res, bareShell((name) => env.assets.url(name), 'Error', html`<h1>Something went wrong</h1>${body}`), failure.status);
  }
}
