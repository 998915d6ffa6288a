import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { launchConsoleBrowser, signIn, type ConsoleBrowser } from './support/browser.js';
import { ACCOUNTS, startConsoleGateway, type ConsoleGateway } from './support/console-gateway.js';

/** Pages only integrators (and admins) may open. */
const INTEGRATOR_PAGES = ['/console/repositories', '/console/repositories/new', '/console/mappings'];
const ADMIN_PAGES = ['/console/settings', '/console/users'];

describe('roles in the browser', () => {
  let gateway: ConsoleGateway;
  let browser: ConsoleBrowser;

  before(async () => {
    [gateway, browser] = await Promise.all([startConsoleGateway(), launchConsoleBrowser()]);
  });

  after(async () => {
    await browser?.close();
    await gateway?.stop();
  });

  it('keeps a viewer out of the integrator\u2019s pages, links and actions', async () => {
    const watched = await browser.newPage();
    const { page } = watched;
    await signIn(page, gateway.url, ACCOUNTS.viewer.user, ACCOUNTS.viewer.password);

    const nav = await page.locator('header nav a').allTextContents();
    assert.deepEqual(nav, ['Dashboard', 'Sync log', 'Discovery', 'Pools']);
    assert.equal(await page.locator('button', { hasText: 'Sync Now' }).count(), 0);

    for (const path of [...INTEGRATOR_PAGES, ...ADMIN_PAGES, '/console/preview', '/console/runs']) {
      watched.allowStatus(path, 403);
      const response = await page.goto(`${gateway.url}${path}`);
      assert.equal(response?.status(), 403, path);
      assert.equal(await page.textContent('h1'), 'Not for your role', path);
      assert.match((await page.textContent('main')) ?? '', /needs the role/);
    }

    // Going around the page: a hand-made form POST and the JSON API are refused too.
    const answers = await page.evaluate(async () => {
      const csrf = document.querySelector('main')!.getAttribute('data-csrf')!;
      const form = await fetch('/console/repositories', {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ _csrf: csrf, name: 'rogue', url: 'http://127.0.0.1:9' }),
        redirect: 'manual',
      });
      const api = await fetch('/api/mappings', { headers: { 'x-sluice-console': '1' } });
      const save = await fetch('/api/mappings/rogue', {
        method: 'PUT',
        headers: { 'content-type': 'application/json', 'x-csrf-token': csrf, 'x-sluice-console': '1' },
        body: JSON.stringify({ instance: 'rogue', resources: [] }),
      });
      return { form: form.status, api: api.status, save: save.status };
    });
    assert.deepEqual(answers, { form: 403, api: 403, save: 403 });
    assert.deepEqual(await gateway.store.listRepositories(), []);

    // The log stays readable.
    await page.goto(`${gateway.url}/console/log`);
    assert.equal(await page.textContent('h1'), 'Sync log');
    // The three refused fetches above each logged a 403 in the browser console.
    const refused = watched.problems.filter((problem) => /status of 403/.test(problem));
    assert.equal(refused.length, 3);
    watched.problems.length = 0;
    watched.assertClean();
  });

  it('sends someone who is not signed in to the sign-in form and back', async () => {
    const watched = await browser.newPage();
    const { page } = watched;
    await page.context().clearCookies();
    await page.goto(`${gateway.url}/console/mappings`);
    assert.match(page.url(), /\/console\/login\?next=%2Fconsole%2Fmappings$/);
    await page.fill('input[name="username"]', ACCOUNTS.integrator.user);
    await page.fill('input[name="password"]', ACCOUNTS.integrator.password);
    await Promise.all([page.waitForURL('**/console/mappings'), page.click('button[type="submit"]')]);
    assert.equal(await page.textContent('h1'), 'Mappings');
    watched.assertClean();
  });

  it('refuses a wrong password, then locks the name after repeated failures', async () => {
    const watched = await browser.newPage();
    const { page } = watched;
    await page.context().clearCookies();
    await page.goto(`${gateway.url}/console/login`);
    const statuses: number[] = [];
    for (let attempt = 0; attempt < 6; attempt += 1) {
      await page.fill('input[name="username"]', 'nobody@example.org');
      await page.fill('input[name="password"]', `guess ${attempt}`);
      watched.allowStatus('/console/login', attempt < 5 ? 401 : 429);
      const [response] = await Promise.all([page.waitForResponse((r) => r.url().endsWith('/console/login') && r.request().method() === 'POST'), page.click('button[type="submit"]')]);
      statuses.push(response.status());
    }
    assert.deepEqual(statuses, [401, 401, 401, 401, 401, 429]);
    assert.match((await page.textContent('.flash-error')) ?? '', /Too many failed sign-ins/);
    watched.assertClean();
  });

  it('notices when a page logs an error (the watch itself works)', async () => {
    const watched = await browser.newPage();
    await signIn(watched.page, gateway.url, ACCOUNTS.viewer.user, ACCOUNTS.viewer.password);
    await watched.page.goto(`${gateway.url}/console/no-such-page`);
    assert.equal(watched.problems.length, 1);
    assert.match(watched.problems[0]!, /404/);
  });
});
