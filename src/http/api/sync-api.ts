/**
 * Admin API for watching and steering sync: the sync log (Eden's fields), the run history with the
 * captured exchanges, the conflict queue with its resolutions, the sync settings (this gateway's
 * uuid, the default proxy) and the scheduled jobs.
 */
import type { Request } from 'express';
import { SluiceError } from '../../errors.js';
import type { LogResult, RunRecord, RunStatus, Store } from '../../store/store.js';
import type { ReplicationResult } from '../../sync/replication.js';
import type { Resolution } from '../../sync/conflict-queue.js';
import type { SyncModule } from '../../sync/sync-module.js';
import type { ApiRegistry, JsonSchema } from './schema-registry.js';

const TAG = 'sync';
const LOG_RESULTS: LogResult[] = ['success', 'warning', 'error', 'fatal'];
const RUN_STATUSES: RunStatus[] = ['running', 'success', 'warning', 'error', 'fatal', 'interrupted'];

/** A run without its captured bodies, plus what each direction of each task did. */
export function runSummary(run: RunRecord, results: ReplicationResult[] = []): Record<string, unknown> {
  const { captures, ...rest } = run;
  return {
    ...rest,
    captured: captures.length,
    ...(results.length
      ? {
          replications: results.map((result) => ({
            direction: result.direction,
            resource: result.resource,
            pages: result.pages,
            records: result.records,
            created: result.created,
            updated: result.updated,
            deleted: result.deleted,
            merged: result.merged,
            unchanged: result.unchanged,
            conflicts: result.conflicts,
            errors: result.errors,
            bytes: result.bytes,
          })),
        }
      : {}),
  };
}

function text(req: Request, name: string): string | undefined {
  const value = req.query[name];
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw new SluiceError('INVALID_QUERY', `${name} must be given once`, { status: 400 });
  return value;
}

function count(req: Request, name: string, max: number): number | undefined {
  const value = text(req, name);
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value) || Number(value) < 1) throw new SluiceError('INVALID_QUERY', `${name}="${value}" is not a positive whole number`, { status: 400 });
  return Math.min(Number(value), max);
}

function oneOf<T extends string>(req: Request, name: string, allowed: readonly T[]): T | undefined {
  const value = text(req, name);
  if (value === undefined) return undefined;
  if (!(allowed as readonly string[]).includes(value)) throw new SluiceError('INVALID_QUERY', `${name}="${value}" is not one of ${allowed.join(', ')}`, { status: 400 });
  return value as T;
}

const resolutionBody: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  oneOf: [{ required: ['keep'] }, { required: ['fields'] }],
  properties: {
    keep: { type: 'string', enum: ['local', 'remote'] },
    fields: { type: 'object', minProperties: 1, additionalProperties: { type: 'string', enum: ['local', 'remote'] } },
  },
};

const settingsBody: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['proxy'],
  properties: { proxy: { type: ['string', 'null'], maxLength: 2048 } },
};

export function registerSyncRoutes(api: ApiRegistry, sync: SyncModule, store: Pick<Store, 'listLog' | 'listRuns' | 'getRun' | 'listJobs'>): void {
  api.route({ method: 'get', path: '/api/log', summary: 'The sync log, newest first (?repository, resource, result, run_id, limit, before)', roles: [], tag: TAG }, async (req, res) => {
    const repository = text(req, 'repository');
    const resource = text(req, 'resource');
    const result = oneOf(req, 'result', LOG_RESULTS);
    const runId = text(req, 'run_id');
    const limit = count(req, 'limit', 1000);
    const before = count(req, 'before', Number.MAX_SAFE_INTEGER);
    res.json(
      await store.listLog({
        ...(repository === undefined ? {} : { repository }),
        ...(resource === undefined ? {} : { resource }),
        ...(result === undefined ? {} : { result }),
        ...(runId === undefined ? {} : { run_id: runId }),
        ...(limit === undefined ? {} : { limit }),
        ...(before === undefined ? {} : { beforeId: before }),
      }),
    );
  });

  api.route({ method: 'get', path: '/api/runs', summary: 'Run history, newest first (?repository, status, limit); bodies at /api/runs/{id}', roles: [], tag: TAG }, async (req, res) => {
    const repository = text(req, 'repository');
    const status = oneOf(req, 'status', RUN_STATUSES);
    const limit = count(req, 'limit', 500);
    const runs = await store.listRuns({
      ...(repository === undefined ? {} : { repository }),
      ...(status === undefined ? {} : { status }),
      ...(limit === undefined ? {} : { limit }),
    });
    res.json(runs.map((run) => runSummary(run)));
  });

  api.route({ method: 'get', path: '/api/runs/:id', summary: 'One run with the captured requests and responses', roles: ['integrator'], tag: TAG }, async (req, res) => {
    const run = await store.getRun(String(req.params.id));
    if (!run) throw new SluiceError('RUN_NOT_FOUND', `There is no run ${String(req.params.id)}`, { status: 404 });
    res.json(run);
  });

  api.route({ method: 'get', path: '/api/conflicts', summary: 'The conflict queue with both versions and the differing fields (?status, resource, limit)', roles: [], tag: TAG }, async (req, res) => {
    const status = oneOf(req, 'status', ['open', 'resolved'] as const);
    const resource = text(req, 'resource');
    const limit = count(req, 'limit', 1000);
    res.json(
      await sync.conflicts.list({
        ...(status === undefined ? {} : { status }),
        ...(resource === undefined ? {} : { resource }),
        ...(limit === undefined ? {} : { limit }),
      }),
    );
  });

  api.route({ method: 'get', path: '/api/conflicts/:id', summary: 'One conflict', roles: [], tag: TAG }, async (req, res) => {
    res.json(await sync.conflicts.get(conflictId(req)));
  });

  api.route(
    { method: 'post', path: '/api/conflicts/:id/resolve', summary: 'Resolve: {"keep":"local"|"remote"} or {"fields":{"name":"remote",…}}', roles: ['integrator'], tag: TAG, body: resolutionBody },
    async (req, res) => {
      res.json(await sync.conflicts.resolve(conflictId(req), req.body as Resolution, req.user?.username));
    },
  );

  api.route({ method: 'get', path: '/api/settings/sync', summary: "This gateway's sync identity and default proxy", roles: [], tag: TAG }, async (_req, res) => {
    res.json(await sync.settings());
  });

  api.route({ method: 'put', path: '/api/settings/sync', summary: 'Set the default HTTP proxy (null removes it)', roles: ['admin'], tag: TAG, body: settingsBody }, async (req, res) => {
    res.json(await sync.setProxy((req.body as { proxy: string | null }).proxy));
  });

  api.route({ method: 'get', path: '/api/jobs', summary: 'Scheduled jobs', roles: [], tag: TAG }, async (_req, res) => {
    res.json(await store.listJobs());
  });
}

function conflictId(req: Request): number {
  const raw = String(req.params.id);
  if (!/^\d+$/.test(raw)) throw new SluiceError('CONFLICT_NOT_FOUND', `There is no conflict ${raw}`, { status: 404 });
  return Number(raw);
}
