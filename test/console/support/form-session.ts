/**
 * Signing in to the console with plain fetch (no browser), for tests about sessions themselves:
 * the sign-in form's own token, the session cookie, and the CSRF token a page carries.
 */
import assert from 'node:assert/strict';

export interface FormSession {
  cookie: string;
}

function cookieValue(response: Response, name: string): string | undefined {
  for (const header of response.headers.getSetCookie()) {
    const [pair] = header.split(';');
    const eq = pair!.indexOf('=');
    if (pair!.slice(0, eq) === name) return pair!.slice(eq + 1);
  }
  return undefined;
}

export async function signInWithForm(baseUrl: string, username: string, password: string): Promise<FormSession> {
  const form = await fetch(`${baseUrl}/console/login`);
  const login = cookieValue(form, 'sluice_login');
  const token = /name="_login" value="([^"]+)"/.exec(await form.text())?.[1];
  assert.ok(login && token, 'the sign-in form sets its own token');
  const answer = await fetch(`${baseUrl}/console/login`, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: `sluice_login=${login}` },
    body: new URLSearchParams({ _login: token, next: '/console', username, password }),
  });
  assert.equal(answer.status, 303, `signed in as ${username}`);
  const session = cookieValue(answer, 'sluice_session');
  assert.ok(session, 'a session cookie was set');
  return { cookie: `sluice_session=${session}` };
}

/** GETs a console page with the session; `signedIn` is false when it was sent to the sign-in form. */
export async function openPage(baseUrl: string, session: FormSession, path: string): Promise<{ signedIn: boolean; status: number; body: string }> {
  const response = await fetch(`${baseUrl}${path}`, { redirect: 'manual', headers: { cookie: session.cookie } });
  const location = response.headers.get('location') ?? '';
  return { signedIn: !(response.status === 303 && location.startsWith('/console/login')), status: response.status, body: await response.text() };
}

/** The CSRF token a console page carries (main[data-csrf]). */
export function csrfOf(body: string): string {
  const token = /data-csrf="([^"]+)"/.exec(body)?.[1];
  assert.ok(token, 'the page carries a CSRF token');
  return token;
}

/** POSTs a console form with the session and its CSRF token; returns the answer (redirects not followed). */
export async function postForm(baseUrl: string, session: FormSession, path: string, csrf: string, fields: Record<string, string> = {}): Promise<Response> {
  return fetch(`${baseUrl}${path}`, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: session.cookie },
    body: new URLSearchParams({ _csrf: csrf, ...fields }),
  });
}
