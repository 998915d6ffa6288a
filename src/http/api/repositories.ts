/**
 * Admin API for peers: repositories (fingerprint first, credentials never returned), their tasks,
 * their schedule, and Sync Now. Bodies are validated by the schemas below (ajv, and the OpenAPI
 * document).
 */
import type { Request } from 'express';
import { SluiceError } from '../../errors.js';
import { repositoryView, type RepositoryPatch } from '../../sync/repository-registry.js';
import type { SyncModule } from '../../sync/sync-module.js';
import type { MappingLinker } from '../../sync/mapping-link.js';
import { runSummary } from './sync-api.js';
import type { ApiRegistry, JsonSchema } from './schema-registry.js';
import { BYTES_PER_SECOND_RANGE, PAGE_SIZE_RANGE, WIRE_FORMATS, type WireFormat } from '../../transports/low-bandwidth-settings.js';

const TAG = 'repositories';
/** Low-bandwidth options (src/transports/low-bandwidth-settings.ts); the registry checks S3JSON against the peer's kind. */
const WIRE_FORMAT = { type: 'string', enum: [...WIRE_FORMATS], description: 's3json: S3JSON on the wire (Sluice peers only; Eden peers are refused with WIRE_FORMAT_UNSUPPORTED)' };
const MAX_BYTES_PER_SECOND = { type: 'integer', minimum: BYTES_PER_SECOND_RANGE.min, maximum: BYTES_PER_SECOND_RANGE.max, description: 'Cap on the bytes read from and sent to this peer' };
const PAGE_SIZE = { type: 'integer', minimum: PAGE_SIZE_RANGE.min, maximum: PAGE_SIZE_RANGE.max, description: 'Changes per table in one page (pulls from Sluice peers, every push)' };
const POLICY = { type: 'string', enum: ['THIS', 'OTHER', 'NEWER', 'MASTER', 'this', 'other', 'newer', 'master'] };

const repositorySchema: JsonSchema = {
  type: 'object',
  properties: {
    uuid: { type: 'string' },
    name: { type: 'string' },
    apitype: { type: 'string' },
    url: { type: 'string' },
    username: { type: 'string' },
    has_password: { type: 'boolean' },
    proxy: { type: 'string' },
    accept_push: { type: 'boolean' },
    software: { type: 'string', enum: ['sluice', 'eden'] },
    peer_name: { type: 'string' },
    registered_at: { type: 'string' },
    registered_by_peer: { type: 'boolean' },
    wire_format: WIRE_FORMAT,
    max_bytes_per_second: MAX_BYTES_PER_SECOND,
    page_size: PAGE_SIZE,
    created_at: { type: 'string' },
    updated_at: { type: 'string' },
  },
};

const fingerprintBody: JsonSchema = {
  type: 'object',
  required: ['url'],
  additionalProperties: false,
  properties: { url: { type: 'string', minLength: 1, maxLength: 2048 }, proxy: { type: 'string', maxLength: 2048 } },
};

const repositoryBody: JsonSchema = {
  type: 'object',
  required: ['name', 'url'],
  additionalProperties: false,
  properties: {
    name: { type: 'string', minLength: 1, maxLength: 64 },
    url: { type: 'string', minLength: 1, maxLength: 2048 },
    username: { type: 'string', minLength: 1, maxLength: 256 },
    password: { type: 'string', minLength: 1, maxLength: 1024 },
    proxy: { type: 'string', maxLength: 2048 },
    accept_push: { type: 'boolean' },
    uuid: { type: 'string', minLength: 1, maxLength: 256, description: 'The fingerprint the operator confirmed' },
    register: { type: 'boolean', description: 'Register this gateway with the peer (default true)' },
    wire_format: WIRE_FORMAT,
    max_bytes_per_second: MAX_BYTES_PER_SECOND,
    page_size: PAGE_SIZE,
  },
};

const repositoryPatch: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  minProperties: 1,
  properties: {
    name: { type: 'string', minLength: 1, maxLength: 64 },
    url: { type: 'string', minLength: 1, maxLength: 2048 },
    username: { type: ['string', 'null'], maxLength: 256 },
    password: { type: ['string', 'null'], maxLength: 1024 },
    proxy: { type: ['string', 'null'], maxLength: 2048 },
    accept_push: { type: 'boolean' },
    wire_format: WIRE_FORMAT,
    max_bytes_per_second: { ...MAX_BYTES_PER_SECOND, type: ['integer', 'null'] },
    page_size: { ...PAGE_SIZE, type: ['integer', 'null'] },
    mapping: { type: ['string', 'null'], minLength: 1, maxLength: 128, description: 'mapping instance (mappings/<instance>.json) applied to every sync; null unlinks' },
  },
};

