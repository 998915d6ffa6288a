/**
 * DNS-SD records of a Sluice gateway (`_sluice._tcp.local`) and the way back from a received mDNS
 * packet to gateway descriptions. Pure: no socket, no clock; src/discovery/mdns-*.ts move the packets.
 *
 * Layout (RFC 6763): PTR `_sluice._tcp.local` → `<instance>._sluice._tcp.local`; SRV of the instance
 * → `<host>.local:<port>`; A records of the host; TXT of the instance with `txtvers`, `uuid`,
 * `name`, `path` (base path), `api` (the discovery/sync API version), `version` (the software),
 * `tables` (accessible tables, continued in `tables2`, `tables3`… because one TXT string holds at
 * most 255 bytes) and the beacon's interest tags in `down` and `up`.
 */
import type { Answer, Packet, Question, StringAnswer, SrvAnswer, TxtAnswer } from 'dns-packet';

export const SERVICE_TYPE = '_sluice._tcp.local';
/** DNS-SD service enumeration (RFC 6763 §9): lets generic browsers list `_sluice._tcp`. */
export const SERVICE_ENUMERATION = '_services._dns-sd._udp.local';
/** Bumped when the TXT layout or the sync API a discovered peer can expect changes. */
export const DISCOVERY_API_VERSION = '1';
/** Seconds other hosts may cache our records (RFC 6762 §10: 120 for host records, 4500 others). */
const HOST_TTL = 120;
const SERVICE_TTL = 4500;

export type InterestDirection = 'download' | 'upload' | 'both';

/** A beacon interest: this gateway wants records tagged `tag` in (download), out (upload) or both. */
export interface BeaconInterest {
  tag: string;
  direction: InterestDirection;
}

/** What a gateway advertises about itself. */
export interface GatewayAdvert {
  uuid: string;
  name: string;
  port: number;
  /** Base path of the gateway's endpoints ('' at the root). */
  basePath: string;
  version: string;
  tables: string[];
  interests: BeaconInterest[];
  /** IPv4 addresses the gateway answers on (A records of its host name). */
  addresses: string[];
}

/** A gateway learnt from an mDNS packet. */
export interface DiscoveredGateway {
  uuid: string;
  name: string;
  /** `http://address:port/path`, ready for the fingerprint-first registration. */
  url: string;
  instance: string;
  host: string;
  port: number;
  basePath: string;
  api: string;
  version: string;
  tables: string[];
  interests: BeaconInterest[];
  addresses: string[];
  /** True when the gateway said goodbye (TTL 0): it is leaving the network. */
  goodbye: boolean;
}

export const TAG_PATTERN = /^[a-z0-9][a-z0-9_-]{0,31}$/;
const TABLE_PATTERN = /^[a-z][a-z0-9]*_[a-z0-9_]+$/;
const IPV4_PATTERN = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;
const TXT_STRING_BYTES = 255;
const LABEL_BYTES = 63;

/** Cuts a string to at most `bytes` UTF-8 bytes without splitting a character. */
function cutToBytes(text: string, bytes: number): string {
  let result = '';
  for (const char of text) {
    if (Buffer.byteLength(result + char) > bytes) break;
    result += char;
  }
  return result;
}

/** A short stable suffix from the uuid: makes instance and host names unique between gateways. */
function uuidSuffix(uuid: string): string {
  const hex = uuid.toLowerCase().replace(/[^0-9a-f]/g, '');
  return (hex || Buffer.from(uuid).toString('hex')).slice(-8);
}

/** The instance label: the gateway's name (dots would split the DNS label) and a uuid suffix. */
export function instanceLabel(advert: Pick<GatewayAdvert, 'uuid' | 'name'>): string {
  const suffix = ` [${uuidSuffix(advert.uuid)}]`;
  const name = advert.name.replace(/[.\\\u0000-\u001f]/g, ' ').trim() || 'Sluice';
  return cutToBytes(name, LABEL_BYTES - suffix.length) + suffix;
}

export function instanceName(advert: Pick<GatewayAdvert, 'uuid' | 'name'>): string {
  return `${instanceLabel(advert)}.${SERVICE_TYPE}`;
}

export function hostName(advert: Pick<GatewayAdvert, 'uuid'>): string {
  return `sluice-${uuidSuffix(advert.uuid)}.local`;
}

function sameName(a: string, b: string): boolean {
  return a.replace(/\.$/, '').toLowerCase() === b.replace(/\.$/, '').toLowerCase();
}

