/**
 * Admin API for the beacon and sync pools: this gateway's interest tags, the gateways heard on the
 * LAN, pools with their task template, candidates to accept or reject, and members.
 */
import type { Request } from 'express';
import type { Beacon } from '../../pools/beacon.js';
import type { PoolInput, PoolPatch, PoolRegistry } from '../../pools/pool-registry.js';
import type { ApiRegistry, JsonSchema } from './schema-registry.js';

const TAG = 'pools';
const TAG_SCHEMA = { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$' };
const POLICY = { type: 'string', enum: ['THIS', 'OTHER', 'NEWER', 'MASTER', 'this', 'other', 'newer', 'master'] };
const DIRECTION = { type: 'string', enum: ['download', 'upload', 'both'] };

const templateSchema: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    resources: { type: 'array', items: { type: 'string', pattern: '^[a-z][a-z0-9]*_[a-z0-9_]+$' }, uniqueItems: true, maxItems: 200 },
    mode: { type: 'string', enum: ['pull', 'push', 'both', 'none'] },
    strategy: { type: 'array', items: { type: 'string', enum: ['create', 'update', 'delete', 'merge'] }, uniqueItems: true },
    update_policy: { oneOf: [POLICY, { type: 'object', required: ['__default__'], additionalProperties: POLICY }] },
    conflict_policy: POLICY,
    filters: { type: 'array', items: { type: 'string', pattern: '^[^=]+=.*$', maxLength: 1024, description: 'Eden URL filter ~.field__op=value, e.g. ~.obsolete=False' }, maxItems: 50 },
    components: { type: 'boolean' },
    schedule: {
      oneOf: [
        { type: 'null' },
        {
          type: 'object',
          additionalProperties: false,
          properties: { cron: { type: 'string', minLength: 1, maxLength: 200 }, interval_seconds: { type: 'integer', minimum: 1 } },
          oneOf: [{ required: ['cron'] }, { required: ['interval_seconds'] }],
        },
      ],
    },
  },
};

const poolBody: JsonSchema = {
  type: 'object',
  required: ['name', 'tags'],
  additionalProperties: false,
  properties: {
    name: { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$' },
    tags: { type: 'array', items: TAG_SCHEMA, minItems: 1, maxItems: 50 },
    template: templateSchema,
    username: { type: 'string', minLength: 1, maxLength: 256 },
    password: { type: 'string', minLength: 1, maxLength: 1024 },
  },
};

const poolPatch: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  minProperties: 1,
  properties: {
    tags: { type: 'array', items: TAG_SCHEMA, minItems: 1, maxItems: 50 },
    template: templateSchema,
    username: { type: ['string', 'null'], minLength: 1, maxLength: 256 },
    password: { type: ['string', 'null'], minLength: 1, maxLength: 1024 },
  },
};

const acceptBody: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    name: { type: 'string', minLength: 1, maxLength: 64 },
    username: { type: 'string', minLength: 1, maxLength: 256 },
    password: { type: 'string', minLength: 1, maxLength: 1024 },
  },
};

const memberBody: JsonSchema = {
  type: 'object',
  required: ['repository'],
  additionalProperties: false,
  properties: { repository: { type: 'string', minLength: 1, maxLength: 256, description: 'Repository uuid or name' } },
};

const interestBody: JsonSchema = { type: 'object', additionalProperties: false, properties: { direction: DIRECTION } };

const candidatesQuery: JsonSchema = { type: 'object', properties: { include: { type: 'string', enum: ['rejected'] } } };

function param(req: Request, name: string): string {
  return String(req.params[name]);
}

export interface PoolRouteDeps {
  pools: PoolRegistry;
  beacon: Beacon;
  /** Asks the LAN for gateways now (absent when discovery is off). */
  browse?: () => void;
}

