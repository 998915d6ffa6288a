/**
 * The composition part of the sync module (like start.ts, and the one file of src/sync that may
 * touch the disk, the network and the process): the real undici transport, the secret key from
 * the configuration or the data directory, this process's lease holder id and a liveness check
 * for holders on the same host.
 */
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import { engineLimits, repoRoot, type SluiceConfig } from '../config.js';
import { readMappingDocument } from '../formats/mapping-files.js';
import type { Logger } from '../logger.js';
import type { RetryOptions } from '../net/retry.js';
import { createSecretBox, loadSecretKey } from '../secrets.js';
import type { Clock } from '../s3xml/timestamps.js';
import type { Store } from '../store/store.js';
import { holderId, parseHolder } from './lease.js';
import { combineSources, createSyncModule, type SyncModule, type SyncModuleDeps } from './sync-module.js';
import type { SyncRunner } from './runner.js';
import { loadSigningKey } from '../bundles/signing-key.js';
import { createDropFolderSources } from '../transports/drop-folder-sources.js';
import { nodeFolderAccess } from '../transports/folder-access.js';
import { decodingTransport } from '../transports/compression.js';
import { createUndiciTransport } from './undici-transport.js';
import { SyncMappings } from './mapping-step.js';
import { peerOptionsLookup, type PeerOptionsLookup } from './peer-options.js';
import { createTransformEngine, type TransformEngine } from '../transform/engine.js';
import { createUshahidiSources, type UshahidiSources, type UshahidiSourcesDeps } from '../ushahidi/sources.js';

export interface SyncRuntime {
  sync: SyncModule;
  /** Ushahidi sources (registered like repositories; their runs go through sync.syncNow too). */
  sources: UshahidiSources;
  holder: string;
  /** A peer's options.xml values for the mapping editor (console `ConsoleDeps.peerOptions`). */
  peerOptions: PeerOptionsLookup;
  close(): Promise<void>;
}

/** False only when the holder is a process of this host that no longer exists. */
export function isLocalHolderAlive(holder: string): boolean {
  const parsed = parseHolder(holder);
  if (!parsed || parsed.host !== os.hostname()) return true;
  if (parsed.pid === process.pid) return true;
  try {
    process.kill(parsed.pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code !== 'ESRCH';
  }
}

export interface SyncRuntimeOptions {
  store: Store;
  config: Pick<SluiceConfig, 'dataDir' | 'secretKey' | 'domain'> & Partial<Pick<SluiceConfig, 'stylesheetsDir' | 'mappingsDir' | 'recordHeapMb'>>;
  logger: Logger;
  clock: Clock;
  identity: { uuid: string; name: string };
  /** Test and tuning overrides (timeouts, page size, retry sleep, lease ttl…). */
  overrides?: Partial<Omit<SyncModuleDeps, 'store' | 'clock' | 'logger' | 'transport' | 'secrets' | 'identity' | 'holder'>> & { retry?: RetryOptions };
  /**
   * A transform engine the caller owns and closes (start.ts's), used for the peers' value mappings
   * instead of starting a second one: it has already compiled a mapping the console just saved.
   */
  sharedEngine?: Pick<TransformEngine, 'transform'>;
  /** Test and tuning overrides of the Ushahidi sources (HTTP transport, transform batching). */
  sourceOverrides?: Partial<Pick<UshahidiSourcesDeps, 'transport' | 'transformBatch' | 'readAhead' | 'engine'>>;
}

export function createSyncRuntime(options: SyncRuntimeOptions): SyncRuntime {
  const undici = createUndiciTransport();
  const { close } = undici;
  // Asks peers for gzip/br and unpacks their answers (src/transports/compression.ts).
  const transport = decodingTransport(undici.transport);
  const secrets = createSecretBox(loadSecretKey({ dataDir: options.config.dataDir, ...(options.config.secretKey === undefined ? {} : { secretKey: options.config.secretKey }) }));
  const holder = holderId(os.hostname(), process.pid, randomBytes(4).toString('hex'));
  const stylesheetsDir = options.config.stylesheetsDir ?? path.join(repoRoot, 'stylesheets');
  const mappingsDir = options.config.mappingsDir ?? path.join(repoRoot, 'mappings');
  const overrides = options.overrides ?? {};
  const sources = createUshahidiSources({
    store: options.store,
    clock: options.clock,
    logger: options.logger,
    secrets,
    holder,
    isHolderAlive: isLocalHolderAlive,
    leaseTtlMs: overrides.leaseTtlMs ?? 60_000,
    engine: () => createTransformEngine({ stylesheetsDir, cacheDir: path.join(options.config.dataDir, 'cache', 'xslt'), allowedDirs: [mappingsDir], ...engineLimits(options.config) }),
    importStylesheet: path.join(stylesheetsDir, 'ushahidi', 'import.xsl'),
    readMapping: (instance) => readMappingDocument(mappingsDir, instance),
    ...(overrides.timeoutMs === undefined ? {} : { timeoutMs: overrides.timeoutMs }),
    ...(overrides.retry ? { retry: overrides.retry } : {}),
    ...(overrides.captureLimits ? { captureLimits: overrides.captureLimits } : {}),
    keepCaptures: overrides.keepCaptures ?? 50,
    ...options.sourceOverrides,
  });
  // The folder sources need the module's runner (lease, run history); the module needs the sources.
  let runner: SyncRunner | undefined;
  const folders = createDropFolderSources({
    store: options.store,
    clock: options.clock,
    folder: nodeFolderAccess,
    bundles: () => ({
      store: options.store,
      clock: options.clock,
      identity: options.identity,
      signer: loadSigningKey(options.config.dataDir),
      ...(options.config.domain === undefined ? {} : { localDomain: options.config.domain }),
    }),
    runner: () => runner!,
  });
  // Peers linked to a mapping have their pages mapped (mapping-step.ts); the engine starts on the first such run.
  const shared = options.sharedEngine;
  const mappings = new SyncMappings({
    readMapping: (instance) => readMappingDocument(mappingsDir, instance),
    engine: shared
      ? () => ({ transform: (request) => shared.transform(request), close: async () => undefined })
      : () => createTransformEngine({ stylesheetsDir, cacheDir: path.join(options.config.dataDir, 'cache', 'xslt'), allowedDirs: [mappingsDir], workers: 1, ...engineLimits(options.config) }),
  });
  const sync = createSyncModule({
    store: options.store,
    clock: options.clock,
    logger: options.logger,
    transport,
    secrets,
    identity: options.identity,
    localDomain: options.config.domain,
    holder,
    isHolderAlive: isLocalHolderAlive,
    mappings,
    ...options.overrides,
    sources: combineSources([sources, folders]),
  });
  runner = sync.runner;
  const peerOptions = peerOptionsLookup({
    store: options.store,
    secrets,
    transport,
    ...(overrides.timeoutMs === undefined ? {} : { timeoutMs: overrides.timeoutMs }),
    defaultProxy: async () => (await sync.settings()).proxy,
  });
  return {
    sync,
    sources,
    holder,
    peerOptions,
    async close() {
      await close();
      await sources.close();
      // As for the sources' engine: an idle sandbox is unreferenced, so hold the loop while it exits.
      const hold = setInterval(() => undefined, 1_000);
      try {
        await mappings.close();
      } finally {
        clearInterval(hold);
      }
    },
  };
}
