/**
 * The import result: progress report for the caller (HTTP reply, sync log, CLI) and oracle for the
 * tests. Outcomes are gathered per page and folded in only when the page commits, so a rolled-back
 * page leaves no trace in the result either.
 */
import { detached } from './detach.js';

export interface SkippedItem {
  resource: string;
  uuid?: string;
  code: string;
  reason: string;
}

export interface ImportErrorEntry {
  resource?: string;
  uuid?: string;
  code: string;
  message: string;
}

export interface ImportResult {
  /** Committed items of the target table (Eden's `records`); see README.md for what counts. */
  records: number;
  created: string[];
  updated: string[];
  deleted: string[];
  merged: string[];
  /** Items that matched a stored record and changed nothing (an idempotent re-import lands here). */
  unchanged: string[];
  skipped: SkippedItem[];
  conflicts: { resource: string; uuid: string; conflictId: number }[];
  errors: ImportErrorEntry[];
  /** Youngest modified_on among committed target-table items (for last_pull). */
  mtime?: string;
  /** Set when a page failed as a whole: that page was rolled back and the import stopped there. */
  aborted?: { code: string; message: string; page: number };
}

export function emptyResult(): ImportResult {
  return { records: 0, created: [], updated: [], deleted: [], merged: [], unchanged: [], skipped: [], conflicts: [], errors: [] };
}

/** A page result whose strings no longer pin the parser's input chunks (see detach.ts). */
export function detachedResult(page: ImportResult): ImportResult {
  const copy = (text: string | undefined) => (text === undefined ? undefined : detached(text));
  const strip = <T extends object>(value: T): T => Object.fromEntries(Object.entries(value).filter(([, item]) => item !== undefined)) as T;
  return {
    records: page.records,
    created: page.created.map(detached),
    updated: page.updated.map(detached),
    deleted: page.deleted.map(detached),
    merged: page.merged.map(detached),
    unchanged: page.unchanged.map(detached),
    skipped: page.skipped.map((entry) =>
      strip({ resource: detached(entry.resource), uuid: copy(entry.uuid), code: entry.code, reason: detached(entry.reason) }),
    ),
    conflicts: page.conflicts.map((entry) => ({
      resource: detached(entry.resource),
      uuid: detached(entry.uuid),
      conflictId: entry.conflictId,
    })),
    errors: page.errors.map((entry) =>
      strip({ resource: copy(entry.resource), uuid: copy(entry.uuid), code: entry.code, message: detached(entry.message) }),
    ),
    ...(page.mtime === undefined ? {} : { mtime: detached(page.mtime) }),
  };
}

/** Folds a committed page into the running result. */
export function addPage(total: ImportResult, page: ImportResult): void {
  total.records += page.records;
  append(total.created, page.created);
  append(total.updated, page.updated);
  append(total.deleted, page.deleted);
  append(total.merged, page.merged);
  append(total.unchanged, page.unchanged);
  append(total.skipped, page.skipped);
  append(total.conflicts, page.conflicts);
  append(total.errors, page.errors);
  if (page.mtime !== undefined && (total.mtime === undefined || page.mtime > total.mtime)) total.mtime = page.mtime;
}

/** `push(...items)` overflows the call stack on very large pages; a loop does not. */
function append<T>(into: T[], items: readonly T[]): void {
  for (const item of items) into.push(item);
}
