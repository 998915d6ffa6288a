/**
 * Record identity: which stored record an incoming element is. Eden matches by uuid, and by the
 * table's dedup hook (usually a case-insensitive `name`) when there is no uuid. Sluice adds
 * deterministic uuids for elements that carry none, so importing the same document twice finds
 * the same records instead of creating copies.
 */
import { createHash } from 'node:crypto';
import { dataValue, type S3Resource } from '../s3xml/model.js';
import type { RecordAccess, StoredRecord } from '../store/store.js';

/** Eden's `import_uid`: our own `domain/` prefix comes back from peers and is not part of the uid. */
export function stripLocalDomain(uid: string, localDomain: string | undefined): string {
  const trimmed = uid.trim();
  if (localDomain && trimmed.startsWith(`${localDomain}/`)) return trimmed.slice(localDomain.length + 1);
  return trimmed;
}

/** A namespace of our own so that derived uuids cannot collide with other UUIDv5 users. */
const SLUICE_NAMESPACE = 'sluice:importer:v1';

/**
 * A name-based uuid (the UUIDv5 construction: SHA-1, version and variant bits set) over the parts,
 * formatted the way Eden formats its own uids (`urn:uuid:…`).
 */
export function deterministicUuid(...parts: string[]): string {
  const hash = createHash('sha1');
  hash.update(SLUICE_NAMESPACE);
  for (const part of parts) {
    // Length-prefix each part so ("ab","c") and ("a","bc") hash differently.
    hash.update(`\u0000${part.length}:${part}`);
  }
  const bytes = hash.digest().subarray(0, 16);
  bytes[6] = ((bytes[6] ?? 0) & 0x0f) | 0x50;
  bytes[8] = ((bytes[8] ?? 0) & 0x3f) | 0x80;
  const hex = bytes.toString('hex');
  return `urn:uuid:${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

/** The `name` data field as S3Duplicate compares it (trimmed, case-insensitive), if any. */
export function duplicateKey(resource: S3Resource): string | undefined {
  const entry = resource.data.find((data) => data.field === 'name');
  if (!entry) return undefined;
  const value = dataValue(entry);
  if (value === null || Array.isArray(value)) return undefined;
  const key = String(value).trim().toLowerCase();
  return key === '' ? undefined : key;
}

/** A stable digest of what an element says, for elements with neither uuid nor name. */
export function contentFingerprint(resource: S3Resource): string {
  const { tuid: _tuid, modified_on: _modified, created_on: _created, components: _components, ...content } = resource;
  return createHash('sha1').update(JSON.stringify(content)).digest('hex');
}

/**
 * Finds the live record of `resource` whose `name` equals `key` case-insensitively. `like` is only
 * a pre-filter: a name holding `*` or `?` matches more there, so equality is checked here.
 */
export async function findByName(access: RecordAccess, resource: string, key: string): Promise<StoredRecord | undefined> {
  const candidates = await access.queryRecords({
    resource,
    filters: [{ field: 'name', op: 'like', values: [key], negate: false }],
    limit: 50,
  });
  return candidates.find((record) => {
    const entry = record.data.find((data) => data.field === 'name');
    if (!entry) return false;
    const value = dataValue(entry);
    return value !== null && !Array.isArray(value) && String(value).trim().toLowerCase() === key;
  });
}

/** What identifies a top-level element that came without a uuid. */
export interface AnonymousIdentity {
  resource: string;
  name?: string;
  fingerprint: string;
}

export function anonymousIdentityOf(resource: S3Resource): AnonymousIdentity {
  const name = duplicateKey(resource);
  return { resource: resource.name, ...(name === undefined ? {} : { name }), fingerprint: contentFingerprint(resource) };
}

/**
 * The uuid of a top-level element without one: the live record with the same name (Eden's
 * S3Duplicate), else a uuid derived from resource + name, else from resource + content.
 */
export async function resolveAnonymous(access: RecordAccess, identity: AnonymousIdentity): Promise<string> {
  if (identity.name !== undefined) {
    const derived = deterministicUuid('name', identity.resource, identity.name);
    // A record an earlier import created for this name stays its match, even if another record
    // with the same name has appeared since: re-importing must not hop between records.
    if (await access.getRecord(identity.resource, derived)) return derived;
    const existing = await findByName(access, identity.resource, identity.name);
    return existing ? existing.uuid : derived;
  }
  return deterministicUuid('content', identity.resource, identity.fingerprint);
}

/** The uuid of a component without one: its master, its table/alias and its place among its kind. */
export function componentUuid(parentUuid: string, component: S3Resource, position: number): string {
  return deterministicUuid('component', parentUuid, component.name, component.alias ?? '', String(position));
}

/** The uuid of an anonymous resource inside a `<reference>`: the record and field it belongs to. */
export function inlineUuid(ownerResource: string, ownerUuid: string, field: string): string {
  return deterministicUuid('inline', ownerResource, ownerUuid, field);
}
