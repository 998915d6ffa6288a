import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import { createXsdValidator } from '../../src/formats/xsd.js';
import { runXslt, STANDARDS_DIR } from '../support/run-xslt.js';
import { child, childText, children, descendants, parseXml, s3Field, s3Resources, type XmlElement } from '../support/xml-tree.js';

const validator = createXsdValidator({ standardsDir: STANDARDS_DIR });
const fixture = (name: string): Promise<string> =>
  readFile(new URL(`../fixtures/formats/have/${name}`, import.meta.url), 'utf8');
const haveSample = (): Promise<string> =>
  readFile(path.join(STANDARDS_DIR, 'have', 'samples', 'uicds-de10-have10-two-hospitals.xml'), 'utf8');

const STATUS_FIELDS: Record<string, number> = {
  ems_status: 4,
  facility_status: 4,
  clinical_status: 2,
  morgue_status: 3,
  security_status: 5,
  staffing: 2,
  facility_operations: 2,
  clinical_operations: 2,
};
const BED_CODES = [...Array.from({ length: 14 }, (_, i) => i + 1), 15, 99];

/** Five hospitals whose status fields walk through every Eden code HAVE can express. */
function everyCodeS3xml(): string {
  const hospitals = [1, 2, 3, 4, 5].map((k) => {
    const status = Object.entries(STATUS_FIELDS)
      .map(([field, count]) => `<data field="${field}" value="${((k - 1) % count) + 1}"/>`)
      .join('');
    const beds =
      k === 1
        ? BED_CODES.map((code) => `<resource name="med_bed_capacity"><data field="bed_type" value="${code}"/><data field="beds_available" value="${code}"/></resource>`).join('')
        : '';
    return `<resource name="med_hospital" uuid="urn:uuid:h-${k}" modified_on="2024-05-0${k}T10:00:00">
      <data field="name">Hospital ${k}</data>
      <resource name="med_hospital_status">${status}</resource>${beds}</resource>`;
  });
  return `<s3xml>${hospitals.join('')}</s3xml>`;
}

function statusCodes(hospital: XmlElement): Record<string, unknown> {
  const status = s3Resources(hospital, 'med_hospital_status')[0] as XmlElement;
  return Object.fromEntries(Object.keys(STATUS_FIELDS).map((field) => [field, s3Field(status, field)]));
}

