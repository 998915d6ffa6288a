/**
 * Reading bundles. The whole file is checked first — signature against the sender's key as this
 * gateway knows it, every part's length and checksum, every part decompressed and parsed — so a
 * damaged or truncated file is refused whole, before anything is written.
 *
 * A `changes` or `selection` bundle is then applied as a pull from the sender would be: the task
 * for (sender, resource) gives strategy and policies, its pull checkpoint gives "last sync" for
 * conflict detection (conflicts go to the queue), and the checkpoint's youngest mtime moves on.
 * Each part goes in as one transaction together with a marker `bundle-in:<bundle>:<part>`, so an
 * interrupted import resumes with the parts not yet applied and importing twice changes nothing.
 *
 * An `ack` bundle moves this gateway's push checkpoints to where the partner says it applied
 * them, only forward and only when nothing between the checkpoint and the acknowledged window is
 * missing.
 */
import { gunzipSync } from 'node:zlib';
import { SluiceError } from '../errors.js';
import { importResources, type ImportOptions } from '../importer/importer.js';
import type { S3Resource } from '../s3xml/model.js';
import { readS3XML } from '../s3xml/parse.js';
import { addSeconds, formatTimestamp } from '../s3xml/timestamps.js';
import type { RepositoryRecord, SyncTaskRecord } from '../store/store.js';
import { checkpointId, pageStore, readCheckpoint, type PullCheckpoint, type PushCheckpoint } from '../sync/checkpoints.js';
import { peerSettings } from '../sync/peer-settings.js';
import { SyncLogWriter } from '../sync/sync-log.js';
import { settingsOf } from '../sync/task-settings.js';
import { keyFingerprint, openBundle, peekManifest } from './container.js';
import { writeAckBundle, type BundleContext } from './export-bundle.js';
import type { BundleAck, BundleManifest } from './manifest.js';
import { partnerKey } from './partners.js';

/** A part never inflates beyond this (a gzip bomb is refused, not unpacked). */
export const MAX_PART_BYTES = 512 * 1024 * 1024;

export interface PartReport {
  part: number;
  resource: string;
  status: 'applied' | 'already applied' | 'failed';
  records: number;
  created: number;
  updated: number;
  deleted: number;
  unchanged: number;
  conflicts: number;
  errors: number;
  problems: string[];
}

export interface BundleImportReport {
  bundle: string;
  kind: BundleManifest['kind'];
  source: { uuid: string; name?: string };
  parts: PartReport[];
  /** ack bundles: how many push checkpoints moved. */
  checkpointsAdvanced: number;
  /** When asked for: the acknowledgement to carry back to the sender. */
  ack?: Buffer;
}

export interface BundleImportOptions {
  /** Write an acknowledgement bundle of the applied `changes` parts. */
  acknowledge?: boolean;
}

function refuse(code: string, message: string, fix: string): SluiceError {
  return new SluiceError(code, message, { status: 400, fix: `Nothing was applied. ${fix}` });
}

async function senderOf(ctx: BundleContext, manifest: BundleManifest): Promise<{ repository: RepositoryRecord; key: string }> {
  const repository = await ctx.store.getRepository(manifest.source.uuid);
  const key = repository ? partnerKey(repository) : undefined;
  if (!repository || !key) {
    throw refuse(
      'BUNDLE_UNKNOWN_SENDER',
      `the bundle comes from ${manifest.source.name ?? '?'} (${manifest.source.uuid}, key ${keyFingerprint(manifest.source.public_key)}), whose key this gateway does not know`,
      'Register the partner (sluice repo add) or add its identity card (sluice bundle partner add CARD), then import again',
    );
  }
  return { repository, key };
}

function parsePart(bytes: Buffer, index: number): Promise<S3Resource[]> {
  let xml: Buffer;
  try {
    xml = gunzipSync(bytes, { maxOutputLength: MAX_PART_BYTES });
  } catch (error) {
    throw refuse('BUNDLE_DAMAGED', `part ${index + 1} of the bundle cannot be decompressed: ${(error as Error).message}`, 'Ask the sender to export it again');
  }
  return (async () => {
    const resources: S3Resource[] = [];
    try {
      for await (const event of readS3XML([xml])) if (event.type === 'resource') resources.push(event.resource);
    } catch (error) {
      throw refuse('BUNDLE_DAMAGED', `part ${index + 1} of the bundle is not S3XML: ${(error as Error).message}`, 'Ask the sender to export it again');
    }
    return resources;
  })();
}

