import { closeSync, createReadStream, openSync, readSync, statSync } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { SluiceError, isSluiceError } from '../../errors.js';
import { importResources, importS3XMLBytes, type ImportResult } from '../../importer/importer.js';
import { fromS3JSON } from '../../s3xml/s3json.js';
import { systemClock } from '../../s3xml/timestamps.js';
import { readFile } from 'node:fs/promises';
import { publicAddress, withStore } from '../context.js';
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

/** At most this many lines per kind of problem; the rest is counted (--json has them all). */
const LISTED = 20;

function listed<T>(title: string, items: T[], line: (item: T) => string): string[] {
  if (items.length === 0) return [];
  const lines = [`${title}:`, ...items.slice(0, LISTED).map((item) => `  ${line(item)}`)];
  if (items.length > LISTED) lines.push(`  … and ${items.length - LISTED} more (--json lists them all)`);
  return lines;
}

/** What was skipped, conflicted or failed, record by record (resource, uuid, why) for stderr. */
export function problemLines(result: ImportResult): string {
  const lines = [
    ...listed('skipped', result.skipped, (item) => `${item.resource} ${item.uuid ?? '(no uuid)'}: ${item.code}: ${item.reason}`),
    ...listed('conflicts (waiting in the conflict queue)', result.conflicts, (item) => `${item.resource} ${item.uuid}: conflict ${item.conflictId}`),
    ...listed('errors', result.errors, (item) => `${item.resource ?? '?'} ${item.uuid ?? '(no uuid)'}: ${item.code}: ${item.message}`),
  ];
  return lines.length === 0 ? '' : `${lines.join('\n')}\n`;
}

/** Formats the gateway imports over HTTP (src/formats) but this command does not read. */
const HTTP_ONLY_FORMATS: Record<string, string> = { '.csv': 'text/csv', '.xlsx': 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet', '.geojson': 'application/geo+json', '.osm': 'application/xml', '.cap': 'application/xml', '.have': 'application/xml' };

const OTHER_FORMATS_FIX = (file: string, extension: string, mediaType: string) =>
  `Send other formats to a running gateway's formats route, where the URL names the table: curl -u admin:PASSWORD -X PUT -H 'content-type: ${mediaType}' --data-binary @${file} http://127.0.0.1:8080/<prefix>/<name>${extension} (e.g. /org/office${extension}; README "Formats" lists them)`;

/**
 * A CSV (or XLSX, GeoJSON…) file would otherwise fail as malformed XML ("text data outside of root
 * node"), which says nothing about what to do instead. An explicit --format is taken at its word.
 */
function refuseOtherFormats(file: string, formatGiven: boolean): void {
  const extension = path.extname(file).toLowerCase();
  const mediaType = HTTP_ONLY_FORMATS[extension];
  if (formatGiven || mediaType === undefined) return;
  throw new SluiceError('FORMAT_NOT_S3XML', `${file} is a ${extension.slice(1).toUpperCase()} file; sluice import reads S3XML (.xml) and S3JSON (.json, .s3json) only`, {
    status: 415,
    fix: OTHER_FORMATS_FIX(file, extension, mediaType),
  });
}

/** Malformed XML from a file that does not even start like XML: say what this command reads. */
function explainNotXml(error: unknown, file: string): unknown {
  if (!isSluiceError(error) || error.code !== 'XML_MALFORMED' || startsLikeXml(file)) return error;
  return new SluiceError(error.code, `${error.message} (${file} does not look like XML; sluice import reads S3XML and S3JSON only)`, {
    status: error.status,
    severity: error.severity,
    cause: error,
    details: error.details,
    fix: `If it is a CSV file: ${OTHER_FORMATS_FIX(file, '.csv', 'text/csv')}`,
  });
}

function startsLikeXml(file: string): boolean {
  const head = Buffer.alloc(512);
  const descriptor = openSync(file, 'r');
  try {
    const read = readSync(descriptor, head, 0, head.length, 0);
    const text = head.subarray(0, read).toString('utf8').replace(/^\uFEFF/, '').trimStart();
    return text === '' || text.startsWith('<');
  } finally {
    closeSync(descriptor);
  }
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
      refuseOtherFormats(file, options.format !== undefined);
      const progress = createProgress();
      const result = await withStore(options, async (store, config) => {
        const common = { clock: systemClock, resource: options.resource, localDomain: (await publicAddress(store, config)).domain };
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
        } catch (error) {
          throw explainNotXml(error, file);
        } finally {
          progress.stop();
        }
      });
      if (options.json) process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
      else process.stdout.write(`${file}: ${result.records} records; ${summary(result)}\n`);
      process.stderr.write(problemLines(result));
      if (result.errors.length || result.conflicts.length || result.skipped.length) process.exitCode = EXIT.PARTIAL;
    });
}
