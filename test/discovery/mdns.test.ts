/**
 * Two gateways on this machine discover each other over real mDNS (UDP 5353, group 224.0.0.251),
 * and `sluice discover`, a separate process, lists both uuids.
 *
 * What carries the packets here: the kernel's IP_MULTICAST_LOOP copy on the primary interface
 * (eth0 on the test machine). multicast-dns joins the group on every interface and sends with
 * multicast loopback on, so every socket on this host bound to 5353 gets a copy of what the others
 * send. The alternatives were checked and are not needed: `lo` has no MULTICAST flag (setting it
 * needs root), and a network namespace with a veth pair needs root as well. When the machine has
 * no multicast-capable interface this test fails — it is never skipped.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import dgram from 'node:dgram';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import packet from 'dns-packet';
import { repoRoot } from '../../src/config.js';
import { SERVICE_TYPE } from '../../src/discovery/service-records.js';
import { startDiscoveryGateway, waitFor, type DiscoveryGateway } from '../pools/support/gateways.js';

const exec = promisify(execFile);
const BIN = path.join(repoRoot, 'src', 'cli', 'bin.ts');

describe('LAN discovery over mDNS', () => {
  let a: DiscoveryGateway;
  let b: DiscoveryGateway;

  before(async () => {
    a = await startDiscoveryGateway({ name: 'Gateway A', discovery: true });
    b = await startDiscoveryGateway({ name: 'Gateway B', discovery: true });
  });

  after(async () => {
    await b?.stop();
    await a?.stop();
  });

  it('each gateway hears the other, with its uuid and a url that reaches it', async () => {
    const heardByA = await waitFor(async () => (await a.beacon.discovered()).find((gateway) => gateway.uuid === b.identity.uuid), 'A to hear B over mDNS');
    const heardByB = await waitFor(async () => (await b.beacon.discovered()).find((gateway) => gateway.uuid === a.identity.uuid), 'B to hear A over mDNS');
    assert.equal(heardByA.name, 'Gateway B');
    assert.equal(heardByA.url, b.url);
    assert.equal(heardByB.url, a.url);
    const config = (await (await fetch(`${heardByA.url}/sync/config.json`)).json()) as { uuid: string };
    assert.equal(config.uuid, b.identity.uuid);
  });

  it('a registered interest is announced again at once, reaches the other gateway and /sync/config.json', async () => {
    await b.beacon.register('haiti', 'upload');
    const heard = await waitFor(async () => {
      const gateway = (await a.beacon.discovered()).find((found) => found.uuid === b.identity.uuid);
      return gateway?.interests.some((interest) => interest.tag === 'haiti') ? gateway : undefined;
    }, 'A to hear B announce its interest in haiti');
    assert.deepEqual(heard.interests, [{ tag: 'haiti', direction: 'upload' }]);
    const config = (await (await fetch(`${b.url}/sync/config.json`)).json()) as { interests: unknown };
    assert.deepEqual(config.interests, [{ tag: 'haiti', direction: 'upload' }]);
  });

  it('a gateway heard on the LAN with a pool tag becomes a candidate and is accepted by its discovered uuid', async () => {
    await a.pools.create({ name: 'haiti-response', tags: ['haiti'], template: { resources: ['org_office'], mode: 'pull' } });
    const candidates = await waitFor(async () => {
      const found = await a.pools.candidates('haiti-response');
      return found.length > 0 ? found : undefined;
    }, 'B to be a candidate of the pool');
    assert.deepEqual(candidates.map((candidate) => candidate.uuid), [b.identity.uuid]);
    const repository = await a.pools.accept('haiti-response', b.identity.uuid);
    assert.equal(repository.uuid, b.identity.uuid);
    assert.deepEqual((await a.sync.tasks.list(b.identity.uuid)).map((task) => [task.resource, task.mode]), [['org_office', 'pull']]);
  });

  it('garbage and hostile packets on the LAN are ignored and the gateways keep answering', async () => {
    const socket = dgram.createSocket({ type: 'udp4', reuseAddr: true });
    await new Promise<void>((resolve) => socket.bind(0, resolve));
    const instance = `evil._${SERVICE_TYPE}`;
    const hostile = packet.encode({
      type: 'response',
      answers: [
        { name: SERVICE_TYPE, type: 'PTR', data: instance },
        { name: instance, type: 'SRV', data: { target: 'evil.local', port: 0 } },
        { name: instance, type: 'TXT', data: ['uuid=' + 'x'.repeat(250)] },
      ],
    });
    for (const message of [Buffer.from('not a dns packet at all'), Buffer.alloc(3), hostile]) {
      await new Promise<void>((resolve) => socket.send(message, 5353, '224.0.0.251', () => resolve()));
    }
    socket.close();
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.ok(!(await a.beacon.discovered()).some((gateway) => gateway.uuid === 'x'.repeat(250)), 'a port-0 service is not recorded');
    const config = (await (await fetch(`${a.url}/sync/config.json`)).json()) as { uuid: string };
    assert.equal(config.uuid, a.identity.uuid, 'the gateway still serves');
  });

  it('sluice discover, run as its own process, lists both gateways with their uuids', async () => {
    const { stdout } = await exec(process.execPath, ['--import', 'tsx', BIN, 'discover', '--timeout', '2500ms'], { cwd: repoRoot, timeout: 60_000 });
    assert.match(stdout, new RegExp(`Gateway A\\t${escape(a.identity.uuid)}\\t${escape(a.url)}`));
    assert.match(stdout, new RegExp(`Gateway B\\t${escape(b.identity.uuid)}\\t${escape(b.url)}.*tags: haiti\\(upload\\)`));
  });
});

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
