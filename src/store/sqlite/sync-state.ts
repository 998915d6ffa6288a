/**
 * The sync module's state in SQLite: tasks, checkpoints, jobs, leases and run history (schema in
 * migrations.ts, version 2). Each statement is prepared once; the store decides which connection
 * and which write session they run in. JSON columns hold lists and free-form parts.
 */
import type Database from 'better-sqlite3';
import { SluiceError } from '../../errors.js';
import type { CheckpointRecord, JobRecord, LeaseRecord, LeaseSelector, RunQuery, RunRecord, RunStatus, SyncMode, SyncTaskRecord } from '../store.js';

/** listRuns without a limit returns at most this many runs. */
export const DEFAULT_RUN_LIMIT = 50;

export const SYNC_STATE_MIGRATION_SQL = `
  CREATE TABLE sync_tasks (
    id TEXT PRIMARY KEY,
    repository TEXT NOT NULL,
    resource TEXT NOT NULL,
    mode TEXT NOT NULL,
    strategy TEXT NOT NULL,
    update_policy TEXT NOT NULL,
    conflict_policy TEXT NOT NULL,
    filters TEXT NOT NULL,
    components INTEGER NOT NULL CHECK (components IN (0, 1)),
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
  );
  CREATE UNIQUE INDEX sync_tasks_by_repository_resource ON sync_tasks (repository, resource);

  CREATE TABLE checkpoints (
    id TEXT PRIMARY KEY,
    task TEXT,
    value TEXT NOT NULL,
    updated_at TEXT NOT NULL
  );
  CREATE INDEX checkpoints_by_task ON checkpoints (task);

  CREATE TABLE jobs (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    target TEXT NOT NULL,
    cron TEXT,
    interval_seconds INTEGER,
    enabled INTEGER NOT NULL CHECK (enabled IN (0, 1)),
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
  );
  CREATE INDEX jobs_by_kind_target ON jobs (kind, target);

  CREATE TABLE leases (
    name TEXT PRIMARY KEY,
    holder TEXT NOT NULL,
    acquired_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
  );

  -- seq is the insertion order (runs are listed newest first by it); id is the run's own id.
  CREATE TABLE runs (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL,
    repository TEXT,
    job TEXT,
    trigger TEXT NOT NULL,
    holder TEXT,
    status TEXT NOT NULL,
    started_at TEXT NOT NULL,
    finished_at TEXT,
    duration_ms INTEGER,
    counts TEXT NOT NULL,
    bytes_in INTEGER NOT NULL,
    bytes_out INTEGER NOT NULL,
    message TEXT,
    captures TEXT NOT NULL
  );
  CREATE INDEX runs_by_repository ON runs (repository, seq);
  CREATE INDEX runs_by_status ON runs (status, seq);

  -- Tables holding components, found by a loose index scan (RecordAccess.componentResources):
  -- counting every table's records to find them cost seconds on a million-record store.
  CREATE INDEX records_by_component_table ON records (resource) WHERE parent_resource IS NOT NULL;

  -- The sync module looks up the open conflicts of one record before queueing another.
  CREATE INDEX conflicts_by_record ON conflicts (resource, uuid, status);
`;

interface TaskRow {
  id: string;
  repository: string;
  resource: string;
  mode: string;
  strategy: string;
  update_policy: string;
  conflict_policy: string;
  filters: string;
  components: number;
  created_at: string;
  updated_at: string;
}

interface CheckpointRow {
  id: string;
  task: string | null;
  value: string;
  updated_at: string;
}

interface JobRow {
  id: string;
  kind: string;
  target: string;
  cron: string | null;
  interval_seconds: number | null;
  enabled: number;
  created_at: string;
  updated_at: string;
}

interface RunRow {
  seq: number;
  id: string;
  kind: string;
  repository: string | null;
  job: string | null;
  trigger: string;
  holder: string | null;
  status: string;
  started_at: string;
  finished_at: string | null;
  duration_ms: number | null;
  counts: string;
  bytes_in: number;
  bytes_out: number;
  message: string | null;
  captures: string;
}

function taskFromRow(row: TaskRow): SyncTaskRecord {
  return {
    id: row.id,
    repository: row.repository,
    resource: row.resource,
    mode: row.mode as SyncMode,
    strategy: JSON.parse(row.strategy) as string[],
    update_policy: JSON.parse(row.update_policy) as SyncTaskRecord['update_policy'],
    conflict_policy: row.conflict_policy,
    filters: JSON.parse(row.filters) as string[],
    components: row.components === 1,
    created_at: row.created_at,
    updated_at: row.updated_at,
  };
}

