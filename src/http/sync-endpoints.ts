/**
 * The passive side of Eden's sync protocol (reference §2.5): peers pull from and push to this
 * gateway exactly as they would from an Eden instance.
 */
import express, { type Router } from 'express';
import type { Authenticator } from '../auth/users.js';
import { SluiceError, asSluiceError } from '../errors.js';
import type { GatewayIdentity } from '../gateway-identity.js';
import type { ImportMethod, ImportOptions, Policy } from '../importer/importer.js';
import type { Clock } from '../s3xml/timestamps.js';
import { formatTimestamp, parseMsince } from '../s3xml/timestamps.js';
import type { Store } from '../store/store.js';
import { allowAnonymousRead, requireUser } from './basic-auth.js';
import { edenMessage } from './eden-reply.js';
import { checkTableName, exportOptionsFromQuery, importBody, importReply, sendS3JSON, sendS3XML } from './resource-io.js';

/** Policies a local task defines for (repository, resource); the sync module supplies them. */
export type PushPolicyResolver = (
  repository: string,
  resource: string,
) => Promise<Pick<ImportOptions, 'strategy' | 'updatePolicy' | 'conflictPolicy' | 'lastSync'> | undefined>;

export interface SyncEndpointDeps {
  store: Store;
  identity: GatewayIdentity;
  authenticator: Authenticator;
  clock: Clock;
  domain: string;
  baseUrl: string;
  maxBodyBytes: number;
  version: string;
  anonymousRead: boolean;
  pushPolicies?: PushPolicyResolver;
}

const POLICIES: Policy[] = ['THIS', 'OTHER', 'NEWER', 'MASTER'];
const METHODS: ImportMethod[] = ['create', 'update', 'delete', 'merge'];

/** URL policies are written from the sender's point of view: THIS and OTHER swap here. */
function receiverPolicy(value: unknown, fallback: Policy): Policy {
  if (typeof value !== 'string' || value === '') return fallback;
  const upper = value.toUpperCase() as Policy;
  if (!POLICIES.includes(upper)) {
    throw new SluiceError('BAD_POLICY', `unknown policy "${value}"`, {
      status: 400,
      fix: `Use one of ${POLICIES.join(', ')}`,
    });
  }
  return upper === 'THIS' ? 'OTHER' : upper === 'OTHER' ? 'THIS' : upper;
}

function strategyFrom(value: unknown): ImportMethod[] {
  if (typeof value !== 'string' || value === '') return METHODS;
  const methods = value.split(',').map((m) => m.trim().toLowerCase()) as ImportMethod[];
  const unknown = methods.filter((m) => !METHODS.includes(m));
  if (unknown.length) {
    throw new SluiceError('BAD_STRATEGY', `unknown import method(s): ${unknown.join(', ')}`, {
      status: 400,
      fix: `Use a comma list of ${METHODS.join(', ')}`,
    });
  }
  return methods;
}

