/**
 * The passive side's policies for a push (reference §2.5, S3Sync.__receive): when this gateway has
 * a task for (sending repository, resource), the task's strategy and policies apply and "last sync"
 * is the task's last pull; otherwise the URL's (handled by the endpoint). A repository marked
 * `accept_push: false` is refused as Eden did before 2016 ("Operation not permitted").
 */
import { SluiceError } from '../errors.js';
import type { ImportOptions } from '../importer/importer.js';
import { addSeconds } from '../s3xml/timestamps.js';
import type { Store } from '../store/store.js';
import { checkpointId, readCheckpoint, type PullCheckpoint } from './checkpoints.js';
import { peerSettings } from './peer-settings.js';
import { settingsOf } from './task-settings.js';

export type PushPolicies = Pick<ImportOptions, 'strategy' | 'updatePolicy' | 'conflictPolicy' | 'lastSync'>;

export function pushPolicyResolver(store: Store): (repository: string, resource: string) => Promise<PushPolicies | undefined> {
  return async (repositoryUuid, resource) => {
    const repository = await store.getRepository(repositoryUuid);
    if (!repository) return undefined;
    const peer = peerSettings(repository);
    if (!peer.accept_push) {
      throw new SluiceError('PUSH_NOT_ACCEPTED', 'Operation not permitted', {
        status: 403,
        fix: `This gateway does not accept pushes from ${repository.name}; an administrator can allow it (accept_push)`,
      });
    }
    const task = (await store.listTasks({ repository: repositoryUuid })).find((candidate) => candidate.resource === resource);
    if (!task) return undefined;
    const settings = settingsOf(task);
    const pulled = await readCheckpoint<PullCheckpoint>(store, checkpointId(task, 'pull', peer.software));
    const last = pulled.mtime ?? pulled.msince;
    return {
      strategy: settings.strategy,
      updatePolicy: settings.update_policy,
      conflictPolicy: settings.conflict_policy,
      lastSync: last === undefined ? undefined : addSeconds(last, 1),
    };
  };
}
