/**
 * Drop folders as the sync module's external sources: `sync:<uuid>` jobs, Sync Now and `sluice sync`
 * of a `folder` repository run `runDropFolder` under the repository's lease, with a run record and
 * log lines like any repository's run (SyncRunner.runWork).
 */
import { formatTimestamp, type Clock } from '../s3xml/timestamps.js';
import type { RunRecord, RunStatus, Store } from '../store/store.js';
import type { BundleContext } from '../bundles/export-bundle.js';
import type { SyncRunner } from '../sync/runner.js';
import type { ExternalSources } from '../sync/sync-module.js';
import { SyncLogWriter } from '../sync/sync-log.js';
import { runDropFolder, type DropFolderResult } from './drop-folder-run.js';
import { isDropFolder } from './drop-folder-settings.js';
import type { FolderAccess } from './folder-access.js';

export interface DropFolderSourcesDeps {
  store: Store;
  clock: Clock;
  /** Built when a folder first runs (it loads the signing key). */
  bundles: () => BundleContext;
  folder: FolderAccess;
  /** The sync module's runner (its lease, run record and history); created after the sources. */
  runner: () => SyncRunner;
}

function countsOf(result: DropFolderResult): Record<string, number> {
  const counts: Record<string, number> = { tasks: 0 };
  for (const file of result.files) counts[`files_${file.outcome}`] = (counts[`files_${file.outcome}`] ?? 0) + 1;
  for (const replication of result.results) {
    for (const key of ['records', 'created', 'updated', 'deleted', 'unchanged', 'skipped', 'conflicts', 'errors'] as const) {
      const name = `${replication.direction}_${key}`;
      counts[name] = (counts[name] ?? 0) + replication[key];
    }
  }
  if (result.written) counts.bundles_written = 1;
  return counts;
}

function summaryOf(result: DropFolderResult): string {
  if (result.failures.length) return result.failures.map((failure) => `${failure.code}: ${failure.message}`).join('; ').slice(0, 2000);
  const imported = result.files.filter((file) => file.outcome === 'imported').length;
  const waiting = result.files.filter((file) => file.outcome === 'waiting').length;
  return `${imported} file${imported === 1 ? '' : 's'} imported${waiting ? `, ${waiting} waiting` : ''}${result.written ? `; wrote ${result.written.name} (${result.written.records} records)` : ''}`;
}

export function createDropFolderSources(deps: DropFolderSourcesDeps): ExternalSources {
  const { store, clock } = deps;
  let bundles: BundleContext | undefined;
  return {
    handles: (repository) => isDropFolder(repository),
    run(repository, request) {
      return deps.runner().runWork(repository.uuid, request, async (current, run: RunRecord, signal) => {
        const startedMs = clock.now().getTime();
        bundles ??= deps.bundles();
        const log = new SyncLogWriter(store, clock, { repository: current.uuid, run_id: run.id });
        const result = await runDropFolder({ bundles, folder: deps.folder, log, signal }, current);
        const finishedAt = clock.now();
        const finished: RunRecord = {
          ...run,
          status: (signal.aborted && result.failures.length > 0 ? 'interrupted' : result.status) as RunStatus,
          finished_at: formatTimestamp(finishedAt),
          duration_ms: Math.max(0, finishedAt.getTime() - startedMs),
          counts: countsOf(result),
          bytes_in: result.results.filter((entry) => entry.direction === 'pull').reduce((sum, entry) => sum + entry.bytes, 0),
          bytes_out: result.results.filter((entry) => entry.direction === 'push').reduce((sum, entry) => sum + entry.bytes, 0),
          message: summaryOf(result),
          captures: [],
        };
        await store.putRun(finished);
        return { run: finished, results: result.results, failures: result.failures };
      });
    },
    runJob: async () => false,
  };
}
