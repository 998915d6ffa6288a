/**
 * Two gateways that never connect: partners exchange identity cards by hand, then records, updates,
 * deletes and a conflict travel in a signed bundle, and the acknowledgement travels back.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ensureSigningKey } from '../../src/bundles/signing-key.js';
import { exportChangesBundle, exportSelectionBundle, type BundleContext } from '../../src/bundles/export-bundle.js';
import { importBundle } from '../../src/bundles/import-bundle.js';
import { addPartner, identityCard } from '../../src/bundles/partners.js';
import { isSluiceError } from '../../src/errors.js';
import { exportResources } from '../../src/exporter/exporter.js';
import { importResources } from '../../src/importer/importer.js';
import { parseS3XML } from '../../src/s3xml/parse.js';
import { systemClock } from '../../src/s3xml/timestamps.js';
import type { Store, SyncTaskRecord } from '../../src/store/store.js';
import { checkpointId, readCheckpoint, type PushCheckpoint } from '../../src/sync/checkpoints.js';
import { startTestGateway, type TestGateway } from '../support/gateway.js';

const ORG = 'org_organisation';
const uuid = (n: number) => `urn:uuid:00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;

function org(n: number, name: string, modified: string, deleted = false): string {
  if (deleted) return `<resource name="${ORG}" uuid="${uuid(n)}" modified_on="${modified}" deleted="True"/>`;
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

async function expectRefused(ctx: BundleContext, file: Buffer, what: string): Promise<string> {
  try {
    await importBundle(ctx, file);
  } catch (error) {
    assert.ok(isSluiceError(error) && error.code.startsWith('BUNDLE_'), `${what}: ${String(error)}`);
    return error.message;
  }
  assert.fail(`${what} was accepted`);
}

describe('offline bundles between two gateways that never connect', () => {
  let a: TestGateway;
  let b: TestGateway;
  let actx: BundleContext;
  let bctx: BundleContext;
  let pushTask: SyncTaskRecord;

  before(async () => {
    [a, b] = await Promise.all([startTestGateway({ name: 'Gateway A' }), startTestGateway({ name: 'Gateway B' })]);
    const [keyA, keyB] = await Promise.all([ensureSigningKey(a.dataDir, a.store), ensureSigningKey(b.dataDir, b.store)]);
    actx = { store: a.store, clock: systemClock, identity: a.identity, signer: keyA, localDomain: 'a.test' };
    bctx = { store: b.store, clock: systemClock, identity: b.identity, signer: keyB, localDomain: 'b.test' };
    // Identity cards carried by hand (no network between the two).
    await addPartner(a.store, systemClock, identityCard(b.identity, keyB.publicKey), { name: 'B', ownUuid: a.identity.uuid });
    await addPartner(b.store, systemClock, identityCard(a.identity, keyA.publicKey), { name: 'A', ownUuid: b.identity.uuid });
    pushTask = await a.sync.tasks.add('B', ORG, { mode: 'push' });
    await b.sync.tasks.add('A', ORG, { mode: 'pull' });
  });

  after(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
  });

  const pushCheckpoint = async () => readCheckpoint<PushCheckpoint>(a.store, checkpointId(pushTask, 'push', 'sluice'));

  it('carries records, updates, deletes and a conflict, and the acknowledgement moves the sender\'s push checkpoint', async () => {
    await write(a.store, org(1, 'One', '2024-01-01T00:00:00'), org(2, 'Two', '2024-01-01T00:00:00'), org(3, 'Three', '2024-01-01T00:00:00'));
    const first = await exportChangesBundle(actx, 'B');
    assert.equal(first.manifest.counts.records, 3);
    assert.equal(first.manifest.target?.uuid, b.identity.uuid);
    const firstReport = await importBundle(bctx, first.file, { acknowledge: true });
    assert.equal(firstReport.parts[0]!.created, 3);
    assert.deepEqual(await names(b.store), { [uuid(1)]: 'One', [uuid(2)]: 'Two', [uuid(3)]: 'Three' });
    assert.deepEqual(await pushCheckpoint(), {}, 'exporting alone does not move the checkpoint');
    const ack = await importBundle(actx, firstReport.ack!);
    assert.equal(ack.checkpointsAdvanced, 1);
    assert.equal((await pushCheckpoint()).seq, await a.store.lastSeq());

    // A changes, deletes and creates; B changes record 3 itself, later than A does.
    await write(a.store, org(1, 'One (renamed at A)', '2024-02-01T00:00:00'), org(2, '', '2024-02-01T00:00:00', true), org(3, 'Three at A', '2024-02-01T00:00:00'), org(4, 'Four', '2024-02-01T00:00:00'));
    await write(b.store, org(3, 'Three at B', '2024-03-01T00:00:00'));
    const second = await exportChangesBundle(actx, 'B');
    assert.equal(second.manifest.parts[0]!.records, 4, 'only what changed since the acknowledged checkpoint');
    const report = await importBundle(bctx, second.file, { acknowledge: true });
    const part = report.parts[0]!;
    assert.deepEqual([part.status, part.created, part.updated, part.deleted, part.conflicts], ['applied', 1, 1, 1, 1]);
    assert.deepEqual(await names(b.store), { [uuid(1)]: 'One (renamed at A)', [uuid(2)]: '(deleted)', [uuid(3)]: 'Three at B', [uuid(4)]: 'Four' });
    const conflicts = await b.store.listConflicts({ status: 'open' });
    assert.equal(conflicts.length, 1);
    assert.equal(conflicts[0]!.uuid, uuid(3));
    assert.equal(conflicts[0]!.repository, a.identity.uuid);

    // Importing the same bundle again changes nothing.
    const seqBefore = await b.store.lastSeq();
    const again = await importBundle(bctx, second.file, { acknowledge: true });
    assert.equal(again.parts[0]!.status, 'already applied');
    assert.equal(await b.store.lastSeq(), seqBefore);
    assert.equal((await b.store.listConflicts()).length, 1);

    const before = (await pushCheckpoint()).seq!;
    assert.equal((await importBundle(actx, report.ack!)).checkpointsAdvanced, 1);
    assert.ok((await pushCheckpoint()).seq! > before);
    assert.equal((await pushCheckpoint()).mtime, '2024-02-01T00:00:00');
    assert.equal((await importBundle(actx, again.ack!)).checkpointsAdvanced, 0, 'an acknowledgement carried twice moves nothing');
    const third = await exportChangesBundle(actx, 'B');
    assert.equal(third.manifest.counts.records, 0, 'after the acknowledgement nothing is left to send');
  });

  it('refuses a bundle with any byte flipped, or truncated anywhere, and applies nothing', async () => {
    await write(a.store, org(5, 'Five', '2024-04-01T00:00:00'), org(6, 'Six', '2024-04-01T00:00:00'));
    const { file } = await exportChangesBundle(actx, 'B');
    const seqBefore = await b.store.lastSeq();
    const messages = new Set<string>();
    for (let offset = 0; offset < file.length; offset += 1) {
      for (const mask of [0x01, 0x20, 0x80]) {
        const flipped = Buffer.from(file);
        flipped[offset] = flipped[offset]! ^ mask;
        messages.add((await expectRefused(bctx, flipped, `byte ${offset} ^ ${mask}`)).split(':')[0]!);
      }
    }
    for (let length = 0; length < file.length; length += 1) {
      await expectRefused(bctx, file.subarray(0, length), `truncated to ${length} bytes`);
    }
    const truncated = await expectRefused(bctx, file.subarray(0, file.length - 1), 'one byte short');
    assert.match(truncated, /truncated/);
    await expectRefused(bctx, Buffer.concat([file, Buffer.from('x')]), 'a byte appended');
    assert.equal(await b.store.lastSeq(), seqBefore, 'nothing was applied');
    assert.ok(!(uuid(5) in (await names(b.store))));
    assert.ok(messages.size > 1, 'the message says what is wrong');
    // The intact file still goes in.
    assert.equal((await importBundle(bctx, file)).parts[0]!.created, 2);
  });

  it('refuses a bundle from a sender whose key it does not know, and one meant for another gateway', async () => {
    const stranger = await startTestGateway({ name: 'Stranger' });
    try {
      const key = await ensureSigningKey(stranger.dataDir, stranger.store);
      const strangerCtx: BundleContext = { store: stranger.store, clock: systemClock, identity: stranger.identity, signer: key };
      await write(stranger.store, org(9, 'Nine', '2024-01-01T00:00:00'));
      const unknown = await exportSelectionBundle(strangerCtx, { resources: [ORG] });
      assert.match(await expectRefused(bctx, unknown.file, 'unknown sender'), /does not know/);
      // A's bundle for B imported at the stranger, which knows A's key.
      await addPartner(stranger.store, systemClock, identityCard(a.identity, actx.signer.publicKey), { ownUuid: stranger.identity.uuid });
      const forB = await exportChangesBundle(actx, 'B');
      assert.match(await expectRefused(strangerCtx, forB.file, 'wrong target'), /meant for B/);
    } finally {
      await stranger.stop();
    }
  });

  it('exports a selection by resource and since-date that the partner applies', async () => {
    const selection = await exportSelectionBundle(actx, { resources: [ORG], since: '2024-04-01T00:00:00', target: 'B' });
    assert.equal(selection.manifest.counts.records, 2);
    assert.equal(selection.manifest.since, '2024-04-01T00:00:00');
    const report = await importBundle(bctx, selection.file);
    assert.equal(report.parts[0]!.unchanged, 2, 'already there from the previous bundle');
    const exported: string[] = [];
    for await (const resource of exportResources(b.store, { resource: ORG, msince: '2024-04-01T00:00:00' })) exported.push(resource.uuid!);
    assert.deepEqual(exported.sort(), [uuid(5), uuid(6)]);
  });
});
