import { createWriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { once } from 'node:events';
import type { Command } from 'commander';
import { SluiceError } from '../../errors.js';
import { exportResources } from '../../exporter/exporter.js';
import { parseUrlFilters } from '../../exporter/url-filters.js';
import { toS3JSON } from '../../s3xml/s3json.js';
import type { S3Resource } from '../../s3xml/model.js';
import { serializeS3XMLStream } from '../../s3xml/serialize.js';
import { parseMsince } from '../../s3xml/timestamps.js';
import { withStore } from '../context.js';
import { createProgress } from '../progress.js';

interface ExportCommandOptions {
  msince?: string;
  format?: string;
  output?: string;
  includeDeleted?: boolean;
  filter?: string[];
  components?: boolean;
  data?: string;
  store?: string;
}

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

/** `~.status__belongs=a,b` → { '~.status__belongs': 'a,b' } */
function filterQuery(filters: string[]): Record<string, string> {
  const query: Record<string, string> = {};
  for (const f of filters) {
    const eq = f.indexOf('=');
    if (eq <= 0) throw new SluiceError('BAD_FILTER', `filter "${f}" is not key=value`, { fix: 'Write --filter "~.name__like=Pok*"' });
    query[f.slice(0, eq)] = f.slice(eq + 1);
  }
  return query;
}

export function registerExportCommand(program: Command): void {
  program
    .command('export')
    .description('export one resource (e.g. org_organisation) as S3XML or S3JSON')
    .argument('<resource>', 'table name, e.g. org_organisation')
    .option('--msince <timestamp>', 'only records modified since YYYY-MM-DDTHH:MM:SS (UTC)')
    .option('--format <format>', 's3xml (default) or s3json', 's3xml')
    .option('-o, --output <file>', 'write to this file instead of stdout')
    .option('--include-deleted', 'include deletion and merge stubs')
    .option('--filter <key=value>', 'URL filter such as ~.name__like=Pok* (repeatable)', collect)
    .option('--no-components', 'leave out components')
    .option('--data <dir>', 'data directory')
    .option('--store <locator>', 'sqlite (default) or a mongodb:// URL')
    .action(async (resource: string, options: ExportCommandOptions) => {
      if (!/^[a-z][a-z0-9]*_[a-z0-9_]+$/.test(resource)) {
        throw new SluiceError('BAD_RESOURCE', `"${resource}" is not a table name`, { fix: 'Give prefix_name, e.g. org_organisation' });
      }
      if (options.format !== 's3xml' && options.format !== 's3json') {
        throw new SluiceError('BAD_FORMAT', `unknown format "${options.format}"`, { fix: 'Use --format s3xml or s3json' });
      }
      const exportOptions = {
        resource,
        msince: options.msince ? parseMsince(options.msince) : undefined,
        includeDeleted: options.includeDeleted ?? false,
        filters: parseUrlFilters(filterQuery(options.filter ?? [])),
        components: options.components ?? true,
      };
      await withStore(options, async (store, config) => {
        const total = await store.countRecords({ ...exportOptions, topLevelOnly: true });
        const progress = createProgress();
        if (options.output) progress.start(total, 'exporting');
        let done = 0;
        async function* counted(): AsyncGenerator<S3Resource> {
          for await (const r of exportResources(store, { ...exportOptions, domain: config.domain })) {
            if (r.name === resource) progress.update(++done);
            yield r;
          }
        }
        const root = { success: total > 0 ? 'true' : 'false', results: String(total), domain: config.domain, url: config.baseUrl };
        const temp = options.output ? `${options.output}.partial` : undefined;
        const out = temp ? createWriteStream(temp) : process.stdout;
        try {
          if (options.format === 's3json') {
            const resources: S3Resource[] = [];
            for await (const r of counted()) resources.push(r);
            out.write(`${JSON.stringify(toS3JSON({ attributes: root, resources }))}\n`);
          } else {
            for await (const chunk of serializeS3XMLStream(root, counted())) {
              if (!out.write(chunk)) await once(out, 'drain');
            }
            out.write('\n');
          }
          if (temp) {
            await new Promise<void>((resolve, reject) => {
              out.once('error', reject);
              out.end(() => resolve());
            });
            await rename(temp, options.output!);
          }
        } catch (error) {
          if (temp) await rm(temp, { force: true });
          throw error;
        } finally {
          progress.stop();
        }
        if (options.output) process.stderr.write(`${options.output}: ${done} ${resource} records\n`);
      });
    });
}
