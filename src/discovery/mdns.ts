/**
 * The thin socket part of LAN discovery: multicast-dns (UDP 5353, group 224.0.0.251) carries the
 * packets that service-records.ts builds and reads. Two uses:
 * - `startDiscoveryService`: a running gateway answers queries for `_sluice._tcp.local`, announces
 *   itself at start (and when its advert changes), says goodbye at stop, and browses now and then,
 *   handing every other gateway it hears to `onGateway` (the beacon keeps them);
 * - `discoverGateways`: `sluice discover` asks once and listens for `timeoutMs`.
 * Multicast is sent with IP_MULTICAST_LOOP on (multicast-dns's default), so gateways on the same
 * machine hear each other through the copy the kernel loops back.
 */
import os from 'node:os';
import type { Packet } from 'dns-packet';
import createMdns from 'multicast-dns';
import type { Logger } from '../logger.js';
import { announcement, answerQuery, browseQuery, gatewaysFromPacket, type DiscoveredGateway, type GatewayAdvert } from './service-records.js';

/** Socket options passed through to multicast-dns (tests and unusual networks). */
export interface MdnsSocketOptions {
  port?: number;
  /** Multicast group (default 224.0.0.251). */
  ip?: string;
  /** Local IPv4 address of the interface to use (default: every interface). */
  interface?: string;
}

export interface DiscoveryServiceOptions {
  /** Read again at start and at every refresh(). */
  advert: () => Promise<GatewayAdvert>;
  logger: Logger;
  onGateway?: (gateway: DiscoveredGateway) => Promise<void> | void;
  /** How often the service browses for other gateways (default 60 s; 0 = only at start). */
  browseIntervalMs?: number;
  socket?: MdnsSocketOptions;
}

export interface DiscoveryService {
  /** Reads the advert again and announces it (after interests or tables changed). */
  refresh(): Promise<void>;
  /** Asks the LAN for gateways now. */
  browse(): void;
  /** Says goodbye and closes the socket. */
  stop(): Promise<void>;
}

type Mdns = ReturnType<typeof createMdns>;

function openSocket(options: MdnsSocketOptions = {}): Promise<Mdns> {
  const mdns = createMdns({
    ...(options.port === undefined ? {} : { port: options.port }),
    ...(options.ip === undefined ? {} : { ip: options.ip }),
    ...(options.interface === undefined ? {} : { interface: options.interface }),
  });
  return new Promise((resolve, reject) => {
    mdns.once('ready', () => resolve(mdns));
    mdns.once('error', (error: Error) => {
      mdns.destroy();
      reject(error);
    });
  });
}

/** Sends a packet built by service-records.ts (a query or a response) to the multicast group. */
function send(mdns: Mdns, packet: Packet): Promise<void> {
  return new Promise((resolve) => {
    if (packet.type === 'query') mdns.query({ ...packet, questions: packet.questions ?? [] }, () => resolve());
    else mdns.respond({ ...packet, answers: packet.answers ?? [] }, () => resolve());
  });
}

/**
 * The IPv4 addresses a gateway listening on `host` can be reached at: the host itself when it is a
 * specific address, else every non-internal IPv4 address of this machine (loopback when none).
 */
export function advertisedAddresses(host: string): string[] {
  if (host === 'localhost') return ['127.0.0.1'];
  if (host !== '0.0.0.0' && host !== '::' && host !== '') return /^\d+\.\d+\.\d+\.\d+$/.test(host) ? [host] : [];
  const addresses = Object.values(os.networkInterfaces())
    .flatMap((entries) => entries ?? [])
    .filter((entry) => entry.family === 'IPv4' && !entry.internal)
    .map((entry) => entry.address);
  return addresses.length > 0 ? addresses : ['127.0.0.1'];
}

