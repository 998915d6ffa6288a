/**
 * `npm run screenshots`: a PNG of every console page with demo data, in docs/screenshots/.
 *
 * Starts two gateways on 127.0.0.1 with demo data (the same scene the page tests use: a peer added
 * fingerprint-first, a real sync run, a failing repository, a conflict, a mapping with versions),
 * then drives Debian's Chromium (/usr/bin/chromium, never a downloaded browser) through every page
 * at 1280×800, and the main ones again at 800×600.
 *
 *   node --import tsx tools/screenshots.ts [--out <folder>]
 */
import { mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { ADMIN } from '../test/support/gateway.js';
import { launchConsoleBrowser, signIn } from '../test/console/support/browser.js';
import { ACCOUNTS } from '../test/console/support/console-gateway.js';
import { buildDemoScene, DEMO_INSTANCE } from '../test/console/support/demo-scene.js';
import { startPoolsConsole } from '../test/console/support/pools-console.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

interface Shot {
  name: string;
  path: string;
  /** What to do on the page before the picture (fill a form, open a field…). */
  prepare?: (page: Page) => Promise<void>;
  /** Also at 800×600. */
  small?: boolean;
  /** Sign in as this user instead of the admin. */
  as?: { user: string; password: string };
  /** Taken on the console that has the beacon and pools (see startPoolsConsole). */
  pools?: boolean;
}

function outputFolder(argv: string[]): string {
  const at = argv.indexOf('--out');
  return at >= 0 && argv[at + 1] ? path.resolve(argv[at + 1]!) : path.join(root, 'docs', 'screenshots');
}

async function main(): Promise<void> {
  const out = outputFolder(process.argv.slice(2));
  await mkdir(out, { recursive: true });
  process.stdout.write('Starting two demo gateways and a sync run…\n');
  const scene = await buildDemoScene();
  const browser = await launchConsoleBrowser();
  const capInput = await readFile(path.join(root, 'test', 'fixtures', 'formats', 'cap', 'eden-flat-alert.s3.xml'), 'utf8');
  const [logEntry] = await scene.here.store.listLog({ repository: scene.repository, limit: 1 });
  const repository = encodeURIComponent(scene.repository);
  // Until the composition root hands the console its beacon and pools, a console over the same
  // gateway shows those pages (same store, so the same sign-in works on it).
  const poolsConsole = await startPoolsConsole(scene.here);
  await scene.here.beacon.register('nepal', 'both');
  const seen = '2024-05-01T10:00:00';
  await scene.here.store.putDiscoveredGateway({
    uuid: scene.peer.identity.uuid,
    name: 'Pokhara gateway',
    url: scene.peer.url,
    advert: { tables: ['org_organisation', 'org_office', 'event_incident_report'], interests: [{ tag: 'nepal', direction: 'both' }], api: '1', version: 'demo' },
    first_seen_at: seen,
    last_seen_at: seen,
  });
  await scene.here.store.putDiscoveredGateway({
    uuid: 'urn:uuid:5f0c7a2e-8d3b-4c61-a9e4-0b7d2c6f1e93',
    name: 'Bharatpur field office',
    url: 'http://192.0.2.41:8080',
    advert: { tables: ['org_office'], interests: [{ tag: 'nepal', direction: 'download' }], api: '1', version: 'demo' },
    first_seen_at: seen,
    last_seen_at: seen,
  });
  await scene.here.pools.create({ name: 'nepal-earthquake', tags: ['nepal'], template: { resources: ['org_office', 'org_organisation'], mode: 'pull', schedule: { interval_seconds: 900 } } });

  const shots: Shot[] = [
    { name: 'sign-in', path: '/console/login' },
    { name: 'dashboard', path: '/console', small: true },
    { name: 'repositories', path: '/console/repositories' },
    { name: 'repository', path: `/console/repositories/${repository}` },
    {
      name: 'add-repository-fingerprint',
      path: '/console/repositories/new',
      small: true,
      prepare: async (page) => {
        await page.fill('input[name="url"]', scene.peer.url);
        await Promise.all([page.waitForURL('**/fingerprint'), page.click('text=Look up the peer')]);
      },
    },
    { name: 'add-ushahidi-source', path: '/console/sources/new' },
    { name: 'sync-log', path: '/console/log' },
    { name: 'sync-log-entry', path: `/console/log/${logEntry!.id}` },
    { name: 'runs', path: '/console/runs' },
    {
      name: 'run',
      path: `/console/runs/${encodeURIComponent(scene.runId)}`,
      prepare: async (page) => {
        await page.locator('details.capture summary').first().click();
      },
    },
    { name: 'conflicts', path: '/console/conflicts' },
    { name: 'conflict', path: `/console/conflicts/${scene.conflictId}`, small: true },
    { name: 'mappings', path: '/console/mappings' },
    {
      name: 'mapping-editor',
      path: `/console/mappings/${DEMO_INSTANCE}?resource=event_incident_report&field=status&direction=inbound`,
      small: true,
      prepare: async (page) => {
        await page.waitForSelector('table.values');
        const capture = await page.locator('#preview-payload option[data-direction="inbound"]').first().getAttribute('value');
        if (capture) {
          await page.selectOption('#preview-payload', capture);
          await page.waitForFunction(() => ((document.querySelector('#preview-sample') as HTMLTextAreaElement | null)?.value ?? '') !== '');
          await page.click('#run-mapping-preview');
          await page.waitForSelector('#preview-after', { timeout: 60_000 });
        }
        await page.evaluate(() => window.scrollTo(0, 0));
      },
    },
    { name: 'mapping-versions', path: `/console/mappings/${DEMO_INSTANCE}/versions`, prepare: async (page) => page.locator('details.version summary').first().click() },
    { name: 'mapping-unmapped', path: `/console/mappings/${DEMO_INSTANCE}/unmapped` },
    { name: 'mapping-stylesheet', path: `/console/mappings/${DEMO_INSTANCE}/xsl` },
    {
      name: 'preview',
      path: '/console/preview',
      small: true,
      as: ACCOUNTS.analyst,
      prepare: async (page) => {
        await page.check('input[name="direction"][value="export"]');
        await page.selectOption('#preview-format', 'cap');
        await page.fill('#preview-input', capInput);
        await page.click('#run-preview');
        await page.waitForSelector('#xsd-verdict', { timeout: 60_000 });
        await page.locator('#preview-result').scrollIntoViewIfNeeded();
      },
    },
    {
      name: 'preview-error',
      path: '/console/preview',
      as: ACCOUNTS.analyst,
      prepare: async (page) => {
        await page.check('input[name="direction"][value="export"]');
        await page.selectOption('#preview-format', 'cap');
        await page.fill('#preview-input', capInput.replace('<data field="event">Flood</data>', '<data field="event">Flood</dta>'));
        await page.click('#run-preview');
        await page.waitForSelector('.preview-error', { timeout: 60_000 });
        await page.locator('#preview-result').scrollIntoViewIfNeeded();
      },
    },
    { name: 'records', path: '/console/records', small: true },
    { name: 'settings', path: '/console/settings' },
    { name: 'users', path: '/console/users' },
    { name: 'discovery', path: '/console/discovery', pools: true, small: true },
    { name: 'pools', path: '/console/pools', pools: true, prepare: async (page) => page.locator('#create-pool summary').click() },
    { name: 'pool', path: '/console/pools/nepal-earthquake', pools: true, small: true, prepare: async (page) => page.locator('details.accept summary').first().click() },
    { name: 'not-for-your-role', path: '/console/mappings', as: ACCOUNTS.viewer },
  ];

  try {
    const sizes = [
      { width: 1280, height: 800, suffix: '' },
      { width: 800, height: 600, suffix: '-800x600' },
    ];
    for (const size of sizes) {
      const page = await browser.context.newPage();
      await page.setViewportSize({ width: size.width, height: size.height });
      let signedInAs = '';
      for (const shot of shots) {
        if (size.suffix && !shot.small) continue;
        const account = shot.as ?? { user: ADMIN.user, password: ADMIN.password };
        if (shot.name === 'sign-in') {
          await page.context().clearCookies();
          signedInAs = '';
        } else if (signedInAs !== account.user) {
          await signIn(page, scene.here.url, account.user, account.password);
          signedInAs = account.user;
        }
        await page.goto(`${shot.pools ? poolsConsole.url : scene.here.url}${shot.path}`, { waitUntil: 'networkidle' });
        await shot.prepare?.(page);
        const file = path.join(out, `${shot.name}${size.suffix}.png`);
        await page.screenshot({ path: file });
        process.stdout.write(`${path.relative(root, file)}\n`);
      }
      await page.close();
    }
  } finally {
    await browser.close();
    await poolsConsole.close();
    await scene.stop();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exitCode = 1;
});
