/**
 * Ushahidi sources: deployments registered like repositories (a RepositoryRecord with `apitype`
 * `ushahidi-v5` or `ushahidi-v2`), so they share the schedules (`sync:<uuid>` jobs), the leases,
 * the sync log, the run history and Sync Now of Eden peers. A run of a source polls new posts into
 * tickets (poll-job.ts), then sends changed ticket statuses back (status-push.ts); a second job,
 * `ushahidi-reconcile:<uuid>`, sweeps every post's status (reconcile.ts).
 *
 * The source's value mapping is `mappings/<config.mapping>.json` (the key the console links a
 * repository's mapping with), plus default values for the status field when that document does
 * not map it: Verified / Actionable / Actioned ↔ v5 statuses or v2 flags.
 *
 * Nothing here opens a socket or reads a file on its own: the transport, the engine, the store,
 * the clock and the mappings reader are handed in by the composition (sync/runtime.ts).
 */
import { createHash, randomUUID } from 'node:crypto';
import { asSluiceError, SluiceError } from '../errors.js';
import type { MappingDocument } from '../formats/mapping-document.js';
import { generateMappingXslt } from '../formats/mapping-generator.js';
import type { Logger } from '../logger.js';
import type { RetryOptions } from '../net/retry.js';
import type { SecretBox } from '../secrets.js';
import { formatTimestamp, type Clock } from '../s3xml/timestamps.js';
import type { JobRecord, LogResult, RepositoryRecord, RunRecord, RunStatus, Store } from '../store/store.js';
import { CaptureRecorder, type CaptureLimits } from '../sync/capture.js';
import type { ReplicationResult } from '../sync/replication.js';
import { isRemoteFailure, resultOfFailure, type RunOutcome } from '../sync/run.js';
import { deleteLeasesOf } from '../sync/lease.js';
import { syncLeaseName, takeRunLease, type RunRequest } from '../sync/runner.js';
import type { ExternalSources } from '../sync/sync-module.js';
import { SyncLogWriter, worse } from '../sync/sync-log.js';
import { checkResourceName } from '../sync/task-settings.js';
import { syncJobId } from '../sync/task-registry.js';
import type { StylesheetRef, TransformEngine } from '../transform/engine.js';
import { assertTimeZone } from './dates.js';
import { createHttpTransport, type HttpRequest, type HttpResponse, type HttpTransport } from './http-transport.js';
import { deploymentDomain } from './import-document.js';
import { pollSource, type PollResult, type PollTimings } from './poll-job.js';
import { reconcileSource, type ReconcileResult } from './reconcile.js';
import type { UshahidiSourceClient } from './source.js';
import { pushStatuses, sourceTaskId, type SourceProfile, type StatusMapping, type StatusSyncContext, type Transform } from './status-push.js';
import { UshahidiV2Client } from './ushahidi-v2-client.js';
import { UshahidiV5Client } from './ushahidi-v5-client.js';

export const SOURCE_TYPES = ['ushahidi-v5', 'ushahidi-v2'] as const;
export type SourceType = (typeof SOURCE_TYPES)[number];

export const DEFAULT_SOURCE_RESOURCE = 'event_incident_report';
export const DEFAULT_STATUS_FIELD = 'status';
export const DEFAULT_SOURCE_PAGE_SIZE = 500;
export const DEFAULT_POLL_SECONDS = 300;
export const DEFAULT_RECONCILE_SECONDS = 3600;
export const RECONCILE_JOB_KIND = 'ushahidi-reconcile';
/** The config key the console links a repository's mapping instance with (console/instance-links.ts). */
const MAPPING_KEY = 'mapping';
const FIELD_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const INSTANCE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

export function isSourceType(value: string): value is SourceType {
  return (SOURCE_TYPES as readonly string[]).includes(value);
}

export function reconcileJobId(sourceUuid: string): string {
  return `${RECONCILE_JOB_KIND}:${sourceUuid}`;
}

/**
 * The statuses Sluice triages with and what they are on each API, used for a status field the
 * source's mapping does not map. v3/v5 have no verified or actionable flags (reference §3.1):
 * in review = draft, verified = published, actioned = archived. Classic v2 has two toggles and no
 * way to say "actionable" or "actioned" (§1.8), so those keep the report approved and verified.
 */
export const DEFAULT_STATUS_VALUES: Record<'v5' | 'v2', { inbound: Record<string, string>; outbound: Record<string, string> }> = {
  v5: {
    inbound: { draft: 'Unverified', published: 'Verified', archived: 'Actioned' },
    outbound: { Unverified: 'draft', Verified: 'published', Actionable: 'published', Actioned: 'archived' },
  },
  v2: {
    inbound: {
      'approved verified': 'Verified',
      'unapproved verified': 'Verified',
      'approved unverified': 'Unverified',
      'unapproved unverified': 'Unverified',
    },
    outbound: { Unverified: 'unverified', Verified: 'approved verified', Actionable: 'approved verified', Actioned: 'approved verified' },
  },
};

