/**
 * The reconcile job: every post's moderation state compared with what Sluice last saw of it.
 *
 * Nothing else can notice a status changed in Ushahidi: v5's PATCH and bulk updates leave
 * `updated` alone (and `updated_after` is broken), v2's approve/verify touch no timestamp, and the
 * poll only fetches new ids. So the whole deployment's `id,status` list is swept (one request per
 * page on v5, one admin listing on v2) and compared with each post's sync state:
 *
 * - Ushahidi moved, the ticket did not → the ticket takes the mapped status (stamped now, so Eden
 *   peers pulling by modified_on see it);
 * - the ticket moved (a push that failed or could not be mapped yet) → it is pushed now;
 * - both moved → the ticket's value is kept and pushed (the same rule as the poll), and counted.
 */
import { SluiceError } from '../errors.js';
import { importResources } from '../importer/importer.js';
import type { S3Resource } from '../s3xml/model.js';
import { formatTimestamp } from '../s3xml/timestamps.js';
import { pageStore } from '../sync/checkpoints.js';
import { checkAborted, emptyReplication, type ReplicationResult } from '../sync/replication.js';
import type { CheckpointRecord } from '../store/store.js';
import {
  localStatusOf,
  mapStatuses,
  postStateRecord,
  pushCandidates,
  readPostState,
  statusToken,
  ticketUuid,
  type PushCandidate,
  type StatusSyncContext,
} from './status-push.js';

export interface ReconcileContext extends StatusSyncContext {
  /** Posts per page of the status sweep (default 500). */
  sweepPageSize?: number;
}

export interface ReconcileResult {
  /** Posts whose state was compared. */
  checked: number;
  /** Posts Sluice has no ticket for yet (the poll brings them). */
  untracked: number;
  /** Tickets whose status was updated from a change made in Ushahidi. */
  pulled: ReplicationResult;
  /** Statuses sent to Ushahidi. */
  pushed: ReplicationResult;
  /** Posts changed on both sides; Sluice's value was kept and sent. */
  conflicts: number;
  problems: string[];
}

interface RemoteChange {
  postId: number;
  uuid: string;
  token: string;
  /** The ticket's status now, kept when the mapping gives nothing for the new state. */
  local: string | null;
}

async function applyRemoteChanges(ctx: ReconcileContext, changes: readonly RemoteChange[], result: ReconcileResult): Promise<void> {
  if (changes.length === 0) return;
  const { source, clock } = ctx;
  const mapped = await mapStatuses(
    ctx.transform,
    ctx.mapping,
    'inbound',
    changes.map((change) => ({ uuid: change.uuid, value: change.token })),
  );
  const now = formatTimestamp(clock.now());
  const resources: S3Resource[] = [];
  const states: CheckpointRecord[] = [];
  for (const change of changes) {
    const value = mapped.values.get(change.uuid);
    if (value !== undefined) {
      resources.push({
        name: source.resource,
        uuid: change.uuid,
        modified_on: now,
        attributes: {},
        data: [{ field: source.statusField, text: value, attributes: {} }],
        references: [],
        components: [],
      });
    }
    states.push(postStateRecord(source.uuid, change.postId, { token: change.token, local: value ?? change.local }, clock));
  }
  const view = pageStore(ctx.store, undefined, states);
  const imported = await importResources(view.store, resources, {
    resource: source.resource,
    updatePolicy: 'OTHER',
    defaultMci: 0,
    clock,
    pageSize: Number.MAX_SAFE_INTEGER,
  });
  if (imported.aborted) {
    throw new SluiceError('SYNC_PAGE_FAILED', `the reconciled statuses could not be committed: ${imported.aborted.code} ${imported.aborted.message}`, {
      status: 500,
      fix: 'Nothing of them was kept; the next reconcile compares them again',
    });
  }
  if (!view.committed()) {
    await ctx.store.transaction(async (tx) => {
      for (const state of states) await tx.putCheckpoint(state);
    });
  }
  result.pulled.pages += 1;
  result.pulled.records += changes.length;
  result.pulled.updated += imported.updated.length;
  result.pulled.unchanged += imported.unchanged.length;
  result.pulled.errors += imported.errors.length;
  for (const error of imported.errors) {
    if (result.problems.length < 10) result.problems.push(`(UID: ${error.uuid ?? '?'}) ${error.code} ${error.message}`);
  }
}

export async function reconcileSource(ctx: ReconcileContext): Promise<ReconcileResult> {
  const { store, source } = ctx;
  const result: ReconcileResult = {
    checked: 0,
    untracked: 0,
    pulled: emptyReplication('pull', source.resource, {}),
    pushed: emptyReplication('push', source.resource, {}),
    conflicts: 0,
    problems: [],
  };
  for await (const entries of ctx.client.sweepStatuses(ctx.sweepPageSize ?? 500)) {
    checkAborted(ctx.signal);
    const remoteChanges: RemoteChange[] = [];
    const pushes: PushCandidate[] = [];
    for (const entry of entries) {
      result.checked += 1;
      const state = await readPostState(store, source.uuid, entry.id);
      const uuid = ticketUuid(source, entry.id);
      const ticket = state ? await store.getRecord(source.resource, uuid) : undefined;
      if (!state || !ticket || ticket.deleted) {
        result.untracked += 1;
        continue;
      }
      const token = statusToken(entry.state);
      const local = localStatusOf(ticket, source.statusField);
      const remoteMoved = token !== state.token;
      const localMoved = local !== state.local;
      if (localMoved) {
        if (remoteMoved) {
          result.conflicts += 1;
          if (result.problems.length < 10) {
            result.problems.push(`(UID: ${uuid}) status changed on both sides (Ushahidi: ${token}, Sluice: ${local ?? 'none'}); Sluice's value is kept and sent`);
          }
        }
        pushes.push({ postId: entry.id, uuid, local, state: { token, local: state.local } });
      } else if (remoteMoved) {
        remoteChanges.push({ postId: entry.id, uuid, token, local });
      }
    }
    await applyRemoteChanges(ctx, remoteChanges, result);
    await pushCandidates(ctx, pushes, result.pushed);
  }
  for (const text of result.pushed.problems) if (result.problems.length < 10) result.problems.push(text);
  return result;
}