function laterOf(a: string | undefined, b: string | undefined): string | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return a > b ? a : b;
}

function markerId(bundle: string, part: number): string {
  return `bundle-in:${bundle}:${part}`;
}

/** Verifies and applies one bundle file. Throws, with nothing applied, when the file is not sound. */
export async function importBundle(ctx: BundleContext, file: Buffer, options: BundleImportOptions = {}): Promise<BundleImportReport> {
  const claimed = peekManifest(file);
  if (claimed.kind === 'backup') {
    throw refuse('BUNDLE_IS_BACKUP', 'this is a backup of a whole store', 'Restore it with sluice restore FILE into an empty data directory');
  }
  const { repository, key } = await senderOf(ctx, claimed);
  const { manifest, parts } = openBundle(file, key);
  if (manifest.target !== undefined && manifest.target.uuid !== ctx.identity.uuid) {
    throw refuse('BUNDLE_WRONG_TARGET', `the bundle is meant for ${manifest.target.name ?? manifest.target.uuid}, not this gateway`, 'Carry it to the gateway it names');
  }
  const report: BundleImportReport = { bundle: manifest.id, kind: manifest.kind, source: { uuid: manifest.source.uuid, ...(manifest.source.name ? { name: manifest.source.name } : {}) }, parts: [], checkpointsAdvanced: 0 };
  const log = new SyncLogWriter(ctx.store, ctx.clock, { repository: repository.uuid });
  if (manifest.kind === 'ack') {
    report.checkpointsAdvanced = await applyAcks(ctx, repository, manifest.acks ?? [], log);
    return report;
  }
  // Everything is decompressed and parsed before the first write.
  const contents: S3Resource[][] = [];
  for (const [index, bytes] of parts.entries()) contents.push(await parsePart(bytes, index));

  const tasks = await ctx.store.listTasks({ repository: repository.uuid });
  const software = peerSettings(repository).software;
  const acks: BundleAck[] = [];
  for (const [index, entry] of manifest.parts.entries()) {
    const resource = entry.resource ?? '';
    const part: PartReport = { part: index + 1, resource, status: 'applied', records: 0, created: 0, updated: 0, deleted: 0, unchanged: 0, conflicts: 0, errors: 0, problems: [] };
    report.parts.push(part);
    const marker = markerId(manifest.id, index);
    if (await ctx.store.getCheckpoint(marker)) {
      part.status = 'already applied';
    } else {
      const task = tasks.find((candidate) => candidate.resource === resource);
      await applyPart(ctx, repository, software, task, manifest, index, contents[index]!, part);
      await log.write({
        mode: 'pull/outgoing',
        action: 'import bundle',
        result: part.status === 'failed' ? 'error' : part.conflicts > 0 || part.errors > 0 ? 'warning' : 'success',
        resource,
        message: `Bundle ${manifest.id} part ${index + 1}: ${part.status}; ${part.records} records, ${part.created} created, ${part.updated} updated, ${part.deleted} deleted, ${part.unchanged} unchanged, ${part.conflicts} conflicts, ${part.errors} errors${part.problems.length ? `; ${part.problems.join('; ')}` : ''}`,
      });
    }
    if (part.status !== 'failed' && manifest.kind === 'changes' && entry.task && entry.checkpoint && entry.until_seq !== undefined && entry.after_seq !== undefined) {
      acks.push({ bundle: manifest.id, part: index, resource, task: entry.task, checkpoint: entry.checkpoint, after_seq: entry.after_seq, until_seq: entry.until_seq, ...(entry.mtime ? { mtime: entry.mtime } : {}) });
    }
  }
  if (options.acknowledge && acks.length > 0) {
    report.ack = writeAckBundle(ctx, { uuid: repository.uuid, name: repository.name }, acks).file;
  }
  return report;
}

