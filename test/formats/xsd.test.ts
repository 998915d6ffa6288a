import assert from 'node:assert/strict';
import { readFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import { isSluiceError } from '../../src/errors.js';
import { assertValid, createXsdValidator, parseXmllintOutput, validateXml, type SchemaName } from '../../src/formats/xsd.js';
import { STANDARDS_DIR } from '../support/run-xslt.js';

const validator = createXsdValidator({ standardsDir: STANDARDS_DIR });
const sample = (...parts: string[]): Promise<string> => readFile(path.join(STANDARDS_DIR, ...parts), 'utf8');

describe('XSD validation with xmllint-wasm', () => {
  it('accepts all seven real CAP samples against the CAP 1.2 schema in one run', async () => {
    const dir = path.join(STANDARDS_DIR, 'cap', 'samples');
    const names = (await readdir(dir)).filter((n) => n.endsWith('.xml'));
    const results = await validator.validateMany(await Promise.all(names.map((n) => sample('cap', 'samples', n))), 'cap');
    assert.equal(results.length, 7);
    for (const [i, result] of results.entries()) assert.deepEqual(result, { valid: true, errors: [] }, names[i]);
  });

  it('accepts the DE envelope carrying HAVE through the driver schema', async () => {
    const result = await validator.validate(await sample('have', 'samples', 'uicds-de10-have10-two-hospitals.xml'), 'de');
    assert.deepEqual(result, { valid: true, errors: [] });
  });

  it('rejects the invalid DE sample and names both broken embedded alerts', async () => {
    const xml = await sample('de', 'samples', 'negative-de10-bushfire-embedded-cap-invalid.xml');
    const result = await validator.validate(xml, 'de');
    assert.equal(result.valid, false);
    assert.equal(result.errors.length, 2);
    assert.match(result.errors[0]?.message ?? '', /alert': Missing child element\(s\)\. Expected is .*identifier/);
    assert.equal(result.errors[1]?.line, 115);
    assert.match(result.errors[1]?.message ?? '', /'Foobar' is not an element of the set/);
  });

  it('reports the line of an element that breaks the CAP schema', async () => {
    const xml = (await sample('cap', 'samples', 'oasis-cap12-example3-earthquake-update-circle.xml')).replace(
      '<sent>2003-06-11T20:56:00-07:00</sent>',
      '<sent>2003-06-11T20:56:00Z</sent>',
    );
    const result = await validateXml(xml, 'cap', { standardsDir: STANDARDS_DIR });
    assert.equal(result.valid, false);
    assert.equal(result.errors[0]?.line, 5);
    assert.match(result.errors[0]?.message ?? '', /sent/);
  });

  it('treats a document that is not well-formed as invalid', async () => {
    const result = await validator.validate('<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2"><identifier>', 'cap');
    assert.equal(result.valid, false);
    assert.ok(result.errors.length > 0);
  });

  it('refuses a DOCTYPE before running the validator', async () => {
    const result = await validator.validate('<?xml version="1.0"?>\n<!DOCTYPE a [<!ENTITY x "y">]><a>&x;</a>', 'cap');
    assert.deepEqual(result, {
      valid: false,
      errors: [{ line: 2, message: 'A DOCTYPE or ENTITY declaration is not allowed' }],
    });
  });

  it('fails with a stable code when the standards directory holds no schemas', async () => {
    const broken = createXsdValidator({ standardsDir: path.join(STANDARDS_DIR, 'no-such-folder') });
    await assert.rejects(broken.validate('<a/>', 'cap'), (error: unknown) => isSluiceError(error) && error.code === 'XSD_SCHEMAS_MISSING');
  });

  it('refuses an unknown schema name', async () => {
    await assert.rejects(validator.validate('<a/>', 'rss' as SchemaName), (error: unknown) => isSluiceError(error) && error.code === 'XSD_UNKNOWN_SCHEMA');
  });

  it('turns an invalid result into an XSD_INVALID error that carries every error', () => {
    assert.throws(
      () => assertValid({ valid: false, errors: [{ line: 3, message: 'bad urgency' }, { message: 'second' }] }, 'The CAP export'),
      (error: unknown) =>
        isSluiceError(error) &&
        error.code === 'XSD_INVALID' &&
        error.message === 'The CAP export does not validate: bad urgency (line 3)' &&
        (error.details.errors as unknown[]).length === 2,
    );
    assert.doesNotThrow(() => assertValid({ valid: true, errors: [] }, 'ok'));
  });

  it('reads xmllint output per document, ignoring parser context lines', () => {
    const outcomes = parseXmllintOutput(
      [
        'document-1.xml:3: parser error : Opening and ending tag mismatch',
        '<a></b>',
        '      ^',
        'document-1.xml fails to validate',
        'document-2.xml validates',
        '',
      ].join('\n'),
    );
    assert.deepEqual(outcomes.get('document-1.xml'), {
      validates: false,
      errors: [{ line: 3, message: 'parser error : Opening and ending tag mismatch' }],
    });
    assert.deepEqual(outcomes.get('document-2.xml'), { validates: true, errors: [] });
  });
});
