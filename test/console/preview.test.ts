import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import { launchConsoleBrowser, signIn, type ConsoleBrowser } from './support/browser.js';
import { ACCOUNTS, startConsoleGateway, type ConsoleGateway } from './support/console-gateway.js';

const CAP_INPUT = new URL('../fixtures/formats/cap/eden-flat-alert.s3.xml', import.meta.url);

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
});
