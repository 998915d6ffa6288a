/**
 * The repository registry (Eden's sync_repository) with fingerprint-first registration: a peer is
 * first asked who it is without credentials (`GET /sync/config.json`, which Sluice peers serve);
 * the operator confirms that uuid; only then are credentials sent, with Eden's registration
 * (`POST /sync/repository/register.json`), whose `sender` must be the same uuid. Eden peers have
 * no fingerprint page, so for them the uuid is learnt from that registration reply (credentials
 * go out first — said so to the operator before asking).
 *
 * Passwords are sealed with the secret box (owner = the repository uuid) before they reach the
 * store, and views of a repository never carry them.
 */
import { SluiceError } from '../errors.js';
import type { RetryOptions } from '../net/retry.js';
import type { SecretBox } from '../secrets.js';
import { formatTimestamp, type Clock } from '../s3xml/timestamps.js';
import type { RepositoryRecord, Store } from '../store/store.js';
import { PeerClient, type PeerCredentials, type PeerFingerprint } from './peer-client.js';
import { peerSettings, withPeerSettings, type PeerSettings, type PeerSoftware } from './peer-settings.js';
import { deleteLeasesOf } from './lease.js';
import { syncLeaseName } from './runner.js';
import { SyncLogWriter } from './sync-log.js';
import { echoCheckpointId } from '../transports/echo-suppression.js';
import { applyLowBandwidthPatch, lowBandwidthSettings, withLowBandwidthSettings, type LowBandwidthPatch, type WireFormat } from '../transports/low-bandwidth-settings.js';
import type { PeerTransport } from './transport.js';

export interface RegistryDeps {
  store: Store;
  clock: Clock;
  transport: PeerTransport;
  secrets: SecretBox;
  identity: { uuid: string; name: string };
  timeoutMs: number;
  retry?: RetryOptions;
  defaultProxy?: () => Promise<string | undefined>;
}

/** What the API and the CLI show of a repository: everything but the password. */
export interface RepositoryView {
  uuid: string;
  name: string;
  apitype: string;
  url?: string;
  username?: string;
  has_password: boolean;
  proxy?: string;
  accept_push: boolean;
  software: PeerSoftware;
  peer_name?: string;
  registered_at?: string;
  registered_by_peer?: boolean;
  /** Low-bandwidth options (src/transports/low-bandwidth-settings.ts). */
  wire_format: WireFormat;
  max_bytes_per_second?: number;
  page_size?: number;
  created_at: string;
  updated_at: string;
}

export interface PeerIdentity {
  uuid: string;
  name?: string;
  software: PeerSoftware;
  /** Where the uuid came from: the credential-free fingerprint, or Eden's registration reply. */
  source: 'config.json' | 'register.json';
}

export interface RepositoryInput {
  name: string;
  url: string;
  username?: string;
  password?: string;
  proxy?: string;
  accept_push?: boolean;
  /** The uuid the operator confirmed; adding fails if the peer now says otherwise. */
  expect_uuid?: string;
  /** Register this gateway with the peer (Eden does at create); default true. */
  register?: boolean;
  /** `s3json` only for Sluice peers (WIRE_FORMAT_UNSUPPORTED otherwise). */
  wire_format?: WireFormat;
  max_bytes_per_second?: number;
  page_size?: number;
}

export interface RepositoryPatch {
  name?: string;
  url?: string;
  username?: string | null;
  password?: string | null;
  proxy?: string | null;
  accept_push?: boolean;
  wire_format?: WireFormat;
  max_bytes_per_second?: number | null;
  page_size?: number | null;
}

export function repositoryView(repository: RepositoryRecord): RepositoryView {
  const settings = peerSettings(repository);
  return {
    uuid: repository.uuid,
    name: repository.name,
    apitype: repository.apitype,
    ...(repository.url === undefined ? {} : { url: repository.url }),
    ...(settings.username === undefined ? {} : { username: settings.username }),
    has_password: settings.password !== undefined,
    ...(settings.proxy === undefined ? {} : { proxy: settings.proxy }),
    accept_push: settings.accept_push,
    software: settings.software,
    ...(settings.peer_name === undefined ? {} : { peer_name: settings.peer_name }),
    ...(settings.registered_at === undefined ? {} : { registered_at: settings.registered_at }),
    ...(settings.registered_by_peer ? { registered_by_peer: true } : {}),
    ...lowBandwidthSettings(repository.config),
    created_at: repository.created_at,
    updated_at: repository.updated_at,
  };
}

