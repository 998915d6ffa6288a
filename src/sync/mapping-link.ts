/**
 * Linking a repository to a mapping instance from the CLI (`repo set --mapping`) and the admin API
 * (`PATCH /api/repositories/:uuid {"mapping": …}`). Unlike a bare config edit, the link is refused
 * unless mappings/<instance>.json exists, validates and generates its stylesheet: a broken link
 * would only show at the next run, as a failed sync.
 */
import { linkMapping } from '../console/instance-links.js';
import { readMappingDocument } from '../formats/mapping-files.js';
import { generateMappingXslt } from '../formats/mapping-generator.js';
import type { Clock } from '../s3xml/timestamps.js';
import type { Store } from '../store/store.js';
import type { RepositoryRegistry } from './repository-registry.js';

export interface MappingLinker {
  /** Throws MAPPING_NOT_FOUND, MAPPING_INVALID or MAPPING_BAD_INSTANCE; does not change anything. */
  check(instance: string): Promise<void>;
  /** Links `instance` (null: unlinks) to the repository named or with that uuid; returns the link. */
  link(reference: string, instance: string | null): Promise<string | null>;
}

export function createMappingLinker(deps: { store: Store; clock: Clock; mappingsDir: string; repositories: Pick<RepositoryRegistry, 'resolve'> }): MappingLinker {
  const check = async (instance: string): Promise<void> => {
    generateMappingXslt(await readMappingDocument(deps.mappingsDir, instance));
  };
  return {
    check,
    async link(reference, instance) {
      const repository = await deps.repositories.resolve(reference);
      if (instance !== null) await check(instance);
      await linkMapping(deps.store, deps.clock, repository.uuid, instance ?? undefined);
      return instance;
    },
  };
}
