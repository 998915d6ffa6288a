/**
 * The unmapped-values report of an instance: the instance's current stylesheet run in the inbound
 * direction over the documents that recent runs with its repositories received (captured pulls,
 * which are kept as the peer sent them), counting the `sluice:mapping` reports it makes. Answers are
 * cached by stylesheet and documents, so a page reload does not transform again.
 */
import { createHash } from 'node:crypto';
import { asSluiceError } from '../errors.js';
import { parseMappingMessages, type MappingRunReport } from '../formats/mapping-generator.js';
import type { Store } from '../store/store.js';
import type { TransformEngine } from '../transform/engine.js';
import { payloadText, recentPayloads } from './captured-payloads.js';
import { repositoriesUsing } from './instance-links.js';

export interface UnmappedCount {
  direction: 'inbound' | 'outbound';
  resource: string;
  field: string;
  value: string;
  action: MappingRunReport['counts'][number]['action'];
  count: number;
}

export interface UnmappedReport {
  instance: string;
  /** Captured documents read. */
  payloads: number;
  counts: UnmappedCount[];
  rejectedRecords: string[];
  errors: string[];
}

const PAYLOADS_FOR_REPORT = 10;

export class UnmappedReports {
  private readonly cache = new Map<string, UnmappedReport>();

  constructor(
    private readonly store: Store,
    private readonly engine: Pick<TransformEngine, 'transform'>,
  ) {}

  async report(instance: string, xsl: string): Promise<UnmappedReport> {
    const repositories = await repositoriesUsing(this.store, instance);
    // A captured push is the document as sent, already through the outbound mapping: mapping it
    // again would report the peer's own values as unmapped. Outbound misses are in the sync log.
    const payloads = (await recentPayloads(this.store, { repositories: repositories.map((repository) => repository.uuid), limit: PAYLOADS_FOR_REPORT * 3 }))
      .filter((payload) => payload.direction === 'inbound')
      .slice(0, PAYLOADS_FOR_REPORT);
    const key = createHash('sha256')
      .update(xsl)
      .update(JSON.stringify(payloads.map((payload) => [payload.run, payload.index])))
      .digest('hex');
    const cached = this.cache.get(key);
    if (cached) return cached;

    const counts = new Map<string, UnmappedCount>();
    const rejected = new Set<string>();
    const errors: string[] = [];
    let read = 0;
    for (const payload of payloads) {
      const text = await payloadText(this.store, payload.run, payload.index);
      // A cut document that could not be closed again would only give a parse error.
      if (!text || (text.truncated && text.wholeRecords === undefined) || !text.body.trimStart().startsWith('<')) continue;
      try {
        const result = await this.engine.transform({ stylesheet: { text: xsl }, input: text.body, params: { direction: payload.direction } });
        read += 1;
        for (const entry of parseMappingMessages(result.messages).counts) {
          const id = JSON.stringify([payload.direction, entry.resource, entry.field, entry.value, entry.action]);
          const existing = counts.get(id);
          if (existing) existing.count += entry.count;
          else counts.set(id, { ...entry, direction: payload.direction });
        }
        for (const record of parseMappingMessages(result.messages).rejectedRecords) rejected.add(record);
      } catch (error) {
        errors.push(`run ${payload.run.slice(0, 8)} #${payload.index}: ${asSluiceError(error).message}`);
      }
    }
    const report: UnmappedReport = {
      instance,
      payloads: read,
      counts: [...counts.values()].sort((a, b) => b.count - a.count || a.field.localeCompare(b.field) || a.value.localeCompare(b.value)),
      rejectedRecords: [...rejected],
      errors,
    };
    if (this.cache.size > 20) this.cache.clear();
    this.cache.set(key, report);
    return report;
  }
}
