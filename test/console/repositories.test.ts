import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ADMIN } from '../support/gateway.js';
import { launchConsoleBrowser, signIn, syncNowAndWait, type ConsoleBrowser } from './support/browser.js';
import { ACCOUNTS, startConsoleGateway, type ConsoleGateway } from './support/console-gateway.js';

describe('repositories and Sync Now in the browser', () => {
  let here: ConsoleGateway;
  let peer: ConsoleGateway;
  let browser: ConsoleBrowser;

  before(async () => {
    [here, peer, browser] = await Promise.all([
      startConsoleGateway({ name: 'Kathmandu hub' }),
      startConsoleGateway({ name: 'Pokhara gateway', demo: true, users: false }),
      launchConsoleBrowser(),
    ]);
  });

  after(async () => {
    await browser?.close();
    await here?.stop();
    await peer?.stop();
  });

  it('adds a peer fingerprint-first, runs Sync Now and finds the run in the log with its details', async () => {
    const watched = await browser.newPage();
    const { page } = watched;
    await signIn(page, here.url, ACCOUNTS.integrator.user, ACCOUNTS.integrator.password);
    const peerOrganisations = await peer.store.countRecords({ resource: 'org_organisation' });
    assert.ok(peerOrganisations > 0);

    await page.click('nav >> text=Repositories');
    await page.click('text=Add a repository');
    await page.fill('input[name="url"]', peer.url);
    await page.click('text=Look up the peer');
    // Step 2: the peer's uuid, read without credentials, before anything is sent.
    assert.equal(await page.textContent('#peer-uuid'), peer.identity.uuid);
    assert.equal(await page.textContent('#peer-name'), 'Pokhara gateway');
    assert.deepEqual(await here.store.listRepositories(), []);
    await page.click('text=Yes, this is the peer I expect');

    // Step 3: credentials, then registration.
    assert.equal(await page.inputValue('input[name="name"]'), 'Pokhara gateway');
    await page.fill('input[name="username"]', ADMIN.user);
    await page.fill('input[name="password"]', ADMIN.password);
    await Promise.all([page.waitForURL(`**/console/repositories/${encodeURIComponent(peer.identity.uuid)}`), page.click('text=Add and register')]);
    assert.match((await page.textContent('.flash-ok')) ?? '', /Added Pokhara gateway/);
    const registered = await peer.store.getRepository(here.identity.uuid);
    assert.equal(registered?.config['registered_by_peer'], true, 'the peer knows this gateway now');

    // A task for one resource, pull only.
    await page.fill('input[name="resource"]', 'org_organisation');
    await page.selectOption('form[action$="/tasks"] select[name="mode"]', 'pull');
    await page.click('text=Add task');
    assert.match((await page.textContent('.flash')) ?? '', /Task for org_organisation added/);

    // Sync Now, from the dashboard: the answer is the finished run.
    await page.click('nav >> text=Dashboard');
    const row = page.locator('tbody tr', { hasText: 'Pokhara gateway' });
    assert.match((await row.textContent()) ?? '', /never run/);
    assert.equal(await syncNowAndWait(page, row.locator('button', { hasText: 'Sync Now' })), 'success');
    assert.equal(await here.store.countRecords({ resource: 'org_organisation' }), peerOrganisations);
    assert.ok((await page.locator('details.capture').count()) >= 1, 'the exchanges were captured');
    const runId = decodeURIComponent(new URL(page.url()).pathname.split('/').pop()!);

    // The log, filtered to this repository, shows the run's import; its detail has every Eden field.
    await page.click('nav >> text=Sync log');
    await page.selectOption('select[name="repository"]', peer.identity.uuid);
    await page.selectOption('select[name="result"]', 'success');
    await Promise.all([page.waitForURL('**/console/log?*'), page.click('form.filters button[type="submit"]')]);
    const entry = page.locator('tbody tr', { hasText: 'pulled from the peer' });
    assert.equal(await entry.count(), 1);
    assert.match((await entry.textContent()) ?? '', new RegExp(`${peerOrganisations} org_organisation records`));
    await entry.locator('a').first().click();
    const facts = (await page.textContent('dl.facts')) ?? '';
    assert.ok(!/timestmp|repository_id|pull\/outgoing/.test(facts), `the log detail speaks plain words, not Eden's column names: ${facts}`);
    for (const expected of ['Time', 'Pokhara gateway', peer.identity.uuid, 'org_organisation', 'pulled from the peer', 'import', 'success', 'Remote (the peer\u2019s fault)no', runId]) {
      assert.ok(facts.includes(expected), `the log detail shows ${expected}: ${facts}`);
    }
    assert.match((await page.textContent('pre.message')) ?? '', new RegExp(`^${peerOrganisations} org_organisation records in 1 page; records in the store, components counted: \\d+ created`));
    watched.assertClean();
  });

  it('stops when the peer at the address turns out to be another one than confirmed', async () => {
    const watched = await browser.newPage();
    const { page } = watched;
    await signIn(page, here.url, ACCOUNTS.integrator.user, ACCOUNTS.integrator.password);
    const before = (await here.store.listRepositories()).length;
    const query = new URLSearchParams({ url: peer.url, uuid: 'urn:uuid:00000000-0000-4000-8000-000000000000', name: 'Impostor' });
    await page.goto(`${here.url}/console/repositories/new/credentials?${query}`);
    await page.fill('input[name="username"]', ADMIN.user);
    await page.fill('input[name="password"]', ADMIN.password);
    // The refusal comes back as the form itself (what was typed kept), answered with an error status.
    watched.allowStatus('/console/repositories', 400);
    await Promise.all([page.waitForURL('**/console/repositories'), page.click('text=Add and register')]);
    assert.match((await page.textContent('.flash-error')) ?? '', /PEER_IDENTITY_CHANGED/);
    assert.equal(await page.inputValue('input[name="username"]'), ADMIN.user, 'the user name is kept');
    assert.equal(await page.inputValue('input[name="password"]'), '', 'the password is not');
    assert.equal((await here.store.listRepositories()).length, before);
    watched.assertClean();
  });

  it('saves a schedule and shows the next run on the dashboard', async () => {
    const watched = await browser.newPage();
    const { page } = watched;
    await signIn(page, here.url, ACCOUNTS.integrator.user, ACCOUNTS.integrator.password, `/console/repositories/${encodeURIComponent(peer.identity.uuid)}`);
    await page.fill('input[name="interval_seconds"]', '900');
    await page.click('text=Save schedule');
    assert.match((await page.textContent('.flash-ok')) ?? '', /every 15 min/);
    await page.click('nav >> text=Dashboard');
    const row = page.locator('tbody tr', { hasText: 'Pokhara gateway' });
    assert.match((await row.textContent()) ?? '', /every 15 min/);
    assert.match((await row.locator('td').nth(2).textContent()) ?? '', /in 1\d min/);
    watched.assertClean();
  });
});
