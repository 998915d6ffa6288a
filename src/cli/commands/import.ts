import { createReadStream, statSync } from 'node:fs';
import type { Command } from 'commander';
import { SluiceError } from '../../errors.js';
import { importResources, importS3XMLBytes, type ImportResult } from '../../importer/importer.js';
import { fromS3JSON } from '../../s3xml/s3json.js';
import { systemClock } from '../../s3xml/timestamps.js';
import { readFile } from 'node:fs/promises';
import { withStore } from '../context.js';
import { EXIT } from '../exit-codes.js';
import { createProgress } from '../progress.js';

interface ImportCommandOptions {
  format?: string;
  resource?: string;
  data?: string;
  store?: string;
  json?: boolean;
}

function summary(result: ImportResult): string {
  return [
    `${result.created.length} created`,
    `${result.updated.length} updated`,
    `${result.deleted.length} deleted`,
    `${result.merged.length} merged`,
    `${result.skipped.length} skipped`,
    `${result.conflicts.length} conflicts`,
    `${result.errors.length} errors`,
  ].join(', ');
}

export function registerImportCommand(program: Command): void {
  program
    .command('import')
    .description('import an S3XML or S3JSON file into the store (all or nothing when the file is malformed)')
    .argument('<file>', 'the file to import')
    .option('--format <format>', 's3xml or s3json (default: from the file name)')
    .option('--resource <table>', 'only import top-level resources of this table (others when referenced)')
    .option('--data <dir>', 'data directory')
    .option('--store <locator>', 'sqlite (default) or a mongodb:// URL')
    .option('--json', 'print the full result as JSON')
    .action(async (file: string, options: ImportCommandOptions) => {
      const format = options.format ?? (file.toLowerCase().endsWith('.s3json') || file.toLowerCase().endsWith('.json') ? 's3json' : 's3xml');
      if (format !== 's3xml' && format !== 's3json') {
        throw new SluiceError('BAD_FORMAT', `unknown format "${format}"`, { fix: 'Use --format s3xml or --format s3json' });
      }
      const size = statSync(file).size;
      const progress = createProgress();
      const result = await withStore(options, async (store, config) => {
        const common = { clock: systemClock, resource: options.resource, localDomain: config.domain };
        if (format === 's3json') {
          const doc = fromS3JSON(JSON.parse(await readFile(file, 'utf8')));
          return importResources(store, doc.resources, common);
        }
        let pass = 0;
        const open = () => {
          pass += 1;
          progress.start(size, pass === 1 ? 'checking' : 'importing');
          let read = 0;
          const stream = createReadStream(file, { highWaterMark: 256 * 1024 });
          stream.on('data', (chunk) => {
            read += chunk.length;
            progress.update(read);
          });
          return stream as AsyncIterable<Uint8Array>;
        };
        try {
          return await importS3XMLBytes(store, open, common);
        } finally {
          progress.stop();
        }
      });
      if (options.json) process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
      else process.stdout.write(`${file}: ${result.records} records; ${summary(result)}\n`);
      for (const error of result.errors.slice(0, 20)) {
        process.stderr.write(`  ${error.code}: ${error.resource ?? ''} ${error.uuid ?? ''} ${error.message}\n`);
      }
      if (result.errors.length || result.conflicts.length || result.skipped.length) process.exitCode = EXIT.PARTIAL;
    });
}
