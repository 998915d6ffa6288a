/**
 * The composition root: the one place where the store, the clock, the logger, the network and
 * the configuration are created and handed to the parts that need them.
 */
import { mkdirSync, readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import type { Server } from 'node:http';
import { Authenticator, ensureAdmin } from './auth/users.js';
import { engineLimits, repoRoot, type SluiceConfig } from './config.js';
import { seedDemo } from './demo/seed.js';
import { SluiceError } from './errors.js';
import { ensureIdentity, type GatewayIdentity } from './gateway-identity.js';
import { lockDataDir } from './data-dir-lock.js';
import { ensureSigningKey } from './bundles/signing-key.js';
import { createApp } from './http/app.js';
import { consoleRouter } from './http/console-route.js';
import { registerRepositoryRoutes } from './http/api/repositories.js';
import { ApiRegistry } from './http/api/schema-registry.js';
import { registerSyncRoutes } from './http/api/sync-api.js';
import { registerPoolRoutes } from './http/api/pools.js';
import { registerSourceRoutes } from './http/api/sources.js';
import { startGatewayDiscovery } from './discovery/gateway-discovery.js';
import type { DiscoveryService, MdnsSocketOptions } from './discovery/mdns.js';
import { Beacon } from './pools/beacon.js';
import { PoolRegistry } from './pools/pool-registry.js';
import { createSecretBox, loadSecretKey } from './secrets.js';
import { createSyncRuntime, type SyncRuntimeOptions } from './sync/runtime.js';
import type { SyncModule } from './sync/sync-module.js';
import { createMappingLinker } from './sync/mapping-link.js';
import { formatsRouter } from './http/formats-route.js';
import { createConverterFor } from './formats/converter-wiring.js';
import { createXsdValidator, SCHEMA_NAMES, type SchemaName } from './formats/xsd.js';
import { warnIfStandardsMissing } from './formats/standards-check.js';
import express from 'express';
import { requireUser } from './http/basic-auth.js';
import { previewRouter } from './http/preview-route.js';
import { createTransformEngine } from './transform/engine.js';
import type { Logger } from './logger.js';
import { systemClock, type Clock } from './s3xml/timestamps.js';
import { openMongoStore } from './store/mongodb-store.js';
import { openSqliteStore } from './store/sqlite-store.js';
import type { Store } from './store/store.js';

export const version: string = (
  JSON.parse(readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as { version: string }
).version;

/** The folder of the embedded SQLite store, or undefined when the store is MongoDB. */
function sqliteDirOf(config: Pick<SluiceConfig, 'store' | 'dataDir'>): string | undefined {
  if (config.store === 'sqlite') return config.dataDir;
  if (config.store.startsWith('sqlite:')) return path.resolve(config.store.slice('sqlite:'.length));
  return undefined;
}

export async function openStore(config: Pick<SluiceConfig, 'store' | 'dataDir'>): Promise<Store> {
  const dir = sqliteDirOf(config);
  if (dir !== undefined) {
    mkdirSync(dir, { recursive: true });
    return openSqliteStore({ file: path.join(dir, 'sluice.db') });
  }
  if (config.store.startsWith('mongodb://') || config.store.startsWith('mongodb+srv://')) {
    return openMongoStore({ url: config.store });
  }
  throw new SluiceError('BAD_CONFIG', `unknown store "${config.store}"`, {
    fix: 'Use --store sqlite (the default) or a mongodb:// URL',
  });
}

export interface RunningGateway {
  url: string;
  identity: GatewayIdentity;
  store: Store;
  server: Server;
  /** Repositories, tasks, runs, conflicts (see src/sync/README.md). */
  sync: SyncModule;
  /** Beacon interests, discovered gateways and sync pools (src/pools). */
  beacon: Beacon;
  pools: PoolRegistry;
  /** The mDNS service when config.discovery is on. */
  discovery?: DiscoveryService;
  close(): Promise<void>;
}

export async function startGateway(
  config: SluiceConfig,
  options: {
    logger: Logger;
    clock?: Clock;
    print?: (line: string) => void;
    syncOverrides?: SyncRuntimeOptions['overrides'];
    discovery?: { socket?: MdnsSocketOptions; browseIntervalMs?: number };
  },
): Promise<RunningGateway> {
  const { logger } = options;
  const clock = options.clock ?? systemClock;
  const print = options.print ?? ((line: string) => process.stdout.write(`${line}\n`));
  mkdirSync(config.dataDir, { recursive: true });
  // Several gateways may share a MongoDB store (each job runs under a lease); an embedded store
  // belongs to one gateway process.
  const sqliteDir = sqliteDirOf(config);
  if (sqliteDir !== undefined) mkdirSync(sqliteDir, { recursive: true });
  const lock = sqliteDir === undefined ? undefined : lockDataDir(sqliteDir, () => clock.now());
  // What is started is stopped again, last first, if a later step fails (a port in use…).
  const undo: (() => Promise<void> | void)[] = [() => lock?.release()];
  const unwind = async () => {
    for (const step of undo.reverse()) await step();
  };
  let store: Store;
  try {
    store = await openStore(config);
  } catch (error) {
    await unwind();
    throw error;
  }
  undo.push(() => store.close());
  try {
    const identity = await ensureIdentity(store, config.name);
    // Created at first start so that /sync/config.json can hand peers the key offline bundles are checked with.
    await ensureSigningKey(config.dataDir, store);
    const admin = await ensureAdmin(store, { username: config.adminUser, password: config.adminPassword }, clock);
    if (admin.passwordReplaced) logger.warn({ user: admin.username }, 'the admin password was replaced by SLUICE_ADMIN_PASSWORD (unset it to keep passwords changed in the console)');
    if (admin.generatedPassword) {
      print(`Created user "${admin.username}" with password: ${admin.generatedPassword}`);
      print('This password is shown once. Set SLUICE_ADMIN_PASSWORD to choose your own.');
    }
    if (config.demo) {
      const seeded = await seedDemo(store, clock);
      if (seeded > 0) logger.info({ records: seeded }, 'demo data loaded');
    }
    const authenticator = new Authenticator(store, clock);
    const engine = createTransformEngine({
      stylesheetsDir: config.stylesheetsDir,
      cacheDir: path.join(config.dataDir, 'cache', 'xslt'),
      allowedDirs: [config.mappingsDir],
      now: () => clock.now().getTime(),
      ...engineLimits(config),
    });
    undo.push(() => engine.close());
    // One engine (one sandbox, one compile cache in memory) for the console, the formats and the
    // mappings that sync runs apply.
    const syncRuntime = createSyncRuntime({
      store,
      config,
      logger,
      clock,
      identity,
      sharedEngine: engine,
      ...(options.syncOverrides ? { overrides: options.syncOverrides } : {}),
    });
    undo.push(() => syncRuntime.close());
    const api = new ApiRegistry(authenticator);
    registerRepositoryRoutes(api, syncRuntime.sync, createMappingLinker({ store, clock, mappingsDir: config.mappingsDir, repositories: syncRuntime.sync.repositories }));
    registerSourceRoutes(api, syncRuntime.sources);
    registerSyncRoutes(api, syncRuntime.sync, store);
    const beacon = new Beacon(store, clock);
    const pools = new PoolRegistry({
      store,
      clock,
      repositories: syncRuntime.sync.repositories,
      tasks: syncRuntime.sync.tasks,
      secrets: createSecretBox(loadSecretKey({ dataDir: config.dataDir, ...(config.secretKey === undefined ? {} : { secretKey: config.secretKey }) })),
    });
    let discovery: DiscoveryService | undefined;
    registerPoolRoutes(api, { pools, beacon, browse: () => discovery?.browse() });
    const validator = createXsdValidator({ standardsDir: config.standardsDir });
    await warnIfStandardsMissing(validator, logger);
    const converter = createConverterFor(engine, { ...config, validator });
    const app = createApp({
      store,
      identity,
      authenticator,
      clock,
      logger,
      domain: config.domain,
      baseUrl: config.baseUrl,
      maxBodyBytes: config.maxBodyBytes,
      version,
      anonymousRead: config.demo,
      pushPolicies: syncRuntime.sync.pushPolicies,
      routers: [
        // First: its session layer signs console users in for the routes after it too.
        consoleRouter({
          store,
          authenticator,
          clock,
          logger,
          identity,
          version,
          sync: syncRuntime.sync,
          sources: syncRuntime.sources,
          peerOptions: syncRuntime.peerOptions,
          beacon,
          pools,
          browse: () => discovery?.browse(),
          engine,
          stylesheetsDir: config.stylesheetsDir,
          mappingsDir: config.mappingsDir,
          validator,
          api,
          domain: config.domain,
          baseUrl: config.baseUrl,
        }),
        // Before the admin API's routes: their JSON parser stops at 2 MB, and a preview may be larger.
        express.Router().use('/api/preview', requireUser(authenticator, 'analyst', 'integrator')),
        previewRouter({
          engine,
          stylesheetsDir: config.stylesheetsDir,
          validate: async (xml, schema) =>
            SCHEMA_NAMES.includes(schema as SchemaName)
              ? validator.validate(xml, schema as SchemaName)
              : { valid: false, errors: [{ message: `no schema named "${schema}"` }] },
        }),
        api.routes(),
        formatsRouter({
          store,
          converter,
          authenticator,
          clock,
          domain: config.domain,
          baseUrl: config.baseUrl,
          maxBodyBytes: config.maxBodyBytes,
          mappingsDir: config.mappingsDir,
          anonymousRead: config.demo,
        }),
      ],
    });
    // Express 5 hands a listen failure (EADDRINUSE…) to this callback rather than throwing.
    const server = await new Promise<Server>((resolve, reject) => {
      const s = app.listen(config.port, config.host, (error?: Error) => (error ? reject(listenFailure(error, config)) : resolve(s)));
    });
    undo.push(
      () =>
        new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeAllConnections();
        }),
    );
    const address = server.address() as AddressInfo;
    const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
    const url = `http://${host}:${address.port}`;
    // For `sluice export`/`import` run beside this gateway: they stamp records with its domain.
    await recordPublicAddress(store, config, url);
    logger.info({ url, uuid: identity.uuid, demo: config.demo }, `listening on ${url}`);
    if (config.discovery) {
      discovery = await startGatewayDiscovery({
        store,
        beacon,
        logger,
        identity,
        version,
        host: address.address,
        port: address.port,
        basePath: new URL(config.baseUrl).pathname.replace(/\/+$/, ''),
        ...(options.discovery?.browseIntervalMs === undefined ? {} : { browseIntervalMs: options.discovery.browseIntervalMs }),
        ...(options.discovery?.socket ? { socket: options.discovery.socket } : {}),
      }).catch((error: unknown) => {
        // A LAN without multicast (or port 5353 held exclusively) must not keep the gateway down.
        logger.warn({ err: (error as Error).message }, 'LAN discovery is unavailable; the gateway runs without it');
        return undefined;
      });
    }
    undo.push(() => discovery?.stop());
    const scheduler = config.worker ? syncRuntime.sync.createScheduler() : undefined;
    undo.push(() => scheduler?.stop());
    await scheduler?.start();
    if (config.demo) logger.warn('demo mode: records can be read without credentials');
    return {
      url,
      identity,
      store,
      server,
      sync: syncRuntime.sync,
      beacon,
      pools,
      ...(discovery ? { discovery } : {}),
      async close() {
        await discovery?.stop();
        await scheduler?.stop();
        await new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeAllConnections();
        });
        await syncRuntime.close();
        await engine.close();
        await store.close();
        lock?.release();
      },
    };
  } catch (error) {
    await unwind();
    throw error;
  }
}

