/**
 * The poll job: new Ushahidi posts → tickets, page by page.
 *
 * Each page of posts is turned into S3XML by `stylesheets/ushahidi/import.xsl` (the posts enter
 * as JSON through `json-to-xml()`), then through the source's value mapping (inbound), and
 * imported with the id cursor of the page in one transaction: a run cut anywhere resumes at the
 * first page not committed, and a re-fetched page updates the same tickets (uuid
 * `<deployment>/<post id>`) instead of adding any.
 *
 * SaxonJS costs about 0.4 ms of CPU per post in the import stylesheet, so pages are cut into
 * batches that run at once on the engine's threads, and the next pages are fetched and transformed
 * while one is committed (see pollSource). `timings` says where a poll's time went.
 *
 * The ticket's status is the one field Sluice users change too. A re-fetched post whose Ushahidi
 * state did not move since it was last seen leaves the ticket's status alone (it may hold a
 * triage decision not pushed yet); a post whose state moved sets it and stamps the ticket as
 * modified now, because Ushahidi's status changes bump no timestamp an Eden peer could see.
 */
import { SluiceError } from '../errors.js';
import { parseMappingMessages } from '../formats/mapping-generator.js';
import { importResources, type ImportResult } from '../importer/importer.js';
import type { S3Resource } from '../s3xml/model.js';
import { parseS3XML } from '../s3xml/parse.js';
import { formatTimestamp } from '../s3xml/timestamps.js';
import type { CheckpointRecord } from '../store/store.js';
import { pageStore } from '../sync/checkpoints.js';
import { addImport, checkAborted, emptyReplication, type PageReport, type ReplicationResult } from '../sync/replication.js';
import type { StylesheetRef } from '../transform/engine.js';
import { importDocumentJson } from './import-document.js';
import type { PostPage, UshahidiPost } from './source.js';
import {
  localStatusOf,
  mapStatuses,
  postStateRecord,
  readPostState,
  sourceTaskId,
  statusToken,
  ticketUuid,
  type PostSyncState,
  type SourceProfile,
  type StatusSyncContext,
} from './status-push.js';

export interface PollContext extends StatusSyncContext {
  importStylesheet: StylesheetRef;
  /** Posts per transform call; several run at once on the engine's threads (default 100). */
  transformBatch?: number;
  /** Pages fetched and transformed ahead of the one being committed (default 2). */
  readAhead?: number;
  onPage?: (page: PageReport) => void;
  /** Filled in when given: where the poll's time went (tools/bench/ushahidi-import.ts prints it). */
  timings?: PollTimings;
}

/**
 * Milliseconds per phase of a poll. Parse, statuses and import run on this thread one after
 * another; fetching runs ahead of them (its time is mostly the deployment answering) and the
 * transforms run on the engine's threads, summed per batch, overlapping everything else. `waiting` is the commit loop idle
 * until the next page was fetched and transformed: large means fetch or XSLT bound the rate,
 * near zero means the commit (importer and store) does.
 */
export interface PollTimings {
  /** Awaiting the client's next page (HTTP, JSON parse, normalising posts); overlaps the commit. */
  fetch: number;
  /** Import stylesheet and value mapping, per batch from request to result (queueing for a thread included), summed. */
  transform: number;
  /** The stylesheet's S3XML output read back into resources. */
  parse: number;
  /** Statuses mapped once per value, then settled against each post's sync state. */
  statuses: number;
  /** importResources with the page's checkpoint, one transaction. */
  import: number;
  waiting: number;
}

export function emptyPollTimings(): PollTimings {
  return { fetch: 0, transform: 0, parse: 0, statuses: 0, import: 0, waiting: 0 };
}

async function timed<T>(timings: PollTimings | undefined, phase: keyof PollTimings, work: () => Promise<T>): Promise<T> {
  if (!timings) return work();
  const started = performance.now();
  try {
    return await work();
  } finally {
    timings[phase] += performance.now() - started;
  }
}

