import type { Command } from 'commander';
import { createLogger } from '../../logger.js';
import { startGateway } from '../../start.js';
import { configFrom } from '../context.js';

export function registerStartCommand(program: Command): void {
  program
    .command('start')
    .description('start the gateway (HTTP endpoints and the job scheduler)')
    .option('--host <host>', 'address to listen on', undefined)
    .option('--port <port>', 'port to listen on (0 picks a free one)')
    .option('--data <dir>', 'data directory (store, keys, caches)')
    .option('--store <locator>', 'sqlite (default) or a mongodb:// URL')
    .option('--demo', 'load demo data into an empty store and allow anonymous reads')
    .option('--name <name>', 'public name of this gateway')
    .option('--no-worker', 'do not run scheduled jobs in this process')
    .option('--no-discovery', 'do not announce this gateway on the LAN (mDNS) nor listen for others')
    .action(async (options: { host?: string; port?: string; data?: string; store?: string; demo?: boolean; name?: string; worker?: boolean; discovery?: boolean }, command: Command) => {
      // Discovery is on for `sluice start` unless --no-discovery or SLUICE_DISCOVERY=false: only a
      // flag given on the command line outranks the environment.
      const fromCommandLine = command.getOptionValueSource('discovery') === 'cli';
      const { discovery, ...rest } = options;
      const config = configFrom({ ...rest, ...(fromCommandLine ? { discovery } : {}), discoveryByDefault: true });
      const logger = createLogger({ level: config.logLevel, destination: process.stdout });
      const gateway = await startGateway(config, { logger });
      await new Promise<void>((resolve) => {
        const stop = (signal: string) => {
          logger.info({ signal }, 'stopping');
          gateway.close().then(resolve, resolve);
        };
        process.once('SIGINT', () => stop('SIGINT'));
        process.once('SIGTERM', () => stop('SIGTERM'));
      });
    });
}
