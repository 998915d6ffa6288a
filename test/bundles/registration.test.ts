/**
 * Peers that do meet on a network learn each other's bundle key at registration (fingerprint
 * first, from /sync/config.json), so their later bundles are accepted without identity cards.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { exportSelectionBundle } from '../../src/bundles/export-bundle.js';
import { importBundle } from '../../src/bundles/import-bundle.js';
import { loadSigningKey } from '../../src/bundles/signing-key.js';
import { importResources } from '../../src/importer/importer.js';
import { parseS3XML } from '../../src/s3xml/parse.js';
import { systemClock } from '../../src/s3xml/timestamps.js';
import { ADMIN, startTestGateway, type TestGateway } from '../support/gateway.js';

describe('bundle keys exchanged at registration', () => {
  let a: TestGateway;
  let b: TestGateway;
  before(async () => {
    [a, b] = await Promise.all([startTestGateway({ name: 'A' }), startTestGateway({ name: 'B' })]);
  });
  after(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
  });

  it('publishes the key in config.json, stores it with the repository and accepts the peer\'s bundles with it', async () => {
    const keyB = loadSigningKey(b.dataDir);
    const config = (await (await fetch(`${b.url}/sync/config.json`)).json()) as { public_key?: string };
    assert.equal(config.public_key, keyB.publicKey);

    const view = await a.sync.repositories.add({ name: 'B', url: b.url, username: ADMIN.user, password: ADMIN.password });
    assert.equal((await a.store.getRepository(view.uuid))!.config.public_key, keyB.publicKey);

    const doc = await parseS3XML('<s3xml><resource name="org_organisation" uuid="urn:uuid:reg-1" modified_on="2024-01-01T00:00:00"><data field="name">From B</data></resource></s3xml>');
    await importResources(b.store, doc.resources, { resource: 'org_organisation', clock: systemClock });
    const bundle = await exportSelectionBundle({ store: b.store, clock: systemClock, identity: b.identity, signer: keyB }, { resources: ['org_organisation'] });
    const report = await importBundle({ store: a.store, clock: systemClock, identity: a.identity, signer: loadSigningKey(a.dataDir) }, bundle.file);
    assert.equal(report.parts[0]!.created, 1);
    assert.ok(await a.store.getRecord('org_organisation', 'urn:uuid:reg-1'));
  });
});
