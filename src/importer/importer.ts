/**
 * The importer: S3XML resources in, store records out, with Eden's import semantics (identity,
 * tuid links, references, components, tombstones and merges, strategies, update and conflict
 * policies). It reads the document twice — once to index it, once to write it page by page in one
 * transaction per page — so memory is bounded by a page, not by the document. No network, disk,
 * clock or environment access of its own: the store and the clock are handed in.
 */
import type { S3Resource } from '../s3xml/model.js';
import type { Store } from '../store/store.js';
import { DocumentIndexBuilder } from './document-index.js';
import { normalizeOptions, type ImportOptions } from './options.js';
import type { ImportResult } from './result.js';
import { writePages, type ResourceSource } from './write-pages.js';

export type { ImportMethod, Policy, UpdatePolicy } from './policies.js';
export type { ImportOptions } from './options.js';
export type { ImportErrorEntry, ImportResult, SkippedItem } from './result.js';

/**
 * Imports resources already in memory (or from a one-shot iterable, which is collected first
 * because the import needs two passes). For large documents use `importS3XMLBytes` or
 * `importResourceSource`, which re-read their source instead of holding it.
 */
export async function importResources(store: Store, resources: ResourceSource, options: ImportOptions): Promise<ImportResult> {
  let list: readonly S3Resource[];
  if (Array.isArray(resources)) {
    list = resources as readonly S3Resource[];
  } else {
    const collected: S3Resource[] = [];
    for await (const resource of resources) collected.push(resource);
    list = collected;
  }
  return importResourceSource(store, () => list, options);
}

/**
 * Imports from a source that can be opened twice: first to index the document (tuids, and which
 * dependencies a target table needs), then to write it page by page.
 */
export async function importResourceSource(store: Store, open: () => ResourceSource, options: ImportOptions): Promise<ImportResult> {
  const normalized = normalizeOptions(options);
  const builder = new DocumentIndexBuilder(normalized.resource, normalized.localDomain);
  for await (const resource of open()) builder.add(resource);
  return writePages(store, open(), builder.finish(), normalized);
}

export { importS3XMLBytes, type ByteSource } from './import-bytes.js';
