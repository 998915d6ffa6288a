/**
 * What the importer must know about a whole document before it writes page by page: which tuids
 * exist (so a reference may point forward to an element on a later page) and, when the import has
 * a target table, which top-level elements of other tables are needed because something imported
 * references them (Eden §1.12 step 2). Only keys are kept, never whole elements, so memory stays
 * proportional to the number of links, not to the size of the document.
 */
import { referenceUuids, type S3Reference, type S3Resource } from '../s3xml/model.js';
import { detached } from './detach.js';
import { anonymousIdentityOf, stripLocalDomain, type AnonymousIdentity } from './identity.js';

/** How an element carrying a tuid is identified once something references it. */
export type TuidTarget = { uuid: string } | { anonymous: AnonymousIdentity };

export function tuidKey(resource: string, tuid: string): string {
  return `${resource}\u0000${tuid}`;
}

// Index keys are kept for the whole import: detached so they do not pin parser chunks.
function uuidLinkKey(resource: string, uuid: string): string {
  return detached(`u\u0000${resource}\u0000${uuid}`);
}

function tuidLinkKey(resource: string, tuid: string): string {
  return detached(`t\u0000${resource}\u0000${tuid}`);
}

/** The uids or tuids of a reference (both may be JSON lists). */
export function referenceTuids(reference: S3Reference): string[] {
  if (reference.tuid === undefined) return [];
  return referenceUuids({ ...reference, uuid: reference.tuid });
}

function detachedIdentity(identity: AnonymousIdentity): AnonymousIdentity {
  return {
    resource: detached(identity.resource),
    ...(identity.name === undefined ? {} : { name: detached(identity.name) }),
    fingerprint: identity.fingerprint,
  };
}

export interface DocumentIndex {
  readonly tuids: ReadonlyMap<string, TuidTarget>;
  readonly topLevelCount: number;
  /** Whether the top-level element at `position` (0-based, document order) is to be imported. */
  isSelected(position: number, resource: string): boolean;
}

interface DependencyCandidate {
  position: number;
  keys: string[];
  links: string[];
}

export class DocumentIndexBuilder {
  private readonly tuids = new Map<string, TuidTarget>();
  private readonly wanted = new Set<string>();
  private readonly candidates: DependencyCandidate[] = [];
  private position = 0;

  constructor(
    private readonly target: string | undefined,
    private readonly localDomain: string | undefined,
  ) {}

  add(resource: S3Resource): void {
    const position = this.position++;
    this.collectTuids(resource, true);
    if (this.target === undefined) return;
    const links = this.linksOf(resource);
    if (resource.name === this.target) {
      for (const link of links) this.wanted.add(link);
      return;
    }
    const keys: string[] = [];
    if (resource.uuid) keys.push(uuidLinkKey(resource.name, stripLocalDomain(resource.uuid, this.localDomain)));
    if (resource.tuid) keys.push(tuidLinkKey(resource.name, resource.tuid));
    if (keys.length > 0) this.candidates.push({ position, keys, links });
  }

  finish(): DocumentIndex {
    const tuids = this.tuids;
    const topLevelCount = this.position;
    if (this.target === undefined) {
      return { tuids, topLevelCount, isSelected: () => true };
    }
    const target = this.target;
    const selected = this.closeOverReferences();
    return {
      tuids,
      topLevelCount,
      isSelected: (position, resource) => resource === target || selected.has(position),
    };
  }

  /** Dependencies of dependencies are needed too: repeat until nothing new is pulled in. */
  private closeOverReferences(): Set<number> {
    const selected = new Set<number>();
    let remaining = this.candidates;
    let grew = true;
    while (grew) {
      grew = false;
      const next: DependencyCandidate[] = [];
      for (const candidate of remaining) {
        if (candidate.keys.some((key) => this.wanted.has(key))) {
          selected.add(candidate.position);
          for (const link of candidate.links) this.wanted.add(link);
          grew = true;
        } else {
          next.push(candidate);
        }
      }
      remaining = next;
    }
    return selected;
  }

  private collectTuids(resource: S3Resource, topLevel: boolean): void {
    if (resource.tuid !== undefined) {
      const key = detached(tuidKey(resource.name, resource.tuid));
      // First definition wins, as the first element is the one a reader sees first.
      if (!this.tuids.has(key)) {
        if (resource.uuid) this.tuids.set(key, { uuid: detached(stripLocalDomain(resource.uuid, this.localDomain)) });
        else if (topLevel) this.tuids.set(key, { anonymous: detachedIdentity(anonymousIdentityOf(resource)) });
        // A nested element without uuid gets its identity from its master; references to it
        // resolve once it has been imported (see references.ts).
      }
    }
    for (const component of resource.components) this.collectTuids(component, false);
    for (const reference of resource.references) if (reference.inline) this.collectTuids(reference.inline, false);
  }

  private linksOf(resource: S3Resource, into: string[] = []): string[] {
    for (const reference of resource.references) {
      for (const uuid of referenceUuids(reference)) into.push(uuidLinkKey(reference.resource, stripLocalDomain(uuid, this.localDomain)));
      for (const tuid of referenceTuids(reference)) into.push(tuidLinkKey(reference.resource, tuid));
      if (reference.inline) this.linksOf(reference.inline, into);
    }
    for (const component of resource.components) this.linksOf(component, into);
    return into;
  }
}
