import express, { type Express, type Router } from 'express';
import client from 'prom-client';
import { SluiceError } from '../errors.js';
import type { Logger } from '../logger.js';
import { errorHandler } from './eden-reply.js';
import { edenRestRouter, type EdenRestDeps } from './eden-rest.js';
import { syncEndpointsRouter, type SyncEndpointDeps } from './sync-endpoints.js';
import { compressResponses } from '../transports/compression.js';

export interface AppDeps extends EdenRestDeps, SyncEndpointDeps {
  logger: Logger;
  /** Routers mounted before the catch-all Eden REST routes (admin API, preview, console, formats). */
  routers?: Router[];
  metrics?: client.Registry;
}

export function createApp(deps: AppDeps): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('query parser', 'extended');
  const registry = deps.metrics ?? new client.Registry();
  const requests = new client.Counter({
    name: 'sluice_http_requests_total',
    help: 'HTTP requests by method and status class',
    labelNames: ['method', 'status'] as const,
    registers: [registry],
  });

  app.use((req, res, next) => {
    const started = process.hrtime.bigint();
    res.on('finish', () => {
      requests.inc({ method: req.method, status: `${Math.floor(res.statusCode / 100)}xx` });
      deps.logger.debug(
        { method: req.method, url: req.originalUrl, status: res.statusCode, ms: Number(process.hrtime.bigint() - started) / 1e6 },
        'request',
      );
    });
    next();
  });

  // gzip/br when the client accepts it: pulls, exports and feeds shrink several times over slow links.
  app.use(compressResponses());

  app.get('/healthz', async (_req, res) => {
    await deps.store.lastSeq();
    res.json({ status: 'ok', uuid: deps.identity.uuid, name: deps.identity.name, version: deps.version });
  });
  app.get('/metrics', async (_req, res) => {
    res.type(registry.contentType).send(await registry.metrics());
  });

  app.use(syncEndpointsRouter(deps));
  for (const router of deps.routers ?? []) app.use(router);
  app.use(edenRestRouter(deps));

  app.use((req, _res, next) => {
    next(
      new SluiceError('NOT_FOUND', `nothing at ${req.method} ${req.path}`, {
        status: 404,
        fix: 'See the README for the endpoints Sluice serves',
      }),
    );
  });
  app.use(errorHandler(deps.logger));
  return app;
}
