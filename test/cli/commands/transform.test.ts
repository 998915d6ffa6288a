import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { FIXTURES, scratchDir } from '../../transform/helpers.js';

const exec = promisify(execFile);
const DRIVER = fileURLToPath(new URL('../../fixtures/xslt/cli-driver.ts', import.meta.url));

interface Outcome {
  code: number;
  stdout: string;
  stderr: string;
}

describe('sluice transform', () => {
  let dir: string;
  let input: string;
  let sluice: (args: string[], stylesheets?: string) => Promise<Outcome>;

  before(async () => {
    dir = await scratchDir('cli-transform');
    input = path.join(dir, 'in.xml');
    await writeFile(
      input,
      '<?xml version="1.0"?>\n<s3xml>\n' +
        Array.from({ length: 9 }, (_, i) => `<resource name="org_organisation" uuid="u${i}"><data field="name">n${i}</data></resource>\n`).join('') +
        '</s3xml>\n',
    );
    sluice = async (args, stylesheets = FIXTURES) => {
      try {
        const { stdout, stderr } = await exec(process.execPath, ['--import', 'tsx', DRIVER, 'transform', ...args], {
          env: { ...process.env, SLUICE_DATA: dir, SLUICE_STYLESHEETS: stylesheets },
        });
        return { code: 0, stdout, stderr };
      } catch (error) {
        const failure = error as { code: number; stdout: string; stderr: string };
        return { code: failure.code, stdout: failure.stdout, stderr: failure.stderr };
      }
    };
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('writes the result of --stylesheet to stdout with parameters and exits 0', async () => {
    const outcome = await sluice(['--stylesheet', path.join(FIXTURES, 'engine/behaviours.xsl'), '--param', 'domain=eden.example.org', input]);
    assert.equal(outcome.code, 0, outcome.stderr);
    assert.equal(outcome.stdout, '<?xml version="1.0" encoding="UTF-8"?><out domain="eden.example.org" resources="9"/>\n', 'on stdout the output ends its line');
    assert.match(outcome.stderr, /xsl:message: processing 9 resources/);
  });

  it('transforms in batches with --chunked and writes -o FILE, equal to the whole-document result', async () => {
    const output = path.join(dir, 'out.xml');
    const stylesheet = path.join(FIXTURES, 'chunking/stamp.xsl');
    const chunked = await sluice(['--stylesheet', stylesheet, '--chunked', '--batch', '2', '-o', output, input]);
    assert.equal(chunked.code, 0, chunked.stderr);
    const whole = await sluice(['--stylesheet', stylesheet, input]);
    assert.equal(`${await readFile(output, 'utf8')}\n`, whole.stdout, 'the file keeps the bytes; stdout adds the final newline');
    assert.equal((whole.stdout.match(/checked="yes"/g) ?? []).length, 9);
  });

  it('runs a format\'s stylesheet with --format and --direction', async () => {
    const outcome = await sluice(['--format', 'report', '--direction', 'export', '--param', 'domain=x.org', path.join(FIXTURES, 'eden-compat/input.xml')], path.join(FIXTURES, 'eden-compat/formats'));
    assert.equal(outcome.code, 0, outcome.stderr);
    assert.match(outcome.stdout, /^report for http:\/\/localhost \(full\)\n/);
    assert.match(outcome.stdout, /-- exported from x\.org\n$/);
  });

  it('exits non-zero with "CODE: message" on stderr when the stylesheet does not compile', async () => {
    const outcome = await sluice(['--stylesheet', path.join(FIXTURES, 'engine/broken.xsl'), input]);
    assert.notEqual(outcome.code, 0);
    assert.match(outcome.stderr, /XSLT_COMPILE_ERROR: .*broken\.xsl:6: /);
    assert.equal(outcome.stdout, '');
  });

  it('exits 74 with FILE_NOT_FOUND for a missing input and 64 for bad arguments', async () => {
    const missing = await sluice(['--stylesheet', path.join(FIXTURES, 'engine/csv-out.xsl'), path.join(dir, 'nope.xml')]);
    assert.equal(missing.code, 74, 'a file that cannot be read');
    assert.match(missing.stderr, /FILE_NOT_FOUND: .*nope\.xml does not exist\n  what to do: /);
    const noStylesheet = await sluice([input]);
    assert.equal(noStylesheet.code, 64, 'wrong usage');
    assert.match(noStylesheet.stderr, /BAD_ARGUMENTS: no stylesheet given/);
  });
});
