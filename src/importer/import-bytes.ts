/**
 * Importing S3XML bytes with all-or-nothing validation: the whole document is parsed once before
 * anything is written, so a malformed document (bad XML, DOCTYPE, wrong root…) changes nothing at
 * all; then it is parsed again and written page by page. Two parses cost CPU, not memory: neither
 * pass holds more than one top-level resource plus the document index.
 */
import type { S3Resource } from '../s3xml/model.js';
import { readS3XML, type ParseOptions } from '../s3xml/parse.js';
import type { Store } from '../store/store.js';
import { DocumentIndexBuilder } from './document-index.js';
import { normalizeOptions, type ImportOptions } from './options.js';
import type { ImportResult } from './result.js';
import { writePages } from './write-pages.js';

export type ByteSource = AsyncIterable<Uint8Array | string> | Iterable<Uint8Array | string>;

async function* resourcesOf(source: ByteSource, parse: ParseOptions | undefined): AsyncGenerator<S3Resource> {
  for await (const event of readS3XML(source, parse)) {
    if (event.type === 'resource') yield event.resource;
  }
}

/**
 * `open` must return the same bytes each time it is called (a file stream, a buffered request
 * body). Parser refusals (SluiceError XML_* / S3XML_*) are thrown before any write.
 */
export async function importS3XMLBytes(
  store: Store,
  open: () => ByteSource,
  options: ImportOptions & { parse?: ParseOptions },
): Promise<ImportResult> {
  const normalized = normalizeOptions(options);
  const builder = new DocumentIndexBuilder(normalized.resource, normalized.localDomain);
  for await (const resource of resourcesOf(open(), options.parse)) builder.add(resource);
  return writePages(store, resourcesOf(open(), options.parse), builder.finish(), normalized);
}
