/**
 * The web console at /console: server-rendered pages plus small scripts and a stylesheet served by
 * Sluice itself. Mount it FIRST among the app's routers: its session layer turns a console
 * session cookie into `req.user` for every route behind it (the admin JSON API included), and
 * checks the CSRF token of anything that is not a GET.
 *
 *   app routers: [consoleRouter(deps), api.routes(), formatsRouter(...)]
 */
import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import { LoginRateLimiter, SessionStore } from '../auth/sessions.js';
import { AssetServer } from '../console/assets.js';
import { errorPage, type ConsoleDeps, type ConsoleEnv } from '../console/context.js';
import { registerMappingApi } from '../console/mapping-api.js';
import { MappingWorkspace } from '../console/mapping-workspace.js';
import { registerConflicts } from '../console/sections/conflicts.js';
import { registerDashboard } from '../console/sections/dashboard.js';
import { registerDiscovery } from '../console/sections/discovery.js';
import { registerMappings } from '../console/sections/mappings.js';
import { registerPools } from '../console/sections/pools.js';
import { registerPreview } from '../console/sections/preview.js';
import { registerRecords } from '../console/sections/records.js';
import { registerRepositories } from '../console/sections/repositories.js';
import { registerRuns } from '../console/sections/runs.js';
import { registerSettings } from '../console/sections/settings.js';
import { registerSignIn, sessionLayer } from '../console/sections/sign-in.js';
import { registerSources } from '../console/sections/sources.js';
import { registerSyncLog } from '../console/sections/sync-log.js';
import { registerUsers } from '../console/sections/users.js';
import { UnmappedReports } from '../console/unmapped-report.js';
import { SluiceError } from '../errors.js';
import { SCHEMA_NAMES, type SchemaName } from '../formats/xsd.js';
import { registerFormatRoutes } from './api/formats-api.js';
import { ApiRegistry } from './api/schema-registry.js';
import { requireUser } from './basic-auth.js';
import { previewRouter } from './preview-route.js';

export type { ConsoleDeps } from '../console/context.js';

function isConsolePage(req: Request): boolean {
  return (req.path === '/console' || req.path.startsWith('/console/')) && !req.path.startsWith('/console/api/');
}

export function consoleRouter(deps: ConsoleDeps): Router {
  const env: ConsoleEnv = {
    ...deps,
    sessions: deps.sessions ?? new SessionStore(deps.store, deps.clock),
    loginLimiter: deps.loginLimiter ?? new LoginRateLimiter(deps.clock),
    assets: new AssetServer(deps.assetsDir),
    secure: deps.secureCookies ?? deps.baseUrl.startsWith('https:'),
  };
  const workspace = new MappingWorkspace(deps.mappingsDir, deps.clock, deps.engine);
  const reports = new UnmappedReports(deps.store, deps.engine);
  const router = express.Router();

  // Forms post urlencoded bodies; parsed before the session layer so it can read their `_csrf`.
  router.use('/console', express.urlencoded({ extended: false, limit: '1mb', parameterLimit: 2000 }));
  router.use(sessionLayer(env));

  router.get('/console/assets/:name', (req, res, next) => {
    if (!env.assets.serve(req, res, String(req.params.name))) next();
  });
  // People who open the gateway's address in a browser land on the console.
  router.get('/', (_req, res) => res.redirect(303, '/console'));

  registerSignIn(router, env);
  registerDashboard(router, env);
  registerRepositories(router, env);
  registerSources(router, env);
  registerSyncLog(router, env);
  registerRecords(router, env);
  registerRuns(router, env);
  registerConflicts(router, env);
  registerMappings(router, env, workspace, reports);
  registerPreview(router, env, workspace);
  registerSettings(router, env);
  registerUsers(router, env);
  registerDiscovery(router, env);
  registerPools(router, env);

  // The preview route, as the transform engineer wrote it, behind the console's sign-in.
  const validator = deps.validator;
  const preview = express.Router();
  preview.use(
    requireUser(deps.authenticator, 'analyst', 'integrator'),
    // A transform that fails is a preview that worked: its errors are in the body. Browsers log
    // every 4xx answer as a console error, so the console's own calls get 200 and the status the
    // preview route chose travels in X-Preview-Status.
    (req: Request, res: Response, next: NextFunction) => {
      if (req.get('x-sluice-console')) {
        const setStatus = res.status.bind(res);
        res.status = (code: number) => {
          res.set('X-Preview-Status', String(code));
          return setStatus(code >= 500 ? code : 200);
        };
      }
      next();
    },
    previewRouter({
      engine: deps.engine,
      stylesheetsDir: deps.stylesheetsDir,
      ...(validator
        ? {
            validate: async (xml: string, schema: string) => {
              if (!(SCHEMA_NAMES as readonly string[]).includes(schema)) {
                throw new SluiceError('NO_SCHEMA', `${schema} has no official schema`, { status: 400 });
              }
              return validator.validate(xml, schema as SchemaName);
            },
          }
        : {}),
    }),
  );
  router.use('/console', (req, res, next) => (req.path === '/api/preview' ? preview(req, res, next) : next()));

  const api = deps.api ?? new ApiRegistry(deps.authenticator);
  registerMappingApi(api, env, workspace, reports);
  // Here because the console is handed the gateway's one XSD validator (the preview uses it too).
  if (validator) registerFormatRoutes(api, { schemaAvailability: () => validator.availability() });
  if (!deps.api) router.use(api.routes());

  router.use('/console', (req, _res, next) => {
    next(new SluiceError('NOT_FOUND', `There is no console page ${req.originalUrl.split('?')[0]}`, { status: 404, fix: 'Use the navigation at the top' }));
  });
  router.use((error: unknown, req: Request, res: Response, next: NextFunction) => {
    if (!isConsolePage(req) || res.headersSent) return next(error);
    errorPage(env, req, res, error);
  });
  return router;
}
