/**
 * Sessions for the web console: people sign in with a form and get a cookie; peers keep using
 * HTTP Basic (basic-auth.ts). Also CSRF tokens (one per session, compared in constant time) and a
 * rate limiter for sign-in attempts. Nothing here knows about HTTP frameworks: the console route
 * wires these into express.
 *
 * Sessions live in the store, so every gateway process on one store (several nodes on one MongoDB,
 * issue #9) knows the same sign-ins and a restart keeps them. They used to live in one process's
 * memory to keep session ids out of the store and its backups; that still holds: the store keys a
 * session by the SHA-256 of its id, and the CSRF token is derived from the id (an HMAC), so nothing
 * stored can be presented as a cookie or a token. Expired sessions are swept in bounded batches
 * at sign-in, never all at once.
 */
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Clock } from '../s3xml/timestamps.js';
import type { ConsoleSessionRecord, Store } from '../store/store.js';

export const SESSION_COOKIE = 'sluice_session';
/** A short-lived token for the sign-in form itself (login CSRF), before there is a session. */
export const LOGIN_COOKIE = 'sluice_login';

export interface Session {
  /** Sent to the browser as the cookie value; never logged, never stored. */
  id: string;
  /** The store's key: SHA-256 of the id, hex. */
  idHash: string;
  username: string;
  /** Sent back in forms (`_csrf`) and in `X-CSRF-Token` by scripts. */
  csrfToken: string;
  createdAt: number;
  lastSeenAt: number;
  /** A one-time message for the next page (text owned by the console). */
  flash?: string;
}

export interface SessionOptions {
  /** A session unused this long ends (default 8 hours). */
  idleTimeoutMs?: number;
  /** A session ends this long after sign-in, used or not (default 7 days). */
  maxAgeMs?: number;
  /**
   * Use is written to the store at most this often per session (default 1 minute): a write per
   * request would cost every page a round trip. Idleness is therefore measured to within this.
   */
  touchIntervalMs?: number;
  /** Expired sessions deleted per sweep (default 500), so a sweep never stalls a sign-in. */
  sweepBatch?: number;
  /** Sweeps at most this often (default 10 minutes). */
  sweepIntervalMs?: number;
}

/** What the session layer needs of the store. */
export type SessionPersistence = Pick<
  Store,
  'getConsoleSession' | 'putConsoleSession' | 'updateConsoleSession' | 'deleteConsoleSession' | 'deleteUserConsoleSessions' | 'deleteExpiredConsoleSessions'
>;

function token(): string {
  return randomBytes(32).toString('base64url');
}

/** The store's key for a session id. */
export function sessionIdHash(id: string): string {
  return createHash('sha256').update(id, 'utf8').digest('hex');
}

/** The session's CSRF token: derived from the id, so the store need not (and does not) keep it. */
function csrfTokenOf(id: string): string {
  return createHmac('sha256', id).update('sluice console csrf').digest('base64url');
}

/** Constant-time comparison of two tokens; false for anything missing or of another length. */
export function tokensMatch(expected: string | undefined, given: unknown): boolean {
  if (typeof expected !== 'string' || typeof given !== 'string' || expected === '' || given === '') return false;
  const a = Buffer.from(expected, 'utf8');
  const b = Buffer.from(given, 'utf8');
  return a.length === b.length && timingSafeEqual(a, b);
}

/** Ids are 32 random bytes in base64url: anything else is not worth a store read. */
const SESSION_ID = /^[A-Za-z0-9_-]{43}$/;