function checkUrl(url: string, what = 'URL'): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new SluiceError('BAD_REPOSITORY', `${what} "${url}" is not a URL`, { status: 400, fix: 'Give the peer\'s base URL, e.g. https://eden.example.org/eden' });
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new SluiceError('BAD_REPOSITORY', `${what} "${url}" is not http(s)`, { status: 400, fix: 'Use an http:// or https:// URL' });
  }
  if (parsed.username || parsed.password) {
    throw new SluiceError('BAD_REPOSITORY', `${what} must not carry credentials`, { status: 400, fix: 'Give the username and password separately; they are stored encrypted' });
  }
  return url.replace(/\/+$/, '');
}

function lowBandwidthPatchOf(input: RepositoryInput | RepositoryPatch): LowBandwidthPatch {
  return {
    ...(input.wire_format === undefined ? {} : { wire_format: input.wire_format }),
    ...(input.max_bytes_per_second === undefined ? {} : { max_bytes_per_second: input.max_bytes_per_second }),
    ...(input.page_size === undefined ? {} : { page_size: input.page_size }),
  };
}

export class RepositoryRegistry {
  constructor(private readonly deps: RegistryDeps) {}

  private now(): string {
    return formatTimestamp(this.deps.clock.now());
  }

  private async client(url: string, proxy: string | undefined, credentials?: PeerCredentials): Promise<PeerClient> {
    const effectiveProxy = proxy ?? (await this.deps.defaultProxy?.());
    return new PeerClient({
      baseUrl: url,
      ...(credentials ? { credentials } : {}),
      ...(effectiveProxy ? { proxy: effectiveProxy } : {}),
      transport: this.deps.transport,
      timeoutMs: this.deps.timeoutMs,
      ...(this.deps.retry ? { retry: this.deps.retry } : {}),
      clock: this.deps.clock,
    });
  }

  /**
   * Who is at `url`, asked without credentials. Sluice peers answer; for an Eden peer (no such page)
   * this returns undefined and the uuid comes from registration.
   */
  async fingerprint(url: string, proxy?: string): Promise<PeerIdentity | undefined> {
    const identity = await this.identify(url, proxy);
    return identity ? { uuid: identity.uuid, ...(identity.name === undefined ? {} : { name: identity.name }), software: 'sluice', source: 'config.json' } : undefined;
  }

  /** The fingerprint with the peer's bundle signing key (kept with the repository, src/bundles). */
  private async identify(url: string, proxy?: string): Promise<PeerFingerprint | undefined> {
    return (await this.client(checkUrl(url), proxy)).fingerprint();
  }

  async list(): Promise<RepositoryView[]> {
    return (await this.deps.store.listRepositories()).map(repositoryView);
  }

  /** A repository by uuid or by name (names compare case-insensitively). */
  async resolve(reference: string): Promise<RepositoryRecord> {
    const byUuid = await this.deps.store.getRepository(reference);
    if (byUuid) return byUuid;
    const matches = (await this.deps.store.listRepositories()).filter((repository) => repository.name.toLowerCase() === reference.toLowerCase());
    if (matches.length === 1) return matches[0]!;
    if (matches.length > 1) {
      throw new SluiceError('REPOSITORY_AMBIGUOUS', `${matches.length} repositories are called "${reference}"`, { status: 409, fix: 'Name the repository by its uuid' });
    }
    throw new SluiceError('REPOSITORY_NOT_FOUND', `There is no repository "${reference}"`, { status: 404, fix: 'List repositories with sluice repo list (or GET /api/repositories)' });
  }