/** Packs a comma list into `key=…`, `key2=…` strings that each fit one TXT string. */
function listEntries(key: string, values: readonly string[]): string[] {
  const entries: string[] = [];
  let current: string[] = [];
  const keyFor = (index: number) => (index === 0 ? key : `${key}${index + 1}`);
  for (const value of values) {
    const candidate = `${keyFor(entries.length)}=${[...current, value].join(',')}`;
    if (Buffer.byteLength(candidate) > TXT_STRING_BYTES && current.length > 0) {
      entries.push(`${keyFor(entries.length)}=${current.join(',')}`);
      current = [value];
    } else {
      current.push(value);
    }
  }
  if (current.length > 0) entries.push(`${keyFor(entries.length)}=${current.join(',')}`);
  return entries;
}

export function encodeTxt(advert: GatewayAdvert): string[] {
  const downloads = advert.interests.filter((interest) => interest.direction !== 'upload').map((interest) => interest.tag);
  const uploads = advert.interests.filter((interest) => interest.direction !== 'download').map((interest) => interest.tag);
  return [
    'txtvers=1',
    `uuid=${advert.uuid}`,
    cutToBytes(`name=${advert.name}`, TXT_STRING_BYTES),
    `path=${advert.basePath || '/'}`,
    `api=${DISCOVERY_API_VERSION}`,
    `version=${advert.version}`,
    ...listEntries('tables', advert.tables),
    ...listEntries('down', downloads),
    ...listEntries('up', uploads),
  ];
}

/** TXT strings as key → value (first occurrence wins, RFC 6763 §6.4; keys compare case-insensitively). */
export function decodeTxt(strings: readonly (string | Buffer)[]): Map<string, string> {
  const entries = new Map<string, string>();
  for (const raw of strings) {
    const text = Buffer.isBuffer(raw) ? raw.toString('utf8') : raw;
    const at = text.indexOf('=');
    const key = (at < 0 ? text : text.slice(0, at)).toLowerCase();
    if (key === '' || entries.has(key)) continue;
    entries.set(key, at < 0 ? '' : text.slice(at + 1));
  }
  return entries;
}

function listValue(entries: Map<string, string>, key: string): string[] {
  const values: string[] = [];
  for (let index = 1; ; index += 1) {
    const value = entries.get(index === 1 ? key : `${key}${index}`);
    if (value === undefined) break;
    values.push(...value.split(',').map((item) => item.trim()).filter((item) => item !== ''));
  }
  return values;
}

function interestsFrom(entries: Map<string, string>): BeaconInterest[] {
  const directions = new Map<string, InterestDirection>();
  for (const tag of listValue(entries, 'down').map((t) => t.toLowerCase())) if (TAG_PATTERN.test(tag)) directions.set(tag, 'download');
  for (const tag of listValue(entries, 'up').map((t) => t.toLowerCase())) {
    if (!TAG_PATTERN.test(tag)) continue;
    directions.set(tag, directions.get(tag) === 'download' ? 'both' : 'upload');
  }
  return [...directions].map(([tag, direction]) => ({ tag, direction })).sort((a, b) => (a.tag < b.tag ? -1 : a.tag > b.tag ? 1 : 0));
}

function serviceRecords(advert: GatewayAdvert, ttlScale: number): { ptr: Answer; srv: Answer; txt: Answer; hosts: Answer[] } {
  const instance = instanceName(advert);
  const host = hostName(advert);
  return {
    ptr: { name: SERVICE_TYPE, type: 'PTR', ttl: SERVICE_TTL * ttlScale, data: instance },
    srv: { name: instance, type: 'SRV', ttl: HOST_TTL * ttlScale, flush: true, data: { target: host, port: advert.port, priority: 0, weight: 0 } },
    txt: { name: instance, type: 'TXT', ttl: SERVICE_TTL * ttlScale, flush: true, data: encodeTxt(advert) },
    hosts: advert.addresses.map((address) => ({ name: host, type: 'A', ttl: HOST_TTL * ttlScale, flush: true, data: address }) as Answer),
  };
}

/** An unsolicited announcement (RFC 6762 §8.3) of every record; `goodbye` sends them with TTL 0. */
export function announcement(advert: GatewayAdvert, goodbye = false): Packet {
  const records = serviceRecords(advert, goodbye ? 0 : 1);
  return { type: 'response', answers: [records.ptr, records.srv, records.txt, ...records.hosts] };
}

/** The query `sluice discover` and the gateway's browser send. */
export function browseQuery(): Packet {
  return { type: 'query', questions: [{ name: SERVICE_TYPE, type: 'PTR' }] };
}

function asks(question: Question, name: string, ...types: string[]): boolean {
  // dns-packet's RecordType omits ANY (255), which queries may still carry.
  return sameName(question.name, name) && ((question.type as string) === 'ANY' || types.includes(question.type));
}

