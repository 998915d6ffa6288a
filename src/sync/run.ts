/**
 * One synchronisation run with one repository (Eden's S3Sync.synchronize, reference §3.2): for
 * each task in turn, pull then push, each logged with its direction. A task whose pull fails does
 * not push (Eden's rule: do not send before having heard the peer); the other tasks still run.
 * The run's record says `running` until it is over, then what happened, with counts, bytes,
 * duration and the captured exchanges.
 */
import { asSluiceError, SluiceError } from '../errors.js';
import { UpstreamStatusError, type RetryOptions } from '../net/retry.js';
import type { SecretBox } from '../secrets.js';
import { formatTimestamp, type Clock } from '../s3xml/timestamps.js';
import type { LogResult, RepositoryRecord, RunRecord, RunStatus, Store, SyncTaskRecord } from '../store/store.js';
import { CaptureRecorder, type CaptureLimits } from './capture.js';
import { PeerClient } from './peer-client.js';
import { peerSettings } from './peer-settings.js';
import { pullTask } from './pull.js';
import { pushTask } from './push.js';
import { describeUnmapped, SyncMappings, type DocumentMapping } from './mapping-step.js';
import type { ReplicationContext, ReplicationResult } from './replication.js';
import { SyncLogWriter, worse } from './sync-log.js';
import { pulls, pushes } from './task-settings.js';
import type { PeerTransport } from './transport.js';
import { compressingTransport } from '../transports/compression.js';
import { lowBandwidthTransport } from '../transports/low-bandwidth.js';
import { lowBandwidthSettings } from '../transports/low-bandwidth-settings.js';

export interface RunDeps {
  store: Store;
  clock: Clock;
  transport: PeerTransport;
  secrets: SecretBox;
  identity: { uuid: string; name: string };
  localDomain?: string;
  timeoutMs: number;
  pageSize: number;
  retry?: RetryOptions;
  captureLimits?: CaptureLimits;
  /** The gateway's default proxy (settings), used when the repository has none. */
  defaultProxy?: () => Promise<string | undefined>;
  /** Value mappings of repositories that link one (`config.mapping`); read again at every run. */
  mappings?: SyncMappings;
}

/** Failures that need a person to change something before a retry can help (Eden's `fatal`). */
const FATAL_CODES = new Set([
  'PEER_AUTH_FAILED',
  'PEER_FORBIDDEN',
  'PEER_REGISTRATION_REQUIRED',
  'PEER_NO_CHANGE_FEED',
  'PEER_FEED_WENT_BACK',
  'SECRET_UNREADABLE',
  'NO_REPOSITORY_URL',
  'BAD_TASK',
  'BAD_FILTER',
  'BAD_IMPORT_OPTIONS',
  'MAPPING_NOT_FOUND',
  'MAPPING_INVALID',
  'MAPPING_BAD_INSTANCE',
  'MAPPING_UNAVAILABLE',
]);

/** Network failures, where carrying a bundle by hand is the way round (src/bundles). */
export const NETWORK_FAILURE_CODES: readonly string[] = ['PEER_UNAVAILABLE', 'PEER_TIMEOUT'];

/** The offer of the offline route for a failure the network caused, '' for any other. */
export function offlineFallback(code: string, repositoryName: string): string {
  if (!NETWORK_FAILURE_CODES.includes(code)) return '';
  const name = /^[\w.-]+$/.test(repositoryName) ? repositoryName : JSON.stringify(repositoryName);
  return `. The peer cannot be reached: carry the changes by file instead with sluice bundle export --repo ${name} --out ${repositoryName.replace(/[^\w.-]+/g, '_')}.bundle`;
}

export function resultOfFailure(error: unknown): LogResult {
  const failure = asSluiceError(error);
  return FATAL_CODES.has(failure.code) ? 'fatal' : 'error';
}

/** Whether a failure is the peer's doing (Eden's `remote` flag). */
export function isRemoteFailure(error: unknown): boolean {
  if (error instanceof UpstreamStatusError) return true;
  const code = asSluiceError(error).code;
  return code.startsWith('PEER_');
}

function plural(count: number, singular: string): string {
  return `${count} ${singular}${count === 1 ? '' : 's'}`;
}

/**
 * One replication for the log. `records` counts the task's table only; the outcome counts count
 * every record written, components included, so they are labelled apart (else they seem not to add up).
 */