function checkpointFromRow(row: CheckpointRow): CheckpointRecord {
  return {
    id: row.id,
    ...(row.task === null ? {} : { task: row.task }),
    value: JSON.parse(row.value) as Record<string, unknown>,
    updated_at: row.updated_at,
  };
}

function jobFromRow(row: JobRow): JobRecord {
  return {
    id: row.id,
    kind: row.kind,
    target: row.target,
    ...(row.cron === null ? {} : { cron: row.cron }),
    ...(row.interval_seconds === null ? {} : { interval_seconds: row.interval_seconds }),
    enabled: row.enabled === 1,
    created_at: row.created_at,
    updated_at: row.updated_at,
  };
}

function runFromRow(row: RunRow): RunRecord {
  return {
    id: row.id,
    kind: row.kind,
    ...(row.repository === null ? {} : { repository: row.repository }),
    ...(row.job === null ? {} : { job: row.job }),
    trigger: row.trigger,
    ...(row.holder === null ? {} : { holder: row.holder }),
    status: row.status as RunStatus,
    started_at: row.started_at,
    ...(row.finished_at === null ? {} : { finished_at: row.finished_at }),
    ...(row.duration_ms === null ? {} : { duration_ms: row.duration_ms }),
    counts: JSON.parse(row.counts) as Record<string, number>,
    bytes_in: row.bytes_in,
    bytes_out: row.bytes_out,
    ...(row.message === null ? {} : { message: row.message }),
    captures: JSON.parse(row.captures) as RunRecord['captures'],
  };
}

/** Statements that read the last commit (reader connection) or write (writer connection). */
export class SyncStateTables {
  private readonly taskById: Database.Statement<[string], TaskRow>;
  private readonly allTasks: Database.Statement<[], TaskRow>;
  private readonly tasksOfRepository: Database.Statement<[string], TaskRow>;
  private readonly taskByKeyOnWriter: Database.Statement<[string, string], { id: string }>;
  private readonly upsertTask: Database.Statement<unknown[]>;
  private readonly removeTask: Database.Statement<[string]>;
  private readonly removeCheckpointsOfTask: Database.Statement<[string]>;

  private readonly checkpointOnReader: Database.Statement<[string], CheckpointRow>;
  private readonly checkpointOnWriter: Database.Statement<[string], CheckpointRow>;
  private readonly upsertCheckpoint: Database.Statement<[string, string | null, string, string]>;

  private readonly jobById: Database.Statement<[string], JobRow>;
  private readonly upsertJob: Database.Statement<unknown[]>;
  private readonly removeJob: Database.Statement<[string]>;

  private readonly leaseByName: Database.Statement<[string], LeaseRow>;
  private readonly takeLease: Database.Statement<[{ name: string; holder: string; now: number; expires: number }]>;
  private readonly extendLease: Database.Statement<[number, string, string]>;
  private readonly dropLease: Database.Statement<[string, string]>;
  private readonly removeLeases: Database.Statement<[{ name: string | null; prefix: string | null; expiredBy: number | null }]>;

  private readonly runById: Database.Statement<[string], RunRow>;
  private readonly upsertRun: Database.Statement<unknown[]>;
  private readonly trimCaptures: Database.Statement<[number]>;

