/**
 * The composition root: the one place where the store, the clock, the logger, the network and
 * the configuration are created and handed to the parts that need them.
 */
import { mkdirSync, readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import type { Server } from 'node:http';
import { Authenticator, ensureAdmin } from './auth/users.js';
import { repoRoot, type SluiceConfig } from './config.js';
import { seedDemo } from './demo/seed.js';
import { SluiceError } from './errors.js';
import { ensureIdentity, type GatewayIdentity } from './gateway-identity.js';
import { ensureSigningKey } from './bundles/signing-key.js';
import { createApp } from './http/app.js';
import { consoleRouter } from './http/console-route.js';
import { registerRepositoryRoutes } from './http/api/repositories.js';
import { ApiRegistry } from './http/api/schema-registry.js';
import { registerSyncRoutes } from './http/api/sync-api.js';
import { registerPoolRoutes } from './http/api/pools.js';
import { startGatewayDiscovery } from './discovery/gateway-discovery.js';
import type { DiscoveryService, MdnsSocketOptions } from './discovery/mdns.js';
import { Beacon } from './pools/beacon.js';
import { PoolRegistry } from './pools/pool-registry.js';
import { createSecretBox, loadSecretKey } from './secrets.js';
import { createSyncRuntime, type SyncRuntimeOptions } from './sync/runtime.js';
import type { SyncModule } from './sync/sync-module.js';
import { formatsRouter } from './http/formats-route.js';
import { createConverterFor } from './formats/converter-wiring.js';
import { createXsdValidator, SCHEMA_NAMES, type SchemaName } from './formats/xsd.js';
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

export async function openStore(config: Pick<SluiceConfig, 'store' | 'dataDir'>): Promise<Store> {
  if (config.store === 'sqlite' || config.store.startsWith('sqlite:')) {
    const dir = config.store.startsWith('sqlite:') ? path.resolve(config.store.slice('sqlite:'.length)) : config.dataDir;
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
  const store = await openStore(config);
  try {
    const identity = await ensureIdentity(store, config.name);
    // Created at first start so that /sync/config.json can hand peers the key offline bundles are checked with.
    await ensureSigningKey(config.dataDir, store);
    const admin = await ensureAdmin(store, { username: config.adminUser, password: config.adminPassword }, clock);
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
    });
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
    const api = new ApiRegistry(authenticator);
    registerRepositoryRoutes(api, syncRuntime.sync);
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
        api.routes(),
        express.Router().use('/api/preview', requireUser(authenticator, 'analyst', 'integrator')),
        previewRouter({
          engine,
          stylesheetsDir: config.stylesheetsDir,
          validate: async (xml, schema) =>
            SCHEMA_NAMES.includes(schema as SchemaName)
              ? validator.validate(xml, schema as SchemaName)
              : { valid: false, errors: [{ message: `no schema named "${schema}"` }] },
        }),
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
    const server = await new Promise<Server>((resolve, reject) => {
      const s = app.listen(config.port, config.host, () => resolve(s));
      s.once('error', reject);
    });
    const address = server.address() as AddressInfo;
    const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
    const url = `http://${host}:${address.port}`;
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
    const scheduler = config.worker ? syncRuntime.sync.createScheduler() : undefined;
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
      },
    };
  } catch (error) {
    await store.close();
    throw error;
  }
}
