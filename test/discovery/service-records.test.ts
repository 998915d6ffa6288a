/**
 * The pure core of LAN discovery: DNS-SD records built from a gateway's advert, answers to queries,
 * and the way back from a received packet to gateway descriptions (packets are encoded and decoded
 * with dns-packet, as they travel).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import packet from 'dns-packet';
import {
  announcement,
  answerQuery,
  browseQuery,
  decodeTxt,
  encodeTxt,
  gatewaysFromPacket,
  instanceLabel,
  SERVICE_ENUMERATION,
  SERVICE_TYPE,
  type GatewayAdvert,
} from '../../src/discovery/service-records.js';

const advert: GatewayAdvert = {
  uuid: 'urn:uuid:0f3b1c7e-5a1d-4c5e-9a6b-2f1e0d9c8b7a',
  name: 'Port-au-Prince EOC',
  port: 8080,
  basePath: '',
  version: '0.1.0',
  tables: ['org_office', 'pr_person'],
  interests: [
    { tag: 'haiti', direction: 'both' },
    { tag: 'shelter', direction: 'download' },
    { tag: 'wash', direction: 'upload' },
  ],
  addresses: ['192.0.2.10'],
};

/** As it crosses the wire: encoded, then decoded by the receiver. */
function overTheWire(value: packet.Packet): packet.Packet {
  return packet.decode(packet.encode(value));
}

