import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Store } from '../../src/store/store.js';
import { startTestGateway, type TestGateway } from '../support/gateway.js';
import { hostileCases } from '../support/hostile-corpus.js';

/** Everything a bad import could have touched: every record with its seq. */
async function snapshot(store: Store): Promise<string> {
  const resources = await store.resources();
  const parts: string[] = [String(await store.lastSeq())];
  for (const { resource } of resources) {
    const records = await store.queryRecords({ resource, includeDeleted: true, orderBy: 'seq' });
    parts.push(...records.map((r) => `${r.resource}/${r.uuid}/${r.seq}`));
  }
  return parts.join('\n');
}

describe('hostile and malformed bodies over HTTP', () => {
  let gw: TestGateway;
  let before_: string;
  const cases = hostileCases();

  before(async () => {
    gw = await startTestGateway({ demo: true });
    const register = await gw.request('/sync/repository/register.json', {
      method: 'POST',
      body: JSON.stringify({ uuid: 'urn:uuid:hostile-peer', name: 'hostile' }),
    });
    assert.equal(register.status, 200);
    before_ = await snapshot(gw.store);
  });
  after(async () => {
    await gw.stop();
  });

  it('has a corpus of at least 30 hostile documents', () => {
    assert.ok(cases.length >= 30, `only ${cases.length} cases`);
  });

  for (const c of cases) {
    it(`refuses ${c.name} with 4xx ${c.code} on PUT and on a sync push`, async () => {
      const body = new Uint8Array(c.bytes());
      for (const url of ['/org/organisation.xml', '/sync/sync.xml?resource=org_organisation&repository=urn:uuid:hostile-peer']) {
        const res = await gw.request(url, { method: url.startsWith('/sync') ? 'POST' : 'PUT', body, headers: { 'content-type': 'text/xml' } });
        assert.ok(res.status >= 400 && res.status < 500, `${url}: status ${res.status}`);
        const reply = (await res.json()) as { status: string; code: string; message: string };
        assert.equal(reply.status, 'failed');
        assert.equal(reply.code, c.code, `${url}: ${reply.message}`);
      }
    });
  }

  it('leaves the store exactly as it was', async () => {
    assert.equal(await snapshot(gw.store), before_);
  });

  it('refuses a body over the size limit with 413 BODY_TOO_LARGE', async () => {
    const small = await startTestGateway({ env: { SLUICE_MAX_BODY: '1KiB' } });
    try {
      const res = await small.request('/org/organisation.xml', { method: 'PUT', body: `<s3xml>${' '.repeat(4096)}</s3xml>` });
      assert.equal(res.status, 413);
      assert.equal(((await res.json()) as { code: string }).code, 'BODY_TOO_LARGE');
    } finally {
      await small.stop();
    }
  });
});
