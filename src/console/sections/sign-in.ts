/**
 * Signing in and out of the console, and the session layer in front of everything: a valid session
 * cookie makes the request the user's (for console pages and the JSON API alike); a request that
 * changes something must also carry the session's CSRF token (form field `_csrf` or header
 * `X-CSRF-Token`). Failed sign-ins are rate limited per address and per user name.
 */
import type { NextFunction, Request, Response, Router } from 'express';
import {
  expiredCookie,
  LOGIN_COOKIE,
  newToken,
  parseCookies,
  serializeCookie,
  SESSION_COOKIE,
  tokensMatch,
} from '../../auth/sessions.js';
import { edenMessage } from '../../http/eden-reply.js';
import { field, sendHtml, type ConsoleEnv } from '../context.js';
import { html } from '../html.js';
import { bareShell } from '../layout.js';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

function isConsolePath(req: Request): boolean {
  return req.path === '/console' || (req.path.startsWith('/console/') && !req.path.startsWith('/console/api/'));
}

function csrfRejected(req: Request, res: Response, env: ConsoleEnv): void {
  if (isConsolePath(req)) {
    sendHtml(
      req,
      res,
      bareShell((name) => env.assets.url(name), 'Form expired', html`<h1>This form has expired</h1>
<p>The page was opened before your session changed, so it was not sent (CSRF protection).</p>
<p class="fix">Go back, reload the page and send it again.</p><p><a href="/console">Dashboard</a></p>`),
      403,
    );
    return;
  }
  res.status(403).json(
    edenMessage('failed', 403, 'The CSRF token is missing or wrong', {
      code: 'CSRF_FAILED',
      fix: 'Send the X-CSRF-Token header the console page gives (main[data-csrf]), or use HTTP Basic',
    }),
  );
}

/** Runs before every route: turns a session cookie into `req.user`. */
export function sessionLayer(env: ConsoleEnv) {
  return async (req: Request, res: Response, next: NextFunction): Promise<void> => {
    const cookies = parseCookies(req.headers.cookie);
    const session = await env.sessions.get(cookies[SESSION_COOKIE]);
    const user = session ? await env.store.getUser(session.username) : undefined;
    if (!session || !user || user.roles.length === 0 || user.disabled) {
      await env.sessions.destroy(session?.id);
      // The console's scripts say who they are: answer them without a Basic challenge, which
      // would make the browser pop up its own password dialog.
      if (req.get('x-sluice-console') && !req.headers.authorization) {
        res.status(401).json(edenMessage('failed', 401, 'Your console session has ended', { code: 'SESSION_EXPIRED', fix: 'Sign in again at /console/login' }));
        return;
      }
      return next();
    }
    if (!SAFE_METHODS.has(req.method)) {
      const given = req.get('x-csrf-token') ?? (req.body as Record<string, unknown> | undefined)?.['_csrf'];
      if (!tokensMatch(session.csrfToken, given)) {
        // A peer using HTTP Basic that happens to carry a cookie is judged by its credentials.
        if (req.headers.authorization) return next();
        return csrfRejected(req, res, env);
      }
    }
    req.consoleSession = session;
    req.user = user;
    next();
  };
}

/** Only console paths on this host: never an open redirect. */
function safeNext(value: unknown): string {
  if (typeof value !== 'string' || !value.startsWith('/console') || value.startsWith('//') || value.includes('\\')) return '/console';
  if (value.startsWith('/console/login') || value.startsWith('/console/logout')) return '/console';
  return value;
}

function signInPage(env: ConsoleEnv, token: string, next: string, problem?: string, username = ''): ReturnType<typeof bareShell> {
  return bareShell(
    (name) => env.assets.url(name),
    'Sign in',
    html`<form class="card signin" method="post" action="/console/login">
  <h1>Sign in to Sluice</h1>
  <p class="muted">${env.identity.name}</p>
  ${problem ? html`<div class="flash flash-error" role="alert"><p>${problem}</p></div>` : ''}
  <input type="hidden" name="_login" value="${token}">
  <input type="hidden" name="next" value="${next}">
  <label>User name <input name="username" autocomplete="username" required value="${username}" autofocus></label>
  <label>Password <input name="password" type="password" autocomplete="current-password" required></label>
  <button type="submit" class="primary">Sign in</button>
  <p class="muted small">Peers and scripts use HTTP Basic with the same accounts.</p>
</form>`,
  );
}

export function registerSignIn(router: Router, env: ConsoleEnv): void {
  const cookie = (name: string, value: string, maxAgeSeconds?: number) =>
    serializeCookie(name, value, { secure: env.secure, ...(maxAgeSeconds === undefined ? {} : { maxAgeSeconds }) });

  router.get('/console/login', (req, res) => {
    if (req.user && req.consoleSession) {
      res.redirect(303, safeNext(req.query.next));
      return;
    }
    const token = newToken();
    res.append('Set-Cookie', cookie(LOGIN_COOKIE, token, 3600));
    sendHtml(req, res, signInPage(env, token, safeNext(req.query.next)));
  });

  router.post('/console/login', async (req, res) => {
    const cookies = parseCookies(req.headers.cookie);
    const next = safeNext(field(req, 'next'));
    const username = (field(req, 'username') ?? '').trim();
    const password = field(req, 'password') ?? '';
    const fresh = newToken();
    res.append('Set-Cookie', cookie(LOGIN_COOKIE, fresh, 3600));
    if (!tokensMatch(cookies[LOGIN_COOKIE], field(req, '_login'))) {
      sendHtml(req, res, signInPage(env, fresh, next, 'The sign-in form had expired. Please sign in again.', username), 403);
      return;
    }
    const keys = [`ip:${req.socket.remoteAddress ?? 'unknown'}`, `user:${username.toLowerCase()}`];
    const decision = env.loginLimiter.check(keys);
    if (!decision.allowed) {
      res.set('Retry-After', String(decision.retryAfterSeconds));
      const minutes = Math.ceil(decision.retryAfterSeconds / 60);
      sendHtml(req, res, signInPage(env, fresh, next, `Too many failed sign-ins. Try again in ${minutes} minute${minutes === 1 ? '' : 's'}.`, username), 429);
      return;
    }
    const user = username && password ? await env.authenticator.authenticate(username, password) : undefined;
    if (!user || user.roles.length === 0 || user.disabled) {
      env.loginLimiter.recordFailure(keys);
      env.logger.info({ username, ip: req.socket.remoteAddress }, 'console sign-in failed');
      sendHtml(req, res, signInPage(env, fresh, next, 'The user name or password is wrong.', username), 401);
      return;
    }
    // Only the name's count is cleared: one good sign-in must not reset an address that guesses.
    env.loginLimiter.recordSuccess([keys[1]!]);
    // A new id at every sign-in: a session id planted before sign-in is worth nothing after it.
    await env.sessions.destroy(cookies[SESSION_COOKIE]);
    const session = await env.sessions.create(user.username);
    res.append('Set-Cookie', cookie(SESSION_COOKIE, session.id, env.sessions.cookieMaxAgeSeconds));
    res.append('Set-Cookie', expiredCookie(LOGIN_COOKIE, { secure: env.secure }));
    env.logger.info({ username: user.username }, 'console sign-in');
    res.redirect(303, next);
  });

  router.post('/console/logout', async (req, res) => {
    // The session layer already refused a logout without the session's CSRF token.
    await env.sessions.destroy(req.consoleSession?.id);
    res.append('Set-Cookie', expiredCookie(SESSION_COOKIE, { secure: env.secure }));
    res.redirect(303, '/console/login');
  });
}
