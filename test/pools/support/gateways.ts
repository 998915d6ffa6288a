/**
 * Gateways for the discovery and pool tests: in-process, on a fresh data directory, with LAN
 * discovery on only when asked.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '../../../src/config.js';
import { silentLogger } from '../../../src/logger.js';
import { startGateway, type RunningGateway } from '../../../src/start.js';

export const ADMIN = { user: 'admin@example.org', password: 'correct horse battery staple' };

export interface DiscoveryGateway extends RunningGateway {
  dataDir: string;
  /** An admin API call; the body is sent as JSON. */
  api(method: string, pathAndQuery: string, body?: unknown): Promise<Response>;
  stop(): Promise<void>;
}

export async function startDiscoveryGateway(options: { name: string; discovery?: boolean }): Promise<DiscoveryGateway> {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'sluice-pools-'));
  const config = loadConfig(
    { host: '127.0.0.1', port: 0, data: dataDir, name: options.name, worker: false, discovery: options.discovery ?? false },
    { SLUICE_ADMIN_USER: ADMIN.user, SLUICE_ADMIN_PASSWORD: ADMIN.password, SLUICE_DOMAIN: 'pools.test' },
  );
  const gateway = await startGateway(config, { logger: silentLogger(), print: () => undefined });
  if (options.discovery && !gateway.discovery) {
    await gateway.close();
    throw new Error('LAN discovery did not start on this machine (no multicast-capable interface, or UDP 5353 unavailable)');
  }
  const authorization = `Basic ${Buffer.from(`${ADMIN.user}:${ADMIN.password}`).toString('base64')}`;
  return {
    ...gateway,
    dataDir,
    api(method, pathAndQuery, body) {
      return fetch(`${gateway.url}${pathAndQuery}`, {
        method,
        headers: { authorization, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
    },
    async stop() {
      await gateway.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** Polls `probe` until it returns something, or fails saying what it waited for. */
export async function waitFor<T>(probe: () => Promise<T | undefined>, what: string, timeoutMs = 8000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`Gave up after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
