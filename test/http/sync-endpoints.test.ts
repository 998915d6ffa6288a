import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { parseS3XML } from '../../src/s3xml/parse.js';
import { startTestGateway, type TestGateway } from '../support/gateway.js';

const ORG = (uuid: string, name: string, modified: string, extra = '') =>
  `<resource name="org_organisation" uuid="${uuid}" mci="1" modified_on="${modified}"${extra}><data field="name">${name}</data></resource>`;

describe('Eden sync endpoints', () => {
  let gw: TestGateway;
  before(async () => {
    gw = await startTestGateway();
  });
  after(async () => {
    await gw.stop();
  });

  it('serves its uuid and name at /sync/config.json without credentials', async () => {
    const res = await gw.request('/sync/config.json', { auth: false });
    assert.equal(res.status, 200);
    const body = (await res.json()) as { uuid: string; name: string };
    assert.equal(body.uuid, gw.identity.uuid);
    assert.equal(body.name, 'test gateway');
    assert.ok(!JSON.stringify(body).toLowerCase().includes('password'));
  });

  it('refuses a push from an unregistered repository with 403 Registration required', async () => {
    const res = await gw.request('/sync/sync.xml?resource=org_organisation&repository=urn:uuid:stranger', {
      method: 'POST',
      body: `<s3xml>${ORG('urn:uuid:o-1', 'Nobody', '2024-01-01T00:00:00')}</s3xml>`,
    });
    assert.equal(res.status, 403);
    const body = (await res.json()) as { message: string; code: string };
    assert.equal(body.message, 'Registration required');
    assert.equal(body.code, 'REGISTRATION_REQUIRED');
    assert.equal(await gw.store.getRecord('org_organisation', 'urn:uuid:o-1'), undefined);
  });

  it('registers a peer and answers with its own uuid as sender', async () => {
    const res = await gw.request('/sync/repository/register.json', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ uuid: 'urn:uuid:peer-1', name: 'peer.example.org', apitype: 'eden' }),
    });
    assert.equal(res.status, 200);
    const body = (await res.json()) as Record<string, string>;
    assert.deepEqual(
      { status: body.status, statuscode: body.statuscode, message: body.message, sender: body.sender },
      { status: 'success', statuscode: '200', message: 'Registration successful', sender: gw.identity.uuid },
    );
    assert.equal((await gw.store.getRepository('urn:uuid:peer-1'))?.name, 'peer.example.org');
  });

  it('accepts a push from the registered peer and lets another peer pull it back', async () => {
    const push = await gw.request('/sync/sync.xml?resource=org_organisation&repository=urn:uuid:peer-1', {
      method: 'POST',
      headers: { 'content-type': 'text/xml' },
      body: `<s3xml>${ORG('urn:uuid:o-2', 'Himal Relief', '2024-03-05T16:40:02')}${ORG(
        'urn:uuid:o-3',
        'Gone',
        '2024-03-05T16:41:00',
        ' deleted="True"',
      )}</s3xml>`,
    });
    assert.equal(push.status, 200);
    const reply = (await push.json()) as { status: string; created: string[]; records: number };
    assert.equal(reply.status, 'success');
    assert.deepEqual(reply.created, ['urn:uuid:o-2']);

    const pull = await gw.request('/sync/sync.xml?resource=org_organisation&repository=urn:uuid:peer-2&msince=2024-03-05T16:40:02&include_deleted=True');
    assert.equal(pull.status, 200);
    assert.match(pull.headers.get('content-type') ?? '', /xml/);
    const doc = await parseS3XML(await pull.text());
    const org = doc.resources.find((r) => r.uuid === 'urn:uuid:o-2');
    assert.ok(org, 'pushed record is pulled');
    assert.equal(org.mci, 2, 'exported mci is local mci + 1');
    assert.equal(org.data.find((d) => d.field === 'name')?.text, 'Himal Relief');
    assert.equal(doc.attributes.domain, 'gw.test');
  });

  it('refuses a malformed msince with 400 instead of exporting everything', async () => {
    for (const bad of ['2024-03-05T16:40:02Z', '2024-03-05', '2024-03-05T16:40:02.5', 'yesterday']) {
      const res = await gw.request(`/sync/sync.xml?resource=org_organisation&msince=${encodeURIComponent(bad)}`);
      assert.equal(res.status, 400, bad);
      assert.equal(((await res.json()) as { code: string }).code, 'BAD_MSINCE');
    }
  });

  it('answers a resource without an underscore with 400 Invalid request', async () => {
    const res = await gw.request('/sync/sync.xml?resource=mixed');
    assert.equal(res.status, 400);
    assert.equal(((await res.json()) as { message: string }).message, 'Invalid request');
  });

  it('requires credentials for pulls when not in demo mode', async () => {
    const res = await gw.request('/sync/sync.xml?resource=org_organisation', { auth: false });
    assert.equal(res.status, 401);
    assert.match(res.headers.get('www-authenticate') ?? '', /Basic/);
    const wrong = await gw.request('/sync/sync.xml?resource=org_organisation', { auth: { user: 'admin@example.org', password: 'nope' } });
    assert.equal(wrong.status, 401);
  });

  it('logs incoming pulls and pushes with Eden modes', async () => {
    const log = await gw.store.listLog({ repository: 'urn:uuid:peer-1' });
    const modes = new Set(log.map((l) => l.mode));
    assert.ok(modes.has('register/incoming'));
    assert.ok(modes.has('push/incoming'));
    const pulls = await gw.store.listLog({ repository: 'urn:uuid:peer-2' });
    assert.ok(pulls.some((l) => l.mode === 'pull/incoming'));
  });
});
