/**
 * Partners' public keys. A bundle is only ever checked against the key this gateway holds for its
 * sender in the repository record (`config.public_key`), learnt at registration from the peer's
 * `/sync/config.json`, or — for partners that never meet on a network — from an identity card
 * carried by hand and checked by its fingerprint.
 */
import { SluiceError } from '../errors.js';
import { formatTimestamp, type Clock } from '../s3xml/timestamps.js';
import type { RepositoryRecord, Store } from '../store/store.js';
import { keyFingerprint } from './container.js';

export interface IdentityCard {
  format: 'sluice-identity';
  uuid: string;
  name: string;
  public_key: string;
  fingerprint: string;
}

export function identityCard(identity: { uuid: string; name: string }, publicKey: string): IdentityCard {
  return { format: 'sluice-identity', uuid: identity.uuid, name: identity.name, public_key: publicKey, fingerprint: keyFingerprint(publicKey) };
}

export function parseIdentityCard(text: string): IdentityCard {
  let card: Partial<IdentityCard>;
  try {
    card = JSON.parse(text) as Partial<IdentityCard>;
  } catch {
    throw new SluiceError('BAD_IDENTITY_CARD', 'the identity card is not JSON', { status: 400, fix: 'Use the file written by sluice bundle identity on the partner\'s gateway' });
  }
  if (card.format !== 'sluice-identity' || typeof card.uuid !== 'string' || typeof card.public_key !== 'string' || card.uuid === '') {
    throw new SluiceError('BAD_IDENTITY_CARD', 'the identity card lacks a uuid or a public key', { status: 400, fix: 'Use the file written by sluice bundle identity on the partner\'s gateway' });
  }
  if (card.fingerprint !== undefined && card.fingerprint !== keyFingerprint(card.public_key)) {
    throw new SluiceError('BAD_IDENTITY_CARD', 'the identity card\'s fingerprint does not match its key: the card was altered', { status: 400 });
  }
  return { format: 'sluice-identity', uuid: card.uuid, name: typeof card.name === 'string' && card.name ? card.name : card.uuid, public_key: card.public_key, fingerprint: keyFingerprint(card.public_key) };
}

export function partnerKey(repository: Pick<RepositoryRecord, 'config'>): string | undefined {
  const key = repository.config.public_key;
  return typeof key === 'string' && key !== '' ? key : undefined;
}

/** A repository by uuid or by name (case-insensitive), as the sync module's registry resolves it. */
export async function resolvePartner(store: Store, reference: string): Promise<RepositoryRecord> {
  const byUuid = await store.getRepository(reference);
  if (byUuid) return byUuid;
  const matches = (await store.listRepositories()).filter((repository) => repository.name.toLowerCase() === reference.toLowerCase());
  if (matches.length === 1) return matches[0]!;
  throw new SluiceError(matches.length > 1 ? 'REPOSITORY_AMBIGUOUS' : 'REPOSITORY_NOT_FOUND', matches.length > 1 ? `${matches.length} repositories are called "${reference}"` : `There is no repository "${reference}"`, {
    status: matches.length > 1 ? 409 : 404,
    fix: 'List repositories with sluice repo list; add an offline partner with sluice bundle partner add',
  });
}

/**
 * Adds a partner known only by its identity card (no URL: bundles only), or sets the key of an
 * existing repository with that uuid. `expectFingerprint`, when given, must match (the operator read
 * it from the partner out of band).
 */
export async function addPartner(store: Store, clock: Clock, card: IdentityCard, options: { name?: string; expectFingerprint?: string; ownUuid: string }): Promise<RepositoryRecord> {
  if (card.uuid === options.ownUuid) throw new SluiceError('PEER_IS_SELF', 'this identity card is this gateway\'s own', { status: 400 });
  if (options.expectFingerprint !== undefined && options.expectFingerprint.toLowerCase() !== card.fingerprint) {
    throw new SluiceError('PEER_IDENTITY_CHANGED', `the card's key fingerprint is ${card.fingerprint}, not the confirmed ${options.expectFingerprint}`, {
      status: 409,
      fix: 'Nothing was stored. Get the partner\'s card again and compare fingerprints with them',
    });
  }
  const existing = await store.getRepository(card.uuid);
  const at = formatTimestamp(clock.now());
  const record: RepositoryRecord = existing
    ? { ...existing, ...(options.name ? { name: options.name } : {}), config: { ...existing.config, public_key: card.public_key }, updated_at: at }
    : {
        uuid: card.uuid,
        name: options.name ?? card.name,
        apitype: 'eden',
        config: { software: 'sluice', accept_push: true, peer_name: card.name, public_key: card.public_key, transport: 'bundle' },
        created_at: at,
        updated_at: at,
      };
  await store.putRepository(record);
  return record;
}
