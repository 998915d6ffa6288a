/**
 * Puts a running gateway on the LAN: what it advertises (identity, port, base path, the tables it
 * holds, the beacon's interests) and where what it hears goes (the beacon's list of discovered
 * gateways). Called by the composition root once the HTTP server listens (the port is known then).
 */
import type { Logger } from '../logger.js';
import type { Beacon } from '../pools/beacon.js';
import type { Store } from '../store/store.js';
import { advertisedAddresses, startDiscoveryService, type DiscoveryService, type MdnsSocketOptions } from './mdns.js';
import type { GatewayAdvert } from './service-records.js';

export interface GatewayDiscoveryOptions {
  store: Store;
  beacon: Beacon;
  logger: Logger;
  identity: { uuid: string; name: string };
  version: string;
  /** The address the HTTP server listens on and its port. */
  host: string;
  port: number;
  /** Path of the public base URL ('' at the root). */
  basePath: string;
  browseIntervalMs?: number;
  socket?: MdnsSocketOptions;
}

export async function startGatewayDiscovery(options: GatewayDiscoveryOptions): Promise<DiscoveryService> {
  const { store, beacon, logger } = options;
  const addresses = advertisedAddresses(options.host);
  if (addresses.every((address) => address.startsWith('127.'))) {
    logger.info({ host: options.host }, 'announced on the LAN while listening on loopback: only gateways on this machine can connect (use --host 0.0.0.0 for others)');
  }
  const advert = async (): Promise<GatewayAdvert> => ({
    uuid: options.identity.uuid,
    name: options.identity.name,
    port: options.port,
    basePath: options.basePath,
    version: options.version,
    tables: (await store.resources()).map((entry) => entry.resource),
    interests: await beacon.interests(),
    addresses,
  });
  const service = await startDiscoveryService({
    advert,
    logger,
    onGateway: async (gateway) => {
      if (!(await beacon.recordSighting(gateway))) logger.debug({ uuid: gateway.uuid }, 'too many gateways known; this one was not recorded');
    },
    ...(options.browseIntervalMs === undefined ? {} : { browseIntervalMs: options.browseIntervalMs }),
    ...(options.socket ? { socket: options.socket } : {}),
  });
  beacon.onChange(() => {
    service.refresh().catch((error: unknown) => logger.warn({ err: (error as Error).message }, 'could not announce the changed interests'));
  });
  return service;
}
