import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import { isSluiceError } from '../../src/errors.js';
import { getFormat } from '../../src/formats/registry.js';
import { checkFormatDocument, rootElementName, schemaForDocument } from '../../src/formats/validate.js';
import { createXsdValidator } from '../../src/formats/xsd.js';
import { runXslt, STANDARDS_DIR } from '../support/run-xslt.js';
import { childText, children, descendants, parseXml, s3Resources } from '../support/xml-tree.js';

const validator = createXsdValidator({ standardsDir: STANDARDS_DIR });
const standard = (...parts: string[]): Promise<string> => readFile(path.join(STANDARDS_DIR, ...parts), 'utf8');

describe('EDXL-DE 1.0 wrap and unwrap', () => {
  it('unwraps the seven CAP alerts of the bushfire distribution through the CAP import', async () => {
    const { output, messages } = await runXslt('de/import.xsl', await standard('de', 'samples', 'de10-bushfire-7-cap-alerts.xml'));
    assert.deepEqual(messages, []);
    const root = parseXml(output);
    assert.equal(s3Resources(root, 'cap_alert').length, 7);
    assert.ok(s3Resources(root, 'cap_info').length >= 7);
  });

  it('unwraps the HAVE payload of a distribution through the HAVE import', async () => {
    const { output } = await runXslt('de/import.xsl', await standard('have', 'samples', 'uicds-de10-have10-two-hospitals.xml'));
    const root = parseXml(output);
    assert.equal(s3Resources(root, 'med_hospital').length, 2);
    assert.equal(s3Resources(root, 'gis_location').length, 2);
  });

  it('reports payloads it cannot import instead of dropping them silently', async () => {
    const xml = `<de:EDXLDistribution xmlns:de="urn:oasis:names:tc:emergency:EDXL:DE:1.0">
      <de:distributionID>x</de:distributionID><de:senderID>a@b</de:senderID>
      <de:dateTimeSent>2024-05-01T10:00:00-00:00</de:dateTimeSent><de:distributionStatus>Test</de:distributionStatus>
      <de:distributionType>Report</de:distributionType><de:combinedConfidentiality>U</de:combinedConfidentiality>
      <de:contentObject><de:xmlContent><de:embeddedXMLContent><r:report xmlns:r="urn:example:report"/></de:embeddedXMLContent></de:xmlContent></de:contentObject>
      <de:contentObject><de:nonXMLContent><de:mimeType>image/png</de:mimeType></de:nonXMLContent></de:contentObject>
    </de:EDXLDistribution>`;
    const { output, messages } = await runXslt('de/import.xsl', xml);
    assert.deepEqual(messages, [
      'sluice:warning de payload {urn:example:report}report has no import and was skipped',
      'sluice:warning de nonXMLContent (image/png) was skipped',
    ]);
    assert.equal(s3Resources(parseXml(output)).length, 0);
  });

  it('rejects the invalid DE sample with the reasons from the embedded CAP schema', async () => {
    const xml = await standard('de', 'samples', 'negative-de10-bushfire-embedded-cap-invalid.xml');
    await assert.rejects(checkFormatDocument(getFormat('de'), xml, 'inbound', validator), (error: unknown) => {
      assert.ok(isSluiceError(error));
      assert.equal(error.code, 'XSD_INVALID');
      assert.equal(error.status, 422);
      const errors = error.details.errors as { line?: number; message: string }[];
      assert.ok(errors.some((e) => /Missing child element.*identifier/.test(e.message)));
      assert.ok(errors.some((e) => e.line === 115 && /Foobar/.test(e.message)));
      return true;
    });
  });

  it('accepts the valid DE samples at the inbound gate', async () => {
    for (const file of [
      ['de', 'samples', 'de10-bushfire-7-cap-alerts.xml'],
      ['have', 'samples', 'uicds-de10-have10-two-hospitals.xml'],
    ]) {
      await checkFormatDocument(getFormat('de'), await standard(...file), 'inbound', validator);
    }
  });

  it('wraps a CAP export in a DE envelope whose fields come from the alert', async () => {
    const cap = await standard('cap', 'samples', 'oasis-cap12-example3-earthquake-update-circle.xml');
    const { output } = await runXslt('de/export.xsl', cap, { distribution_id: 'gw-0001' });
    const envelope = parseXml(output);
    assert.equal(childText(envelope, 'distributionID'), 'gw-0001');
    assert.equal(childText(envelope, 'senderID'), 'trinet@caltech.edu');
    assert.equal(childText(envelope, 'dateTimeSent'), '2003-06-12T03:56:00-00:00');
    assert.equal(childText(envelope, 'distributionStatus'), 'Actual');
    assert.equal(childText(envelope, 'distributionType'), 'Update');
    assert.equal(childText(envelope, 'combinedConfidentiality'), 'UNCLASSIFIED AND NOT SENSITIVE');
    assert.equal(descendants(envelope, 'alert').length, 1);
    assert.equal(schemaForDocument(output), 'de');
    await checkFormatDocument(getFormat('de'), output, 'outbound', validator);
  });

  it('puts each payload of a container in its own contentObject', async () => {
    const alerts = await Promise.all(
      ['oasis-cap12-example2-thunderstorm-polygon-geocode.xml', 'iceland-met-two-languages-polygons.xml'].map((n) =>
        standard('cap', 'samples', n).then((x) => x.replace(/<\?xml[^>]*\?>/, '')),
      ),
    );
    const { output } = await runXslt('de/export.xsl', `<payloads>${alerts.join('')}</payloads>`, {
      utcnow: '2024-05-01T10:00:00',
      distribution_status: 'Exercise',
      distribution_references: 'old-1,a@b,2024-04-30T10:00:00-00:00',
    });
    const envelope = parseXml(output);
    assert.equal(children(envelope, 'contentObject').length, 2);
    assert.equal(childText(envelope, 'distributionStatus'), 'Exercise');
    assert.equal(childText(envelope, 'distributionReference'), 'old-1,a@b,2024-04-30T10:00:00-00:00');
    assert.deepEqual((await validator.validate(output, 'de')).errors, []);
  });

  it('carries an S3XML export of any table in a namespaced payload that the official DE schema accepts', async () => {
    const s3xml = `<s3xml success="true" results="2" domain="gw.example">
      <resource name="org_office" uuid="urn:uuid:office-1" modified_on="2024-05-01T09:00:00"><data field="name">Field office &amp; store</data>
        <reference field="organisation_id" resource="org_organisation" uuid="urn:uuid:org-1">Red Cross</reference></resource>
      <resource name="org_office" uuid="urn:uuid:office-2"><data field="name">Annex</data><data field="obsolete" value="false">No</data></resource>
      <resource name="org_organisation" uuid="urn:uuid:org-1"><data field="name">Red Cross</data></resource>
    </s3xml>`;
    const { output } = await runXslt('de/export.xsl', s3xml, { utcnow: '2024-05-01T10:00:00', msguid: 'urn:uuid:dist-1', domain: 'gw.example' });
    const envelope = parseXml(output);
    assert.equal(childText(envelope, 'distributionID'), 'urn:uuid:dist-1');
    assert.equal(childText(envelope, 'senderID'), 'sluice@gw.example');
    assert.equal(childText(envelope, 'dateTimeSent'), '2024-05-01T10:00:00-00:00');
    assert.equal(children(envelope, 'contentObject').length, 1);
    assert.match(output, /<sx:s3xmlPayload xmlns:sx="urn:x-sluice:s3xml-payload" resources="org_office org_organisation">/);
    assert.match(childText(children(envelope, 'contentObject')[0]!, 'contentDescription') ?? '', /3 record\(s\) of org_office, org_organisation/);
    assert.deepEqual((await validator.validate(output, 'de')).errors, []);
    await checkFormatDocument(getFormat('de'), output, 'outbound', validator);

    const back = parseXml((await runXslt('de/import.xsl', output)).output);
    assert.deepEqual(s3Resources(back, 'org_office').map((r) => r.attributes['uuid']), ['urn:uuid:office-1', 'urn:uuid:office-2']);
    assert.equal(s3Resources(back, 'org_organisation').length, 1);
    assert.match((await runXslt('de/import.xsl', output)).output, /Field office &amp; store/);
  });

  it('refuses a container whose child is neither namespaced nor S3XML, naming what DE carries', async () => {
    await assert.rejects(runXslt('de/export.xsl', '<payloads><row/></payloads>'), (error: unknown) => {
      assert.ok(String((error as { code?: unknown }).code).endsWith('DE_PAYLOAD_NOT_NAMESPACED'));
      assert.match((error as Error).message, /namespaced XML \(CAP, HAVE\) or an S3XML document; <row> is neither/);
      return true;
    });
  });

  it('passes a distribution through unchanged', async () => {
    const sample = await standard('de', 'samples', 'de10-bushfire-7-cap-alerts.xml');
    const { output } = await runXslt('de/export.xsl', sample);
    const envelope = parseXml(output);
    assert.equal(children(envelope, 'contentObject').length, 7);
    assert.equal(descendants(envelope, 'EDXLDistribution').length, 0, 'not nested in a second envelope');
  });

  it('turns a DE-less HAVE export into a valid distribution, then back into the same hospitals', async () => {
    const imported = (await runXslt('have/import.xsl', await standard('have', 'samples', 'uicds-de10-have10-two-hospitals.xml'))).output;
    const have = (await runXslt('have/export.xsl', imported)).output;
    const de = (await runXslt('de/export.xsl', have, { sender_id: 'hospitals@gw.example', utcnow: '2024-05-01T10:00:00' })).output;
    await checkFormatDocument(getFormat('de'), de, 'outbound', validator);
    const back = parseXml((await runXslt('de/import.xsl', de)).output);
    assert.equal(s3Resources(back, 'med_hospital').length, 2);
  });

  it('names the root of a document without parsing the rest of it', () => {
    assert.equal(rootElementName('<?xml version="1.0"?><!-- c --><a:x xmlns:a="urn:a"><unclosed>'), '{urn:a}x');
    assert.equal(rootElementName('not xml'), undefined);
    assert.equal(schemaForDocument('<s3xml/>'), undefined);
  });

  it('stops a document of the wrong kind at the gate with a stable code', async () => {
    await assert.rejects(checkFormatDocument(getFormat('cap'), '<s3xml/>', 'inbound', validator), (error: unknown) =>
      isSluiceError(error) && error.code === 'XSD_UNEXPECTED_ROOT',
    );
    await checkFormatDocument(getFormat('csv'), '<table/>', 'inbound', validator);
  });
});
