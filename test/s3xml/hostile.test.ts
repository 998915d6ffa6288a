import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { isSluiceError } from '../../src/errors.js';
import { parseS3XML, readS3XML, type ParseOptions } from '../../src/s3xml/parse.js';
import { generators } from '../fixtures/hostile/generators.js';

const folder = new URL('../fixtures/hostile/', import.meta.url);

interface Manifest {
  files: Record<string, string>;
  generated: Record<string, { generator: string; code: string; options?: ParseOptions }>;
}

const manifest = JSON.parse(readFileSync(new URL('manifest.json', folder), 'utf8')) as Manifest;

/** Drains the reader and returns what it threw; a hostile input that parses is a test failure. */
async function refusal(source: Iterable<Uint8Array | string>, options?: ParseOptions): Promise<unknown> {
  try {
    for await (const event of readS3XML(source, options)) void event;
  } catch (error) {
    return error;
  }
  assert.fail('the input was accepted');
}

function assertRefusedWith(error: unknown, code: string): void {
  assert.ok(isSluiceError(error), `expected a SluiceError, got ${String(error)}`);
  assert.equal(error.code, code, error.message);
  assert.equal(error.status, 400);
  assert.ok(error.message.length > 0);
}

describe('the hostile corpus', () => {
  it('has at least 35 committed files and names an expected code for each', () => {
    assert.ok(Object.keys(manifest.files).length >= 35);
    for (const code of [...Object.values(manifest.files), ...Object.values(manifest.generated).map((entry) => entry.code)]) {
      assert.match(code, /^[A-Z0-9_]+$/);
    }
  });

  for (const [file, code] of Object.entries(manifest.files)) {
    it(`refuses ${file} with ${code}`, async () => {
      const bytes = readFileSync(new URL(file, folder));
      assertRefusedWith(await refusal([bytes]), code);
    });
  }

  for (const [name, entry] of Object.entries(manifest.generated)) {
    it(`refuses the generated ${name} with ${entry.code}, quickly`, async () => {
      const generate = generators[entry.generator];
      assert.ok(generate, `no generator named ${entry.generator}`);
      const started = performance.now();
      assertRefusedWith(await refusal(generate(), entry.options), entry.code);
      // Generous: this catches hangs and quadratic work, not slow machines.
      assert.ok(performance.now() - started < 20_000, `took ${Math.round(performance.now() - started)} ms`);
    });
  }

  it('refuses every committed file the same way when it arrives one byte at a time', async () => {
    for (const [file, code] of Object.entries(manifest.files)) {
      const bytes = readFileSync(new URL(file, folder));
      if (bytes.length > 4096) continue;
      const oneByteChunks = Array.from(bytes, (byte) => Uint8Array.of(byte));
      const error = await refusal(oneByteChunks);
      assert.ok(isSluiceError(error), file);
      assert.equal(error.code, code, `${file}: ${error.message}`);
    }
  });

  it('refuses 10,000-deep nesting within a fraction of a second', async () => {
    const deep = `<s3xml>${'<resource name="x">'.repeat(10_000)}${'</resource>'.repeat(10_000)}</s3xml>`;
    const started = performance.now();
    await assert.rejects(parseS3XML(deep), { code: 'XML_LIMIT_EXCEEDED' });
    assert.ok(performance.now() - started < 1000, `took ${Math.round(performance.now() - started)} ms`);
  });

  it('reports where a malformed document breaks', async () => {
    const error = await refusal(['<s3xml>\n  <resource name="org_office">\n    <data field="name">x</reference>\n']);
    assertRefusedWith(error, 'XML_MALFORMED');
    assert.ok(isSluiceError(error));
    assert.equal(error.details.line, 3);
    assert.equal(typeof error.details.column, 'number');
  });

  it('reports the byte offset of invalid UTF-8', async () => {
    const error = await refusal([Buffer.from('<s3xml>'), Buffer.from([0x3c, 0x61, 0xff])]);
    assertRefusedWith(error, 'XML_BAD_ENCODING');
    assert.ok(isSluiceError(error));
    assert.equal(error.details.byteOffset, 9);
  });

  it('refuses a declaration split across chunks exactly as a whole one', async () => {
    const error = await refusal(['<s3xml><!DOC', 'TYPE x>']);
    assertRefusedWith(error, 'XML_DOCTYPE_FORBIDDEN');
  });

  it('accepts declaration keywords inside comments, CDATA and processing instructions, however the input is cut', async () => {
    const xml = '<?xml version="1.0"?><?note <!DOCTYPE in a PI ?><!-- <!ENTITY in a comment -->'
      + '<s3xml><resource name="a"><data field="d"><![CDATA[<!DOCTYPE x [<!ENTITY y "z">]>]]></data>'
      + '<!--<!ATTLIST--><?pi <!ELEMENT?></resource></s3xml>';
    for (let cut = 0; cut <= xml.length; cut += 1) {
      const events = [];
      for await (const event of readS3XML([xml.slice(0, cut), xml.slice(cut)])) events.push(event);
      const resource = events[1]?.type === 'resource' ? events[1].resource : undefined;
      assert.equal(resource?.data[0]?.text, '<!DOCTYPE x [<!ENTITY y "z">]>', `cut at ${cut}`);
    }
  });

  it('honours a smaller attribute limit than the default', async () => {
    const xml = `<s3xml><resource name="org_office" url="${'u'.repeat(2000)}"/></s3xml>`;
    await assert.rejects(parseS3XML(xml, { maxAttributeLength: 1000 }), { code: 'XML_LIMIT_EXCEEDED' });
    const accepted = await parseS3XML(xml, { maxAttributeLength: 2000 });
    assert.equal(accepted.resources[0]?.attributes.url?.length, 2000);
  });

  it('honours a smaller depth limit, counting the root as one level', async () => {
    const xml = '<s3xml><resource name="a"><resource name="b"><data field="x"/></resource></resource></s3xml>';
    await assert.rejects(parseS3XML(xml, { maxDepth: 3 }), { code: 'XML_LIMIT_EXCEEDED' });
    assert.equal((await parseS3XML(xml, { maxDepth: 4 })).resources.length, 1);
  });
});
