import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { run } from '../../src/cli/main.js';
import { EXIT } from '../../src/cli/exit-codes.js';
import { parseS3XML } from '../../src/s3xml/parse.js';
import { openSqliteStore } from '../../src/store/sqlite-store.js';
import { hostileCases } from '../support/hostile-corpus.js';

const exec = promisify(execFile);
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const BIN = path.join(ROOT, 'src', 'cli', 'bin.ts');

/** Runs the real CLI in a child process, as a script would. */
async function sluice(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await exec(process.execPath, ['--import', 'tsx', BIN, ...args], { cwd: ROOT, maxBuffer: 64 * 1024 * 1024 });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

/** Runs the CLI in this process (fast, for the long corpus loop), capturing stderr. */
async function sluiceInProcess(args: string[]): Promise<{ code: number; stderr: string }> {
  const writes: string[] = [];
  const original = process.stderr.write.bind(process.stderr);
  process.stderr.write = ((chunk: string | Uint8Array) => {
    writes.push(String(chunk));
    return true;
  }) as typeof process.stderr.write;
  try {
    const code = await run(['node', 'sluice', ...args]);
    return { code, stderr: writes.join('') };
  } finally {
    process.stderr.write = original;
    process.exitCode = undefined;
  }
}

const DOC = `<?xml version="1.0" encoding="utf-8"?>
<s3xml>
  <resource name="org_organisation" uuid="urn:uuid:cli-org-1" modified_on="2024-03-05T16:40:02" mci="1">
    <data field="name">Himal Relief</data>
    <resource name="org_office" uuid="urn:uuid:cli-office-1" modified_on="2024-03-05T16:40:02"><data field="name">Pokhara</data></resource>
  </resource>
  <resource name="org_organisation" uuid="urn:uuid:cli-org-2" modified_on="2024-03-06T08:00:00" mci="1">
    <data field="name">Bagmati Volunteers</data>
  </resource>
</s3xml>`;

describe('sluice import and export', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'sluice-cli-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('imports a file and exports it again with a plain child process', async () => {
    const file = path.join(dir, 'orgs.xml');
    await writeFile(file, DOC);
    const imported = await sluice(['import', file, '--data', dir]);
    assert.equal(imported.code, 0, imported.stderr);
    assert.match(imported.stdout, /2 records; 3 created/);

    const exported = await sluice(['export', 'org_organisation', '--data', dir]);
    assert.equal(exported.code, 0, exported.stderr);
    const doc = await parseS3XML(exported.stdout);
    assert.deepEqual(
      doc.resources.filter((r) => r.name === 'org_organisation').map((r) => r.uuid),
      ['urn:uuid:cli-org-1', 'urn:uuid:cli-org-2'],
    );
    assert.equal(doc.resources[0]!.components[0]!.uuid, 'urn:uuid:cli-office-1');

    const since = await sluice(['export', 'org_organisation', '--data', dir, '--msince', '2024-03-06T00:00:00', '-o', path.join(dir, 'since.xml')]);
    assert.equal(since.code, 0, since.stderr);
    const sinceDoc = await parseS3XML(await readFile(path.join(dir, 'since.xml'), 'utf8'));
    assert.deepEqual(sinceDoc.resources.filter((r) => r.name === 'org_organisation').map((r) => r.uuid), ['urn:uuid:cli-org-2']);
  });

  it('refuses a malformed msince with a data error exit code', async () => {
    const res = await sluice(['export', 'org_organisation', '--data', dir, '--msince', '2024-03-06']);
    assert.equal(res.code, EXIT.DATA);
    assert.match(res.stderr, /BAD_MSINCE/);
  });

  it('exits with the I/O code when the file does not exist', async () => {
    const res = await sluiceInProcess(['import', path.join(dir, 'missing.xml'), '--data', dir]);
    assert.equal(res.code, EXIT.IO);
  });

  it('refuses every hostile document with a non-zero exit and changes nothing', async () => {
    const store = await openSqliteStore({ file: path.join(dir, 'sluice.db') });
    const seqBefore = await store.lastSeq();
    await store.close();
    const failures: string[] = [];
    for (const c of hostileCases()) {
      const file = path.join(dir, `hostile-${c.name}`);
      await writeFile(file, c.bytes());
      const res = await sluiceInProcess(['import', file, '--data', dir, '--format', 's3xml']);
      if (res.code !== EXIT.DATA || !res.stderr.includes(c.code)) failures.push(`${c.name}: exit ${res.code}, ${res.stderr.trim()}`);
      await rm(file);
    }
    assert.deepEqual(failures, []);
    const after_ = await openSqliteStore({ file: path.join(dir, 'sluice.db') });
    assert.equal(await after_.lastSeq(), seqBefore);
    assert.equal((await after_.queryRecords({ resource: 'org_organisation', includeDeleted: true })).length, 2);
    await after_.close();
  });
});
