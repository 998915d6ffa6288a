import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync, chmodSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { createSecretBox, isSealed, keyFromText, loadKeyFile, loadSecretKey, SECRET_KEY_FILE } from '../src/secrets.js';

const folder = mkdtempSync(path.join(tmpdir(), 'sluice-secrets-'));
after(() => rmSync(folder, { recursive: true, force: true }));

function rejectsCode(work: () => unknown, code: string): void {
  assert.throws(work, (error: { code?: string }) => error.code === code);
}

describe('secrets at rest', () => {
  it('seals with AES-256-GCM so that only the same key and owner open it, with a fresh IV every time', () => {
    const box = createSecretBox(keyFromText('a long passphrase for the tests'));
    const sealed = box.seal('peer password', 'urn:uuid:peer-1');
    assert.ok(isSealed(sealed));
    assert.ok(!sealed.includes('peer password'));
    assert.notEqual(box.seal('peer password', 'urn:uuid:peer-1'), sealed);
    assert.equal(box.open(sealed, 'urn:uuid:peer-1'), 'peer password');
    rejectsCode(() => box.open(sealed, 'urn:uuid:peer-2'), 'SECRET_UNREADABLE');
    rejectsCode(() => createSecretBox(keyFromText('another key')).open(sealed, 'urn:uuid:peer-1'), 'SECRET_UNREADABLE');
    const parts = sealed.split(':');
    const tampered = [...parts.slice(0, 3), Buffer.from('x' + Buffer.from(parts[3]!, 'base64url').toString('latin1'), 'latin1').toString('base64url')].join(':');
    rejectsCode(() => box.open(tampered, 'urn:uuid:peer-1'), 'SECRET_UNREADABLE');
    rejectsCode(() => box.open('plain text', 'urn:uuid:peer-1'), 'SECRET_UNREADABLE');
  });

  it('reads SLUICE_SECRET_KEY as 64 hex digits, 32 base64 bytes or a passphrase', () => {
    const raw = Buffer.alloc(32, 7);
    assert.deepEqual(keyFromText(raw.toString('hex')), raw);
    assert.deepEqual(keyFromText(raw.toString('base64')), raw);
    assert.deepEqual(keyFromText('passphrase'), keyFromText(' passphrase '));
    assert.equal(keyFromText('passphrase').length, 32);
    rejectsCode(() => keyFromText('   '), 'BAD_SECRET_KEY');
  });

  it('creates the key file once with mode 0600 and reads the same key afterwards', () => {
    const dir = mkdtempSync(path.join(folder, 'data-'));
    const key = loadKeyFile(dir);
    const file = path.join(dir, SECRET_KEY_FILE);
    assert.equal(statSync(file).mode & 0o777, 0o600);
    assert.deepEqual(loadKeyFile(dir), key);
    assert.deepEqual(loadSecretKey({ dataDir: dir }), key);
    assert.notDeepEqual(loadSecretKey({ dataDir: dir, secretKey: 'from the environment' }), key);
    chmodSync(file, 0o644);
    loadKeyFile(dir);
    assert.equal(statSync(file).mode & 0o777, 0o600, 'a key readable by others is tightened');
    assert.equal(readFileSync(file, 'utf8').trim().length, 44);
  });

  it('refuses a key file that does not hold a key', () => {
    const dir = mkdtempSync(path.join(folder, 'broken-'));
    writeFileSync(path.join(dir, SECRET_KEY_FILE), 'not a key', { mode: 0o600 });
    rejectsCode(() => loadKeyFile(dir), 'BAD_SECRET_KEY');
  });
});
