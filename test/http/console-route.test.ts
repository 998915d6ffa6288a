import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ADMIN, basicAuth } from '../support/gateway.js';
import { ACCOUNTS, startConsoleGateway, type ConsoleGateway } from '../console/support/console-gateway.js';

/** A tiny cookie jar around fetch, as a browser would keep one for the gateway. */
class Visitor {
  readonly cookies = new Map<string, string>();
  constructor(private readonly base: string) {}

  async fetch(path: string, init: RequestInit = {}): Promise<Response> {
    const headers = new Headers(init.headers);
    if (this.cookies.size) headers.set('cookie', [...this.cookies].map(([name, value]) => `${name}=${value}`).join('; '));
    const response = await fetch(`${this.base}${path}`, { ...init, headers, redirect: 'manual' });
    for (const line of response.headers.getSetCookie()) {
      const [pair] = line.split(';');
      const at = pair!.indexOf('=');
      const name = pair!.slice(0, at);
      const value = pair!.slice(at + 1);
      if (/Max-Age=0/.test(line)) this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
    return response;
  }

  form(path: string, fields: Record<string, string>): Promise<Response> {
    return this.fetch(path, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(fields) });
  }

  async signIn(user: string, password: string, next?: string): Promise<Response> {
    const page = await (await this.fetch('/console/login')).text();
    const token = /name="_login" value="([^"]+)"/.exec(page)![1]!;
    return this.form('/console/login', { _login: token, username: user, password, ...(next === undefined ? {} : { next }) });
  }

  async csrf(): Promise<string> {
    const page = await (await this.fetch('/console/account')).text();
    return /data-csrf="([^"]+)"/.exec(page)![1]!;
  }
}

