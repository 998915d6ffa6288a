/**
 * Scripted failures and the request log: the two things tests use to make the fake misbehave on
 * cue and to count what reached it.
 */

export type Fault =
  /** Answer with this status (500 by default) and body, then carry on normally. */
  | { kind: 'status'; status?: number; body?: string; headers?: Record<string, string> }
  /** Destroy the socket without answering. */
  | { kind: 'drop' }
  /** Handle the request (state changes happen), then destroy the socket instead of answering. */
  | { kind: 'lose-response' }
  /** Hold the request for `ms` before handling it (forever, until close, when absent). */
  | { kind: 'stall'; ms?: number };

export interface RequestMatcher {
  method?: string;
  /** Exact path, or a pattern for the path. */
  path?: string | RegExp;
  /** Classic v2 routes everything through `/api`; match its `task` parameter. */
  task?: string;
  where?: (request: ObservedRequest) => boolean;
}

export interface ObservedRequest {
  seq: number;
  method: string;
  path: string;
  /** Query parameters, plus form-body parameters for v2 POSTs. */
  params: Record<string, string>;
  body: string;
  authorization: string | undefined;
  /** Filled in when the answer is sent; undefined for dropped or stalled requests. */
  status?: number;
  fault?: Fault['kind'];
  at: number;
}

interface PlannedFault {
  matcher: RequestMatcher;
  fault: Fault;
  remaining: number;
}

export function matches(matcher: RequestMatcher, request: ObservedRequest): boolean {
  if (matcher.method && matcher.method.toUpperCase() !== request.method) return false;
  if (typeof matcher.path === 'string' && matcher.path !== request.path) return false;
  if (matcher.path instanceof RegExp && !matcher.path.test(request.path)) return false;
  if (matcher.task !== undefined && request.params.task !== matcher.task) return false;
  if (matcher.where && !matcher.where(request)) return false;
  return true;
}

export class FaultPlan {
  private readonly planned: PlannedFault[] = [];

  add(matcher: RequestMatcher, fault: Fault, times: number): void {
    if (times > 0) this.planned.push({ matcher, fault, remaining: times });
  }

  /** The first planned fault matching this request, consumed by one. */
  take(request: ObservedRequest): Fault | undefined {
    const index = this.planned.findIndex((p) => matches(p.matcher, request));
    if (index < 0) return undefined;
    const planned = this.planned[index]!;
    planned.remaining -= 1;
    if (planned.remaining <= 0) this.planned.splice(index, 1);
    return planned.fault;
  }

  get pending(): number {
    return this.planned.reduce((sum, p) => sum + p.remaining, 0);
  }

  clear(): void {
    this.planned.length = 0;
  }
}

export class RequestLog {
  readonly entries: ObservedRequest[] = [];
  private readonly listeners = new Set<(request: ObservedRequest) => void>();
  private seq = 0;

  record(entry: Omit<ObservedRequest, 'seq'>): ObservedRequest {
    const observed: ObservedRequest = { ...entry, seq: ++this.seq };
    this.entries.push(observed);
    for (const listener of this.listeners) listener(observed);
    return observed;
  }

  filter(matcher: RequestMatcher = {}): ObservedRequest[] {
    return this.entries.filter((entry) => matches(matcher, entry));
  }

  subscribe(listener: (request: ObservedRequest) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  clear(): void {
    this.entries.length = 0;
  }
}