export class SessionStore {
  private readonly idleTimeoutMs: number;
  private readonly maxAgeMs: number;
  private readonly touchIntervalMs: number;
  private readonly sweepBatch: number;
  private readonly sweepIntervalMs: number;
  private lastSweep = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly store: SessionPersistence,
    private readonly clock: Clock,
    options: SessionOptions = {},
  ) {
    this.idleTimeoutMs = options.idleTimeoutMs ?? 8 * 60 * 60 * 1000;
    this.maxAgeMs = options.maxAgeMs ?? 7 * 24 * 60 * 60 * 1000;
    this.touchIntervalMs = Math.min(options.touchIntervalMs ?? 60_000, this.idleTimeoutMs);
    this.sweepBatch = options.sweepBatch ?? 500;
    this.sweepIntervalMs = options.sweepIntervalMs ?? 10 * 60 * 1000;
  }

  private now(): number {
    return this.clock.now().getTime();
  }

  private expiresAt(createdAt: number, lastSeenAt: number): number {
    return Math.min(lastSeenAt + this.idleTimeoutMs, createdAt + this.maxAgeMs);
  }

  /** How long the cookie should live, in seconds (the absolute limit; idleness is checked here). */
  get cookieMaxAgeSeconds(): number {
    return Math.floor(this.maxAgeMs / 1000);
  }

  async create(username: string): Promise<Session> {
    const now = this.now();
    await this.sweepIfDue(now);
    const id = token();
    const record: ConsoleSessionRecord = { id_hash: sessionIdHash(id), username, created_at: now, last_seen_at: now, expires_at: this.expiresAt(now, now) };
    await this.store.putConsoleSession(record);
    return { id, idHash: record.id_hash, username, csrfToken: csrfTokenOf(id), createdAt: now, lastSeenAt: now };
  }

  /** The live session with this id (and marks it used), or undefined when unknown or expired. */
  async get(id: string | undefined): Promise<Session | undefined> {
    if (!id || !SESSION_ID.test(id)) return undefined;
    const idHash = sessionIdHash(id);
    const record = await this.store.getConsoleSession(idHash);
    if (!record) return undefined;
    const now = this.now();
    if (now - record.last_seen_at > this.idleTimeoutMs || now - record.created_at > this.maxAgeMs) {
      await this.store.deleteConsoleSession(idHash);
      return undefined;
    }
    let lastSeenAt = record.last_seen_at;
    if (now - record.last_seen_at >= this.touchIntervalMs) {
      // Another process may have ended it since the read: then it stays ended.
      if (!(await this.store.updateConsoleSession(idHash, { last_seen_at: now, expires_at: this.expiresAt(record.created_at, now) }))) return undefined;
      lastSeenAt = now;
    }
    return {
      id,
      idHash,
      username: record.username,
      csrfToken: csrfTokenOf(id),
      createdAt: record.created_at,
      lastSeenAt,
      ...(record.flash === undefined ? {} : { flash: record.flash }),
    };
  }

  async destroy(id: string | undefined): Promise<void> {
    if (id) await this.store.deleteConsoleSession(sessionIdHash(id));
  }

  /** Ends every session of a user (password changed, roles taken away, disabled, deleted). */
  async destroyUser(username: string, except?: string): Promise<number> {
    return this.store.deleteUserConsoleSessions(username, except === undefined ? undefined : sessionIdHash(except));
  }

  /** Keeps a message for the next page this session opens (on whichever process serves it). */
  async setFlash(session: Session, flash: string): Promise<void> {
    session.flash = flash;
    await this.store.updateConsoleSession(session.idHash, { flash });
  }

  /** The session's message, once: it is removed as it is read. */
  async takeFlash(session: Session): Promise<string | undefined> {
    const flash = session.flash;
    if (flash === undefined) return undefined;
    delete session.flash;
    await this.store.updateConsoleSession(session.idHash, { flash: null });
    return flash;
  }

  /** Deletes one batch of expired sessions; returns how many. */
  async sweep(): Promise<number> {
    const now = this.now();
    this.lastSweep = now;
    return this.store.deleteExpiredConsoleSessions(now, this.sweepBatch);
  }

  private async sweepIfDue(now: number): Promise<void> {
    if (now - this.lastSweep < this.sweepIntervalMs) return;
    await this.sweep();
  }
}

export interface LoginRateLimitOptions {
  /** Failed attempts allowed per key within the window before it is locked (default 5). */
  maxFailures?: number;
  /**
   * Other limits for keys starting with a prefix. Default `{ 'ip:': 30 }`: many people share one
   * address behind an office's NAT, so an address is locked later than a user name.
   */
  maxFailuresByPrefix?: Record<string, number>;
  /** How far back failures count (default 15 minutes). */
  windowMs?: number;
  /** How long a locked key stays locked (default 15 minutes). */
  lockMs?: number;
  /** Keys remembered at most (default 10,000), so a flood of names cannot exhaust memory. */
  maxKeys?: number;
}

export type RateLimitDecision = { allowed: true } | { allowed: false; retryAfterSeconds: number };

