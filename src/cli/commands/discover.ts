/**
 * `sluice discover [--timeout 3s] [--json]`: asks the LAN (mDNS, `_sluice._tcp.local`) for Sluice
 * gateways and lists those that answer: name, uuid, URL, accessible tables and interest tags. The
 * uuid shown is the one to confirm when registering (`sluice repo add NAME URL` fingerprints it).
 */
import type { Command } from 'commander';
import { discoverGateways } from '../../discovery/mdns.js';
import { SluiceError } from '../../errors.js';

/** `3s`, `1500ms`, `2` (seconds) → milliseconds. */
export function parseDuration(text: string): number {
  const match = /^(\d+(?:\.\d+)?)\s*(ms|s)?$/.exec(text.trim());
  const amount = match ? Number(match[1]) * (match[2] === 'ms' ? 1 : 1000) : Number.NaN;
  if (!Number.isFinite(amount) || amount < 100 || amount > 60_000) {
    throw new SluiceError('BAD_ARGUMENT', `"${text}" is not a timeout from 100ms to 60s`, { fix: 'e.g. --timeout 3s or --timeout 1500ms' });
  }
  return Math.round(amount);
}

export function registerDiscoverCommand(program: Command): void {
  program
    .command('discover')
    .description('list the Sluice gateways on the LAN (mDNS) with their uuids')
    .option('--timeout <duration>', 'how long to listen for answers', '3s')
    .option('--json', 'print JSON')
    .action(async (options: { timeout: string; json?: boolean }) => {
      const gateways = await discoverGateways({ timeoutMs: parseDuration(options.timeout) });
      if (options.json) {
        process.stdout.write(`${JSON.stringify(gateways.map(({ goodbye: _goodbye, ...gateway }) => gateway), null, 2)}\n`);
        return;
      }
      if (gateways.length === 0) {
        process.stderr.write('No Sluice gateway answered. Gateways announce themselves when started without --no-discovery, on a network that carries multicast.\n');
        return;
      }
      for (const gateway of gateways) {
        const tags = gateway.interests.map((interest) => `${interest.tag}(${interest.direction})`).join(',');
        process.stdout.write(`${gateway.name}\t${gateway.uuid}\t${gateway.url}\ttables: ${gateway.tables.join(',') || '-'}\ttags: ${tags || '-'}\n`);
      }
    });
}