export async function startDiscoveryService(options: DiscoveryServiceOptions): Promise<DiscoveryService> {
  const { logger } = options;
  const mdns = await openSocket(options.socket);
  let advert: GatewayAdvert;
  try {
    advert = await options.advert();
  } catch (error) {
    mdns.destroy();
    throw error;
  }
  let stopped = false;
  mdns.on('warning', (error: Error) => logger.debug({ err: error.message }, 'mdns warning'));
  // Packets come from anyone on the LAN: whatever they hold, a handler must not throw out of the
  // event emitter (that would take the gateway down).
  mdns.on('query', (query) => {
    try {
      const reply = answerQuery(advert, query);
      if (reply) send(mdns, reply).catch(() => undefined);
    } catch (error) {
      logger.debug({ err: (error as Error).message }, 'mdns query not answered');
    }
  });
  mdns.on('response', (response, from) => {
    if (!options.onGateway) return;
    let gateways: DiscoveredGateway[];
    try {
      gateways = gatewaysFromPacket(response, from);
    } catch (error) {
      logger.debug({ err: (error as Error).message }, 'mdns response not understood');
      return;
    }
    for (const gateway of gateways) {
      if (gateway.uuid === advert.uuid) continue;
      Promise.resolve()
        .then(() => options.onGateway!(gateway))
        .catch((error: unknown) => logger.warn({ err: (error as Error).message, uuid: gateway.uuid }, 'could not record a discovered gateway'));
    }
  });
  const announce = async () => {
    await send(mdns, announcement(advert));
  };
  await announce();
  // RFC 6762 §8.3: a second announcement a second later, in case the first was lost.
  const again = setTimeout(() => void announce().catch(() => undefined), 1000);
  again.unref();
  const browse = () => {
    if (!stopped) send(mdns, browseQuery()).catch(() => undefined);
  };
  // Another process (the CLI on the same store) may have changed the interests or the tables.
  const announceIfChanged = async () => {
    const next = await options.advert();
    if (stopped || JSON.stringify(next) === JSON.stringify(advert)) return;
    advert = next;
    await announce();
  };
  browse();
  const interval = options.browseIntervalMs ?? 60_000;
  const timer =
    interval > 0
      ? setInterval(() => {
          browse();
          announceIfChanged().catch((error: unknown) => logger.debug({ err: (error as Error).message }, 'could not read the advert again'));
        }, interval)
      : undefined;
  timer?.unref();
  logger.info({ uuid: advert.uuid, port: advert.port, addresses: advert.addresses }, 'announcing this gateway on the LAN (mDNS _sluice._tcp)');
  return {
    async refresh() {
      if (stopped) return;
      advert = await options.advert();
      await announce();
    },
    browse,
    async stop() {
      if (stopped) return;
      stopped = true;
      clearTimeout(again);
      if (timer) clearInterval(timer);
      await send(mdns, announcement(advert, true)).catch(() => undefined);
      await new Promise<void>((resolve) => mdns.destroy(() => resolve()));
    },
  };
}

export interface DiscoverOptions {
  timeoutMs: number;
  socket?: MdnsSocketOptions;
}

/** Asks the LAN for Sluice gateways and lists those that answer within `timeoutMs`, by name. */
export async function discoverGateways(options: DiscoverOptions): Promise<DiscoveredGateway[]> {
  const mdns = await openSocket(options.socket);
  const found = new Map<string, DiscoveredGateway>();
  mdns.on('response', (response, from) => {
    let gateways: DiscoveredGateway[] = [];
    try {
      gateways = gatewaysFromPacket(response, from);
    } catch {
      // Not a packet we understand; other hosts' mDNS traffic is none of our business.
    }
    for (const gateway of gateways) {
      if (gateway.goodbye) found.delete(gateway.uuid);
      else found.set(gateway.uuid, gateway);
    }
  });
  mdns.on('warning', () => undefined);
  const ask = () => void send(mdns, browseQuery()).catch(() => undefined);
  ask();
  // A second query a third of the way in: multicast UDP may drop the first.
  const retry = setTimeout(ask, Math.max(100, Math.floor(options.timeoutMs / 3)));
  await new Promise((resolve) => setTimeout(resolve, options.timeoutMs));
  clearTimeout(retry);
  await new Promise<void>((resolve) => mdns.destroy(() => resolve()));
  return [...found.values()].sort((a, b) => a.name.localeCompare(b.name) || a.uuid.localeCompare(b.uuid));
}
