/**
 * One run of a drop folder: import what lies in the folder, then write what the partner should get.
 *
 * Incoming, oldest file first (an acknowledgement after the bundle it follows):
 * - a Sluice bundle goes through `importBundle` exactly as `sluice bundle import` would (the
 *   sender's key, its repository's tasks and policies, markers that make a second import a no-op);
 *   the acknowledgement of a `changes` bundle is written back into the folder for the sender;
 * - any other matching file is read as S3XML and imported as a pull from the folder itself, with the
 *   folder repository's task for each resource (no tasks at all: Eden's sync defaults, everything).
 * Imported files are moved to `imported/`, refused ones (damaged, unknown sender, not S3XML) to
 * `rejected/` with the reason in the log. Our own outgoing bundles and bundles addressed to another
 * gateway stay where they are: several gateways can share one folder. A file younger than
 * `settle_seconds` may still be being copied and waits; one whose import failed mid-way stays and is
 * tried again (bundle parts and S3XML pages already committed come back `unchanged`).
 *
 * Outgoing (when the folder has a `send_to` partner): the bundle the next push to that partner would
 * send (export-bundle.ts), under one fixed name, replaced while the partner has not picked it up and
 * left alone when nothing changed. The push checkpoint moves only when the partner's acknowledgement
 * comes back (through this folder or by hand).
 */
import { createHash } from 'node:crypto';
import { asSluiceError, isSluiceError, SluiceError } from '../errors.js';
import { importS3XMLBytes } from '../importer/importer.js';
import { readS3XML } from '../s3xml/parse.js';
import { addSeconds, formatTimestamp } from '../s3xml/timestamps.js';
import type { LogResult, RepositoryRecord, SyncTaskRecord } from '../store/store.js';
import { BUNDLE_MAGIC, peekManifest } from '../bundles/container.js';
import { exportChangesBundle, type BundleContext } from '../bundles/export-bundle.js';
import { importBundle, type BundleImportReport } from '../bundles/import-bundle.js';
import { checkpointId, readCheckpoint, type PullCheckpoint } from '../sync/checkpoints.js';
import { addImport, emptyReplication, type ReplicationResult } from '../sync/replication.js';
import { worse, type SyncLogWriter } from '../sync/sync-log.js';
import { pulls, settingsOf } from '../sync/task-settings.js';
import { dropFolderSettings, FOLDER_APITYPE, type DropFolderSettings } from './drop-folder-settings.js';
import { compileFilePattern } from './file-pattern.js';
import { PARTIAL_SUFFIX, type FolderAccess, type FolderEntry } from './folder-access.js';

export interface DropFolderContext {
  bundles: BundleContext;
  folder: FolderAccess;
  log: SyncLogWriter;
  signal?: AbortSignal;
}

export type FileOutcome = 'imported' | 'rejected' | 'left' | 'waiting' | 'failed';

export interface FolderFileReport {
  name: string;
  kind: 'bundle' | 's3xml';
  outcome: FileOutcome;
  message: string;
}

export interface DropFolderResult {
  files: FolderFileReport[];
  /** Counts per resource and direction, as a repository's run reports them. */
  results: ReplicationResult[];
  /** The outgoing bundle written in this run. */
  written?: { name: string; bundle: string; records: number };
  status: LogResult;
  failures: SluiceError[];
}

const MODE_IN = 'pull/outgoing';
const MODE_OUT = 'push/outgoing';

function slug(name: string): string {
  return name.replace(/[^\w.-]+/g, '_').replace(/^[._]+/, '').slice(0, 60) || 'gateway';
}

/** `YYYYMMDDTHHMMSS`: sortable, and legal on FAT sticks (no colons). */
function fileStamp(timestamp: string): string {
  return timestamp.replace(/[-:]/g, '');
}

export function outgoingBundleName(self: { name: string }, partner: { name: string }): string {
  return `${slug(self.name)}-to-${slug(partner.name)}.bundle`;
}

function outgoingMarkerId(folder: string): string {
  return `folder-out:${folder}`;
}

interface OutgoingMarker {
  signature?: string;
  file?: string;
  bundle?: string;
}

function startsWithMagic(bytes: Buffer): boolean {
  return bytes.length >= BUNDLE_MAGIC.length && bytes.subarray(0, BUNDLE_MAGIC.length).toString('latin1') === BUNDLE_MAGIC;
}

class RunTally {
  readonly files: FolderFileReport[] = [];
  readonly failures: SluiceError[] = [];
  status: LogResult = 'success';
  private readonly byKey = new Map<string, ReplicationResult>();

