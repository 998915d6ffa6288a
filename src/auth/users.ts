import { createHash } from 'node:crypto';
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
  return { username: options.username, generatedPassword: generated };
}

/**
 * Checks credentials. Peers send Basic credentials with every request, and scrypt is slow on
 * purpose, so a successful check is remembered for a minute by a hash of the pair.
 */
export class Authenticator {
  private readonly recent = new Map<string, { user: UserRecord; until: number }>();

  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
    private readonly ttlMs = 60_000,
  ) {}

  async authenticate(username: string, password: string): Promise<UserRecord | undefined> {
    const key = createHash('sha256').update(username).update('\0').update(password).digest('base64');
    const now = this.clock.now().getTime();
    const hit = this.recent.get(key);
    if (hit && hit.until > now) return hit.user;
    const user = await this.store.getUser(username);
    if (!user || user.disabled || !(await verifyPassword(password, user.passwordHash))) return undefined;
    if (this.recent.size > 1000) this.recent.clear();
    this.recent.set(key, { user, until: now + this.ttlMs });
    return user;
  }

  forget(): void {
    this.recent.clear();
  }
}

export function hasRole(user: UserRecord, ...roles: Role[]): boolean {
  return user.roles.includes('admin') || roles.some((role) => user.roles.includes(role));
}