/** Settings where the gateway leaves the domain and base URL it runs with, for the offline CLI commands. */
export const DOMAIN_SETTING = 'gateway.domain';
export const BASE_URL_SETTING = 'gateway.base_url';

/** With --port 0 the defaults name port 0; what is recorded is the port the gateway got. */
async function recordPublicAddress(store: Store, config: Pick<SluiceConfig, 'domain' | 'baseUrl'>, url: string): Promise<void> {
  const baseUrl = config.baseUrl.endsWith(':0') ? url : config.baseUrl;
  const domain = config.domain.endsWith(':0') ? new URL(url).host : config.domain;
  if ((await store.getSetting(DOMAIN_SETTING)) !== domain) await store.setSetting(DOMAIN_SETTING, domain);
  if ((await store.getSetting(BASE_URL_SETTING)) !== baseUrl) await store.setSetting(BASE_URL_SETTING, baseUrl);
}

/** A socket that could not be bound, as a SluiceError that says which flag to change. */
function listenFailure(error: Error, config: Pick<SluiceConfig, 'host' | 'port'>): Error {
  const where = `port ${config.port} on ${config.host}`;
  switch ((error as NodeJS.ErrnoException).code) {
    case 'EADDRINUSE':
      return new SluiceError('PORT_IN_USE', `${where} is in use`, {
        status: 409,
        cause: error,
        fix: `Stop the other gateway (or program) on port ${config.port}, or pass --port (or SLUICE_PORT) with a free port; --port 0 picks one`,
      });
    case 'EACCES':
      return new SluiceError('PORT_NOT_ALLOWED', `${where} may not be used by this user`, {
        status: 409,
        cause: error,
        fix: 'Ports below 1024 need extra privileges: pass --port 8080 (or another port above 1023), or put a reverse proxy in front',
      });
    case 'EADDRNOTAVAIL':
    case 'ENOTFOUND':
      return new SluiceError('HOST_NOT_AVAILABLE', `${config.host} is not an address of this machine`, {
        status: 409,
        cause: error,
        fix: 'Pass --host 127.0.0.1 (this machine only) or --host 0.0.0.0 (every interface)',
      });
    default:
      return error;
  }
}
