import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { validateXml } from '../../src/formats/xsd.js';
import { startTestGateway, type TestGateway } from '../support/gateway.js';

const STANDARDS = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'shared', 'standards');

describe('format URLs on a running gateway', () => {
  let gw: TestGateway;
  before(async () => {
    gw = await startTestGateway({ demo: true, env: { SLUICE_STANDARDS_DIR: STANDARDS } });
  });
  after(async () => {
    await gw.stop();
  });

  it('imports a real CAP alert with POST /cap/alert.cap and exports it again, schema-valid', async () => {
    const sample = await readFile(path.join(STANDARDS, 'cap', 'samples', 'oasis-cap12-example2-thunderstorm-polygon-geocode.xml'), 'utf8');
    const res = await gw.request('/cap/alert.cap', { method: 'POST', body: sample, headers: { 'content-type': 'application/cap+xml' } });
    const reply = (await res.json()) as { status: string; created: string[]; message?: string };
    assert.equal(res.status, 200, JSON.stringify(reply));
    assert.equal(reply.status, 'success');
    assert.ok(reply.created.length >= 1);

    const identifier = /<identifier>([^<]+)<\/identifier>/.exec(sample)![1]!;
    const one = await gw.request(`/cap/alert.cap?~.identifier=${encodeURIComponent(identifier)}`);
    assert.equal(one.status, 200);
    assert.match(one.headers.get('content-type') ?? '', /cap\+xml/);
    const xml = await one.text();
    assert.match(xml, new RegExp(`<identifier>${identifier}</identifier>`));
    const check = await validateXml(xml, 'cap', { standardsDir: STANDARDS });
    assert.deepEqual(check.errors, []);
    assert.equal(check.valid, true);
  });

  it('exports the demo hospitals as EDXL-HAVE that validates against the official schema', async () => {
    const res = await gw.request('/med/hospital.have?limit=5');
    assert.equal(res.status, 200);
    const xml = await res.text();
    assert.match(xml, /HospitalStatus/);
    const check = await validateXml(xml, 'have', { standardsDir: STANDARDS });
    assert.equal(check.valid, true, JSON.stringify(check.errors));
  });

  it('exports organisations as CSV with Eden column names', async () => {
    const res = await gw.request('/org/organisation.csv');
    assert.equal(res.status, 200);
    const csv = await res.text();
    const header = csv.replace(/^\uFEFF/, '').split(/\r?\n/)[0]!;
    assert.match(header, /^Organisation,Acronym/);
    assert.match(csv, /Nepal Red Cross Society/);
  });

  it('refuses a broken CAP document with a clear code and imports nothing', async () => {
    const before_ = await gw.store.countRecords({ resource: 'cap_alert', includeDeleted: true });
    const res = await gw.request('/cap/alert.cap', { method: 'POST', body: '<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2"><identifier>x</identifier></alert>' });
    assert.ok(res.status >= 400 && res.status < 500, String(res.status));
    const reply = (await res.json()) as { code: string };
    assert.equal(reply.code, 'XSD_INVALID');
    assert.equal(await gw.store.countRecords({ resource: 'cap_alert', includeDeleted: true }), before_);
  });

  it('refuses a format for the wrong resource', async () => {
    const res = await gw.request('/org/office.cap');
    assert.equal(res.status, 400);
    assert.equal(((await res.json()) as { code: string }).code, 'FORMAT_RESOURCE_MISMATCH');
  });
});

describe('EDXL-DE and shipped-stylesheet refusals on a running gateway', () => {
  let gw: TestGateway;
  before(async () => {
    gw = await startTestGateway({ demo: true, env: { SLUICE_STANDARDS_DIR: STANDARDS } });
  });
  after(async () => {
    await gw.stop();
  });

  it('exports a table with no standard of its own as EDXL-DE that validates against the official schema', async () => {
    const res = await gw.request('/org/organisation.de?limit=2');
    const xml = await res.text();
    assert.equal(res.status, 200, xml);
    assert.match(res.headers.get('content-type') ?? '', /application\/edxl-de\+xml/);
    assert.match(xml, /<sx:s3xmlPayload xmlns:sx="urn:x-sluice:s3xml-payload" resources="org_organisation/);
    assert.match(xml, /Nepal Red Cross Society/);
    const check = await validateXml(xml, 'de', { standardsDir: STANDARDS });
    assert.deepEqual(check.errors, []);
  });

  it('exports hospitals as EDXL-DE carrying an EDXL-HAVE payload, both checked by the schemas', async () => {
    const res = await gw.request('/med/hospital.de?limit=2');
    const xml = await res.text();
    assert.equal(res.status, 200, xml);
    assert.match(xml, /HospitalStatus/);
    assert.doesNotMatch(xml, /s3xmlPayload/);
    const check = await validateXml(xml, 'de', { standardsDir: STANDARDS });
    assert.deepEqual(check.errors, []);
  });

  it('refuses an export its stylesheet cannot express as a data problem, without server paths', async () => {
    const res = await gw.request('/med/hospital.have?~.name=No%20such%20hospital');
    const reply = (await res.json()) as { code: string; message: string; fix: string; stylesheet?: string };
    assert.equal(res.status, 422);
    assert.equal(reply.code, 'HAVE_NO_HOSPITAL');
    assert.match(reply.message, /at least one hospital/);
    assert.equal(reply.stylesheet, 'have/export.xsl');
    assert.doesNotMatch(JSON.stringify(reply), /\/work\/|\/stylesheets\/|file:/);
    assert.doesNotMatch(reply.fix, /Fix the stylesheet/);
  });
});
