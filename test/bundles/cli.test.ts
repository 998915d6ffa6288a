/**
 * The bundle commands end to end in this process: identity cards, a bundle carried from one data
 * directory to another and its acknowledgement carried back, and backup / restore of a store.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { run } from '../../src/cli/main.js';

async function sluice(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const writeOut = process.stdout.write.bind(process.stdout);
  const writeErr = process.stderr.write.bind(process.stderr);
  // The test runner reports to its parent through this process's stdout in binary chunks; only the
  // CLI's text is captured, the runner's reports pass through.
  process.stdout.write = ((chunk: string | Uint8Array, ...rest: never[]) => (typeof chunk === 'string' ? (out.push(chunk), true) : writeOut(chunk, ...rest))) as typeof process.stdout.write;
  process.stderr.write = ((chunk: string | Uint8Array) => (err.push(String(chunk)), true)) as typeof process.stderr.write;
  try {
    const code = await run(['node', 'sluice', ...args]);
    return { code, stdout: out.join(''), stderr: err.join('') };
  } finally {
    process.stdout.write = writeOut;
    process.stderr.write = writeErr;
    process.exitCode = undefined;
  }
}

const DOC = `<s3xml>
  <resource name="org_organisation" uuid="urn:uuid:bundle-cli-1" created_on="2024-01-01T00:00:00" modified_on="2024-01-01T00:00:00"><data field="name">One</data>
    <resource name="org_office" uuid="urn:uuid:bundle-cli-office-1" modified_on="2024-01-01T00:00:00"><data field="name">Office</data></resource>
  </resource>
  <resource name="org_organisation" uuid="urn:uuid:bundle-cli-2" created_on="2024-01-01T00:00:00" modified_on="2024-01-01T00:00:00"><data field="name">Two</data></resource>
</s3xml>`;

describe('sluice bundle, backup and restore', () => {
  let dir: string;
  let dataA: string;
  let dataB: string;
  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'sluice-bundle-cli-'));
    dataA = path.join(dir, 'a');
    dataB = path.join(dir, 'b');
    await writeFile(path.join(dir, 'orgs.xml'), DOC);
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('carries a bundle from one data directory to another and the acknowledgement back', async () => {
    const file = (name: string) => path.join(dir, name);
    assert.equal((await sluice('import', file('orgs.xml'), '--data', dataA)).code, 0);
    const cardA = await sluice('bundle', 'identity', '--data', dataA, '--out', file('a.card'));
    assert.equal(cardA.code, 0, cardA.stderr);
    const fingerprintA = /fingerprint (\S+)/.exec(cardA.stderr)![1]!;
    assert.equal((await sluice('bundle', 'identity', '--data', dataB, '--out', file('b.card'))).code, 0);
    const wrongFingerprint = await sluice('bundle', 'partner', 'add', file('a.card'), '--name', 'A', '--fingerprint', '0000:0000', '--data', dataB);
    assert.notEqual(wrongFingerprint.code, 0);
    assert.match(wrongFingerprint.stderr, /PEER_IDENTITY_CHANGED/);
    assert.equal((await sluice('bundle', 'partner', 'add', file('a.card'), '--name', 'A', '--fingerprint', fingerprintA, '--data', dataB)).code, 0);
    assert.equal((await sluice('bundle', 'partner', 'add', file('b.card'), '--name', 'B', '--data', dataA)).code, 0);
    assert.equal((await sluice('task', 'add', 'B', 'org_organisation', '--mode', 'push', '--data', dataA)).code, 0);

    const exported = await sluice('bundle', 'export', '--repo', 'B', '--out', file('to-b.bundle'), '--data', dataA);
    assert.equal(exported.code, 0, exported.stderr);
    assert.match(exported.stdout, /changes bundle .* for B, 2 records in 1 parts/);

    const imported = await sluice('bundle', 'import', file('to-b.bundle'), '--ack-out', file('ack.bundle'), '--data', dataB);
    assert.equal(imported.code, 0, imported.stderr);
    assert.match(imported.stdout, /org_organisation: applied; 2 records, 3 created/, "two organisations and the office nested in one");
    const back = await sluice('bundle', 'import', file('ack.bundle'), '--data', dataA);
    assert.equal(back.code, 0, back.stderr);
    assert.match(back.stdout, /1 push checkpoint\(s\) moved forward/);
    const nothing = await sluice('bundle', 'export', '--repo', 'B', '--out', file('to-b-2.bundle'), '--data', dataA);
    assert.match(nothing.stdout, /0 records/);

    const damaged = await readFile(file('to-b.bundle'));
    damaged[damaged.length - 5] = damaged[damaged.length - 5]! ^ 0xff;
    await writeFile(file('damaged.bundle'), damaged);
    const refused = await sluice('bundle', 'import', file('damaged.bundle'), '--data', dataB);
    assert.equal(refused.code, 65);
    assert.match(refused.stderr, /BUNDLE_CHECKSUM_MISMATCH: part 1 of the bundle \(org_organisation.xml.gz\) does not match its checksum/);
    assert.match(refused.stderr, /Nothing was applied/);
  });

  it('backs up a store and restores it into an empty data directory, and refuses to restore over data', async () => {
    const backup = path.join(dir, 'a.backup');
    const written = await sluice('backup', backup, '--data', dataA);
    assert.equal(written.code, 0, written.stderr);
    assert.match(written.stdout, /3 records of 2 resources/);
    const restored = await sluice('restore', backup, '--data', path.join(dir, 'restored'));
    assert.equal(restored.code, 0, restored.stderr);
    assert.match(restored.stdout, /3 records, 1 repositories, 1 tasks/);
    const exported = await sluice('export', 'org_organisation', '--data', path.join(dir, 'restored'));
    assert.match(exported.stdout, /Office/);
    const over = await sluice('restore', backup, '--data', dataA);
    assert.notEqual(over.code, 0);
    assert.match(over.stderr, /RESTORE_TARGET_NOT_EMPTY/);
  });
});
