/**
 * `sluice backup` / `sluice restore`: the whole store in one signed bundle. Records travel as they
 * are stored (JSON lines, not S3XML: mci, parent links and tombstones come back exactly), with the
 * gateway's state — identity, users, repositories (sealed passwords stay sealed: restore the
 * data directory's secret.key with it), tasks, schedules, pull checkpoints and open conflicts.
 *
 * Restore assigns new seqs, so push checkpoints (positions in this store's own change feed) are not
 * restored: the next push sends everything once more and the peers find it unchanged. Peers that
 * pull from this gateway by seq see the feed go back and must re-create their tasks (README).
 */
import { gunzipSync, gzipSync } from 'node:zlib';
import { SluiceError } from '../errors.js';
import { formatTimestamp } from '../s3xml/timestamps.js';
import type { CheckpointRecord, ConflictEntry, JobRecord, RecordWrite, RepositoryRecord, StoredRecord, SyncTaskRecord, UserRecord } from '../store/store.js';
import { checkpointId } from '../sync/checkpoints.js';
import { describePart, keyFingerprint, openBundle, peekManifest, writeBundle } from './container.js';
import type { BundleContext, WrittenBundle } from './export-bundle.js';
import { MAX_PART_BYTES } from './import-bundle.js';
import type { BundleManifest, BundlePartEntry } from './manifest.js';
import { randomUUID } from 'node:crypto';

const SETTINGS = ['gateway.uuid', 'gateway.name', 'sync.proxy'];
const PAGE = 1000;

interface StateDocument {
  settings: Record<string, string>;
  users: UserRecord[];
  repositories: RepositoryRecord[];
  tasks: SyncTaskRecord[];
  jobs: JobRecord[];
  checkpoints: CheckpointRecord[];
  conflicts: ConflictEntry[];
}

export async function exportBackup(ctx: BundleContext): Promise<WrittenBundle> {
  const { store } = ctx;
  const lines: string[] = [];
  const entries: BundlePartEntry[] = [];
  const parts: Buffer[] = [];
  const resources = (await store.resources()).map((entry) => entry.resource).sort();
  let total = 0;
  for (const resource of resources) {
    for (let start = 0; ; start += PAGE) {
      const page = await store.queryRecords({ resource, includeDeleted: true, orderBy: 'seq', start, limit: PAGE });
      for (const { seq: _seq, ...record } of page) lines.push(JSON.stringify(record));
      if (page.length < PAGE) break;
    }
  }
  total = lines.length;
  const recordsPart = gzipSync(Buffer.from(lines.join('\n'), 'utf8'));
  parts.push(recordsPart);
  entries.push({ name: 'records.ndjson.gz', media_type: 'application/x-ndjson', ...describePart(recordsPart), records: total });

  const settings: Record<string, string> = {};
  for (const key of SETTINGS) {
    const value = await store.getSetting(key);
    if (value !== undefined) settings[key] = value;
  }
  const repositories = await store.listRepositories();
  const tasks = await store.listTasks();
  const checkpoints: CheckpointRecord[] = [];
  for (const task of tasks) {
    for (const software of ['sluice', 'eden']) {
      const found = await store.getCheckpoint(checkpointId(task, 'pull', software));
      if (found) checkpoints.push(found);
    }
  }
  const state: StateDocument = {
    settings,
    users: await store.listUsers(),
    repositories,
    tasks,
    jobs: await store.listJobs(),
    checkpoints,
    conflicts: await store.listConflicts({ status: 'open' }),
  };
  const statePart = gzipSync(Buffer.from(JSON.stringify(state), 'utf8'));
  parts.push(statePart);
  entries.push({ name: 'state.json.gz', media_type: 'application/json', ...describePart(statePart) });

  const manifest: BundleManifest = {
    format: 'sluice-bundle',
    version: 1,
    id: randomUUID(),
    kind: 'backup',
    created_at: formatTimestamp(ctx.clock.now()),
    source: { uuid: ctx.identity.uuid, name: ctx.identity.name, public_key: ctx.signer.publicKey },
    resources,
    counts: { parts: parts.length, records: total },
    parts: entries,
  };
  return { file: writeBundle(manifest, parts, ctx.signer), manifest };
}

export interface RestoreReport {
  source: { uuid: string; name?: string };
  fingerprint: string;
  records: number;
  repositories: number;
  tasks: number;
  conflicts: number;
}

/**
 * Restores into an empty store. The signature is checked against the key the backup names (this
 * proves the file is whole, not who wrote it: check `fingerprint` against the gateway's own).
 */
export async function restoreBackup(ctx: Pick<BundleContext, 'store' | 'clock'>, file: Buffer): Promise<RestoreReport> {
  const claimed = peekManifest(file);
  if (claimed.kind !== 'backup') {
    throw new SluiceError('BUNDLE_NOT_A_BACKUP', `this is a ${claimed.kind} bundle, not a backup`, { status: 400, fix: 'Import it with sluice bundle import FILE' });
  }
  const { manifest, parts } = openBundle(file, claimed.source.public_key);
  const { store } = ctx;
  if ((await store.lastSeq()) > 0 || (await store.listRepositories()).length > 0) {
    throw new SluiceError('RESTORE_TARGET_NOT_EMPTY', 'the store already holds records or repositories', {
      status: 409,
      fix: 'Nothing was restored. Restore into a fresh data directory (--data DIR), or move the current one aside first',
    });
  }
  const inflate = (bytes: Buffer) => gunzipSync(bytes, { maxOutputLength: MAX_PART_BYTES }).toString('utf8');
  const recordsIndex = manifest.parts.findIndex((part) => part.name === 'records.ndjson.gz');
  const stateIndex = manifest.parts.findIndex((part) => part.name === 'state.json.gz');
  if (recordsIndex < 0 || stateIndex < 0) throw new SluiceError('BUNDLE_DAMAGED', 'the backup lacks its records or its state', { status: 400 });
  const text = inflate(parts[recordsIndex]!);
  const records = text === '' ? [] : text.split('\n').map((line) => JSON.parse(line) as RecordWrite);
  const state = JSON.parse(inflate(parts[stateIndex]!)) as StateDocument;
  for (let start = 0; start < records.length; start += PAGE) {
    await store.transaction(async (tx) => {
      for (const record of records.slice(start, start + PAGE)) await tx.putRecord(record as Omit<StoredRecord, 'seq'>);
    });
  }
  for (const [key, value] of Object.entries(state.settings)) await store.setSetting(key, value);
  for (const user of state.users) await store.putUser(user);
  for (const repository of state.repositories) await store.putRepository(repository);
  for (const task of state.tasks) await store.putTask(task);
  for (const job of state.jobs) await store.putJob(job);
  for (const checkpoint of state.checkpoints) await store.putCheckpoint(checkpoint);
  for (const { id: _id, status: _status, resolution: _resolution, resolved_at: _resolvedAt, ...conflict } of state.conflicts) await store.addConflict(conflict);
  return {
    source: { uuid: manifest.source.uuid, ...(manifest.source.name ? { name: manifest.source.name } : {}) },
    fingerprint: keyFingerprint(manifest.source.public_key),
    records: records.length,
    repositories: state.repositories.length,
    tasks: state.tasks.length,
    conflicts: state.conflicts.length,
  };
}
