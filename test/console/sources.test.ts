import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createFakeUshahidi, type FakeUshahidi } from '../../tools/fake-ushahidi/index.js';
import { addUshahidiSource, launchConsoleBrowser, signIn, syncNowAndWait, type ConsoleBrowser } from './support/browser.js';
import { ACCOUNTS, startConsoleGateway, type ConsoleGateway } from './support/console-gateway.js';

describe('Ushahidi sources in the browser', () => {
  let gateway: ConsoleGateway;
  let fake: FakeUshahidi;
  let browser: ConsoleBrowser;

  before(async () => {
    [gateway, fake, browser] = await Promise.all([startConsoleGateway(), createFakeUshahidi({ posts: 30 }), launchConsoleBrowser()]);
  });

  after(async () => {
    await browser?.close();
    await gateway?.stop();
    await fake?.close();
  });

  it('adds a deployment, polls it with Sync Now and offers its categories as remote values in the mapping editor', async () => {
    const watched = await browser.newPage();
    const { page } = watched;
    await signIn(page, gateway.url, ACCOUNTS.integrator.user, ACCOUNTS.integrator.password, '/console/repositories');
    await page.click('text=Add an Ushahidi source');
    await addUshahidiSource(page, 'Haiti reports', fake);
    assert.match((await page.textContent('.flash-ok')) ?? '', /Added the source Haiti reports/);
    assert.match((await page.textContent('dl.facts')) ?? '', /ushahidi-v5/);
    assert.equal(await page.locator('text=Register again').count(), 0, 'a source is not an Eden peer');

    assert.equal(await syncNowAndWait(page, page.locator('button', { hasText: 'Sync Now' })), 'success');
    assert.equal(await gateway.store.countRecords({ resource: 'event_incident_report' }), 30);

    await page.click('nav >> text=Mappings');
    await page.selectOption('select[name="repository"]', { label: 'Haiti reports' });
    await Promise.all([page.waitForURL('**/console/mappings/haiti-reports'), page.click('form[action="/console/mappings"] button[type="submit"]')]);
    await page.fill('#new-resource', 'event_incident_report');
    await page.click('#add-resource');
    await page.fill('#new-field', 'category');
    await page.click('#add-field');
    await page.waitForSelector('table.values');
    const categories = [...fake.state.categories.values()].map((category) => category.tag);
    const offered = await page.locator('table.values tbody tr[data-value]').evaluateAll((rows) => rows.map((row) => (row as HTMLElement).dataset['value']));
    assert.ok(offered.length > 0, 'some categories are offered');
    for (const value of offered) assert.ok(categories.includes(value!), `${value} is a category of the deployment`);
    assert.match((await page.locator('table.values tbody tr[data-value]').first().textContent()) ?? '', /Ushahidi|captured/);
    watched.assertClean();
  });
});
