/**
 * Triage statuses between Sluice tickets and Ushahidi posts, and the push job that sends a
 * ticket's changed status back.
 *
 * The two sides do not share a vocabulary, so each post carries a small sync state (a checkpoint
 * record, committed with the page or push that produced it): the Ushahidi state last seen as a
 * *token* and the ticket's status value at that moment (*local*). A change is then a difference
 * from that state, never a difference between the two sides: a value map need not be invertible
 * (Verified and Actionable both send `published`), and an unapproved-but-verified v2 report
 * imported as "Verified" is not "approved" behind the moderators' backs.
 *
 * Tokens: v5 sends its status as is (`draft`, `published`, `archived`); v2 states are
 * `approved|unapproved verified|unverified`, and a v2 target names only the flags to set
 * (`approved verified`, `verified`, …), because approve and verify are separate toggles.
 */
import { SluiceError, isSluiceError } from '../errors.js';
import { parseMappingMessages, type MappingRunReport } from '../formats/mapping-generator.js';
import { dataValue, type S3Resource } from '../s3xml/model.js';
import { parseS3XML } from '../s3xml/parse.js';
import { serializeS3XML } from '../s3xml/serialize.js';
import type { Clock } from '../s3xml/timestamps.js';
import type { CheckpointRecord, Store, StoredRecord } from '../store/store.js';
import { formatTimestamp } from '../s3xml/timestamps.js';
import { emptyReplication, checkAborted, type ReplicationResult } from '../sync/replication.js';
import type { StylesheetRef, TransformRequest } from '../transform/engine.js';
import type { TriageState, TriageTarget, UshahidiSourceClient } from './source.js';

// ---- tokens -----------------------------------------------------------------------------------

export const V5_STATUSES = ['draft', 'published', 'archived'] as const;

/** The Ushahidi state as one string, the form the value mapping sees. */
export function statusToken(state: TriageState): string {
  if (state.api === 'v5') return state.status;
  return `${state.approved ? 'approved' : 'unapproved'} ${state.verified ? 'verified' : 'unverified'}`;
}

function badTarget(token: string, api: 'v5' | 'v2', why: string): SluiceError {
  return new SluiceError('USHAHIDI_BAD_STATUS_TARGET', `"${token}" is not a ${api} status to send: ${why}`, {
    status: 422,
    severity: 'record',
    fix:
      api === 'v5'
        ? "Map the ticket's status to draft, published or archived in the outbound values of the source's mapping"
        : "Map the ticket's status to approved/unapproved and/or verified/unverified in the outbound values of the source's mapping",
  });
}

/** A mapped outbound value as what the client sends. */
export function statusTarget(api: 'v5' | 'v2', token: string): TriageTarget {
  const words = token.trim().toLowerCase().split(/[\s,+]+/).filter((word) => word !== '');
  if (api === 'v5') {
    if (words.length !== 1 || !(V5_STATUSES as readonly string[]).includes(words[0]!)) throw badTarget(token, api, 'v5 takes one of draft, published, archived');
    return { api: 'v5', status: words[0]! };
  }
  const target: { api: 'v2'; approved?: boolean; verified?: boolean } = { api: 'v2' };
  const set = (flag: 'approved' | 'verified', value: boolean) => {
    if (target[flag] !== undefined && target[flag] !== value) throw badTarget(token, api, `it sets "${flag}" both ways`);
    target[flag] = value;
  };
  for (const word of words) {
    if (word === 'approved') set('approved', true);
    else if (word === 'unapproved') set('approved', false);
    else if (word === 'verified') set('verified', true);
    else if (word === 'unverified') set('verified', false);
    else throw badTarget(token, api, `"${word}" is not approved, unapproved, verified or unverified`);
  }
  if (target.approved === undefined && target.verified === undefined) throw badTarget(token, api, 'it names no flag');
  return target;
}

/** The token a post has once `target` is applied to the state `before` (v2 targets may leave a flag alone). */
export function tokenAfter(before: string, target: TriageTarget): string {
  if (target.api === 'v5') return target.status;
  const words = before.split(' ');
  const approved = target.approved ?? words[0] === 'approved';
  const verified = target.verified ?? words[1] === 'verified';
  return statusToken({ api: 'v2', approved, verified });
}

// ---- per-post sync state -----------------------------------------------------------------------

export interface PostSyncState {
  /** The Ushahidi state last seen (or set by a push). */
  token: string;
  /** The ticket's status value when the two sides last agreed. */
  local: string | null;
}

