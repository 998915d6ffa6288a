/**
 * `sluice pool …` against a data directory (in-process, through the CLI's run()): interests,
 * a pool with a template, its candidates, accepting one (fingerprint against a real gateway), and a
 * template change reaching the member's tasks.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { run } from '../../src/cli/main.js';
import { Beacon } from '../../src/pools/beacon.js';
import { systemClock } from '../../src/s3xml/timestamps.js';
import { openSqliteStore } from '../../src/store/sqlite-store.js';
import type { Store } from '../../src/store/store.js';
import { startDiscoveryGateway, type DiscoveryGateway } from './support/gateways.js';

/**
 * Runs the CLI and returns its exit code and what it printed on stdout. The commands write strings;
 * the test runner reports through the same stdout in binary chunks, which pass through untouched.
 */
async function sluice(...args: string[]): Promise<{ code: number; stdout: string }> {
  const write = process.stdout.write.bind(process.stdout);
  let stdout = '';
  process.stdout.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
    if (typeof chunk !== 'string') return (write as (...all: unknown[]) => boolean)(chunk, ...rest);
    stdout += chunk;
    return true;
  }) as typeof process.stdout.write;
  try {
    const code = await run(['node', 'sluice', ...args]);
    return { code, stdout };
  } finally {
    process.stdout.write = write;
  }
}

async function withStore<T>(dataDir: string, work: (store: Store) => Promise<T>): Promise<T> {
  const store = await openSqliteStore({ file: path.join(dataDir, 'sluice.db') });
  try {
    return await work(store);
  } finally {
    await store.close();
  }
}

describe('sluice pool', () => {
  let dataDir: string;
  let peer: DiscoveryGateway;

  before(async () => {
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'sluice-pool-cli-'));
    peer = await startDiscoveryGateway({ name: 'Les Cayes' });
  });

  after(async () => {
    await peer?.stop();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('registers interest tags and lists them', async () => {
    assert.equal((await sluice('pool', 'interest', 'add', 'haiti', '--direction', 'upload', '--data', dataDir)).code, 0);
    const listed = await sluice('pool', 'interests', '--json', '--data', dataDir);
    assert.equal(listed.code, 0);
    assert.deepEqual(JSON.parse(listed.stdout), [{ tag: 'haiti', direction: 'upload' }]);
  });

  it('creates a pool, lists a discovered gateway as its candidate, accepts it and applies the template', async () => {
    await withStore(dataDir, (store) =>
      new Beacon(store, systemClock).recordSighting({
        uuid: peer.identity.uuid,
        name: 'Les Cayes',
        url: peer.url,
        instance: 'Les Cayes._sluice._tcp.local',
        host: 'les-cayes.local',
        port: Number(new URL(peer.url).port),
        basePath: '',
        api: '1',
        version: '0.1.0',
        tables: [],
        interests: [{ tag: 'haiti', direction: 'download' }],
        addresses: ['127.0.0.1'],
        goodbye: false,
      }),
    );
    const created = await sluice('pool', 'create', 'south', '--tag', 'haiti', '--resource', 'org_office', '--mode', 'pull', '--every', '900', '--data', dataDir);
    assert.equal(created.code, 0);
    assert.match(created.stdout, /^south\ttags: haiti\tresources: org_office \(pull\)\tevery 900 s/);
    const candidates = await sluice('pool', 'candidates', 'south', '--data', dataDir);
    assert.match(candidates.stdout, new RegExp(`Les Cayes\\t${peer.identity.uuid}`));
    const accepted = await sluice('pool', 'accept', 'south', peer.identity.uuid, '--data', dataDir);
    assert.equal(accepted.code, 0, accepted.stdout);
    const tasks = await withStore(dataDir, (store) => store.listTasks({ repository: peer.identity.uuid }));
    assert.deepEqual(tasks.map((task) => [task.resource, task.mode]), [['org_office', 'pull']]);
  });

  it('an update of the pool reaches the member, and an unknown pool fails with a data exit code', async () => {
    assert.equal((await sluice('pool', 'update', 'south', '--resource', 'org_office', '--resource', 'pr_person', '--mode', 'both', '--data', dataDir)).code, 0);
    const tasks = await withStore(dataDir, (store) => store.listTasks({ repository: peer.identity.uuid }));
    assert.deepEqual(tasks.map((task) => [task.resource, task.mode]), [
      ['org_office', 'both'],
      ['pr_person', 'both'],
    ]);
    const listed = JSON.parse((await sluice('pool', 'list', '--json', '--data', dataDir)).stdout) as { members: { uuid: string }[]; template: { schedule?: unknown } }[];
    assert.deepEqual(listed[0]?.members.map((member) => member.uuid), [peer.identity.uuid]);
    assert.deepEqual(listed[0]?.template.schedule, { interval_seconds: 900 }, 'options not given keep their value');
    assert.equal((await sluice('pool', 'show', 'nowhere', '--data', dataDir)).code, 65);
  });
});
