/**
 * Document layouts of the sync module's state: tasks, checkpoints, jobs, leases, runs. Each is
 * keyed by its own id (`_id`); free-form parts go through plain-documents.ts.
 */
import type { CheckpointRecord, JobRecord, LeaseRecord, RunCapture, RunRecord, RunStatus, SyncMode, SyncTaskRecord } from '../store.js';
import { fromStorable, toStorable } from './plain-documents.js';

export interface TaskDocument {
  _id: string;
  repository: string;
  resource: string;
  mode: string;
  strategy: string[];
  update_policy: unknown;
  conflict_policy: string;
  filters: string[];
  components: boolean;
  created_at: string;
  updated_at: string;
}

export function taskToDocument(task: SyncTaskRecord): TaskDocument {
  return {
    _id: task.id,
    repository: task.repository,
    resource: task.resource,
    mode: task.mode,
    strategy: [...task.strategy],
    update_policy: toStorable(task.update_policy),
    conflict_policy: task.conflict_policy,
    filters: [...task.filters],
    components: task.components,
    created_at: task.created_at,
    updated_at: task.updated_at,
  };
}

export function taskFromDocument(document: TaskDocument): SyncTaskRecord {
  return {
    id: document._id,
    repository: document.repository,
    resource: document.resource,
    mode: document.mode as SyncMode,
    strategy: document.strategy,
    update_policy: fromStorable<SyncTaskRecord['update_policy']>(document.update_policy),
    conflict_policy: document.conflict_policy,
    filters: document.filters,
    components: document.components,
    created_at: document.created_at,
    updated_at: document.updated_at,
  };
}

export interface CheckpointDocument {
  _id: string;
  task?: string;
  value: unknown;
  updated_at: string;
}

export function checkpointToDocument(checkpoint: CheckpointRecord): CheckpointDocument {
  const document: CheckpointDocument = { _id: checkpoint.id, value: toStorable(checkpoint.value), updated_at: checkpoint.updated_at };
  if (checkpoint.task !== undefined) document.task = checkpoint.task;
  return document;
}

export function checkpointFromDocument(document: CheckpointDocument): CheckpointRecord {
  const checkpoint: CheckpointRecord = { id: document._id, value: fromStorable(document.value), updated_at: document.updated_at };
  if (document.task != null) checkpoint.task = document.task;
  return checkpoint;
}

export interface JobDocument {
  _id: string;
  kind: string;
  target: string;
  cron?: string;
  interval_seconds?: number;
  enabled: boolean;
  created_at: string;
  updated_at: string;
}

export function jobToDocument(job: JobRecord): JobDocument {
  const document: JobDocument = { _id: job.id, kind: job.kind, target: job.target, enabled: job.enabled, created_at: job.created_at, updated_at: job.updated_at };
  if (job.cron !== undefined) document.cron = job.cron;
  if (job.interval_seconds !== undefined) document.interval_seconds = job.interval_seconds;
  return document;
}

export function jobFromDocument(document: JobDocument): JobRecord {
  const job: JobRecord = { id: document._id, kind: document.kind, target: document.target, enabled: document.enabled, created_at: document.created_at, updated_at: document.updated_at };
  if (document.cron != null) job.cron = document.cron;
  if (document.interval_seconds != null) job.interval_seconds = document.interval_seconds;
  return job;
}

export interface LeaseDocument {
  _id: string;
  holder: string;
  acquired_at: number;
  expires_at: number;
}

export function leaseFromDocument(document: LeaseDocument): LeaseRecord {
  return { name: document._id, holder: document.holder, acquired_at: document.acquired_at, expires_at: document.expires_at };
}

/** A run with `order`: when it was first written, for newest-first listing. */
export interface RunDocument {
  _id: string;
  order: number;
  kind: string;
  repository?: string;
  job?: string;
  trigger: string;
  holder?: string;
  status: string;
  started_at: string;
  finished_at?: string;
  duration_ms?: number;
  counts: unknown;
  bytes_in: number;
  bytes_out: number;
  message?: string;
  captures: unknown[];
}

export const OPTIONAL_RUN_FIELDS = ['repository', 'job', 'holder', 'finished_at', 'duration_ms', 'message'] as const;

/** The fields putRun sets (everything but `_id` and `order`). */
export function runFields(run: RunRecord): Omit<RunDocument, '_id' | 'order'> {
  const fields: Omit<RunDocument, '_id' | 'order'> = {
    kind: run.kind,
    trigger: run.trigger,
    status: run.status,
    started_at: run.started_at,
    counts: toStorable(run.counts),
    bytes_in: run.bytes_in,
    bytes_out: run.bytes_out,
    captures: toStorable(run.captures) as unknown[],
  };
  for (const key of OPTIONAL_RUN_FIELDS) {
    const value = run[key];
    if (value !== undefined) (fields as Record<string, unknown>)[key] = value;
  }
  return fields;
}

export function runFromDocument(document: RunDocument): RunRecord {
  const run: RunRecord = {
    id: document._id,
    kind: document.kind,
    trigger: document.trigger,
    status: document.status as RunStatus,
    started_at: document.started_at,
    counts: fromStorable<Record<string, number>>(document.counts),
    bytes_in: document.bytes_in,
    bytes_out: document.bytes_out,
    captures: fromStorable<RunCapture[]>(document.captures),
  };
  for (const key of OPTIONAL_RUN_FIELDS) {
    const value = document[key];
    if (value !== undefined && value !== null) (run as unknown as Record<string, unknown>)[key] = value;
  }
  return run;
}