function summary(result: ReplicationResult): string {
  const head = `${plural(result.records, `${result.resource} record`)} in ${plural(result.pages, 'page')}`;
  const outcomes = (['created', 'updated', 'deleted', 'merged', 'unchanged'] as const).filter((key) => result[key] > 0).map((key) => `${result[key]} ${key}`);
  const where = result.direction === 'pull' ? 'records in the store, components counted' : 'records at the peer, components counted';
  const problems = [result.conflicts > 0 ? plural(result.conflicts, 'conflict') : '', result.errors > 0 ? plural(result.errors, 'error') : ''].filter(Boolean);
  return [head, ...(outcomes.length ? [`${where}: ${outcomes.join(', ')}`] : []), ...problems, `${result.bytes} bytes`].join('; ');
}

/** The mapping of this run, read before anything moves: a mapping that cannot be read stops the run. */
async function mappingFor(deps: RunDeps, repository: RepositoryRecord): Promise<DocumentMapping | undefined> {
  if (deps.mappings) return deps.mappings.forRepository(repository);
  const instance = SyncMappings.instanceOf(repository);
  if (instance === undefined) return undefined;
  throw new SluiceError('MAPPING_UNAVAILABLE', `repository ${repository.name} uses the mapping ${instance}, but this process was started without mappings`, {
    status: 500,
    fix: 'Run the sync from a gateway or worker (sluice start, sluice worker, sluice sync), which read mappings/',
  });
}

/** The log line of a replication, with the unmapped values its mapping met. */
function replicationMessage(result: ReplicationResult, mapping: DocumentMapping | undefined): string {
  const unmapped = mapping ? describeUnmapped(mapping.takeUnmapped()) : [];
  return [summary(result), ...result.problems, ...unmapped].join('; ');
}

function resultOf(result: ReplicationResult): LogResult {
  return result.errors > 0 || result.conflicts > 0 ? 'warning' : 'success';
}

function addCounts(counts: Record<string, number>, result: ReplicationResult): void {
  const prefix = result.direction;
  for (const key of ['records', 'created', 'updated', 'deleted', 'merged', 'unchanged', 'skipped', 'conflicts', 'errors', 'pages'] as const) {
    counts[`${prefix}_${key}`] = (counts[`${prefix}_${key}`] ?? 0) + result[key];
  }
}

export interface RunOutcome {
  run: RunRecord;
  results: ReplicationResult[];
  failures: SluiceError[];
}

/**
 * Runs every task of `repository` and finishes `run` (already written as running by the caller).
 * Never throws for a peer's failure: that is the run's result; it throws only if the store fails.
 */
