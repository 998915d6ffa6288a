/**
 * Posts per second for fetching N posts from the fake Ushahidi with the v5 and v2 clients, and,
 * with --transform, for fetching plus running each page through stylesheets/ushahidi/import.xsl.
 *
 *   node --import tsx tools/bench/ushahidi.ts [--posts 10000] [--page 500] [--in-process] [--transform]
 *
 * By default the fake runs in its own process (as a real deployment would), so the client's
 * figure is not shared with the server's CPU on the same event loop.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Agent } from 'undici';
import { deploymentDomain, importDocumentJson } from '../../src/ushahidi/import-document.js';
import type { UshahidiSourceClient } from '../../src/ushahidi/source.js';
import { UshahidiV2Client } from '../../src/ushahidi/ushahidi-v2-client.js';
import { UshahidiV5Client } from '../../src/ushahidi/ushahidi-v5-client.js';
import { DEFAULT_USERS, createFakeUshahidi } from '../fake-ushahidi/index.js';

const { values } = parseArgs({
  options: {
    posts: { type: 'string', default: '10000' },
    page: { type: 'string', default: '500' },
    'in-process': { type: 'boolean', default: false },
    transform: { type: 'boolean', default: false },
  },
});
const postCount = Number(values.posts);
const pageSize = Number(values.page);

async function startFake(): Promise<{ url: string; stop: () => Promise<void> }> {
  if (values['in-process']) {
    const fake = await createFakeUshahidi({ posts: postCount });
    return { url: fake.url, stop: () => fake.close() };
  }
  const main = fileURLToPath(new URL('../fake-ushahidi/main.ts', import.meta.url));
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', main, '--posts', String(postCount), '--port', '0'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let output = '';
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout!.on('data', (chunk: Buffer) => {
      output += chunk.toString('utf8');
      const match = /listening on (http:\/\/\S+)/.exec(output);
      if (match) resolve(match[1]!);
    });
    child.once('exit', (code) => reject(new Error(`the fake exited (${code}) before listening`)));
  });
  return {
    url,
    stop: async () => {
      child.kill('SIGTERM');
      await once(child, 'exit');
    },
  };
}

type Transform = (json: string) => string;

/** Compiles the import stylesheet once with the xslt3 CLI, as the gateway does at build time. */
function importTransform(): Transform {
  const repo = fileURLToPath(new URL('../../', import.meta.url));
  const dir = mkdtempSync(path.join(os.tmpdir(), 'sluice-bench-ushahidi-'));
  try {
    const sefPath = path.join(dir, 'import.sef.json');
    execFileSync(process.execPath, [
      path.join(repo, 'node_modules', 'xslt3', 'xslt3.js'),
      `-xsl:${path.join(repo, 'stylesheets', 'ushahidi', 'import.xsl')}`,
      `-export:${sefPath}`,
      '-nogo',
    ]);
    const sef = readFileSync(sefPath, 'utf8');
    const saxon = createRequire(import.meta.url)('saxon-js') as {
      transform(options: Record<string, unknown>, mode: 'sync'): { principalResult: string };
    };
    return (json) =>
      saxon.transform(
        {
          stylesheetInternal: JSON.parse(sef),
          initialTemplate: 'Q{http://www.w3.org/1999/XSL/Transform}initial-template',
          stylesheetParams: { 'Q{}json': json },
          destination: 'serialized',
        },
        'sync',
      ).principalResult;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function measure(label: string, client: UshahidiSourceClient, transform?: Transform, domain = ''): Promise<void> {
  const started = performance.now();
  let posts = 0;
  let pages = 0;
  for await (const page of client.fetchPostsSince(0, pageSize)) {
    if (transform) transform(importDocumentJson(domain, client.api, page.posts));
    posts += page.posts.length;
    pages++;
  }
  const seconds = (performance.now() - started) / 1000;
  console.log(`${label.padEnd(28)} ${String(posts).padStart(6)} posts  ${String(pages).padStart(4)} pages  ${seconds.toFixed(2)} s  ${Math.round(posts / seconds)} posts/s`);
}

const fake = await startFake();
const agent = new Agent({ keepAliveTimeout: 10_000 });
const admin = DEFAULT_USERS[0]!;
try {
  console.log(`fake Ushahidi with ${postCount} posts at ${fake.url}${values['in-process'] ? ' (in process)' : ''}, page size ${pageSize}`);
  const v5 = () => new UshahidiV5Client({ baseUrl: fake.url, username: admin.email, password: admin.password, dispatcher: agent });
  await measure('v5 fetch (cold)', v5());
  await measure('v5 fetch (warm)', v5());
  const v2 = () => new UshahidiV2Client({ baseUrl: fake.url, timeZone: 'America/Port-au-Prince', dispatcher: agent });
  await measure('v2 fetch, approved only', v2());
  await measure('v2 fetch, approved (warm)', v2());
  if (values.transform) {
    const transform = importTransform();
    await measure('v5 fetch + import.xsl', v5(), transform, deploymentDomain(fake.url));
    await measure('v2 fetch + import.xsl', v2(), transform, deploymentDomain(fake.url));
  }
} finally {
  await agent.destroy();
  await fake.stop();
}
