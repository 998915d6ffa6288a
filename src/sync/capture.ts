/**
 * What came over the wire, for the run history: every request/response pair of a run with the
 * bodies cut to a cap, and at most so many pairs per run (the first ones and the last ones are the
 * interesting ones; the middle of a 200-page pull is not). Authorization headers are never kept.
 */
import type { RunCapture } from '../store/store.js';

export interface CaptureLimits {
  /** Characters kept of each body (default 16 KiB). */
  bodyChars: number;
  /** Pairs kept per run: the first half and the last half of this many (default 20). */
  perRun: number;
}

export const DEFAULT_CAPTURE_LIMITS: CaptureLimits = { bodyChars: 16 * 1024, perRun: 20 };

export interface CaptureInput {
  at: string;
  mode: string;
  resource?: string;
  method: string;
  url: string;
  status?: number;
  requestBody?: Buffer;
  responseBody?: Buffer;
  error?: string;
}

function cut(body: Buffer | undefined, limit: number): { text?: string; truncated: boolean } {
  if (body === undefined || body.length === 0) return { truncated: false };
  // Decoding only the head keeps a 100 MB body from being turned into a 100 MB string.
  const head = body.subarray(0, limit * 4).toString('utf8');
  return head.length > limit ? { text: head.slice(0, limit), truncated: true } : { text: head, truncated: body.length > limit * 4 };
}

/** Strips credentials a URL might carry (user:password@host). */
function safeUrl(url: string): string {
  try {
    const parsed = new URL(url);
    parsed.username = '';
    parsed.password = '';
    return parsed.toString();
  } catch {
    return url;
  }
}

export class CaptureRecorder {
  private readonly head: RunCapture[] = [];
  private tail: RunCapture[] = [];
  private dropped = 0;
  bytesIn = 0;
  bytesOut = 0;

  constructor(private readonly limits: CaptureLimits = DEFAULT_CAPTURE_LIMITS) {}

  record(input: CaptureInput): void {
    this.bytesOut += input.requestBody?.length ?? 0;
    this.bytesIn += input.responseBody?.length ?? 0;
    const request = cut(input.requestBody, this.limits.bodyChars);
    const response = cut(input.responseBody, this.limits.bodyChars);
    const capture: RunCapture = {
      at: input.at,
      mode: input.mode,
      ...(input.resource === undefined ? {} : { resource: input.resource }),
      method: input.method,
      url: safeUrl(input.url),
      ...(input.status === undefined ? {} : { status: input.status }),
      request_bytes: input.requestBody?.length ?? 0,
      response_bytes: input.responseBody?.length ?? 0,
      ...(request.text === undefined ? {} : { request_body: request.text }),
      ...(response.text === undefined ? {} : { response_body: response.text }),
      truncated: request.truncated || response.truncated,
      ...(input.error === undefined ? {} : { error: input.error }),
    };
    const headRoom = Math.ceil(this.limits.perRun / 2);
    if (this.head.length < headRoom) {
      this.head.push(capture);
      return;
    }
    this.tail.push(capture);
    const tailRoom = this.limits.perRun - headRoom;
    if (this.tail.length > tailRoom) {
      this.tail = this.tail.slice(this.tail.length - tailRoom);
      this.dropped += 1;
    }
  }

  /** The kept pairs in order; `skipped` says how many from the middle were left out. */
  captures(): RunCapture[] {
    return [...this.head, ...this.tail];
  }

  get skipped(): number {
    return this.dropped;
  }
}