/** The response to a query, or undefined when it asks nothing about this gateway. */
export function answerQuery(advert: GatewayAdvert, query: Pick<Packet, 'questions'>): Packet | undefined {
  const records = serviceRecords(advert, 1);
  const instance = instanceName(advert);
  const host = hostName(advert);
  const answers: Answer[] = [];
  const additionals: Answer[] = [];
  const add = (list: Answer[], ...items: Answer[]) => {
    for (const item of items) if (!answers.includes(item) && !list.includes(item)) list.push(item);
  };
  for (const question of query.questions ?? []) {
    if (asks(question, SERVICE_ENUMERATION, 'PTR')) {
      add(answers, { name: SERVICE_ENUMERATION, type: 'PTR', ttl: SERVICE_TTL, data: SERVICE_TYPE });
    }
    if (asks(question, SERVICE_TYPE, 'PTR')) add(answers, records.ptr);
    if (asks(question, instance, 'SRV')) add(answers, records.srv);
    if (asks(question, instance, 'TXT')) add(answers, records.txt);
    if (asks(question, host, 'A')) add(answers, ...records.hosts);
  }
  if (answers.length === 0) return undefined;
  // What a browser needs next comes along, so one round trip is enough (RFC 6763 §12).
  if (answers.includes(records.ptr)) add(additionals, records.srv, records.txt);
  if (answers.includes(records.ptr) || answers.includes(records.srv)) add(additionals, ...records.hosts);
  const extras = additionals.filter((item) => !answers.includes(item));
  return { type: 'response', answers, ...(extras.length ? { additionals: extras } : {}) };
}

function isSluiceInstance(name: string): boolean {
  const lower = name.replace(/\.$/, '').toLowerCase();
  return lower.endsWith(`.${SERVICE_TYPE}`) && lower.length > SERVICE_TYPE.length + 1;
}

/**
 * The gateways a packet describes. Incomplete or malformed descriptions (no uuid, no SRV, a bad
 * port) are left out: packets come from anyone on the LAN. `from` is the sender's address, used
 * when the packet carries no A record for the SRV target.
 */
export function gatewaysFromPacket(packet: Pick<Packet, 'answers' | 'additionals'>, from?: { address: string }): DiscoveredGateway[] {
  const records = [...(packet.answers ?? []), ...(packet.additionals ?? [])];
  const instances = new Set<string>();
  for (const record of records) {
    if (record.type === 'PTR' && sameName(record.name, SERVICE_TYPE) && typeof record.data === 'string') instances.add(record.data.toLowerCase());
    if ((record.type === 'SRV' || record.type === 'TXT') && isSluiceInstance(record.name)) instances.add(record.name.toLowerCase());
  }
  const gateways: DiscoveredGateway[] = [];
  for (const instance of instances) {
    const srv = records.find((record): record is SrvAnswer => record.type === 'SRV' && sameName(record.name, instance));
    const txt = records.find((record): record is TxtAnswer => record.type === 'TXT' && sameName(record.name, instance));
    if (!srv || !txt) continue;
    const entries = decodeTxt(Array.isArray(txt.data) ? txt.data : [txt.data]);
    const uuid = entries.get('uuid');
    const port = srv.data.port;
    if (!uuid || uuid.length > 256 || !Number.isInteger(port) || port < 1 || port > 65535) continue;
    const host = srv.data.target.replace(/\.$/, '');
    const addresses = records
      .filter((record): record is StringAnswer => record.type === 'A' && sameName(record.name, host) && typeof record.data === 'string')
      .map((record) => record.data)
      .filter((address) => IPV4_PATTERN.test(address));
    // The sender's own address first: it is the one known to reach us on this segment.
    const address = from && addresses.includes(from.address) ? from.address : (addresses[0] ?? (from && IPV4_PATTERN.test(from.address) ? from.address : undefined));
    if (address === undefined) continue;
    const rawPath = entries.get('path') ?? '/';
    const basePath = rawPath === '/' || rawPath === '' ? '' : `/${rawPath.replace(/^\/+|\/+$/g, '')}`;
    const ttl = Math.min(srv.ttl ?? 1, txt.ttl ?? 1);
    gateways.push({
      uuid,
      name: (entries.get('name') ?? '').slice(0, 256) || uuid,
      url: `http://${address}:${port}${encodeURI(basePath)}`,
      instance: srv.name.replace(/\.$/, ''),
      host,
      port,
      basePath,
      api: entries.get('api') ?? '',
      version: entries.get('version') ?? '',
      tables: listValue(entries, 'tables').filter((table) => TABLE_PATTERN.test(table)),
      interests: interestsFrom(entries),
      addresses,
      goodbye: ttl === 0,
    });
  }
  return gateways;
}
