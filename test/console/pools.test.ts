import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ADMIN } from '../support/gateway.js';
import { launchConsoleBrowser, signIn, type ConsoleBrowser } from './support/browser.js';
import { ACCOUNTS, startConsoleGateway, type ConsoleGateway } from './support/console-gateway.js';
import { startPoolsConsole, type PoolsConsole } from './support/pools-console.js';

const STRANGER = 'urn:uuid:0b7d8f00-0000-4000-8000-00000000beef';

describe('discovery, pools and low-bandwidth repository options in the browser', () => {
  let here: ConsoleGateway;
  let peer: ConsoleGateway;
  let console_: PoolsConsole;
  let browser: ConsoleBrowser;

  before(async () => {
    [here, peer, browser] = await Promise.all([
      startConsoleGateway({ name: 'Port-au-Prince hub' }),
      startConsoleGateway({ name: 'Jacmel EOC', demo: true, users: false }),
      launchConsoleBrowser(),
    ]);
    console_ = await startPoolsConsole(here);
    const seen = '2024-05-01T10:00:00';
    // What LAN discovery would have recorded: the real peer, and a stranger that never answers.
    await here.store.putDiscoveredGateway({
      uuid: peer.identity.uuid,
      name: 'Jacmel EOC',
      url: peer.url,
      advert: { tables: ['org_organisation', 'org_office'], interests: [{ tag: 'haiti', direction: 'both' }], api: '1', version: 'test' },
      first_seen_at: seen,
      last_seen_at: seen,
    });
    await here.store.putDiscoveredGateway({
      uuid: STRANGER,
      name: 'Unknown laptop',
      url: 'http://127.0.0.1:9',
      advert: { tables: [], interests: [{ tag: 'haiti', direction: 'download' }], api: '1', version: 'test' },
      first_seen_at: seen,
      last_seen_at: seen,
    });
  });

  after(async () => {
    await browser?.close();
    await console_?.close();
    await here?.stop();
    await peer?.stop();
  });

  it('shows the gateways heard on the LAN and adds and removes this gateway\u2019s interests', async () => {
    const watched = await browser.newPage();
    const { page } = watched;
    await signIn(page, console_.url, ADMIN.user, ADMIN.password);
    await page.click('nav >> text=Discovery');
    const row = page.locator('table.discovered tbody tr', { hasText: 'Jacmel EOC' });
    const text = (await row.textContent()) ?? '';
    for (const expected of [peer.identity.uuid, peer.url, 'haiti', 'org_organisation']) assert.ok(text.includes(expected), `the row shows ${expected}: ${text}`);

    await page.fill('input[name="tag"]', 'Haiti');
    await page.selectOption('select[name="direction"]', 'download');
    await page.click('text=Add interest');
    assert.match((await page.textContent('.flash-ok')) ?? '', /interest in haiti \(download\)/);
    assert.deepEqual(await here.beacon.interests(), [{ tag: 'haiti', direction: 'download' }]);
    await page.locator('#interests tr', { hasText: 'haiti' }).locator('button', { hasText: 'Remove' }).click();
    assert.match((await page.textContent('.flash-ok')) ?? '', /withdrawn/);
    assert.deepEqual(await here.beacon.interests(), []);

    await page.click('text=Ask the LAN now');
    assert.equal(console_.browsed, 1);
    watched.assertClean();
  });

  it('creates a pool, accepts a candidate fingerprint-first, rejects another and edits the template', async () => {
    const watched = await browser.newPage({ width: 800, height: 600 });
    const { page } = watched;
    await signIn(page, console_.url, ADMIN.user, ADMIN.password, '/console/pools');
    await page.click('#create-pool summary');
    await page.fill('#create-pool input[name="name"]', 'haiti-response');
    await page.fill('#create-pool input[name="tags"]', 'haiti');
    await page.fill('#create-pool textarea[name="resources"]', 'org_organisation');
    await page.selectOption('#create-pool select[name="mode"]', 'pull');
    await page.fill('#create-pool input[name="interval_seconds"]', '900');
    await Promise.all([page.waitForURL('**/console/pools/haiti-response'), page.click('text=Create pool')]);
    assert.match((await page.textContent('.flash-ok')) ?? '', /Pool haiti-response created/);

    // Both gateways share the tag; the advertised uuid is what registration must find.
    const candidates = page.locator('table.candidates tbody.candidate');
    assert.equal(await candidates.count(), 2);
    const candidate = candidates.filter({ hasText: 'Jacmel EOC' });
    assert.equal(await candidate.locator('.candidate-uuid').textContent(), peer.identity.uuid);
    await candidate.locator('summary', { hasText: 'Accept' }).click();
    assert.equal(await candidate.locator('.fingerprint').textContent(), peer.identity.uuid);
    await candidate.locator('button', { hasText: 'Accept Jacmel EOC' }).click();
    assert.match((await page.textContent('.flash-ok')) ?? '', /Accepted Jacmel EOC/);
    assert.equal(await page.locator('#members tbody tr', { hasText: 'Jacmel EOC' }).count(), 1);
    const tasks = await here.store.listTasks({ repository: peer.identity.uuid });
    assert.deepEqual(tasks.map((task) => [task.resource, task.mode]), [['org_organisation', 'pull']]);

    await page.locator('table.candidates tbody.candidate', { hasText: 'Unknown laptop' }).locator('button', { hasText: 'Reject' }).click();
    assert.match((await page.textContent('.flash-ok')) ?? '', /Rejected/);
    assert.match((await page.locator('table.candidates tbody.candidate', { hasText: 'Unknown laptop' }).textContent()) ?? '', /rejected/);

    await page.selectOption('#template select[name="mode"]', 'both');
    await page.click('text=Save the pool');
    assert.match((await page.textContent('.flash-ok')) ?? '', /its 1 member follow/);
    assert.equal((await here.store.listTasks({ repository: peer.identity.uuid }))[0]?.mode, 'both');
    watched.assertClean();
  });

  it('lets a viewer read pools and discovery but change nothing', async () => {
    const watched = await browser.newPage();
    const { page } = watched;
    await signIn(page, console_.url, ACCOUNTS.viewer.user, ACCOUNTS.viewer.password, '/console/pools/haiti-response');
    assert.equal(await page.locator('nav >> text=Pools').count(), 1);
    assert.equal(await page.locator('#members tbody tr', { hasText: 'Jacmel EOC' }).count(), 1);
    assert.equal(await page.locator('button', { hasText: /Accept|Reject|Save the pool|Leave the pool/ }).count(), 0);
    await page.goto(`${console_.url}/console/discovery`);
    assert.equal(await page.locator('input[name="tag"]').count(), 0);
    // A form forged in the page is refused for the role.
    watched.allowStatus('/console/pools/haiti-response/delete', 403);
    const status = await page.evaluate(async () => {
      const body = new URLSearchParams({ _csrf: document.querySelector('main')!.dataset.csrf! });
      return (await fetch('/console/pools/haiti-response/delete', { method: 'POST', body })).status;
    });
    assert.equal(status, 403);
    assert.ok(await here.pools.get('haiti-response'));
    watched.assertClean();
  });

  it('edits wire format, page size and bandwidth cap, and shows a refused value next to its field', async () => {
    const watched = await browser.newPage();
    const { page } = watched;
    const repositoryPage = `/console/repositories/${encodeURIComponent(peer.identity.uuid)}`;
    await signIn(page, console_.url, ACCOUNTS.integrator.user, ACCOUNTS.integrator.password, repositoryPage);
    const form = page.locator('#repository-settings');
    assert.deepEqual(await form.locator('select[name="wire_format"] option').evaluateAll((nodes) => nodes.map((node) => (node as HTMLOptionElement).value)), ['s3xml', 's3json']);
    await form.locator('select[name="wire_format"]').selectOption('s3json');
    await form.locator('input[name="page_size"]').fill('50');
    await form.locator('input[name="max_bytes_per_second"]').fill('2000');
    await form.locator('button', { hasText: 'Save settings' }).click();
    assert.match((await page.textContent('.flash-ok')) ?? '', /Settings saved/);
    const saved = (await here.sync.repositories.list()).find((view) => view.uuid === peer.identity.uuid)!;
    assert.deepEqual([saved.wire_format, saved.page_size, saved.max_bytes_per_second], ['s3json', 50, 2000]);
    assert.equal(await form.locator('input[name="page_size"]').inputValue(), '50');

    // The browser's own check is bypassed, so the registry's check is what answers.
    await form.locator('input[name="max_bytes_per_second"]').evaluate((input) => input.removeAttribute('min'));
    await form.locator('input[name="max_bytes_per_second"]').fill('5');
    await form.locator('button', { hasText: 'Save settings' }).click();
    const error = page.locator('#repository-settings label:has(input[name="max_bytes_per_second"]) .field-error');
    assert.match((await error.textContent()) ?? '', /max_bytes_per_second must be a whole number from 30/);
    assert.equal(await form.locator('input[name="max_bytes_per_second"]').getAttribute('aria-invalid'), 'true');
    assert.equal((await here.sync.repositories.list()).find((view) => view.uuid === peer.identity.uuid)!.max_bytes_per_second, 2000);

    // Emptying the boxes removes the cap and the page size.
    await form.locator('input[name="page_size"]').fill('');
    await form.locator('input[name="max_bytes_per_second"]').fill('');
    await form.locator('button', { hasText: 'Save settings' }).click();
    const cleared = (await here.sync.repositories.list()).find((view) => view.uuid === peer.identity.uuid)!;
    assert.deepEqual([cleared.page_size, cleared.max_bytes_per_second], [undefined, undefined]);

    // An Eden peer (no published uuid) is offered S3XML only.
    await page.goto(`${console_.url}/console/repositories/new/credentials?url=${encodeURIComponent('https://eden.example.org/eden')}`);
    assert.deepEqual(await page.locator('select[name="wire_format"] option').evaluateAll((nodes) => nodes.map((node) => (node as HTMLOptionElement).value)), ['s3xml']);
    watched.assertClean();
  });
});