  async add(input: RepositoryInput): Promise<RepositoryView> {
    const name = input.name.trim();
    if (name === '' || name.length > 64) throw new SluiceError('BAD_REPOSITORY', 'A repository needs a name of 1 to 64 characters', { status: 400 });
    const url = checkUrl(input.url);
    const proxy = input.proxy ? checkUrl(input.proxy, 'proxy') : undefined;
    if ((input.username === undefined) !== (input.password === undefined)) {
      throw new SluiceError('BAD_REPOSITORY', 'Give both a username and a password, or neither', { status: 400 });
    }
    const credentials = input.username !== undefined ? { username: input.username, password: input.password! } : undefined;
    const register = input.register ?? true;
    const log = new SyncLogWriter(this.deps.store, this.deps.clock, {});

    const fingerprint = await this.identify(url, proxy);
    if (fingerprint && input.expect_uuid !== undefined && fingerprint.uuid !== input.expect_uuid) {
      throw new SluiceError('PEER_IDENTITY_CHANGED', `The peer at ${url} now says it is ${fingerprint.uuid}, not the confirmed ${input.expect_uuid}`, {
        status: 409,
        fix: 'Nothing was sent and nothing stored. Check that the URL reaches the peer you expect, then fingerprint it again',
      });
    }
    if (!fingerprint && !credentials) {
      throw new SluiceError('PEER_FINGERPRINT_UNAVAILABLE', `The peer at ${url} does not publish its uuid (an Eden instance); it tells it only when this gateway registers with credentials`, {
        status: 400,
        fix: 'Give the peer\'s username (Eden: the email) and password',
      });
    }
    // Checked before anything is sent: a bad option must not cost the peer a registration.
    applyLowBandwidthPatch(lowBandwidthSettings({}), lowBandwidthPatchOf(input), { software: fingerprint ? 'sluice' : 'eden', name });
    let uuid = fingerprint?.uuid;
    let registeredAt: string | undefined;
    if (register && credentials) {
      const client = await this.client(url, proxy, credentials);
      const { sender } = await client.register(this.deps.identity);
      if (uuid !== undefined && sender !== uuid) {
        throw new SluiceError('PEER_IDENTITY_MISMATCH', `The peer at ${url} published ${uuid} but registered as ${sender}`, {
          status: 409,
          fix: 'Something between here and the peer answers for it (a proxy or another server); check the URL',
        });
      }
      if (uuid === undefined && input.expect_uuid !== undefined && sender !== input.expect_uuid) {
        throw new SluiceError('PEER_IDENTITY_CHANGED', `The peer at ${url} registered as ${sender}, not the confirmed ${input.expect_uuid}`, {
          status: 409,
          fix: 'Nothing was stored here; check the URL',
        });
      }
      uuid = sender;
      registeredAt = this.now();
    }
    if (uuid === undefined) {
      throw new SluiceError('PEER_FINGERPRINT_UNAVAILABLE', `Cannot learn the uuid of the peer at ${url} without registering`, {
        status: 400,
        fix: 'Allow registration (it is what tells an Eden peer who we are and tells us who it is)',
      });
    }
    if (uuid === this.deps.identity.uuid) {
      throw new SluiceError('PEER_IS_SELF', `${url} is this gateway itself`, { status: 400, fix: 'Register the other gateway\'s URL' });
    }
    const existing = await this.deps.store.getRepository(uuid);
    const base = existing ? peerSettings(existing) : undefined;
    const settings: PeerSettings = {
      accept_push: input.accept_push ?? base?.accept_push ?? true,
      software: fingerprint ? 'sluice' : 'eden',
      ...(base?.registered_by_peer ? { registered_by_peer: true } : {}),
      ...(credentials ? { username: credentials.username, password: this.deps.secrets.seal(credentials.password, uuid) } : {}),
      ...(proxy ? { proxy } : {}),
      ...(fingerprint?.name ? { peer_name: fingerprint.name } : base?.peer_name ? { peer_name: base.peer_name } : {}),
      ...(registeredAt ? { registered_at: registeredAt } : base?.registered_at ? { registered_at: base.registered_at } : {}),
    };
    const lowBandwidth = applyLowBandwidthPatch(lowBandwidthSettings(existing?.config ?? {}), lowBandwidthPatchOf(input), { software: settings.software, name });
    const at = this.now();
    const record: RepositoryRecord = {
      uuid,
      name,
      apitype: 'eden',
      url,
      config: withLowBandwidthSettings(
        { ...withPeerSettings(existing?.config ?? {}, settings), ...(fingerprint?.public_key ? { public_key: fingerprint.public_key } : {}) },
        lowBandwidth,
      ),
      created_at: existing?.created_at ?? at,
      updated_at: at,
    };
    await this.deps.store.putRepository(record);
    await log.write({
      mode: 'register/outgoing',
      action: 'request registration',
      result: 'success',
      message: `${existing ? 'Updated' : 'Added'} repository ${name} (${uuid}, ${settings.software}) at ${url}${registeredAt ? '; registered with the peer' : ''}`,
    });
    return repositoryView(record);
  }