describe('EDXL-HAVE 1.0 import and export', () => {
  it('imports the real HAVE sample: two hospitals, their beds and positions', async () => {
    const { output, messages } = await runXslt('have/import.xsl', await haveSample());
    assert.deepEqual(messages, []);
    const root = parseXml(output);
    const hospitals = s3Resources(root, 'med_hospital');
    assert.deepEqual(hospitals.map((h) => s3Field(h, 'name')), ['Hospital 1', 'Hospital 2']);
    assert.equal(hospitals[0]?.attributes.modified_on, '2010-11-11T19:59:12');
    const bed = s3Resources(hospitals[0] as XmlElement, 'med_bed_capacity')[0] as XmlElement;
    assert.equal(s3Field(bed, 'bed_type'), 8);
    assert.equal(s3Field(bed, 'beds_available'), 100);
    const location = s3Resources(root, 'gis_location')[0] as XmlElement;
    assert.deepEqual([s3Field(location, 'lat'), s3Field(location, 'lon')], [45.256, -71.92]);
    assert.equal(child(hospitals[0], 'reference')?.attributes.tuid, location.attributes.tuid);
  });

  it('exports the imported sample as HAVE that validates, bare and inside a DE envelope', async () => {
    const imported = (await runXslt('have/import.xsl', await haveSample())).output;
    const bare = (await runXslt('have/export.xsl', imported)).output;
    const wrapped = (await runXslt('have/export.xsl', imported, { envelope: 'de', utcnow: '2024-05-01T10:00:00' })).output;
    assert.equal(parseXml(bare).name, 'HospitalStatus');
    assert.equal(parseXml(wrapped).name, 'EDXLDistribution');
    assert.deepEqual((await validator.validate(bare, 'have')).errors, []);
    assert.deepEqual((await validator.validate(wrapped, 'de')).errors, []);
  });

  it('writes an Eden hospital with status, beds, services and activity in HAVE 1.0 OS form', async () => {
    const { output, messages } = await runXslt('have/export.xsl', await fixture('eden-hospital.s3.xml'));
    assert.deepEqual(messages, []);
    const hospital = child(parseXml(output), 'Hospital') as XmlElement;
    const information = child(child(hospital, 'Organization'), 'OrganizationInformation');
    const name = child(information, 'OrganisationName') as XmlElement;
    assert.equal(name.attributes['{urn:oasis:names:tc:ciq:xnl:3}ID'], 'NP-MOH-HOSP-0042');
    assert.equal(childText(child(child(information, 'Addresses'), 'Address'), 'Country')?.trim(), 'Nepal');
    const point = descendants(hospital, 'Point')[0] as XmlElement;
    assert.equal(childText(point, 'pos'), '27.7046 85.3131');
    assert.equal(point.attributes['{http://www.opengis.net/gml}id'], 'point-urn-uuid-4d1e7a10-0000-4000-8000-000000000001');
    assert.equal(descendants(hospital, 'EMSTrafficStatus')[0]?.text, 'Advisory');
    assert.deepEqual(
      descendants(hospital, 'BedCapacity').map((b) => [childText(b, 'BedType') ?? childText(b, 'SubCategoryBedType'), childText(child(b, 'Capacity'), 'CapacityStatus')]),
      [
        ['AdultICU', 'NotAvailable'],
        ['MedicalSurgical', 'Vacant/Available'],
        ['Cholera Treatment', 'Vacant/Available'],
      ],
    );
    const facility = child(hospital, 'HospitalFacilityStatus') as XmlElement;
    assert.deepEqual(
      facility.children.map((c) => c.name),
      ['ClinicalStatus', 'MorgueCapacity', 'FacilityStatus', 'SecurityStatus', 'Activity24Hr'],
    );
    assert.equal(childText(child(facility, 'Activity24Hr'), 'Admissions'), '48');
    assert.deepEqual(
      child(hospital, 'HospitalResourcesStatus')?.children.map((c) => `${c.name}=${c.text}`),
      ['Staffing=Insufficient', 'FacilityOperations=Adequate', 'ClinicalOperations=Insufficient', 'ResourcesInformationText=Doctors: 120', 'ResourcesInformationText=Nurses: 310'],
    );
    assert.equal(childText(hospital, 'LastUpdateTime'), '2024-05-01T06:30:00-00:00');
    assert.deepEqual((await validator.validate(output, 'have')).errors, []);
  });

  it('imports its own export of an Eden hospital back to the same values', async () => {
    const original = parseXml(await fixture('eden-hospital.s3.xml'));
    const exported = (await runXslt('have/export.xsl', await fixture('eden-hospital.s3.xml'))).output;
    const back = parseXml((await runXslt('have/import.xsl', exported)).output);
    const [before, after] = [original, back].map((doc) => s3Resources(doc, 'med_hospital')[0] as XmlElement);
    for (const field of ['name', 'phone_exchange', 'phone_emergency', 'fax', 'email', 'website', 'doctors', 'nurses']) {
      assert.equal(s3Field(after as XmlElement, field), s3Field(before as XmlElement, field), field);
    }
    assert.equal(after?.attributes.uuid, 'NP-MOH-HOSP-0042');
    assert.deepEqual(statusCodes(after as XmlElement), statusCodes(before as XmlElement));
    const beds = (doc: XmlElement): unknown[] =>
      s3Resources(doc, 'med_bed_capacity').map((b) => [s3Field(b, 'bed_type'), s3Field(b, 'beds_baseline'), s3Field(b, 'beds_available')]);
    assert.deepEqual(beds(back), beds(original));
    const services = (doc: XmlElement): unknown => {
      const s = s3Resources(doc, 'med_hospital_services')[0] as XmlElement;
      return Object.fromEntries(s.children.map((d) => [d.attributes.field, s3Field(s, d.attributes.field as string)]));
    };
    assert.deepEqual(services(back), services(original));
    const activity = s3Resources(back, 'med_hospital_activity')[0] as XmlElement;
    assert.deepEqual([s3Field(activity, 'admissions24'), s3Field(activity, 'discharges24'), s3Field(activity, 'deaths24')], [48, 17, 2]);
    const location = s3Resources(back, 'gis_location')[0] as XmlElement;
    assert.deepEqual(
      [s3Field(location, 'lat'), s3Field(location, 'lon'), s3Field(location, 'addr_street'), s3Field(location, 'addr_postcode')],
      [27.7046, 85.3131, 'Mahaboudha, Kathmandu', '44600'],
    );
  });

  it('maps every Eden option code HAVE can express to its token and back', async () => {
    const s3xml = everyCodeS3xml();
    const exported = (await runXslt('have/export.xsl', s3xml)).output;
    assert.deepEqual((await validator.validate(exported, 'have')).errors, []);
    const back = parseXml((await runXslt('have/import.xsl', exported)).output);
    const original = parseXml(s3xml);
    const before = s3Resources(original, 'med_hospital');
    const after = s3Resources(back, 'med_hospital');
    assert.equal(after.length, 5);
    after.forEach((hospital, i) => assert.deepEqual(statusCodes(hospital), statusCodes(before[i] as XmlElement)));
    assert.deepEqual(
      s3Resources(after[0] as XmlElement, 'med_bed_capacity').map((b) => s3Field(b, 'bed_type')),
      BED_CODES,
    );
    const bedTypes = descendants(parseXml(exported), 'BedType').map((b) => b.text);
    assert.equal(new Set(bedTypes).size, 14);
  });

  it('leaves out and reports Eden codes that HAVE has no word for', async () => {
    const s3xml = `<s3xml><resource name="med_hospital" uuid="urn:uuid:h-9" modified_on="2024-05-01T10:00:00">
      <data field="name">Field hospital</data>
      <resource name="med_hospital_status"><data field="clinical_status" value="3"/>
        <data field="security_status" value="6"/><data field="facility_status" value="99"/>
        <data field="ems_status" value="1"/></resource></resource></s3xml>`;
    const { output, messages } = await runXslt('have/export.xsl', s3xml);
    assert.deepEqual(messages, [
      'sluice:unmapped have med_hospital_status.clinical_status "3" left out',
      'sluice:unmapped have med_hospital_status.facility_status "99" left out',
      'sluice:unmapped have med_hospital_status.security_status "6" left out',
    ]);
    assert.equal(descendants(parseXml(output), 'HospitalFacilityStatus').length, 0);
    assert.deepEqual((await validator.validate(output, 'have')).errors, []);
  });

  it('reads the legacy hms_hospital tables of Eden 1.1', async () => {
    const s3xml = `<s3xml><resource name="hms_hospital" uuid="urn:uuid:h-legacy" modified_on="2012-01-01T00:00:00">
      <data field="name">Legacy</data><data field="gov_uuid">GOV-7</data>
      <resource name="hms_status"><data field="facility_status" value="1"/></resource>
      <resource name="hms_bed_capacity"><data field="bed_type" value="5"/><data field="beds_available" value="3"/></resource>
    </resource></s3xml>`;
    const { output } = await runXslt('have/export.xsl', s3xml);
    const hospital = child(parseXml(output), 'Hospital') as XmlElement;
    assert.equal(descendants(hospital, 'OrganisationName')[0]?.attributes['{urn:oasis:names:tc:ciq:xnl:3}ID'], 'GOV-7');
    assert.equal(descendants(hospital, 'FacilityStatus')[0]?.text, 'Normal');
    assert.equal(descendants(hospital, 'BedType')[0]?.text, 'NurseryBeds');
    assert.deepEqual((await validator.validate(output, 'have')).errors, []);
  });

  it('refuses to export an empty hospital list with a stable error code', async () => {
    await assert.rejects(runXslt('have/export.xsl', '<s3xml/>'), (error: unknown) =>
      String((error as { code?: unknown }).code).endsWith('HAVE_NO_HOSPITAL'),
    );
  });

  it('takes the hospitals out of a DE envelope on import', async () => {
    const { output } = await runXslt('have/import.xsl', await haveSample());
    assert.equal(children(parseXml(output), 'resource').filter((r) => r.attributes.name === 'med_hospital').length, 2);
  });
});
