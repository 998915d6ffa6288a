/**
 * GET /api/formats (where UNSUPPORTED_FORMAT answers point), and what a gateway does when the
 * official XSDs are not installed: it says so, and refuses CAP/HAVE/DE rather than send them
 * unvalidated.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { FormatsReply } from '../../../src/http/api/formats-api.js';
import { STANDARDS_DIR } from '../../support/run-xslt.js';
import { startTestGateway, type TestGateway } from '../../support/gateway.js';

const HOSPITAL = `<s3xml><resource name="med_hospital" uuid="urn:uuid:h-1" modified_on="2024-05-01T09:00:00">
  <data field="name">District Hospital</data></resource></s3xml>`;

describe('/api/formats with the official schemas installed', () => {
  let gw: TestGateway;
  before(async () => {
    gw = await startTestGateway({ env: { SLUICE_STANDARDS_DIR: STANDARDS_DIR } });
  });
  after(async () => {
    await gw.stop();
  });

  it('needs a signed-in user, like the rest of the admin API', async () => {
    const res = await gw.request('/api/formats', { auth: false });
    assert.equal(res.status, 401);
  });

  it('lists every format with its URL extension, directions and tables, and validation as available', async () => {
    const res = await gw.request('/api/formats');
    assert.equal(res.status, 200);
    const reply = (await res.json()) as FormatsReply;
    assert.deepEqual(reply.native.map((n) => n.extension), ['xml', 's3json']);
    const byName = new Map(reply.formats.map((format) => [format.name, format]));
    assert.deepEqual(byName.get('cap'), {
      name: 'cap',
      label: 'CAP 1.2 (Common Alerting Protocol)',
      extension: 'cap',
      mediaTypes: ['application/cap+xml', 'application/xml', 'text/xml'],
      import: true,
      export: true,
      resources: ['cap_alert'],
      example: '/cap/alert.cap',
      validation: 'available',
    });
    assert.equal(byName.get('de')?.resources, undefined, 'DE takes any table');
    assert.equal(byName.get('osm')?.export, false);
    assert.equal(byName.get('csv')?.validation, 'not-needed');
    assert.equal(reply.validation.available, true);
    assert.deepEqual(reply.validation.missing, []);
    assert.deepEqual(reply.validation.formats, ['cap', 'have', 'de']);
    assert.equal(reply.validation.fix, undefined);
  });

  it('is what an unsupported extension points to', async () => {
    const res = await gw.request('/org/office.pdf');
    assert.equal(res.status, 415);
    const reply = (await res.json()) as { code: string; fix: string };
    assert.equal(reply.code, 'UNSUPPORTED_FORMAT');
    assert.match(reply.fix, /\/api\/formats/);
    assert.equal((await gw.request('/api/formats')).status, 200);
  });
});

describe('a gateway without the official schemas', () => {
  let gw: TestGateway;
  let emptyDir: string;
  before(async () => {
    emptyDir = await mkdtemp(path.join(os.tmpdir(), 'sluice-no-standards-'));
    gw = await startTestGateway({ demo: true, env: { SLUICE_STANDARDS_DIR: emptyDir } });
  });
  after(async () => {
    await gw.stop();
    await rm(emptyDir, { recursive: true, force: true });
  });

  it('shows in /api/formats that CAP, HAVE and DE cannot be validated, where it looked and what to set', async () => {
    const reply = (await (await gw.request('/api/formats')).json()) as FormatsReply;
    assert.equal(reply.validation.available, false);
    assert.equal(path.resolve(reply.validation.standardsDir), path.resolve(emptyDir));
    assert.deepEqual(reply.validation.missing, ['cap/schema/CAP-v1.2-os.xsd', 'de/schema/EDXL-DE_Schema_v1.0.xsd', 'have/schema/1.0/edxl-have.xsd']);
    assert.match(reply.validation.fix ?? '', /SLUICE_STANDARDS_DIR/);
    const validation = Object.fromEntries(reply.formats.map((format) => [format.name, format.validation]));
    assert.deepEqual([validation['cap'], validation['have'], validation['de'], validation['csv']], ['unavailable', 'unavailable', 'unavailable', 'not-needed']);
  });

  it('answers HAVE, CAP and DE exports with 503 XSD_SCHEMAS_MISSING and the files to install, never unvalidated output', async () => {
    for (const address of ['/med/hospital.have', '/med/hospital.de', '/org/office.de', '/cap/alert.cap']) {
      const res = await gw.request(address);
      const body = await res.text();
      assert.equal(res.status, 503, `${address}: ${body}`);
      assert.doesNotMatch(body, /EDXLDistribution|HospitalStatus/);
      const reply = JSON.parse(body) as { code: string; message: string; fix: string };
      assert.equal(reply.code, 'XSD_SCHEMAS_MISSING');
      assert.match(reply.fix, /SLUICE_STANDARDS_DIR/);
      assert.match(reply.fix, /cap\/schema\/CAP-v1\.2-os\.xsd, de\/schema\/EDXL-DE_Schema_v1\.0\.xsd, have\/schema\/1\.0\/edxl-have\.xsd/);
      assert.ok(!reply.message.includes(emptyDir), 'the server folder is not shown to callers');
    }
  });

  it('still serves formats that need no schema', async () => {
    const res = await gw.request('/org/organisation.csv');
    assert.equal(res.status, 200);
  });

  it('tells the analyst in the preview why the output was not validated and what to set', async () => {
    const res = await gw.request('/api/preview', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ format: 'have', direction: 'export', input: HOSPITAL }),
    });
    assert.equal(res.status, 200);
    const reply = (await res.json()) as { output: string; validation?: unknown; warnings: string[] };
    assert.match(reply.output, /HospitalStatus/);
    assert.equal(reply.validation, undefined);
    const warning = reply.warnings.find((w) => w.startsWith('validation:'));
    assert.match(warning ?? '', /XSD_SCHEMAS_MISSING/);
    assert.match(warning ?? '', /SLUICE_STANDARDS_DIR/);
  });
});