export async function runRepository(deps: RunDeps, repository: RepositoryRecord, run: RunRecord, signal?: AbortSignal): Promise<RunOutcome> {
  const log = new SyncLogWriter(deps.store, deps.clock, { repository: repository.uuid, run_id: run.id });
  const recorder = new CaptureRecorder(deps.captureLimits);
  const startedMs = deps.clock.now().getTime();
  const results: ReplicationResult[] = [];
  const failures: SluiceError[] = [];
  let status: LogResult = 'success';
  const counts: Record<string, number> = { tasks: 0 };

  const fail = async (error: unknown, mode: string, action: string, resource?: string): Promise<void> => {
    const failure = asSluiceError(error);
    failures.push(failure);
    const result = resultOfFailure(failure);
    status = worse(status, result);
    await log.write({
      mode,
      action,
      result,
      remote: isRemoteFailure(failure),
      message: `${failure.code}: ${failure.message}${failure.fix ? ` (${failure.fix})` : ''}${offlineFallback(failure.code, repository.name)}`,
      ...(resource === undefined ? {} : { resource }),
    });
  };

  try {
    const settings = peerSettings(repository);
    if (!repository.url) {
      throw new SluiceError('NO_REPOSITORY_URL', `Repository ${repository.name} has no URL`, { status: 400, fix: 'Set the URL of the repository' });
    }
    const password = settings.password === undefined ? undefined : deps.secrets.open(settings.password, repository.uuid);
    const proxy = settings.proxy ?? (await deps.defaultProxy?.());
    const lowBandwidth = lowBandwidthSettings(repository.config);
    const client = new PeerClient({
      baseUrl: repository.url,
      ...(settings.username !== undefined && password !== undefined ? { credentials: { username: settings.username, password } } : {}),
      ...(proxy ? { proxy } : {}),
      // Sluice peers read compressed push bodies; Eden's web2py would take them for XML.
      transport: lowBandwidthTransport(settings.software === 'sluice' ? compressingTransport(deps.transport, { coding: 'br' }) : deps.transport, lowBandwidth),
      ...(settings.software === 'sluice' ? { wireFormat: lowBandwidth.wire_format } : {}),
      timeoutMs: deps.timeoutMs,
      ...(deps.retry ? { retry: deps.retry } : {}),
      clock: deps.clock,
      recorder,
      ...(signal ? { signal } : {}),
      onRetry: (notice) => {
        const failure = asSluiceError(notice.error);
        void log.write({
          mode: notice.what.startsWith('push') ? 'push/outgoing' : notice.what.startsWith('pull') ? 'pull/outgoing' : 'register/outgoing',
          action: 'retry',
          result: 'warning',
          remote: true,
          message: `${notice.what} attempt ${notice.attempt} failed (${failure.code}: ${failure.message}); retrying in ${notice.delayMs} ms`,
        });
      },
    });
    const mapping = await mappingFor(deps, repository);
    const ctx: ReplicationContext = {
      store: deps.store,
      client,
      clock: deps.clock,
      ownUuid: deps.identity.uuid,
      peer: { uuid: repository.uuid, software: settings.software },
      ...(deps.localDomain === undefined ? {} : { localDomain: deps.localDomain }),
      pageSize: lowBandwidth.page_size ?? deps.pageSize,
      ...(signal ? { signal } : {}),
      ...(mapping ? { mapping } : {}),
    };
    const tasks: SyncTaskRecord[] = (await deps.store.listTasks({ repository: repository.uuid })).filter((task) => task.mode !== 'none');
    if (tasks.length === 0) {
      status = 'warning';
      await log.write({ mode: 'none/none', action: 'check', result: 'warning', message: 'No tasks to run: add a task for a resource (on the repository\'s console page, or sluice task add)' });
    }
    for (const task of tasks) {
      counts.tasks = (counts.tasks ?? 0) + 1;
      let pulled = true;
      if (pulls(task)) {
        try {
          const result = await pullTask(ctx, task);
          results.push(result);
          addCounts(counts, result);
          status = worse(status, resultOf(result));
          await log.write({
            mode: 'pull/outgoing',
            action: 'import',
            result: resultOf(result),
            resource: task.resource,
            message: replicationMessage(result, mapping),
          });
        } catch (error) {
          pulled = false;
          // What a failed pull's mapping met was not imported; it must not be reported with the next task.
          mapping?.takeUnmapped();
          await fail(error, 'pull/outgoing', 'import', task.resource);
        }
      }
      if (pushes(task) && pulled) {
        try {
          const result = await pushTask(ctx, task);
          results.push(result);
          addCounts(counts, result);
          status = worse(status, resultOf(result));
          await log.write({
            mode: 'push/outgoing',
            action: 'send',
            result: resultOf(result),
            resource: task.resource,
            message: replicationMessage(result, mapping),
          });
        } catch (error) {
          mapping?.takeUnmapped();
          await fail(error, 'push/outgoing', 'send', task.resource);
        }
      } else if (pushes(task)) {
        await log.write({ mode: 'push/outgoing', action: 'send', result: 'warning', resource: task.resource, message: 'Push skipped because the pull of this task failed' });
      }
      if (signal?.aborted) break;
    }
  } catch (error) {
    await fail(error, 'none/none', 'check');
  }

  const finishedAt = deps.clock.now();
  const finished: RunRecord = {
    ...run,
    status: (signal?.aborted && failures.length > 0 ? 'interrupted' : status) as RunStatus,
    finished_at: formatTimestamp(finishedAt),
    duration_ms: Math.max(0, finishedAt.getTime() - startedMs),
    counts,
    bytes_in: recorder.bytesIn,
    bytes_out: recorder.bytesOut,
    message: failures.length
      ? failures.map((failure) => `${failure.code}: ${failure.message}`).join('; ').slice(0, 2000)
      : `${plural(counts.tasks ?? 0, 'task')}: pulled ${plural(counts.pull_records ?? 0, 'record')}, pushed ${plural(counts.push_records ?? 0, 'record')}`,
    captures: recorder.captures(),
  };
  await deps.store.putRun(finished);
  return { run: finished, results, failures };
}
