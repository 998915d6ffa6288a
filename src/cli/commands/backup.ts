/**
 * `sluice backup FILE` and `sluice restore FILE`: the whole store as one signed bundle
 * (src/bundles/backup.ts). Restore goes into an empty store only.
 */
import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { exportBackup, restoreBackup } from '../../bundles/backup.js';
import { systemClock } from '../../s3xml/timestamps.js';
import { withStore, type DataOptions } from '../context.js';
import { bundleContext, writeFileWhole } from './bundle.js';

export function registerBackupCommands(program: Command): void {
  program
    .command('backup')
    .description('write the whole store (records and gateway state) to one signed bundle file')
    .argument('<file>', 'the backup file to write')
    .option('--data <dir>', 'data directory')
    .option('--store <locator>', 'sqlite (default) or a mongodb:// URL')
    .action(async (file: string, options: DataOptions) => {
      await withStore(options, async (store, config) => {
        const written = await exportBackup(await bundleContext(store, config));
        await writeFileWhole(file, written.file);
        process.stdout.write(`Wrote ${file}: ${written.manifest.counts.records} records of ${written.manifest.resources.length} resources, ${written.file.length} bytes\n`);
        process.stdout.write('Keep secret.key and bundle-signing.key of the data directory safe too: stored peer passwords need the first.\n');
      });
    });
  program
    .command('restore')
    .description('restore a backup into an empty store (verifies its checksums and signature first)')
    .argument('<file>', 'the backup file')
    .option('--data <dir>', 'data directory')
    .option('--store <locator>', 'sqlite (default) or a mongodb:// URL')
    .action(async (file: string, options: DataOptions) => {
      const bytes = await readFile(file);
      await withStore(options, async (store) => {
        const report = await restoreBackup({ store, clock: systemClock }, bytes);
        process.stdout.write(
          `Restored the backup of ${report.source.name ?? report.source.uuid} (key ${report.fingerprint}): ${report.records} records, ${report.repositories} repositories, ${report.tasks} tasks, ${report.conflicts} open conflicts\n`,
        );
        process.stdout.write('Push checkpoints start over: the next push sends everything once more (peers find it unchanged).\n');
      });
    });
}