const taskSettings = {
  mode: { type: 'string', enum: ['pull', 'push', 'both', 'none'] },
  strategy: { type: 'array', items: { type: 'string', enum: ['create', 'update', 'delete', 'merge'] }, uniqueItems: true },
  update_policy: {
    oneOf: [POLICY, { type: 'object', required: ['__default__'], additionalProperties: POLICY }],
  },
  conflict_policy: POLICY,
  filters: { type: 'array', items: { type: 'string', pattern: '^[^=]+=.*$', maxLength: 1024, description: 'Eden URL filter ~.field__op=value, e.g. ~.obsolete=False' }, maxItems: 50 },
  components: { type: 'boolean' },
};

const taskBody: JsonSchema = {
  type: 'object',
  required: ['resource'],
  additionalProperties: false,
  properties: { resource: { type: 'string', pattern: '^[a-z][a-z0-9]*_[a-z0-9_]+$' }, ...taskSettings },
};

const taskPatch: JsonSchema = { type: 'object', additionalProperties: false, minProperties: 1, properties: taskSettings };

const scheduleBody: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    cron: { type: 'string', minLength: 1, maxLength: 200 },
    interval_seconds: { type: 'integer', minimum: 1 },
    enabled: { type: 'boolean' },
  },
  oneOf: [{ required: ['cron'] }, { required: ['interval_seconds'] }],
};

const syncNowBody: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  properties: { wait: { type: 'boolean', description: 'Wait for the run to end (default true)' } },
};

function param(req: Request, name: string): string {
  return String(req.params[name]);
}