  result(direction: 'pull' | 'push', resource: string): ReplicationResult {
    const key = `${direction} ${resource}`;
    let result = this.byKey.get(key);
    if (!result) {
      result = emptyReplication(direction, resource, {});
      this.byKey.set(key, result);
    }
    return result;
  }

  results(): ReplicationResult[] {
    return [...this.byKey.values()];
  }
}

export async function runDropFolder(ctx: DropFolderContext, repository: RepositoryRecord): Promise<DropFolderResult> {
  if (repository.apitype !== FOLDER_APITYPE) throw new SluiceError('BAD_FOLDER', `${repository.name} is not a drop folder`, { status: 400 });
  const tally = new RunTally();
  const fail = async (error: unknown, mode: string, action: string, result: LogResult = 'error'): Promise<void> => {
    const failure = asSluiceError(error);
    tally.failures.push(failure);
    tally.status = worse(tally.status, result);
    await ctx.log.write({ mode, action, result, message: `${failure.code}: ${failure.message}${failure.fix ? ` (${failure.fix})` : ''}` });
  };

  let settings: DropFolderSettings;
  try {
    settings = dropFolderSettings(repository);
  } catch (error) {
    await fail(error, 'none/none', 'check', 'fatal');
    return { files: [], results: [], status: tally.status, failures: tally.failures };
  }

  let entries: FolderEntry[] | undefined;
  try {
    entries = await ctx.folder.list(settings.path);
  } catch (error) {
    await fail(error, MODE_IN, 'read folder');
  }
  if (entries) await importFiles(ctx, repository, settings, entries, tally);

  let written: DropFolderResult['written'];
  if (settings.send_to !== undefined && entries !== undefined && !ctx.signal?.aborted) {
    try {
      written = await writeOutgoing(ctx, repository, settings, tally);
    } catch (error) {
      await fail(error, MODE_OUT, 'write bundle');
    }
  }
  return { files: tally.files, results: tally.results(), ...(written ? { written } : {}), status: tally.status, failures: tally.failures };
}

async function importFiles(ctx: DropFolderContext, repository: RepositoryRecord, settings: DropFolderSettings, entries: FolderEntry[], tally: RunTally): Promise<void> {
  const matches = compileFilePattern(settings.pattern);
  const nowMs = ctx.bundles.clock.now().getTime();
  const candidates = entries
    .filter((entry) => matches(entry.name) && !entry.name.endsWith(PARTIAL_SUFFIX))
    .sort((a, b) => a.modifiedMs - b.modifiedMs || a.name.localeCompare(b.name));
  const tasks = await ctx.bundles.store.listTasks({ repository: repository.uuid });
  for (const entry of candidates) {
    if (ctx.signal?.aborted) return;
    // settle_seconds 0 means "never wait": file times carry fractions of a millisecond and the clock
    // does not, so a file written in the current millisecond looks as if it came from the future.
    if (settings.settle_seconds > 0 && nowMs - entry.modifiedMs < settings.settle_seconds * 1000) {
      tally.files.push({ name: entry.name, kind: entry.name.toLowerCase().endsWith('.bundle') ? 'bundle' : 's3xml', outcome: 'waiting', message: 'changed moments ago (still being copied?); next run' });
      continue;
    }
    let bytes: Buffer;
    try {
      bytes = await ctx.folder.read(settings.path, entry.name);
    } catch {
      continue; // Picked up by another gateway sharing the folder since the listing.
    }
    if (bytes.length !== entry.bytes) {
      // Settled by its age, yet still growing: a copy that stalled longer than settle_seconds. Read
      // now, it would be refused as damaged and moved to rejected/ while the copy goes on.
      tally.files.push({ name: entry.name, kind: startsWithMagic(bytes) ? 'bundle' : 's3xml', outcome: 'waiting', message: `changed while it was read (${entry.bytes} then ${bytes.length} bytes; still being copied?); next run` });
      continue;
    }
    const report = startsWithMagic(bytes)
      ? await importBundleFile(ctx, settings, entry.name, bytes, tally)
      : await importS3XMLFile(ctx, repository, tasks, entry.name, bytes, tally);
    tally.files.push(report);
    if (report.outcome === 'imported' || report.outcome === 'rejected') {
      const subdir = report.outcome === 'imported' ? settings.imported_dir : settings.rejected_dir;
      try {
        await ctx.folder.moveAside(settings.path, entry.name, subdir, `${fileStamp(formatTimestamp(ctx.bundles.clock.now()))}-${entry.name}`);
      } catch (error) {
        // Importing again is harmless (idempotent); say why it will be seen again.
        await ctx.log.write({ mode: MODE_IN, action: 'move file', result: 'warning', message: `${entry.name} could not be moved to ${subdir}/: ${(error as Error).message}; it will be read again next run` });
        tally.status = worse(tally.status, 'warning');
      }
    }
  }
}

