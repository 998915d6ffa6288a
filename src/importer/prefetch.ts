/**
 * One read per table for a whole page instead of one per record: before a page is imported, the
 * records its elements name by uuid are fetched with `getRecords`, and the page's transaction is
 * handed a view whose `getRecord` answers from them. Each prefetched answer serves once and a write
 * drops it, so a record read again after the page changed it is read from the store: the view never
 * answers with anything older than what the transaction itself would read.
 */
import type { S3Resource } from '../s3xml/model.js';
import type { RecordWrite, StoredRecord, StoreTransaction } from '../store/store.js';
import { stripLocalDomain } from './identity.js';
import { storeView } from '../store/store-view.js';

const key = (resource: string, uuid: string): string => `${resource}\u0000${uuid}`;

function collectUuids(resources: readonly S3Resource[], localDomain: string | undefined, into: Map<string, Set<string>>): void {
  for (const resource of resources) {
    const uuid = resource.uuid === undefined ? '' : stripLocalDomain(resource.uuid, localDomain);
    if (uuid !== '') {
      let uuids = into.get(resource.name);
      if (!uuids) {
        uuids = new Set();
        into.set(resource.name, uuids);
      }
      uuids.add(uuid);
    }
    collectUuids(resource.components, localDomain, into);
  }
}

export async function prefetchingTransaction(tx: StoreTransaction, page: readonly S3Resource[], localDomain: string | undefined): Promise<StoreTransaction> {
  const wanted = new Map<string, Set<string>>();
  collectUuids(page, localDomain, wanted);
  /** key → the record, or undefined when the store has none. */
  const known = new Map<string, StoredRecord | undefined>();
  for (const [resource, uuids] of wanted) {
    for (const uuid of uuids) known.set(key(resource, uuid), undefined);
    for (const record of await tx.getRecords(resource, [...uuids])) known.set(key(record.resource, record.uuid), record);
  }
  if (known.size === 0) return tx;
  return storeView(tx, {
    getRecord: async (resource: string, uuid: string): Promise<StoredRecord | undefined> => {
      const wantedKey = key(resource, uuid);
      if (!known.has(wantedKey)) return tx.getRecord(resource, uuid);
      const record = known.get(wantedKey);
      known.delete(wantedKey);
      return record;
    },
    putRecord: async (record: RecordWrite): Promise<StoredRecord> => {
      known.delete(key(record.resource, record.uuid));
      return tx.putRecord(record);
    },
  });
}
