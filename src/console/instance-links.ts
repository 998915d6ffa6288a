/**
 * Which mapping instance (mappings/<instance>.json) a repository uses: the key `mapping` in the
 * repository's free-form config. The mapping editor reads the captured payloads of the linked
 * repositories for remote values, and the sync run applies the instance's .xsl to that peer's
 * documents.
 */
import { SluiceError } from '../errors.js';
import { formatTimestamp, type Clock } from '../s3xml/timestamps.js';
import type { RepositoryRecord, Store } from '../store/store.js';

export const MAPPING_CONFIG_KEY = 'mapping';
export const INSTANCE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

export function mappingInstanceOf(repository: Pick<RepositoryRecord, 'config'>): string | undefined {
  const value = repository.config[MAPPING_CONFIG_KEY];
  return typeof value === 'string' && INSTANCE_NAME.test(value) ? value : undefined;
}

export async function repositoriesUsing(store: Store, instance: string): Promise<RepositoryRecord[]> {
  return (await store.listRepositories()).filter((repository) => mappingInstanceOf(repository) === instance);
}

/** Links (or with undefined, unlinks) a repository and a mapping instance, keeping every other config key. */
export async function linkMapping(store: Store, clock: Clock, uuid: string, instance: string | undefined): Promise<RepositoryRecord> {
  const repository = await store.getRepository(uuid);
  if (!repository) throw new SluiceError('REPOSITORY_NOT_FOUND', `There is no repository ${uuid}`, { status: 404 });
  if (instance !== undefined && !INSTANCE_NAME.test(instance)) {
    throw new SluiceError('MAPPING_BAD_INSTANCE', `"${instance}" is not a valid instance name`, { status: 400, fix: 'Use letters, digits, dot, dash and underscore' });
  }
  const config = { ...repository.config };
  if (instance === undefined) delete config[MAPPING_CONFIG_KEY];
  else config[MAPPING_CONFIG_KEY] = instance;
  const updated = { ...repository, config, updated_at: formatTimestamp(clock.now()) };
  await store.putRepository(updated);
  return updated;
}

/** A default instance name for a repository: its name in lower case with dashes. */
export function instanceNameFor(name: string): string {
  const slug = name
    .normalize('NFKD')
    .replace(/[^\w.-]+/g, '-')
    .replace(/^[^A-Za-z0-9]+|-+$/g, '')
    .toLowerCase()
    .slice(0, 64);
  return slug === '' ? 'instance' : slug;
}
