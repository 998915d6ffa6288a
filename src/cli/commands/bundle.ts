/**
 * `sluice bundle …`: offline synchronisation by file (USB stick, email attachment).
 *   identity [--out FILE]                     this gateway's identity card (uuid, name, public key)
 *   partner add CARD [--name N] [--fingerprint F]  trust a partner's card (no network needed)
 *   export --repo R | --resource T… [--msince S] [--filter F…] [--to R] | --all   --out FILE
 *   import FILE [--ack-out FILE]              verify, apply, and optionally write the acknowledgement
 *   folder add NAME DIR [--pattern G] [--send-to P] [--no-acknowledge] [--settle S] | folder list
 */
import { readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Command } from 'commander';
import { keyFingerprint } from '../../bundles/container.js';
import { exportBackup } from '../../bundles/backup.js';
import { exportChangesBundle, exportSelectionBundle, type BundleContext } from '../../bundles/export-bundle.js';
import { importBundle, type BundleImportReport } from '../../bundles/import-bundle.js';
import { addPartner, identityCard, parseIdentityCard } from '../../bundles/partners.js';
import { ensureSigningKey } from '../../bundles/signing-key.js';
import { SluiceError } from '../../errors.js';
import { addDropFolder, DEFAULT_SETTLE_SECONDS, dropFolderSettings, isDropFolder } from '../../transports/drop-folder-settings.js';
import { DEFAULT_FILE_PATTERN } from '../../transports/file-pattern.js';
import { ensureIdentity } from '../../gateway-identity.js';
import { systemClock } from '../../s3xml/timestamps.js';
import type { SluiceConfig } from '../../config.js';
import type { Store } from '../../store/store.js';
import { withStore, type DataOptions } from '../context.js';
import { EXIT } from '../exit-codes.js';

function addDataOptions(command: Command): Command {
  return command.option('--data <dir>', 'data directory').option('--store <locator>', 'sqlite (default) or a mongodb:// URL');
}

function dataOptions(options: DataOptions): DataOptions {
  return { ...(options.data ? { data: options.data } : {}), ...(options.store ? { store: options.store } : {}) };
}

/** The bundle context of the data directory's gateway (identity and signing key created at first use). */
export async function bundleContext(store: Store, config: SluiceConfig): Promise<BundleContext> {
  const uuid = await store.getSetting('gateway.uuid');
  const identity = uuid ? { uuid, name: (await store.getSetting('gateway.name')) ?? config.name } : await ensureIdentity(store, config.name);
  const signer = await ensureSigningKey(config.dataDir, store);
  return { store, clock: systemClock, identity, signer, localDomain: config.domain };
}

/** Writes next to the target and renames: a pulled USB stick never holds half a bundle under the real name. */
export async function writeFileWhole(file: string, bytes: Buffer): Promise<void> {
  const partial = `${file}.partial`;
  await writeFile(partial, bytes);
  await rename(partial, file);
}