export interface PollResult extends ReplicationResult {
  /** Unmapped values the source's mapping reported, counted. */
  unmapped: { field: string; value: string; action: string; count: number }[];
  /** Posts whose status changed in Ushahidi while the ticket's status changed in Sluice. */
  statusConflicts: number;
}

export function pollCheckpointId(source: Pick<SourceProfile, 'uuid' | 'resource'>): string {
  return `ushahidi:${source.uuid}:poll:${source.resource}`;
}

interface PreparedPage {
  page: PostPage;
  resources: S3Resource[];
  unmapped: { resource: string; field: string; value: string; action: string; count: number }[];
  rejected: string[];
}

async function transformBatch(ctx: PollContext, posts: readonly UshahidiPost[]): Promise<{ resources: S3Resource[]; messages: string[] }> {
  const { source, timings } = ctx;
  // The mapping sees one status string per post; for v2 that is both flags (see statusToken).
  const withTokens = posts.map((post) => ({ ...post, status: statusToken(post.triage) }));
  const imported = await timed(timings, 'transform', () =>
    ctx.transform({
      stylesheet: ctx.importStylesheet,
      input: importDocumentJson(source.deployment, source.api, withTokens),
      jsonInput: true,
      params: { resource: source.resource, 'status-field': source.statusField },
    }),
  );
  if (ctx.mapping.statusOnly) {
    const document = await timed(timings, 'parse', () => parseS3XML(imported.output));
    return { resources: document.resources, messages: imported.messages };
  }
  const mapped = await timed(timings, 'transform', () =>
    ctx.transform({ stylesheet: ctx.mapping.stylesheet, input: imported.output, params: { direction: 'inbound' } }),
  );
  const document = await timed(timings, 'parse', () => parseS3XML(mapped.output));
  return { resources: document.resources, messages: [...imported.messages, ...mapped.messages] };
}

/** Statuses already mapped in this run: the raw value → its mapped value, and what the mapping did to unmapped ones. */
interface StatusValueCache {
  values: Map<string, string | undefined>;
  unmapped: Map<string, string>;
}

/**
 * When the mapping maps nothing but the status, a value's mapping depends on the value alone: the
 * same stylesheet is run once per distinct status (a handful per deployment) instead of over every
 * page, and the tickets take the results. Unmapped values are still counted once per ticket.
 */
async function mapStatusValues(ctx: PollContext, resources: S3Resource[], cache: StatusValueCache): Promise<PreparedPage['unmapped']> {
  const { source } = ctx;
  const tickets = resources.filter((resource) => resource.name === source.resource);
  const raws = tickets.map((ticket) => localStatusOf(ticket, source.statusField));
  const unseen = [...new Set(raws.filter((value): value is string => value !== null && !cache.values.has(value)))];
  if (unseen.length > 0) {
    const mapped = await mapStatuses(ctx.transform, ctx.mapping, 'inbound', unseen.map((value, index) => ({ uuid: `status-${index}`, value })));
    unseen.forEach((value, index) => cache.values.set(value, mapped.values.get(`status-${index}`)));
    for (const entry of mapped.report.unmapped) cache.unmapped.set(entry.value, entry.action);
  }
  const counts = new Map<string, PreparedPage['unmapped'][number]>();
  tickets.forEach((ticket, index) => {
    const raw = raws[index];
    if (raw === null || raw === undefined) return;
    const value = cache.values.get(raw);
    ticket.data = ticket.data.flatMap((data) =>
      data.field !== source.statusField ? [data] : value === undefined ? [] : [{ field: data.field, text: value, attributes: data.attributes ?? {} }],
    );
    const action = cache.unmapped.get(raw);
    if (action === undefined) return;
    const entry = counts.get(raw) ?? { resource: source.resource, field: source.statusField, value: raw, action, count: 0 };
    entry.count += 1;
    counts.set(raw, entry);
  });
  return [...counts.values()];
}