/** Groups a source's checkpoints, so removing the source can drop them all (deleteCheckpoints). */
export function sourceTaskId(sourceUuid: string): string {
  return `ushahidi:${sourceUuid}`;
}

export function postStateId(sourceUuid: string, postId: number): string {
  return `ushahidi:${sourceUuid}:post:${postId}`;
}

export function postStateRecord(sourceUuid: string, postId: number, state: PostSyncState, clock: Clock): CheckpointRecord {
  return { id: postStateId(sourceUuid, postId), task: sourceTaskId(sourceUuid), value: { ...state }, updated_at: formatTimestamp(clock.now()) };
}

export async function readPostState(store: Pick<Store, 'getCheckpoint'>, sourceUuid: string, postId: number): Promise<PostSyncState | undefined> {
  const value = (await store.getCheckpoint(postStateId(sourceUuid, postId)))?.value;
  if (!value || typeof value.token !== 'string') return undefined;
  return { token: value.token, local: typeof value.local === 'string' ? value.local : null };
}

// ---- what a source is, for the jobs -------------------------------------------------------------

export interface SourceProfile {
  uuid: string;
  name: string;
  api: 'v5' | 'v2';
  /** `<host>[:port][/path]`: the uuid prefix of the tickets (`<deployment>/<post id>`). */
  deployment: string;
  /** The ticket table (event_incident_report, irs_ireport, …). */
  resource: string;
  /** The ticket field holding the triage status. */
  statusField: string;
  pageSize: number;
}

export function ticketUuid(source: Pick<SourceProfile, 'deployment'>, postId: number): string {
  return `${source.deployment}/${postId}`;
}

/** The post id of a ticket of this source, or undefined for any other record. */
export function postIdOf(source: Pick<SourceProfile, 'deployment'>, uuid: string): number | undefined {
  const prefix = `${source.deployment}/`;
  if (!uuid.startsWith(prefix)) return undefined;
  const rest = uuid.slice(prefix.length);
  return /^[1-9]\d{0,15}$/.test(rest) ? Number(rest) : undefined;
}

function valueText(value: ReturnType<typeof dataValue> | undefined): string | null {
  if (value === undefined || value === null) return null;
  if (typeof value === 'string') return value.trim() === '' ? null : value;
  return typeof value === 'object' ? JSON.stringify(value) : String(value);
}

/** The ticket's status as the value maps see it (the machine value, else the text). */
export function localStatusOf(record: Pick<StoredRecord, 'data'> | Pick<S3Resource, 'data'>, field: string): string | null {
  const data = record.data.find((item) => item.field === field);
  return data ? valueText(dataValue(data)) : null;
}

// ---- value mapping of statuses ------------------------------------------------------------------

export type Transform = (request: TransformRequest) => Promise<{ output: string; messages: string[] }>;

/** The source's value mapping, as far as statuses go. */
export interface StatusMapping {
  /** The generated mapping stylesheet (both directions; `direction` picks one). */
  stylesheet: StylesheetRef;
  resource: string;
  remoteResource: string;
  field: string;
  remoteField: string;
  /**
   * True when the mapping changes nothing but this field's values (no renames, no other fields, no
   * record rejected for its status): the poll then maps each distinct status once instead of
   * running the mapping over every page.
   */
  statusOnly?: boolean;
}

/**
 * Runs status values through the mapping stylesheet, one small S3XML document per call, so the
 * value maps and their unmapped-value policies are applied exactly as on whole documents.
 * Returns the mapped value per ticket uuid (absent: no value, e.g. dropped or rejected).
 */
export async function mapStatuses(
  transform: Transform,
  mapping: StatusMapping,
  direction: 'inbound' | 'outbound',
  entries: readonly { uuid: string; value: string }[],
): Promise<{ values: Map<string, string>; report: MappingRunReport }> {
  const values = new Map<string, string>();
  if (entries.length === 0) return { values, report: parseMappingMessages([]) };
  const [fromResource, fromField, toField] =
    direction === 'inbound' ? [mapping.remoteResource, mapping.remoteField, mapping.field] : [mapping.resource, mapping.field, mapping.remoteField];
  const input = serializeS3XML({
    attributes: {},
    resources: entries.map((entry) => ({
      name: fromResource,
      uuid: entry.uuid,
      attributes: {},
      data: [{ field: fromField, text: entry.value, attributes: {} }],
      references: [],
      components: [],
    })),
  });
  const run = await transform({ stylesheet: mapping.stylesheet, input, params: { direction } });
  const document = await parseS3XML(run.output);
  for (const resource of document.resources) {
    if (resource.uuid === undefined) continue;
    const value = localStatusOf(resource, toField);
    if (value !== null) values.set(resource.uuid, value);
  }
  return { values, report: parseMappingMessages(run.messages) };
}

