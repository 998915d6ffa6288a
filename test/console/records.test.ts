import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createFakeUshahidi, type FakeUshahidi } from '../../tools/fake-ushahidi/index.js';
import { dataValue } from '../../src/s3xml/model.js';
import type { StoredRecord } from '../../src/store/store.js';
import { originOf, recordName, triageValues } from '../../src/console/sections/records.js';
import type { SourceView } from '../../src/ushahidi/sources.js';
import { addUshahidiSource, launchConsoleBrowser, signIn, syncNowAndWait, type ConsoleBrowser } from './support/browser.js';
import { ACCOUNTS, startConsoleGateway, type ConsoleGateway } from './support/console-gateway.js';

function statusOf(record: StoredRecord | undefined): unknown {
  const data = record?.data.find((entry) => entry.field === 'status');
  return data ? dataValue(data) : undefined;
}

const SOURCE: SourceView = {
  uuid: 'source-1',
  name: 'Haiti',
  type: 'ushahidi-v5',
  url: 'https://haiti.api.ushahidi.io',
  deployment: 'haiti.api.ushahidi.io',
  has_password: false,
  resource: 'event_incident_report',
  status_field: 'status',
  page_size: 500,
  created_at: '2024-01-01T00:00:00',
  updated_at: '2024-01-01T00:00:00',
};

