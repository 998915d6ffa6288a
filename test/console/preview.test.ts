import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { previewFormats } from '../../src/console/sections/preview.js';
import { launchConsoleBrowser, signIn, type ConsoleBrowser } from './support/browser.js';
import { ACCOUNTS, startConsoleGateway, type ConsoleGateway } from './support/console-gateway.js';

const CAP_INPUT = new URL('../fixtures/formats/cap/eden-flat-alert.s3.xml', import.meta.url);

const V5_POSTS = JSON.stringify({
  count: 1,
  results: [{ id: 77, title: 'Bridge down', content: 'The bridge at Léogâne fell', status: 'draft', created: '2024-05-02T09:14:05+00:00', post_content: [] }],
});

const OFFICE = '<s3xml><resource name="org_office" uuid="urn:uuid:office-1"><data field="name">Jacmel office</data></resource></s3xml>';

describe('the transform preview in the browser', () => {
  let gateway: ConsoleGateway;
  let browser: ConsoleBrowser;
  let input: string;

  before(async () => {
    [gateway, browser, input] = await Promise.all([startConsoleGateway(), launchConsoleBrowser(), readFile(CAP_INPUT, 'utf8')]);
  });

  after(async () => {
    await browser?.close();
    await gateway?.stop();
  });

  it('previews a CAP export that passes the XSD, then points at the line of a broken input', async () => {
    const watched = await browser.newPage();
    const { page } = watched;
    await signIn(page, gateway.url, ACCOUNTS.analyst.user, ACCOUNTS.analyst.password, '/console/preview');
    assert.equal(await page.textContent('h1'), 'Transform preview');

    await page.check('input[name="direction"][value="export"]');
    await page.selectOption('#preview-format', 'cap');
    await page.fill('#preview-input', input);
    await page.click('#run-preview');
    await page.waitForSelector('#xsd-verdict', { timeout: 60_000 });
    assert.match((await page.textContent('#xsd-verdict')) ?? '', /XSD-valid/);
    assert.equal(await page.textContent('#preview-verdict'), 'transformed');
    const output = (await page.textContent('#preview-output')) ?? '';
    assert.match(output, /<alert xmlns="urn:oasis:names:tc:emergency:cap:1\.2">/);
    assert.match(output, /<identifier>gw\.example\.2024-0002<\/identifier>/);
    // Pretty-printed: one element per line.
    assert.ok(output.split('\n').length > 20);
    assert.match((await page.textContent('#preview-duration')) ?? '', /\d+ ms/);

    // Break one closing tag: the error names the line, and the input around it is shown marked.
    const lines = input.split('\n');
    const broken = lines.findIndex((line) => line.includes('<data field="headline">'));
    assert.ok(broken > 0);
    lines[broken] = lines[broken]!.replace('</data>', '</dat>');
    await page.fill('#preview-input', lines.join('\n'));
    await page.click('#run-preview');
    await page.waitForSelector('.preview-error');
    const error = (await page.textContent('.preview-error')) ?? '';
    assert.match(error, /XML_MALFORMED/);
    assert.match(error, new RegExp(`the input, line ${broken + 1}\\b`));
    assert.match((await page.textContent('.preview-error .line-bad')) ?? '', /<\/dat>/);
    assert.match((await page.textContent('#preview-verdict')) ?? '', /failed/);
    assert.equal(await page.locator('#xsd-verdict').count(), 0);
    watched.assertClean();
  });

  it('runs an uploaded stylesheet in the sandbox and shows its messages', async () => {
    const watched = await browser.newPage();
    const { page } = watched;
    await signIn(page, gateway.url, ACCOUNTS.analyst.user, ACCOUNTS.analyst.password, '/console/preview');
    const stylesheet = `<xsl:stylesheet version="3.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform">
  <xsl:output method="xml" indent="no"/>
  <xsl:template match="/">
    <xsl:message>counted <xsl:value-of select="count(//resource)"/> resources</xsl:message>
    <names><xsl:for-each select="//data[@field='headline']"><name><xsl:value-of select="."/></name></xsl:for-each></names>
  </xsl:template>
</xsl:stylesheet>`;
    await page.setInputFiles('#stylesheet-file', { name: 'headlines.xsl', mimeType: 'application/xml', buffer: Buffer.from(stylesheet) });
    await page.waitForFunction(() => (document.querySelector('#stylesheet-name')?.textContent ?? '').includes('headlines.xsl'));
    assert.equal(await page.isChecked('input[name="source"][value="upload"]'), true);
    await page.fill('#preview-input', input);
    await page.click('#run-preview');
    await page.waitForSelector('#preview-verdict', { timeout: 60_000 });
    assert.equal(await page.textContent('#preview-verdict'), 'transformed');
    assert.match((await page.textContent('#preview-output')) ?? '', /<name>River flooding expected<\/name>/);
    assert.match((await page.textContent('#preview-messages')) ?? '', /counted \d+ resources/);
    watched.assertClean();
  });

  it('shows what changed between two runs', async () => {
    const watched = await browser.newPage();
    const { page } = watched;
    await signIn(page, gateway.url, ACCOUNTS.analyst.user, ACCOUNTS.analyst.password, '/console/preview');
    await page.check('input[name="direction"][value="export"]');
    await page.selectOption('#preview-format', 'cap');
    await page.fill('#preview-input', input);
    await page.click('#run-preview');
    await page.waitForSelector('#xsd-verdict', { timeout: 60_000 });
    await page.fill('#preview-input', input.replace('River flooding expected', 'River flooding now'));
    await page.click('#run-preview');
    await page.waitForFunction(() => (document.querySelector('#preview-diff')?.textContent ?? '').includes('River flooding now'));
    await page.click('button[data-view="diff"]');
    assert.equal(await page.locator('#preview-diff .diff-remove').count(), 1);
    assert.match((await page.textContent('#preview-diff .diff-remove')) ?? '', /River flooding expected/);
    assert.match((await page.textContent('#preview-diff .diff-add')) ?? '', /River flooding now/);
    watched.assertClean();
  });

  it('opens an Ushahidi capture from the run page with the ushahidi format chosen, and imports the posts', async () => {
    await gateway.store.putRun({
      id: 'run-ushahidi-1',
      kind: 'ushahidi',
      trigger: 'manual',
      status: 'success',
      started_at: '2024-05-02T09:20:00',
      finished_at: '2024-05-02T09:20:01',
      counts: {},
      bytes_in: V5_POSTS.length,
      bytes_out: 0,
      captures: [
        {
          at: '2024-05-02T09:20:00',
          mode: 'pull',
          method: 'GET',
          url: 'http://127.0.0.1:8090/api/v5/posts?order=asc',
          status: 200,
          request_bytes: 0,
          response_bytes: V5_POSTS.length,
          response_body: V5_POSTS,
          truncated: false,
        },
      ],
    });
    const watched = await browser.newPage();
    const { page } = watched;
    await signIn(page, gateway.url, ACCOUNTS.analyst.user, ACCOUNTS.analyst.password, '/console/runs/run-ushahidi-1');
    const link = (await page.getAttribute('a:has-text("Open in the preview")', 'href')) ?? '';
    assert.match(link, /format=ushahidi/);
    await page.goto(new URL(link, gateway.url).href);
    await page.waitForFunction(() => (document.querySelector<HTMLTextAreaElement>('#preview-input')?.value ?? '').includes('Bridge down'));
    assert.equal(await page.inputValue('#preview-format'), 'ushahidi');
    assert.match(await page.inputValue('#preview-params'), /^deployment=127\.0\.0\.1:8090$/m);
    assert.equal(await page.isChecked('input[name="direction"][value="import"]'), true);
    assert.match((await page.textContent('#preview-format option[value="ushahidi"]')) ?? '', /^ushahidi — Ushahidi posts/);
    await page.click('#run-preview');
    await page.waitForSelector('#preview-verdict', { timeout: 60_000 });
    assert.equal(await page.textContent('#preview-verdict'), 'transformed');
    assert.match((await page.textContent('#preview-output')) ?? '', /Bridge down/);
    assert.match((await page.textContent('#preview-output')) ?? '', /uuid="127\.0\.0\.1:8090\/77"/);
    watched.assertClean();
  });

  it('says neutrally that S3JSON has no schema, and warns when CAP gets no alerts', async () => {
    const watched = await browser.newPage();
    const { page } = watched;
    await signIn(page, gateway.url, ACCOUNTS.analyst.user, ACCOUNTS.analyst.password, '/console/preview');
    await page.check('input[name="direction"][value="export"]');
    await page.selectOption('#preview-format', 's3json');
    await page.fill('#preview-input', OFFICE);
    await page.click('#run-preview');
    await page.waitForSelector('#xsd-verdict', { timeout: 60_000 });
    assert.equal(await page.textContent('#xsd-verdict'), 's3json: no schema to validate against.');
    assert.equal(await page.getAttribute('#xsd-verdict', 'class'), 'flash');
    assert.match((await page.textContent('#preview-output')) ?? '', /"\$_org_office"/);
    assert.equal(await page.textContent('#preview-verdict'), 'transformed');

    await page.selectOption('#preview-format', 'cap');
    await page.click('#run-preview');
    await page.waitForFunction(() => (document.querySelector('#preview-warnings')?.textContent ?? '').includes('cap_alert'));
    assert.match((await page.textContent('#preview-warnings')) ?? '', /CAP export takes cap_alert records; the input has org_office/);
    assert.equal(await page.textContent('#preview-verdict'), 'transformed, with warnings');
    watched.assertClean();
  });

  it('offers CSV as text and XLSX as a download', async () => {
    const watched = await browser.newPage();
    const { page } = watched;
    await signIn(page, gateway.url, ACCOUNTS.analyst.user, ACCOUNTS.analyst.password, '/console/preview');
    await page.check('input[name="direction"][value="export"]');
    await page.selectOption('#preview-format', 'csv');
    await page.fill('#preview-input', OFFICE);
    await page.click('#run-preview');
    await page.waitForSelector('#preview-verdict', { timeout: 60_000 });
    assert.match((await page.inputValue('#preview-raw')) ?? '', /^Name,.*\r?\nJacmel office/s);
    await page.selectOption('#preview-format', 'xlsx');
    await page.click('#run-preview');
    await page.waitForSelector('#preview-download-link', { timeout: 60_000 });
    assert.match((await page.getAttribute('#preview-download-link', 'href')) ?? '', /^data:application\/vnd\.openxmlformats-officedocument\.spreadsheetml\.sheet;base64,UEsDB/);
    watched.assertClean();
  });
});

describe('the formats the preview offers', () => {
  const formats = previewFormats(fileURLToPath(new URL('../../stylesheets/', import.meta.url)));
  const byName = new Map(formats.map((format) => [format.name, format]));

  it('include CSV both ways and XLSX for export only, since the input box holds text', () => {
    assert.deepEqual(byName.get('csv'), { name: 'csv', label: 'CSV (Eden s3csv columns)', import: true, export: true });
    assert.equal(byName.get('xlsx')?.export, true);
    assert.equal(byName.get('xlsx')?.import, false);
  });

  it('include Ushahidi for import, labelled like the others', () => {
    assert.deepEqual(byName.get('ushahidi'), { name: 'ushahidi', label: 'Ushahidi posts (v5 or classic v2 API JSON)', import: true, export: false });
  });
});