async function importBundleFile(ctx: DropFolderContext, settings: DropFolderSettings, name: string, bytes: Buffer, tally: RunTally): Promise<FolderFileReport> {
  const self = ctx.bundles.identity;
  let report: BundleImportReport;
  try {
    const claimed = peekManifest(bytes);
    if (claimed.source.uuid === self.uuid) return { name, kind: 'bundle', outcome: 'left', message: 'written by this gateway, for the partner to pick up' };
    if (claimed.target !== undefined && claimed.target.uuid !== self.uuid) {
      return { name, kind: 'bundle', outcome: 'left', message: `addressed to ${claimed.target.name ?? claimed.target.uuid}` };
    }
    report = await importBundle(ctx.bundles, bytes, { acknowledge: settings.acknowledge });
  } catch (error) {
    const failure = asSluiceError(error);
    const refused = isSluiceError(error) && failure.code.startsWith('BUNDLE_');
    tally.failures.push(failure);
    tally.status = worse(tally.status, 'error');
    const message = `${failure.code}: ${failure.message}${failure.fix ? ` (${failure.fix})` : ''}`;
    await ctx.log.write({
      mode: MODE_IN,
      action: 'import file',
      result: 'error',
      message: `${name}: ${message}${refused ? `; moved to ${settings.rejected_dir}/ (put it back in the folder once the cause is fixed)` : '; left in the folder for the next run'}`,
    });
    return { name, kind: 'bundle', outcome: refused ? 'rejected' : 'failed', message };
  }
  // importBundle wrote a log line per part; the tally feeds the run's counts.
  for (const part of report.parts) {
    const total = tally.result('pull', part.resource);
    if (part.status !== 'applied') continue;
    total.pages += 1;
    total.records += part.records;
    total.created += part.created;
    total.updated += part.updated;
    total.deleted += part.deleted;
    total.unchanged += part.unchanged;
    total.conflicts += part.conflicts;
    total.errors += part.errors;
    total.problems.push(...part.problems.slice(0, Math.max(0, 10 - total.problems.length)));
  }
  const failed = report.parts.filter((part) => part.status === 'failed');
  if (failed.length > 0) {
    tally.status = worse(tally.status, 'error');
    return { name, kind: 'bundle', outcome: 'failed', message: `${failed.length} part(s) could not be applied; left in the folder for the next run` };
  }
  if (report.parts.some((part) => part.conflicts > 0 || part.errors > 0)) tally.status = worse(tally.status, 'warning');
  let message = report.kind === 'ack' ? `acknowledgement from ${report.source.name ?? report.source.uuid}: ${report.checkpointsAdvanced} push checkpoint(s) moved` : `bundle ${report.bundle} from ${report.source.name ?? report.source.uuid} applied`;
  if (report.ack) {
    const ackName = `${slug(ctx.bundles.identity.name)}-ack-${report.bundle.slice(0, 8)}.bundle`;
    try {
      await ctx.folder.writeWhole(settings.path, ackName, report.ack);
      message += `; acknowledgement written as ${ackName}`;
    } catch (error) {
      await ctx.log.write({ mode: MODE_IN, action: 'write acknowledgement', result: 'warning', message: `${name}: the acknowledgement could not be written (${(error as Error).message}); export it again by importing the bundle by hand with --ack-out` });
      tally.status = worse(tally.status, 'warning');
    }
  }
  return { name, kind: 'bundle', outcome: 'imported', message };
}

