/**
 * Linking a repository to its mapping instance from the CLI (`repo set --mapping`) and the admin
 * API (PATCH {"mapping"}): only a mapping that exists and compiles is linked; "none" / null unlinks.
 */
import assert from 'node:assert/strict';
import { copyFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { EXIT } from '../../../src/cli/exit-codes.js';
import { openSqliteStore } from '../../../src/store/sqlite-store.js';
import { runCli } from '../../sync/support/gateways.js';
import { startTestGateway, type TestGateway } from '../../support/gateway.js';

const EXAMPLE = new URL('../../fixtures/formats/mappings/eden-kathmandu.json', import.meta.url);
const REPOSITORY = { uuid: 'urn:uuid:kathmandu', name: 'kathmandu', apitype: 'eden', url: 'http://127.0.0.1:1/eden', created_at: '2024-01-01T00:00:00', updated_at: '2024-01-01T00:00:00', config: {} };

describe('linking a repository to a mapping instance', { timeout: 90_000 }, () => {
  let mappingsDir: string;
  let dataDir: string;
  let gateway: TestGateway;

  const linkedMapping = async (): Promise<unknown> => {
    const store = await openSqliteStore({ file: path.join(dataDir, 'sluice.db') });
    try {
      return (await store.getRepository(REPOSITORY.uuid))?.config['mapping'];
    } finally {
      await store.close();
    }
  };

  before(async () => {
    mappingsDir = await mkdtemp(path.join(os.tmpdir(), 'sluice-link-mappings-'));
    await copyFile(EXAMPLE, path.join(mappingsDir, 'eden-kathmandu.json'));
    await writeFile(path.join(mappingsDir, 'broken.json'), JSON.stringify({ instance: 'broken', resources: [{ local: 'org_office', fields: [{ local: 'x', inbound: { unmapped: { policy: 'sometimes' } } }] }] }));
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'sluice-link-data-'));
    const store = await openSqliteStore({ file: path.join(dataDir, 'sluice.db') });
    await store.putRepository(REPOSITORY);
    await store.close();
    gateway = await startTestGateway({ env: { SLUICE_MAPPINGS: mappingsDir } });
    await gateway.store.putRepository(REPOSITORY);
  });

  after(async () => {
    await gateway?.stop();
    await rm(mappingsDir, { recursive: true, force: true });
    await rm(dataDir, { recursive: true, force: true });
  });

  it('repo set --mapping links an instance that compiles, refuses a broken or missing one, and "none" unlinks', async () => {
    const env = { SLUICE_MAPPINGS: mappingsDir };
    const linked = await runCli(['repo', 'set', 'kathmandu', '--mapping', 'eden-kathmandu', '--data', dataDir], { env });
    assert.equal(linked.code, 0, linked.stderr);
    assert.match(linked.stdout, /Its syncs apply the mapping eden-kathmandu from the next run/);
    assert.equal(await linkedMapping(), 'eden-kathmandu');

    const broken = await runCli(['repo', 'set', 'kathmandu', '--mapping', 'broken', '--data', dataDir], { env });
    assert.equal(broken.code, EXIT.DATA);
    assert.match(broken.stderr, /MAPPING_INVALID/);
    const missing = await runCli(['repo', 'set', 'kathmandu', '--mapping', 'nobody', '--data', dataDir], { env });
    assert.equal(missing.code, EXIT.DATA);
    assert.match(missing.stderr, /MAPPING_NOT_FOUND/);
    assert.equal(await linkedMapping(), 'eden-kathmandu', 'a refused link changes nothing');

    const unlinked = await runCli(['repo', 'set', 'kathmandu', '--mapping', 'none', '--data', dataDir], { env });
    assert.equal(unlinked.code, 0, unlinked.stderr);
    assert.equal(await linkedMapping(), undefined);
  });

  it('the admin API links with PATCH {"mapping"} under the same checks and unlinks with null', async () => {
    const patch = (body: unknown) =>
      gateway.request(`/api/repositories/${encodeURIComponent(REPOSITORY.uuid)}`, { method: 'PATCH', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const linked = await patch({ mapping: 'eden-kathmandu' });
    assert.equal(linked.status, 200, await linked.clone().text());
    assert.equal(((await linked.json()) as { name: string }).name, 'kathmandu');
    assert.equal((await gateway.store.getRepository(REPOSITORY.uuid))?.config['mapping'], 'eden-kathmandu');

    const broken = await patch({ mapping: 'broken', page_size: 200 });
    assert.equal(broken.status, 422);
    assert.equal(((await broken.json()) as { code: string }).code, 'MAPPING_INVALID');
    const repository = await gateway.store.getRepository(REPOSITORY.uuid);
    assert.equal(repository?.config['mapping'], 'eden-kathmandu');
    assert.equal(JSON.stringify(repository?.config).includes('"page_size":200'), false, 'nothing of a refused patch is applied');

    const unlinked = await patch({ mapping: null });
    assert.equal(unlinked.status, 200);
    assert.equal((await gateway.store.getRepository(REPOSITORY.uuid))?.config['mapping'], undefined);
  });
});
