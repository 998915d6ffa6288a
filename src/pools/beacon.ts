/**
 * The beacon: the tags this gateway registers interest in (download, upload or both), advertised in
 * its mDNS TXT record and in /sync/config.json, and the gateways it has heard on the LAN with theirs.
 * Gateways sharing a tag with a pool become that pool's candidates (pool-registry.ts).
 */
import { SluiceError } from '../errors.js';
import { TAG_PATTERN, type BeaconInterest, type DiscoveredGateway, type InterestDirection } from '../discovery/service-records.js';
import { formatTimestamp, type Clock } from '../s3xml/timestamps.js';
import type { DiscoveredGatewayRecord, Store } from '../store/store.js';

/** The setting holding this gateway's interests as JSON (read by /sync/config.json too). */
export const INTERESTS_SETTING = 'beacon.interests';
const DIRECTIONS: readonly InterestDirection[] = ['download', 'upload', 'both'];
/** Anyone on the LAN can announce any uuid: new gateways beyond this many are not recorded. */
export const MAX_DISCOVERED_GATEWAYS = 500;

/** What the beacon keeps of a discovered gateway's advert (DiscoveredGatewayRecord.advert). */
export interface GatewayAdvertDetails {
  tables: string[];
  interests: BeaconInterest[];
  api: string;
  version: string;
}

export interface DiscoveredGatewayView extends GatewayAdvertDetails {
  uuid: string;
  name: string;
  url: string;
  first_seen_at: string;
  last_seen_at: string;
}

export function checkTag(tag: string): string {
  const normalized = tag.trim().toLowerCase();
  if (!TAG_PATTERN.test(normalized)) {
    throw new SluiceError('BAD_TAG', `"${tag}" is not a tag`, { status: 400, fix: 'Use 1 to 32 lower-case letters, digits, - or _, starting with a letter or digit (e.g. haiti)' });
  }
  return normalized;
}

export function checkDirection(direction: string): InterestDirection {
  if (!(DIRECTIONS as readonly string[]).includes(direction)) {
    throw new SluiceError('BAD_TAG', `"${direction}" is not a direction`, { status: 400, fix: 'Use download, upload or both' });
  }
  return direction as InterestDirection;
}

function detailsOf(record: DiscoveredGatewayRecord): GatewayAdvertDetails {
  const advert = record.advert;
  const list = (value: unknown): unknown[] => (Array.isArray(value) ? value : []);
  return {
    tables: list(advert.tables).filter((table): table is string => typeof table === 'string'),
    interests: list(advert.interests).filter(
      (interest): interest is BeaconInterest =>
        typeof interest === 'object' && interest !== null && typeof (interest as BeaconInterest).tag === 'string' && DIRECTIONS.includes((interest as BeaconInterest).direction),
    ),
    api: typeof advert.api === 'string' ? advert.api : '',
    version: typeof advert.version === 'string' ? advert.version : '',
  };
}

export function discoveredView(record: DiscoveredGatewayRecord): DiscoveredGatewayView {
  return { uuid: record.uuid, name: record.name, url: record.url, ...detailsOf(record), first_seen_at: record.first_seen_at, last_seen_at: record.last_seen_at };
}

export class Beacon {
  private readonly listeners: (() => void)[] = [];

  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
  ) {}

  /** Called after the interests change (the discovery service announces them again). */
  onChange(listener: () => void): void {
    this.listeners.push(listener);
  }

  async interests(): Promise<BeaconInterest[]> {
    const raw = await this.store.getSetting(INTERESTS_SETTING);
    if (!raw) return [];
    try {
      const parsed = JSON.parse(raw) as unknown;
      return Array.isArray(parsed) ? (parsed as BeaconInterest[]).filter((interest) => TAG_PATTERN.test(interest.tag) && DIRECTIONS.includes(interest.direction)) : [];
    } catch {
      return [];
    }
  }

  private async save(interests: BeaconInterest[]): Promise<BeaconInterest[]> {
    const sorted = [...interests].sort((a, b) => (a.tag < b.tag ? -1 : a.tag > b.tag ? 1 : 0));
    await this.store.setSetting(INTERESTS_SETTING, JSON.stringify(sorted));
    for (const listener of this.listeners) listener();
    return sorted;
  }

  /** Registers (or changes the direction of) an interest in `tag`. */
  async register(tag: string, direction: InterestDirection = 'both'): Promise<BeaconInterest[]> {
    const checked = checkTag(tag);
    const others = (await this.interests()).filter((interest) => interest.tag !== checked);
    return this.save([...others, { tag: checked, direction: checkDirection(direction) }]);
  }

  async unregister(tag: string): Promise<BeaconInterest[]> {
    const checked = checkTag(tag);
    const current = await this.interests();
    if (!current.some((interest) => interest.tag === checked)) {
      throw new SluiceError('TAG_NOT_FOUND', `This gateway has no interest in "${checked}"`, { status: 404, fix: 'List interests with sluice pool interests' });
    }
    return this.save(current.filter((interest) => interest.tag !== checked));
  }

  /**
   * Keeps what a gateway on the LAN advertised; a goodbye only marks when it was last seen. False
   * when a new gateway was not recorded because MAX_DISCOVERED_GATEWAYS are known already.
   */
  async recordSighting(gateway: DiscoveredGateway): Promise<boolean> {
    const at = formatTimestamp(this.clock.now());
    const existing = await this.store.getDiscoveredGateway(gateway.uuid);
    if (gateway.goodbye) {
      if (existing) await this.store.putDiscoveredGateway({ ...existing, last_seen_at: at });
      return true;
    }
    if (!existing && (await this.store.listDiscoveredGateways()).length >= MAX_DISCOVERED_GATEWAYS) return false;
    const advert: GatewayAdvertDetails = { tables: gateway.tables, interests: gateway.interests, api: gateway.api, version: gateway.version };
    await this.store.putDiscoveredGateway({
      uuid: gateway.uuid,
      name: gateway.name,
      url: gateway.url,
      advert: { ...advert },
      first_seen_at: existing?.first_seen_at ?? at,
      last_seen_at: at,
    });
    return true;
  }

  async discovered(): Promise<DiscoveredGatewayView[]> {
    return (await this.store.listDiscoveredGateways()).map(discoveredView);
  }

  async forget(uuid: string): Promise<void> {
    await this.store.deleteDiscoveredGateway(uuid);
  }
}