// ---- the source's settings ------------------------------------------------------------------------

/** What a source keeps in its RepositoryRecord.config. */
export interface SourceSettings {
  api: 'v5' | 'v2';
  username?: string;
  /** Sealed with the secret box (owner = the source's uuid). */
  password?: string;
  resource: string;
  status_field: string;
  /** mappings/<mapping>.json */
  mapping?: string;
  /** v2 `site_timezone`. */
  time_zone?: string;
  page_size: number;
}

export interface SourceView {
  uuid: string;
  name: string;
  type: SourceType;
  url: string;
  deployment: string;
  username?: string;
  has_password: boolean;
  resource: string;
  status_field: string;
  mapping?: string;
  time_zone?: string;
  page_size: number;
  created_at: string;
  updated_at: string;
}

export interface SourceInput {
  name: string;
  url: string;
  type: SourceType;
  username?: string;
  password?: string;
  resource?: string;
  statusField?: string;
  mapping?: string;
  timeZone?: string;
  pageSize?: number;
  /** Poll schedule in seconds (default 300; 0 leaves the source unscheduled). Kept when a schedule exists. */
  pollSeconds?: number;
  /** Reconcile schedule in seconds (default 3600; 0 for none). */
  reconcileSeconds?: number;
  /** Log in and read one post before storing anything (default true). */
  check?: boolean;
}

