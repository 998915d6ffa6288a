/**
 * A peer's options.xml for the mapping editor: read with the repository's credentials from a real
 * second gateway, and a clear failure when the peer is not there.
 */
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { createSecretBox, loadSecretKey } from '../../src/secrets.js';
import { parseOptionsXml, peerOptionsLookup, type PeerOptionsLookup } from '../../src/sync/peer-options.js';
import { createUndiciTransport } from '../../src/sync/undici-transport.js';
import { ADMIN, startTestGateway, type TestGateway } from '../support/gateway.js';
import { textData } from '../support/records.js';

async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('the values a peer lists in its options.xml', () => {
  let here: TestGateway;
  let peer: TestGateway;
  let lookup: PeerOptionsLookup;
  const transport = createUndiciTransport();

  before(async () => {
    [here, peer] = await Promise.all([startTestGateway({ name: 'hub' }), startTestGateway({ name: 'peer' })]);
    for (const [index, status] of ['Functioning', 'Damaged', 'Functioning'].entries()) {
      await peer.store.putRecord({
        resource: 'med_hospital',
        uuid: `urn:uuid:9d4e0c00-0000-4000-8000-00000000000${index}`,
        mci: 0,
        modified_on: '2024-06-01T08:00:00',
        deleted: false,
        attributes: {},
        data: [textData('status', status)],
        references: [],
      });
    }
    lookup = peerOptionsLookup({ store: here.store, secrets: createSecretBox(loadSecretKey({ dataDir: here.dataDir })), transport: transport.transport, timeoutMs: 2000 });
  });

  after(async () => {
    await transport.close();
    await here?.stop();
    await peer?.stop();
  });

  it('reads the option values of a field with the repository\'s credentials', async () => {
    const repository = await here.sync.repositories.add({ name: 'peer', url: peer.url, username: ADMIN.user, password: ADMIN.password });
    const values = await lookup(repository.uuid, 'med_hospital', 'status');
    assert.deepEqual(values.map((option) => option.value).sort(), ['Damaged', 'Functioning']);
  });

  it('says the peer cannot be reached when nothing listens at its address', async () => {
    const port = await closedPort();
    await here.store.putRepository({
      uuid: 'urn:uuid:9d4e0c00-1111-4000-8000-000000000001',
      name: 'gone',
      apitype: 'eden',
      url: `http://127.0.0.1:${port}`,
      config: { software: 'sluice' },
      created_at: '2024-01-01T00:00:00',
      updated_at: '2024-01-01T00:00:00',
    });
    await assert.rejects(lookup('urn:uuid:9d4e0c00-1111-4000-8000-000000000001', 'med_hospital', 'status'), (error: { code?: string; message?: string }) => {
      assert.equal(error.code, 'PEER_UNAVAILABLE');
      assert.match(error.message ?? '', /gone cannot be reached/);
      return true;
    });
  });

  it('takes the options of the named field from a multi-field answer and leaves out the empty choice', () => {
    const xml = `<options resource="org_office"><select name="type"><option value="">-</option><option value="3">Field Office</option></select>
      <select name="status"><option value="1">Open</option><option value="2">2</option></select></options>`;
    assert.deepEqual(parseOptionsXml(xml, 'status'), [{ value: '1', text: 'Open' }, { value: '2' }]);
    assert.deepEqual(parseOptionsXml(xml, 'type'), [{ value: '3', text: 'Field Office' }]);
  });
});
