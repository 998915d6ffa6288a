/**
 * Row layouts of the gateway's own state (conflicts, users, repositories, sync log). JSON columns
 * hold the free-form parts; optional fields are NULL in SQL and absent (not `undefined`) in objects.
 */
import type { S3Resource } from '../../s3xml/model.js';
import type {
  ConflictEntry,
  ConflictStatus,
  LogEntry,
  LogResult,
  NewConflict,
  RepositoryRecord,
  StoredRecord,
  UserRecord,
} from '../store.js';

export interface ConflictRow {
  id: number;
  resource: string;
  uuid: string;
  repository: string | null;
  method: string;
  policy: string;
  local: string | null;
  remote: string;
  fields: string;
  created_at: string;
  status: string;
  resolution: string | null;
  resolved_at: string | null;
}

export function conflictToRow(conflict: NewConflict): Omit<ConflictRow, 'id' | 'status' | 'resolution' | 'resolved_at'> {
  return {
    resource: conflict.resource,
    uuid: conflict.uuid,
    repository: conflict.repository ?? null,
    method: conflict.method,
    policy: conflict.policy,
    local: conflict.local === null ? null : JSON.stringify(conflict.local),
    remote: JSON.stringify(conflict.remote),
    fields: JSON.stringify(conflict.fields),
    created_at: conflict.created_at,
  };
}

export function conflictFromRow(row: ConflictRow): ConflictEntry {
  const entry: ConflictEntry = {
    id: row.id,
    resource: row.resource,
    uuid: row.uuid,
    method: row.method as ConflictEntry['method'],
    policy: row.policy,
    local: row.local === null ? null : (JSON.parse(row.local) as StoredRecord),
    remote: JSON.parse(row.remote) as S3Resource,
    fields: JSON.parse(row.fields) as string[],
    created_at: row.created_at,
    status: row.status as ConflictStatus,
  };
  if (row.repository !== null) entry.repository = row.repository;
  if (row.resolution !== null) entry.resolution = JSON.parse(row.resolution) as Record<string, unknown>;
  if (row.resolved_at !== null) entry.resolved_at = row.resolved_at;
  return entry;
}

export interface UserRow {
  username: string;
  password_hash: string;
  roles: string;
  created_at: string;
  /** 1 when disabled (migration 7). */
  disabled: number;
}

export function userFromRow(row: UserRow): UserRecord {
  return {
    username: row.username,
    passwordHash: row.password_hash,
    roles: JSON.parse(row.roles) as string[],
    created_at: row.created_at,
    ...(row.disabled ? { disabled: true } : {}),
  };
}

export interface RepositoryRow {
  uuid: string;
  name: string;
  apitype: string;
  url: string | null;
  config: string;
  created_at: string;
  updated_at: string;
}

export function repositoryFromRow(row: RepositoryRow): RepositoryRecord {
  const repository: RepositoryRecord = {
    uuid: row.uuid,
    name: row.name,
    apitype: row.apitype,
    config: JSON.parse(row.config) as Record<string, unknown>,
    created_at: row.created_at,
    updated_at: row.updated_at,
  };
  if (row.url !== null) repository.url = row.url;
  return repository;
}

export interface LogRow {
  id: number;
  timestmp: string;
  repository: string | null;
  resource: string | null;
  mode: string;
  action: string;
  result: string;
  remote: number;
  message: string;
  run_id: string | null;
}

export function logFromRow(row: LogRow): LogEntry {
  const entry: LogEntry = {
    id: row.id,
    timestmp: row.timestmp,
    mode: row.mode,
    action: row.action,
    result: row.result as LogResult,
    remote: row.remote === 1,
    message: row.message,
  };
  if (row.repository !== null) entry.repository = row.repository;
  if (row.resource !== null) entry.resource = row.resource;
  if (row.run_id !== null) entry.run_id = row.run_id;
  return entry;
}
