import { SluiceError } from '../errors.js';
import type { EdenTimestamp } from '../s3xml/timestamps.js';

/**
 * What a post's moderation state looks like on each API. v5 has one free-text `status`
 * (`draft` = "in review", `published`, `archived`); classic v2 has two independent flags that the
 * API can only toggle (`incident_active` = approved, `incident_verified` = verified).
 */
export interface V5TriageState {
  api: 'v5';
  status: string;
}

export interface V2TriageState {
  api: 'v2';
  approved: boolean;
  verified: boolean;
}

export type TriageState = V5TriageState | V2TriageState;

/** A v2 target may leave a flag out: that flag is then left as it is. */
export interface V2TriageTarget {
  api: 'v2';
  approved?: boolean;
  verified?: boolean;
}

export type TriageTarget = V5TriageState | V2TriageTarget;

/** A post as both clients deliver it, whatever API it came from. */
export interface UshahidiPost {
  id: number;
  title: string;
  content: string;
  /** v5 status as sent; for v2 `published` when approved, else `draft` (as Ushahidi's own v2→v3 importer maps it). */
  status: 'published' | 'draft' | 'archived' | string;
  triage: TriageState;
  /** Eden timestamp, UTC. */
  created: EdenTimestamp;
  updated?: EdenTimestamp;
  /** When the reporter says it happened (v5 `post_date`, v2 `incidentdate`), UTC. */
  occurred?: EdenTimestamp;
  lat?: number;
  lon?: number;
  locationName?: string;
  categories: { id: number; tag: string }[];
  /** Custom survey fields, keyed by field label (v5) or field name (v2). */
  values: Record<string, unknown>;
  /** `web`, `sms`, `email`, `twitter`, … */
  source?: string;
  language?: string;
  media?: { type: string; url: string }[];
  /** The post exactly as the API sent it. */
  raw: unknown;
}

export interface PostPage {
  posts: UshahidiPost[];
  /** The response body text(s) the page was built from, for the run history. */
  raw: string;
  /** Commit this after the page is stored; pass it back to the next `fetchPostsSince`. */
  nextCursor: number;
}

export interface StatusEntry {
  id: number;
  state: TriageState;
}

export interface UshahidiSourceClient {
  readonly api: 'v5' | 'v2';
  /**
   * Pages of posts with id > cursor, oldest first. A small window below the cursor is re-read to
   * catch ids that became visible late (auto-increment commit order); posts this client already
   * delivered at or below the cursor are dropped, so a re-fetch never repeats them.
   */
  fetchPostsSince(cursor: number, pageSize: number): AsyncGenerator<PostPage>;
  getStatus(postId: number): Promise<TriageState>;
  /** Moves the post to `target`; `unchanged` when it was already there (no write is sent). */
  setStatus(postId: number, target: TriageTarget): Promise<'changed' | 'unchanged'>;
  /** Every post's moderation state, in id order, for the reconcile job (status changes bump no timestamp). */
  sweepStatuses(pageSize: number): AsyncGenerator<StatusEntry[]>;
}

export function postNotFound(postId: number): SluiceError {
  return new SluiceError('USHAHIDI_POST_NOT_FOUND', `Ushahidi has no post ${postId} (or the account may not see it)`, {
    status: 404,
    severity: 'record',
    details: { postId },
  });
}

export function assertPageSize(pageSize: number): void {
  if (!Number.isInteger(pageSize) || pageSize < 1) {
    throw new SluiceError('USHAHIDI_BAD_PAGE_SIZE', `page size must be a positive integer, got ${pageSize}`, { status: 400 });
  }
}
