import { createWriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { once } from 'node:events';
import type { Command } from 'commander';
import { SluiceError } from '../../errors.js';
import { exportResources } from '../../exporter/exporter.js';
import { parseFilterList } from '../../exporter/url-filters.js';
import { toS3JSON } from '../../s3xml/s3json.js';
import type { S3Resource } from '../../s3xml/model.js';
import { serializeS3XMLStream } from '../../s3xml/serialize.js';
import { parseMsince } from '../../s3xml/timestamps.js';
import { publicAddress, withStore } from '../context.js';
import type { Store } from '../../store/store.js';
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

/** Edit distance, for "did you mean" on a table name (names are short: the quadratic cost is nothing). */
function distance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    previous = current;
  }
  return previous[b.length]!;
}

/**
 * An empty export is right for a table with no changes since --msince, and a typo otherwise:
 * warn (stderr; the document still goes out) when the store holds no record of the table at all.
 */
async function warnIfUnknownTable(store: Pick<Store, 'resources'>, resource: string): Promise<void> {
  const tables = await store.resources();
  if (tables.some((table) => table.resource === resource)) return;
  const close = tables.map((table) => table.resource).filter((name) => distance(name, resource) <= 2).sort((a, b) => distance(a, resource) - distance(b, resource));
  const hint = close.length > 0 ? ` Did you mean ${close.slice(0, 3).join(', ')}?` : tables.length > 0 ? ` Tables here: ${tables.map((table) => table.resource).sort().slice(0, 12).join(', ')}${tables.length > 12 ? ', …' : ''}.` : ' The store is empty.';
  process.stderr.write(`warning: the store holds no ${resource} records at all.${hint}\n`);
}

export function registerExportCommand(program: Command): void {
  program
    .command('export')
    .description('export one resource (e.g. org_organisation) as S3XML or S3JSON')
    .argument('<resource>', 'table name, e.g. org_organisation')
    .option('--msince <timestamp>', 'only records modified since YYYY-MM-DDTHH:MM:SS (UTC)')
    .option('--format <format>', 's3xml or s3json', 's3xml')
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
        filters: parseFilterList(options.filter ?? [], resource),
        components: options.components ?? true,
      };
      await withStore(options, async (store, config) => {
        const { domain, baseUrl } = await publicAddress(store, config);
        const total = await store.countRecords(exportOptions);
        if (total === 0) await warnIfUnknownTable(store, resource);
        const progress = createProgress();
        if (options.output) progress.start(total, 'exporting');
        let done = 0;
        async function* counted(): AsyncGenerator<S3Resource> {
          for await (const r of exportResources(store, { ...exportOptions, domain })) {
            if (r.name === resource) progress.update(++done);
            yield r;
          }
        }
        const root = { success: total > 0 ? 'true' : 'false', results: String(total), domain, url: baseUrl };
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
