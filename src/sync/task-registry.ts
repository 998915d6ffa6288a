/**
 * Tasks (one per repository and resource, Eden's sync_task) and the repository's schedule (a job of
 * kind `sync`, cron or interval). A task whose filters or components change starts over: its old
 * checkpoints described another selection (Eden resets last_push for the same reason).
 */
import { randomUUID } from 'node:crypto';
import schedule from 'node-schedule';
import { SluiceError } from '../errors.js';
import { formatTimestamp, type Clock } from '../s3xml/timestamps.js';
import type { JobRecord, Store, SyncTaskRecord } from '../store/store.js';
import { deleteLeasesOf } from './lease.js';
import type { RepositoryRegistry } from './repository-registry.js';
import { checkResourceName, normalizeTaskSettings, storeFilters, type TaskSettings } from './task-settings.js';

export type TaskInput = Partial<Record<keyof TaskSettings, unknown>>;

export interface ScheduleInput {
  cron?: string;
  interval_seconds?: number;
  enabled?: boolean;
}

/** The id of a repository's sync job: one schedule per repository. */
export function syncJobId(repository: string): string {
  return `sync:${repository}`;
}

/** Refuses a cron expression node-schedule cannot run. */
export function checkCron(cron: string): string {
  // node-schedule would take fewer fields and read them from the seconds' end ("*/10 * * *" runs
  // every ten hours), which nobody means.
  const fields = cron.trim().split(/\s+/).length;
  if (fields !== 5 && fields !== 6) {
    throw new SluiceError('BAD_SCHEDULE', `"${cron}" has ${fields} field${fields === 1 ? '' : 's'}; a cron expression has five (minute hour day month weekday) or six (seconds first)`, {
      status: 400,
      fix: 'Use five or six cron fields, e.g. "*/10 * * * *" for every ten minutes',
    });
  }
  const probe = schedule.scheduleJob(cron, () => undefined);
  if (!probe) {
    throw new SluiceError('BAD_SCHEDULE', `"${cron}" is not a cron expression with a next run`, {
      status: 400,
      fix: 'Use five or six cron fields, e.g. "*/10 * * * *" for every ten minutes',
    });
  }
  probe.cancel();
  return cron;
}

export class TaskRegistry {
  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
    private readonly repositories: RepositoryRegistry,
  ) {}

  private now(): string {
    return formatTimestamp(this.clock.now());
  }

  async list(repositoryReference?: string): Promise<SyncTaskRecord[]> {
    if (repositoryReference === undefined) return this.store.listTasks();
    const repository = await this.repositories.resolve(repositoryReference);
    return this.store.listTasks({ repository: repository.uuid });
  }

  async get(id: string): Promise<SyncTaskRecord> {
    const task = await this.store.getTask(id);
    if (!task) throw new SluiceError('TASK_NOT_FOUND', `There is no task ${id}`, { status: 404, fix: 'List tasks with sluice task list' });
    return task;
  }

  /** Adds a task with Eden's defaults for what is not given; TASK_EXISTS (409) for a second one. */
  async add(repositoryReference: string, resource: string, input: TaskInput = {}): Promise<SyncTaskRecord> {
    const repository = await this.repositories.resolve(repositoryReference);
    const settings = normalizeTaskSettings(input);
    const at = this.now();
    const task: SyncTaskRecord = {
      id: randomUUID(),
      repository: repository.uuid,
      resource: checkResourceName(resource),
      ...settings,
      created_at: at,
      updated_at: at,
    };
    storeFilters(task);
    await this.store.putTask(task);
    return task;
  }

  async update(id: string, input: TaskInput): Promise<SyncTaskRecord> {
    const task = await this.get(id);
    const settings = normalizeTaskSettings(input, normalizeTaskSettings(task));
    const updated: SyncTaskRecord = { ...task, ...settings, updated_at: this.now() };
    storeFilters(updated);
    const selectionChanged =
      JSON.stringify([...task.filters].sort()) !== JSON.stringify([...updated.filters].sort()) || task.components !== updated.components;
    await this.store.putTask(updated);
    if (selectionChanged) await this.store.deleteCheckpoints(task.id);
    return updated;
  }

  async remove(id: string): Promise<void> {
    await this.get(id);
    await this.store.deleteTask(id);
  }

  async getSchedule(repositoryReference: string): Promise<JobRecord | undefined> {
    const repository = await this.repositories.resolve(repositoryReference);
    return this.store.getJob(syncJobId(repository.uuid));
  }

  /** Sets the repository's schedule: a cron expression or an interval in seconds (Eden's default: 600). */
  async setSchedule(repositoryReference: string, input: ScheduleInput): Promise<JobRecord> {
    const repository = await this.repositories.resolve(repositoryReference);
    if ((input.cron === undefined) === (input.interval_seconds === undefined)) {
      throw new SluiceError('BAD_SCHEDULE', 'Give either a cron expression or an interval in seconds', { status: 400, fix: 'e.g. {"interval_seconds": 600} or {"cron": "*/10 * * * *"}' });
    }
    if (input.interval_seconds !== undefined && (!Number.isInteger(input.interval_seconds) || input.interval_seconds < 1)) {
      throw new SluiceError('BAD_SCHEDULE', `interval_seconds ${input.interval_seconds} is not a whole number of seconds of at least 1`, {
        status: 400,
        fix: 'e.g. {"interval_seconds": 600} for every ten minutes; to pause the schedule set {"enabled": false}',
      });
    }
    const id = syncJobId(repository.uuid);
    const existing = await this.store.getJob(id);
    const at = this.now();
    const job: JobRecord = {
      id,
      kind: 'sync',
      target: repository.uuid,
      ...(input.cron === undefined ? {} : { cron: checkCron(input.cron) }),
      ...(input.interval_seconds === undefined ? {} : { interval_seconds: input.interval_seconds }),
      enabled: input.enabled ?? true,
      created_at: existing?.created_at ?? at,
      updated_at: at,
    };
    await this.store.putJob(job);
    return job;
  }

  /** Removes the schedule and its tick claims; a run in progress goes on (it holds the repository's lease). */
  async removeSchedule(repositoryReference: string): Promise<void> {
    const repository = await this.repositories.resolve(repositoryReference);
    const id = syncJobId(repository.uuid);
    await this.store.deleteJob(id);
    await deleteLeasesOf({ store: this.store, now: this.clock.now().getTime() }, { jobs: [id] });
  }
}