interface Attempts {
  failures: number[];
  lockedUntil: number;
}

/**
 * Counts failed sign-ins per key (the caller passes both `ip:<address>` and `user:<name>`, so
 * neither guessing many passwords for one user nor many users from one address goes unchecked).
 * A success clears the keys it names.
 */
export class LoginRateLimiter {
  private readonly attempts = new Map<string, Attempts>();
  private readonly maxFailures: number;
  private readonly maxFailuresByPrefix: [string, number][];
  private readonly windowMs: number;
  private readonly lockMs: number;
  private readonly maxKeys: number;

  constructor(
    private readonly clock: Clock,
    options: LoginRateLimitOptions = {},
  ) {
    this.maxFailures = options.maxFailures ?? 5;
    this.maxFailuresByPrefix = Object.entries(options.maxFailuresByPrefix ?? { 'ip:': 30 });
    this.windowMs = options.windowMs ?? 15 * 60 * 1000;
    this.lockMs = options.lockMs ?? 15 * 60 * 1000;
    this.maxKeys = options.maxKeys ?? 10_000;
  }

  private now(): number {
    return this.clock.now().getTime();
  }

  check(keys: readonly string[]): RateLimitDecision {
    const now = this.now();
    let until = 0;
    for (const key of keys) {
      const entry = this.attempts.get(key);
      if (entry && entry.lockedUntil > now) until = Math.max(until, entry.lockedUntil);
    }
    return until > now ? { allowed: false, retryAfterSeconds: Math.ceil((until - now) / 1000) } : { allowed: true };
  }

  recordFailure(keys: readonly string[]): void {
    const now = this.now();
    for (const key of keys) {
      let entry = this.attempts.get(key);
      if (!entry) {
        if (this.attempts.size >= this.maxKeys) {
          const oldest = this.attempts.keys().next().value;
          if (oldest !== undefined) this.attempts.delete(oldest);
        }
        entry = { failures: [], lockedUntil: 0 };
        this.attempts.set(key, entry);
      }
      entry.failures = entry.failures.filter((at) => now - at < this.windowMs);
      entry.failures.push(now);
      if (entry.failures.length >= this.limitFor(key)) {
        entry.lockedUntil = now + this.lockMs;
        entry.failures = [];
      }
    }
  }

  private limitFor(key: string): number {
    return this.maxFailuresByPrefix.find(([prefix]) => key.startsWith(prefix))?.[1] ?? this.maxFailures;
  }

  recordSuccess(keys: readonly string[]): void {
    for (const key of keys) this.attempts.delete(key);
  }
}

/** Parses a Cookie header into name → value (first occurrence wins, as browsers send the most specific first). */
export function parseCookies(header: string | undefined): Record<string, string> {
  const cookies: Record<string, string> = {};
  if (!header) return cookies;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq <= 0) continue;
    const name = part.slice(0, eq).trim();
    if (name === '' || Object.hasOwn(cookies, name)) continue;
    let value = part.slice(eq + 1).trim();
    if (value.startsWith('"') && value.endsWith('"') && value.length >= 2) value = value.slice(1, -1);
    try {
      cookies[name] = decodeURIComponent(value);
    } catch {
      cookies[name] = value;
    }
  }
  return cookies;
}

export interface CookieOptions {
  maxAgeSeconds?: number;
  /** Set on https so the cookie never travels in clear text. */
  secure: boolean;
  path?: string;
}

/** A Set-Cookie value: HttpOnly (scripts cannot read it) and SameSite=Strict (no cross-site sends). */
export function serializeCookie(name: string, value: string, options: CookieOptions): string {
  const parts = [`${name}=${encodeURIComponent(value)}`, `Path=${options.path ?? '/'}`, 'HttpOnly', 'SameSite=Strict'];
  if (options.maxAgeSeconds !== undefined) parts.push(`Max-Age=${options.maxAgeSeconds}`);
  if (options.secure) parts.push('Secure');
  return parts.join('; ');
}

export function expiredCookie(name: string, options: Omit<CookieOptions, 'maxAgeSeconds'>): string {
  return serializeCookie(name, '', { ...options, maxAgeSeconds: 0 });
}

/** A fresh random token (the sign-in form's CSRF token). */
export function newToken(): string {
  return token();
}
