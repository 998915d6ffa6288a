/**
 * Admin API for Ushahidi sources: list, add (the deployment is logged into and one post read before
 * anything is stored, unless `check` is false), look at, remove, reconcile now. A source is also a
 * repository, so its Sync Now, schedule, runs and log are the repository routes'
 * (`POST /api/repositories/:uuid/sync`…).
 */
import type { Request } from 'express';
import { SOURCE_TYPES, sourceView, type SourceInput, type UshahidiSources } from '../../ushahidi/sources.js';
import type { ApiRegistry, JsonSchema } from './schema-registry.js';

const TAG = 'sources';

const sourceSchema: JsonSchema = {
  type: 'object',
  properties: {
    uuid: { type: 'string' },
    name: { type: 'string' },
    type: { type: 'string', enum: [...SOURCE_TYPES] },
    url: { type: 'string' },
    deployment: { type: 'string', description: 'the prefix of its tickets\' uuids (<deployment>/<post id>)' },
    username: { type: 'string' },
    has_password: { type: 'boolean' },
    resource: { type: 'string' },
    status_field: { type: 'string' },
    mapping: { type: 'string' },
    time_zone: { type: 'string' },
    page_size: { type: 'integer' },
    created_at: { type: 'string' },
    updated_at: { type: 'string' },
  },
};

const sourceBody: JsonSchema = {
  type: 'object',
  required: ['name', 'url', 'type'],
  additionalProperties: false,
  properties: {
    name: { type: 'string', minLength: 1, maxLength: 64 },
    url: { type: 'string', minLength: 1, maxLength: 2048, description: 'the deployment, e.g. https://haiti.api.ushahidi.io' },
    type: { type: 'string', enum: [...SOURCE_TYPES] },
    username: { type: 'string', maxLength: 256 },
    password: { type: 'string', maxLength: 1024, writeOnly: true },
    resource: { type: 'string', pattern: '^[a-z][a-z0-9]*_[a-z0-9_]+$', description: 'event_incident_report (default) or irs_ireport' },
    status_field: { type: 'string', pattern: '^[a-z][a-z0-9_]*$' },
    mapping: { type: 'string', maxLength: 64, description: 'a mapping instance under mappings/' },
    time_zone: { type: 'string', maxLength: 64, description: 'classic v2 deployments: the site time zone' },
    page_size: { type: 'integer', minimum: 1, maximum: 1000 },
    poll_seconds: { type: 'integer', minimum: 0, description: 'default 300; 0 leaves the source unscheduled' },
    reconcile_seconds: { type: 'integer', minimum: 0, description: 'default 3600; 0 for none' },
    check: { type: 'boolean', description: 'log in and read one post before storing anything (default true)' },
  },
};

interface SourceBody {
  name: string;
  url: string;
  type: SourceInput['type'];
  username?: string;
  password?: string;
  resource?: string;
  status_field?: string;
  mapping?: string;
  time_zone?: string;
  page_size?: number;
  poll_seconds?: number;
  reconcile_seconds?: number;
  check?: boolean;
}

function param(req: Request, name: string): string {
  return String(req.params[name]);
}

function inputOf(body: SourceBody): SourceInput {
  return {
    name: body.name,
    url: body.url,
    type: body.type,
    ...(body.username === undefined ? {} : { username: body.username }),
    ...(body.password === undefined ? {} : { password: body.password }),
    ...(body.resource === undefined ? {} : { resource: body.resource }),
    ...(body.status_field === undefined ? {} : { statusField: body.status_field }),
    ...(body.mapping === undefined ? {} : { mapping: body.mapping }),
    ...(body.time_zone === undefined ? {} : { timeZone: body.time_zone }),
    ...(body.page_size === undefined ? {} : { pageSize: body.page_size }),
    ...(body.poll_seconds === undefined ? {} : { pollSeconds: body.poll_seconds }),
    ...(body.reconcile_seconds === undefined ? {} : { reconcileSeconds: body.reconcile_seconds }),
    ...(body.check === undefined ? {} : { check: body.check }),
  };
}

export function registerSourceRoutes(api: ApiRegistry, sources: UshahidiSources): void {
  api.route({ method: 'get', path: '/api/sources', summary: 'List Ushahidi sources (never their passwords)', roles: ['viewer', 'integrator'], tag: TAG, response: { type: 'array', items: sourceSchema } }, async (_req, res) => {
    res.json(await sources.list());
  });

  api.route(
    { method: 'post', path: '/api/sources', summary: 'Add an Ushahidi source (v5 or classic v2); polled every 5 minutes and reconciled hourly by default', roles: ['integrator'], tag: TAG, body: sourceBody, response: sourceSchema },
    async (req, res) => {
      res.status(201).json(await sources.add(inputOf(req.body as SourceBody)));
    },
  );

  api.route({ method: 'get', path: '/api/sources/:uuid', summary: 'One source, by uuid or name', roles: ['viewer', 'integrator'], tag: TAG, response: sourceSchema }, async (req, res) => {
    res.json(sourceView(await sources.resolve(param(req, 'uuid'))));
  });

  api.route({ method: 'delete', path: '/api/sources/:uuid', summary: 'Remove a source with its schedules and checkpoints (its tickets stay)', roles: ['integrator'], tag: TAG }, async (req, res) => {
    await sources.remove(param(req, 'uuid'));
    res.status(204).end();
  });

  api.route({ method: 'post', path: '/api/sources/:uuid/reconcile', summary: 'Compare every post\'s status with its ticket now and send the differences', roles: ['integrator'], tag: TAG }, async (req, res) => {
    const outcome = await sources.reconcile(param(req, 'uuid'), { trigger: 'manual' });
    res.json({ run: outcome.run, ...(outcome.reconcile ? { reconcile: outcome.reconcile } : {}) });
  });
}
