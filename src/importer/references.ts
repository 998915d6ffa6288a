/**
 * Turning the references of an incoming element into stored references, which hold uuids only.
 * A `uuid` is kept as it is (after our domain prefix is stripped) even when no such record exists
 * yet: in a sync the target often arrives later. A `tuid` names an element of the same document;
 * one that names nothing is dropped and reported. `uuid` wins over `tuid` when both are given,
 * as in Eden's lookahead.
 */
import { referenceUuids, type S3Reference } from '../s3xml/model.js';
import { referenceTuids } from './document-index.js';
import { stripLocalDomain } from './identity.js';

export interface UnresolvedReference {
  field: string;
  resource: string;
  tuid: string;
}

export interface ReferenceResolver {
  localDomain: string | undefined;
  /** The uuid an in-document tuid stands for, if the document defines it. */
  resolveTuid(resource: string, tuid: string): Promise<string | undefined>;
}

export interface ResolvedReferences {
  references: S3Reference[];
  unresolved: UnresolvedReference[];
}

function isJsonList(raw: string | undefined): boolean {
  return raw !== undefined && raw.trim().startsWith('[');
}

/** Only what the store keeps: field, resource, uuid, label text and extra attributes. */
function storedReference(reference: S3Reference, uuid: string): S3Reference {
  return {
    field: reference.field,
    resource: reference.resource,
    uuid,
    ...(reference.text === undefined ? {} : { text: reference.text }),
    ...(reference.attributes === undefined ? {} : { attributes: reference.attributes }),
  };
}

async function resolveOne(
  reference: S3Reference,
  inlineUuid: string | undefined,
  resolver: ReferenceResolver,
  unresolved: UnresolvedReference[],
): Promise<S3Reference | undefined> {
  if (inlineUuid !== undefined) return storedReference(reference, inlineUuid);
  if (reference.uuid !== undefined && reference.uuid.trim() !== '') {
    const raw = reference.uuid;
    const uuids = referenceUuids(reference).map((uuid) => stripLocalDomain(uuid, resolver.localDomain));
    if (!isJsonList(raw)) return storedReference(reference, uuids[0] ?? raw.trim());
    const encoded = JSON.stringify(uuids);
    // Keep the sender's spelling of the list when nothing in it changed, for a faithful round trip.
    const unchanged = uuids.every((uuid, i) => uuid === referenceUuids(reference)[i]);
    return storedReference(reference, unchanged ? raw : encoded);
  }
  if (reference.tuid !== undefined && reference.tuid.trim() !== '') {
    const uuids: string[] = [];
    for (const tuid of referenceTuids(reference)) {
      const uuid = await resolver.resolveTuid(reference.resource, tuid);
      if (uuid === undefined) unresolved.push({ field: reference.field, resource: reference.resource, tuid });
      else uuids.push(uuid);
    }
    if (uuids.length === 0) return undefined;
    return storedReference(reference, isJsonList(reference.tuid) ? JSON.stringify(uuids) : (uuids[0] as string));
  }
  return undefined;
}

/**
 * Resolves every reference of one element. `inlineUuids` holds the uuids the anonymous resources
 * inside references were imported under; a reference whose inline resource failed to import and
 * that names nothing else is dropped (the failure is reported where it happened).
 */
export async function resolveReferences(
  references: readonly S3Reference[],
  inlineUuids: ReadonlyMap<S3Reference, string>,
  resolver: ReferenceResolver,
): Promise<ResolvedReferences> {
  const resolved: S3Reference[] = [];
  const unresolved: UnresolvedReference[] = [];
  for (const reference of references) {
    const stored = await resolveOne(reference, inlineUuids.get(reference), resolver, unresolved);
    if (stored) resolved.push(stored);
  }
  return { references: resolved, unresolved };
}

/** A reference with one uuid replaced by another (a merge re-points references to the winner). */
export function repointReference(reference: S3Reference, from: string, to: string): S3Reference {
  if (reference.uuid === undefined) return reference;
  const uuids = referenceUuids(reference);
  if (!uuids.includes(from)) return reference;
  if (!isJsonList(reference.uuid)) return { ...reference, uuid: to };
  const repointed = [...new Set(uuids.map((uuid) => (uuid === from ? to : uuid)))];
  return { ...reference, uuid: JSON.stringify(repointed) };
}
