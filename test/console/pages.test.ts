import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Response } from 'playwright-core';
import { ADMIN } from '../support/gateway.js';
import { assertNoSidewaysScroll, launchConsoleBrowser, signIn, type ConsoleBrowser } from './support/browser.js';
import { buildDemoScene, DEMO_INSTANCE, type DemoScene } from './support/demo-scene.js';

/** Every page, small screens included, loads only from the gateway and stays light. */
describe('every console page', () => {
  let scene: DemoScene;
  let browser: ConsoleBrowser;
  let pages: string[];

  before(async () => {
    [scene, browser] = await Promise.all([buildDemoScene(), launchConsoleBrowser()]);
    const [entry] = await scene.here.store.listLog({ limit: 1 });
    const repository = encodeURIComponent(scene.repository);
    pages = [
      '/console',
      '/console/repositories',
      `/console/repositories/${repository}`,
      '/console/repositories/new',
      '/console/sources/new',
      '/console/log',
      `/console/log/${entry!.id}`,
      '/console/runs',
      `/console/runs/${encodeURIComponent(scene.runId)}`,
      '/console/conflicts',
      `/console/conflicts/${scene.conflictId}`,
      '/console/mappings',
      `/console/mappings/${DEMO_INSTANCE}`,
      `/console/mappings/${DEMO_INSTANCE}/versions`,
      `/console/mappings/${DEMO_INSTANCE}/unmapped`,
      `/console/mappings/${DEMO_INSTANCE}/xsl`,
      '/console/preview',
      '/console/settings',
      '/console/users',
      '/console/account',
    ];
  });

  after(async () => {
    await browser?.close();
    await scene?.stop();
  });

  for (const viewport of [
    { width: 1280, height: 800 },
    { width: 800, height: 600 },
  ]) {
    it(`works at ${viewport.width}×${viewport.height} without sideways scrolling, errors or outside requests`, async () => {
      const watched = await browser.newPage(viewport);
      const { page } = watched;
      await signIn(page, scene.here.url, ADMIN.user, ADMIN.password);
      for (const path of pages) {
        const sizes: Promise<number>[] = [];
        const count = (response: Response) => {
          sizes.push(
            response
              .request()
              .sizes()
              .then((size) => size.responseBodySize)
              .catch(() => 0),
          );
        };
        page.on('response', count);
        // Pages with scripts that fetch more are waited for until the network is quiet.
        const scripted = path.startsWith('/console/preview') || /^\/console\/mappings\/[^/]+$/.test(path);
        const response = await page.goto(`${scene.here.url}${path}`, { waitUntil: scripted ? 'networkidle' : 'load' });
        page.off('response', count);
        const transferred = (await Promise.all(sizes)).reduce((sum, size) => sum + size, 0);
        assert.ok(transferred > 0, `${path}: nothing was measured`);
        assert.equal(response?.status(), 200, path);
        assert.ok(((await page.textContent('h1')) ?? '').length > 0, `${path} has a heading`);
        await assertNoSidewaysScroll(page);
        assert.ok(transferred < 200 * 1024, `${path} moved ${transferred} bytes`);
      }
      watched.assertClean();
    });
  }

  it('fills the dashboard with failures first and the Sync Now buttons', async () => {
    const watched = await browser.newPage();
    const { page } = watched;
    await signIn(page, scene.here.url, ADMIN.user, ADMIN.password);
    const names = await page.locator('main table tbody tr td:first-child a').allTextContents();
    assert.deepEqual(names.slice(0, 2), ['Sindhupalchok Eden', 'Pokhara gateway']);
    assert.equal(await page.locator('main table tbody tr button', { hasText: 'Sync Now' }).count(), 2);
    assert.match((await page.textContent('.tiles')) ?? '', /1 repository needs attention/);
    assert.match((await page.textContent('.tiles')) ?? '', /1 open conflict/);
    watched.assertClean();
  });

  it('serves its assets cached by content hash and compressed', async () => {
    const page = await fetch(`${scene.here.url}/console/login`);
    const html = await page.text();
    const css = /href="(\/console\/assets\/console\.css\?v=[0-9a-f]+)"/.exec(html)?.[1];
    assert.ok(css);
    const first = await fetch(`${scene.here.url}${css}`, { headers: { 'accept-encoding': 'gzip' } });
    assert.equal(first.status, 200);
    assert.equal(first.headers.get('cache-control'), 'public, max-age=31536000, immutable');
    assert.equal(first.headers.get('content-encoding'), 'gzip');
    const etag = first.headers.get('etag')!;
    await first.arrayBuffer();
    const again = await fetch(`${scene.here.url}${css}`, { headers: { 'if-none-match': etag } });
    assert.equal(again.status, 304);
  });
});
