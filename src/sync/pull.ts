/**
 * Pull: the peer's records of one task into the store, one committed page at a time.
 *
 * - From a Sluice peer the change feed is exact: `since_seq=<checkpoint>&limit=N` returns a seq
 *   window and its end (`last_seq`, `more`); the page and the new checkpoint commit in one
 *   transaction, so a run cut anywhere resumes at the first page not committed.
 * - From Eden only `msince` exists, in the peer's clock at second precision, and Eden's own
 *   `last_pull = mtime + 1 s` loses records committed later in that same second (reference §3.3).
 *   Sluice asks again from the youngest second it has seen (no +1 s) and the importer skips what is
 *   already identical ("unchanged"), so nothing is missed and nothing is applied twice. Eden sends
 *   the whole answer in one document; it is imported in pages, and the checkpoint moves only when
 *   the whole document went in.
 */
import { SluiceError } from '../errors.js';
import { importResources, importResourceSource, type ImportOptions, type ImportResult } from '../importer/importer.js';
import { readS3XML } from '../s3xml/parse.js';
import type { S3Resource } from '../s3xml/model.js';
import { addSeconds, formatTimestamp } from '../s3xml/timestamps.js';
import type { SyncTaskRecord } from '../store/store.js';
import { checkpointId, pageStore, readCheckpoint, type PullCheckpoint } from './checkpoints.js';
import { addImport, checkAborted, emptyReplication, peerFilters, peerResource, type ReplicationContext, type ReplicationResult } from './replication.js';
import { settingsOf } from './task-settings.js';
import { echoRecorder, peerUuids } from '../transports/echo-suppression.js';

/** Records of one Eden document written per transaction. */
const EDEN_IMPORT_PAGE = 500;

function importOptions(ctx: ReplicationContext, task: SyncTaskRecord, lastMtime: string | undefined): ImportOptions {
  const settings = settingsOf(task);
  return {
    resource: task.resource,
    strategy: settings.strategy,
    updatePolicy: settings.update_policy,
    conflictPolicy: settings.conflict_policy,
    // Eden: last_sync = last_pull (= youngest mtime + 1 s). Changes at or after it on both sides conflict.
    ...(lastMtime === undefined ? {} : { lastSync: addSeconds(lastMtime, 1) }),
    repository: ctx.peer.uuid,
    ...(ctx.localDomain === undefined ? {} : { localDomain: ctx.localDomain }),
    clock: ctx.clock,
  };
}

function laterOf(a: string | undefined, b: string | undefined): string | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return a > b ? a : b;
}

function pageFailed(result: ImportResult, page: number): SluiceError {
  const aborted = result.aborted!;
  return new SluiceError('SYNC_PAGE_FAILED', `page ${page} could not be committed and was rolled back: ${aborted.code} ${aborted.message}`, {
    status: 500,
    fix: 'Nothing of that page was kept and the checkpoint did not move; the next run starts from it again',
    details: { importCode: aborted.code },
  });
}

/**
 * Eden writes each record's `url` at the exporting host; Eden's importer ignores it, and so does
 * the pull (kept, it would make a record pushed to Eden come back "changed" and be sent again).
 */
function withoutUrl(resource: S3Resource): S3Resource {
  const { url: _url, ...attributes } = resource.attributes;
  return { ...resource, attributes, components: resource.components.map(withoutUrl) };
}

async function* namingPeerRecords(resources: AsyncIterable<S3Resource>, into: Set<string>): AsyncGenerator<S3Resource> {
  for await (const resource of resources) {
    peerUuids([resource], into);
    yield resource;
  }
}

async function* resourcesOf(body: Buffer): AsyncGenerator<S3Resource> {
  for await (const event of readS3XML([body])) {
    if (event.type === 'resource') yield withoutUrl(event.resource);
  }
}

interface ParsedPage {
  root: Record<string, string>;
  resources: S3Resource[];
}

async function parsePage(body: Buffer): Promise<ParsedPage> {
  const page: ParsedPage = { root: {}, resources: [] };
  try {
    for await (const event of readS3XML([body])) {
      if (event.type === 'root') page.root = event.attributes;
      else page.resources.push(withoutUrl(event.resource));
    }
  } catch (error) {
    const failure = error instanceof SluiceError ? error : undefined;
    throw new SluiceError('PEER_BAD_RESPONSE', `the peer's page is not S3XML: ${failure?.message ?? String(error)}`, {
      status: 502,
      cause: error,
      fix: 'A cut or garbled answer: the next run asks for the same page again',
    });
  }
  return page;
}

function youngestOf(resources: readonly S3Resource[], resource: string): string | undefined {
  let youngest: string | undefined;
  for (const item of resources) {
    if (item.name === resource && item.modified_on !== undefined) youngest = laterOf(youngest, item.modified_on);
  }
  return youngest;
}