export function syncEndpointsRouter(deps: SyncEndpointDeps): Router {
  const router = express.Router();
  const syncUser = requireUser(deps.authenticator, 'integrator');
  const pullUser = deps.anonymousRead ? allowAnonymousRead(deps.authenticator) : syncUser;
  const now = () => formatTimestamp(deps.clock.now());

  // The fingerprint a peer reads before it hands over a password: no credentials needed, none given.
  router.get('/sync/config.json', async (_req, res) => {
    // The bundle signing key (src/bundles/signing-key.ts publishes it in the settings): peers keep it to check our offline bundles.
    const publicKey = await deps.store.getSetting('bundle.public_key');
    // The beacon's interest tags (src/pools/beacon.ts keeps them in this setting as JSON).
    const interests = JSON.parse((await deps.store.getSetting('beacon.interests')) || '[]') as unknown;
    res.json({ uuid: deps.identity.uuid, name: deps.identity.name, apitype: 'eden', software: 'sluice', version: deps.version, ...(publicKey ? { public_key: publicKey } : {}), interests });
  });

  router.post(
    '/sync/repository/register.json',
    syncUser,
    express.json({ limit: '64kb', type: () => true }),
    async (req, res) => {
      const body = (req.body ?? {}) as Record<string, unknown>;
      const uuid = typeof body.uuid === 'string' ? body.uuid.trim() : '';
      if (!uuid || uuid.length > 256) {
        throw new SluiceError('BAD_REGISTRATION', 'registration needs the peer uuid', {
          status: 400,
          fix: 'POST {"uuid": "<your instance uuid>", "name": "<your host>", "apitype": "eden"}',
        });
      }
      const existing = await deps.store.getRepository(uuid);
      const at = now();
      await deps.store.putRepository({
        uuid,
        // A repository an operator added here (it has a URL) keeps the name the operator gave it.
        name: existing?.url ? existing.name : typeof body.name === 'string' && body.name ? body.name.slice(0, 256) : existing?.name ?? uuid,
        apitype: typeof body.apitype === 'string' && body.apitype ? body.apitype : existing?.apitype ?? 'eden',
        url: existing?.url,
        config: { ...(existing?.config ?? {}), registered_by_peer: true },
        created_at: existing?.created_at ?? at,
        updated_at: at,
      });
      await deps.store.appendLog({
        timestmp: at,
        repository: uuid,
        mode: 'register/incoming',
        action: 'request registration',
        result: 'success',
        remote: false,
        message: `Registration of ${uuid} by ${req.user?.username ?? 'unknown'}`,
      });
      res.json(edenMessage('success', 200, 'Registration successful', { sender: deps.identity.uuid }));
    },
  );

  router.get('/sync/sync.:ext', pullUser, async (req, res) => {
    const ext = req.params.ext as string;
    if (ext !== 'xml' && ext !== 's3json') {
      throw new SluiceError('UNSUPPORTED_FORMAT', 'Unsupported data format!', { status: 415 });
    }
    const resource = checkTableName(req.query.resource);
    const repository = typeof req.query.repository === 'string' ? req.query.repository : undefined;
    const options = exportOptionsFromQuery(resource, req.query as Record<string, unknown>);
    await deps.store.appendLog({
      timestmp: now(),
      repository,
      resource,
      mode: 'pull/incoming',
      action: 'send',
      result: 'success',
      remote: false,
      message: `Pull of ${resource}${options.msince ? ` since ${options.msince}` : ''}${
        options.afterSeq !== undefined ? ` after seq ${options.afterSeq}` : ''
      }`,
    });
    if (ext === 's3json') await sendS3JSON(res, deps, options);
    else await sendS3XML(res, deps, options);
  });

  router.post(
    '/sync/sync.:ext',
    syncUser,
    express.raw({ type: () => true, limit: deps.maxBodyBytes }),
    async (req, res) => {
      const ext = req.params.ext as string;
      if (ext !== 'xml' && ext !== 's3json') {
        throw new SluiceError('UNSUPPORTED_FORMAT', 'Unsupported data format!', { status: 415 });
      }
      const resource = checkTableName(req.query.resource);
      const repository = typeof req.query.repository === 'string' ? req.query.repository : '';
      if (!repository || !(await deps.store.getRepository(repository))) {
        throw new SluiceError('REGISTRATION_REQUIRED', 'Registration required', {
          status: 403,
          fix: 'Register first with POST /sync/repository/register.json, then push with repository=<your uuid>',
        });
      }
      const msince = typeof req.query.msince === 'string' && req.query.msince ? parseMsince(req.query.msince) : undefined;
      const task = deps.pushPolicies ? await deps.pushPolicies(repository, resource) : undefined;
      const options: ImportOptions = {
        resource,
        repository,
        clock: deps.clock,
        localDomain: deps.domain,
        strategy: task?.strategy ?? strategyFrom(req.query.strategy),
        updatePolicy: task?.updatePolicy ?? receiverPolicy(req.query.update_policy, 'NEWER'),
        conflictPolicy: task?.conflictPolicy ?? receiverPolicy(req.query.conflict_policy, 'MASTER'),
        lastSync: task ? task.lastSync : msince,
      };
      const payload = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
      try {
        const result = await importBody(deps.store, payload, ext === 'xml' ? 's3xml' : 's3json', options);
        await deps.store.appendLog({
          timestmp: now(),
          repository,
          resource,
          mode: 'push/incoming',
          action: 'receive',
          result: result.errors.length || result.conflicts.length ? 'warning' : 'success',
          remote: false,
          message: `${result.records} records: ${result.created.length} created, ${result.updated.length} updated, ${
            result.deleted.length
          } deleted, ${result.merged.length} merged, ${result.conflicts.length} conflicts, ${result.errors.length} errors`,
        });
        res.status(200).json(importReply(result));
      } catch (error) {
        const failure = asSluiceError(error);
        await deps.store.appendLog({
          timestmp: now(),
          repository,
          resource,
          mode: 'push/incoming',
          action: 'receive',
          result: 'error',
          remote: true,
          message: `${failure.code}: ${failure.message}`,
        });
        throw failure;
      }
    },
  );

  return router;
}