describe('service records', () => {
  it('an announcement read back describes the gateway: uuid, name, url, tables and interests', () => {
    const [found, ...others] = gatewaysFromPacket(overTheWire(announcement(advert)), { address: '192.0.2.10' });
    assert.equal(others.length, 0);
    assert.deepEqual(
      { ...found, instance: undefined },
      {
        uuid: advert.uuid,
        name: 'Port-au-Prince EOC',
        url: 'http://192.0.2.10:8080',
        instance: undefined,
        host: 'sluice-0d9c8b7a.local',
        port: 8080,
        basePath: '',
        api: '1',
        version: '0.1.0',
        tables: ['org_office', 'pr_person'],
        interests: advert.interests,
        addresses: ['192.0.2.10'],
        goodbye: false,
      },
    );
    assert.ok(found!.instance.endsWith(`.${SERVICE_TYPE}`));
  });

  it('a goodbye carries TTL 0 and is read as the gateway leaving', () => {
    const [found] = gatewaysFromPacket(overTheWire(announcement(advert, true)));
    assert.equal(found?.goodbye, true);
  });

  it('a browse query is answered with the PTR, and SRV, TXT and A ride along as additionals', () => {
    const query = overTheWire(browseQuery());
    const reply = answerQuery(advert, query);
    assert.ok(reply);
    assert.deepEqual(reply.answers?.map((answer) => answer.type), ['PTR']);
    assert.deepEqual(reply.additionals?.map((answer) => answer.type).sort(), ['A', 'SRV', 'TXT']);
    const [found] = gatewaysFromPacket(overTheWire(reply), { address: '192.0.2.10' });
    assert.equal(found?.uuid, advert.uuid);
  });

  it('service enumeration, SRV and TXT of the instance, and A of the host are answered; other names are not', () => {
    const enumeration = answerQuery(advert, { questions: [{ name: SERVICE_ENUMERATION, type: 'PTR' }] });
    assert.deepEqual(enumeration?.answers?.map((answer) => (answer as packet.StringAnswer).data), [SERVICE_TYPE]);
    const instance = `${instanceLabel(advert)}.${SERVICE_TYPE}`;
    const direct = answerQuery(advert, { questions: [{ name: instance.toUpperCase(), type: 'SRV' }, { name: instance, type: 'TXT' }] });
    assert.deepEqual(direct?.answers?.map((answer) => answer.type), ['SRV', 'TXT']);
    assert.deepEqual(answerQuery(advert, { questions: [{ name: 'sluice-0d9c8b7a.local', type: 'A' }] })?.answers?.map((a) => (a as packet.StringAnswer).data), ['192.0.2.10']);
    assert.equal(answerQuery(advert, { questions: [{ name: '_http._tcp.local', type: 'PTR' }, { name: 'printer.local', type: 'A' }] }), undefined);
  });

  it('a long table list is split over several TXT strings of at most 255 bytes and read back whole', () => {
    const tables = Array.from({ length: 60 }, (_, index) => `org_table_number_${index}`);
    const strings = encodeTxt({ ...advert, tables });
    assert.ok(strings.every((string) => Buffer.byteLength(string) <= 255));
    assert.ok(strings.some((string) => string.startsWith('tables2=')));
    const [found] = gatewaysFromPacket(overTheWire(announcement({ ...advert, tables })), { address: '192.0.2.10' });
    assert.deepEqual(found?.tables, tables);
  });

  it('TXT keys compare case-insensitively and the first occurrence wins', () => {
    const entries = decodeTxt([Buffer.from('UUID=first'), 'uuid=second', 'flag', 'path=/a=b']);
    assert.equal(entries.get('uuid'), 'first');
    assert.equal(entries.get('flag'), '');
    assert.equal(entries.get('path'), '/a=b');
  });

  it('the base path is part of the url, and the sender address is preferred among several A records', () => {
    const [found] = gatewaysFromPacket(overTheWire(announcement({ ...advert, basePath: '/sluice', addresses: ['10.0.0.5', '192.0.2.10'] })), { address: '192.0.2.10' });
    assert.equal(found?.url, 'http://192.0.2.10:8080/sluice');
    const [elsewhere] = gatewaysFromPacket(overTheWire(announcement({ ...advert, addresses: ['10.0.0.5'] })), { address: '192.0.2.99' });
    assert.equal(elsewhere?.url, 'http://10.0.0.5:8080');
    const [noAddress] = gatewaysFromPacket(overTheWire(announcement({ ...advert, addresses: [] })), { address: '192.0.2.99' });
    assert.equal(noAddress?.url, 'http://192.0.2.99:8080');
  });

  it('names with dots or too many bytes still make one valid DNS label that keeps the gateways apart', () => {
    const long = { uuid: 'urn:uuid:aaaaaaaa-0000-0000-0000-000000000001', name: `Dr. Who's gateway ${'é'.repeat(80)}` };
    const label = instanceLabel(long);
    assert.ok(Buffer.byteLength(label) <= 63);
    assert.ok(!label.includes('.'));
    assert.notEqual(label, instanceLabel({ ...long, uuid: 'urn:uuid:aaaaaaaa-0000-0000-0000-000000000002' }));
    const [found] = gatewaysFromPacket(overTheWire(announcement({ ...advert, ...long })), { address: '192.0.2.10' });
    assert.equal(found?.name, long.name);
  });

  it('incomplete or hostile descriptions are left out: no uuid, no SRV, bad tags and tables are dropped', () => {
    const instance = `x.${SERVICE_TYPE}`;
    const withoutUuid: packet.Packet = {
      type: 'response',
      answers: [
        { name: SERVICE_TYPE, type: 'PTR', data: instance },
        { name: instance, type: 'SRV', data: { target: 'h.local', port: 80 } },
        { name: instance, type: 'TXT', data: ['name=x'] },
      ],
    };
    assert.deepEqual(gatewaysFromPacket(overTheWire(withoutUuid), { address: '192.0.2.3' }), []);
    const withoutSrv: packet.Packet = { type: 'response', answers: [{ name: SERVICE_TYPE, type: 'PTR', data: instance }, { name: instance, type: 'TXT', data: ['uuid=u'] }] };
    assert.deepEqual(gatewaysFromPacket(overTheWire(withoutSrv), { address: '192.0.2.3' }), []);
    const odd: packet.Packet = {
      type: 'response',
      answers: [
        { name: instance, type: 'SRV', data: { target: 'h.local', port: 80 } },
        { name: instance, type: 'TXT', data: ['uuid=u', 'tables=org_office,DROP TABLE,x', 'down=Haiti,<script>,ok-tag'] },
      ],
    };
    const [found] = gatewaysFromPacket(overTheWire(odd), { address: '192.0.2.3' });
    assert.deepEqual(found?.tables, ['org_office']);
    assert.deepEqual(found?.interests, [
      { tag: 'haiti', direction: 'download' },
      { tag: 'ok-tag', direction: 'download' },
    ]);
  });
});