async function pullBySeq(ctx: ReplicationContext, task: SyncTaskRecord, id: string): Promise<ReplicationResult> {
  const before = await readCheckpoint<PullCheckpoint>(ctx.store, id);
  const total = emptyReplication('pull', task.resource, before);
  const settings = settingsOf(task);
  const options = importOptions(ctx, task, before.mtime);
  let position: PullCheckpoint = { ...before, seq: before.seq ?? 0 };
  const fetchPage = (sinceSeq: number): Promise<Buffer> => {
    const request = ctx.client.pull({
      resource: peerResource(ctx, task.resource),
      repository: ctx.ownUuid,
      sinceSeq,
      limit: ctx.pageSize,
      filters: peerFilters(ctx, task.resource, settings.filters),
      components: settings.components,
    });
    // A prefetched page may be abandoned when the current one fails; its failure is not news.
    request.catch(() => undefined);
    return request;
  };
  let next: Promise<Buffer> | undefined = fetchPage(position.seq!);
  while (next) {
    checkAborted(ctx.signal);
    const received = await next;
    next = undefined;
    total.bytes += received.length;
    const page = await parsePage(ctx.mapping ? await ctx.mapping.inbound(received) : received);
    const lastSeq = Number(page.root.last_seq);
    if (page.root.last_seq === undefined || !Number.isInteger(lastSeq)) {
      throw new SluiceError('PEER_NO_CHANGE_FEED', 'the peer answered without last_seq: it does not page its change feed by seq', {
        status: 502,
        fix: 'The peer is not a Sluice gateway (or an old one): register it again so that it is pulled by msince',
      });
    }
    if (lastSeq < position.seq!) {
      throw new SluiceError('PEER_FEED_WENT_BACK', `the peer's change feed ends at seq ${lastSeq}, before the checkpoint ${position.seq}`, {
        status: 502,
        fix: 'The peer\'s store was replaced or restored; delete and re-create this task to pull everything again',
      });
    }
    // The next page is asked for while this one is imported: the peer exports while we write.
    if (page.root.more === 'true') {
      next = fetchPage(lastSeq);
      // The import below runs in microtasks and never lets the event loop turn: without this turn the
      // request would leave only after the page is written, and the peer would export while we wait.
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
    const mtime = laterOf(position.mtime, youngestOf(page.resources, task.resource));
    const reached: PullCheckpoint = mtime === undefined ? { seq: lastSeq } : { seq: lastSeq, mtime };
    const view = pageStore(ctx.store, { id, task: task.id, value: reached, at: formatTimestamp(ctx.clock.now()) });
    // What the peer sent is not pushed back to it (transports/echo-suppression.ts).
    const echoes = typeof settings.update_policy === 'string' ? echoRecorder(view.store, page.resources) : undefined;
    const result = await importResources(echoes?.store ?? view.store, page.resources, { ...options, pageSize: Number.MAX_SAFE_INTEGER });
    if (result.aborted) throw pageFailed(result, total.pages + 1);
    if (!view.committed()) await ctx.store.putCheckpoint({ id, task: task.id, value: { ...reached }, updated_at: formatTimestamp(ctx.clock.now()) });
    await echoes?.remember(ctx.peer.uuid, formatTimestamp(ctx.clock.now()));
    addImport(total, result);
    total.pages += 1;
    position = reached;
    total.checkpoint.after = reached;
    ctx.onPage?.({ direction: 'pull', resource: task.resource, page: total.pages, records: result.records, checkpoint: reached });
  }
  return total;
}

async function pullByMsince(ctx: ReplicationContext, task: SyncTaskRecord, id: string): Promise<ReplicationResult> {
  const before = await readCheckpoint<PullCheckpoint>(ctx.store, id);
  const total = emptyReplication('pull', task.resource, before);
  const settings = settingsOf(task);
  checkAborted(ctx.signal);
  const received = await ctx.client.pull({
    resource: peerResource(ctx, task.resource),
    repository: ctx.ownUuid,
    ...(before.msince === undefined ? {} : { msince: before.msince }),
    filters: peerFilters(ctx, task.resource, settings.filters),
    components: settings.components,
  });
  total.bytes += received.length;
  const body = ctx.mapping ? await ctx.mapping.inbound(received) : received;
  const view = pageStore(ctx.store);
  // What Eden sent is not pushed back to it either (transports/echo-suppression.ts).
  const fromPeer = new Set<string>();
  const echoes = typeof settings.update_policy === 'string' ? echoRecorder(view.store, fromPeer) : undefined;
  let result: ImportResult;
  try {
    result = await importResourceSource(echoes?.store ?? view.store, () => namingPeerRecords(resourcesOf(body), fromPeer), {
      ...importOptions(ctx, task, before.mtime ?? before.msince),
      pageSize: EDEN_IMPORT_PAGE,
      onProgress: () => checkAborted(ctx.signal),
    });
  } catch (error) {
    if (error instanceof SluiceError && (error.code.startsWith('XML_') || error.code.startsWith('S3XML_'))) {
      throw new SluiceError('PEER_BAD_RESPONSE', `the peer's answer is not S3XML: ${error.message}`, {
        status: 502,
        cause: error,
        fix: 'A cut or garbled answer, or an error page: nothing was imported, the next run asks again',
      });
    }
    throw error;
  }
  // Committed pages of an aborted import came from the peer too.
  await echoes?.remember(ctx.peer.uuid, formatTimestamp(ctx.clock.now()));
  addImport(total, result);
  total.pages = 1;
  if (result.aborted) throw pageFailed(result, Math.floor(result.records / EDEN_IMPORT_PAGE) + 1);
  const youngest = laterOf(before.msince, result.mtime);
  const next: PullCheckpoint = youngest === undefined ? {} : { msince: youngest, mtime: youngest };
  await ctx.store.putCheckpoint({ id, task: task.id, value: { ...next }, updated_at: formatTimestamp(ctx.clock.now()) });
  total.checkpoint.after = next;
  ctx.onPage?.({ direction: 'pull', resource: task.resource, page: 1, records: result.records, checkpoint: next });
  return total;
}

/** Pulls one task from the context's peer; throws on failure (committed pages stay, checkpoint with them). */
export async function pullTask(ctx: ReplicationContext, task: SyncTaskRecord): Promise<ReplicationResult> {
  const id = checkpointId(task, 'pull', ctx.peer.software);
  return ctx.peer.software === 'sluice' ? pullBySeq(ctx, task, id) : pullByMsince(ctx, task, id);
}
