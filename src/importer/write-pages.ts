/**
 * The writing pass of an import: one transaction per page of top-level resources. A page that
 * throws is rolled back as a whole, reported in `aborted`, and ends the import; earlier pages stay.
 */
import { asSluiceError } from '../errors.js';
import type { S3Resource } from '../s3xml/model.js';
import { formatTimestamp } from '../s3xml/timestamps.js';
import type { Store } from '../store/store.js';
import { ComponentTables } from './component-lookup.js';
import type { DocumentIndex } from './document-index.js';
import { JoinFields } from './join-fields.js';
import { PageImporter, type ImportRun } from './item-import.js';
import { prefetchingTransaction } from './prefetch.js';
import type { NormalizedOptions } from './options.js';
import { addPage, detachedResult, emptyResult, type ImportResult } from './result.js';

export type ResourceSource = AsyncIterable<S3Resource> | Iterable<S3Resource>;

export async function writePages(
  store: Store,
  source: ResourceSource,
  index: DocumentIndex,
  options: NormalizedOptions,
): Promise<ImportResult> {
  const run: ImportRun = {
    options,
    index,
    tuidUuids: new Map(),
    componentTables: new ComponentTables(store),
    joinFields: new JoinFields(store),
    importStamp: formatTimestamp(options.clock.now()),
  };
  const total = emptyResult();
  let position = 0;
  let pageNumber = 0;
  let page: S3Resource[] = [];

  const commitPage = async (): Promise<boolean> => {
    const pageResult = emptyResult();
    const first = position;
    try {
      await store.transaction(async (tx) => {
        const importer = new PageImporter(await prefetchingTransaction(tx, page, options.localDomain), run, pageResult);
        for (const [offset, resource] of page.entries()) await importer.importTopLevel(resource, first + offset);
      });
    } catch (error) {
      const failure = asSluiceError(error, 'IMPORT_PAGE_FAILED');
      total.errors.push({ code: failure.code, message: `page ${pageNumber + 1} rolled back: ${failure.message}` });
      total.aborted = { code: failure.code, message: failure.message, page: pageNumber + 1 };
      return false;
    }
    addPage(total, detachedResult(pageResult));
    position += page.length;
    pageNumber += 1;
    page = [];
    options.onProgress?.({ resources: position });
    return true;
  };

  for await (const resource of source) {
    page.push(resource);
    if (page.length >= options.pageSize && !(await commitPage())) return total;
  }
  if (page.length > 0) await commitPage();
  return total;
}
