import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, beforeEach, describe, it } from 'node:test';
import { MappingWorkspace } from '../../src/console/mapping-workspace.js';
import { asSluiceError } from '../../src/errors.js';

const clock = { now: () => new Date('2024-05-01T08:00:00Z') };

const MAPPING = {
  instance: 'eden-gorkha',
  resources: [{ local: 'med_hospital', fields: [{ local: 'status', inbound: { values: { Functioning: '1' } } }, { local: 'phone_exchange', remote: 'phone' }] }],
};

describe('the mapping workspace', () => {
  const dirs: string[] = [];
  let dir: string;
  let prepared: string[];
  let workspace: MappingWorkspace;

  beforeEach(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'sluice-workspace-'));
    dirs.push(dir);
    prepared = [];
    workspace = new MappingWorkspace(dir, clock, {
      prepare: async (stylesheet) => {
        prepared.push('text' in stylesheet ? stylesheet.text : stylesheet.path);
        return { mediaType: 'application/xml', method: 'xml', trusted: false, warnings: [], globalParams: ['direction'] };
      },
    });
  });

  after(async () => {
    for (const entry of dirs) await rm(entry, { recursive: true, force: true });
  });

  it('saves a valid mapping: compiles its stylesheet, writes the JSON and the .xsl, keeps a version', async () => {
    const saved = await workspace.save('eden-gorkha', MAPPING, 'ines');
    assert.deepEqual(saved, { instance: 'eden-gorkha', version: 1, xslChanged: true, warnings: [] });
    assert.deepEqual(JSON.parse(await readFile(path.join(dir, 'eden-gorkha.json'), 'utf8')), MAPPING);
    const xsl = await readFile(path.join(dir, 'eden-gorkha.xsl'), 'utf8');
    assert.equal(prepared.length, 1);
    assert.equal(prepared[0], xsl, 'the stylesheet written is the one that was compiled');
    assert.deepEqual(await workspace.versions('eden-gorkha'), [{ version: 1, saved_at: '2024-05-01T08:00:00', saved_by: 'ines' }]);
  });

  it('refuses an invalid mapping with every problem and writes nothing', async () => {
    const broken = { instance: 'eden-gorkha', resources: [{ local: 'Not A Table', fields: [{ local: 'x', inbound: { unmapped: { policy: 'default' } } }] }] };
    await assert.rejects(workspace.save('eden-gorkha', broken, 'ines'), (error: unknown) => {
      const failure = asSluiceError(error);
      assert.equal(failure.code, 'MAPPING_INVALID');
      assert.equal(failure.status, 422);
      const problems = failure.details['problems'] as { path: string }[];
      assert.ok(problems.some((problem) => problem.path === '/resources/0/local'));
      assert.ok(problems.some((problem) => problem.path.startsWith('/resources/0/fields/0/inbound/unmapped')));
      return true;
    });
    assert.deepEqual(await readdir(dir), []);
    assert.equal(prepared.length, 0);
  });

  it('refuses a document that names another instance', () => {
    const { problems } = workspace.check('eden-gorkha', { ...MAPPING, instance: 'someone-else' });
    assert.deepEqual(problems, [{ path: '/instance', message: 'must be "eden-gorkha", the mapping\'s name' }]);
  });

  it('keeps a hand-written mapping as version 1 before the first save over it', async () => {
    await writeFile(path.join(dir, 'eden-gorkha.json'), JSON.stringify({ instance: 'eden-gorkha', resources: [] }));
    const saved = await workspace.save('eden-gorkha', MAPPING, 'ines');
    assert.equal(saved.version, 2);
    const first = await workspace.version('eden-gorkha', 1);
    assert.deepEqual(first.document, { instance: 'eden-gorkha', resources: [] });
    assert.equal(first.saved_by, 'mappings folder');
  });

  it('goes back to an earlier version by saving it again as a new one', async () => {
    await workspace.save('eden-gorkha', { instance: 'eden-gorkha', resources: [] }, 'ines');
    await workspace.save('eden-gorkha', MAPPING, 'ines');
    const reverted = await workspace.revert('eden-gorkha', 1, 'ana');
    assert.equal(reverted.version, 3);
    assert.deepEqual(await workspace.current('eden-gorkha'), { instance: 'eden-gorkha', resources: [] });
    const versions = await workspace.versions('eden-gorkha');
    assert.deepEqual(versions.map((version) => [version.version, version.saved_by, version.note]), [
      [1, 'ines', undefined],
      [2, 'ines', undefined],
      [3, 'ana', 'back to version 1'],
    ]);
    const summaries = await workspace.summaries();
    assert.deepEqual(summaries.map((summary) => [summary.instance, summary.versions, summary.compiled]), [['eden-gorkha', 3, true]]);
  });

  it('refuses instance names that could leave the mappings folder', async () => {
    await assert.rejects(workspace.save('../etc', MAPPING, 'ines'), /not a valid instance name/);
    await assert.rejects(workspace.versions('a/../../b'), /not a valid instance name/);
  });
});
