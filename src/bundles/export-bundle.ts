/**
 * Writing bundles: for a partner, exactly what the next push would send (every pushing task, from
 * its push checkpoint to the store's last seq, through the same exporter and the same options the
 * push uses); or a selection by resources, since-date and URL filters. The checkpoint does not move
 * here: it moves when the partner's acknowledgement comes back (import-bundle.ts), as a push's
 * moves only when the peer said success.
 */
import { randomUUID } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { SluiceError } from '../errors.js';
import { exportResources } from '../exporter/exporter.js';
import { parseUrlFilters } from '../exporter/url-filters.js';
import type { S3Resource } from '../s3xml/model.js';
import { serializeS3XML } from '../s3xml/serialize.js';
import { formatTimestamp, parseMsince, type Clock } from '../s3xml/timestamps.js';
import type { FieldFilter, Store } from '../store/store.js';
import { checkpointId, readCheckpoint, type PushCheckpoint } from '../sync/checkpoints.js';
import { peerSettings } from '../sync/peer-settings.js';
import { filterQuery, pushes, settingsOf, storeFilters } from '../sync/task-settings.js';
import { describePart, writeBundle, type BundleSigner } from './container.js';
import type { BundleManifest, BundlePartEntry } from './manifest.js';
import { resolvePartner } from './partners.js';

export interface BundleContext {
  store: Store;
  clock: Clock;
  identity: { uuid: string; name: string };
  signer: BundleSigner;
  /** This gateway's domain (uids prefix on export, stripped on import), as for sync. */
  localDomain?: string;
}

export interface WrittenBundle {
  file: Buffer;
  manifest: BundleManifest;
}

const XML_PART = 'application/xml';

interface PartContent {
  resources: S3Resource[];
  records: number;
  youngest?: string;
}

async function collect(resource: string, source: AsyncIterable<S3Resource>): Promise<PartContent> {
  const content: PartContent = { resources: [], records: 0 };
  for await (const item of source) {
    content.resources.push(item);
    if (item.name !== resource) continue;
    content.records += 1;
    if (item.modified_on !== undefined && (content.youngest === undefined || item.modified_on > content.youngest)) content.youngest = item.modified_on;
  }
  return content;
}

function xmlPart(resources: S3Resource[]): Buffer {
  return gzipSync(Buffer.from(serializeS3XML({ attributes: {}, resources }), 'utf8'));
}

function manifestOf(ctx: BundleContext, kind: BundleManifest['kind'], fields: Partial<BundleManifest>, parts: BundlePartEntry[]): BundleManifest {
  return {
    format: 'sluice-bundle',
    version: 1,
    id: randomUUID(),
    kind,
    created_at: formatTimestamp(ctx.clock.now()),
    source: { uuid: ctx.identity.uuid, name: ctx.identity.name, public_key: ctx.signer.publicKey },
    resources: [...new Set(parts.map((part) => part.resource).filter((resource): resource is string => resource !== undefined))],
    ...fields,
    counts: { parts: parts.length, records: parts.reduce((sum, part) => sum + (part.records ?? 0), 0) },
    parts,
  };
}

