/**
 * The bundle file: one signed manifest and the parts it lists, in one file that survives a USB stick
 * or an email attachment.
 *
 *   SLUICE-BUNDLE/1\n
 *   {"manifest":{…},"signature":"<128 hex>"}\n
 *   <part 1 bytes><part 2 bytes>…
 *
 * The signature (Ed25519) covers the first line and the manifest exactly as written; the manifest
 * holds the length and SHA-256 of every part. So every byte of the file is covered: a flipped byte
 * breaks the magic, the JSON, the signature or a checksum; a cut file lacks bytes the manifest
 * promised; anything after the last part is refused too. The header is also required to be in the
 * one form this writer produces (lower-case hex, compact JSON), because lenient decoders (hex case,
 * spare base64 bits) would otherwise let some flips through unnoticed.
 *
 * Pure: bytes and keys in, bytes out. No disk, no clock.
 */
import { createHash, createPublicKey, sign, verify, type KeyObject } from 'node:crypto';
import { SluiceError } from '../errors.js';
import type { BundleManifest } from './manifest.js';

export const BUNDLE_MAGIC = 'SLUICE-BUNDLE/1\n';
/** A header larger than this is not one of ours (a manifest lists parts, not records). */
const MAX_HEADER_BYTES = 4 * 1024 * 1024;

export interface BundleSigner {
  /** This gateway's public key: base64 of the DER SubjectPublicKeyInfo. */
  publicKey: string;
  privateKey: KeyObject;
}

export interface BundlePart {
  bytes: Buffer;
}

export function sha256(bytes: Buffer | string): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** A short, human-comparable fingerprint of a public key (read it out over the phone). */
export function keyFingerprint(publicKey: string): string {
  return (sha256(Buffer.from(publicKey, 'base64')).slice(0, 32).match(/.{4}/g) ?? []).join(':');
}

function publicKeyObject(publicKey: string): KeyObject {
  try {
    return createPublicKey({ key: Buffer.from(publicKey, 'base64'), format: 'der', type: 'spki' });
  } catch (error) {
    throw new SluiceError('BUNDLE_BAD_KEY', 'the public key of the bundle\'s sender is not an Ed25519 key', {
      status: 400,
      cause: error,
      fix: 'Exchange identity cards with the partner again (sluice bundle identity / sluice bundle partner add)',
    });
  }
}

function signedText(manifestJson: string): Buffer {
  return Buffer.from(`${BUNDLE_MAGIC}${manifestJson}`, 'utf8');
}

/** Writes the file. `manifest.parts` must already describe `parts` (see `describePart`). */
export function writeBundle(manifest: BundleManifest, parts: readonly Buffer[], signer: BundleSigner): Buffer {
  if (manifest.parts.length !== parts.length) throw new Error('every part needs its manifest entry');
  const manifestJson = JSON.stringify(manifest);
  const signature = sign(null, signedText(manifestJson), signer.privateKey).toString('hex');
  const header = `{"manifest":${manifestJson},"signature":"${signature}"}\n`;
  return Buffer.concat([Buffer.from(BUNDLE_MAGIC + header, 'utf8'), ...parts]);
}

export function describePart(bytes: Buffer): { bytes: number; sha256: string } {
  return { bytes: bytes.length, sha256: sha256(bytes) };
}

function damaged(message: string, code = 'BUNDLE_DAMAGED'): SluiceError {
  return new SluiceError(code, message, {
    status: 400,
    fix: 'Nothing was applied. Copy the bundle again from its source (or export it again there) and import the new copy',
  });
}

export interface OpenedBundle {
  manifest: BundleManifest;
  /** The signed manifest's parts, in order, each checked against its length and SHA-256. */
  parts: Buffer[];
  /** The SHA-256 of the whole file, for the log. */
  digest: string;
}

/** Reads the manifest without checking anything: only to learn who signed it (then `openBundle`). */
export function peekManifest(file: Buffer): BundleManifest {
  return readHeader(file).manifest;
}

interface Header {
  manifest: BundleManifest;
  manifestJson: string;
  signature: string;
  end: number;
}

