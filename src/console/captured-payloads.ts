/**
 * The documents captured in the run history, seen as sample inputs: what a peer sent us (a pull's
 * response: inbound) and what we sent it (a push's request: outbound). The transform preview and
 * the mapping editor offer them as input; the mapping editor reads remote values from them.
 */
import { SaxesParser } from 'saxes';
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

/**
 * A document cut at the capture cap, closed after its last whole top-level record so that it can
 * be transformed; undefined when not even one record is whole.
 */
export function closeCutDocument(xml: string): { text: string; records: number } | undefined {
  const parser = new SaxesParser();
  let depth = 0;
  let root: string | undefined;
  let lastEnd = -1;
  let records = 0;
  parser.on('opentag', (tag) => {
    depth += 1;
    if (depth === 1) root = tag.name;
  });
  parser.on('closetag', (tag) => {
    if (depth === 2 && tag.name === 'resource') {
      lastEnd = parser.position;
      records += 1;
    }
    depth -= 1;
  });
  try {
    parser.write(xml).close();
  } catch {
    // Expected: the document ends in the middle of something.
  }
  if (root === undefined || lastEnd < 0) return undefined;
  return { text: `${xml.slice(0, lastEnd)}\n</${root}>\n`, records };
}

export interface PayloadText extends CapturedPayload {
  body: string;
  /** For a cut XML document: how many whole records were kept when it was closed again. */
  wholeRecords?: number;
}

export async function payloadText(store: Store, runId: string, index: number): Promise<PayloadText | undefined> {
  const run = await store.getRun(runId);
  const capture = run?.captures[index];
  if (!run || !capture) return undefined;
  const described = describePayloads(run).find((entry) => entry.index === index);
  const payload = payloadOf(capture);
  if (!described || !payload) return undefined;
  if (capture.truncated && payload.body.trimStart().startsWith('<')) {
    const closed = closeCutDocument(payload.body);
    if (closed) return { ...described, body: closed.text, wholeRecords: closed.records };
  }
  return { ...described, body: payload.body };
}
