/**
 * Sessions for the web console: people sign in with a form and get a cookie; peers keep using
 * HTTP Basic (basic-auth.ts). Also CSRF tokens (one per session, compared in constant time) and a
 * rate limiter for sign-in attempts. Nothing here knows about HTTP frameworks: the console route
 * wires these into express.
 *
 * Sessions live in the memory of one process: a restart signs everyone out, which is the safe
 * failure for an admin console, and keeps session ids out of the store and its backups.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { Clock } from '../s3xml/timestamps.js';

export const SESSION_COOKIE = 'sluice_session';
/** A short-lived token for the sign-in form itself (login CSRF), before there is a session. */
export const LOGIN_COOKIE = 'sluice_login';

export interface Session {
  /** Sent to the browser as the cookie value; never logged. */
  id: string;
  username: string;
  /** Sent back in forms (`_csrf`) and in `X-CSRF-Token` by scripts. */
  csrfToken: string;
  createdAt: number;
  lastSeenAt: number;
}

export interface SessionOptions {
  /** A session unused this long ends (default 8 hours). */
  idleTimeoutMs?: number;
  /** A session ends this long after sign-in, used or not (default 7 days). */
  maxAgeMs?: number;
  /** Oldest sessions are dropped beyond this many (default 10,000): memory stays bounded. */
  maxSessions?: number;
}

function token(): string {
  return randomBytes(32).toString('base64url');
}

/** Constant-time comparison of two tokens; false for anything missing or of another length. */
export function tokensMatch(expected: string | undefined, given: unknown): boolean {
  if (typeof expected !== 'string' || typeof given !== 'string' || expected === '' || given === '') return false;
  const a = Buffer.from(expected, 'utf8');
  const b = Buffer.from(given, 'utf8');
  return a.length === b.length && timingSafeEqual(a, b);
}

export class SessionStore {
  private readonly sessions = new Map<string, Session>();
  private readonly idleTimeoutMs: number;
  private readonly maxAgeMs: number;
  private readonly maxSessions: number;

  constructor(
    private readonly clock: Clock,
    options: SessionOptions = {},
  ) {
    this.idleTimeoutMs = options.idleTimeoutMs ?? 8 * 60 * 60 * 1000;
    this.maxAgeMs = options.maxAgeMs ?? 7 * 24 * 60 * 60 * 1000;
    this.maxSessions = options.maxSessions ?? 10_000;
  }

  private now(): number {
    return this.clock.now().getTime();
  }

  /** How long the cookie should live, in seconds (the absolute limit; idleness is checked here). */
  get cookieMaxAgeSeconds(): number {
    return Math.floor(this.maxAgeMs / 1000);
  }

  create(username: string): Session {
    const now = this.now();
    if (this.sessions.size >= this.maxSessions) {
      // Map iteration order is insertion order: the first key is the oldest session.
      const oldest = this.sessions.keys().next().value;
      if (oldest !== undefined) this.sessions.delete(oldest);
    }
    const session: Session = { id: token(), username, csrfToken: token(), createdAt: now, lastSeenAt: now };
    this.sessions.set(session.id, session);
    return session;
  }

  /** The live session with this id (and marks it used), or undefined when unknown or expired. */
  get(id: string | undefined): Session | undefined {
    if (!id) return undefined;
    const session = this.sessions.get(id);
    if (!session) return undefined;
    const now = this.now();
    if (now - session.lastSeenAt > this.idleTimeoutMs || now - session.createdAt > this.maxAgeMs) {
      this.sessions.delete(id);
      return undefined;
    }
    session.lastSeenAt = now;
    return session;
  }

  destroy(id: string | undefined): void {
    if (id) this.sessions.delete(id);
  }

  /** Ends every session of a user (password changed, roles taken away). */
  destroyUser(username: string, except?: string): number {
    let ended = 0;
    for (const [id, session] of this.sessions) {
      if (session.username === username && id !== except) {
        this.sessions.delete(id);
        ended += 1;
      }
    }
    return ended;
  }

  get size(): number {
    return this.sessions.size;
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
