/**
 * What a one-way replication (pull or push of one task) is given and what it reports. The result
 * object is both the progress report (log, run history, CLI) and the oracle of the tests.
 */
import type { ImportResult } from '../importer/importer.js';
import type { Clock } from '../s3xml/timestamps.js';
import type { Store } from '../store/store.js';
import type { DocumentMapping } from './mapping-step.js';
import type { PeerClient } from './peer-client.js';
import type { PeerSoftware } from './peer-settings.js';

export interface ReplicationContext {
  store: Store;
  client: PeerClient;
  clock: Clock;
  /** This gateway's uuid (sent as `repository=`). */
  ownUuid: string;
  peer: { uuid: string; software: PeerSoftware };
  /** This gateway's domain: stripped from incoming uids, prefixed to exported non-urn uids. */
  localDomain?: string;
  /** Changes per table in one page (pull from Sluice peers, every push). */
  pageSize: number;
  /** Set when the run must stop (lease lost, shutdown): checked between pages. */
  signal?: AbortSignal;
  /** Called after every committed page. */
  onPage?: (page: PageReport) => void;
  /** The repository's value mapping (mapping-step.ts): pages are mapped before import and before sending. */
  mapping?: DocumentMapping;
}

/** The name the peer knows a local table by (the mapping may rename it). */
export function peerResource(ctx: Pick<ReplicationContext, 'mapping'>, resource: string): string {
  return ctx.mapping ? ctx.mapping.remoteResource(resource) : resource;
}

/** A task's URL filters with the field names the peer knows (the mapping may rename fields). */
export function peerFilters(ctx: Pick<ReplicationContext, 'mapping'>, resource: string, filters: readonly string[]): string[] {
  return ctx.mapping ? ctx.mapping.remoteFilters(resource, filters) : [...filters];
}

export interface PageReport {
  direction: 'pull' | 'push';
  resource: string;
  page: number;
  records: number;
  checkpoint: object;
}

export interface ReplicationResult {
  direction: 'pull' | 'push';
  resource: string;
  pages: number;
  /** Records of the task's table processed (Eden's `records`). */
  records: number;
  created: number;
  updated: number;
  deleted: number;
  merged: number;
  unchanged: number;
  skipped: number;
  conflicts: number;
  errors: number;
  /** Bytes of documents received (pull) or sent (push). */
  bytes: number;
  /** The first record-level problems, for the log. */
  problems: string[];
  checkpoint: { before: object; after: object };
}

export function emptyReplication(direction: 'pull' | 'push', resource: string, before: object): ReplicationResult {
  return {
    direction,
    resource,
    pages: 0,
    records: 0,
    created: 0,
    updated: 0,
    deleted: 0,
    merged: 0,
    unchanged: 0,
    skipped: 0,
    conflicts: 0,
    errors: 0,
    bytes: 0,
    problems: [],
    checkpoint: { before, after: before },
  };
}

const MAX_PROBLEMS = 10;

/** Adds one imported page to the running totals. */
export function addImport(total: ReplicationResult, result: ImportResult): void {
  total.records += result.records;
  total.created += result.created.length;
  total.updated += result.updated.length;
  total.deleted += result.deleted.length;
  total.merged += result.merged.length;
  total.unchanged += result.unchanged.length;
  total.skipped += result.skipped.length;
  total.conflicts += result.conflicts.length;
  total.errors += result.errors.length;
  for (const error of result.errors) {
    if (total.problems.length >= MAX_PROBLEMS) break;
    total.problems.push(`(UID: ${error.uuid ?? '?'}) ${error.resource ?? ''}: ${error.code} ${error.message}`);
  }
}

export function checkAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) {
    const reason: unknown = signal.reason;
    throw reason instanceof Error ? reason : new Error(String(reason ?? 'the run was stopped'));
  }
}