function readHeader(file: Buffer): Header {
  if (file.length < BUNDLE_MAGIC.length || file.subarray(0, BUNDLE_MAGIC.length).toString('latin1') !== BUNDLE_MAGIC) {
    throw damaged('this is not a Sluice bundle, or its first line is damaged', 'BUNDLE_NOT_A_BUNDLE');
  }
  const newline = file.indexOf(0x0a, BUNDLE_MAGIC.length);
  if (newline < 0) {
    if (file.length - BUNDLE_MAGIC.length > MAX_HEADER_BYTES) throw damaged('the bundle\'s manifest is damaged');
    throw damaged('the bundle is truncated: its manifest is incomplete', 'BUNDLE_TRUNCATED');
  }
  if (newline - BUNDLE_MAGIC.length > MAX_HEADER_BYTES) throw damaged('the bundle\'s manifest is too large to be one');
  const headerBytes = file.subarray(BUNDLE_MAGIC.length, newline);
  const headerText = headerBytes.toString('utf8');
  if (!Buffer.from(headerText, 'utf8').equals(headerBytes)) throw damaged('the bundle\'s manifest is not valid UTF-8');
  let parsed: unknown;
  try {
    parsed = JSON.parse(headerText);
  } catch {
    throw damaged('the bundle\'s manifest is not valid JSON');
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw damaged('the bundle\'s manifest has the wrong shape');
  const { manifest, signature } = parsed as { manifest?: unknown; signature?: unknown };
  if (typeof signature !== 'string' || !/^[0-9a-f]{128}$/.test(signature)) throw damaged('the bundle\'s signature is damaged');
  if (manifest === null || typeof manifest !== 'object' || Array.isArray(manifest)) throw damaged('the bundle has no manifest');
  const manifestJson = JSON.stringify(manifest);
  if (headerText !== `{"manifest":${manifestJson},"signature":"${signature}"}`) throw damaged('the bundle\'s manifest is not in its written form');
  checkManifestShape(manifest as Record<string, unknown>);
  return { manifest: manifest as BundleManifest, manifestJson, signature, end: newline + 1 };
}

function checkManifestShape(manifest: Record<string, unknown>): void {
  if (manifest.format !== 'sluice-bundle' || manifest.version !== 1) {
    throw new SluiceError('BUNDLE_UNSUPPORTED', `this bundle has format ${String(manifest.format)} version ${String(manifest.version)}; this gateway reads sluice-bundle version 1`, {
      status: 400,
      fix: 'Update this gateway, or export the bundle with the version the receiver runs',
    });
  }
  const source = manifest.source as Record<string, unknown> | undefined;
  if (!source || typeof source.uuid !== 'string' || typeof source.public_key !== 'string') throw damaged('the bundle\'s manifest names no source');
  if (!Array.isArray(manifest.parts)) throw damaged('the bundle\'s manifest lists no parts');
  for (const part of manifest.parts as unknown[]) {
    const entry = part as Record<string, unknown> | null;
    if (!entry || !Number.isSafeInteger(entry.bytes) || (entry.bytes as number) < 0 || typeof entry.sha256 !== 'string') throw damaged('a part of the bundle\'s manifest is damaged');
  }
}

/**
 * Checks the whole file before anything is used: the signature against `trustedKey` (the sender's
 * key this gateway learnt at registration — never the key the bundle carries, which anyone could
 * write), then each part's length and checksum, then that nothing follows the last part.
 */
export function openBundle(file: Buffer, trustedKey: string): OpenedBundle {
  const header = readHeader(file);
  if (header.manifest.source.public_key !== trustedKey) {
    throw new SluiceError('BUNDLE_SIGNATURE_INVALID', `the bundle claims to come from ${header.manifest.source.name ?? header.manifest.source.uuid} but is signed with a key this gateway does not know for it (${keyFingerprint(header.manifest.source.public_key)})`, {
      status: 400,
      fix: 'Nothing was applied. Compare the key fingerprint with the partner (sluice bundle identity on their side); if their key changed, add their new identity card',
    });
  }
  const valid = verify(null, signedText(header.manifestJson), publicKeyObject(trustedKey), Buffer.from(header.signature, 'hex'));
  if (!valid) throw damaged('the bundle\'s signature does not match its manifest: the file was damaged or altered', 'BUNDLE_SIGNATURE_INVALID');
  const parts: Buffer[] = [];
  let offset = header.end;
  for (const [index, entry] of header.manifest.parts.entries()) {
    if (offset + entry.bytes > file.length) {
      throw damaged(`the bundle is truncated: part ${index + 1} of ${header.manifest.parts.length} should have ${entry.bytes} bytes, ${Math.max(0, file.length - offset)} are there`, 'BUNDLE_TRUNCATED');
    }
    const bytes = file.subarray(offset, offset + entry.bytes);
    if (sha256(bytes) !== entry.sha256) throw damaged(`part ${index + 1} of the bundle (${entry.name}) does not match its checksum: the file is damaged`, 'BUNDLE_CHECKSUM_MISMATCH');
    parts.push(bytes);
    offset += entry.bytes;
  }
  if (offset !== file.length) throw damaged(`the bundle has ${file.length - offset} bytes after its last part`);
  return { manifest: header.manifest, parts, digest: sha256(file) };
}
