/**
 * `sluice worker`: runs scheduled jobs only, no web server. Any number of workers and gateways may
 * share one store: each job runs under a lease, so it runs in one process at a time, and a lease
 * left by a crashed process expires (or is taken over at once if that process is known dead).
 */
import type { Command } from 'commander';
import { ensureIdentity } from '../../gateway-identity.js';
import { createLogger } from '../../logger.js';
import { systemClock } from '../../s3xml/timestamps.js';
import { openStore } from '../../start.js';
import { createSyncRuntime } from '../../sync/runtime.js';
import { configFrom } from '../context.js';

export function registerWorkerCommand(program: Command): void {
  program
    .command('worker')
    .description('run scheduled jobs (sync with repositories) without the web server')
    .option('--data <dir>', 'data directory')
    .option('--store <locator>', 'sqlite (default) or a mongodb:// URL')
    .option('--name <name>', 'public name of this gateway')
    .action(async (options: { data?: string; store?: string; name?: string }) => {
      const config = configFrom(options);
      const logger = createLogger({ level: config.logLevel, destination: process.stdout });
      const store = await openStore(config);
      const stored = await store.getSetting('gateway.uuid');
      const identity = stored ? { uuid: stored, name: (await store.getSetting('gateway.name')) ?? config.name } : await ensureIdentity(store, config.name);
      const runtime = createSyncRuntime({ store, config, logger, clock: systemClock, identity });
      const scheduler = runtime.sync.createScheduler();
      await scheduler.start();
      logger.info({ uuid: identity.uuid, holder: runtime.holder, jobs: scheduler.list().length }, 'worker started');
      await new Promise<void>((resolve) => {
        const stop = (signal: string) => {
          logger.info({ signal }, 'worker stopping after the runs in progress');
          resolve();
        };
        process.once('SIGINT', () => stop('SIGINT'));
        process.once('SIGTERM', () => stop('SIGTERM'));
      });
      await scheduler.stop();
      await runtime.close();
      await store.close();
    });
}
