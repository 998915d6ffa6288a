/**
 * The sync module's part of a repository record (`RepositoryRecord.config`): credentials (the
 * password sealed, see secrets.ts), proxy, accept-push, what kind of peer it is. Registrations made
 * by a peer itself (POST register.json) leave only `registered_by_peer` here.
 */
import type { RepositoryRecord } from '../store/store.js';

/** `sluice` peers page their change feed exactly (since_seq); `eden` peers only know msince. */
export type PeerSoftware = 'sluice' | 'eden';

export interface PeerSettings {
  username?: string;
  /** Sealed with the secret box, owner = the repository uuid; never returned by the API. */
  password?: string;
  /** Per-repository HTTP proxy; overrides the gateway's default. */
  proxy?: string;
  /** Whether this peer may push to us (Eden's accept_push; default true). */
  accept_push: boolean;
  software: PeerSoftware;
  /** The name the peer gave for itself (config.json or its registration). */
  peer_name?: string;
  /** When we last registered with the peer (our register.json to them succeeded). */
  registered_at?: string;
  /** The peer registered itself with us (its register.json). */
  registered_by_peer?: boolean;
}

function text(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

export function peerSettings(repository: Pick<RepositoryRecord, 'config'>): PeerSettings {
  const config = repository.config;
  const settings: PeerSettings = {
    accept_push: config.accept_push !== false,
    software: config.software === 'sluice' ? 'sluice' : 'eden',
  };
  for (const key of ['username', 'password', 'proxy', 'peer_name', 'registered_at'] as const) {
    const value = text(config[key]);
    if (value !== undefined) settings[key] = value;
  }
  if (config.registered_by_peer === true) settings.registered_by_peer = true;
  return settings;
}

/** Writes settings back over the config, keeping keys other modules put there. */
export function withPeerSettings(config: Record<string, unknown>, settings: PeerSettings): Record<string, unknown> {
  const next: Record<string, unknown> = { ...config };
  for (const key of ['username', 'password', 'proxy', 'peer_name', 'registered_at'] as const) {
    if (settings[key] === undefined) delete next[key];
    else next[key] = settings[key];
  }
  next.accept_push = settings.accept_push;
  next.software = settings.software;
  if (settings.registered_by_peer) next.registered_by_peer = true;
  return next;
}
