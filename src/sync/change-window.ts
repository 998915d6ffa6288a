/**
 * Pages of the exact change feed between Sluice peers. A page is a seq window `(afterSeq,
 * untilSeq]`: every master that changed in it, or whose component changed in it, with its current
 * content. The next page starts at `untilSeq`, so nothing is skipped and nothing depends on the
 * order masters come out in.
 *
 * Counting masters (as `limit` does) would not do: a master can be due because of a component whose
 * seq lies after the master's own, and a page cut after N masters would then claim seqs it did not
 * deliver. Instead the window's end is chosen so that at most `limit` changes of each table fall in
 * it (the resource's rows — all of them, since rows held as components of another record are
 * exported as masters too — and every component table), and the export runs over the whole window.
 */
import { ComponentTables } from '../importer/component-lookup.js';
import type { RecordAccess, Store } from '../store/store.js';

export interface ChangeWindow {
  afterSeq: number;
  untilSeq: number;
  /** True when changes after `untilSeq` may exist (ask again from there). */
  more: boolean;
}

/**
 * Where the page starting after `afterSeq` ends. The store's last seq is read first: everything at
 * or below it is committed (writes are serialised, so seq order is commit order).
 */
export async function changeWindow(
  store: Pick<Store, 'lastSeq'> & RecordAccess,
  resource: string,
  afterSeq: number,
  limit: number | undefined,
): Promise<ChangeWindow> {
  const snapshot = await store.lastSeq();
  if (snapshot <= afterSeq) return { afterSeq, untilSeq: afterSeq, more: false };
  if (limit === undefined || limit <= 0) return { afterSeq, untilSeq: snapshot, more: false };
  let untilSeq = snapshot;
  const tables = [resource, ...[...(await new ComponentTables(store).list())].filter((table) => table !== resource)];
  for (const table of tables) {
    // Only the limit-th change is read: when it exists, the window ends there for this table.
    const [last] = await store.queryRecords({
      resource: table,
      afterSeq,
      orderBy: 'seq',
      includeDeleted: true,
      start: limit - 1,
      limit: 1,
    });
    if (last !== undefined) untilSeq = Math.min(untilSeq, last.seq);
  }
  return { afterSeq, untilSeq, more: untilSeq < snapshot };
}
