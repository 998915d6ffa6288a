/**
 * When a sync fails because the peer cannot be reached, the log offers the bundle command for that
 * repository, so an operator can carry the changes by hand.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { SluiceError } from '../../src/errors.js';
import { silentLogger } from '../../src/logger.js';
import { createSecretBox } from '../../src/secrets.js';
import { systemClock } from '../../src/s3xml/timestamps.js';
import { openSqliteStore } from '../../src/store/sqlite-store.js';
import type { Store } from '../../src/store/store.js';
import { holderId } from '../../src/sync/lease.js';
import { offlineFallback } from '../../src/sync/run.js';
import { createSyncModule } from '../../src/sync/sync-module.js';
import type { PeerTransport } from '../../src/sync/transport.js';

describe('offline fallback when the network fails', () => {
  let dir: string;
  let store: Store;
  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'sluice-fallback-'));
    store = await openSqliteStore({ file: path.join(dir, 'sluice.db') });
  });
  after(async () => {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('a sync that cannot reach the peer logs the bundle command for that repository', async () => {
    const unreachable: PeerTransport = async () => {
      throw new SluiceError('PEER_UNAVAILABLE', 'connect ECONNREFUSED 127.0.0.1:9', { status: 502 });
    };
    const sync = createSyncModule({
      store,
      clock: systemClock,
      logger: silentLogger(),
      transport: unreachable,
      secrets: createSecretBox(randomBytes(32)),
      identity: { uuid: 'urn:uuid:fallback-self', name: 'self' },
      holder: holderId('test-host', 1, 'abcd'),
      retry: { sleep: async () => {} },
    });
    const at = '2024-01-01T00:00:00';
    await store.putRepository({ uuid: 'urn:uuid:fallback-peer', name: 'field-office', apitype: 'eden', url: 'http://127.0.0.1:9', config: { software: 'sluice' }, created_at: at, updated_at: at });
    await sync.tasks.add('field-office', 'org_organisation', { mode: 'both' });
    const outcome = await sync.syncNow('field-office', { trigger: 'cli' });
    assert.equal(outcome.run.status, 'error');
    const lines = await store.listLog({ repository: 'urn:uuid:fallback-peer', result: 'error' });
    assert.ok(lines.length > 0);
    assert.match(lines[0]!.message, /sluice bundle export --repo field-office --out field-office\.bundle/);
  });

  it('offers nothing for failures a file would not get round', () => {
    assert.equal(offlineFallback('PEER_AUTH_FAILED', 'x'), '');
    assert.match(offlineFallback('PEER_TIMEOUT', 'Field Office'), /--repo "Field Office" --out Field_Office\.bundle/);
  });
});
