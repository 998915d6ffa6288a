import assert from 'node:assert/strict';
import { copyFile, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Command } from 'commander';
import { registerMappingCommand } from '../../../src/cli/commands/mapping.js';
import { describeFailure } from '../../../src/cli/failure-report.js';
import { isSluiceError } from '../../../src/errors.js';
import { generateMappingXslt } from '../../../src/formats/mapping-generator.js';
import { validateMappingDocument } from '../../../src/formats/mapping-document.js';

const EXAMPLE = new URL('../../fixtures/formats/mappings/eden-kathmandu.json', import.meta.url);

async function sluice(args: string[]): Promise<{ stdout: string; stderr: string; error?: unknown }> {
  const output = { stdout: '', stderr: '' };
  const program = new Command('sluice').exitOverride();
  registerMappingCommand(program, { stdout: (t) => (output.stdout += t), stderr: (t) => (output.stderr += t) });
  try {
    await program.parseAsync(['node', 'sluice', ...args]);
    return output;
  } catch (error) {
    // What bin.ts prints for a failed command (main.ts's one report).
    return { ...output, stderr: output.stderr + describeFailure(error), error };
  }
}

describe('sluice mapping compile', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'sluice-mappings-'));
    await copyFile(EXAMPLE, path.join(dir, 'eden-kathmandu.json'));
    await writeFile(path.join(dir, 'schema.json'), '{}');
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('writes <instance>.xsl from <instance>.json with the generator output', async () => {
    const result = await sluice(['mapping', 'compile', 'eden-kathmandu', '--dir', dir]);
    assert.equal(result.error, undefined);
    const xslPath = path.join(dir, 'eden-kathmandu.xsl');
    assert.equal(result.stdout, `compiled ${xslPath}\n`);
    const document = validateMappingDocument(JSON.parse(await readFile(EXAMPLE, 'utf8')));
    assert.equal(await readFile(xslPath, 'utf8'), generateMappingXslt(document));
  });

  it('leaves an up-to-date stylesheet untouched and compiles every instance when none is named', async () => {
    const xslPath = path.join(dir, 'eden-kathmandu.xsl');
    const before = (await stat(xslPath)).mtimeMs;
    const result = await sluice(['mapping', 'compile', '--dir', dir]);
    assert.equal(result.stdout, `unchanged ${xslPath}\n`);
    assert.equal((await stat(xslPath)).mtimeMs, before);
  });

  it('lists every problem of an invalid document once, with the values an enum allows, and fails with MAPPING_INVALID', async () => {
    await writeFile(path.join(dir, 'broken.json'), JSON.stringify({ instance: 'broken', resources: [{ local: 'Hospital', fields: [{ local: 'x', inbound: { unmapped: { policy: 'sometimes' } } }] }] }));
    const result = await sluice(['mapping', 'compile', 'broken', '--dir', dir]);
    assert.ok(isSluiceError(result.error) && result.error.code === 'MAPPING_INVALID');
    assert.match(result.stderr, /^sluice: MAPPING_INVALID: .*broken\.json is not valid/);
    assert.equal(result.stderr.match(/MAPPING_INVALID/g)?.length, 1, result.stderr);
    assert.equal(result.stderr.match(/what to do:/g)?.length, 1, result.stderr);
    assert.doesNotMatch(result.stderr, /fix:/);
    assert.match(result.stderr, /\/resources\/0\/local must match pattern/);
    assert.match(result.stderr, /\/resources\/0\/fields\/0\/inbound\/unmapped\/policy must be equal to one of the allowed values: "pass", "default", "drop", "reject"/);
  });

  it('names the line and column of a JSON syntax error', async () => {
    await writeFile(path.join(dir, 'syntax.json'), '{\n  "instance": "syntax",\n  "resources": [,]\n}\n');
    const result = await sluice(['mapping', 'compile', 'syntax', '--dir', dir]);
    assert.ok(isSluiceError(result.error) && result.error.code === 'MAPPING_INVALID');
    assert.match(result.stderr, /syntax\.json is not JSON: line 3, column 17: /);
    assert.match(result.stderr, /what to do: Correct the JSON syntax at line 3, column 17 of /);
  });

  it('refuses a document whose instance is not its file name', async () => {
    await writeFile(path.join(dir, 'other.json'), JSON.stringify({ instance: 'someone-else', resources: [] }));
    const result = await sluice(['mapping', 'compile', 'other', '--dir', dir]);
    assert.ok(isSluiceError(result.error) && result.error.code === 'MAPPING_INVALID');
    assert.match(result.stderr, /\/instance must be "other"/);
  });

  it('names a missing instance with a stable code', async () => {
    const result = await sluice(['mapping', 'compile', 'nobody', '--dir', dir]);
    assert.ok(isSluiceError(result.error) && result.error.code === 'MAPPING_NOT_FOUND');
  });
});
