import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { RecordWrite } from '../../src/store/store.js';
import { ADMIN } from '../support/gateway.js';
import { hospital as hospitalRecord } from '../support/hospitals.js';
import { launchConsoleBrowser, signIn, startMappingField, type ConsoleBrowser } from './support/browser.js';
import { ACCOUNTS, startConsoleGateway, type ConsoleGateway } from './support/console-gateway.js';

function hospital(index: number, status: string, phoneField: string, phone: string): RecordWrite {
  return hospitalRecord(index, status, { series: '6a1f0c00', modifiedOn: `2024-06-0${1 + (index % 5)}T08:00:00`, phoneField, phone });
}

describe('the mapping editor in the browser', () => {
  let here: ConsoleGateway;
  let peer: ConsoleGateway;
  let browser: ConsoleBrowser;
  let repository: string;

  before(async () => {
    [here, peer, browser] = await Promise.all([
      startConsoleGateway({ name: 'Kathmandu hub' }),
      startConsoleGateway({ name: 'Bagmati hospitals', users: false }),
      launchConsoleBrowser(),
    ]);
    // The peer says Functioning/Damaged/Closed and "phone"; here the codes are 1/2/3 and "phone_exchange".
    const peerStatuses = ['Functioning', 'Functioning', 'Damaged', 'Closed', 'Evacuated'];
    for (const [index, status] of peerStatuses.entries()) await peer.store.putRecord(hospital(100 + index, status, 'phone', `01-44125${index}0`));
    for (const [index, status] of ['1', '2', '3', '1'].entries()) await here.store.putRecord(hospital(200 + index, status, 'phone_exchange', `01-55000${index}`));
    const added = await here.sync.repositories.add({ name: 'Bagmati hospitals', url: peer.url, username: ADMIN.user, password: ADMIN.password });
    repository = added.uuid;
    await here.sync.tasks.add(repository, 'med_hospital', { mode: 'pull' });
    const outcome = await here.sync.syncNow(repository);
    assert.equal(outcome.run.status, 'success', outcome.run.message);
  });

  after(async () => {
    await browser?.close();
    await here?.stop();
    await peer?.stop();
  });

  it('maps three values and renames a field, previews the draft, saves and regenerates the stylesheet', async () => {
    const watched = await browser.newPage();
    const { page } = watched;
    await startMappingField(page, here.url, ACCOUNTS.integrator, { repository, instance: 'bagmati-hospitals' }, { resource: 'med_hospital', field: 'status', firstValue: 'Functioning' });
    // The values the peer sent (from the captured pull) are listed, each still unmapped.
    assert.equal(await page.locator('table.values tr.unmapped').count(), 4);
    // Twice in the captured pull, and listed by the peer's options.xml (a lookup list: no count of its own).
    assert.match((await page.locator('tr[data-value="Functioning"]').textContent()) ?? '', /2× · captured, options\.xml/);
    const localOptions = await page.locator('#targets-inbound option').evaluateAll((options) => options.map((option) => (option as HTMLOptionElement).value));
    assert.ok(['1', '2', '3'].every((code) => localOptions.includes(code)), `local values offered: ${localOptions.join(', ')}`);

    await page.fill('input[data-map="Functioning"]', '1');
    await page.fill('input[data-map="Damaged"]', '2');
    await page.fill('input[data-map="Closed"]', '3');
    assert.equal(await page.locator('table.values tr.unmapped').count(), 1);

    await page.fill('#new-field', 'phone_exchange');
    await page.click('#add-field');
    await page.fill('#field-remote', 'phone');
    await page.press('#field-remote', 'Tab');
    await page.waitForSelector('button[data-field="phone_exchange"]:has-text("phone")');

    // Before/after on the document the last pull captured.
    const capture = await page.locator('#preview-payload option[data-direction="inbound"]').first().getAttribute('value');
    await page.selectOption('#preview-payload', capture!);
    await page.waitForFunction(() => ((document.querySelector('#preview-sample') as HTMLTextAreaElement).value ?? '').includes('Functioning'));
    await page.click('#run-mapping-preview');
    await page.waitForSelector('#preview-after');
    const afterText = (await page.textContent('#preview-after')) ?? '';
    assert.match(afterText, /<data field="status">1<\/data>/);
    assert.match(afterText, /<data field="status">3<\/data>/);
    assert.match(afterText, /<data field="phone_exchange">01-4412500<\/data>/);
    assert.doesNotMatch(afterText, /field="phone"/);
    assert.match((await page.textContent('#preview-unmapped')) ?? '', /med_hospital\.status = Evacuated: passed/);
    assert.match((await page.textContent('#preview-diff')) ?? '', /- .*Damaged/);
    // The policy is pass: information, not an error box.
    assert.equal(await page.getAttribute('#preview-unmapped', 'class'), 'flash flash-neutral');
    // Both sides are written the same way before the diff: only mapped values and the renamed field differ.
    const changedLines = await page.locator('#preview-diff .diff-add, #preview-diff .diff-remove').allTextContents();
    assert.ok(changedLines.every((line) => /field="(status|phone|phone_exchange)"/.test(line)), `only mapped lines changed:\n${changedLines.join('\n')}`);

    await page.click('#save-mapping');
    await page.waitForSelector('#editor-messages .flash-ok');
    assert.match((await page.textContent('#editor-messages')) ?? '', /Saved version 2\..*regenerated and compiled/);

    const saved = JSON.parse(await readFile(path.join(here.mappingsDir, 'bagmati-hospitals.json'), 'utf8')) as unknown;
    assert.deepEqual(saved, {
      instance: 'bagmati-hospitals',
      unmapped: { policy: 'pass' },
      resources: [
        {
          local: 'med_hospital',
          fields: [
            { local: 'status', inbound: { values: { Functioning: '1', Damaged: '2', Closed: '3' } } },
            { local: 'phone_exchange', remote: 'phone' },
          ],
        },
      ],
    });
    const xsl = await readFile(path.join(here.mappingsDir, 'bagmati-hospitals.xsl'), 'utf8');
    assert.match(xsl, /phone_exchange/);
    assert.match(xsl, /Functioning/);
    watched.assertClean();
  });

  it('runs the saved stylesheet in the transform preview on a captured pull', async () => {
    const watched = await browser.newPage();
    const { page } = watched;
    await signIn(page, here.url, ACCOUNTS.analyst.user, ACCOUNTS.analyst.password, '/console/preview');
    await page.selectOption('#preview-format', '');
    await page.selectOption('#preview-mapping', 'bagmati-hospitals');
    const capture = await page.locator('#input-capture option').nth(1).getAttribute('value');
    await page.selectOption('#input-capture', capture!);
    await page.waitForFunction(() => ((document.querySelector('#preview-input') as HTMLTextAreaElement).value ?? '').includes('Functioning'));
    await page.click('#run-preview');
    await page.waitForSelector('#preview-verdict');
    const output = (await page.textContent('#preview-output')) ?? '';
    assert.match(output, /<data field="status">2<\/data>/);
    assert.match(output, /<data field="phone_exchange">/);
    assert.match((await page.textContent('#preview-messages')) ?? '', /"value":"Evacuated"/);
    watched.assertClean();
  });

  it('lists what recent runs met without a mapping and leads from a value to the editor', async () => {
    const watched = await browser.newPage();
    const { page } = watched;
    await signIn(page, here.url, ACCOUNTS.integrator.user, ACCOUNTS.integrator.password, '/console/mappings/bagmati-hospitals/unmapped');
    const row = page.locator('tbody tr', { hasText: 'Evacuated' });
    assert.match((await row.textContent()) ?? '', /inbound\s*med_hospital\s*status\s*Evacuated\s*passed\s*1/);
    await Promise.all([page.waitForURL('**/console/mappings/bagmati-hospitals?*'), row.locator('a', { hasText: 'Map it' }).click()]);
    await page.waitForSelector('tr.focus[data-value="Evacuated"]');
    assert.equal(await page.evaluate(() => (document.activeElement as HTMLInputElement | null)?.dataset['map']), 'Evacuated');
    watched.assertClean();
  });

  it('keeps every version, shows what changed and goes back to an earlier one', async () => {
    const watched = await browser.newPage();
    const { page } = watched;
    await signIn(page, here.url, ACCOUNTS.integrator.user, ACCOUNTS.integrator.password, '/console/mappings/bagmati-hospitals/versions');
    assert.equal(await page.locator('details.version').count(), 2);
    const latest = page.locator('#version-2');
    await latest.locator('summary').click();
    assert.match((await latest.locator('.diff').textContent()) ?? '', /\+ .*"Functioning": "1"/);
    await page.locator('#version-1 summary').click();
    await Promise.all([page.waitForURL('**/versions'), page.locator('#version-1 button', { hasText: 'Go back to version 1' }).click()]);
    assert.match((await page.textContent('.flash-ok')) ?? '', /Version 1 is current again \(saved as version 3\)/);
    const current = JSON.parse(await readFile(path.join(here.mappingsDir, 'bagmati-hospitals.json'), 'utf8')) as { resources: unknown[] };
    assert.deepEqual(current.resources, []);
    assert.doesNotMatch(await readFile(path.join(here.mappingsDir, 'bagmati-hospitals.xsl'), 'utf8'), /phone_exchange/);
    watched.assertClean();
  });
});
