/**
 * Configuration is read in one place, with the precedence: command-line argument > environment
 * variable > default. Nothing else in Sluice reads process.env; the composition root passes the
 * environment in here.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { SluiceError } from './errors.js';

export interface SluiceConfig {
  host: string;
  port: number;
  /** Holds the embedded store, the secret key, caches and captured payloads. */
  dataDir: string;
  /** Store locator: `sqlite` (default, a file in dataDir) or a `mongodb://` URL. */
  store: string;
  demo: boolean;
  adminUser: string;
  /** When unset at first start, a password is generated and printed once. */
  adminPassword?: string;
  /** This gateway's public name (sent to peers at registration). */
  name: string;
  /** The domain used to prefix non-urn uids on export (Eden's `domain/uid`). */
  domain: string;
  /** Public base URL (stylesheet parameter `base_url`, record urls). */
  baseUrl: string;
  logLevel: string;
  /** Largest request body accepted on import endpoints. */
  maxBodyBytes: number;
  /** Where the stylesheets, mappings and official schemas live. */
  stylesheetsDir: string;
  mappingsDir: string;
  standardsDir: string;
  /** Key that encrypts peer secrets at rest (else a key file in dataDir is used). */
  secretKey?: string;
  /** Run the job scheduler in this process (`sluice start` does unless told otherwise). */
  worker: boolean;
  /**
   * Announce this gateway on the LAN over mDNS and listen for others (src/discovery). `sluice start`
   * turns it on unless --no-discovery; elsewhere (tests, library use) it is off unless asked.
   */
  discovery: boolean;
  /**
   * Heap ceiling (MiB) of the separate process that transforms one record too big for a batch
   * (SLUICE_RECORD_HEAP_MB); unset, the engine picks a quarter of RAM within 256–1536.
   */
  recordHeapMb?: number;
}

/** The transform engine options every engine of a gateway takes from its configuration. */
export function engineLimits(config: Pick<SluiceConfig, 'recordHeapMb'>): { maxRecordHeapMb?: number; maxRecordHeapSetting: string } {
  return { ...(config.recordHeapMb === undefined ? {} : { maxRecordHeapMb: config.recordHeapMb }), maxRecordHeapSetting: 'SLUICE_RECORD_HEAP_MB' };
}

function parseMegabytes(value: string, name: string): number {
  const megabytes = Number(value);
  if (!Number.isInteger(megabytes) || megabytes < 64) {
    throw new SluiceError('BAD_CONFIG', `${name} "${value}" is not a heap size in MiB`, { fix: `Set ${name} to a whole number of MiB, at least 64 (e.g. 2048)` });
  }
  return megabytes;
}

export interface ConfigArguments {
  host?: string;
  port?: string | number;
  data?: string;
  store?: string;
  demo?: boolean;
  name?: string;
  domain?: string;
  baseUrl?: string;
  logLevel?: string;
  worker?: boolean;
  discovery?: boolean;
  /** What discovery is when neither an argument nor SLUICE_DISCOVERY says (true for `sluice start`). */
  discoveryByDefault?: boolean;
}

/** The repository root (where package.json, stylesheets/ and mappings/ are). */
export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

const DEFAULT_MAX_BODY = 64 * 1024 * 1024;

function parsePort(value: string | number): number {
  const port = typeof value === 'number' ? value : Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new SluiceError('BAD_CONFIG', `port "${value}" is not a TCP port number`, {
      fix: 'Use --port with a number from 1 to 65535 (0 picks a free port)',
    });
  }
  return port;
}

function parseSize(value: string, name: string): number {
  const m = /^(\d+)\s*([kmg]?)i?b?$/i.exec(value.trim());
  if (!m) {
    throw new SluiceError('BAD_CONFIG', `${name} "${value}" is not a size`, { fix: `Write ${name} like 64MiB or 1048576` });
  }
  const unit = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 }[m[2]!.toLowerCase() as '' | 'k' | 'm' | 'g'];
  return Number(m[1]) * unit;
}

function parseSwitch(value: string | undefined, name: string): boolean | undefined {
  if (value === undefined || value === '') return undefined;
  if (/^(1|true|yes|on)$/i.test(value)) return true;
  if (/^(0|false|no|off)$/i.test(value)) return false;
  throw new SluiceError('BAD_CONFIG', `${name} "${value}" is not on or off`, { fix: `Set ${name} to true or false` });
}

export function loadConfig(args: ConfigArguments, env: Record<string, string | undefined>): SluiceConfig {
  const host = args.host ?? env.SLUICE_HOST ?? '127.0.0.1';
  const port = parsePort(args.port ?? env.SLUICE_PORT ?? 8080);
  const dataDir = path.resolve(args.data ?? env.SLUICE_DATA ?? path.join(repoRoot, 'data'));
  const publicHost = host === '0.0.0.0' || host === '::' ? 'localhost' : host;
  const baseUrl = (args.baseUrl ?? env.SLUICE_BASE_URL ?? `http://${publicHost}:${port}`).replace(/\/+$/, '');
  return {
    host,
    port,
    dataDir,
    store: args.store ?? env.SLUICE_STORE ?? 'sqlite',
    demo: args.demo ?? false,
    adminUser: env.SLUICE_ADMIN_USER ?? 'admin',
    adminPassword: env.SLUICE_ADMIN_PASSWORD || undefined,
    name: args.name ?? env.SLUICE_NAME ?? 'Sluice gateway',
    domain: args.domain ?? env.SLUICE_DOMAIN ?? new URL(baseUrl).host,
    baseUrl,
    logLevel: args.logLevel ?? env.SLUICE_LOG_LEVEL ?? 'info',
    maxBodyBytes: env.SLUICE_MAX_BODY ? parseSize(env.SLUICE_MAX_BODY, 'SLUICE_MAX_BODY') : DEFAULT_MAX_BODY,
    stylesheetsDir: path.resolve(env.SLUICE_STYLESHEETS ?? path.join(repoRoot, 'stylesheets')),
    mappingsDir: path.resolve(env.SLUICE_MAPPINGS ?? path.join(repoRoot, 'mappings')),
    standardsDir: path.resolve(env.SLUICE_STANDARDS_DIR ?? path.join(repoRoot, '..', 'shared', 'standards')),
    secretKey: env.SLUICE_SECRET_KEY || undefined,
    worker: args.worker ?? true,
    discovery: args.discovery ?? parseSwitch(env.SLUICE_DISCOVERY, 'SLUICE_DISCOVERY') ?? args.discoveryByDefault ?? false,
    ...(env.SLUICE_RECORD_HEAP_MB ? { recordHeapMb: parseMegabytes(env.SLUICE_RECORD_HEAP_MB, 'SLUICE_RECORD_HEAP_MB') } : {}),
  };
}