  /** Registers this gateway with the peer again (after the peer lost its registrations, say). */
  async register(reference: string): Promise<RepositoryView> {
    const repository = await this.resolve(reference);
    const settings = peerSettings(repository);
    if (!repository.url) throw new SluiceError('NO_REPOSITORY_URL', `Repository ${repository.name} has no URL`, { status: 400 });
    if (settings.username === undefined || settings.password === undefined) {
      throw new SluiceError('BAD_REPOSITORY', `Repository ${repository.name} has no credentials to register with`, { status: 400, fix: 'Set a username and password first' });
    }
    const client = await this.client(repository.url, settings.proxy, {
      username: settings.username,
      password: this.deps.secrets.open(settings.password, repository.uuid),
    });
    const { sender } = await client.register(this.deps.identity);
    if (sender !== repository.uuid) {
      throw new SluiceError('PEER_IDENTITY_MISMATCH', `The peer at ${repository.url} registered as ${sender}, not ${repository.uuid}`, {
        status: 409,
        fix: 'Another instance answers at that URL now; remove this repository and add the new one',
      });
    }
    const at = this.now();
    const updated: RepositoryRecord = { ...repository, config: withPeerSettings(repository.config, { ...settings, registered_at: at }), updated_at: at };
    await this.deps.store.putRepository(updated);
    await new SyncLogWriter(this.deps.store, this.deps.clock, { repository: repository.uuid }).write({
      mode: 'register/outgoing',
      action: 'request registration',
      result: 'success',
      message: `Registered with ${repository.name} again`,
    });
    return repositoryView(updated);
  }

  async update(reference: string, patch: RepositoryPatch): Promise<RepositoryView> {
    const repository = await this.resolve(reference);
    const settings = peerSettings(repository);
    const next: PeerSettings = { ...settings };
    if (patch.username !== undefined) {
      if (patch.username === null) delete next.username;
      else next.username = patch.username;
    }
    if (patch.password !== undefined) {
      if (patch.password === null) delete next.password;
      else next.password = this.deps.secrets.seal(patch.password, repository.uuid);
    }
    if (patch.proxy !== undefined) {
      if (patch.proxy === null || patch.proxy === '') delete next.proxy;
      else next.proxy = checkUrl(patch.proxy, 'proxy');
    }
    if (patch.accept_push !== undefined) next.accept_push = patch.accept_push;
    const url = patch.url === undefined ? repository.url : checkUrl(patch.url);
    if (patch.url !== undefined && url !== repository.url && next.software === 'sluice') {
      // A new address must still be the same peer.
      const found = await this.fingerprint(url!, next.proxy);
      if (found && found.uuid !== repository.uuid) {
        throw new SluiceError('PEER_IDENTITY_CHANGED', `${url} is ${found.uuid}, not ${repository.uuid}`, { status: 409, fix: 'Add the other peer as a repository of its own' });
      }
    }
    const name = patch.name?.trim() || repository.name;
    const lowBandwidth = applyLowBandwidthPatch(lowBandwidthSettings(repository.config), lowBandwidthPatchOf(patch), { software: next.software, name });
    const at = this.now();
    const updated: RepositoryRecord = {
      ...repository,
      name,
      ...(url === undefined ? {} : { url }),
      config: withLowBandwidthSettings(withPeerSettings(repository.config, next), lowBandwidth),
      updated_at: at,
    };
    await this.deps.store.putRepository(updated);
    return repositoryView(updated);
  }

  /**
   * Removes the repository with its tasks (and their checkpoints), jobs (Eden's ondelete) and their
   * leases; a run in progress keeps the repository's lease until it ends (lease.ts deleteLeasesOf).
   */
  async remove(reference: string): Promise<void> {
    const repository = await this.resolve(reference);
    for (const task of await this.deps.store.listTasks({ repository: repository.uuid })) await this.deps.store.deleteTask(task.id);
    const jobs = (await this.deps.store.listJobs({ target: repository.uuid })).map((job) => job.id);
    for (const job of jobs) await this.deps.store.deleteJob(job);
    await deleteLeasesOf({ store: this.deps.store, now: this.deps.clock.now().getTime() }, { jobs, runLease: syncLeaseName(repository.uuid) });
    // What the pulls from it wrote (transports/echo-suppression.ts) means nothing once it is gone.
    await this.deps.store.deleteCheckpoints(echoCheckpointId(repository.uuid));
    await this.deps.store.deleteRepository(repository.uuid);
    await new SyncLogWriter(this.deps.store, this.deps.clock, { repository: repository.uuid }).write({
      mode: 'none/none',
      action: 'delete',
      result: 'success',
      message: `Removed repository ${repository.name} with its tasks and schedule`,
    });
  }
}
