import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { parseS3XML } from '../../src/s3xml/parse.js';
import { startTestGateway, type TestGateway } from '../support/gateway.js';

describe('Eden REST endpoints on the demo data', () => {
  let gw: TestGateway;
  before(async () => {
    gw = await startTestGateway({ demo: true });
  });
  after(async () => {
    await gw.stop();
  });

  it('serves demo organisations with their offices as components at /org/organisation.xml', async () => {
    const res = await gw.request('/org/organisation.xml', { auth: false });
    assert.equal(res.status, 200);
    const doc = await parseS3XML(await res.text());
    const orgs = doc.resources.filter((r) => r.name === 'org_organisation');
    assert.ok(orgs.length >= 20, `got ${orgs.length} organisations`);
    assert.ok(orgs.every((o) => o.components.every((c) => c.name === 'org_office')));
    assert.ok(orgs.some((o) => o.components.length > 0), 'offices are nested');
    assert.ok(doc.resources.some((r) => r.name === 'gis_location'), 'referenced locations are dereferenced');
    assert.equal(doc.attributes.success, 'true');
    assert.equal(doc.attributes.results, String(orgs.length));
  });

  it('serves the demo data at /sync/sync.xml?resource=org_organisation', async () => {
    const res = await gw.request('/sync/sync.xml?resource=org_organisation', { auth: false });
    assert.equal(res.status, 200);
    const doc = await parseS3XML(await res.text());
    assert.ok(doc.resources.filter((r) => r.name === 'org_organisation').length >= 20);
  });

  it('pages with start and limit and filters with URL filters', async () => {
    const page = await parseS3XML(await (await gw.request('/org/organisation.xml?start=2&limit=3&mcomponents=None')).text());
    assert.equal(page.resources.filter((r) => r.name === 'org_organisation').length, 3);
    assert.equal(page.attributes.start, '2');
    const filtered = await parseS3XML(await (await gw.request('/org/organisation.xml?~.acronym=NRCS')).text());
    const names = filtered.resources.filter((r) => r.name === 'org_organisation').map((r) => r.data.find((d) => d.field === 'name')?.text);
    assert.deepEqual(names, ['Nepal Red Cross Society']);
  });

  it('exports S3JSON', async () => {
    const res = await gw.request('/med/hospital.s3json?limit=2');
    assert.equal(res.status, 200);
    const json = (await res.json()) as Record<string, unknown>;
    assert.ok(Array.isArray(json.$_med_hospital));
  });

  it('imports with PUT and answers with Eden\'s JSON message', async () => {
    const body = `<s3xml><resource name="org_organisation" uuid="urn:uuid:new-org"><data field="name">Bagmati Volunteers</data>
      <resource name="org_office" uuid="urn:uuid:new-office"><data field="name">HQ</data></resource></resource></s3xml>`;
    const res = await gw.request('/org/organisation.xml', { method: 'PUT', body, headers: { 'content-type': 'application/xml' } });
    assert.equal(res.status, 200);
    const reply = (await res.json()) as Record<string, unknown>;
    assert.equal(reply.status, 'success');
    assert.equal(reply.statuscode, '200');
    assert.equal(reply.records, 1);
    assert.deepEqual(reply.created, ['urn:uuid:new-org', 'urn:uuid:new-office']);
    const office = await gw.store.getRecord('org_office', 'urn:uuid:new-office');
    assert.equal(office?.parent?.uuid, 'urn:uuid:new-org');
  });

  it('refuses imports without credentials even in demo mode', async () => {
    const res = await gw.request('/org/organisation.xml', { method: 'PUT', body: '<s3xml/>', auth: false });
    assert.equal(res.status, 401);
  });

  it('reads anonymously in demo mode, but refuses credentials that are sent and wrong, on every read route', async () => {
    for (const path of ['/org/office.xml', '/org/office.csv', '/sync/sync.xml?resource=org_office']) {
      assert.equal((await gw.request(path, { auth: false })).status, 200, `${path} without credentials`);
      const refused = await gw.request(path, { auth: { user: 'admin', password: 'not the password' } });
      assert.equal(refused.status, 401, `${path} with a wrong password`);
      assert.equal(((await refused.json()) as { code?: string }).code, 'AUTH_FAILED');
    }
  });

  it('lists the values seen for a field at options.xml', async () => {
    const res = await gw.request('/event/incident_report/options.xml?field=incident_type');
    assert.equal(res.status, 200);
    const xml = await res.text();
    assert.match(xml, /<select name="incident_type"/);
    assert.match(xml, /<option value="Landslide">Landslide<\/option>/);
  });

  it('answers unknown representations with 415 and a stable code', async () => {
    const res = await gw.request('/org/organisation.docx');
    assert.equal(res.status, 415);
    assert.equal(((await res.json()) as { code: string }).code, 'UNSUPPORTED_FORMAT');
  });

  it('reports health and metrics', async () => {
    const health = (await (await gw.request('/healthz', { auth: false })).json()) as { status: string };
    assert.equal(health.status, 'ok');
    const metrics = await (await gw.request('/metrics', { auth: false })).text();
    assert.match(metrics, /sluice_http_requests_total/);
  });
});
