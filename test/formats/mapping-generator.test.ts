import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { describe, it } from 'node:test';
import { isSluiceError } from '../../src/errors.js';
import { mappingProblems, validateMappingDocument, type MappingDocument } from '../../src/formats/mapping-document.js';
import { generateMappingXslt, parseMappingMessages } from '../../src/formats/mapping-generator.js';
import { createXsdValidator } from '../../src/formats/xsd.js';
import { runXslt, STANDARDS_DIR } from '../support/run-xslt.js';
import { descendants, parseXml, s3Field, s3Resources, type XmlElement } from '../support/xml-tree.js';

const GOLDEN_DIR = new URL('../fixtures/formats/mappings/', import.meta.url);

async function mappingDocument(name: string): Promise<MappingDocument> {
  return validateMappingDocument(JSON.parse(await readFile(new URL(`${name}.json`, GOLDEN_DIR), 'utf8')), name);
}

async function applyMapping(document: MappingDocument, s3xml: string, direction: 'inbound' | 'outbound') {
  const run = await runXslt({ text: generateMappingXslt(document) }, s3xml, { direction });
  return { root: parseXml(run.output), output: run.output, report: parseMappingMessages(run.messages) };
}

/** What an Eden 1.1 peer sends: old table names, its own field names and vocabulary. */
const PEER_PUSH = `<s3xml>
  <resource name="hms_hospital" uuid="urn:uuid:h1" modified_on="2024-05-01T06:30:00">
    <data field="name">Bir Hospital</data>
    <data field="facility_type" value="&quot;Field&quot;">Field</data>
    <data field="phone">+977 1 4221119</data>
    <reference field="org_id" resource="org_organisation" uuid="urn:uuid:o1"/>
    <reference field="location_id" resource="gis_location" uuid="urn:uuid:l1" lat="27.7046" lon="85.3131"/>
    <resource name="hms_status" uuid="urn:uuid:s1">
      <data field="facility_status" value="&quot;Damaged&quot;">Damaged</data>
      <data field="ems_status" value="&quot;Diverting&quot;">Diverting</data>
    </resource>
    <resource name="hms_bed_capacity" uuid="urn:uuid:b1">
      <data field="bed_type" value="&quot;ICU&quot;">ICU</data>
      <data field="beds_available" value="3">3</data>
    </resource>
  </resource>
  <resource name="org_organisation" uuid="urn:uuid:o1"><data field="name">NRCS</data></resource>
  <resource name="gis_location" uuid="urn:uuid:l1"><data field="lat" value="27.7046"/><data field="lon" value="85.3131"/></resource>
</s3xml>`;

describe('mapping documents', () => {
  it('accept the example document and describe the problems of broken ones', async () => {
    await mappingDocument('eden-kathmandu');
    assert.deepEqual(mappingProblems({ instance: 'x', resources: [{ local: 'Not A Table' }] }), [
      { path: '/resources/0/local', message: 'must match pattern "^[a-z][a-z0-9]*_[a-z0-9_]+$"' },
    ]);
    const problems = mappingProblems({
      instance: 'x',
      resources: [{ local: 'org_office', fields: [{ local: 'type', inbound: { unmapped: { policy: 'default' } } }] }],
    });
    assert.ok(problems.some((p) => p.path === '/resources/0/fields/0/inbound/unmapped' && /default/.test(p.message)));
  });

  it('refuse a table, field or value mapped twice', () => {
    const problems = mappingProblems({
      instance: 'x',
      resources: [
        { local: 'med_hospital', remote: 'hms_hospital', fields: [{ local: 'a' }, { local: 'b', remote: 'a' }] },
        { local: 'med_clinic', remote: 'hms_hospital' },
        { local: 'org_office', fields: [{ local: 'type', inbound: { values: { 'Field  office': '1', ' Field office': '2' } } }] },
      ],
    });
    assert.deepEqual(problems.map((p) => p.path), ['/resources/1', '/resources/0/fields/1', '/resources/2/fields/0/inbound/values/ Field office']);
  });

  it('throw MAPPING_INVALID with every problem', () => {
    assert.throws(
      () => validateMappingDocument({ instance: '', resources: 'none' }, 'mappings/bad.json'),
      (error: unknown) =>
        isSluiceError(error) &&
        error.code === 'MAPPING_INVALID' &&
        error.message.startsWith('mappings/bad.json is not valid') &&
        (error.details.problems as unknown[]).length === 2,
    );
  });
});

