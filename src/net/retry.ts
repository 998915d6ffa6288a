import { SluiceError } from '../errors.js';

/**
 * One retry policy for every outbound HTTP layer (Eden peers, Ushahidi, feeds). The defaults live
 * here and nowhere else; callers override single fields.
 *
 * What is retried: transport failures (reset, refused, DNS, socket closed), timeouts, 5xx and the
 * "slow down" statuses 408/425/429. What is not: every other 4xx, because repeating a request the
 * server has judged wrong only repeats the verdict.
 */
export interface RetryPolicy {
  /** Total tries including the first one. */
  maxAttempts: number;
  /** Upper bound of the first backoff window. */
  baseDelayMs: number;
  /** No single wait (backoff or Retry-After) exceeds this. */
  maxDelayMs: number;
  /** Growth of the backoff window per attempt. */
  factor: number;
  retryStatuses: readonly number[];
  /** Error codes (Node errno or undici `UND_ERR_*`) that mark a transport failure worth retrying. */
  retryErrorCodes: readonly string[];
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = Object.freeze({
  maxAttempts: 5,
  baseDelayMs: 250,
  maxDelayMs: 30_000,
  factor: 2,
  retryStatuses: Object.freeze([408, 425, 429, 500, 502, 503, 504]),
  retryErrorCodes: Object.freeze([
    'ECONNRESET',
    'ECONNREFUSED',
    'ECONNABORTED',
    'ETIMEDOUT',
    'EPIPE',
    'ENETUNREACH',
    'EHOSTUNREACH',
    'ENOTFOUND',
    'EAI_AGAIN',
    'UND_ERR_SOCKET',
    'UND_ERR_CLOSED',
    'UND_ERR_CONNECT_TIMEOUT',
    'UND_ERR_HEADERS_TIMEOUT',
    'UND_ERR_BODY_TIMEOUT',
    'UPSTREAM_TIMEOUT',
    'UPSTREAM_UNREACHABLE',
  ]),
});

export function retryPolicy(overrides: Partial<RetryPolicy> = {}): RetryPolicy {
  return { ...DEFAULT_RETRY_POLICY, ...overrides };
}

/**
 * A response whose status the caller treats as a failure. It carries what the retry loop needs:
 * the upstream status and the server's Retry-After, already converted to milliseconds.
 */
export class UpstreamStatusError extends SluiceError {
  readonly upstreamStatus: number;
  readonly retryAfterMs: number | undefined;

  constructor(
    code: string,
    message: string,
    upstreamStatus: number,
    options: { retryAfterMs?: number; fix?: string; details?: Record<string, unknown> } = {},
  ) {
    super(code, message, {
      status: 502,
      severity: 'job',
      fix: options.fix,
      details: { upstreamStatus, ...options.details },
    });
    this.upstreamStatus = upstreamStatus;
    this.retryAfterMs = options.retryAfterMs;
  }
}

/**
 * Retry-After is either delta-seconds or an HTTP date (RFC 9110 §10.2.3). Returns undefined for
 * anything else, so a garbled header falls back to ordinary backoff instead of waiting forever.
 */
export function parseRetryAfter(header: string | undefined, nowMs: number): number | undefined {
  if (header === undefined) return undefined;
  const text = header.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  const at = Date.parse(text);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - nowMs);
}

/** "Full jitter" backoff: a uniform wait in [0, min(cap, base·factor^(attempt-1))]. */
export function backoffDelay(attempt: number, policy: RetryPolicy, random: () => number): number {
  const window = Math.min(policy.maxDelayMs, policy.baseDelayMs * policy.factor ** Math.max(0, attempt - 1));
  return Math.floor(random() * window);
}

export type RetryDecision = { retry: false } | { retry: true; afterMs?: number };

function errorCodesOf(error: unknown): string[] {
  const codes: string[] = [];
  let current: unknown = error;
  // Follow `cause` a few levels: fetch-style errors wrap the socket error one or two deep.
  for (let depth = 0; depth < 4 && current !== null && typeof current === 'object'; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string') codes.push(code);
    current = (current as { cause?: unknown }).cause;
  }
  return codes;
}

/** The policy's verdict on one failure. */
export function classifyFailure(error: unknown, policy: RetryPolicy): RetryDecision {
  if (error instanceof UpstreamStatusError) {
    if (!policy.retryStatuses.includes(error.upstreamStatus)) return { retry: false };
    return error.retryAfterMs === undefined ? { retry: true } : { retry: true, afterMs: error.retryAfterMs };
  }
  const codes = errorCodesOf(error);
  if (codes.some((code) => policy.retryErrorCodes.includes(code))) return { retry: true };
  return { retry: false };
}

export interface RetryEvent {
  attempt: number;
  delayMs: number;
  error: unknown;
}

export interface RetryOptions {
  policy?: RetryPolicy;
  /** Injected so tests pass `async () => {}` and run at full speed. */
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
  /** Overrides the policy's verdict, e.g. to refuse retrying a non-idempotent write. */
  classify?: (error: unknown, policy: RetryPolicy) => RetryDecision;
  onRetry?: (event: RetryEvent) => void;
}

export const realSleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Runs `operation` until it succeeds, the failure is not retryable, or the attempts run out; the
 * last error is rethrown unchanged so callers keep matching on its `code`.
 */
export async function withRetry<T>(operation: (attempt: number) => Promise<T>, options: RetryOptions = {}): Promise<T> {
  const policy = options.policy ?? DEFAULT_RETRY_POLICY;
  const sleep = options.sleep ?? realSleep;
  const random = options.random ?? Math.random;
  const classify = options.classify ?? classifyFailure;
  for (let attempt = 1; ; attempt++) {
    try {
      return await operation(attempt);
    } catch (error) {
      const decision = classify(error, policy);
      if (!decision.retry || attempt >= policy.maxAttempts) throw error;
      const delayMs = Math.min(policy.maxDelayMs, decision.afterMs ?? backoffDelay(attempt, policy, random));
      options.onRetry?.({ attempt, delayMs, error });
      await sleep(delayMs);
    }
  }
}
