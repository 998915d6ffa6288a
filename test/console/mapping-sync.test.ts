/**
 * The mapping editor's result in a real sync: map three values and rename a field in the browser,
 * save, then Sync Now with a second gateway; the records that arrive are imported mapped and the
 * run's log names the value the mapping did not know.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { RecordWrite } from '../../src/store/store.js';
import { ADMIN } from '../support/gateway.js';
import { fieldText as field, hospital, hospitalUuid as seriesUuid } from '../support/hospitals.js';
import { launchConsoleBrowser, startMappingField, syncNowAndWait, type ConsoleBrowser } from './support/browser.js';
import { ACCOUNTS, startConsoleGateway, type ConsoleGateway } from './support/console-gateway.js';

const SERIES = '5c3d0c00';
const hospitalUuid = (index: number): string => seriesUuid(index, SERIES);
const peerHospital = (index: number, status: string, modifiedOn: string): RecordWrite => hospital(index, status, { series: SERIES, modifiedOn });

describe('a mapping saved in the editor applied by a real sync', () => {
  let here: ConsoleGateway;
  let peer: ConsoleGateway;
  let browser: ConsoleBrowser;
  let repository: string;

  before(async () => {
    [here, peer, browser] = await Promise.all([
      startConsoleGateway({ name: 'Kathmandu hub' }),
      startConsoleGateway({ name: 'Lalitpur hospitals', users: false }),
      launchConsoleBrowser(),
    ]);
    // A first pull, before any mapping: its captured document is where the editor finds the peer's values.
    for (const [index, status] of ['Functioning', 'Damaged', 'Closed'].entries()) await peer.store.putRecord(peerHospital(index + 1, status, '2024-06-01T08:00:00'));
    repository = (await here.sync.repositories.add({ name: 'Lalitpur hospitals', url: peer.url, username: ADMIN.user, password: ADMIN.password })).uuid;
    await here.sync.tasks.add(repository, 'med_hospital', { mode: 'pull' });
    const outcome = await here.sync.syncNow(repository);
    assert.equal(outcome.run.status, 'success', outcome.run.message);
  });

  after(async () => {
    await browser?.close();
    await here?.stop();
    await peer?.stop();
  });

  it('maps three values and renames a field in the editor, then Sync Now imports new records mapped', async () => {
    const watched = await browser.newPage();
    const { page } = watched;
    await startMappingField(page, here.url, ACCOUNTS.integrator, { repository, instance: 'lalitpur-hospitals' }, { resource: 'med_hospital', field: 'status', firstValue: 'Functioning' });
    await page.fill('input[data-map="Functioning"]', '1');
    await page.fill('input[data-map="Damaged"]', '2');
    await page.fill('input[data-map="Closed"]', '3');
    await page.fill('#new-field', 'phone_exchange');
    await page.click('#add-field');
    await page.fill('#field-remote', 'phone');
    await page.press('#field-remote', 'Tab');
    await page.waitForSelector('button[data-field="phone_exchange"]:has-text("phone")');
    await page.click('#save-mapping');
    await page.waitForSelector('#editor-messages .flash-ok');

    // What the peer records after the mapping was saved comes over with the next run, mapped.
    const newer = '2025-02-01T08:00:00';
    for (const [index, status] of ['Functioning', 'Damaged', 'Closed', 'Evacuated'].entries()) await peer.store.putRecord(peerHospital(index + 11, status, newer));
    await page.goto(`${here.url}/console/repositories/${encodeURIComponent(repository)}`);
    assert.equal(await syncNowAndWait(page, page.locator('button', { hasText: 'Sync Now' }).first()), 'success');
    assert.match((await page.textContent('main')) ?? '', /unmapped status "Evacuated" ×1 \(passed\)/);

    const landed = await Promise.all([11, 12, 13, 14].map((index) => here.store.getRecord('med_hospital', hospitalUuid(index))));
    assert.deepEqual(landed.map((record) => field(record, 'status')), ['1', '2', '3', 'Evacuated']);
    assert.deepEqual(landed.map((record) => field(record, 'phone_exchange')), ['01-4412511', '01-4412512', '01-4412513', '01-4412514']);
    assert.ok(landed.every((record) => field(record, 'phone') === undefined));
    // The first pull happened before the mapping existed: those records keep the peer's values.
    assert.equal(field(await here.store.getRecord('med_hospital', hospitalUuid(1)), 'status'), 'Functioning');
    watched.assertClean();
  });
});