describe('mapping generator', () => {
  it('matches the golden stylesheet byte for byte', async () => {
    const generated = generateMappingXslt(await mappingDocument('eden-kathmandu'));
    const goldenUrl = new URL('eden-kathmandu.xsl', GOLDEN_DIR);
    if (process.env.SLUICE_UPDATE_GOLDEN === '1') await writeFile(goldenUrl, generated);
    assert.equal(generated, await readFile(goldenUrl, 'utf8'));
  });

  it('gives the same bytes for the same content whatever the key order of value maps', async () => {
    const document = await mappingDocument('eden-kathmandu');
    const reordered = JSON.parse(JSON.stringify(document)) as MappingDocument;
    const field = reordered.resources[0]?.fields?.[0];
    assert.ok(field?.inbound?.values);
    field.inbound.values = Object.fromEntries(Object.entries(field.inbound.values).reverse());
    assert.equal(generateMappingXslt(reordered), generateMappingXslt(document));
  });

  it('lands a renamed resource and three mapped values from a peer in Sluice terms', async () => {
    const { root, output, report } = await applyMapping(await mappingDocument('eden-kathmandu'), PEER_PUSH, 'inbound');
    assert.deepEqual(report.unmapped, []);
    const hospital = s3Resources(root, 'med_hospital')[0] as XmlElement;
    assert.equal(hospital.attributes.uuid, 'urn:uuid:h1');
    assert.equal(s3Resources(root, 'hms_hospital').length, 0);
    assert.equal(s3Field(hospital, 'facility_type'), '2');
    assert.equal(s3Field(hospital, 'phone_exchange'), '+977 1 4221119');
    assert.equal(hospital.children.find((c) => c.name === 'reference' && c.attributes.resource === 'org_organisation')?.attributes.field, 'organisation_id');
    const status = s3Resources(hospital, 'med_hospital_status')[0] as XmlElement;
    assert.deepEqual([s3Field(status, 'facility_status'), s3Field(status, 'ems_status')], ['2', '2']);
    const bed = s3Resources(hospital, 'med_bed_capacity')[0] as XmlElement;
    assert.deepEqual([s3Field(bed, 'bed_type'), s3Field(bed, 'beds_available')], ['1', 3]);
    // Downstream the mapped record speaks Sluice's vocabulary: the HAVE export understands it.
    const have = (await runXslt('have/export.xsl', output)).output;
    const haveRoot = parseXml(have);
    assert.deepEqual(
      ['FacilityStatus', 'EMSTrafficStatus', 'BedType'].map((name) => descendants(haveRoot, name)[0]?.text),
      ['Compromised', 'Advisory', 'AdultICU'],
    );
    assert.deepEqual((await createXsdValidator({ standardsDir: STANDARDS_DIR }).validate(have, 'have')).errors, []);
  });

  it('maps back on the way out: Sluice names and values become the peer’s', async () => {
    const local = `<s3xml><resource name="med_hospital" uuid="urn:uuid:h1">
      <data field="facility_type" value="3">Specialized Hospital</data>
      <data field="phone_exchange">+977 1 1</data>
      <resource name="med_hospital_status"><data field="facility_status" value="4">Closed</data></resource>
    </resource><resource name="org_office"><reference field="site_id" resource="med_hospital" uuid="urn:uuid:h1"/></resource></s3xml>`;
    const { root, report } = await applyMapping(await mappingDocument('eden-kathmandu'), local, 'outbound');
    assert.deepEqual(report.unmapped, []);
    const hospital = s3Resources(root, 'hms_hospital')[0] as XmlElement;
    const type = hospital.children.find((c) => c.attributes.field === 'facility_type');
    assert.deepEqual([type?.attributes.value, type?.text], ['"Specialised"', 'Specialised']);
    assert.equal(s3Field(hospital, 'phone'), '+977 1 1');
    assert.equal(s3Field(s3Resources(hospital, 'hms_status')[0] as XmlElement, 'facility_status'), 'Closed');
    const reference = descendants(root, 'reference')[0];
    assert.equal(reference?.attributes.resource, 'hms_hospital');
  });

  it('counts unmapped values and follows each policy: pass, default, drop and reject', async () => {
    const document = await mappingDocument('eden-kathmandu');
    const s3xml = `<s3xml>
      <resource name="hms_hospital" uuid="urn:uuid:h2">
        <data field="facility_type" value="&quot;Mobile&quot;">Mobile</data>
        <resource name="hms_status" uuid="urn:uuid:s2">
          <data field="facility_status" value="&quot;Partly open&quot;">Partly open</data>
          <data field="ems_status" value="&quot;Open&quot;">Open</data>
        </resource>
        <resource name="hms_status" uuid="urn:uuid:s3">
          <data field="ems_status" value="&quot;Unknown&quot;">Unknown</data>
        </resource>
        <resource name="hms_bed_capacity" uuid="urn:uuid:b2"><data field="bed_type" value="&quot;Burns&quot;">Burns</data></resource>
      </resource>
      <resource name="hms_hospital" uuid="urn:uuid:h3"><data field="facility_type" value="&quot;Mobile&quot;">Mobile</data></resource>
      <resource name="org_organisation" uuid="urn:uuid:o2">
        <data field="sector" value='["Wash","Logistics","Health care"]'>Wash, Logistics, Health care</data>
      </resource>
    </s3xml>`;
    const { root, report } = await applyMapping(document, s3xml, 'inbound');
    const [first, second] = s3Resources(root, 'med_hospital') as [XmlElement, XmlElement];
    // default: an unknown facility type becomes "Other" (98)
    assert.equal(s3Field(first, 'facility_type'), '98');
    assert.equal(s3Field(second, 'facility_type'), '98');
    // drop: the unknown status value is left out, the mapped one kept
    const statuses = s3Resources(first, 'med_hospital_status');
    assert.equal(statuses.length, 1, 'reject: the status record with an unknown EMS value is left out');
    assert.equal(statuses[0]?.attributes.uuid, 'urn:uuid:s2');
    assert.equal(s3Field(statuses[0] as XmlElement, 'facility_status'), undefined);
    assert.equal(s3Field(statuses[0] as XmlElement, 'ems_status'), '1');
    // pass (the document default): the unknown bed type stays as it came
    assert.equal(s3Field(s3Resources(first, 'med_bed_capacity')[0] as XmlElement, 'bed_type'), 'Burns');
    // drop inside a list: only the unknown item goes
    assert.deepEqual(s3Field(s3Resources(root, 'org_organisation')[0] as XmlElement, 'sector'), ['WASH', 'Health']);

    assert.deepEqual(
      report.counts.map((c) => [c.resource, c.field, c.value, c.action, c.count]),
      [
        ['med_hospital', 'facility_type', 'Mobile', 'defaulted', 2],
        ['med_hospital_status', 'facility_status', 'Partly open', 'dropped', 1],
        ['med_hospital_status', 'ems_status', 'Unknown', 'rejected', 1],
        ['med_bed_capacity', 'bed_type', 'Burns', 'passed', 1],
        ['org_organisation', 'sector', 'Logistics', 'dropped', 1],
      ],
    );
    assert.deepEqual(report.rejectedRecords, ['urn:uuid:s3']);
    assert.equal(report.unmapped[0]?.instance, 'eden-kathmandu');
    assert.equal(report.unmapped[0]?.record, 'urn:uuid:h2');
  });

  it('rejects a whole top-level record and keeps the others', async () => {
    const document = validateMappingDocument({
      instance: 'ushahidi-demo',
      resources: [
        {
          local: 'event_incident_report',
          fields: [{ local: 'status', inbound: { values: { verified: 'Verified', published: 'Actionable' }, unmapped: { policy: 'reject' } } }],
        },
      ],
    });
    const { root, report } = await applyMapping(
      document,
      `<s3xml><resource name="event_incident_report" tuid="r1"><data field="status">draft</data></resource>
        <resource name="event_incident_report" tuid="r2"><data field="status"> published </data></resource></s3xml>`,
      'inbound',
    );
    const reports = s3Resources(root, 'event_incident_report');
    assert.deepEqual(reports.map((r) => [r.attributes.tuid, s3Field(r, 'status')]), [['r2', 'Actionable']]);
    assert.deepEqual(report.rejectedRecords, ['r1']);
  });

  it('keeps values with quotes, ampersands and angle brackets intact through the generated XSLT', async () => {
    const { root } = await applyMapping(
      await mappingDocument('eden-kathmandu'),
      `<s3xml><resource name="hms_bed_capacity"><data field="bed_type">Cholera &lt;CTC&gt;</data></resource>
        <resource name="hms_bed_capacity"><data field="bed_type">Surgical &amp; medical</data></resource>
        <resource name="hms_status"><data field="ems_status">Can't say</data></resource>
        <resource name="org_organisation"><data field="sector" value='["Shelter \\"NFI\\""]'/></resource></s3xml>`,
      'inbound',
    );
    assert.deepEqual(s3Resources(root, 'med_bed_capacity').map((r) => s3Field(r, 'bed_type')), ['15', '6']);
    assert.equal(s3Field(s3Resources(root, 'med_hospital_status')[0] as XmlElement, 'ems_status'), '4');
    assert.deepEqual(s3Field(s3Resources(root, 'org_organisation')[0] as XmlElement, 'sector'), ['Shelter']);
  });

  it('refuses an unknown direction with a stable error code', async () => {
    const xslt = generateMappingXslt(await mappingDocument('eden-kathmandu'));
    await assert.rejects(runXslt({ text: xslt }, '<s3xml/>', { direction: 'sideways' }), (error: unknown) =>
      String((error as { code?: unknown }).code).endsWith('MAPPING_DIRECTION'),
    );
  });

  it('passes messages that are not mapping reports through untouched', () => {
    const report = parseMappingMessages(['sluice:warning cap something', 'sluice:mapping {not json']);
    assert.deepEqual(report.otherMessages, ['sluice:warning cap something', 'sluice:mapping {not json']);
    assert.deepEqual(report.unmapped, []);
  });
});
