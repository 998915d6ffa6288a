/**
 * Drop folders: two gateways that share only a folder (a USB stick, a shared directory). A writes
 * the bundle for B into it; B's scheduled job picks it up, moves it aside and leaves the
 * acknowledgement, which A's next run reads to move its push checkpoint.
 */
import assert from 'node:assert/strict';
import { appendFile, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { peekManifest } from '../../src/bundles/container.js';
import { addPartner, identityCard } from '../../src/bundles/partners.js';
import { ensureSigningKey, loadSigningKey } from '../../src/bundles/signing-key.js';
import { importResources } from '../../src/importer/importer.js';
import { parseS3XML } from '../../src/s3xml/parse.js';
import { systemClock } from '../../src/s3xml/timestamps.js';
import type { RepositoryRecord, Store, SyncTaskRecord } from '../../src/store/store.js';
import { checkpointId, readCheckpoint, type PushCheckpoint } from '../../src/sync/checkpoints.js';
import { SyncLogWriter } from '../../src/sync/sync-log.js';
import { addDropFolder } from '../../src/transports/drop-folder-settings.js';
import { outgoingBundleName, runDropFolder } from '../../src/transports/drop-folder-run.js';
import { nodeFolderAccess, type FolderAccess } from '../../src/transports/folder-access.js';
import { compileFilePattern } from '../../src/transports/file-pattern.js';
import { startTestGateway, type TestGateway } from '../support/gateway.js';

const ORG = 'org_organisation';
const uuid = (n: number) => `urn:uuid:00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;

function org(n: number, name: string, modified: string): string {
  return `<resource name="${ORG}" uuid="${uuid(n)}" created_on="2024-01-01T00:00:00" modified_on="${modified}"><data field="name">${name}</data></resource>`;
}

async function write(store: Store, ...resources: string[]): Promise<void> {
  const doc = await parseS3XML(`<s3xml>${resources.join('')}</s3xml>`);
  const result = await importResources(store, doc.resources, { resource: ORG, updatePolicy: 'OTHER', clock: systemClock });
  assert.equal(result.errors.length, 0, JSON.stringify(result.errors));
}

async function names(store: Store): Promise<Record<string, string>> {
  const found: Record<string, string> = {};
  for (const record of await store.queryRecords({ resource: ORG, includeDeleted: true })) {
    found[record.uuid] = record.deleted ? '(deleted)' : String(record.data.find((d) => d.field === 'name')?.text ?? '');
  }
  return found;
}

/**
 * Polls until `check` holds. The deadline only bounds a failing test (a scheduled job that never
 * runs); `explain` says what the gateway did meanwhile, so a failure shows its cause.
 */
async function waitFor(what: string, check: () => Promise<boolean>, explain: () => Promise<unknown>, ms = 8000): Promise<void> {
  const until = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > until) assert.fail(`timed out waiting for ${what}: ${JSON.stringify(await explain())}`);
    await sleep(50);
  }
}

describe('drop folders', () => {
  let a: TestGateway;
  let b: TestGateway;
  let folder: string;
  let pushTask: SyncTaskRecord;
  let stickAtB: RepositoryRecord;

  before(async () => {
    folder = await mkdtemp(path.join(os.tmpdir(), 'sluice-drop-'));
    [a, b] = await Promise.all([startTestGateway({ name: 'Gateway A' }), startTestGateway({ name: 'Gateway B' })]);
    const [keyA, keyB] = await Promise.all([ensureSigningKey(a.dataDir, a.store), ensureSigningKey(b.dataDir, b.store)]);
    await addPartner(a.store, systemClock, identityCard(b.identity, keyB.publicKey), { name: 'B', ownUuid: a.identity.uuid });
    await addPartner(b.store, systemClock, identityCard(a.identity, keyA.publicKey), { name: 'A', ownUuid: b.identity.uuid });
    pushTask = await a.sync.tasks.add('B', ORG, { mode: 'push' });
    await b.sync.tasks.add('A', ORG, { mode: 'pull' });
    await addDropFolder(a.store, systemClock, { name: 'stick', path: folder, send_to: 'B', settle_seconds: 0 });
    stickAtB = await addDropFolder(b.store, systemClock, { name: 'stick', path: folder, settle_seconds: 0 });
  });

  after(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
    if (folder) await rm(folder, { recursive: true, force: true });
  });

  const outgoing = () => outgoingBundleName(a.identity, { name: 'B' });
  const pushCheckpoint = () => readCheckpoint<PushCheckpoint>(a.store, checkpointId(pushTask, 'push', 'sluice'));

  it('writes the bundle for the partner into the folder, and does not rewrite it while nothing changed', async () => {
    await write(a.store, org(1, 'One', '2024-01-01T00:00:00'), org(2, 'Two', '2024-01-01T00:00:00'));
    const first = await a.sync.syncNow('stick', { trigger: 'cli' });
    assert.equal(first.run.status, 'success', first.run.message);
    assert.equal(first.run.counts.bundles_written, 1);
    const bytes = await readFile(path.join(folder, outgoing()));
    const manifest = peekManifest(bytes);
    assert.equal(manifest.kind, 'changes');
    assert.equal(manifest.target?.uuid, b.identity.uuid);
    assert.equal(manifest.counts.records, 2);

    const second = await a.sync.syncNow('stick', { trigger: 'cli' });
    assert.equal(second.run.status, 'success', second.run.message);
    assert.equal(second.run.counts.bundles_written, undefined);
    assert.equal(second.run.counts.files_left, 1, 'its own outgoing bundle stays for the partner');
    assert.equal(peekManifest(await readFile(path.join(folder, outgoing()))).id, manifest.id);
    assert.deepEqual(await pushCheckpoint(), {}, 'writing a bundle does not move the push checkpoint');
  });

  it('picks up a bundle placed in the folder on its schedule, moves it aside and leaves the acknowledgement, which moves the sender\'s checkpoint', async () => {
    await b.sync.tasks.setSchedule('stick', { interval_seconds: 1 });
    const scheduler = b.sync.createScheduler();
    const runsAtB = () => b.store.listRuns({ repository: stickAtB.uuid });
    const explain = async () => ({ scheduled: scheduler.list(), runs: (await runsAtB()).map((run) => [run.trigger, run.status, run.message]), folder: await readdir(folder) });
    await scheduler.start();
    try {
      await waitFor('B to import the bundle', async () => Object.keys(await names(b.store)).length === 2, explain);
      await waitFor('the bundle to be moved aside', async () => !(await readdir(folder)).includes(outgoing()), explain);
    } finally {
      await scheduler.stop();
    }
    assert.deepEqual(await names(b.store), { [uuid(1)]: 'One', [uuid(2)]: 'Two' });
    const imported = await readdir(path.join(folder, 'imported'));
    assert.ok(imported.some((name) => name.endsWith(`-${outgoing()}`)), imported.join(', '));
    const acks = (await readdir(folder)).filter((name) => name.includes('-ack-'));
    assert.equal(acks.length, 1);
    // Every run of B's folder, not the newest few: the schedule may have ticked again before it stopped.
    const runs = await runsAtB();
    assert.ok(runs.some((run) => run.trigger === 'schedule' && run.status === 'success' && run.counts.files_imported === 1), JSON.stringify(runs.map((run) => [run.trigger, run.status, run.message])));

    const back = await a.sync.syncNow('stick', { trigger: 'cli' });
    assert.equal(back.run.status, 'success', back.run.message);
    assert.ok((await pushCheckpoint()).seq! > 0, 'the acknowledgement moved the push checkpoint');
    assert.ok(!(await readdir(folder)).some((name) => name.includes('-ack-')), 'the acknowledgement was moved aside');
    assert.equal(back.run.counts.bundles_written, undefined, 'nothing left to send');
  });

  it('imports the same bundle a second time without changing anything', async () => {
    const again = (await readdir(path.join(folder, 'imported'))).find((name) => name.endsWith(`-${outgoing()}`))!;
    await writeFile(path.join(folder, 'copy.bundle'), await readFile(path.join(folder, 'imported', again)));
    await write(b.store, org(1, 'Changed at B', '2024-06-01T00:00:00'));
    const run = await b.sync.syncNow('stick', { trigger: 'cli' });
    assert.equal(run.run.status, 'success', run.run.message);
    assert.equal(run.run.counts.files_imported, 1);
    assert.equal(run.run.counts.pull_created ?? 0, 0);
    assert.equal(run.run.counts.pull_updated ?? 0, 0);
    assert.equal((await names(b.store))[uuid(1)], 'Changed at B');
  });

  it('refuses a damaged bundle whole, moves it to rejected/ and says why in the log', async () => {
    await write(a.store, org(3, 'Three', '2024-02-01T00:00:00'));
    await a.sync.syncNow('stick', { trigger: 'cli' });
    const file = path.join(folder, outgoing());
    const bytes = await readFile(file);
    bytes[bytes.length - 10] ^= 0x01;
    await writeFile(file, bytes);
    const run = await b.sync.syncNow('stick', { trigger: 'cli' });
    assert.equal(run.run.status, 'error');
    assert.equal(run.run.counts.files_rejected, 1);
    assert.equal((await names(b.store))[uuid(3)], undefined, 'nothing applied');
    assert.ok((await readdir(path.join(folder, 'rejected'))).some((name) => name.endsWith(`-${outgoing()}`)));
    const log = await b.store.listLog({ repository: run.run.repository, limit: 20 });
    assert.ok(log.some((line) => /BUNDLE_CHECKSUM_MISMATCH/.test(line.message) && /rejected\//.test(line.message)), JSON.stringify(log.map((line) => line.message)));
  });

  it('imports plain S3XML files matching the pattern and leaves other files alone', async () => {
    await writeFile(path.join(folder, 'offices.xml'), `<s3xml>${org(7, 'From a file', '2024-03-01T00:00:00')}</s3xml>`);
    await writeFile(path.join(folder, 'notes.txt'), 'not for the gateway');
    await writeFile(path.join(folder, 'broken.xml'), '<s3xml><resource');
    const run = await b.sync.syncNow('stick', { trigger: 'cli' });
    assert.equal((await names(b.store))[uuid(7)], 'From a file');
    assert.equal(run.run.counts.files_imported, 1);
    assert.equal(run.run.counts.files_rejected, 1);
    const left = await readdir(folder);
    assert.ok(left.includes('notes.txt'));
    assert.ok(!left.includes('offices.xml') && !left.includes('broken.xml'));
  });

  it('lets a file that is still being copied wait for the next run', async () => {
    const waiting = await addDropFolder(b.store, systemClock, { name: 'slow', path: folder, settle_seconds: 3600 });
    await writeFile(path.join(folder, 'fresh.xml'), `<s3xml>${org(8, 'Fresh', '2024-03-01T00:00:00')}</s3xml>`);
    const run = await b.sync.syncNow(waiting.uuid, { trigger: 'cli' });
    assert.equal(run.run.counts.files_waiting, 1);
    assert.equal((await names(b.store))[uuid(8)], undefined);
    assert.ok((await readdir(folder)).includes('fresh.xml'));
  });

  it('leaves a file that grows while it is read (a copy that stalled past settle_seconds) for the next run', async () => {
    const copying = await mkdtemp(path.join(os.tmpdir(), 'sluice-drop-copying-'));
    try {
      const repository = await addDropFolder(b.store, systemClock, { name: 'copying', path: copying, settle_seconds: 0 });
      const whole = `<s3xml>${org(9, 'Copied slowly', '2024-03-01T00:00:00')}</s3xml>`;
      await writeFile(path.join(copying, 'slow.xml'), whole.slice(0, 40));
      // The copy goes on between the folder's listing and its read.
      const stillCopying: FolderAccess = {
        ...nodeFolderAccess,
        async read(dir, name) {
          await appendFile(path.join(dir, name), whole.slice(40));
          return nodeFolderAccess.read(dir, name);
        },
      };
      const bundles = { store: b.store, clock: systemClock, identity: b.identity, signer: loadSigningKey(b.dataDir) };
      const log = new SyncLogWriter(b.store, systemClock, { repository: repository.uuid });
      const first = await runDropFolder({ bundles, folder: stillCopying, log }, repository);
      assert.deepEqual(first.files.map((file) => [file.name, file.outcome]), [['slow.xml', 'waiting']]);
      assert.deepEqual(await readdir(copying), ['slow.xml'], 'neither imported nor moved to rejected/');

      const next = await runDropFolder({ bundles, folder: nodeFolderAccess, log }, repository);
      assert.deepEqual(next.files.map((file) => [file.name, file.outcome]), [['slow.xml', 'imported']]);
      assert.equal((await names(b.store))[uuid(9)], 'Copied slowly');
    } finally {
      await rm(copying, { recursive: true, force: true });
    }
  });

  it('imports a file written within the current millisecond at once when settle_seconds is 0', async () => {
    const fresh = await mkdtemp(path.join(os.tmpdir(), 'sluice-drop-fresh-'));
    try {
      const repository = await addDropFolder(b.store, systemClock, { name: 'no-wait', path: fresh, settle_seconds: 0 });
      await writeFile(path.join(fresh, 'now.xml'), `<s3xml>${org(10, 'Just written', '2024-03-01T00:00:00')}</s3xml>`);
      const at = Date.now();
      // File times carry fractions of a millisecond; the clock does not.
      const stampedThisMillisecond: FolderAccess = {
        ...nodeFolderAccess,
        list: async (dir) => (await nodeFolderAccess.list(dir)).map((entry) => ({ ...entry, modifiedMs: at + 0.4 })),
      };
      const clock = { now: () => new Date(at) };
      const bundles = { store: b.store, clock, identity: b.identity, signer: loadSigningKey(b.dataDir) };
      const result = await runDropFolder({ bundles, folder: stampedThisMillisecond, log: new SyncLogWriter(b.store, clock, { repository: repository.uuid }) }, repository);
      assert.deepEqual(result.files.map((file) => [file.name, file.outcome]), [['now.xml', 'imported']]);
      assert.equal((await names(b.store))[uuid(10)], 'Just written');
    } finally {
      await rm(fresh, { recursive: true, force: true });
    }
  });

  it('reports a folder that is not there (stick not mounted) as an error that may work next time', async () => {
    const missing = await addDropFolder(b.store, systemClock, { name: 'unmounted', path: path.join(folder, 'no-such-stick') });
    const run = await b.sync.syncNow(missing.uuid, { trigger: 'cli' });
    assert.equal(run.run.status, 'error');
    assert.match(run.run.message ?? '', /FOLDER_UNAVAILABLE/);
  });
});

describe('drop folder file patterns', () => {
  it('match whole names, case-insensitively, with * and ? only', () => {
    const matches = compileFilePattern('*.bundle, data-??.xml');
    assert.equal(matches('A-to-B.bundle'), true);
    assert.equal(matches('A.BUNDLE'), true);
    assert.equal(matches('data-01.xml'), true);
    assert.equal(matches('data-001.xml'), false);
    assert.equal(matches('x.bundle.partial'), false);
    assert.throws(() => compileFilePattern('../*.xml'), /not a list of file name patterns/);
  });
});