  constructor(
    private readonly writer: Database.Database,
    private readonly reader: Database.Database,
  ) {
    this.taskById = reader.prepare('SELECT * FROM sync_tasks WHERE id = ?');
    this.allTasks = reader.prepare('SELECT * FROM sync_tasks ORDER BY repository, resource');
    this.tasksOfRepository = reader.prepare('SELECT * FROM sync_tasks WHERE repository = ? ORDER BY resource');
    this.taskByKeyOnWriter = writer.prepare('SELECT id FROM sync_tasks WHERE repository = ? AND resource = ?');
    this.upsertTask = writer.prepare(
      'INSERT INTO sync_tasks (id, repository, resource, mode, strategy, update_policy, conflict_policy, filters, components, created_at, updated_at) ' +
        'VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET repository = excluded.repository, ' +
        'resource = excluded.resource, mode = excluded.mode, strategy = excluded.strategy, update_policy = excluded.update_policy, ' +
        'conflict_policy = excluded.conflict_policy, filters = excluded.filters, components = excluded.components, ' +
        'created_at = excluded.created_at, updated_at = excluded.updated_at',
    );
    this.removeTask = writer.prepare('DELETE FROM sync_tasks WHERE id = ?');
    this.removeCheckpointsOfTask = writer.prepare('DELETE FROM checkpoints WHERE task = ?');

    this.checkpointOnReader = reader.prepare('SELECT * FROM checkpoints WHERE id = ?');
    this.checkpointOnWriter = writer.prepare('SELECT * FROM checkpoints WHERE id = ?');
    this.upsertCheckpoint = writer.prepare(
      'INSERT INTO checkpoints (id, task, value, updated_at) VALUES (?, ?, ?, ?) ' +
        'ON CONFLICT (id) DO UPDATE SET task = excluded.task, value = excluded.value, updated_at = excluded.updated_at',
    );

    this.jobById = reader.prepare('SELECT * FROM jobs WHERE id = ?');
    this.upsertJob = writer.prepare(
      'INSERT INTO jobs (id, kind, target, cron, interval_seconds, enabled, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ' +
        'ON CONFLICT (id) DO UPDATE SET kind = excluded.kind, target = excluded.target, cron = excluded.cron, ' +
        'interval_seconds = excluded.interval_seconds, enabled = excluded.enabled, created_at = excluded.created_at, updated_at = excluded.updated_at',
    );
    this.removeJob = writer.prepare('DELETE FROM jobs WHERE id = ?');

    this.leaseByName = reader.prepare('SELECT * FROM leases WHERE name = ?');
    // One statement decides and writes, under the write lock: free, expired or already ours.
    this.takeLease = writer.prepare(
      'INSERT INTO leases (name, holder, acquired_at, expires_at) VALUES (@name, @holder, @now, @expires) ' +
        'ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, ' +
        'acquired_at = CASE WHEN leases.holder = excluded.holder THEN leases.acquired_at ELSE excluded.acquired_at END, ' +
        'expires_at = excluded.expires_at WHERE leases.holder = excluded.holder OR leases.expires_at <= @now',
    );
    this.extendLease = writer.prepare('UPDATE leases SET expires_at = ? WHERE name = ? AND holder = ?');
    this.dropLease = writer.prepare('DELETE FROM leases WHERE name = ? AND holder = ?');
    // One of @name / @prefix is NULL, and a comparison with NULL selects nothing.
    this.removeLeases = writer.prepare(
      'DELETE FROM leases WHERE (name = @name OR substr(name, 1, length(@prefix)) = @prefix) AND (@expiredBy IS NULL OR expires_at <= @expiredBy)',
    );

    this.runById = reader.prepare('SELECT * FROM runs WHERE id = ?');
    this.upsertRun = writer.prepare(
      'INSERT INTO runs (id, kind, repository, job, trigger, holder, status, started_at, finished_at, duration_ms, counts, bytes_in, bytes_out, message, captures) ' +
        'VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET kind = excluded.kind, ' +
        'repository = excluded.repository, job = excluded.job, trigger = excluded.trigger, holder = excluded.holder, ' +
        'status = excluded.status, started_at = excluded.started_at, finished_at = excluded.finished_at, ' +
        'duration_ms = excluded.duration_ms, counts = excluded.counts, bytes_in = excluded.bytes_in, bytes_out = excluded.bytes_out, ' +
        'message = excluded.message, captures = excluded.captures',
    );
    this.trimCaptures = writer.prepare(
      "UPDATE runs SET captures = '[]' WHERE captures <> '[]' AND seq NOT IN (SELECT seq FROM runs ORDER BY seq DESC LIMIT ?)",
    );
  }

  // Tasks

  getTask(id: string): SyncTaskRecord | undefined {
    const row = this.taskById.get(id);
    return row ? taskFromRow(row) : undefined;
  }

  listTasks(query: { repository?: string }): SyncTaskRecord[] {
    const rows = query.repository === undefined ? this.allTasks.all() : this.tasksOfRepository.all(query.repository);
    return rows.map(taskFromRow);
  }

  /** Writer side, inside a write session. */
  putTask(task: SyncTaskRecord): void {
    const holder = this.taskByKeyOnWriter.get(task.repository, task.resource);
    if (holder && holder.id !== task.id) {
      throw new SluiceError('TASK_EXISTS', `Repository ${task.repository} already has a task for ${task.resource}`, {
        status: 409,
        fix: 'Change the existing task instead of adding a second one for the same resource',
        details: { task: holder.id },
      });
    }
    this.upsertTask.run(
      task.id,
      task.repository,
      task.resource,
      task.mode,
      JSON.stringify(task.strategy),
      JSON.stringify(task.update_policy),
      task.conflict_policy,
      JSON.stringify(task.filters),
      task.components ? 1 : 0,
      task.created_at,
      task.updated_at,
    );
  }

  deleteTask(id: string): void {
    this.removeCheckpointsOfTask.run(id);
    this.removeTask.run(id);
  }

