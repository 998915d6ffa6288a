/**
 * A console on 127.0.0.1 over a running test gateway's own store, sync module, beacon and pools, so
 * the Discovery and Pools pages can be tested whatever the composition root passes the console.
 */
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import express from 'express';
import { Authenticator } from '../../../src/auth/users.js';
import { consoleRouter } from '../../../src/http/console-route.js';
import { silentLogger } from '../../../src/logger.js';
import { createTransformEngine } from '../../../src/transform/engine.js';
import type { ConsoleGateway } from './console-gateway.js';

export interface PoolsConsole {
  url: string;
  browsed: number;
  close(): Promise<void>;
}

export async function startPoolsConsole(gateway: ConsoleGateway): Promise<PoolsConsole> {
  const clock = { now: () => new Date() };
  const engine = createTransformEngine({
    stylesheetsDir: gateway.config.stylesheetsDir,
    cacheDir: path.join(gateway.dataDir, 'cache', 'xslt-console'),
    allowedDirs: [gateway.mappingsDir],
  });
  const state = { browsed: 0 };
  const app = express();
  app.use(
    consoleRouter({
      store: gateway.store,
      authenticator: new Authenticator(gateway.store, clock),
      clock,
      logger: silentLogger(),
      identity: gateway.identity,
      version: 'test',
      sync: gateway.sync,
      engine,
      stylesheetsDir: gateway.config.stylesheetsDir,
      mappingsDir: gateway.mappingsDir,
      domain: gateway.config.domain,
      baseUrl: gateway.url,
      beacon: gateway.beacon,
      pools: gateway.pools,
      browse: () => {
        state.browsed += 1;
      },
    }),
  );
  const server = await new Promise<import('node:http').Server>((resolve) => {
    const listening = app.listen(0, '127.0.0.1', () => resolve(listening));
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    get browsed() {
      return state.browsed;
    },
    async close() {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await engine.close();
    },
  };
}