function text(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

export function isSource(repository: Pick<RepositoryRecord, 'apitype'>): boolean {
  return isSourceType(repository.apitype);
}

export function sourceSettings(repository: RepositoryRecord): SourceSettings {
  if (!isSource(repository)) {
    throw new SluiceError('NOT_A_SOURCE', `${repository.name} is a repository, not an Ushahidi source`, { status: 400, fix: 'List sources with sluice source list' });
  }
  const config = repository.config;
  const pageSize = typeof config.page_size === 'number' && Number.isInteger(config.page_size) && config.page_size > 0 ? config.page_size : DEFAULT_SOURCE_PAGE_SIZE;
  const settings: SourceSettings = {
    api: repository.apitype === 'ushahidi-v2' ? 'v2' : 'v5',
    resource: text(config.resource) ?? DEFAULT_SOURCE_RESOURCE,
    status_field: text(config.status_field) ?? DEFAULT_STATUS_FIELD,
    page_size: pageSize,
  };
  for (const key of ['username', 'password', 'time_zone'] as const) {
    const value = text(config[key]);
    if (value !== undefined) settings[key] = value;
  }
  const mapping = text(config[MAPPING_KEY]);
  if (mapping !== undefined && INSTANCE_NAME.test(mapping)) settings.mapping = mapping;
  return settings;
}

export function sourceView(repository: RepositoryRecord): SourceView {
  const settings = sourceSettings(repository);
  const url = repository.url ?? '';
  return {
    uuid: repository.uuid,
    name: repository.name,
    type: repository.apitype as SourceType,
    url,
    deployment: url ? deploymentDomain(url) : '',
    ...(settings.username === undefined ? {} : { username: settings.username }),
    has_password: settings.password !== undefined,
    resource: settings.resource,
    status_field: settings.status_field,
    ...(settings.mapping === undefined ? {} : { mapping: settings.mapping }),
    ...(settings.time_zone === undefined ? {} : { time_zone: settings.time_zone }),
    page_size: settings.page_size,
    created_at: repository.created_at,
    updated_at: repository.updated_at,
  };
}

/** One uuid per deployment and API, so adding the same deployment again updates it. */
export function sourceUuid(type: SourceType, url: string): string {
  const hex = createHash('sha1').update(`sluice-source:${type}:${deploymentDomain(url)}`).digest('hex');
  const variant = ((parseInt(hex.slice(16, 18), 16) & 0x3f) | 0x80).toString(16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-5${hex.slice(13, 16)}-${variant}${hex.slice(18, 20)}-${hex.slice(20, 32)}`;
}

function badSource(message: string, fix: string): SluiceError {
  return new SluiceError('BAD_SOURCE', message, { status: 400, fix });
}

function checkSourceUrl(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw badSource(`"${url}" is not a URL`, 'Give the deployment URL, e.g. https://haiti.api.ushahidi.io (v5) or http://haiti.ushahidi.com (v2)');
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw badSource(`"${url}" is not http(s)`, 'Use an http:// or https:// URL');
  if (parsed.username || parsed.password) throw badSource('the URL must not carry credentials', 'Give --user and --password; the password is stored encrypted');
  return url.replace(/\/+$/, '');
}

// ---- the value mapping ----------------------------------------------------------------------------

/** The source's mapping document with default values for its status field when it maps none. */
export function effectiveMappingDocument(document: MappingDocument | undefined, settings: Pick<SourceSettings, 'api' | 'resource' | 'status_field'>): MappingDocument {
  const defaults = DEFAULT_STATUS_VALUES[settings.api];
  const statusMapping = {
    local: settings.status_field,
    inbound: { values: { ...defaults.inbound }, unmapped: { policy: 'pass' as const } },
    // A status the deployment has no word for is never sent as it is (v5 would store any string).
    outbound: { values: { ...defaults.outbound }, unmapped: { policy: 'drop' as const } },
  };
  const base: MappingDocument = document ? structuredClone(document) : { instance: `ushahidi-${settings.api}-default`, resources: [] };
  let resource = base.resources.find((entry) => entry.local === settings.resource);
  if (!resource) {
    resource = { local: settings.resource };
    base.resources.push(resource);
  }
  const fields = (resource.fields ??= []);
  const field = fields.find((entry) => entry.local === settings.status_field);
  if (!field) fields.push(statusMapping);
  else {
    // The document's own values win; the defaults only fill the statuses it does not name.
    field.inbound = { ...statusMapping.inbound, ...field.inbound, values: { ...statusMapping.inbound.values, ...field.inbound?.values } };
    field.outbound = { ...statusMapping.outbound, ...field.outbound, values: { ...statusMapping.outbound.values, ...field.outbound?.values } };
  }
  return base;
}

export function statusMappingOf(document: MappingDocument, settings: Pick<SourceSettings, 'resource' | 'status_field'>, stylesheet: StylesheetRef): StatusMapping {
  const resource = document.resources.find((entry) => entry.local === settings.resource);
  const field = resource?.fields?.find((entry) => entry.local === settings.status_field);
  const others = document.resources.some((entry) => entry !== resource && ((entry.fields?.length ?? 0) > 0 || (entry.remote ?? entry.local) !== entry.local));
  const statusOnly =
    !others &&
    (resource?.remote ?? settings.resource) === settings.resource &&
    (resource?.fields ?? []).every((entry) => entry === field) &&
    (field?.remote ?? settings.status_field) === settings.status_field &&
    (field?.inbound?.unmapped ?? document.unmapped)?.policy !== 'reject';
  return {
    stylesheet,
    resource: settings.resource,
    remoteResource: resource?.remote ?? settings.resource,
    field: settings.status_field,
    remoteField: field?.remote ?? settings.status_field,
    statusOnly,
  };
}

// ---- composition --------------------------------------------------------------------------------

export interface UshahidiSourcesDeps {
  store: Store;
  clock: Clock;
  logger: Logger;
  secrets: SecretBox;
  /** This process's lease holder id. */
  holder: string;
  isHolderAlive?: (holder: string) => boolean;
  leaseTtlMs: number;
  /** The transform engine, created on first use (a CLI command that only lists sources starts no threads). */
  engine: () => TransformEngine;
  /** stylesheets/ushahidi/import.xsl */
  importStylesheet: string;
  /** Reads mappings/<instance>.json (validated). */
  readMapping: (instance: string) => Promise<MappingDocument>;
  /** Bytes in, bytes out; the undici transport by default. */
  transport?: HttpTransport;
  timeoutMs?: number;
  retry?: RetryOptions;
  captureLimits?: CaptureLimits;
  keepCaptures?: number;
  /** Posts per transform call and pages read ahead (see poll-job.ts). */
  transformBatch?: number;
  readAhead?: number;
  /** Every poll adds where its time went here (tools/bench/ushahidi-import.ts). */
  pollTimings?: PollTimings;
}

export interface UshahidiSources extends ExternalSources {
  add(input: SourceInput): Promise<SourceView>;
  list(): Promise<SourceView[]>;
  /** A source by uuid or name. */
  resolve(reference: string): Promise<RepositoryRecord>;
  remove(reference: string): Promise<void>;
  /** The reconcile job, now. */
  reconcile(reference: string, request?: RunRequest): Promise<RunOutcome & { reconcile?: ReconcileResult }>;
  close(): Promise<void>;
}

/** A request as the run history keeps it: no password, no token. */
function redactedBody(req: HttpRequest): Buffer | undefined {
  if (req.body === undefined) return undefined;
  if (!req.url.includes('/oauth/token')) return Buffer.from(req.body, 'utf8');
  const form = new URLSearchParams(req.body);
  for (const key of ['password', 'client_secret', 'refresh_token']) if (form.has(key)) form.set(key, '***');
  return Buffer.from(form.toString(), 'utf8');
}

function redactedResponse(req: HttpRequest, res: HttpResponse): Buffer {
  if (!req.url.includes('/oauth/token')) return Buffer.from(res.text, 'utf8');
  return Buffer.from(res.text.replace(/"(access_token|refresh_token)"\s*:\s*"[^"]*"/g, '"$1":"***"'), 'utf8');
}

/** Per-run hooks of a cached client's transport: where its exchanges are captured and retries logged. */
interface RunTap {
  recorder: CaptureRecorder;
  phase: string;
  onTransient(what: string): void;
}

interface CachedClient {
  signature: string;
  client: UshahidiSourceClient;
  tap: { current: RunTap | undefined };
}

/** A push that could not send a status (no value for it in the mapping) is a warning; a skipped import item is not. */
function resultOfReplication(result: ReplicationResult): LogResult {
  return result.errors > 0 || result.conflicts > 0 || (result.direction === 'push' && result.skipped > 0) ? 'warning' : 'success';
}

function plural(count: number, singular: string, pluralForm = `${singular}s`): string {
  return `${count} ${count === 1 ? singular : pluralForm}`;
}

/**
 * One replication for the log. `records` counts posts (or statuses sent); the outcome counts of a
 * poll count every record written, components included, so they are labelled apart.
 */
function summary(result: ReplicationResult, singular: string, pluralForm: string): string {
  const head = `${plural(result.records, singular, pluralForm)} in ${plural(result.pages, 'page')}`;
  const outcomes = (['created', 'updated', 'unchanged', 'skipped'] as const).filter((key) => result[key] > 0).map((key) => `${result[key]} ${key}`);
  const problems = [result.conflicts > 0 ? plural(result.conflicts, 'conflict') : '', result.errors > 0 ? plural(result.errors, 'error') : ''].filter(Boolean);
  const where = result.direction === 'pull' ? 'records in the store, components counted' : 'at the deployment';
  return [head, ...(outcomes.length ? [`${where}: ${outcomes.join(', ')}`] : []), ...problems].join('; ');
}

/** A poll cursor for people: `{"cursor":0}` → "0"; several fields as "name value" pairs. */
function describeCursor(checkpoint: object): string {
  const entries = Object.entries(checkpoint);
  if (entries.length === 0) return 'start';
  const text = (value: unknown): string => (typeof value === 'object' && value !== null ? JSON.stringify(value) : String(value));
  if (entries.length === 1) return text(entries[0]![1]);
  return entries.map(([name, value]) => `${name} ${text(value)}`).join(', ');
}

function addCounts(counts: Record<string, number>, result: ReplicationResult): void {
  for (const key of ['records', 'created', 'updated', 'deleted', 'merged', 'unchanged', 'skipped', 'conflicts', 'errors', 'pages'] as const) {
    counts[`${result.direction}_${key}`] = (counts[`${result.direction}_${key}`] ?? 0) + result[key];
  }
}

type Work = (ctx: StatusSyncContext, log: SyncLogWriter, tap: RunTap, outcome: WorkOutcome) => Promise<void>;

/** What one run gathers while it works; written to its run record at the end. */
interface WorkOutcome {
  results: ReplicationResult[];
  failures: SluiceError[];
  status: LogResult;
  counts: Record<string, number>;
  fail(error: unknown, mode: string, action: string): Promise<void>;
  reconcile?: ReconcileResult;
}

/**
 * The sources of one process: their registry operations, their runs, the client of each (kept
 * while its settings stay the same, so OAuth tokens and the cursor window live on) and the
 * transform engine, started on first use.
 */
class UshahidiSourceService implements UshahidiSources {
  private readonly store: Store;
  private readonly clock: Clock;
  private readonly transport: HttpTransport;
  private readonly clients = new Map<string, CachedClient>();
  private engine: TransformEngine | undefined;
  private readonly transform: Transform = (request) => {
    this.engine ??= this.deps.engine();
    return this.engine.transform(request);
  };

  constructor(private readonly deps: UshahidiSourcesDeps) {
    this.store = deps.store;
    this.clock = deps.clock;
    this.transport = deps.transport ?? createHttpTransport(deps.timeoutMs === undefined ? {} : { timeoutMs: deps.timeoutMs });
  }

  private now(): string {
    return formatTimestamp(this.clock.now());
  }

  handles(repository: RepositoryRecord): boolean {
    return isSource(repository);
  }

  run(repository: RepositoryRecord, request: RunRequest): Promise<RunOutcome> {
    return this.runUnderLease(repository, request, 'ushahidi', (...args) => this.pollAndPush(...args));
  }

  async runJob(job: JobRecord): Promise<boolean> {
    if (job.kind !== RECONCILE_JOB_KIND) return false;
    const repository = await this.store.getRepository(job.target);
    if (!repository || !isSource(repository)) {
      this.deps.logger.warn({ job: job.id }, 'reconcile job of a source that no longer exists');
      return true;
    }
    await this.runUnderLease(repository, { trigger: 'schedule', job: job.id }, 'ushahidi-reconcile', (...args) => this.reconcileWork(...args));
    return true;
  }

  async reconcile(reference: string, request: RunRequest = { trigger: 'manual' }): Promise<RunOutcome & { reconcile?: ReconcileResult }> {
    return this.runUnderLease(await this.resolve(reference), request, 'ushahidi-reconcile', (...args) => this.reconcileWork(...args));
  }

  async resolve(reference: string): Promise<RepositoryRecord> {
    const byUuid = await this.store.getRepository(reference);
    const matches = byUuid ? [byUuid] : (await this.store.listRepositories()).filter((repository) => repository.name.toLowerCase() === reference.toLowerCase());
    if (matches.length > 1) throw new SluiceError('REPOSITORY_AMBIGUOUS', `${matches.length} repositories are called "${reference}"`, { status: 409, fix: 'Name it by its uuid' });
    const found = matches[0];
    if (!found) throw new SluiceError('SOURCE_NOT_FOUND', `There is no source "${reference}"`, { status: 404, fix: 'List sources with sluice source list' });
    if (!isSource(found)) throw new SluiceError('NOT_A_SOURCE', `"${reference}" is an Eden repository, not an Ushahidi source`, { status: 400, fix: 'Use sluice repo … for repositories' });
    return found;
  }

  async add(input: SourceInput): Promise<SourceView> {
    const { store, clock, deps } = this;
    const now = () => this.now();
    const name = input.name.trim();
    if (name === '' || name.length > 64) throw badSource('A source needs a name of 1 to 64 characters', 'e.g. sluice source add haiti https://haiti.api.ushahidi.io …');
    if (!isSourceType(input.type)) throw badSource(`--type "${String(input.type)}" is not ushahidi-v5 or ushahidi-v2`, 'Use --type ushahidi-v5 (platform) or --type ushahidi-v2 (classic)');
    const url = checkSourceUrl(input.url);
    if ((input.username === undefined) !== (input.password === undefined)) throw badSource('Give both a user and a password, or neither', 'sluice source add NAME URL --type … --user U --password P');
    if (input.type === 'ushahidi-v5' && input.username === undefined) {
      throw badSource('A v5 source needs a user (email) and password', 'Give --user and --password of an account with the admin role or "Manage Posts"');
    }
    const resource = checkResourceName(input.resource ?? DEFAULT_SOURCE_RESOURCE);
    const statusField = input.statusField ?? DEFAULT_STATUS_FIELD;
    if (!FIELD_NAME.test(statusField)) throw badSource(`"${statusField}" is not a field name`, 'e.g. --status-field status');
    if (input.mapping !== undefined) {
      if (!INSTANCE_NAME.test(input.mapping)) throw badSource(`"${input.mapping}" is not a mapping instance name`, 'Name a mappings/<instance>.json');
      await deps.readMapping(input.mapping);
    }
    if (input.timeZone !== undefined) assertTimeZone(input.timeZone);
    const pageSize = input.pageSize ?? DEFAULT_SOURCE_PAGE_SIZE;
    if (!Number.isInteger(pageSize) || pageSize < 1 || pageSize > 5000) throw badSource(`page size ${pageSize} is not between 1 and 5000`, 'e.g. --page-size 500');
    for (const [what, seconds] of [['poll', input.pollSeconds], ['reconcile', input.reconcileSeconds]] as const) {
      if (seconds !== undefined && (!Number.isInteger(seconds) || seconds < 0)) throw badSource(`the ${what} interval ${seconds} is not a whole number of seconds`, 'e.g. 300 (0 for none)');
    }
    const uuid = sourceUuid(input.type, url);
    const others = (await store.listRepositories()).filter((repository) => repository.uuid !== uuid && repository.name.toLowerCase() === name.toLowerCase());
    if (others.length > 0) throw new SluiceError('SOURCE_NAME_TAKEN', `"${name}" already names ${others[0]!.uuid}`, { status: 409, fix: 'Choose another name' });

    if (input.check !== false) {
      // Proves the URL, the API generation and the login before anything is stored.
      const probe = this.buildClient(input.type, url, input.username, input.password, { current: undefined }, input.timeZone);
      const pages = probe.fetchPostsSince(0, 1);
      const first = await pages.next();
      await pages.return(undefined);
      // v2 answers public tasks whatever the credentials; only the admin task (status reads) checks them.
      const post = first.done ? undefined : first.value.posts[0];
      if (input.type === 'ushahidi-v2' && input.username !== undefined && post) await probe.getStatus(post.id);
    }

    const existing = await store.getRepository(uuid);
    const at = now();
    const config: Record<string, unknown> = {
      ...(existing?.config ?? {}),
      source: 'ushahidi',
      resource,
      status_field: statusField,
      page_size: pageSize,
      // Ushahidi does not push to us; the passive endpoint must not take it for an Eden peer.
      accept_push: false,
    };
    delete config.username;
    delete config.password;
    if (input.username !== undefined) {
      config.username = input.username;
      config.password = deps.secrets.seal(input.password!, uuid);
    }
    if (input.mapping !== undefined) config[MAPPING_KEY] = input.mapping;
    if (input.timeZone !== undefined) config.time_zone = input.timeZone;
    const record: RepositoryRecord = { uuid, name, apitype: input.type, url, config, created_at: existing?.created_at ?? at, updated_at: at };
    await store.putRepository(record);
    await this.upsertJob(syncJobId(uuid), 'sync', uuid, input.pollSeconds ?? DEFAULT_POLL_SECONDS, input.pollSeconds === undefined);
    await this.upsertJob(reconcileJobId(uuid), RECONCILE_JOB_KIND, uuid, input.reconcileSeconds ?? DEFAULT_RECONCILE_SECONDS, input.reconcileSeconds === undefined);
    await new SyncLogWriter(store, clock, { repository: uuid }).write({
      mode: 'none/none',
      action: 'configure',
      result: 'success',
      message: `${existing ? 'Updated' : 'Added'} Ushahidi source ${name} (${input.type}) at ${url}: posts become ${resource} records`,
    });
    return sourceView(record);
  }

  async list(): Promise<SourceView[]> {
    return (await this.store.listRepositories()).filter(isSource).map(sourceView);
  }

  async remove(reference: string): Promise<void> {
    const repository = await this.resolve(reference);
    const jobs = (await this.store.listJobs({ target: repository.uuid })).map((job) => job.id);
    for (const job of jobs) await this.store.deleteJob(job);
    // A poll in progress keeps the source's run lease until it ends (lease.ts deleteLeasesOf).
    await deleteLeasesOf({ store: this.store, now: this.clock.now().getTime() }, { jobs, runLease: syncLeaseName(repository.uuid) });
    await this.store.deleteCheckpoints(sourceTaskId(repository.uuid));
    await this.store.deleteRepository(repository.uuid);
    this.clients.delete(repository.uuid);
    await new SyncLogWriter(this.store, this.clock, { repository: repository.uuid }).write({
      mode: 'none/none',
      action: 'delete',
      result: 'success',
      message: `Removed Ushahidi source ${repository.name} with its schedules and cursors (its tickets stay)`,
    });
  }

  async close(): Promise<void> {
    this.clients.clear();
    const closing = this.engine;
    this.engine = undefined;
    if (!closing) return;
    // The engine waits for its sandbox process to exit, and an idle sandbox is unreferenced: hold
    // the event loop open meanwhile, or a CLI process ends with that wait unsettled (exit 13).
    const hold = setInterval(() => undefined, 1_000);
    try {
      await closing.close();
    } finally {
      clearInterval(hold);
    }
  }

  // ---- clients --------------------------------------------------------------------------------

  private buildClient(type: SourceType, url: string, username: string | undefined, password: string | undefined, tap: CachedClient['tap'], timeZone?: string): UshahidiSourceClient {
    const { deps, clock } = this;
    const transport = this.transport;
    const now = () => this.now();
    const tapped: HttpTransport = async (req) => {
      const at = now();
      const run = tap.current;
      const mode = req.url.includes('/oauth/token') ? 'login' : req.method === 'GET' ? (run?.phase ?? 'pull') : 'push';
      try {
        const res = await transport(req);
        run?.recorder.record({ at, mode, method: req.method, url: req.url, status: res.status, requestBody: redactedBody(req), responseBody: redactedResponse(req, res) });
        if (res.status >= 500 || res.status === 429 || res.status === 408) run?.onTransient(`${req.method} ${new URL(req.url).pathname} answered HTTP ${res.status}`);
        return res;
      } catch (error) {
        const failure = asSluiceError(error);
        run?.recorder.record({ at, mode, method: req.method, url: req.url, requestBody: redactedBody(req), error: `${failure.code}: ${failure.message}` });
        run?.onTransient(`${req.method} ${new URL(req.url).pathname} failed (${failure.code})`);
        throw error;
      }
    };
    const common = {
      baseUrl: url,
      transport: tapped,
      ...(deps.retry?.policy ? { retry: deps.retry.policy } : {}),
      ...(deps.retry?.sleep ? { sleep: deps.retry.sleep } : {}),
      ...(deps.retry?.random ? { random: deps.retry.random } : {}),
      clock,
    };
    if (type === 'ushahidi-v5') {
      if (username === undefined || password === undefined) {
        throw new SluiceError('USHAHIDI_CREDENTIALS_REQUIRED', 'A v5 source needs a user (email) and password for its OAuth login', {
          status: 400,
          severity: 'job',
          fix: 'Give --user and --password of an account with the admin role or "Manage Posts"',
        });
      }
      return new UshahidiV5Client({ ...common, username, password });
    }
    return new UshahidiV2Client({
      ...common,
      ...(username === undefined || password === undefined ? {} : { username, password }),
      ...(timeZone === undefined ? {} : { timeZone }),
    });
  }

  private clientFor(repository: RepositoryRecord, settings: SourceSettings): CachedClient {
    const signature = JSON.stringify([repository.apitype, repository.url, settings.username, settings.password, settings.time_zone]);
    const cached = this.clients.get(repository.uuid);
    if (cached?.signature === signature) return cached;
    const tap: CachedClient['tap'] = { current: undefined };
    const password = settings.password === undefined ? undefined : this.deps.secrets.open(settings.password, repository.uuid);
    const client = this.buildClient(repository.apitype as SourceType, repository.url ?? '', settings.username, password, tap, settings.time_zone);
    const entry = { signature, client, tap };
    this.clients.set(repository.uuid, entry);
    return entry;
  }

  private async contextFor(repository: RepositoryRecord, signal: AbortSignal | undefined): Promise<{ ctx: StatusSyncContext; cached: CachedClient }> {
    const settings = sourceSettings(repository);
    if (!repository.url) throw new SluiceError('NO_REPOSITORY_URL', `Source ${repository.name} has no URL`, { status: 400 });
    const document = effectiveMappingDocument(settings.mapping === undefined ? undefined : await this.deps.readMapping(settings.mapping), settings);
    const cached = this.clientFor(repository, settings);
    const profile: SourceProfile = {
      uuid: repository.uuid,
      name: repository.name,
      api: settings.api,
      deployment: deploymentDomain(repository.url),
      resource: settings.resource,
      statusField: settings.status_field,
      pageSize: settings.page_size,
    };
    const ctx: StatusSyncContext = {
      store: this.store,
      clock: this.clock,
      client: cached.client,
      source: profile,
      transform: this.transform,
      mapping: statusMappingOf(document, settings, { text: generateMappingXslt(document) }),
      ...(signal ? { signal } : {}),
    };
    return { ctx, cached };
  }

  // ---- runs -----------------------------------------------------------------------------------

  /** Runs `work` for a source under its lease, with a run record and log lines, like a repository's run. */
  private async runUnderLease(repository: RepositoryRecord, request: RunRequest, kind: string, work: Work): Promise<RunOutcome & { reconcile?: ReconcileResult }> {
    const { store, clock, deps } = this;
    const lease = await takeRunLease({ store, clock, holder: deps.holder, ttlMs: deps.leaseTtlMs, ...(deps.isHolderAlive ? { isHolderAlive: deps.isHolderAlive } : {}) }, repository.uuid);
    try {
      const startedMs = clock.now().getTime();
      const run: RunRecord = {
        id: randomUUID(),
        kind,
        repository: repository.uuid,
        ...(request.job === undefined ? {} : { job: request.job }),
        trigger: request.trigger,
        holder: deps.holder,
        status: 'running',
        started_at: this.now(),
        counts: {},
        bytes_in: 0,
        bytes_out: 0,
        captures: [],
      };
      await store.putRun(run);
      deps.logger.info({ source: repository.uuid, name: repository.name, run: run.id, kind, trigger: request.trigger }, 'ushahidi run started');
      const log = new SyncLogWriter(store, clock, { repository: repository.uuid, run_id: run.id });
      const recorder = new CaptureRecorder(deps.captureLimits);
      const outcome: WorkOutcome = {
        results: [],
        failures: [],
        status: 'success',
        counts: {},
        async fail(error, mode, action) {
          const failure = asSluiceError(error);
          outcome.failures.push(failure);
          const result = resultOfFailure(failure);
          outcome.status = worse(outcome.status, result);
          await log.write({ mode, action, result, remote: isRemoteFailure(failure), resource: sourceSettings(repository).resource, message: `${failure.code}: ${failure.message}${failure.fix ? ` (${failure.fix})` : ''}` });
        },
      };
      const tap: RunTap = {
        recorder,
        phase: 'pull',
        onTransient: (what) => {
          void log.write({ mode: `${tap.phase}/outgoing`, action: 'retry', result: 'warning', remote: true, message: `${what}; the request is retried with backoff when it is safe to repeat` });
        },
      };
      let cached: CachedClient | undefined;
      try {
        const built = await this.contextFor(repository, lease.signal);
        cached = built.cached;
        cached.tap.current = tap;
        await work(built.ctx, log, tap, outcome);
      } catch (error) {
        await outcome.fail(error, 'none/none', 'check');
      } finally {
        if (cached && cached.tap.current === tap) cached.tap.current = undefined;
      }
      const finishedAt = clock.now();
      const status: RunStatus = lease.signal.aborted && outcome.failures.length > 0 ? 'interrupted' : outcome.status;
      const finished: RunRecord = {
        ...run,
        status,
        finished_at: formatTimestamp(finishedAt),
        duration_ms: Math.max(0, finishedAt.getTime() - startedMs),
        counts: outcome.counts,
        bytes_in: recorder.bytesIn,
        bytes_out: recorder.bytesOut,
        message: outcome.failures.length
          ? outcome.failures.map((failure) => `${failure.code}: ${failure.message}`).join('; ').slice(0, 2000)
          : `polled ${plural(outcome.counts.pull_records ?? 0, 'post')}, pushed ${plural(outcome.counts.push_updated ?? 0, 'status', 'statuses')}`,
        captures: recorder.captures(),
      };
      await store.putRun(finished);
      deps.logger.info({ source: repository.uuid, run: run.id, status, ms: finished.duration_ms, counts: outcome.counts }, 'ushahidi run finished');
      if (deps.keepCaptures !== undefined) await store.trimRunCaptures(deps.keepCaptures);
      return { run: finished, results: outcome.results, failures: outcome.failures, ...(outcome.reconcile ? { reconcile: outcome.reconcile } : {}) };
    } finally {
      await lease.release();
    }
  };


  /** Poll, then push (not after a failed poll: first hear the deployment, as Eden does with peers). */
  private async pollAndPush(ctx: StatusSyncContext, log: SyncLogWriter, tap: RunTap, outcome: WorkOutcome): Promise<void> {
    const { deps } = this;
    let polled: PollResult;
    try {
      polled = await pollSource({
        ...ctx,
        importStylesheet: { path: deps.importStylesheet },
        ...(deps.transformBatch === undefined ? {} : { transformBatch: deps.transformBatch }),
        ...(deps.readAhead === undefined ? {} : { readAhead: deps.readAhead }),
        ...(deps.pollTimings === undefined ? {} : { timings: deps.pollTimings }),
      });
    } catch (error) {
      await outcome.fail(error, 'pull/outgoing', 'import');
      await log.write({ mode: 'push/outgoing', action: 'send', result: 'warning', resource: ctx.source.resource, message: 'Status push skipped because the poll failed' });
      return;
    }
    outcome.results.push(polled);
    addCounts(outcome.counts, polled);
    if (polled.statusConflicts > 0) outcome.counts.status_conflicts = polled.statusConflicts;
    const pollResult = polled.statusConflicts > 0 ? 'warning' : resultOfReplication(polled);
    outcome.status = worse(outcome.status, pollResult);
    const unmapped = polled.unmapped.map((u) => `unmapped ${u.field} "${u.value}" ×${u.count} (${u.action})`);
    await log.write({
      mode: 'pull/outgoing',
      action: 'import',
      result: pollResult,
      resource: ctx.source.resource,
      message: [`${summary(polled, 'post', 'posts')}; cursor ${describeCursor(polled.checkpoint.before)} → ${describeCursor(polled.checkpoint.after)}`, ...polled.problems, ...unmapped].join('; '),
    });
    tap.phase = 'push';
    try {
      const pushed = await pushStatuses(ctx);
      outcome.results.push(pushed);
      addCounts(outcome.counts, pushed);
      outcome.status = worse(outcome.status, resultOfReplication(pushed));
      await log.write({
        mode: 'push/outgoing',
        action: 'send',
        result: resultOfReplication(pushed),
        resource: ctx.source.resource,
        message: [summary(pushed, 'changed status', 'changed statuses'), ...pushed.problems].join('; '),
      });
    } catch (error) {
      await outcome.fail(error, 'push/outgoing', 'send');
    }
  }

  private async reconcileWork(ctx: StatusSyncContext, log: SyncLogWriter, tap: RunTap, outcome: WorkOutcome): Promise<void> {
    tap.phase = 'reconcile';
    try {
      const result = await reconcileSource(ctx);
      outcome.reconcile = result;
      outcome.results.push(result.pulled, result.pushed);
      addCounts(outcome.counts, result.pulled);
      addCounts(outcome.counts, result.pushed);
      outcome.counts.reconcile_checked = result.checked;
      outcome.counts.reconcile_untracked = result.untracked;
      outcome.counts.status_conflicts = result.conflicts;
      const verdict: LogResult = result.conflicts > 0 || result.pushed.errors > 0 || result.pushed.skipped > 0 || result.pulled.errors > 0 ? 'warning' : 'success';
      outcome.status = worse(outcome.status, verdict);
      await log.write({
        mode: 'none/none',
        action: 'reconcile',
        result: verdict,
        resource: ctx.source.resource,
        message: [
          `${plural(result.checked, 'post')} compared: ${result.pulled.records} changed in Ushahidi and applied, ${plural(result.pushed.updated, 'status', 'statuses')} sent, ${result.conflicts} changed on both sides, ${result.untracked} not imported yet`,
          ...result.problems,
        ].join('; '),
      });
    } catch (error) {
      await outcome.fail(error, 'none/none', 'reconcile');
    }
  }

  private async upsertJob(id: string, kind: string, target: string, seconds: number, keepExisting: boolean): Promise<void> {
    const existing = await this.store.getJob(id);
    if (existing && keepExisting) return;
    if (seconds <= 0) {
      if (existing) {
        await this.store.deleteJob(id);
        await deleteLeasesOf({ store: this.store, now: this.clock.now().getTime() }, { jobs: [id] });
      }
      return;
    }
    const at = this.now();
    await this.store.putJob({ id, kind, target, interval_seconds: seconds, enabled: true, created_at: existing?.created_at ?? at, updated_at: at });
  }
}

export function createUshahidiSources(deps: UshahidiSourcesDeps): UshahidiSources {
  return new UshahidiSourceService(deps);
}
