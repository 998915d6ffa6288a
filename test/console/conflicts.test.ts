import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { dataValue } from '../../src/s3xml/model.js';
import type { S3Resource } from '../../src/s3xml/model.js';
import { textData } from '../support/records.js';
import { launchConsoleBrowser, signIn, type ConsoleBrowser } from './support/browser.js';
import { ACCOUNTS, startConsoleGateway, type ConsoleGateway } from './support/console-gateway.js';

const PEER = 'urn:uuid:7f4b1d52-0c3e-4a55-9f0e-5b1a2c3d4e5f';
const OFFICE = 'urn:uuid:0e0d1c5a-1111-4a55-9f0e-000000000001';

describe('the conflict queue in the browser', () => {
  let gateway: ConsoleGateway;
  let browser: ConsoleBrowser;
  let conflictId: number;

  before(async () => {
    [gateway, browser] = await Promise.all([startConsoleGateway(), launchConsoleBrowser()]);
    const { store } = gateway;
    await store.putRepository({ uuid: PEER, name: 'Gorkha field office', apitype: 'eden', url: 'http://127.0.0.1:9/eden', config: {}, created_at: '2024-05-01T08:00:00', updated_at: '2024-05-01T08:00:00' });
    const local = await store.putRecord({
      resource: 'org_office',
      uuid: OFFICE,
      mci: 0,
      modified_on: '2024-05-02T10:00:00',
      deleted: false,
      attributes: {},
      data: [textData('name', 'Gorkha District Office'), textData('phone1', '+977 64 420 111'), textData('comments', 'Open 9-17')],
      references: [],
    });
    const remote: S3Resource = {
      name: 'org_office',
      uuid: OFFICE,
      mci: 2,
      modified_on: '2024-05-02T09:30:00',
      attributes: {},
      data: [textData('name', 'Gorkha Municipal Office'), textData('phone1', '+977 64 420 999'), textData('comments', 'Closed on Saturdays')],
      references: [],
      components: [],
    };
    conflictId = (
      await store.addConflict({
        resource: 'org_office',
        uuid: OFFICE,
        repository: PEER,
        method: 'update',
        policy: 'NEWER',
        local,
        remote,
        fields: ['name', 'phone1', 'comments'],
        created_at: '2024-05-02T10:05:00',
      })
    ).id;
  });

  after(async () => {
    await browser?.close();
    await gateway?.stop();
  });

  it('resolves a conflict field by field and shows the record as it became', async () => {
    const watched = await browser.newPage();
    const { page } = watched;
    await signIn(page, gateway.url, ACCOUNTS.integrator.user, ACCOUNTS.integrator.password);

    await page.click('nav >> text=Conflicts');
    await page.click(`a[href="/console/conflicts/${conflictId}"]`);
    assert.equal(await page.textContent('h1'), `Conflict #${conflictId}`);

    const rows = page.locator('table.diff tbody tr');
    assert.equal(await rows.count(), 3);
    const phoneRow = page.locator('table.diff tbody tr', { hasText: 'phone1' });
    assert.match((await phoneRow.locator('.side-local').textContent()) ?? '', /420 111/);
    assert.match((await phoneRow.locator('.side-remote').textContent()) ?? '', /420 999/);

    // Take the peer's phone and name, keep our own comment.
    await page.check('input[name="field:phone1"][value="remote"]');
    await page.check('input[name="field:name"][value="remote"]');
    await Promise.all([page.waitForURL(`**/console/conflicts/${conflictId}`), page.click('#apply-choices')]);

    assert.match((await page.textContent('.flash-ok')) ?? '', /resolved/);
    const record = page.locator('#current-record');
    assert.match((await record.textContent()) ?? '', /Gorkha Municipal Office/);
    assert.match((await record.textContent()) ?? '', /\+977 64 420 999/);
    assert.match((await record.textContent()) ?? '', /Open 9-17/);
    assert.equal(await page.locator('#apply-choices').count(), 0, 'a resolved conflict offers no choices any more');

    const stored = await gateway.store.getRecord('org_office', OFFICE);
    const values = Object.fromEntries((stored?.data ?? []).map((data) => [data.field, dataValue(data)]));
    assert.deepEqual(values, { name: 'Gorkha Municipal Office', phone1: '+977 64 420 999', comments: 'Open 9-17' });
    const conflict = await gateway.store.getConflict(conflictId);
    assert.equal(conflict?.status, 'resolved');
    assert.deepEqual(conflict?.resolution, { fields: { name: 'remote', phone1: 'remote', comments: 'local' }, by: ACCOUNTS.integrator.user });

    await page.click('nav >> text=Conflicts');
    assert.match((await page.textContent('main')) ?? '', /No open conflicts/);
    watched.assertClean();
  });

  it('shows an analyst the conflict without the means to resolve it', async () => {
    const watched = await browser.newPage();
    const { page } = watched;
    await signIn(page, gateway.url, ACCOUNTS.analyst.user, ACCOUNTS.analyst.password, `/console/conflicts/${conflictId}`);
    assert.equal(await page.locator('table.diff tbody tr').count(), 3);
    assert.equal(await page.locator('button[name="keep"]').count(), 0);
    watched.assertClean();
  });
});
