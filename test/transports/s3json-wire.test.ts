/**
 * The peer client's S3JSON wire format against a scripted transport: what goes out, what the pull
 * and push logic get back, and the S3XML fallback for a record S3JSON cannot carry.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseS3XML } from '../../src/s3xml/parse.js';
import { PeerClient } from '../../src/sync/peer-client.js';
import type { PeerRequest, PeerTransport } from '../../src/sync/transport.js';

const clock = { now: () => new Date('2024-01-01T00:00:00Z') };

function scripted(answer: (req: PeerRequest) => { status?: number; body: string }): { transport: PeerTransport; requests: PeerRequest[] } {
  const requests: PeerRequest[] = [];
  return {
    requests,
    transport: async (req) => {
      requests.push(req);
      const { status = 200, body } = answer(req);
      return { status, headers: {}, body: Buffer.from(body) };
    },
  };
}

const PUSH = { resource: 'org_office', repository: 'urn:uuid:us', strategy: ['create'], updatePolicy: 'NEWER', conflictPolicy: 'NEWER' };

describe('S3JSON on the wire', () => {
  it('pulls /sync/sync.s3json and hands back S3XML with the page\'s root attributes', async () => {
    const page = { '@last_seq': '42', '@more': 'false', $_org_office: [{ '@uuid': 'urn:uuid:o1', '@modified_on': '2024-01-01T00:00:00', name: 'Office 1', obsolete: { '@value': false, $: 'No' } }] };
    const peer = scripted(() => ({ body: JSON.stringify(page) }));
    const client = new PeerClient({ baseUrl: 'http://peer', transport: peer.transport, timeoutMs: 1000, clock, wireFormat: 's3json' });
    const body = await client.pull({ resource: 'org_office', repository: 'urn:uuid:us', sinceSeq: 7, limit: 50, filters: [], components: true });
    const url = new URL(peer.requests[0]!.url);
    assert.equal(url.pathname, '/sync/sync.s3json');
    assert.equal(url.searchParams.get('since_seq'), '7');
    assert.equal(peer.requests[0]!.headers.accept, 'application/json');
    const document = await parseS3XML(body);
    assert.deepEqual(document.attributes, { last_seq: '42', more: 'false' });
    assert.equal(document.resources[0]!.uuid, 'urn:uuid:o1');
    assert.deepEqual(document.resources[0]!.data.find((data) => data.field === 'obsolete'), { field: 'obsolete', value: 'false', text: 'No' });
  });

  it('refuses a pull answer that is not S3JSON with PEER_BAD_RESPONSE', async () => {
    const peer = scripted(() => ({ body: '<s3xml/>' }));
    const client = new PeerClient({ baseUrl: 'http://peer', transport: peer.transport, timeoutMs: 1000, clock, wireFormat: 's3json' });
    await assert.rejects(client.pull({ resource: 'org_office', repository: 'urn:uuid:us', filters: [], components: true }), { code: 'PEER_BAD_RESPONSE' });
  });

  it('pushes S3JSON, and S3XML for a page S3JSON cannot carry', async () => {
    const peer = scripted(() => ({ body: '{"status":"success","statuscode":"200"}' }));
    const client = new PeerClient({ baseUrl: 'http://peer', transport: peer.transport, timeoutMs: 1000, clock, wireFormat: 's3json' });
    await client.push(PUSH, Buffer.from('<s3xml><resource name="org_office" uuid="urn:uuid:o1"><data field="name">A</data></resource></s3xml>'));
    const json = peer.requests[0]!;
    assert.equal(new URL(json.url).pathname, '/sync/sync.s3json');
    assert.match(json.headers['content-type']!, /^application\/json/);
    assert.deepEqual(JSON.parse(json.body!.toString()), { $_org_office: [{ '@uuid': 'urn:uuid:o1', name: 'A' }] });

    await client.push(PUSH, Buffer.from('<s3xml><resource name="org_office" uuid="urn:uuid:o2"><data field="@odd">A</data></resource></s3xml>'));
    const fallback = peer.requests[1]!;
    assert.equal(new URL(fallback.url).pathname, '/sync/sync.xml');
    assert.match(fallback.headers['content-type']!, /^text\/xml/);
    assert.match(fallback.body!.toString(), /field="@odd"/);
  });

  it('speaks S3XML unless told otherwise', async () => {
    const peer = scripted(() => ({ body: '{"status":"success"}' }));
    const client = new PeerClient({ baseUrl: 'http://peer', transport: peer.transport, timeoutMs: 1000, clock });
    await client.push(PUSH, Buffer.from('<s3xml/>'));
    assert.equal(new URL(peer.requests[0]!.url).pathname, '/sync/sync.xml');
  });
});
