/**
 * What `sluice import` and `sluice export` tell a person beyond the counts: the records skipped
 * (and why), what to do with a CSV file, a warning for a table the store has never held, and the
 * domain of the gateway that runs on this data directory.
 */
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { EXIT } from '../../src/cli/exit-codes.js';
import { runCli } from '../sync/support/gateways.js';
import { startTestGateway, type TestGateway } from '../support/gateway.js';

const MIXED = `<s3xml>
<resource name="org_office" uuid="urn:uuid:msg-office"><data field="name">Pokhara office</data></resource>
<resource name="org_organisation" uuid="urn:uuid:msg-org"><data field="name">Not asked for</data></resource>
</s3xml>`;

describe('messages of sluice import and export', { timeout: 90_000 }, () => {
  let gateway: TestGateway;
  const env = { SLUICE_DOMAIN: '' };

  before(async () => {
    // SLUICE_DOMAIN=gw.test for this gateway; the CLI below runs without it.
    gateway = await startTestGateway();
  });
  after(() => gateway?.stop());

  it('lists each skipped record on stderr with its table, uuid and reason, and exits 3', async () => {
    const file = path.join(gateway.dataDir, 'mixed.xml');
    await writeFile(file, MIXED);
    const result = await runCli(['import', file, '--resource', 'org_office', '--data', gateway.dataDir], { env });
    assert.equal(result.code, EXIT.PARTIAL, result.stderr);
    assert.match(result.stdout, /1 skipped/);
    assert.match(result.stderr, /^skipped:\n  org_organisation urn:uuid:msg-org: NOT_SELECTED: .+\n/m);
  });

  it('refuses a CSV file with a code of its own and a fix naming the formats route', async () => {
    const file = path.join(gateway.dataDir, 'offices.csv');
    await writeFile(file, 'name,comments\nKathmandu office,x\n');
    const result = await runCli(['import', file, '--data', gateway.dataDir], { env });
    assert.equal(result.code, EXIT.DATA);
    assert.match(result.stderr, /FORMAT_NOT_S3XML: .*offices\.csv is a CSV file; sluice import reads S3XML \(\.xml\) and S3JSON/);
    assert.match(result.stderr, /what to do: .*PUT .*text\/csv.*\/org\/office\.csv/);
  });

  it('warns about a table the store has never held, names the close one, and still exits 0', async () => {
    const result = await runCli(['export', 'org_ofice', '--data', gateway.dataDir], { env });
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /results="0"/);
    assert.equal(result.stderr, 'warning: the store holds no org_ofice records at all. Did you mean org_office?\n');
    const known = await runCli(['export', 'org_office', '--data', gateway.dataDir, '--msince', '2099-01-01T00:00:00'], { env });
    assert.equal(known.stderr, '', 'an empty window of a known table is no mistake');
  });

  it('stamps exports with the domain of the gateway started on this data directory', async () => {
    const result = await runCli(['export', 'org_office', '--data', gateway.dataDir], { env });
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, new RegExp(`<s3xml [^>]*domain="gw\\.test" url="${gateway.url}"`));
  });
});