async function importS3XMLFile(ctx: DropFolderContext, repository: RepositoryRecord, tasks: SyncTaskRecord[], name: string, bytes: Buffer, tally: RunTally): Promise<FolderFileReport> {
  const { store, clock } = ctx.bundles;
  const names = new Set<string>();
  try {
    for await (const event of readS3XML([bytes])) if (event.type === 'resource') names.add(event.resource.name);
  } catch (error) {
    const failure = asSluiceError(error);
    tally.failures.push(failure);
    tally.status = worse(tally.status, 'error');
    await ctx.log.write({ mode: MODE_IN, action: 'import file', result: 'error', message: `${name}: not a bundle and not S3XML (${failure.code}: ${failure.message}); moved to rejected/` });
    return { name, kind: 's3xml', outcome: 'rejected', message: `${failure.code}: ${failure.message}` };
  }
  const notes: string[] = [];
  let outcome: FileOutcome = 'imported';
  for (const resource of names) {
    const task = tasks.find((candidate) => candidate.resource === resource);
    if (tasks.length > 0 && (!task || !pulls(task))) {
      notes.push(`${resource}: no pulling task of this folder; not imported`);
      tally.result('pull', resource).skipped += 1;
      continue;
    }
    const pullId = task ? checkpointId(task, 'pull', FOLDER_APITYPE) : undefined;
    const pulled = pullId ? await readCheckpoint<PullCheckpoint>(store, pullId) : {};
    const settings = task ? settingsOf(task) : undefined;
    const result = await importS3XMLBytes(store, () => [bytes], {
      resource,
      ...(settings
        ? { strategy: settings.strategy, updatePolicy: settings.update_policy, conflictPolicy: settings.conflict_policy }
        : { updatePolicy: 'NEWER' as const, conflictPolicy: 'NEWER' as const }),
      ...(pulled.mtime === undefined ? {} : { lastSync: addSeconds(pulled.mtime, 1) }),
      repository: repository.uuid,
      ...(ctx.bundles.localDomain === undefined ? {} : { localDomain: ctx.bundles.localDomain }),
      clock,
    });
    const total = tally.result('pull', resource);
    total.pages += 1;
    total.bytes += bytes.length;
    addImport(total, result);
    const line = `${name} ${resource}: ${result.records} records, ${result.created.length} created, ${result.updated.length} updated, ${result.deleted.length} deleted, ${result.unchanged.length} unchanged, ${result.conflicts.length} conflicts, ${result.errors.length} errors`;
    const lineResult: LogResult = result.aborted ? 'error' : result.conflicts.length > 0 || result.errors.length > 0 ? 'warning' : 'success';
    tally.status = worse(tally.status, lineResult);
    await ctx.log.write({ mode: MODE_IN, action: 'import file', result: lineResult, resource, message: result.aborted ? `${line}; stopped: ${result.aborted.code} ${result.aborted.message}; left in the folder for the next run` : line });
    if (result.aborted) {
      outcome = 'failed';
      continue;
    }
    if (task && pullId && result.mtime !== undefined && (pulled.mtime === undefined || result.mtime > pulled.mtime)) {
      await store.putCheckpoint({ id: pullId, task: task.id, value: { ...pulled, mtime: result.mtime }, updated_at: formatTimestamp(clock.now()) });
    }
  }
  if (notes.length) await ctx.log.write({ mode: MODE_IN, action: 'import file', result: 'warning', message: `${name}: ${notes.join('; ')}` });
  return { name, kind: 's3xml', outcome, message: notes.join('; ') || `${[...names].join(', ') || 'no records'}` };
}

async function writeOutgoing(ctx: DropFolderContext, repository: RepositoryRecord, settings: DropFolderSettings, tally: RunTally): Promise<DropFolderResult['written']> {
  const { store } = ctx.bundles;
  const partner = await store.getRepository(settings.send_to!);
  if (!partner) {
    throw new SluiceError('BAD_FOLDER', `Drop folder ${repository.name} sends to a partner that is no longer registered (${settings.send_to})`, { status: 400, fix: 'Set send_to to a registered partner, or remove it' });
  }
  const bundle = await exportChangesBundle(ctx.bundles, partner.uuid);
  for (const part of bundle.manifest.parts) {
    const total = tally.result('push', part.resource ?? '');
    total.records += part.records ?? 0;
  }
  if (bundle.manifest.counts.records === 0) return undefined;
  const file = outgoingBundleName(ctx.bundles.identity, partner);
  // Same windows and same contents as the bundle already waiting there: nothing to rewrite.
  const signature = createHash('sha256')
    .update(JSON.stringify(bundle.manifest.parts.map((part) => [part.checkpoint, part.after_seq, part.sha256])))
    .digest('hex');
  const markerId = outgoingMarkerId(repository.uuid);
  const marker = await readCheckpoint<OutgoingMarker>(store, markerId);
  if (marker.signature === signature && marker.file === file && (await ctx.folder.exists(settings.path, file))) return undefined;
  await ctx.folder.writeWhole(settings.path, file, bundle.file);
  const at = formatTimestamp(ctx.bundles.clock.now());
  await store.putCheckpoint({ id: markerId, task: `folder:${repository.uuid}`, value: { signature, file, bundle: bundle.manifest.id }, updated_at: at });
  for (const part of bundle.manifest.parts) tally.result('push', part.resource ?? '').bytes += part.bytes;
  await ctx.log.write({
    mode: MODE_OUT,
    action: 'write bundle',
    result: 'success',
    message: `Bundle ${bundle.manifest.id} for ${partner.name} written as ${file}: ${bundle.manifest.counts.records} records in ${bundle.manifest.counts.parts} parts, ${bundle.file.length} bytes; the push checkpoint moves when ${partner.name}'s acknowledgement comes back`,
  });
  return { name: file, bundle: bundle.manifest.id, records: bundle.manifest.counts.records };
}