// ---- the push job -------------------------------------------------------------------------------

export interface StatusSyncContext {
  store: Store;
  clock: Clock;
  client: UshahidiSourceClient;
  source: SourceProfile;
  transform: Transform;
  mapping: StatusMapping;
  signal?: AbortSignal;
}

export interface PushCandidate {
  postId: number;
  uuid: string;
  /** The ticket's status now. */
  local: string | null;
  state: PostSyncState;
}

export function pushCheckpointId(source: Pick<SourceProfile, 'uuid' | 'resource' | 'statusField'>): string {
  return `ushahidi:${source.uuid}:push:${source.resource}:${source.statusField}`;
}

const MAX_PROBLEMS = 10;

function problem(total: ReplicationResult, text: string): void {
  if (total.problems.length < MAX_PROBLEMS) total.problems.push(text);
}

/**
 * Sends the mapped status of each candidate. A failure of one post (it is gone, a moderator
 * toggled it meanwhile, the mapping has no status for the value) is counted and the rest go on;
 * its state is not moved, so the reconcile tries it again. Anything else (the deployment is down
 * after the client's retries, the account may not moderate) ends the job.
 */
export async function pushCandidates(ctx: StatusSyncContext, candidates: readonly PushCandidate[], total: ReplicationResult): Promise<void> {
  const { source } = ctx;
  const mapped = await mapStatuses(
    ctx.transform,
    ctx.mapping,
    'outbound',
    candidates.filter((candidate) => candidate.local !== null).map((candidate) => ({ uuid: candidate.uuid, value: candidate.local! })),
  );
  for (const candidate of candidates) {
    checkAborted(ctx.signal);
    total.records += 1;
    const token = mapped.values.get(candidate.uuid);
    if (token === undefined) {
      total.skipped += 1;
      problem(total, `(UID: ${candidate.uuid}) no Ushahidi status for "${candidate.local ?? ''}": add it to the outbound values of the source's mapping`);
      continue;
    }
    try {
      const target = statusTarget(source.api, token);
      const outcome = await ctx.client.setStatus(candidate.postId, target);
      const state: PostSyncState = { token: tokenAfter(candidate.state.token, target), local: candidate.local };
      await ctx.store.putCheckpoint(postStateRecord(source.uuid, candidate.postId, state, ctx.clock));
      if (outcome === 'changed') total.updated += 1;
      else total.unchanged += 1;
    } catch (error) {
      if (!isSluiceError(error) || error.severity !== 'record') throw error;
      total.errors += 1;
      problem(total, `(UID: ${candidate.uuid}) post ${candidate.postId}: ${error.code} ${error.message}`);
    }
  }
}

/**
 * Reads the store's change feed of the ticket table after the last position and pushes every
 * ticket of this source whose status moved away from its sync state. The position moves after a
 * whole window is handled, so a run cut short reads its window again; the posts it already sent
 * have their state updated by then and are not sent twice.
 */
export async function pushStatuses(ctx: StatusSyncContext): Promise<ReplicationResult> {
  const { store, source } = ctx;
  const id = pushCheckpointId(source);
  const before = ((await store.getCheckpoint(id))?.value ?? {}) as { seq?: number };
  const total = emptyReplication('push', source.resource, before);
  let seq = typeof before.seq === 'number' ? before.seq : 0;
  for (;;) {
    checkAborted(ctx.signal);
    const records = await store.queryRecords({ resource: source.resource, afterSeq: seq, orderBy: 'seq', limit: source.pageSize, includeDeleted: true });
    if (records.length === 0) break;
    const candidates: PushCandidate[] = [];
    for (const record of records) {
      if (record.deleted) continue;
      const postId = postIdOf(source, record.uuid);
      if (postId === undefined) continue;
      const state = await readPostState(store, source.uuid, postId);
      if (!state) continue;
      const local = localStatusOf(record, source.statusField);
      if (local !== state.local) candidates.push({ postId, uuid: record.uuid, local, state });
    }
    await pushCandidates(ctx, candidates, total);
    seq = records[records.length - 1]!.seq;
    await store.putCheckpoint({ id, task: sourceTaskId(source.uuid), value: { seq }, updated_at: formatTimestamp(ctx.clock.now()) });
    total.pages += 1;
    total.checkpoint.after = { seq };
    if (records.length < source.pageSize) break;
  }
  return total;
}
