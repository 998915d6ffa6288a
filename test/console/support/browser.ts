/**
 * Headless Chromium for the console's browser tests: Debian's /usr/bin/chromium driven by
 * playwright-core (never a downloaded browser), one browser per test file with a fresh profile,
 * and a watch on every page for console errors, uncaught exceptions and requests that leave the
 * gateway — any of which fails the test.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { chromium, type BrowserContext, type Locator, type Page, type Response } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export interface ConsoleBrowser {
  context: BrowserContext;
  /** A new page whose console errors and foreign requests are recorded. */
  newPage(viewport?: { width: number; height: number }): Promise<WatchedPage>;
  close(): Promise<void>;
}

export interface WatchedPage {
  page: Page;
  /** Console errors, uncaught exceptions and requests to other hosts, as text. */
  problems: string[];
  /** Lets one navigation answer with this status without counting the browser's log line about it. */
  allowStatus(urlPart: string, status: number): void;
  /** Fails when anything went wrong on the page so far. */
  assertClean(): void;
}

export async function launchConsoleBrowser(): Promise<ConsoleBrowser> {
  const userDataDir = await mkdtemp(path.join(os.tmpdir(), 'sluice-chromium-'));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_ARGS,
    viewport: { width: 1280, height: 800 },
    // Dialogs (confirm before removing) are accepted: the tests mean what they click.
    acceptDownloads: false,
  });
  // Generous: CI runs two test files at once on two cores, and compiling a stylesheet takes seconds there.
  context.setDefaultTimeout(45_000);
  return {
    context,
    async newPage(viewport) {
      const page = await context.newPage();
      if (viewport) await page.setViewportSize(viewport);
      const problems: string[] = [];
      const allowed: { urlPart: string; status: number; used: boolean }[] = [];
      const responses: Response[] = [];
      page.on('response', (response) => responses.push(response));
      page.on('console', (message) => {
        if (message.type() !== 'error') return;
        const text = message.text();
        const url = message.location().url ?? '';
        const status = /status of (\d{3})/.exec(text)?.[1];
        const allowance = status ? allowed.find((entry) => !entry.used && url.includes(entry.urlPart) && entry.status === Number(status)) : undefined;
        if (allowance) {
          allowance.used = true;
          return;
        }
        problems.push(`console error: ${text} (${url})`);
      });
      page.on('pageerror', (error) => problems.push(`uncaught: ${error.message}`));
      page.on('dialog', (dialog) => {
        void dialog.accept();
      });
      page.on('request', (request) => {
        const url = new URL(request.url());
        if (url.protocol === 'data:' || url.protocol === 'about:') return;
        if (url.hostname !== '127.0.0.1') problems.push(`request outside the gateway: ${request.url()}`);
      });
      return {
        page,
        problems,
        allowStatus(urlPart, status) {
          allowed.push({ urlPart, status, used: false });
        },
        assertClean() {
          assert.deepEqual(problems, [], `the page had problems:\n${problems.join('\n')}`);
        },
      };
    },
    async close() {
      await context.close();
      await rm(userDataDir, { recursive: true, force: true });
    },
  };
}

/** Signs in through the form and waits for the page it leads to. */
export async function signIn(page: Page, baseUrl: string, username: string, password: string, next = '/console'): Promise<void> {
  await page.context().clearCookies();
  await page.goto(`${baseUrl}/console/login?next=${encodeURIComponent(next)}`);
  await page.fill('input[name="username"]', username);
  await page.fill('input[name="password"]', password);
  await Promise.all([page.waitForURL((url) => !url.pathname.startsWith('/console/login')), page.click('button[type="submit"]')]);
}

/** The page is no wider than its window: nothing scrolls sideways. */
export async function assertNoSidewaysScroll(page: Page): Promise<void> {
  const { scrollWidth, clientWidth } = await page.evaluate(() => ({
    scrollWidth: document.documentElement.scrollWidth,
    clientWidth: document.documentElement.clientWidth,
  }));
  assert.ok(scrollWidth <= clientWidth + 1, `${page.url()} is ${scrollWidth}px wide in a ${clientWidth}px window`);
}

/**
 * Presses a Sync Now button and ends on the run's page once the run is over. The console answers
 * with the finished run when it ends within its wait, else with the run list (the run still going):
 * then the list is read again until the newest run has finished.
 */
export async function syncNowAndWait(page: Page, button: Locator): Promise<string> {
  await Promise.all([page.waitForURL(/\/console\/runs/, { timeout: 60_000 }), button.click({ timeout: 60_000 })]);
  if (!/\/console\/runs\/[^/]+$/.test(new URL(page.url()).pathname)) {
    const deadline = Date.now() + 120_000;
    while ((await page.locator('tbody tr').first().locator('.badge', { hasText: 'running' }).count()) > 0) {
      assert.ok(Date.now() < deadline, 'the run did not finish within two minutes');
      await page.waitForTimeout(500);
      await page.reload();
    }
    await Promise.all([page.waitForURL(/\/console\/runs\/[^/]+$/), page.locator('tbody tr').first().locator('a').first().click()]);
  }
  return (await page.locator('dl.facts .badge').first().textContent()) ?? '';
}

/**
 * Opens the mapping editor as `username` on the mapping linked to `repository` (its instance name
 * is `instance`) and starts mapping `field` of `resource`: the editor then lists the remote values.
 */
export async function startMappingField(
  page: Page,
  baseUrl: string,
  account: { user: string; password: string },
  link: { repository: string; instance: string },
  target: { resource: string; field: string; firstValue: string },
): Promise<void> {
  await signIn(page, baseUrl, account.user, account.password, '/console/mappings');
  await page.selectOption('select[name="repository"]', link.repository);
  await Promise.all([page.waitForURL(`**/console/mappings/${link.instance}`), page.click('form[action="/console/mappings"] button[type="submit"]')]);
  await page.waitForSelector('#structure');
  await page.fill('#new-resource', target.resource);
  await page.click('#add-resource');
  await page.fill('#new-field', target.field);
  await page.click('#add-field');
  await page.waitForSelector(`input[data-map="${target.firstValue}"]`);
}

/**
 * Fills the "Add an Ushahidi source" form (already open on `page`) for a v5 deployment, polled only
 * by Sync Now, submits it and waits for the source's page.
 */
export async function addUshahidiSource(page: Page, name: string, deployment: { url: string; admin: { email: string; password: string } }): Promise<void> {
  await page.fill('input[name="name"]', name);
  await page.fill('input[name="url"]', deployment.url);
  await page.selectOption('select[name="type"]', 'ushahidi-v5');
  await page.fill('input[name="username"]', deployment.admin.email);
  await page.fill('input[name="password"]', deployment.admin.password);
  await page.fill('input[name="poll_seconds"]', '0');
  await Promise.all([page.waitForURL('**/console/repositories/*'), page.click('text=Check and add')]);
}