  deleteCheckpoints(task: string): void {
    this.removeCheckpointsOfTask.run(task);
  }

  // Checkpoints

  getCheckpoint(id: string, onWriter: boolean): CheckpointRecord | undefined {
    const row = (onWriter ? this.checkpointOnWriter : this.checkpointOnReader).get(id);
    return row ? checkpointFromRow(row) : undefined;
  }

  putCheckpoint(checkpoint: CheckpointRecord): void {
    this.upsertCheckpoint.run(checkpoint.id, checkpoint.task ?? null, JSON.stringify(checkpoint.value), checkpoint.updated_at);
  }

  // Jobs

  getJob(id: string): JobRecord | undefined {
    const row = this.jobById.get(id);
    return row ? jobFromRow(row) : undefined;
  }

  listJobs(query: { kind?: string; target?: string }): JobRecord[] {
    const conditions: string[] = [];
    const params: string[] = [];
    if (query.kind !== undefined) {
      conditions.push('kind = ?');
      params.push(query.kind);
    }
    if (query.target !== undefined) {
      conditions.push('target = ?');
      params.push(query.target);
    }
    const where = conditions.length > 0 ? `WHERE ${conditions.join(' AND ')}` : '';
    return (this.reader.prepare(`SELECT * FROM jobs ${where} ORDER BY id`).all(...params) as JobRow[]).map(jobFromRow);
  }

  putJob(job: JobRecord): void {
    this.upsertJob.run(
      job.id,
      job.kind,
      job.target,
      job.cron ?? null,
      job.interval_seconds ?? null,
      job.enabled ? 1 : 0,
      job.created_at,
      job.updated_at,
    );
  }

  deleteJob(id: string): void {
    this.removeJob.run(id);
  }

  // Leases (writer side; each call runs in its own write session)

  acquireLease(name: string, holder: string, now: number, ttlMs: number): LeaseRecord | undefined {
    const changed = this.takeLease.run({ name, holder, now, expires: now + ttlMs }).changes;
    if (changed === 0) return undefined;
    const row = this.writer.prepare<[string], LeaseRow>('SELECT * FROM leases WHERE name = ?').get(name)!;
    return leaseFromRow(row);
  }

  renewLease(name: string, holder: string, now: number, ttlMs: number): boolean {
    return this.extendLease.run(now + ttlMs, name, holder).changes === 1;
  }

  releaseLease(name: string, holder: string): boolean {
    return this.dropLease.run(name, holder).changes === 1;
  }

  deleteLeases(which: LeaseSelector, expiredBy?: number): number {
    return this.removeLeases.run({
      name: 'name' in which ? which.name : null,
      prefix: 'prefix' in which ? which.prefix : null,
      expiredBy: expiredBy ?? null,
    }).changes;
  }

  getLease(name: string): LeaseRecord | undefined {
    const row = this.leaseByName.get(name);
    return row ? leaseFromRow(row) : undefined;
  }

  // Runs

  putRun(run: RunRecord): void {
    this.upsertRun.run(
      run.id,
      run.kind,
      run.repository ?? null,
      run.job ?? null,
      run.trigger,
      run.holder ?? null,
      run.status,
      run.started_at,
      run.finished_at ?? null,
      run.duration_ms ?? null,
      JSON.stringify(run.counts),
      run.bytes_in,
      run.bytes_out,
      run.message ?? null,
      JSON.stringify(run.captures),
    );
  }

  getRun(id: string): RunRecord | undefined {
    const row = this.runById.get(id);
    return row ? runFromRow(row) : undefined;
  }

  listRuns(query: RunQuery): RunRecord[] {
    const conditions: string[] = [];
    const params: (string | number)[] = [];
    for (const key of ['repository', 'job', 'status'] as const) {
      const value = query[key];
      if (value !== undefined) {
        conditions.push(`${key} = ?`);
        params.push(value);
      }
    }
    const where = conditions.length > 0 ? `WHERE ${conditions.join(' AND ')}` : '';
    params.push(query.limit ?? DEFAULT_RUN_LIMIT);
    return (this.reader.prepare(`SELECT * FROM runs ${where} ORDER BY seq DESC LIMIT ?`).all(...params) as RunRow[]).map(runFromRow);
  }

  trimRunCaptures(keep: number): number {
    return this.trimCaptures.run(Math.max(0, Math.floor(keep))).changes;
  }
}

interface LeaseRow {
  name: string;
  holder: string;
  acquired_at: number;
  expires_at: number;
}

function leaseFromRow(row: LeaseRow): LeaseRecord {
  return { name: row.name, holder: row.holder, acquired_at: row.acquired_at, expires_at: row.expires_at };
}