/** `mappings` links repositories to mapping instances (PATCH {"mapping"}); without it the key is refused. */
export function registerRepositoryRoutes(api: ApiRegistry, sync: SyncModule, mappings?: MappingLinker): void {
  api.route({ method: 'get', path: '/api/repositories', summary: 'List repositories (never their passwords)', roles: ['viewer', 'integrator'], tag: TAG, response: { type: 'array', items: repositorySchema } }, async (_req, res) => {
    res.json(await sync.repositories.list());
  });

  api.route(
    { method: 'post', path: '/api/repositories/fingerprint', summary: "Read a peer's uuid without sending credentials (Sluice peers)", roles: ['integrator'], tag: TAG, body: fingerprintBody },
    async (req, res) => {
      const body = req.body as { url: string; proxy?: string };
      const found = await sync.repositories.fingerprint(body.url, body.proxy || undefined);
      res.json(
        found ?? {
          software: 'eden',
          uuid: null,
          message: 'The peer does not publish its uuid (Eden); it is learnt when this gateway registers with the credentials you give',
        },
      );
    },
  );

  api.route(
    { method: 'post', path: '/api/repositories', summary: 'Add a repository, fingerprint first, and register with it', roles: ['integrator'], tag: TAG, body: repositoryBody, response: repositorySchema },
    async (req, res) => {
      const body = req.body as {
        name: string;
        url: string;
        username?: string;
        password?: string;
        proxy?: string;
        accept_push?: boolean;
        uuid?: string;
        register?: boolean;
        wire_format?: WireFormat;
        max_bytes_per_second?: number;
        page_size?: number;
      };
      const view = await sync.repositories.add({
        name: body.name,
        url: body.url,
        ...(body.username === undefined ? {} : { username: body.username }),
        ...(body.password === undefined ? {} : { password: body.password }),
        ...(body.proxy ? { proxy: body.proxy } : {}),
        ...(body.accept_push === undefined ? {} : { accept_push: body.accept_push }),
        ...(body.uuid === undefined ? {} : { expect_uuid: body.uuid }),
        ...(body.register === undefined ? {} : { register: body.register }),
        ...(body.wire_format === undefined ? {} : { wire_format: body.wire_format }),
        ...(body.max_bytes_per_second === undefined ? {} : { max_bytes_per_second: body.max_bytes_per_second }),
        ...(body.page_size === undefined ? {} : { page_size: body.page_size }),
      });
      res.status(201).json(view);
    },
  );

  api.route({ method: 'get', path: '/api/repositories/:uuid', summary: 'One repository', roles: ['viewer', 'integrator'], tag: TAG, response: repositorySchema }, async (req, res) => {
    res.json(repositoryView(await sync.repositories.resolve(param(req, 'uuid'))));
  });

  api.route({ method: 'patch', path: '/api/repositories/:uuid', summary: 'Change a repository', roles: ['integrator'], tag: TAG, body: repositoryPatch, response: repositorySchema }, async (req, res) => {
    const { mapping, ...patch } = req.body as RepositoryPatch & { mapping?: string | null };
    if (mapping !== undefined) {
      if (!mappings) throw new SluiceError('MAPPING_UNAVAILABLE', 'This gateway cannot link mappings through the API', { status: 501 });
      // Checked before anything changes, linked after the rest of the patch is accepted.
      if (mapping !== null) await mappings.check(mapping);
    }
    const view = Object.keys(patch).length > 0 ? await sync.repositories.update(param(req, 'uuid'), patch) : repositoryView(await sync.repositories.resolve(param(req, 'uuid')));
    if (mapping !== undefined) await mappings!.link(view.uuid, mapping);
    res.json(view);
  });

  api.route({ method: 'delete', path: '/api/repositories/:uuid', summary: 'Remove a repository with its tasks and schedule', roles: ['integrator'], tag: TAG }, async (req, res) => {
    await sync.repositories.remove(param(req, 'uuid'));
    res.status(204).end();
  });

  api.route({ method: 'post', path: '/api/repositories/:uuid/register', summary: 'Register this gateway with the peer again', roles: ['integrator'], tag: TAG, response: repositorySchema }, async (req, res) => {
    res.json(await sync.repositories.register(param(req, 'uuid')));
  });

  api.route({ method: 'get', path: '/api/repositories/:uuid/tasks', summary: "A repository's tasks", roles: ['viewer', 'integrator'], tag: TAG }, async (req, res) => {
    res.json(await sync.tasks.list(param(req, 'uuid')));
  });

  api.route({ method: 'post', path: '/api/repositories/:uuid/tasks', summary: 'Add a task (Eden defaults: both, all methods, NEWER, NEWER)', roles: ['integrator'], tag: TAG, body: taskBody }, async (req, res) => {
    const { resource, ...settings } = req.body as { resource: string } & Record<string, unknown>;
    res.status(201).json(await sync.tasks.add(param(req, 'uuid'), resource, settings));
  });

  api.route({ method: 'patch', path: '/api/tasks/:id', summary: 'Change a task (a new selection starts it over)', roles: ['integrator'], tag: TAG, body: taskPatch }, async (req, res) => {
    res.json(await sync.tasks.update(param(req, 'id'), req.body as Record<string, unknown>));
  });

  api.route({ method: 'delete', path: '/api/tasks/:id', summary: 'Remove a task and its checkpoints', roles: ['integrator'], tag: TAG }, async (req, res) => {
    await sync.tasks.remove(param(req, 'id'));
    res.status(204).end();
  });

  api.route({ method: 'get', path: '/api/repositories/:uuid/schedule', summary: "The repository's schedule", roles: ['viewer', 'integrator'], tag: TAG }, async (req, res) => {
    res.json((await sync.tasks.getSchedule(param(req, 'uuid'))) ?? null);
  });

  api.route({ method: 'put', path: '/api/repositories/:uuid/schedule', summary: 'Schedule the repository (cron or interval)', roles: ['integrator'], tag: TAG, body: scheduleBody }, async (req, res) => {
    res.json(await sync.tasks.setSchedule(param(req, 'uuid'), req.body as { cron?: string; interval_seconds?: number; enabled?: boolean }));
  });

  api.route({ method: 'delete', path: '/api/repositories/:uuid/schedule', summary: 'Remove the schedule', roles: ['integrator'], tag: TAG }, async (req, res) => {
    await sync.tasks.removeSchedule(param(req, 'uuid'));
    res.status(204).end();
  });

  api.route({ method: 'post', path: '/api/repositories/:uuid/sync', summary: 'Sync Now: pull then push every task', roles: ['integrator'], tag: TAG, body: syncNowBody }, async (req, res) => {
    const wait = (req.body as { wait?: boolean } | undefined)?.wait ?? true;
    const user = req.user?.username;
    const started = sync.syncNow(param(req, 'uuid'), { trigger: user ? `manual:${user}` : 'manual' });
    if (!wait) {
      // Failures surface in the run history and the log; the request only starts the run.
      started.catch(() => undefined);
      res.status(202).json({ status: 'started' });
      return;
    }
    const outcome = await started;
    res.json(runSummary(outcome.run, outcome.results));
  });
}