describe('the console route', () => {
  let gateway: ConsoleGateway;

  before(async () => {
    gateway = await startConsoleGateway();
  });

  after(async () => {
    await gateway?.stop();
  });

  it('signs in with a cookie scripts cannot read and sends the user where they were going', async () => {
    const visitor = new Visitor(gateway.url);
    const response = await visitor.signIn(ACCOUNTS.viewer.user, ACCOUNTS.viewer.password, '/console/log');
    assert.equal(response.status, 303);
    assert.equal(response.headers.get('location'), '/console/log');
    const cookie = response.headers.getSetCookie().find((line) => line.startsWith('sluice_session='));
    assert.match(cookie ?? '', /HttpOnly; SameSite=Strict/);
    assert.equal((await visitor.fetch('/console/log')).status, 200);
  });

  it('never redirects outside the console after sign-in', async () => {
    for (const next of ['//evil.example.org/', 'https://evil.example.org/', '/console\\@evil', '/api/mappings']) {
      const visitor = new Visitor(gateway.url);
      const response = await visitor.signIn(ACCOUNTS.viewer.user, ACCOUNTS.viewer.password, next);
      assert.equal(response.headers.get('location'), '/console', next);
    }
  });

  it('refuses a sign-in form that was not served by the gateway (login CSRF)', async () => {
    const visitor = new Visitor(gateway.url);
    const response = await visitor.form('/console/login', { _login: 'forged', username: ADMIN.user, password: ADMIN.password });
    assert.equal(response.status, 403);
    assert.equal(visitor.cookies.has('sluice_session'), false);
  });

  it('refuses changes without the session\u2019s CSRF token, in forms and in scripts', async () => {
    const visitor = new Visitor(gateway.url);
    await visitor.signIn(ADMIN.user, ADMIN.password);
    const form = await visitor.form('/console/settings/proxy', { proxy: 'http://proxy.example.org:3128' });
    assert.equal(form.status, 403);
    const script = await visitor.fetch('/api/settings/sync', { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ proxy: 'http://proxy.example.org:3128' }) });
    assert.equal(script.status, 403);
    assert.equal(((await script.json()) as { code: string }).code, 'CSRF_FAILED');
    assert.equal(await gateway.store.getSetting('sync.proxy'), undefined);

    const token = await visitor.csrf();
    const accepted = await visitor.form('/console/settings/proxy', { _csrf: token, proxy: 'http://proxy.example.org:3128' });
    assert.equal(accepted.status, 303);
    assert.equal(await gateway.store.getSetting('sync.proxy'), 'http://proxy.example.org:3128');
    const viaApi = await visitor.fetch('/api/settings/sync', { method: 'PUT', headers: { 'content-type': 'application/json', 'x-csrf-token': token }, body: JSON.stringify({ proxy: null }) });
    assert.equal(viaApi.status, 200);
  });

  it('lets peers keep using HTTP Basic next to console sessions', async () => {
    const response = await fetch(`${gateway.url}/api/mappings`, { headers: { authorization: basicAuth(ACCOUNTS.integrator.user, ACCOUNTS.integrator.password) } });
    assert.equal(response.status, 200);
    assert.deepEqual(await response.json(), []);
  });

  it('answers the console\u2019s scripts 401 without a password challenge once the session is gone', async () => {
    const response = await fetch(`${gateway.url}/api/mappings`, { headers: { 'x-sluice-console': '1', cookie: 'sluice_session=expired' } });
    assert.equal(response.status, 401);
    assert.equal(response.headers.get('www-authenticate'), null);
    assert.equal(((await response.json()) as { code: string }).code, 'SESSION_EXPIRED');
  });

  it('sends visitors who are not signed in to the sign-in form, and the gateway\u2019s root to the console', async () => {
    const page = await fetch(`${gateway.url}/console/runs?status=error`, { redirect: 'manual' });
    assert.equal(page.status, 303);
    assert.equal(page.headers.get('location'), '/console/login?next=%2Fconsole%2Fruns%3Fstatus%3Derror');
    const root = await fetch(`${gateway.url}/`, { redirect: 'manual' });
    assert.equal(root.headers.get('location'), '/console');
  });

  it('serves pages with a policy that allows only the gateway\u2019s own scripts and styles', async () => {
    const visitor = new Visitor(gateway.url);
    await visitor.signIn(ADMIN.user, ADMIN.password);
    const response = await visitor.fetch('/console', { headers: { 'accept-encoding': 'gzip' } });
    const policy = response.headers.get('content-security-policy') ?? '';
    assert.match(policy, /default-src 'none'/);
    assert.match(policy, /script-src 'self'/);
    assert.doesNotMatch(policy, /unsafe-inline/);
    assert.equal(response.headers.get('x-frame-options'), 'DENY');
    assert.equal(response.headers.get('cache-control'), 'no-store');
    const body = await response.text();
    assert.doesNotMatch(body, /<script>(?!<\/script>)/, 'no inline scripts');
    assert.doesNotMatch(body, / style="/, 'no inline styles');
    assert.doesNotMatch(body, /https?:\/\/(?!127\.0\.0\.1)/, 'nothing from other hosts');
  });

  it('signs a user out, and the old cookie opens nothing any more', async () => {
    const visitor = new Visitor(gateway.url);
    await visitor.signIn(ACCOUNTS.analyst.user, ACCOUNTS.analyst.password);
    const cookie = visitor.cookies.get('sluice_session')!;
    const token = await visitor.csrf();
    const out = await visitor.form('/console/logout', { _csrf: token });
    assert.equal(out.headers.get('location'), '/console/login');
    const replay = await fetch(`${gateway.url}/console/preview`, { headers: { cookie: `sluice_session=${cookie}` }, redirect: 'manual' });
    assert.equal(replay.status, 303);
  });

  it('ends the other sessions of a user whose password an admin changes', async () => {
    const victim = new Visitor(gateway.url);
    await victim.signIn(ACCOUNTS.analyst.user, ACCOUNTS.analyst.password);
    const admin = new Visitor(gateway.url);
    await admin.signIn(ADMIN.user, ADMIN.password);
    const changed = await admin.form(`/console/users/${encodeURIComponent(ACCOUNTS.analyst.user)}`, {
      _csrf: await admin.csrf(),
      roles: 'analyst',
      password: 'a brand new password',
    });
    assert.equal(changed.status, 303);
    assert.equal((await victim.fetch('/console/preview')).status, 303);
    const again = new Visitor(gateway.url);
    assert.equal((await again.signIn(ACCOUNTS.analyst.user, 'a brand new password')).headers.get('location'), '/console');
  });
});