export function registerPoolRoutes(api: ApiRegistry, deps: PoolRouteDeps): void {
  const { pools, beacon } = deps;

  api.route({ method: 'get', path: '/api/beacon/interests', summary: "This gateway's interest tags (advertised over mDNS and in /sync/config.json)", roles: ['viewer', 'integrator'], tag: TAG }, async (_req, res) => {
    res.json(await beacon.interests());
  });

  api.route({ method: 'put', path: '/api/beacon/interests/:tag', summary: 'Register interest in a tag for download, upload or both (default both)', roles: ['admin'], tag: TAG, body: interestBody }, async (req, res) => {
    const direction = (req.body as { direction?: 'download' | 'upload' | 'both' }).direction ?? 'both';
    res.json(await beacon.register(param(req, 'tag'), direction));
  });

  api.route({ method: 'delete', path: '/api/beacon/interests/:tag', summary: 'Withdraw interest in a tag', roles: ['admin'], tag: TAG }, async (req, res) => {
    res.json(await beacon.unregister(param(req, 'tag')));
  });

  api.route({ method: 'get', path: '/api/discovery/gateways', summary: 'Gateways heard on the LAN (mDNS), with their tables and interests', roles: ['viewer', 'integrator'], tag: TAG }, async (_req, res) => {
    res.json(await beacon.discovered());
  });

  api.route({ method: 'post', path: '/api/discovery/browse', summary: 'Ask the LAN for gateways now (answers arrive over the next seconds)', roles: ['admin'], tag: TAG }, async (_req, res) => {
    if (deps.browse) deps.browse();
    res.status(202).json({ status: deps.browse ? 'browsing' : 'discovery is off' });
  });

  api.route({ method: 'get', path: '/api/pools', summary: 'List sync pools with their members', roles: ['viewer', 'integrator'], tag: TAG }, async (_req, res) => {
    res.json(await pools.list());
  });

  api.route({ method: 'post', path: '/api/pools', summary: 'Create a sync pool (tags, task template, optional shared credentials)', roles: ['admin'], tag: TAG, body: poolBody }, async (req, res) => {
    res.status(201).json(await pools.create(req.body as PoolInput));
  });

  api.route({ method: 'get', path: '/api/pools/:name', summary: 'One pool', roles: ['viewer', 'integrator'], tag: TAG }, async (req, res) => {
    res.json(await pools.get(param(req, 'name')));
  });

  api.route({ method: 'patch', path: '/api/pools/:name', summary: "Change a pool; every member's tasks, schedule and credentials follow", roles: ['admin'], tag: TAG, body: poolPatch }, async (req, res) => {
    res.json(await pools.update(param(req, 'name'), req.body as PoolPatch));
  });

  api.route({ method: 'delete', path: '/api/pools/:name', summary: 'Delete a pool (members keep their tasks)', roles: ['admin'], tag: TAG }, async (req, res) => {
    await pools.remove(param(req, 'name'));
    res.status(204).end();
  });

  api.route(
    { method: 'get', path: '/api/pools/:name/candidates', summary: 'Gateways heard on the LAN sharing a tag with the pool, for an administrator to verify', roles: ['viewer', 'integrator'], tag: TAG, query: candidatesQuery },
    async (req, res) => {
      res.json(await pools.candidates(param(req, 'name'), { includeRejected: req.query.include === 'rejected' }));
    },
  );

  api.route(
    { method: 'post', path: '/api/pools/:name/candidates/:uuid/accept', summary: 'Accept a candidate: register it (fingerprint first) and give it the pool\'s tasks', roles: ['admin'], tag: TAG, body: acceptBody },
    async (req, res) => {
      res.status(201).json(await pools.accept(param(req, 'name'), param(req, 'uuid'), req.body as { name?: string; username?: string; password?: string }));
    },
  );

  api.route({ method: 'post', path: '/api/pools/:name/candidates/:uuid/reject', summary: 'Reject a candidate (it is no longer listed as pending)', roles: ['admin'], tag: TAG }, async (req, res) => {
    await pools.reject(param(req, 'name'), param(req, 'uuid'));
    res.status(204).end();
  });

  api.route({ method: 'post', path: '/api/pools/:name/members', summary: 'Add an existing repository to the pool', roles: ['admin'], tag: TAG, body: memberBody }, async (req, res) => {
    res.json(await pools.join(param(req, 'name'), (req.body as { repository: string }).repository));
  });

  api.route({ method: 'delete', path: '/api/pools/:name/members/:uuid', summary: 'Take a repository out of the pool (it keeps its tasks)', roles: ['admin'], tag: TAG }, async (req, res) => {
    res.json(await pools.leave(param(req, 'name'), param(req, 'uuid')));
  });
}
