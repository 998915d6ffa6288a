/**
 * Checkpoints (PouchDB's lesson): the id is derived from the replication's parameters, so a task
 * whose filters or components change starts over instead of trusting a checkpoint that described
 * another selection; and a checkpoint is written in the same transaction as the page it covers,
 * so it can never run ahead of what was committed (nor lag behind it after a crash).
 *
 * The page importer is handed a view of the store whose `transaction` also writes the checkpoint,
 * and whose conflict queue does not take the same conflict twice: pulls overlap (the msince second
 * is fetched again, a failed run fetches its last page again), and a rejected version that arrives
 * again is the same conflict, not a new one.
 */
import { createHash } from 'node:crypto';
import type { CheckpointRecord, ConflictEntry, NewConflict, Store, StoreTransaction, SyncTaskRecord } from '../store/store.js';
import { storeView } from '../store/store-view.js';

export type Direction = 'pull' | 'push';

/** Pull from a Sluice peer: its change feed position. Pull from Eden: the youngest modified_on seen. */
export interface PullCheckpoint {
  /** Sluice peers: the peer's seq the feed has been read up to. */
  seq?: number;
  /** Eden peers: the msince of the next pull (no +1 s: the second is fetched again, see README). */
  msince?: string;
  /** Youngest modified_on received so far (peer clock): the "last sync" for conflict detection. */
  mtime?: string;
}

/** Push: our own change feed position and the youngest modified_on sent. */
export interface PushCheckpoint {
  seq?: number;
  mtime?: string;
}

function stable(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stable).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).filter(([, item]) => item !== undefined);
    entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([key, item]) => `${JSON.stringify(key)}:${stable(item)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/** `<direction>:<resource>:<hash of the replication's parameters>`. */
export function checkpointId(task: Pick<SyncTaskRecord, 'repository' | 'resource' | 'filters' | 'components'>, direction: Direction, peerKind: string): string {
  const parameters = {
    repository: task.repository,
    resource: task.resource,
    direction,
    filters: [...task.filters].sort(),
    components: task.components,
    peer: peerKind,
  };
  const digest = createHash('sha256').update(stable(parameters)).digest('hex').slice(0, 24);
  return `${direction}:${task.resource}:${digest}`;
}

function sameContent(a: unknown, b: unknown): boolean {
  return stable(a) === stable(b);
}

/** Finds an open conflict that already holds this very version against this very local record. */
async function existingConflict(store: Store, conflict: NewConflict): Promise<ConflictEntry | undefined> {
  const open = await store.listConflicts({
    status: 'open',
    resource: conflict.resource,
    uuid: conflict.uuid,
    ...(conflict.repository === undefined ? {} : { repository: conflict.repository }),
  });
  return open.find(
    (entry) =>
      entry.method === conflict.method &&
      (entry.local?.seq ?? null) === (conflict.local?.seq ?? null) &&
      sameContent(entry.remote, conflict.remote),
  );
}

function dedupingTransaction(store: Store, tx: StoreTransaction): StoreTransaction {
  return storeView(tx, { addConflict: async (conflict: NewConflict) => (await existingConflict(store, conflict)) ?? tx.addConflict(conflict) });
}

export interface PageStore {
  /** The view to import the page into. */
  store: Store;
  /** True once a transaction of the import committed (and with it the checkpoint). */
  committed(): boolean;
}

/**
 * A view of `store` for importing one page: every transaction the importer opens also writes
 * `checkpoint` (when given) before it commits, and repeated conflicts are not queued twice.
 */
export function pageStore(
  store: Store,
  checkpoint?: { id: string; task: string; value: object; at: string },
  /** More checkpoints to commit with the page (per-record sync state of connectors). */
  alsoCommit: readonly CheckpointRecord[] = [],
): PageStore {
  let committed = false;
  const view = storeView(store, {
    transaction: async <T>(work: (tx: StoreTransaction) => Promise<T>): Promise<T> => {
      const result = await store.transaction(async (tx) => {
        const value = await work(dedupingTransaction(store, tx));
        if (checkpoint) {
          await tx.putCheckpoint({ id: checkpoint.id, task: checkpoint.task, value: { ...checkpoint.value }, updated_at: checkpoint.at });
        }
        for (const extra of alsoCommit) await tx.putCheckpoint(extra);
        return value;
      });
      committed = true;
      return result;
    },
    addConflict: async (conflict: NewConflict) => (await existingConflict(store, conflict)) ?? store.addConflict(conflict),
  });
  return { store: view, committed: () => committed };
}

export async function readCheckpoint<T extends object>(store: Store, id: string): Promise<T> {
  return ((await store.getCheckpoint(id))?.value ?? {}) as T;
}
