import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ADMIN } from '../support/gateway.js';
import { launchConsoleBrowser, signIn, type ConsoleBrowser } from './support/browser.js';
import { ACCOUNTS, startConsoleGateway, type ConsoleGateway } from './support/console-gateway.js';
import { openPage, signInWithForm } from './support/form-session.js';

describe('disabling and deleting users in the browser', () => {
  let gateway: ConsoleGateway;
  let browser: ConsoleBrowser;

  before(async () => {
    [gateway, browser] = await Promise.all([startConsoleGateway(), launchConsoleBrowser()]);
  });

  after(async () => {
    await browser?.close();
    await gateway?.stop();
  });

  it('disables a user (ending their sessions), enables them again and deletes another', async () => {
    const viewerSession = await signInWithForm(gateway.url, ACCOUNTS.viewer.user, ACCOUNTS.viewer.password);
    const watched = await browser.newPage();
    const { page } = watched;
    await signIn(page, gateway.url, ADMIN.user, ADMIN.password, '/console/users');

    const viewerRow = page.locator('tbody tr', { hasText: ACCOUNTS.viewer.user });
    await viewerRow.locator('summary', { hasText: 'Change' }).click();
    await viewerRow.locator('button', { hasText: 'Disable' }).click();
    assert.match((await page.textContent('.flash-ok')) ?? '', /Disabled victor@example.org and ended 1 session/);
    assert.match((await page.locator('tbody tr', { hasText: ACCOUNTS.viewer.user }).textContent()) ?? '', /disabled/);
    assert.equal((await gateway.store.getUser(ACCOUNTS.viewer.user))?.disabled, true);
    assert.equal((await openPage(gateway.url, viewerSession, '/console')).signedIn, false, 'the open session ended');
    const basic = await gateway.request('/api/repositories', { auth: { user: ACCOUNTS.viewer.user, password: ACCOUNTS.viewer.password } });
    assert.equal(basic.status, 401, 'HTTP Basic refuses a disabled user too');
    await assert.rejects(signInWithForm(gateway.url, ACCOUNTS.viewer.user, ACCOUNTS.viewer.password), /signed in as/);

    await page.locator('tbody tr', { hasText: ACCOUNTS.viewer.user }).locator('summary', { hasText: 'Change' }).click();
    await page.locator('tbody tr', { hasText: ACCOUNTS.viewer.user }).locator('button', { hasText: 'Enable' }).click();
    assert.match((await page.textContent('.flash-ok')) ?? '', /Enabled victor@example.org/);
    assert.ok((await openPage(gateway.url, await signInWithForm(gateway.url, ACCOUNTS.viewer.user, ACCOUNTS.viewer.password), '/console')).signedIn);

    const analystRow = page.locator('tbody tr', { hasText: ACCOUNTS.analyst.user });
    await analystRow.locator('summary', { hasText: 'Change' }).click();
    await analystRow.locator('button', { hasText: 'Delete' }).click();
    assert.match((await page.textContent('.flash-ok')) ?? '', /Deleted ana@example.org/);
    assert.equal(await gateway.store.getUser(ACCOUNTS.analyst.user), undefined);
    assert.equal(await page.locator('tbody tr', { hasText: ACCOUNTS.analyst.user }).count(), 0);
    watched.assertClean();
  });

  it('refuses to let an admin disable or delete their own account', async () => {
    const watched = await browser.newPage();
    const { page } = watched;
    await signIn(page, gateway.url, ADMIN.user, ADMIN.password, '/console/users');
    const ownRow = page.locator('tbody tr', { hasText: ADMIN.user });
    await ownRow.locator('summary', { hasText: 'Change' }).click();
    assert.equal(await ownRow.locator('button', { hasText: /Disable|Delete/ }).count(), 0, 'no buttons against oneself');
    assert.match((await ownRow.textContent()) ?? '', /This is you/);

    // A forged request against oneself is refused with a message, and changes nothing.
    await page.evaluate(async (username) => {
      const body = new URLSearchParams({ _csrf: document.querySelector('main')!.dataset.csrf! });
      // Not following the redirect leaves the message for the reload to show.
      await fetch(`/console/users/${encodeURIComponent(username)}/delete`, { method: 'POST', body, redirect: 'manual' });
    }, ADMIN.user);
    await page.reload();
    assert.match((await page.textContent('.flash-error')) ?? '', /USER_IS_SELF/);
    assert.ok(await gateway.store.getUser(ADMIN.user));

    watched.assertClean();
  });
});
