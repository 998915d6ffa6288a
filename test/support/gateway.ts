import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { loadConfig, type SluiceConfig } from '../../src/config.js';
import { silentLogger } from '../../src/logger.js';
import type { Clock } from '../../src/s3xml/timestamps.js';
import { startGateway, type RunningGateway } from '../../src/start.js';

export const ADMIN = { user: 'admin@example.org', password: 'correct horse battery staple' };

export interface TestGateway extends RunningGateway {
  dataDir: string;
  config: SluiceConfig;
  /** fetch with the admin's Basic credentials. */
  request(pathAndQuery: string, init?: RequestInit & { auth?: false | { user: string; password: string } }): Promise<Response>;
  stop(): Promise<void>;
}

export function basicAuth(user: string, password: string): string {
  return `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
}

/** Starts a real gateway on 127.0.0.1 with a fresh data directory. */
export async function startTestGateway(
  options: { demo?: boolean; clock?: Clock; name?: string; dataDir?: string; env?: Record<string, string> } = {},
): Promise<TestGateway> {
  const dataDir = options.dataDir ?? (await mkdtemp(path.join(os.tmpdir(), 'sluice-gw-')));
  const config = loadConfig(
    { host: '127.0.0.1', port: 0, data: dataDir, demo: options.demo ?? false, name: options.name ?? 'test gateway', worker: false },
    { SLUICE_ADMIN_USER: ADMIN.user, SLUICE_ADMIN_PASSWORD: ADMIN.password, SLUICE_DOMAIN: 'gw.test', ...options.env },
  );
  const gateway = await startGateway(config, { logger: silentLogger(), clock: options.clock, print: () => {} });
  return {
    ...gateway,
    dataDir,
    config,
    request(pathAndQuery, init = {}) {
      const headers = new Headers(init.headers);
      if (init.auth !== false) {
        const auth = init.auth ?? { user: ADMIN.user, password: ADMIN.password };
        headers.set('authorization', basicAuth(auth.user, auth.password));
      }
      return fetch(`${gateway.url}${pathAndQuery}`, { ...init, headers });
    },
    async stop() {
      await gateway.close();
      if (!options.dataDir) await rm(dataDir, { recursive: true, force: true });
    },
  };
}
