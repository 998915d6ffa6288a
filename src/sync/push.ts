/**
 * Push: what changed here since the last successful push, one seq window at a time (see
 * change-window.ts), POSTed as S3XML. The checkpoint moves only after the peer said success — Eden
 * answers a failed import with HTTP 200 and `"status":"failed"`, which counts as a failure — so a
 * failed push is sent again next time (the receiver matches by uuid, so sending twice is harmless).
 * Eden's own push never advances last_push on master (reference §3.7) and resends everything;
 * Sluice sends each change once plus whatever a failed attempt has to repeat.
 */
import { exportResources } from '../exporter/exporter.js';
import type { S3Resource } from '../s3xml/model.js';
import { serializeS3XML } from '../s3xml/serialize.js';
import { formatTimestamp } from '../s3xml/timestamps.js';
import type { SyncTaskRecord } from '../store/store.js';
import { changeWindow } from './change-window.js';
import { checkpointId, readCheckpoint, type PushCheckpoint } from './checkpoints.js';
import type { EdenReply } from './peer-client.js';
import { checkAborted, emptyReplication, peerResource, type ReplicationContext, type ReplicationResult } from './replication.js';
import { settingsOf, storeFilters } from './task-settings.js';
import { withoutEchoes } from '../transports/echo-suppression.js';

function count(value: unknown): number {
  if (Array.isArray(value)) return value.length;
  return typeof value === 'number' && Number.isFinite(value) ? value : 0;
}

function addReply(total: ReplicationResult, reply: EdenReply): void {
  total.records += count(reply.records);
  total.created += count(reply.created);
  total.updated += count(reply.updated);
  total.deleted += count(reply.deleted);
  total.merged += count(reply.merged);
  total.skipped += count(reply.skipped);
  total.conflicts += count(reply.conflicts);
  const errors = count(reply.errors);
  // Eden lists no errors; with ignore_errors its only sign is the message "… - invalid items ignored".
  const ignored = typeof reply.message === 'string' && /invalid items ignored/i.test(reply.message);
  total.errors += errors > 0 ? errors : ignored ? 1 : 0;
  if (typeof reply.message === 'string' && reply.message !== '' && total.problems.length < 10) total.problems.push(reply.message);
}

/** The policy a receiver reads from the URL; a per-field map travels as its default. */
function policyName(policy: SyncTaskRecord['update_policy']): string {
  return typeof policy === 'string' ? policy : (policy.__default__ ?? 'NEWER');
}

export async function pushTask(ctx: ReplicationContext, task: SyncTaskRecord): Promise<ReplicationResult> {
  const id = checkpointId(task, 'push', ctx.peer.software);
  const before = await readCheckpoint<PushCheckpoint>(ctx.store, id);
  const total = emptyReplication('push', task.resource, before);
  const settings = settingsOf(task);
  const filters = storeFilters(task);
  let position: PushCheckpoint = { ...before, seq: before.seq ?? 0 };
  for (;;) {
    checkAborted(ctx.signal);
    const window = await changeWindow(ctx.store, task.resource, position.seq!, ctx.pageSize);
    if (window.untilSeq <= position.seq!) break;
    const resources: S3Resource[] = [];
    let youngest = position.mtime;
    for await (const resource of exportResources(ctx.store, {
      resource: task.resource,
      afterSeq: position.seq!,
      untilSeq: window.untilSeq,
      includeDeleted: true,
      filters,
      components: settings.components,
      ...(ctx.localDomain === undefined ? {} : { domain: ctx.localDomain }),
    })) {
      resources.push(resource);
      if (resource.name === task.resource && resource.modified_on !== undefined && (youngest === undefined || resource.modified_on > youngest)) {
        youngest = resource.modified_on;
      }
    }
    // Records whose last change came from this peer's pull are not sent back (transports/echo-suppression.ts).
    const { send, echoes } = await withoutEchoes(ctx.store, ctx.peer.uuid, resources, position.seq!);
    total.skipped += echoes;
    if (send.length > 0) {
      const exported = Buffer.from(serializeS3XML({ attributes: {}, resources: send }), 'utf8');
      const document = ctx.mapping ? await ctx.mapping.outbound(exported) : exported;
      total.bytes += document.length;
      const reply = await ctx.client.push(
        {
          resource: peerResource(ctx, task.resource),
          repository: ctx.ownUuid,
          strategy: settings.strategy,
          updatePolicy: policyName(settings.update_policy),
          conflictPolicy: settings.conflict_policy,
          ...(position.mtime === undefined ? {} : { msince: position.mtime }),
        },
        document,
      );
      addReply(total, reply);
      total.pages += 1;
    }
    const next: PushCheckpoint = youngest === undefined ? { seq: window.untilSeq } : { seq: window.untilSeq, mtime: youngest };
    await ctx.store.putCheckpoint({ id, task: task.id, value: { ...next }, updated_at: formatTimestamp(ctx.clock.now()) });
    position = next;
    total.checkpoint.after = next;
    ctx.onPage?.({ direction: 'push', resource: task.resource, page: total.pages, records: resources.length, checkpoint: next });
    if (!window.more) break;
  }
  return total;
}
