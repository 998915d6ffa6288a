import { createHmac, randomBytes } from 'node:crypto';
import type { Store, UserRecord } from '../store/store.js';
import type { Clock } from '../s3xml/timestamps.js';
import { formatTimestamp } from '../s3xml/timestamps.js';
import { generatePassword, hashPassword, verifyPassword } from './passwords.js';

export const ROLES = ['admin', 'integrator', 'analyst', 'viewer'] as const;
export type Role = (typeof ROLES)[number];

export interface AdminBootstrap {
  username: string;
  /** Set only when Sluice generated the password now; the caller prints it once. */
  generatedPassword?: string;
  /** The account existed with another password, and the configured one replaced it. */
  passwordReplaced?: boolean;
}

/**
 * Makes sure the admin user exists. SLUICE_ADMIN_PASSWORD, when given, is authoritative (it resets
 * the password at every start); otherwise a password is generated at first start only.
 */
export async function ensureAdmin(
  store: Store,
  options: { username: string; password?: string },
  clock: Clock,
): Promise<AdminBootstrap> {
  const existing = await store.getUser(options.username);
  if (existing && !options.password) return { username: options.username };
  if (existing && options.password && (await verifyPassword(options.password, existing.passwordHash))) {
    return { username: options.username };
  }
  const generated = options.password ? undefined : generatePassword();
  const password = options.password ?? generated!;
  await store.putUser({
    username: options.username,
    passwordHash: await hashPassword(password),
    roles: existing?.roles ?? ['admin'],
    created_at: existing?.created_at ?? formatTimestamp(clock.now()),
  });
  return { username: options.username, generatedPassword: generated, ...(existing && options.password ? { passwordReplaced: true } : {}) };
}

export interface AuthenticatorOptions {
  /** Verified credentials remembered at most (default 1,000); the least recently used go first. */
  maxRemembered?: number;
  /** A remembered verification unused this long is dropped (default 10 minutes). */
  idleMs?: number;
  /** The slow check of a password against its stored hash (default scrypt, passwords.ts). */
  verifyPassword?: (password: string, passwordHash: string) => Promise<boolean>;
}

/**
 * Checks credentials. Peers send HTTP Basic credentials with every request and scrypt is slow on
 * purpose, so a verified password is remembered; but several gateway processes share one store,
 * and "disabled" must mean disabled on every one of them at the next request. So the user record
 * is read from the store on every call (one indexed read, far cheaper than scrypt) and only the
 * outcome of scrypt is remembered, keyed by the stored hash as well as the credentials: disabling
 * or deleting a user, changing their password or their roles takes effect at once everywhere, and
 * nothing here needs to hear about the change.
 */
export class Authenticator {
  /** Key (see keyOf) → when it was last used; Map order is the least recently used first. */
  private readonly verified = new Map<string, number>();
  /** Checks under way, so a burst of requests with new credentials runs scrypt once, not once each. */
  private readonly checking = new Map<string, Promise<boolean>>();
  /**
   * Keys are HMACs under a random key of this instance, not a bare SHA-256 of the password: no
   * precomputed table matches them and they mean nothing outside this process.
   */
  private readonly cacheKey = randomBytes(32);
  private readonly maxRemembered: number;
  private readonly idleMs: number;
  private readonly verify: (password: string, passwordHash: string) => Promise<boolean>;

  constructor(
    private readonly store: Pick<Store, 'getUser'>,
    private readonly clock: Clock,
    options: AuthenticatorOptions = {},
  ) {
    this.maxRemembered = Math.max(1, options.maxRemembered ?? 1000);
    this.idleMs = options.idleMs ?? 10 * 60_000;
    this.verify = options.verifyPassword ?? verifyPassword;
  }

  /** The user, as the store has it now, when the credentials are right and the user is enabled. */
  async authenticate(username: string, password: string): Promise<UserRecord | undefined> {
    const user = await this.store.getUser(username);
    if (!user || user.disabled) return undefined;
    const key = this.keyOf(user, password);
    const now = this.clock.now().getTime();
    const lastUsed = this.verified.get(key);
    if (lastUsed !== undefined && now - lastUsed < this.idleMs) {
      this.remember(key, now);
      return user;
    }
    if (!(await this.check(key, password, user.passwordHash))) return undefined;
    this.remember(key, now);
    return user;
  }

  /**
   * Drops every remembered verification. Not needed for correctness (a changed record never
   * matches a remembered one); it only frees the memory at once.
   */
  forget(): void {
    this.verified.clear();
  }

  /**
   * The stored hash is part of the key: a new password (a new salt, so a new hash) leaves the old
   * entries unreachable, and an old password is checked by scrypt against the new hash. JSON keeps
   * the fields apart whatever characters they hold.
   */
  private keyOf(user: UserRecord, password: string): string {
    return createHmac('sha256', this.cacheKey).update(JSON.stringify([user.username, user.passwordHash, password])).digest('base64url');
  }

  private async check(key: string, password: string, passwordHash: string): Promise<boolean> {
    const running = this.checking.get(key);
    if (running) return running;
    const checked = this.verify(password, passwordHash).finally(() => this.checking.delete(key));
    this.checking.set(key, checked);
    return checked;
  }

  private remember(key: string, now: number): void {
    this.verified.delete(key);
    this.verified.set(key, now);
    while (this.verified.size > this.maxRemembered) {
      const oldest = this.verified.keys().next().value;
      if (oldest === undefined) break;
      this.verified.delete(oldest);
    }
  }
}

export function hasRole(user: UserRecord, ...roles: Role[]): boolean {
  return user.roles.includes('admin') || roles.some((role) => user.roles.includes(role));
}
