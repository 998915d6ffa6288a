/**
 * Gateways for the sync tests: in-process (fast retries and short timeouts injected) or as real
 * OS processes of the CLI (`sluice start`, `sluice sync`, …), plus helpers to seed records through
 * the Eden REST import and to read a whole table back for comparison.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { loadConfig, repoRoot, type SluiceConfig } from '../../../src/config.js';
import { silentLogger } from '../../../src/logger.js';
import { parseS3XML } from '../../../src/s3xml/parse.js';
import type { S3Resource } from '../../../src/s3xml/model.js';
import type { Clock } from '../../../src/s3xml/timestamps.js';
import { startGateway, type RunningGateway } from '../../../src/start.js';
import type { SyncRuntimeOptions } from '../../../src/sync/runtime.js';

export const ADMIN = { user: 'admin@example.org', password: 'correct horse battery staple' };

export function basicAuth(user: string, password: string): string {
  return `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
}

/** Retries without waiting, short timeouts: the fault tests run at full speed. */
export const FAST_SYNC: NonNullable<SyncRuntimeOptions['overrides']> = {
  retry: { sleep: async () => undefined, random: () => 0.5 },
  timeoutMs: 2000,
  leaseTtlMs: 5000,
};

export interface SyncGateway extends RunningGateway {
  dataDir: string;
  config: SluiceConfig;
  request(pathAndQuery: string, init?: RequestInit): Promise<Response>;
  stop(): Promise<void>;
}

export async function startSyncGateway(
  options: { name?: string; domain?: string; clock?: Clock; overrides?: SyncRuntimeOptions['overrides']; dataDir?: string } = {},
): Promise<SyncGateway> {
  const dataDir = options.dataDir ?? (await mkdtemp(path.join(os.tmpdir(), 'sluice-sync-')));
  const config = loadConfig(
    { host: '127.0.0.1', port: 0, data: dataDir, name: options.name ?? 'sync test gateway', worker: false },
    { SLUICE_ADMIN_USER: ADMIN.user, SLUICE_ADMIN_PASSWORD: ADMIN.password, SLUICE_DOMAIN: options.domain ?? 'gw.test' },
  );
  const gateway = await startGateway(config, {
    logger: silentLogger(),
    ...(options.clock ? { clock: options.clock } : {}),
    print: () => undefined,
    syncOverrides: options.overrides ?? FAST_SYNC,
  });
  return {
    ...gateway,
    dataDir,
    config,
    request(pathAndQuery, init = {}) {
      const headers = new Headers(init.headers);
      headers.set('authorization', basicAuth(ADMIN.user, ADMIN.password));
      return fetch(`${gateway.url}${pathAndQuery}`, { ...init, headers });
    },
    async stop() {
      await gateway.close();
      if (!options.dataDir) await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** Imports S3XML through the Eden REST endpoint (POST /<prefix>/<name>.xml). */
export async function importXml(gateway: { url: string }, resource: string, xml: string): Promise<Record<string, unknown>> {
  const [prefix, ...rest] = resource.split('_');
  const response = await fetch(`${gateway.url}/${prefix}/${rest.join('_')}.xml`, {
    method: 'POST',
    headers: { authorization: basicAuth(ADMIN.user, ADMIN.password), 'content-type': 'text/xml' },
    body: xml,
  });
  const reply = (await response.json()) as Record<string, unknown>;
  if (response.status !== 200 || reply.status !== 'success') throw new Error(`import into ${resource} failed: ${JSON.stringify(reply).slice(0, 500)}`);
  return reply;
}

/** Every record of a table as the gateway exports it (deleted stubs included), keyed by uuid. */
export async function exportTable(gateway: { url: string }, resource: string): Promise<Map<string, S3Resource>> {
  const [prefix, ...rest] = resource.split('_');
  const response = await fetch(`${gateway.url}/${prefix}/${rest.join('_')}.xml?include_deleted=True&maxdepth=0`, {
    headers: { authorization: basicAuth(ADMIN.user, ADMIN.password) },
  });
  if (response.status !== 200) throw new Error(`export of ${resource} failed with HTTP ${response.status}`);
  const document = await parseS3XML(Buffer.from(await response.arrayBuffer()));
  return new Map(document.resources.filter((item) => item.name === resource).map((item) => [item.uuid!, item]));
}

/** What must be equal on both sides: content, deletion, merge target (not `url` or mci). */
export function comparable(resource: S3Resource): unknown {
  const { attributes: _attributes, mci: _mci, components, ...rest } = resource;
  return { ...rest, components: components.map(comparable) };
}

// Real processes of the CLI

const CLI = path.join(repoRoot, 'src', 'cli', 'bin.ts');

/** Gateways started by tests stay off the LAN (mDNS) unless a test turns discovery on. */
export function cliEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return { ...process.env, SLUICE_ADMIN_USER: ADMIN.user, SLUICE_ADMIN_PASSWORD: ADMIN.password, SLUICE_LOG_LEVEL: 'info', SLUICE_DISCOVERY: 'false', ...extra };
}

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export function startCli(args: string[], options: { env?: Record<string, string>; input?: string } = {}): { child: ChildProcess; done: Promise<CliResult> } {
  const child = spawn(process.execPath, ['--import', 'tsx', CLI, ...args], { cwd: repoRoot, env: cliEnv(options.env), stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  if (options.input !== undefined) child.stdin!.end(options.input);
  else child.stdin!.end();
  const done = new Promise<CliResult>((resolve) => child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr })));
  return { child, done };
}

export function runCli(args: string[], options: { env?: Record<string, string>; input?: string } = {}): Promise<CliResult> {
  return startCli(args, options).done;
}

export interface GatewayProcess {
  url: string;
  uuid: string;
  dataDir: string;
  child: ChildProcess;
  stop(): Promise<void>;
}

/** `sluice start` in a process of its own; resolves once it listens. `store`: a mongodb:// URL (default the embedded store). */
export async function spawnGateway(options: { name: string; domain: string; dataDir?: string; store?: string }): Promise<GatewayProcess> {
  const dataDir = options.dataDir ?? (await mkdtemp(path.join(os.tmpdir(), 'sluice-proc-')));
  const storeArgs = options.store === undefined ? [] : ['--store', options.store];
  const child = spawn(process.execPath, ['--import', 'tsx', CLI, 'start', '--data', dataDir, ...storeArgs, '--host', '127.0.0.1', '--port', '0', '--name', options.name, '--no-worker'], {
    cwd: repoRoot,
    env: cliEnv({ SLUICE_DOMAIN: options.domain }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const listening = await new Promise<{ url: string; uuid: string }>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`gateway ${options.name} did not start: ${output}`)), 60_000);
    child.stdout!.on('data', (chunk: Buffer) => {
      output += chunk.toString('utf8');
      for (const line of output.split('\n')) {
        if (!line.includes('listening on')) continue;
        const entry = JSON.parse(line) as { url: string; uuid: string };
        clearTimeout(timer);
        resolve({ url: entry.url, uuid: entry.uuid });
        return;
      }
    });
    child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`gateway ${options.name} exited with ${code}: ${output}`));
    });
  });
  return {
    ...listening,
    dataDir,
    child,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGTERM');
        await exited;
      }
      if (!options.dataDir) await rm(dataDir, { recursive: true, force: true });
    },
  };
}
