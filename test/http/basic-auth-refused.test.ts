/**
 * Missing and refused credentials are told apart: AUTH_REQUIRED asks for some, AUTH_FAILED says
 * the ones sent were refused (both 401 with the Basic challenge). The CLI's --url mode turns the
 * latter into a fix about its own flags.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { EXIT } from '../../src/cli/exit-codes.js';
import { runCli } from '../sync/support/gateways.js';
import { ADMIN, startTestGateway, type TestGateway } from '../support/gateway.js';

describe('credentials refused by the gateway', { timeout: 60_000 }, () => {
  let gateway: TestGateway;

  before(async () => {
    gateway = await startTestGateway();
  });
  after(() => gateway?.stop());

  it('a wrong password is answered 401 AUTH_FAILED with the challenge kept', async () => {
    const response = await gateway.request('/api/repositories', { auth: { user: ADMIN.user, password: 'wrong' } });
    assert.equal(response.status, 401);
    assert.equal(response.headers.get('www-authenticate'), 'Basic realm="sluice"');
    const body = (await response.json()) as { code: string; message: string; fix: string };
    assert.equal(body.code, 'AUTH_FAILED');
    assert.equal(body.message, 'The user name or password was refused');
    assert.ok(body.fix.length > 0);
  });

  it('no credentials at all is still AUTH_REQUIRED', async () => {
    const response = await gateway.request('/api/repositories', { auth: false });
    assert.equal(response.status, 401);
    assert.equal(response.headers.get('www-authenticate'), 'Basic realm="sluice"');
    assert.equal(((await response.json()) as { code: string }).code, 'AUTH_REQUIRED');
  });

  it('repo list --url with a wrong --api-password exits 77 with a fix naming the flags', async () => {
    const result = await runCli(['repo', 'list', '--url', gateway.url, '--api-user', ADMIN.user, '--api-password', 'wrong']);
    assert.equal(result.code, EXIT.NO_PERMISSION, result.stderr);
    assert.match(result.stderr, /^sluice: AUTH_FAILED: The user name or password was refused\n/);
    assert.match(result.stderr, /what to do: Check --api-user and --api-password .*SLUICE_ADMIN_PASSWORD/);
  });
});
