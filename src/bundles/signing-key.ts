/**
 * The gateway's bundle signing key (Ed25519), kept in `<dataDir>/bundle-signing.key` (PKCS#8 PEM,
 * mode 0600) and created at first use. This file is the composition part of src/bundles: the one
 * that touches the disk. The public key is also written to the store's settings
 * (`bundle.public_key`) so the passive `/sync/config.json` can publish it to peers that register.
 */
import { createPrivateKey, createPublicKey, generateKeyPairSync } from 'node:crypto';
import { chmodSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { SluiceError } from '../errors.js';
import type { Store } from '../store/store.js';
import type { BundleSigner } from './container.js';

export const SIGNING_KEY_FILE = 'bundle-signing.key';
export const PUBLIC_KEY_SETTING = 'bundle.public_key';

export function loadSigningKey(dataDir: string): BundleSigner {
  const file = path.join(dataDir, SIGNING_KEY_FILE);
  try {
    const { privateKey } = generateKeyPairSync('ed25519');
    // 'wx': two processes starting at once both keep the key that was written first.
    writeFileSync(file, privateKey.export({ format: 'pem', type: 'pkcs8' }), { mode: 0o600, flag: 'wx' });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') {
      throw new SluiceError('SIGNING_KEY_UNAVAILABLE', `Cannot create the bundle signing key ${file}: ${(error as Error).message}`, {
        status: 500,
        cause: error,
        fix: 'Make the data directory writable',
      });
    }
  }
  try {
    if ((statSync(file).mode & 0o077) !== 0) chmodSync(file, 0o600);
    const privateKey = createPrivateKey(readFileSync(file, 'utf8'));
    if (privateKey.asymmetricKeyType !== 'ed25519') throw new Error('not an Ed25519 key');
    const publicKey = createPublicKey(privateKey).export({ format: 'der', type: 'spki' }).toString('base64');
    return { privateKey, publicKey };
  } catch (error) {
    throw new SluiceError('SIGNING_KEY_UNAVAILABLE', `Cannot read the bundle signing key ${file}: ${(error as Error).message}`, {
      status: 500,
      cause: error,
      fix: 'Restore the key file from a backup, or move it away to create a new one (partners must then add the new identity card)',
    });
  }
}

/** Loads (or creates) the key and publishes its public half in the store's settings. */
export async function ensureSigningKey(dataDir: string, store: Pick<Store, 'getSetting' | 'setSetting'>): Promise<BundleSigner> {
  const signer = loadSigningKey(dataDir);
  if ((await store.getSetting(PUBLIC_KEY_SETTING)) !== signer.publicKey) await store.setSetting(PUBLIC_KEY_SETTING, signer.publicKey);
  return signer;
}