async function preparePage(ctx: PollContext, page: PostPage, statusValues: StatusValueCache): Promise<PreparedPage> {
  const size = Math.max(1, ctx.transformBatch ?? 100);
  const batches: UshahidiPost[][] = [];
  for (let i = 0; i < page.posts.length; i += size) batches.push(page.posts.slice(i, i + size));
  const outputs = await Promise.all(batches.map((batch) => transformBatch(ctx, batch)));
  const report = parseMappingMessages(outputs.flatMap((output) => output.messages));
  const resources = outputs.flatMap((output) => output.resources);
  const unmapped = ctx.mapping.statusOnly ? await timed(ctx.timings, 'statuses', () => mapStatusValues(ctx, resources, statusValues)) : report.counts;
  return { page, resources, unmapped, rejected: report.rejectedRecords };
}

function pageFailed(result: ImportResult, page: number): SluiceError {
  const aborted = result.aborted!;
  return new SluiceError('SYNC_PAGE_FAILED', `page ${page} could not be committed and was rolled back: ${aborted.code} ${aborted.message}`, {
    status: 500,
    fix: 'Nothing of that page was kept and the cursor did not move; the next run fetches it again',
    details: { importCode: aborted.code },
  });
}

function withoutField(resource: S3Resource, field: string): void {
  resource.data = resource.data.filter((data) => data.field !== field);
}

/**
 * Settles each ticket's status against its post's sync state and returns the states to commit
 * with the page.
 */
async function settleStatuses(ctx: PollContext, prepared: PreparedPage, total: PollResult): Promise<CheckpointRecord[]> {
  const { store, source, clock } = ctx;
  const byUuid = new Map(prepared.page.posts.map((post) => [ticketUuid(source, post.id), post] as const));
  const states: CheckpointRecord[] = [];
  const now = formatTimestamp(clock.now());
  for (const resource of prepared.resources) {
    if (resource.name !== source.resource || resource.uuid === undefined) continue;
    const post = byUuid.get(resource.uuid);
    if (!post) continue;
    const token = statusToken(post.triage);
    const known = await readPostState(store, source.uuid, post.id);
    if (known && known.token === token) {
      withoutField(resource, source.statusField);
      continue;
    }
    let next: PostSyncState = { token, local: localStatusOf(resource, source.statusField) };
    if (known) {
      const ticket = await store.getRecord(source.resource, resource.uuid);
      const current = ticket ? localStatusOf(ticket, source.statusField) : null;
      if (ticket && current !== known.local) {
        // Both sides moved since they last agreed: the triage decision made here stands, and the
        // push sends it (the new Ushahidi state is remembered so it is not taken as news again).
        withoutField(resource, source.statusField);
        next = { token, local: known.local };
        total.statusConflicts += 1;
        if (total.problems.length < 10) {
          total.problems.push(`(UID: ${resource.uuid}) status changed on both sides (Ushahidi: ${token}, Sluice: ${current ?? 'none'}); Sluice's value is kept and sent`);
        }
      } else if (resource.modified_on === undefined || resource.modified_on < now) {
        resource.modified_on = now;
      }
    }
    states.push(postStateRecord(source.uuid, post.id, next, clock));
  }
  return states;
}

async function commitPage(ctx: PollContext, prepared: PreparedPage, total: PollResult, checkpointId: string): Promise<void> {
  const { store, source, clock } = ctx;
  const states = await timed(ctx.timings, 'statuses', () => settleStatuses(ctx, prepared, total));
  const cursor = { cursor: prepared.page.nextCursor };
  const at = formatTimestamp(clock.now());
  const view = pageStore(store, { id: checkpointId, task: sourceTaskId(source.uuid), value: cursor, at }, states);
  const result = await timed(ctx.timings, 'import', () => importResources(view.store, prepared.resources, {
    resource: source.resource,
    // Ushahidi is where posts are written; a ticket edited here keeps its edit until the post changes.
    updatePolicy: 'NEWER',
    // Posts enter Sluice here: Sluice holds the master copy of the tickets for Eden peers.
    defaultMci: 0,
    clock,
    pageSize: Number.MAX_SAFE_INTEGER,
  }));
  if (result.aborted) throw pageFailed(result, total.pages + 1);
  if (!view.committed()) {
    await timed(ctx.timings, 'import', () =>
      store.transaction(async (tx) => {
        await tx.putCheckpoint({ id: checkpointId, task: sourceTaskId(source.uuid), value: cursor, updated_at: at });
        for (const state of states) await tx.putCheckpoint(state);
      }),
    );
  }
  addImport(total, result);
  total.bytes += prepared.page.raw.length;
  total.pages += 1;
  total.checkpoint.after = cursor;
  for (const entry of prepared.unmapped) {
    const known = total.unmapped.find((u) => u.field === `${entry.resource}.${entry.field}` && u.value === entry.value && u.action === entry.action);
    if (known) known.count += entry.count;
    else total.unmapped.push({ field: `${entry.resource}.${entry.field}`, value: entry.value, action: entry.action, count: entry.count });
  }
  total.skipped += prepared.rejected.length;
  ctx.onPage?.({ direction: 'pull', resource: source.resource, page: total.pages, records: result.records, checkpoint: cursor });
}

