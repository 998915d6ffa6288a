import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import { isSluiceError } from '../../src/errors.js';
import { createFormatConverter, type StylesheetRunner } from '../../src/formats/convert.js';
import { generateMappingXslt } from '../../src/formats/mapping-generator.js';
import { validateMappingDocument } from '../../src/formats/mapping-document.js';
import { readXlsx } from '../../src/formats/xlsx.js';
import { createXsdValidator } from '../../src/formats/xsd.js';
import { runXslt, STANDARDS_DIR } from '../support/run-xslt.js';
import { childText, descendants, parseXml, s3Field, s3Resources, type XmlElement } from '../support/xml-tree.js';

/** The test stand-in for the transform engine, with the engine's request/result shape. */
const runner: StylesheetRunner = {
  transform: ({ stylesheet, input, params }) => runXslt(stylesheet, input, params ?? {}),
};
const converter = createFormatConverter({ runner, validator: createXsdValidator({ standardsDir: STANDARDS_DIR }) });
const standard = (...parts: string[]): Promise<string> => readFile(path.join(STANDARDS_DIR, ...parts), 'utf8');

describe('format conversion end to end', () => {
  it('imports a CAP sample through the XSD gate and the import stylesheet', async () => {
    const result = await converter.importDocument('cap', await standard('cap', 'samples', 'iceland-met-two-languages-polygons.xml'));
    assert.equal(s3Resources(parseXml(result.s3xml), 'cap_info').length, 2);
    assert.deepEqual(result.messages, []);
  });

  it('rejects the invalid DE sample before any stylesheet runs, with the schema’s reasons', async () => {
    const xml = await standard('de', 'samples', 'negative-de10-bushfire-embedded-cap-invalid.xml');
    await assert.rejects(converter.importDocument('de', xml), (error: unknown) =>
      isSluiceError(error) && error.code === 'XSD_INVALID' && /Foobar/.test(JSON.stringify(error.details.errors)),
    );
  });

  it('exports CAP with the send-side XSD gate and the CAP media type', async () => {
    const s3xml = (await converter.importDocument('cap', await standard('cap', 'samples', 'ec-canada-update-references-en-fr.xml'))).s3xml;
    const result = await converter.exportDocument('cap', s3xml);
    assert.equal(result.mediaType, 'application/cap+xml');
    assert.equal(childText(parseXml(result.body as string), 'msgType'), 'Update');
  });

  it('imports a peer’s CSV with its instance mapping and exports it back as a workbook', async () => {
    const mapping = validateMappingDocument({
      instance: 'ngo-sheet',
      resources: [{ local: 'org_organisation', fields: [{ local: 'country', inbound: { values: { Nepal: 'NP' } }, outbound: { values: { NP: 'Nepal' } } }] }],
    });
    const text = generateMappingXslt(mapping);
    const csv = new TextEncoder().encode('Organisation,Country\nNepal Red Cross,Nepal\nKenya Red Cross,Kenya\n');
    const imported = await converter.importDocument('csv', csv, { resource: 'org_organisation', mapping: { text } });
    const organisations = s3Resources(parseXml(imported.s3xml), 'org_organisation');
    assert.deepEqual(organisations.map((o: XmlElement) => s3Field(o, 'country')), ['NP', 'Kenya']);
    assert.deepEqual(imported.mapping.counts.map((c) => [c.field, c.value, c.action]), [['country', 'Kenya', 'passed']]);
    const exported = await converter.exportDocument('xlsx', imported.s3xml, { resource: 'org_organisation', mapping: { text } });
    const table = await readXlsx(exported.body as Uint8Array, { tableName: 'org_organisation' });
    assert.deepEqual(table.rows.map((r) => r[table.columns.indexOf('Country')]), ['Nepal', 'Kenya']);
  });

  it('exports any table as EDXL-DE, carrying CAP for alerts, HAVE for hospitals and S3XML otherwise', async () => {
    const alerts = (await converter.importDocument('cap', await standard('cap', 'samples', 'ec-canada-update-references-en-fr.xml'))).s3xml;
    const capEnvelope = parseXml((await converter.exportDocument('de', alerts, { resource: 'cap_alert' })).body as string);
    const embedded = descendants(capEnvelope, 'embeddedXMLContent').map((e) => e.children.map((c) => `{${c.namespace}}${c.name}`));
    assert.deepEqual(embedded, [['{urn:oasis:names:tc:emergency:cap:1.2}alert']]);
    assert.equal(childText(capEnvelope, 'distributionType'), 'Update');

    const hospitals = (await converter.importDocument('de', await standard('have', 'samples', 'uicds-de10-have10-two-hospitals.xml'))).s3xml;
    const haveResult = await converter.exportDocument('de', hospitals, { resource: 'med_hospital', params: { utcnow: '2024-05-01T10:00:00' } });
    assert.equal(haveResult.mediaType, 'application/edxl-de+xml');
    assert.match(haveResult.body as string, /<(\w+:)?HospitalStatus /);

    const offices = '<s3xml><resource name="org_office" uuid="urn:uuid:o-1"><data field="name">Annex</data></resource></s3xml>';
    const s3Envelope = (await converter.exportDocument('de', offices, { resource: 'org_office', params: { utcnow: '2024-05-01T10:00:00' } })).body as string;
    assert.match(s3Envelope, /s3xmlPayload[^>]*resources="org_office"/);
    // The converter's own gate passed; check again against the official schemas directly.
    assert.deepEqual((await createXsdValidator({ standardsDir: STANDARDS_DIR }).validate(s3Envelope, 'de')).errors, []);
  });

  it('stops an export that would not validate instead of sending it', async () => {
    const failing: StylesheetRunner = { transform: async () => ({ output: '<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2"/>', messages: [] }) };
    const strict = createFormatConverter({ runner: failing, validator: createXsdValidator({ standardsDir: STANDARDS_DIR }) });
    await assert.rejects(strict.exportDocument('cap', '<s3xml/>'), (error: unknown) => isSluiceError(error) && error.code === 'XSD_INVALID');
  });
});