/** What the next push to `repository` would send, one part per pushing task. */
export async function exportChangesBundle(ctx: BundleContext, repositoryReference: string): Promise<WrittenBundle> {
  const repository = await resolvePartner(ctx.store, repositoryReference);
  const software = peerSettings(repository).software;
  const tasks = (await ctx.store.listTasks({ repository: repository.uuid })).filter(pushes);
  if (tasks.length === 0) {
    throw new SluiceError('BUNDLE_NOTHING_TO_SEND', `Repository ${repository.name} has no task that pushes`, {
      status: 400,
      fix: `Add one: sluice task add ${repository.name} RESOURCE --mode push (or both)`,
    });
  }
  // One snapshot for every task: everything at or below it is committed.
  const untilSeq = await ctx.store.lastSeq();
  const entries: BundlePartEntry[] = [];
  const parts: Buffer[] = [];
  for (const task of tasks) {
    const checkpoint = checkpointId(task, 'push', software);
    const before = await readCheckpoint<PushCheckpoint>(ctx.store, checkpoint);
    const afterSeq = before.seq ?? 0;
    const settings = settingsOf(task);
    const content =
      afterSeq >= untilSeq
        ? { resources: [], records: 0 }
        : await collect(
            task.resource,
            exportResources(ctx.store, {
              resource: task.resource,
              afterSeq,
              untilSeq,
              includeDeleted: true,
              filters: storeFilters(task),
              components: settings.components,
              ...(ctx.localDomain === undefined ? {} : { domain: ctx.localDomain }),
            }),
          );
    const bytes = xmlPart(content.resources);
    const mtime = content.youngest ?? before.mtime;
    parts.push(bytes);
    entries.push({
      name: `${task.resource}.xml.gz`,
      media_type: XML_PART,
      ...describePart(bytes),
      resource: task.resource,
      records: content.records,
      task: task.id,
      checkpoint,
      after_seq: afterSeq,
      until_seq: Math.max(afterSeq, untilSeq),
      ...(mtime === undefined ? {} : { mtime }),
      ...(task.filters.length ? { filters: [...task.filters] } : {}),
    });
  }
  const manifest = manifestOf(ctx, 'changes', { target: { uuid: repository.uuid, name: repository.name } }, entries);
  return { file: writeBundle(manifest, parts, ctx.signer), manifest };
}

export interface SelectionRequest {
  resources: string[];
  /** Eden timestamp: records modified at or after it. */
  since?: string;
  /** URL filters as `key=value` (`~.field__op=value`), applied to every resource. */
  filters?: string[];
  /** The partner it is meant for (repository name or uuid); anyone who knows our key can read it otherwise. */
  target?: string;
  includeDeleted?: boolean;
}

/** Records picked by resource, since-date and filters; no checkpoint is involved. */
export async function exportSelectionBundle(ctx: BundleContext, request: SelectionRequest): Promise<WrittenBundle> {
  if (request.resources.length === 0) {
    throw new SluiceError('BUNDLE_NOTHING_TO_SEND', 'Name at least one resource', { status: 400, fix: 'e.g. --resource org_office' });
  }
  const since = request.since === undefined ? undefined : parseMsince(request.since);
  const target = request.target === undefined ? undefined : await resolvePartner(ctx.store, request.target);
  const entries: BundlePartEntry[] = [];
  const parts: Buffer[] = [];
  for (const resource of request.resources) {
    const filters: FieldFilter[] = request.filters?.length ? parseUrlFilters(filterQuery(request.filters), resource) : [];
    const content = await collect(
      resource,
      exportResources(ctx.store, {
        resource,
        ...(since === undefined ? {} : { msince: since }),
        includeDeleted: request.includeDeleted ?? true,
        filters,
        ...(ctx.localDomain === undefined ? {} : { domain: ctx.localDomain }),
      }),
    );
    const bytes = xmlPart(content.resources);
    parts.push(bytes);
    entries.push({ name: `${resource}.xml.gz`, media_type: XML_PART, ...describePart(bytes), resource, records: content.records, ...(content.youngest ? { mtime: content.youngest } : {}) });
  }
  const manifest = manifestOf(
    ctx,
    'selection',
    {
      ...(target ? { target: { uuid: target.uuid, name: target.name } } : {}),
      ...(since === undefined ? {} : { since }),
      ...(request.filters?.length ? { filters: [...request.filters] } : {}),
    },
    entries,
  );
  return { file: writeBundle(manifest, parts, ctx.signer), manifest };
}

/** Signs a manifest without parts: the acknowledgement of applied `changes` parts. */
export function writeAckBundle(ctx: BundleContext, target: { uuid: string; name?: string }, acks: NonNullable<BundleManifest['acks']>): WrittenBundle {
  const manifest = manifestOf(ctx, 'ack', { target, acks, resources: [...new Set(acks.map((ack) => ack.resource))] }, []);
  return { file: writeBundle(manifest, [], ctx.signer), manifest };
}
