/**
 * Runs a repository's sync under its lease: the same entry point for the scheduler, Sync Now (API)
 * and `sluice sync`. A run found `running` under a holder whose lease was taken over is marked
 * `interrupted` — it never finished, and the new run resumes from its last committed page.
 */
import { randomUUID } from 'node:crypto';
import { SluiceError } from '../errors.js';
import type { Logger } from '../logger.js';
import { formatTimestamp } from '../s3xml/timestamps.js';
import type { RepositoryRecord, RunRecord } from '../store/store.js';
import { acquireLease, leaseHeldError, type HeldLease, type LeaseOptions } from './lease.js';
import { runRepository, type RunDeps, type RunOutcome } from './run.js';
import { SyncLogWriter } from './sync-log.js';

export interface RunnerDeps extends RunDeps {
  lease: Omit<LeaseOptions, 'store' | 'clock'>;
  logger?: Logger;
  /** Runs whose captured bodies are kept (older runs keep their counts, not their bodies). */
  keepCaptures?: number;
}

export interface RunRequest {
  /** `schedule`, `manual` (API), `cli`. */
  trigger: string;
  job?: string;
}

export function syncLeaseName(repository: string): string {
  return `sync:${repository}`;
}

/**
 * The lease of one run with a repository (or an external source): SYNC_ALREADY_RUNNING, after a log
 * line, while another run holds it. Runs left `running` by the holder it was taken over from are
 * marked `interrupted` before the lease is handed out.
 */
export async function takeRunLease(options: LeaseOptions, repository: string): Promise<HeldLease> {
  const { store, clock } = options;
  const name = syncLeaseName(repository);
  const taken = await acquireLease(options, name);
  if (!('lease' in taken)) {
    await new SyncLogWriter(store, clock, { repository }).write({
      mode: 'none/none',
      action: 'check',
      result: 'warning',
      message: `Synchronization already active - skipping run (${taken.heldBy?.holder ?? 'another process'})`,
    });
    throw leaseHeldError(name, taken.heldBy, clock.now().getTime());
  }
  const { lease } = taken;
  if (lease.tookOverFrom !== undefined) {
    try {
      await markInterrupted(options, repository, lease.tookOverFrom);
    } catch (error) {
      await lease.release();
      throw error;
    }
  }
  return lease;
}

async function markInterrupted({ store, clock }: Pick<LeaseOptions, 'store' | 'clock'>, repository: string, holder: string): Promise<void> {
  for (const stale of await store.listRuns({ repository, status: 'running', limit: 20 })) {
    if (stale.holder !== holder) continue;
    await store.putRun({
      ...stale,
      status: 'interrupted',
      finished_at: formatTimestamp(clock.now()),
      message: `The run stopped without finishing (its process, ${holder}, died or lost the lease); the next run resumed from the last committed page`,
    });
    await new SyncLogWriter(store, clock, { repository, run_id: stale.id }).write({
      mode: 'none/none',
      action: 'check',
      result: 'warning',
      message: `Run ${stale.id} of ${holder} was interrupted; its lease was taken over and the sync resumes from the last committed page`,
    });
  }
}

export class SyncRunner {
  constructor(private readonly deps: RunnerDeps) {}

  /** Resolves with the finished run; SYNC_ALREADY_RUNNING (409) when another run holds the lease. */
  async run(repositoryUuid: string, request: RunRequest): Promise<RunOutcome> {
    return this.runWork(repositoryUuid, request, (repository, run, signal) => runRepository(this.deps, repository, run, signal));
  }

  /**
   * The lease, the run record and the log of `run`, around other work: repositories that are not
   * HTTP peers (drop folders, src/transports) run under the same lease and history. `work` gets the
   * run written as `running` and must finish it (`putRun`), as `runRepository` does.
   */
  async runWork(
    repositoryUuid: string,
    request: RunRequest,
    work: (repository: RepositoryRecord, run: RunRecord, signal: AbortSignal) => Promise<RunOutcome>,
  ): Promise<RunOutcome> {
    const { store, clock } = this.deps;
    const repository = await store.getRepository(repositoryUuid);
    if (!repository) {
      throw new SluiceError('REPOSITORY_NOT_FOUND', `There is no repository ${repositoryUuid}`, { status: 404, fix: 'List repositories with sluice repo list' });
    }
    const lease = await takeRunLease({ ...this.deps.lease, store, clock }, repository.uuid);
    try {
      const run: RunRecord = {
        id: randomUUID(),
        kind: 'sync',
        repository: repository.uuid,
        ...(request.job === undefined ? {} : { job: request.job }),
        trigger: request.trigger,
        holder: this.deps.lease.holder,
        status: 'running',
        started_at: formatTimestamp(clock.now()),
        counts: {},
        bytes_in: 0,
        bytes_out: 0,
        captures: [],
      };
      await store.putRun(run);
      this.deps.logger?.info({ repository: repository.uuid, name: repository.name, run: run.id, trigger: request.trigger }, 'sync run started');
      const outcome = await work(repository, run, lease.signal);
      this.deps.logger?.info(
        { repository: repository.uuid, run: run.id, status: outcome.run.status, ms: outcome.run.duration_ms, counts: outcome.run.counts },
        'sync run finished',
      );
      if (this.deps.keepCaptures !== undefined) await store.trimRunCaptures(this.deps.keepCaptures);
      return outcome;
    } finally {
      await lease.release();
    }
  }
}
