/**
 * The JSON routes behind the mapping editor and the preview's payload picker, declared on the
 * admin API registry (so they are validated and listed in /api/openapi.json like the others):
 *
 *   GET  /api/mappings                               instances with counts and linked repositories
 *   POST /api/mappings                               create an empty mapping (and link a repository)
 *   GET  /api/mappings/:instance                     document, generated .xsl, versions, repositories
 *   PUT  /api/mappings/:instance                     save: validate, generate, compile, keep a version
 *   POST /api/mappings/:instance/check               problems and the .xsl a draft would generate
 *   POST /api/mappings/:instance/preview             a draft run over a sample document: before/after
 *   GET  /api/mappings/:instance/values              remote values (captures, options.xml, Ushahidi) and local values
 *   GET  /api/mappings/:instance/unmapped            values recent runs met without a mapping
 *   GET  /api/mappings/:instance/xsl                 the generated stylesheet (analysts too, for the preview)
 *   GET  /api/mappings/:instance/versions/:version   one kept version
 *   POST /api/mappings/:instance/versions/:version/revert
 *   GET  /api/captures                               recent captured documents
 *   GET  /api/captures/:run/:index                   one captured document
 */
import type { Request } from 'express';
import { asSluiceError, SluiceError } from '../errors.js';
import type { MappingDocument } from '../formats/mapping-document.js';
import { parseMappingMessages } from '../formats/mapping-generator.js';
import type { ApiRegistry, JsonSchema } from '../http/api/schema-registry.js';
import type { FieldValue } from '../s3xml/model.js';
import { payloadText, recentPayloads } from './captured-payloads.js';
import type { ConsoleEnv } from './context.js';
import { INSTANCE_NAME, linkMapping, repositoriesUsing } from './instance-links.js';
import type { MappingWorkspace } from './mapping-workspace.js';
import type { UnmappedReports } from './unmapped-report.js';
import { tallyS3Xml, tallyUshahidiCategories, ValueTally, type SeenValue } from './payload-values.js';

const TAG = 'console';
/** Captured documents read per request: enough to see the values in use, bounded in time. */
const PAYLOADS_FOR_VALUES = 20;

function instanceParam(req: Request): string {
  const instance = String(req.params.instance);
  if (!INSTANCE_NAME.test(instance)) throw new SluiceError('MAPPING_BAD_INSTANCE', `"${instance}" is not a valid instance name`, { status: 400 });
  return instance;
}

function versionParam(req: Request): number {
  const raw = String(req.params.version);
  if (!/^\d{1,6}$/.test(raw)) throw new SluiceError('MAPPING_VERSION_NOT_FOUND', `There is no version ${raw}`, { status: 404 });
  return Number(raw);
}

function queryString(req: Request, name: string): string | undefined {
  const value = req.query[name];
  return typeof value === 'string' && value !== '' ? value : undefined;
}

function localValueList(values: { value: FieldValue; text?: string; count: number }[]): SeenValue[] {
  const tally = new ValueTally();
  for (const entry of values) {
    const items = Array.isArray(entry.value) ? entry.value : [entry.value];
    for (const item of items) {
      if (item === null || typeof item === 'object') continue;
      for (let i = 0; i < entry.count; i += 1) tally.add(String(item), entry.text);
    }
  }
  return tally.list();
}

const PREVIEW_BODY: JsonSchema = {
  type: 'object',
  required: ['document', 'input'],
  additionalProperties: false,
  properties: {
    document: { type: 'object' },
    input: { type: 'string', maxLength: 16 * 1024 * 1024 },
    direction: { enum: ['inbound', 'outbound'] },
  },
};

