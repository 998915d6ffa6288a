/**
 * The Ushahidi sources API over real HTTP, against the fake deployment: add (checked first), list
 * without passwords, Sync Now through the repository route, reconcile, remove.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createFakeUshahidi, type FakeUshahidi } from '../../../tools/fake-ushahidi/index.js';
import { startTestGateway, type TestGateway } from '../../support/gateway.js';

interface SourceReply {
  uuid: string;
  name: string;
  type: string;
  has_password: boolean;
  password?: string;
  code?: string;
}

describe('/api/sources', () => {
  let gw: TestGateway;
  let fake: FakeUshahidi;
  before(async () => {
    [gw, fake] = await Promise.all([startTestGateway(), createFakeUshahidi({ posts: 12 })]);
  });
  after(async () => {
    await gw.stop();
    await fake.close();
  });

  async function call<T>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T }> {
    const res = await gw.request(path, { method, ...(body === undefined ? {} : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }) });
    const text = await res.text();
    return { status: res.status, body: (text ? JSON.parse(text) : undefined) as T };
  }

  it('refuses a source whose login fails and stores nothing', async () => {
    const refused = await call<SourceReply>('POST', '/api/sources', { name: 'haiti', url: fake.url, type: 'ushahidi-v5', username: fake.admin.email, password: 'wrong' });
    assert.notEqual(refused.status, 201);
    assert.equal(refused.body.code, 'USHAHIDI_LOGIN_FAILED');
    assert.deepEqual((await call<SourceReply[]>('GET', '/api/sources')).body, []);
  });

  it('refuses a body with an unknown API type before contacting anything', async () => {
    const refused = await call<SourceReply>('POST', '/api/sources', { name: 'haiti', url: fake.url, type: 'ushahidi-v4' });
    assert.equal(refused.status, 400);
    assert.equal(refused.body.code, 'INVALID_BODY');
  });

  it('adds, lists without the password, polls through Sync Now, reconciles and removes a source', async () => {
    const added = await call<SourceReply>('POST', '/api/sources', { name: 'haiti', url: fake.url, type: 'ushahidi-v5', username: fake.admin.email, password: fake.admin.password, poll_seconds: 0 });
    assert.equal(added.status, 201, JSON.stringify(added.body));
    assert.equal(added.body.has_password, true);
    assert.equal(added.body.password, undefined);

    const listed = await call<SourceReply[]>('GET', '/api/sources');
    assert.deepEqual(listed.body.map((source) => [source.name, source.type]), [['haiti', 'ushahidi-v5']]);
    assert.equal((await call<SourceReply>('GET', '/api/sources/haiti')).body.uuid, added.body.uuid, 'by name too');

    const synced = await call<{ status: string; counts: Record<string, number> }>('POST', `/api/repositories/${added.body.uuid}/sync`, { wait: true });
    assert.equal(synced.status, 200, JSON.stringify(synced.body));
    assert.equal(synced.body.status, 'success');
    assert.equal(synced.body.counts.pull_records, 12);
    assert.equal(await gw.store.countRecords({ resource: 'event_incident_report' }), 12);

    const reconciled = await call<{ run: { status: string } }>('POST', `/api/sources/${added.body.uuid}/reconcile`);
    assert.equal(reconciled.status, 200, JSON.stringify(reconciled.body));
    assert.equal(reconciled.body.run.status, 'success');

    assert.equal((await call('DELETE', `/api/sources/${added.body.uuid}`)).status, 204);
    assert.deepEqual((await call<SourceReply[]>('GET', '/api/sources')).body, []);
    assert.equal(await gw.store.countRecords({ resource: 'event_incident_report' }), 12, 'the tickets stay');
    assert.equal((await call<SourceReply>('GET', `/api/sources/${added.body.uuid}`)).status, 404);
  });

  it('is described in /api/openapi.json', async () => {
    const res = await gw.request('/api/openapi.json', { auth: false });
    const document = (await res.json()) as { paths: Record<string, Record<string, unknown>> };
    assert.ok(document.paths['/api/sources']?.['post'], 'POST /api/sources');
    assert.ok(document.paths['/api/sources/{uuid}']?.['delete'] ?? document.paths['/api/sources/:uuid']?.['delete'], 'DELETE /api/sources/{uuid}');
  });
});