describe('records and ticket triage', () => {
  it('offers the triage statuses a source maps outbound, the mapping document first', () => {
    assert.deepEqual(triageValues(undefined, SOURCE), ['Unverified', 'Verified', 'Actionable', 'Actioned']);
    const document = {
      instance: 'haiti',
      resources: [{ local: 'event_incident_report', fields: [{ local: 'status', outbound: { values: { Duplicate: 'archived' } } }] }],
    };
    assert.ok(triageValues(document, SOURCE).includes('Duplicate'));
  });

  it('names where a record came from by the deployment or domain in its uuid', () => {
    assert.equal(originOf('haiti.api.ushahidi.io/42', [SOURCE]).source?.name, 'Haiti');
    assert.deepEqual(originOf('eden.example.org/5b1c', [SOURCE]), { domain: 'eden.example.org' });
    assert.deepEqual(originOf('urn:uuid:5b1c', [SOURCE]), {});
    const record = { data: [{ field: 'name', value: '"Water point broken"' }], uuid: 'x' } as unknown as StoredRecord;
    assert.equal(recordName(record), 'Water point broken');
  });

  describe('in the browser', () => {
    let gateway: ConsoleGateway;
    let fake: FakeUshahidi;
    let browser: ConsoleBrowser;

    before(async () => {
      [gateway, fake, browser] = await Promise.all([startConsoleGateway(), createFakeUshahidi({ posts: 20 }), launchConsoleBrowser()]);
    });

    after(async () => {
      await browser?.close();
      await gateway?.stop();
      await fake?.close();
    });

    it('lets an integrator filter tickets, set one Verified and send it to Ushahidi with Sync Now; a viewer only reads', async () => {
      const watched = await browser.newPage();
      const { page } = watched;
      await signIn(page, gateway.url, ACCOUNTS.integrator.user, ACCOUNTS.integrator.password, '/console/sources/new');
      await addUshahidiSource(page, 'Haiti reports', fake);
      const sourcePage = page.url();
      assert.equal(await syncNowAndWait(page, page.locator('button', { hasText: 'Sync Now' })), 'success');

      await page.click('nav >> text=Records');
      assert.equal(await page.inputValue('select[name="table"]'), 'event_incident_report');
      assert.match((await page.textContent('#records-count')) ?? '', /^20 record/);
      const unverified = [...fake.state.postsBetween()].filter((post) => post.status === 'draft').length;
      assert.ok(unverified > 0, 'the fake has drafts to triage');
      await page.selectOption('select[name="status"]', 'Unverified');
      await Promise.all([page.waitForURL(/status=Unverified/), page.click('form.filters button')]);
      assert.equal(await page.locator('main tbody tr').count(), unverified);
      const modified = await page.locator('main tbody tr td:nth-child(3) time').evaluateAll((times) => times.map((node) => node.getAttribute('datetime') ?? ''));
      assert.deepEqual(modified, [...modified].sort().reverse(), 'newest first');

      await Promise.all([page.waitForURL(/\/console\/records\/event_incident_report\//), page.locator('main tbody tr a').first().click()]);
      const uuid = decodeURIComponent(new URL(page.url()).pathname.split('/').pop()!);
      const postId = Number(uuid.split('/').pop());
      assert.equal(fake.state.post(postId)?.status, 'draft');
      assert.match((await page.textContent('dl.facts')) ?? '', /Haiti reports/, 'the ticket names its source');
      const before = await gateway.store.getRecord('event_incident_report', uuid);
      assert.deepEqual(await page.locator('form.triage select[name="status"] option').allTextContents(), ['Unverified', 'Verified', 'Actionable', 'Actioned']);
      await page.selectOption('form.triage select[name="status"]', 'Verified');
      await Promise.all([page.waitForURL(/\/console\/records\/event_incident_report\//), page.click('form.triage button')]);
      const flash = (await page.textContent('.flash-ok')) ?? '';
      assert.match(flash, /Status of .+ set to Verified; it goes to Ushahidi on the next run of Haiti reports \(or Sync Now\)/);
      const after = await gateway.store.getRecord('event_incident_report', uuid);
      assert.equal(statusOf(after), 'Verified');
      assert.ok(after!.seq > before!.seq && after!.modified_on >= before!.modified_on, 'written as a new version');

      await Promise.all([page.waitForURL(sourcePage), page.locator('.flash-ok a', { hasText: 'Open Haiti reports' }).click()]);
      assert.equal(await syncNowAndWait(page, page.locator('button', { hasText: 'Sync Now' })), 'success');
      assert.equal(fake.state.post(postId)?.status, 'published', 'Verified is published on v5');
      watched.assertClean();

      const viewer = await browser.newPage();
      await signIn(viewer.page, gateway.url, ACCOUNTS.viewer.user, ACCOUNTS.viewer.password, `/console/records/event_incident_report/${encodeURIComponent(uuid)}`);
      assert.match((await viewer.page.textContent('main')) ?? '', /Verified/);
      assert.equal(await viewer.page.locator('form.triage').count(), 0, 'a viewer sees no status form');
      const refused = await viewer.page.evaluate(async (path) => {
        const csrf = document.querySelector('main')!.getAttribute('data-csrf')!;
        const answer = await fetch(path, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: new URLSearchParams({ _csrf: csrf, status: 'Actioned' }),
          redirect: 'manual',
        });
        return answer.status;
      }, `/console/records/event_incident_report/${encodeURIComponent(uuid)}/status`);
      assert.equal(refused, 403);
      assert.equal(statusOf(await gateway.store.getRecord('event_incident_report', uuid)), 'Verified');
      viewer.problems.length = 0;
      viewer.assertClean();
    });
    it('pages a table of 60 records by 50, newest first, for a viewer too', async () => {
      for (let index = 0; index < 60; index += 1) {
        const stamp = `2024-03-01T10:${String(index).padStart(2, '0')}:00`;
        await gateway.store.putRecord({
          resource: 'org_office',
          uuid: `urn:uuid:office-${index}`,
          mci: 0,
          modified_on: stamp,
          deleted: false,
          attributes: {},
          data: [{ field: 'name', value: JSON.stringify(`Office ${index}`) }],
          references: [],
        });
      }
      const watched = await browser.newPage();
      const { page } = watched;
      await signIn(page, gateway.url, ACCOUNTS.viewer.user, ACCOUNTS.viewer.password, '/console/records?table=org_office');
      assert.match((await page.locator('select[name="table"] option:checked').textContent()) ?? '', /org_office \(60\)/);
      assert.equal(await page.locator('main tbody tr').count(), 50);
      assert.equal(await page.locator('main tbody tr a').first().textContent(), 'Office 59');
      await Promise.all([page.waitForURL(/page=2/), page.click('.pager a[rel="next"]')]);
      const names = await page.locator('main tbody tr a').allTextContents();
      assert.deepEqual(names, Array.from({ length: 10 }, (_, index) => `Office ${9 - index}`));
      watched.assertClean();
    });
  });
});