export function registerMappingApi(api: ApiRegistry, env: ConsoleEnv, workspace: MappingWorkspace, reports: UnmappedReports): void {

  async function linkedRepositories(instance: string): Promise<{ uuid: string; name: string }[]> {
    return (await repositoriesUsing(env.store, instance)).map((repository) => ({ uuid: repository.uuid, name: repository.name }));
  }

  async function runMapping(xsl: string, input: string, direction: 'inbound' | 'outbound') {
    return env.engine.transform({ stylesheet: { text: xsl }, input, params: { direction } });
  }

  api.route({ method: 'get', path: '/api/mappings', summary: 'Mapping instances with counts and the repositories using them', roles: ['integrator'], tag: TAG }, async (_req, res) => {
    const summaries = await workspace.summaries();
    const repositories = await env.store.listRepositories();
    res.json(
      summaries.map((summary) => ({
        ...summary,
        repositories: repositories.filter((repository) => repository.config['mapping'] === summary.instance).map((repository) => ({ uuid: repository.uuid, name: repository.name })),
      })),
    );
  });

  api.route(
    {
      method: 'post',
      path: '/api/mappings',
      summary: 'Create an empty mapping, optionally used by a repository',
      roles: ['integrator'],
      tag: TAG,
      body: {
        type: 'object',
        required: ['instance'],
        additionalProperties: false,
        properties: { instance: { type: 'string', pattern: INSTANCE_NAME.source, maxLength: 100 }, repository: { type: 'string' } },
      },
    },
    async (req, res) => {
      const body = req.body as { instance: string; repository?: string };
      if (await workspace.exists(body.instance)) {
        throw new SluiceError('MAPPING_EXISTS', `There is already a mapping ${body.instance}`, { status: 409, fix: 'Open it instead, or pick another name' });
      }
      const saved = await workspace.save(body.instance, { instance: body.instance, unmapped: { policy: 'pass' }, resources: [] }, req.user?.username ?? 'unknown', 'created');
      if (body.repository) await linkMapping(env.store, env.clock, (await env.sync.repositories.resolve(body.repository)).uuid, body.instance);
      res.status(201).json(saved);
    },
  );

  api.route({ method: 'get', path: '/api/mappings/:instance', summary: 'A mapping document with its generated stylesheet and versions', roles: ['integrator'], tag: TAG }, async (req, res) => {
    const instance = instanceParam(req);
    const document = await workspace.current(instance);
    res.json({
      instance,
      document,
      problems: workspace.check(instance, document).problems,
      xsl: (await workspace.xsl(instance)) ?? null,
      versions: await workspace.versions(instance),
      repositories: await linkedRepositories(instance),
    });
  });

  api.route(
    { method: 'put', path: '/api/mappings/:instance', summary: 'Save a mapping: validate, generate and compile the .xsl, keep a version', roles: ['integrator'], tag: TAG, body: { type: 'object' } },
    async (req, res) => {
      res.json(await workspace.save(instanceParam(req), req.body, req.user?.username ?? 'unknown'));
    },
  );

  api.route(
    { method: 'post', path: '/api/mappings/:instance/check', summary: 'Problems of a draft mapping and the stylesheet it would generate', roles: ['integrator'], tag: TAG, body: { type: 'object' } },
    async (req, res) => {
      const { problems, xsl } = workspace.check(instanceParam(req), req.body);
      res.json({ problems, xsl: xsl ?? null });
    },
  );

  api.route(
    { method: 'post', path: '/api/mappings/:instance/preview', summary: 'Run a draft mapping over a sample S3XML document (before/after)', roles: ['integrator'], tag: TAG, body: PREVIEW_BODY },
    async (req, res) => {
      const instance = instanceParam(req);
      const body = req.body as { document: MappingDocument; input: string; direction?: 'inbound' | 'outbound' };
      const direction = body.direction ?? 'inbound';
      const { problems, xsl } = workspace.check(instance, body.document);
      if (!xsl) {
        // 200: the preview ran and found the draft invalid (the problems say where).
        res.json({ problems, before: body.input, after: null, report: null, messages: [], errors: [{ code: 'MAPPING_INVALID', message: `${problems[0]?.path ?? '/'} ${problems[0]?.message ?? 'is not valid'}` }] });
        return;
      }
      const started = performance.now();
      try {
        const result = await runMapping(xsl, body.input, direction);
        const report = parseMappingMessages(result.messages);
        res.json({ problems, before: body.input, after: result.output, report, messages: report.otherMessages, errors: [], durationMs: Math.round(performance.now() - started) });
      } catch (error) {
        const failure = asSluiceError(error);
        res.status(failure.status >= 500 ? 500 : 200).json({
          problems,
          before: body.input,
          after: null,
          report: null,
          messages: [],
          errors: [{ code: failure.code, message: failure.message, ...pick(failure.details, ['line', 'column']) }],
          durationMs: Math.round(performance.now() - started),
        });
      }
    },
  );

  api.route(
    {
      method: 'get',
      path: '/api/mappings/:instance/values',
      summary: 'Values of a field on the remote side (captured payloads, options.xml, Ushahidi categories) and here (the store)',
      roles: ['integrator'],
      tag: TAG,
      query: {
        type: 'object',
        required: ['resource', 'field'],
        properties: { resource: { type: 'string' }, field: { type: 'string' }, remoteResource: { type: 'string' }, remoteField: { type: 'string' } },
      },
    },
    async (req, res) => {
      const instance = instanceParam(req);
      const resource = queryString(req, 'resource')!;
      const field = queryString(req, 'field')!;
      const remoteResource = queryString(req, 'remoteResource') ?? resource;
      const remoteField = queryString(req, 'remoteField') ?? field;
      const repositories = await repositoriesUsing(env.store, instance);
      const captured = new ValueTally();
      const categories = new ValueTally();
      const payloads = await recentPayloads(env.store, { repositories: repositories.map((repository) => repository.uuid), limit: PAYLOADS_FOR_VALUES });
      for (const payload of payloads.filter((entry) => entry.direction === 'inbound')) {
        const text = await payloadText(env.store, payload.run, payload.index);
        if (!text) continue;
        if (text.body.trimStart().startsWith('<')) tallyS3Xml(text.body, remoteResource, remoteField, captured);
        else tallyUshahidiCategories(text.body, categories);
      }
      const options = new ValueTally();
      const optionErrors: string[] = [];
      if (env.peerOptions) {
        for (const repository of repositories) {
          try {
            for (const option of await env.peerOptions(repository.uuid, remoteResource, remoteField)) options.add(option.value, option.text);
          } catch (error) {
            optionErrors.push(`${repository.name}: ${asSluiceError(error).message}`);
          }
        }
      }
      res.json({
        remote: {
          captured: captured.list(),
          options: options.list(),
          categories: categories.list(),
          payloads: payloads.length,
          repositories: repositories.map((repository) => ({ uuid: repository.uuid, name: repository.name })),
          errors: optionErrors,
        },
        local: localValueList(await env.store.fieldValues(resource, field, 500)),
      });
    },
  );

  api.route({ method: 'get', path: '/api/mappings/:instance/unmapped', summary: 'Values that recent runs met without a mapping', roles: ['integrator'], tag: TAG }, async (req, res) => {
    const instance = instanceParam(req);
    const xsl = await workspace.xsl(instance);
    if (!xsl) throw new SluiceError('MAPPING_NOT_COMPILED', `The mapping ${instance} has no generated stylesheet yet`, { status: 404, fix: 'Save the mapping once in the editor' });
    res.json(await reports.report(instance, xsl));
  });

  api.route({ method: 'get', path: '/api/mappings/:instance/xsl', summary: 'The generated stylesheet of a mapping (for the transform preview)', roles: ['analyst', 'integrator'], tag: TAG }, async (req, res) => {
    const instance = instanceParam(req);
    const xsl = await workspace.xsl(instance);
    if (!xsl) throw new SluiceError('MAPPING_NOT_COMPILED', `The mapping ${instance} has no generated stylesheet yet`, { status: 404, fix: 'Save the mapping once in the editor' });
    res.type('application/xml; charset=utf-8').send(xsl);
  });

  api.route({ method: 'get', path: '/api/mappings/:instance/versions/:version', summary: 'One kept version of a mapping', roles: ['integrator'], tag: TAG }, async (req, res) => {
    res.json(await workspace.version(instanceParam(req), versionParam(req)));
  });

  api.route({ method: 'post', path: '/api/mappings/:instance/versions/:version/revert', summary: 'Save a kept version again as the current mapping', roles: ['integrator'], tag: TAG }, async (req, res) => {
    res.json(await workspace.revert(instanceParam(req), versionParam(req), req.user?.username ?? 'unknown'));
  });

  api.route({ method: 'get', path: '/api/captures', summary: 'Recent captured documents from the run history (?repository)', roles: ['analyst', 'integrator'], tag: TAG }, async (req, res) => {
    const repository = queryString(req, 'repository');
    res.json(await recentPayloads(env.store, { ...(repository ? { repositories: [repository] } : {}), limit: 50 }));
  });

  api.route({ method: 'get', path: '/api/captures/:run/:index', summary: 'One captured document', roles: ['analyst', 'integrator'], tag: TAG }, async (req, res) => {
    const index = String(req.params.index);
    const payload = /^\d{1,5}$/.test(index) ? await payloadText(env.store, String(req.params.run), Number(index)) : undefined;
    if (!payload) throw new SluiceError('CAPTURE_NOT_FOUND', 'There is no such captured document', { status: 404, fix: 'Pick one from /api/captures' });
    res.json(payload);
  });
}

function pick(details: Record<string, unknown>, keys: string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of keys) if (details[key] !== undefined) out[key] = details[key];
  return out;
}