/**
 * Fetches, transforms and imports every post after the committed cursor.
 *
 * Fetching runs on its own, up to `readAhead` pages ahead of the commit, so the deployment
 * answers the next page and the engine's threads transform it while this thread imports the
 * current one; pages are still committed one at a time, in order.
 */
export async function pollSource(ctx: PollContext): Promise<PollResult> {
  const { store, source } = ctx;
  const id = pollCheckpointId(source);
  const before = ((await store.getCheckpoint(id))?.value ?? {}) as { cursor?: number };
  const cursor = typeof before.cursor === 'number' ? before.cursor : 0;
  const total: PollResult = { ...emptyReplication('pull', source.resource, { cursor }), unmapped: [], statusConflicts: 0 };
  const pages = ctx.client.fetchPostsSince(cursor, source.pageSize)[Symbol.asyncIterator]();
  const readAhead = Math.max(1, ctx.readAhead ?? 2);
  const pending: Promise<PreparedPage>[] = [];
  let exhausted = false;
  let stopped = false;
  let fetchFailure: unknown;
  const statusValues: StatusValueCache = { values: new Map(), unmapped: new Map() };
  let pageReady: (() => void) | undefined;
  let roomFreed: (() => void) | undefined;
  const wakeCommitter = (): void => {
    pageReady?.();
    pageReady = undefined;
  };
  const wakeFetcher = (): void => {
    roomFreed?.();
    roomFreed = undefined;
  };

  const fetchAhead = async (): Promise<void> => {
    try {
      for (;;) {
        while (pending.length >= readAhead && !stopped) await new Promise<void>((resolve) => (roomFreed = resolve));
        if (stopped) return;
        const next = await timed(ctx.timings, 'fetch', () => pages.next());
        if (next.done) {
          exhausted = true;
          return;
        }
        if (stopped) return;
        const prepared = preparePage(ctx, next.value, statusValues);
        prepared.catch(() => undefined);
        pending.push(prepared);
        wakeCommitter();
      }
    } catch (error) {
      // Pages already fetched are still committed; the failure ends the run after them.
      fetchFailure = error;
      exhausted = true;
    } finally {
      stopped = true;
      wakeCommitter();
    }
  };
  const fetching = fetchAhead();

  try {
    for (;;) {
      checkAborted(ctx.signal);
      const waitStarted = performance.now();
      while (pending.length === 0 && !stopped) await new Promise<void>((resolve) => (pageReady = resolve));
      const next = pending.shift();
      if (!next) break;
      wakeFetcher();
      const prepared = await next;
      if (ctx.timings) ctx.timings.waiting += performance.now() - waitStarted;
      checkAborted(ctx.signal);
      await commitPage(ctx, prepared, total, id);
    }
  } finally {
    stopped = true;
    wakeFetcher();
    await fetching;
    if (!exhausted) await pages.return?.(undefined).catch(() => undefined);
    // Pages prepared but not committed (a failed commit or an abort) must not leave a batch running unobserved.
    await Promise.allSettled(pending);
  }
  if (fetchFailure !== undefined) throw fetchFailure;
  return total;
}