function collectList(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

export function formatImportReport(report: BundleImportReport): string {
  const lines = [`Bundle ${report.bundle} (${report.kind}) from ${report.source.name ?? report.source.uuid}: signature and checksums verified`];
  for (const part of report.parts) {
    lines.push(
      `  ${part.resource}: ${part.status}${part.status === 'applied' ? `; ${part.records} records, ${part.created} created, ${part.updated} updated, ${part.deleted} deleted, ${part.unchanged} unchanged, ${part.conflicts} conflicts, ${part.errors} errors` : ''}`,
    );
    for (const problem of part.problems) lines.push(`    ${problem}`);
  }
  if (report.kind === 'ack') lines.push(`  ${report.checkpointsAdvanced} push checkpoint(s) moved forward`);
  return `${lines.join('\n')}\n`;
}

interface ExportOptions extends DataOptions {
  repo?: string;
  resource?: string[];
  msince?: string;
  filter?: string[];
  to?: string;
  all?: boolean;
  out: string;
}

export function registerBundleCommand(program: Command): void {
  const bundle = program.command('bundle').description('offline sync by file: signed bundles for a USB stick or an email');

  addDataOptions(bundle.command('identity').description('print this gateway\'s identity card (give it to offline partners)').option('--out <file>', 'write the card to a file')).action(
    async (options: DataOptions & { out?: string }) => {
      await withStore(dataOptions(options), async (store, config) => {
        const ctx = await bundleContext(store, config);
        const card = identityCard(ctx.identity, ctx.signer.publicKey);
        const text = `${JSON.stringify(card, null, 2)}\n`;
        if (options.out) await writeFileWhole(options.out, Buffer.from(text));
        else process.stdout.write(text);
        process.stderr.write(`${ctx.identity.name} (${ctx.identity.uuid}) key fingerprint ${card.fingerprint}\n`);
      });
    },
  );

  const partner = bundle.command('partner').description('partners known by identity card');
  addDataOptions(
    partner
      .command('add')
      .description('trust a partner\'s identity card (compare the fingerprint with the partner first)')
      .argument('<card>', 'the card file written by sluice bundle identity on the partner')
      .option('--name <name>', 'repository name (default: the partner\'s own name)')
      .option('--fingerprint <fingerprint>', 'the fingerprint the partner read out; refused if the card differs'),
  ).action(async (cardFile: string, options: DataOptions & { name?: string; fingerprint?: string }) => {
    const card = parseIdentityCard(await readFile(cardFile, 'utf8'));
    await withStore(dataOptions(options), async (store, config) => {
      const ctx = await bundleContext(store, config);
      const record = await addPartner(store, systemClock, card, {
        ownUuid: ctx.identity.uuid,
        ...(options.name ? { name: options.name } : {}),
        ...(options.fingerprint ? { expectFingerprint: options.fingerprint } : {}),
      });
      process.stdout.write(`Partner ${record.name} (${record.uuid}) trusted with key ${keyFingerprint(card.public_key)}\n`);
    });
  });

  const folder = bundle.command('folder').description('drop folders: a directory (USB stick, share) bundles and S3XML files are carried through');
  addDataOptions(
    folder
      .command('add')
      .description('register a drop folder; run it with sluice sync NAME or on a schedule (sluice repo schedule NAME)')
      .argument('<name>', 'repository name of the folder')
      .argument('<dir>', 'the folder (a stick\'s mount point, a shared directory)')
      .option('--pattern <globs>', `files to import, comma-separated * and ? patterns (default ${DEFAULT_FILE_PATTERN})`)
      .option('--send-to <partner>', 'write the bundle for this partner into the folder on every run')
      .option('--no-acknowledge', 'do not write acknowledgements of imported bundles into the folder')
      .option('--settle <seconds>', `wait until a file is this many seconds old (still being copied?) (default ${DEFAULT_SETTLE_SECONDS})`),
  ).action(async (name: string, dir: string, options: DataOptions & { pattern?: string; sendTo?: string; acknowledge: boolean; settle?: string }) => {
    await withStore(dataOptions(options), async (store) => {
      const settle = options.settle === undefined ? undefined : Number(options.settle);
      const record = await addDropFolder(store, systemClock, {
        name,
        path: path.resolve(dir),
        ...(options.pattern ? { pattern: options.pattern } : {}),
        ...(options.sendTo ? { send_to: options.sendTo } : {}),
        ...(options.acknowledge === false ? { acknowledge: false } : {}),
        ...(settle === undefined ? {} : { settle_seconds: settle }),
      });
      const settings = dropFolderSettings(record);
      process.stdout.write(`Drop folder ${record.name} (${record.uuid}) at ${settings.path}, files ${settings.pattern}${settings.send_to ? `, bundles for ${options.sendTo}` : ''}\n`);
      process.stdout.write(`Run it with: sluice sync ${record.name}; on a schedule: sluice repo schedule ${record.name} --every 600\n`);
    });
  });
  addDataOptions(folder.command('list').description('list drop folders')).action(async (options: DataOptions) => {
    await withStore(dataOptions(options), async (store) => {
      for (const record of (await store.listRepositories()).filter(isDropFolder)) {
        const settings = dropFolderSettings(record);
        const partner = settings.send_to ? await store.getRepository(settings.send_to) : undefined;
        process.stdout.write(`${record.name}\t${settings.path}\t${settings.pattern}\t${partner ? `to ${partner.name}` : 'import only'}\n`);
      }
    });
  });

  addDataOptions(
    bundle
      .command('export')
      .description('write a signed bundle: for a repository (what the next push would send), a selection, or everything')
      .requiredOption('--out <file>', 'the bundle file to write')
      .option('--repo <repository>', 'what the next push to this repository would send, since its checkpoint')
      .option('--resource <table>', 'a resource to export (repeat for more)', collectList)
      .option('--msince <timestamp>', 'with --resource: records modified at or after YYYY-MM-DDTHH:MM:SS')
      .option('--filter <filter>', 'with --resource: a URL filter like ~.name__like=Red* (repeat for more)', collectList)
      .option('--to <repository>', 'with --resource: the partner it is for')
      .option('--all', 'the whole store (a backup; same as sluice backup)'),
  ).action(async (options: ExportOptions) => {
    const chosen = [options.repo !== undefined, (options.resource?.length ?? 0) > 0, options.all === true].filter(Boolean).length;
    if (chosen !== 1) {
      throw new SluiceError('BAD_ARGUMENTS', 'Give exactly one of --repo, --resource or --all', { status: 400, fix: 'e.g. sluice bundle export --repo partner --out partner.bundle' });
    }
    await withStore(dataOptions(options), async (store, config) => {
      const ctx = await bundleContext(store, config);
      const written = options.repo
        ? await exportChangesBundle(ctx, options.repo)
        : options.all
          ? await exportBackup(ctx)
          : await exportSelectionBundle(ctx, {
              resources: options.resource!,
              ...(options.msince ? { since: options.msince } : {}),
              ...(options.filter?.length ? { filters: options.filter } : {}),
              ...(options.to ? { target: options.to } : {}),
            });
      await writeFileWhole(options.out, written.file);
      const { manifest } = written;
      process.stdout.write(
        `Wrote ${options.out}: ${manifest.kind} bundle ${manifest.id}${manifest.target ? ` for ${manifest.target.name ?? manifest.target.uuid}` : ''}, ${manifest.counts.records} records in ${manifest.counts.parts} parts, ${written.file.length} bytes\n`,
      );
    });
  });

  addDataOptions(
    bundle
      .command('import')
      .description('verify a bundle (signature, checksums) and apply it with the repository\'s policies; damaged files are refused whole')
      .argument('<file>', 'the bundle file')
      .option('--ack-out <file>', 'write the acknowledgement bundle to carry back to the sender')
      .option('--json', 'print the report as JSON'),
  ).action(async (file: string, options: DataOptions & { ackOut?: string; json?: boolean }) => {
    const bytes = await readFile(file);
    await withStore(dataOptions(options), async (store, config) => {
      const ctx = await bundleContext(store, config);
      const report = await importBundle(ctx, bytes, { acknowledge: options.ackOut !== undefined });
      if (options.ackOut && report.ack) await writeFileWhole(options.ackOut, report.ack);
      const { ack: _ack, ...printable } = report;
      process.stdout.write(options.json ? `${JSON.stringify(printable, null, 2)}\n` : formatImportReport(report));
      if (options.ackOut && report.ack) process.stdout.write(`Acknowledgement written to ${options.ackOut}: carry it back and import it at ${report.source.name ?? report.source.uuid}\n`);
      const failed = report.parts.some((part) => part.status === 'failed');
      const partial = report.parts.some((part) => part.conflicts > 0 || part.errors > 0);
      process.exitCode = failed ? EXIT.DATA : partial ? EXIT.PARTIAL : EXIT.OK;
    });
  });
}
