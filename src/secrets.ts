/**
 * Secrets at rest (peer passwords, tokens): AES-256-GCM with a random 96-bit IV per secret and the
 * owner's id as additional authenticated data, so a sealed password copied onto another repository
 * does not open there. The key comes from SLUICE_SECRET_KEY (through the config) or from a key file
 * created in the data directory with mode 0600 at first use.
 *
 * A sealed secret is a string: `v1:<iv>:<tag>:<ciphertext>` (base64url parts). Nothing here logs.
 */
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import { chmodSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { SluiceError } from './errors.js';

export const SECRET_KEY_FILE = 'secret.key';
const VERSION = 'v1';
const KEY_BYTES = 32;
const IV_BYTES = 12;

export interface SecretBox {
  /** Encrypts `plain` for `owner` (e.g. a repository uuid). */
  seal(plain: string, owner: string): string;
  /** Decrypts a sealed secret of `owner`; SECRET_UNREADABLE when the key or owner do not match. */
  open(sealed: string, owner: string): string;
}

export function isSealed(value: unknown): value is string {
  return typeof value === 'string' && value.startsWith(`${VERSION}:`) && value.split(':').length === 4;
}

/**
 * The key from SLUICE_SECRET_KEY: 32 bytes as 64 hex digits or base64, or any other passphrase,
 * stretched with HKDF (a passphrase is only as strong as it is long).
 */
export function keyFromText(text: string): Buffer {
  const trimmed = text.trim();
  if (trimmed === '') {
    throw new SluiceError('BAD_SECRET_KEY', 'SLUICE_SECRET_KEY is empty', { status: 500, fix: 'Unset it to use the key file, or give 32 random bytes (openssl rand -base64 32)' });
  }
  if (/^[0-9a-f]{64}$/i.test(trimmed)) return Buffer.from(trimmed, 'hex');
  if (/^[A-Za-z0-9+/_-]{43}=?$/.test(trimmed)) {
    const decoded = Buffer.from(trimmed, trimmed.includes('-') || trimmed.includes('_') ? 'base64url' : 'base64');
    if (decoded.length === KEY_BYTES) return decoded;
  }
  return Buffer.from(hkdfSync('sha256', Buffer.from(trimmed, 'utf8'), 'sluice-secret-key', 'aes-256-gcm', KEY_BYTES));
}

/**
 * Reads `<dataDir>/secret.key`, creating it (32 random bytes, mode 0600) when missing. Two
 * processes starting at once both end up with the one file that was created first.
 */
export function loadKeyFile(dataDir: string): Buffer {
  const file = path.join(dataDir, SECRET_KEY_FILE);
  try {
    writeFileSync(file, randomBytes(KEY_BYTES).toString('base64') + '\n', { mode: 0o600, flag: 'wx' });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') {
      throw new SluiceError('SECRET_KEY_UNAVAILABLE', `Cannot create the secret key file ${file}: ${(error as Error).message}`, {
        status: 500,
        fix: 'Make the data directory writable, or set SLUICE_SECRET_KEY',
        cause: error,
      });
    }
  }
  let text: string;
  try {
    // A key readable by others is tightened rather than refused: the data directory is ours.
    if ((statSync(file).mode & 0o077) !== 0) chmodSync(file, 0o600);
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new SluiceError('SECRET_KEY_UNAVAILABLE', `Cannot read the secret key file ${file}: ${(error as Error).message}`, {
      status: 500,
      fix: 'Check the permissions of the data directory, or set SLUICE_SECRET_KEY',
      cause: error,
    });
  }
  const key = Buffer.from(text.trim(), 'base64');
  if (key.length !== KEY_BYTES) {
    throw new SluiceError('BAD_SECRET_KEY', `The secret key file ${file} does not hold 32 base64 bytes`, {
      status: 500,
      fix: 'Restore the key file from a backup; without it the stored peer passwords cannot be read and must be entered again',
    });
  }
  return key;
}

/** The key the configuration asks for: SLUICE_SECRET_KEY when set, else the data directory's key file. */
export function loadSecretKey(options: { secretKey?: string; dataDir: string }): Buffer {
  return options.secretKey !== undefined ? keyFromText(options.secretKey) : loadKeyFile(options.dataDir);
}

export function createSecretBox(key: Buffer): SecretBox {
  if (key.length !== KEY_BYTES) throw new SluiceError('BAD_SECRET_KEY', 'The secret key must be 32 bytes', { status: 500 });
  return {
    seal(plain, owner) {
      const iv = randomBytes(IV_BYTES);
      const cipher = createCipheriv('aes-256-gcm', key, iv);
      cipher.setAAD(Buffer.from(owner, 'utf8'));
      const body = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
      return [VERSION, iv.toString('base64url'), cipher.getAuthTag().toString('base64url'), body.toString('base64url')].join(':');
    },
    open(sealed, owner) {
      const unreadable = () =>
        new SluiceError('SECRET_UNREADABLE', 'A stored secret cannot be decrypted with this key', {
          status: 500,
          fix: 'The secret key changed (SLUICE_SECRET_KEY or data/secret.key); restore it, or enter the password again',
        });
      if (!isSealed(sealed)) throw unreadable();
      const [, iv, tag, body] = sealed.split(':') as [string, string, string, string];
      try {
        const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'));
        decipher.setAAD(Buffer.from(owner, 'utf8'));
        decipher.setAuthTag(Buffer.from(tag, 'base64url'));
        return Buffer.concat([decipher.update(Buffer.from(body, 'base64url')), decipher.final()]).toString('utf8');
      } catch {
        throw unreadable();
      }
    },
  };
}
