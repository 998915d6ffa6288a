/**
 * The documents captured in the run history, seen as sample inputs: what a peer sent us (a pull's
 * response: inbound) and what we sent it (a push's request: outbound). The transform preview and
 * the mapping editor offer them as input; the mapping editor reads remote values from them.
 */
import type { RunCapture, RunRecord, Store } from '../store/store.js';

export interface CapturedPayload {
  run: string;
  repository?: string;
  /** Position in the run's captures. */
  index: number;
  at: string;
  mode: string;
  resource?: string;
  method: string;
  url: string;
  status?: number;
  /** inbound = the peer's document to us; outbound = ours to the peer. */
  direction: 'inbound' | 'outbound';
  bytes: number;
  truncated: boolean;
}

/** The document of a capture, and which way it went; undefined when there is none. */
export function payloadOf(capture: RunCapture): { direction: 'inbound' | 'outbound'; body: string } | undefined {
  if (capture.mode.startsWith('push') && capture.request_body) return { direction: 'outbound', body: capture.request_body };
  if (capture.response_body && (capture.mode.startsWith('pull') || capture.method === 'GET')) return { direction: 'inbound', body: capture.response_body };
  return undefined;
}

function looksLikeDocument(body: string): boolean {
  const start = body.trimStart();
  return start.startsWith('<') || start.startsWith('{') || start.startsWith('[');
}

export function describePayloads(run: RunRecord): CapturedPayload[] {
  const found: CapturedPayload[] = [];
  run.captures.forEach((capture, index) => {
    const payload = payloadOf(capture);
    if (!payload || !looksLikeDocument(payload.body)) return;
    found.push({
      run: run.id,
      ...(run.repository === undefined ? {} : { repository: run.repository }),
      index,
      at: capture.at,
      mode: capture.mode,
      ...(capture.resource === undefined ? {} : { resource: capture.resource }),
      method: capture.method,
      url: capture.url,
      ...(capture.status === undefined ? {} : { status: capture.status }),
      direction: payload.direction,
      bytes: Buffer.byteLength(payload.body, 'utf8'),
      truncated: capture.truncated,
    });
  });
  return found;
}

/** Recent captured documents, newest run first, optionally of some repositories only. */
export async function recentPayloads(store: Store, options: { repositories?: string[]; runs?: number; limit?: number } = {}): Promise<CapturedPayload[]> {
  const runs: RunRecord[] = [];
  if (options.repositories) {
    for (const repository of options.repositories) runs.push(...(await store.listRuns({ repository, limit: options.runs ?? 20 })));
    runs.sort((a, b) => (a.started_at < b.started_at ? 1 : a.started_at > b.started_at ? -1 : 0));
  } else {
    runs.push(...(await store.listRuns({ limit: options.runs ?? 20 })));
  }
  return runs.flatMap(describePayloads).slice(0, options.limit ?? 50);
}

export async function payloadText(store: Store, runId: string, index: number): Promise<(CapturedPayload & { body: string }) | undefined> {
  const run = await store.getRun(runId);
  const capture = run?.captures[index];
  if (!run || !capture) return undefined;
  const described = describePayloads(run).find((entry) => entry.index === index);
  const payload = payloadOf(capture);
  return described && payload ? { ...described, body: payload.body } : undefined;
}
