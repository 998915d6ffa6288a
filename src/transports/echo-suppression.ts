/**
 * Echo suppression (Eden's rule: records received from repository X are not pushed back to X
 * unless changed here since). Without it every record pulled from a peer went straight back to it
 * on the push of the same run and landed there "unchanged": the whole pull's bytes once more.
 *
 * The store keeps no origin per record, but it stamps every write with a seq, and a record's seq
 * is that of its last write. So the pull remembers the seqs it wrote for records *of the page*
 * (`echo:<peer uuid>` checkpoint, as merged ranges), and the push leaves out a record whose seq
 * (and every component's, when changed in the window) is one of those: its last change came from
 * that peer. Any later local write gives it a new seq and it is pushed again.
 *
 * Only records the peer sent count: writes the import makes to other local records (references
 * re-pointed by a merge) are local changes and are pushed. The remembered ranges are advisory: if
 * they are lost (a crash between the page and their write), the records are merely sent again.
 * Tasks with a per-field update policy do not remember (a partly accepted update is not the peer's
 * version). Pulls from Sluice peers name the page's records up front; pulls from Eden stream, so
 * they collect the uuids as the importer reads them (its first pass reads the whole answer before
 * any write).
 */
import type { S3Resource } from '../s3xml/model.js';
import type { StoredRecord, Store, StoreTransaction } from '../store/store.js';
import { storeView } from '../store/store-view.js';

/** Ranges kept per peer; older ones are dropped (their records would merely be sent again). */
const MAX_RANGES = 5000;

export function echoCheckpointId(peer: string): string {
  return `echo:${peer}`;
}

type SeqRange = [from: number, to: number];

interface EchoState {
  ranges: SeqRange[];
}

/** The uuids of `resources`, their components and inline references, added to `into`. */
export function peerUuids(resources: readonly S3Resource[], into = new Set<string>()): Set<string> {
  for (const resource of resources) {
    if (resource.uuid !== undefined) into.add(resource.uuid);
    peerUuids(resource.components, into);
    for (const reference of resource.references) if (reference.inline) peerUuids([reference.inline], into);
  }
  return into;
}

/** Merges sorted seqs into the ranges, most recent last, at most MAX_RANGES. */
export function mergeRanges(ranges: readonly SeqRange[], seqs: readonly number[]): SeqRange[] {
  const all: SeqRange[] = [...ranges.map(([from, to]) => [from, to] as SeqRange), ...seqs.map((seq) => [seq, seq] as SeqRange)];
  all.sort((a, b) => a[0] - b[0]);
  const merged: SeqRange[] = [];
  for (const range of all) {
    const last = merged.at(-1);
    if (last && range[0] <= last[1] + 1) last[1] = Math.max(last[1], range[1]);
    else merged.push(range);
  }
  return merged.slice(-MAX_RANGES);
}

function inRanges(ranges: readonly SeqRange[], seq: number): boolean {
  let low = 0;
  let high = ranges.length - 1;
  while (low <= high) {
    const middle = (low + high) >> 1;
    const [from, to] = ranges[middle]!;
    if (seq < from) high = middle - 1;
    else if (seq > to) low = middle + 1;
    else return true;
  }
  return false;
}

/**
 * A view of `store` that notes the seq of every write to a record the peer sent: those of `page`,
 * or the uuids in `fromPeer` at the time of the write (a set the caller fills while streaming).
 * Hand the view to the importer, then `remember` once the page committed.
 */
export function echoRecorder(store: Store, page: readonly S3Resource[] | ReadonlySet<string>): { store: Store; remember(peer: string, at: string): Promise<void> } {
  const fromPeer = page instanceof Set ? page : peerUuids(page as readonly S3Resource[]);
  let pending: number[] = [];
  let committed: number[] = [];
  const note = (record: StoredRecord): StoredRecord => {
    if (fromPeer.has(record.uuid)) pending.push(record.seq);
    return record;
  };
  const recordingTx = (tx: StoreTransaction): StoreTransaction =>
    storeView(tx, { putRecord: async (...args: Parameters<StoreTransaction['putRecord']>) => note(await tx.putRecord(...args)) });
  const view = storeView(store, {
    transaction: async <T>(work: (tx: StoreTransaction) => Promise<T>): Promise<T> => {
      pending = [];
      const result = await store.transaction((tx) => work(recordingTx(tx)));
      committed = committed.concat(pending);
      pending = [];
      return result;
    },
    putRecord: async (...args: Parameters<Store['putRecord']>) => {
      const record = await store.putRecord(...args);
      if (fromPeer.has(record.uuid)) committed.push(record.seq);
      return record;
    },
  });
  return {
    store: view,
    async remember(peer, at) {
      if (committed.length === 0) return;
      const id = echoCheckpointId(peer);
      const before = ((await store.getCheckpoint(id))?.value ?? { ranges: [] }) as unknown as EchoState;
      const ranges = mergeRanges(before.ranges ?? [], [...committed].sort((a, b) => a - b));
      committed = [];
      // Filed under its own id as the "task", so removing the repository can delete it with deleteCheckpoints.
      await store.putCheckpoint({ id, task: id, value: { ranges }, updated_at: at });
    },
  };
}

async function storedSeq(store: Store, resource: S3Resource): Promise<number | undefined> {
  if (resource.uuid === undefined) return undefined;
  return (await store.findByUuid(resource.uuid)).find((record) => record.resource === resource.name)?.seq;
}

/**
 * The resources of a push window without those whose last change came from `peer`: the master's
 * seq was written by a pull from the peer, and so was every component's that changed after
 * `afterSeq`. Returns the resources to send and how many were left out.
 */
export async function withoutEchoes(store: Store, peer: string, resources: readonly S3Resource[], afterSeq: number): Promise<{ send: S3Resource[]; echoes: number }> {
  const state = (await store.getCheckpoint(echoCheckpointId(peer)))?.value as unknown as EchoState | undefined;
  const ranges = state?.ranges ?? [];
  if (ranges.length === 0) return { send: [...resources], echoes: 0 };
  const isEcho = async (resource: S3Resource, master: boolean): Promise<boolean> => {
    const seq = await storedSeq(store, resource);
    if (seq === undefined) return false;
    if (!inRanges(ranges, seq) && (master || seq > afterSeq)) return false;
    for (const component of resource.components) if (!(await isEcho(component, false))) return false;
    return true;
  };
  const send: S3Resource[] = [];
  let echoes = 0;
  for (const resource of resources) {
    if (await isEcho(resource, true)) echoes += 1;
    else send.push(resource);
  }
  return { send, echoes };
}