async function applyPart(
  ctx: BundleContext,
  repository: RepositoryRecord,
  software: string,
  task: SyncTaskRecord | undefined,
  manifest: BundleManifest,
  index: number,
  resources: S3Resource[],
  part: PartReport,
): Promise<void> {
  const pullId = task ? checkpointId(task, 'pull', software) : undefined;
  const pulled = pullId ? await readCheckpoint<PullCheckpoint>(ctx.store, pullId) : {};
  const last = pulled.mtime ?? pulled.msince;
  const settings = task ? settingsOf(task) : undefined;
  const options: ImportOptions = {
    resource: part.resource,
    ...(settings ? { strategy: settings.strategy, updatePolicy: settings.update_policy, conflictPolicy: settings.conflict_policy } : { updatePolicy: 'NEWER', conflictPolicy: 'NEWER' }),
    ...(last === undefined ? {} : { lastSync: addSeconds(last, 1) }),
    repository: repository.uuid,
    ...(ctx.localDomain === undefined ? {} : { localDomain: ctx.localDomain }),
    clock: ctx.clock,
    // One transaction per part: with its marker, the part is in whole or not at all.
    pageSize: Number.MAX_SAFE_INTEGER,
  };
  const at = formatTimestamp(ctx.clock.now());
  const view = pageStore(ctx.store, { id: markerId(manifest.id, index), task: task?.id ?? `bundle:${repository.uuid}`, value: { at, source: repository.uuid }, at });
  const result = await importResources(view.store, resources, options);
  part.records = result.records;
  part.created = result.created.length;
  part.updated = result.updated.length;
  part.deleted = result.deleted.length;
  part.unchanged = result.unchanged.length;
  part.conflicts = result.conflicts.length;
  part.errors = result.errors.length;
  for (const error of result.errors.slice(0, 10)) part.problems.push(`(UID: ${error.uuid ?? '?'}) ${error.code} ${error.message}`);
  if (result.aborted || !view.committed()) {
    if (resources.length > 0 || result.aborted) {
      part.status = 'failed';
      return;
    }
    // An empty part opens no transaction; its marker still records that it was seen.
    await ctx.store.putCheckpoint({ id: markerId(manifest.id, index), task: task?.id ?? `bundle:${repository.uuid}`, value: { at, source: repository.uuid }, updated_at: at });
  }
  if (task && pullId) {
    const youngest = resources.reduce<string | undefined>((max, item) => (item.name === part.resource ? laterOf(max, item.modified_on) : max), undefined);
    const mtime = laterOf(pulled.mtime, youngest);
    if (mtime !== pulled.mtime) await ctx.store.putCheckpoint({ id: pullId, task: task.id, value: { ...pulled, mtime }, updated_at: at });
  }
}

async function applyAcks(ctx: BundleContext, repository: RepositoryRecord, acks: readonly BundleAck[], log: SyncLogWriter): Promise<number> {
  const software = peerSettings(repository).software;
  let advanced = 0;
  for (const ack of acks) {
    const task = await ctx.store.getTask(ack.task);
    let outcome: string;
    if (!task || task.repository !== repository.uuid) {
      outcome = 'the task no longer exists here; ignored';
    } else if (checkpointId(task, 'push', software) !== ack.checkpoint) {
      outcome = 'the task\'s selection changed since the bundle was written; ignored (the next bundle sends it all again)';
    } else {
      const current = await readCheckpoint<PushCheckpoint>(ctx.store, ack.checkpoint);
      const seq = current.seq ?? 0;
      if (ack.until_seq <= seq) {
        outcome = `already at seq ${seq}`;
      } else if (ack.after_seq > seq) {
        outcome = `covers seqs after ${ack.after_seq} but the checkpoint is at ${seq}: a bundle in between is missing; not moved`;
      } else {
        const mtime = laterOf(current.mtime, ack.mtime);
        const next: PushCheckpoint = mtime === undefined ? { seq: ack.until_seq } : { seq: ack.until_seq, mtime };
        await ctx.store.putCheckpoint({ id: ack.checkpoint, task: task.id, value: { ...next }, updated_at: formatTimestamp(ctx.clock.now()) });
        advanced += 1;
        outcome = `push checkpoint moved from seq ${seq} to ${ack.until_seq}`;
      }
    }
    await log.write({ mode: 'push/outgoing', action: 'bundle acknowledged', result: 'success', resource: ack.resource, message: `Bundle ${ack.bundle} part ${ack.part + 1} acknowledged by ${repository.name}: ${outcome}` });
  }
  return advanced;
}
