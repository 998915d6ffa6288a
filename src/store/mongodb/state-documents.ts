/**
 * Document layouts of the gateway's own state. Each uses its natural key as `_id` (username,
 * setting key, repository uuid) or a number from a counter (conflicts, sync log), so lookups need
 * no extra index and ids are comparable like the SQLite store's.
 */
import type { S3Resource } from '../../s3xml/model.js';
import type { ConflictEntry, ConflictStatus, LogEntry, LogResult, NewConflict, NewLogEntry, RepositoryRecord, StoredRecord, UserRecord } from '../store.js';
import { fromStorable, toStorable } from './plain-documents.js';

export interface ConflictDocument {
  _id: number;
  resource: string;
  uuid: string;
  repository?: string;
  method: string;
  policy: string;
  local: unknown;
  remote: unknown;
  fields: string[];
  created_at: string;
  status: string;
  resolution?: unknown;
  resolved_at?: string;
}

export function conflictToDocument(id: number, conflict: NewConflict): ConflictDocument {
  const document: ConflictDocument = {
    _id: id,
    resource: conflict.resource,
    uuid: conflict.uuid,
    method: conflict.method,
    policy: conflict.policy,
    local: conflict.local === null ? null : toStorable(conflict.local),
    remote: toStorable(conflict.remote),
    fields: [...conflict.fields],
    created_at: conflict.created_at,
    status: 'open',
  };
  if (conflict.repository !== undefined) document.repository = conflict.repository;
  return document;
}

/** A conflict as it stands (resolved or not), for copying a store. */
export function conflictEntryToDocument(entry: ConflictEntry): ConflictDocument {
  const document = conflictToDocument(entry.id, entry);
  document.status = entry.status;
  if (entry.resolution !== undefined) document.resolution = toStorable(entry.resolution);
  if (entry.resolved_at !== undefined) document.resolved_at = entry.resolved_at;
  return document;
}

export function conflictFromDocument(document: ConflictDocument): ConflictEntry {
  const entry: ConflictEntry = {
    id: document._id,
    resource: document.resource,
    uuid: document.uuid,
    method: document.method as ConflictEntry['method'],
    policy: document.policy,
    local: document.local === null ? null : fromStorable<StoredRecord>(document.local),
    remote: fromStorable<S3Resource>(document.remote),
    fields: document.fields,
    created_at: document.created_at,
    status: document.status as ConflictStatus,
  };
  if (document.repository != null) entry.repository = document.repository;
  if (document.resolution != null) entry.resolution = fromStorable<Record<string, unknown>>(document.resolution);
  if (document.resolved_at != null) entry.resolved_at = document.resolved_at;
  return entry;
}

export interface UserDocument {
  _id: string;
  passwordHash: string;
  roles: string[];
  created_at: string;
  disabled?: boolean;
}

export function userToDocument(user: UserRecord): UserDocument {
  return { _id: user.username, passwordHash: user.passwordHash, roles: [...user.roles], created_at: user.created_at, ...(user.disabled ? { disabled: true } : {}) };
}

export function userFromDocument(document: UserDocument): UserRecord {
  return {
    username: document._id,
    passwordHash: document.passwordHash,
    roles: document.roles,
    created_at: document.created_at,
    ...(document.disabled === true ? { disabled: true } : {}),
  };
}

export interface RepositoryDocument {
  _id: string;
  name: string;
  apitype: string;
  url?: string;
  config: unknown;
  created_at: string;
  updated_at: string;
}

export function repositoryToDocument(repository: RepositoryRecord): RepositoryDocument {
  const document: RepositoryDocument = {
    _id: repository.uuid,
    name: repository.name,
    apitype: repository.apitype,
    config: toStorable(repository.config),
    created_at: repository.created_at,
    updated_at: repository.updated_at,
  };
  if (repository.url !== undefined) document.url = repository.url;
  return document;
}

export function repositoryFromDocument(document: RepositoryDocument): RepositoryRecord {
  const repository: RepositoryRecord = {
    uuid: document._id,
    name: document.name,
    apitype: document.apitype,
    config: fromStorable<Record<string, unknown>>(document.config),
    created_at: document.created_at,
    updated_at: document.updated_at,
  };
  if (document.url != null) repository.url = document.url;
  return repository;
}

export interface LogDocument {
  _id: number;
  timestmp: string;
  repository?: string;
  resource?: string;
  mode: string;
  action: string;
  result: string;
  remote: boolean;
  message: string;
  run_id?: string;
}

export function logToDocument(id: number, entry: NewLogEntry): LogDocument {
  const document: LogDocument = {
    _id: id,
    timestmp: entry.timestmp,
    mode: entry.mode,
    action: entry.action,
    result: entry.result,
    remote: entry.remote,
    message: entry.message,
  };
  if (entry.repository !== undefined) document.repository = entry.repository;
  if (entry.resource !== undefined) document.resource = entry.resource;
  if (entry.run_id !== undefined) document.run_id = entry.run_id;
  return document;
}

export function logFromDocument(document: LogDocument): LogEntry {
  const entry: LogEntry = {
    id: document._id,
    timestmp: document.timestmp,
    mode: document.mode,
    action: document.action,
    result: document.result as LogResult,
    remote: document.remote,
    message: document.message,
  };
  if (document.repository != null) entry.repository = document.repository;
  if (document.resource != null) entry.resource = document.resource;
  if (document.run_id != null) entry.run_id = document.run_id;
  return entry;
}
