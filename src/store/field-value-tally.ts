import { dataValue, type FieldValue } from '../s3xml/model.js';

/** One (raw value attribute, label text) pair of a data field with how often it occurs. */
export interface FieldSample {
  raw?: string;
  text?: string;
  count: number;
}

export interface FieldValueTally {
  value: FieldValue;
  count: number;
  text?: string;
}

function mostFrequent(counts: Map<string, number>): string | undefined {
  let best: string | undefined;
  let bestCount = -1;
  for (const [text, count] of counts) {
    if (count > bestCount || (count === bestCount && best !== undefined && text < best)) {
      best = text;
      bestCount = count;
    }
  }
  return best;
}

/**
 * `fieldValues` semantics shared by every store: samples are merged by decoded machine value,
 * most frequent first (ties in value order), each with its most frequent label; NULLs left out.
 */
export function tallyFieldValues(field: string, samples: Iterable<FieldSample>, limit?: number): FieldValueTally[] {
  const merged = new Map<string, { value: FieldValue; count: number; texts: Map<string, number> }>();
  for (const sample of samples) {
    const value = dataValue({ field, ...(sample.raw !== undefined ? { value: sample.raw } : {}), ...(sample.text !== undefined ? { text: sample.text } : {}) });
    if (value === null) continue;
    const key = JSON.stringify(value);
    let entry = merged.get(key);
    if (!entry) {
      entry = { value, count: 0, texts: new Map() };
      merged.set(key, entry);
    }
    entry.count += sample.count;
    if (sample.text !== undefined) entry.texts.set(sample.text, (entry.texts.get(sample.text) ?? 0) + sample.count);
  }
  const results = [...merged.entries()]
    .sort(([keyA, a], [keyB, b]) => b.count - a.count || (keyA < keyB ? -1 : keyA > keyB ? 1 : 0))
    .map(([, entry]) => {
      const result: FieldValueTally = { value: entry.value, count: entry.count };
      const label = mostFrequent(entry.texts);
      if (label !== undefined) result.text = label;
      return result;
    });
  return limit === undefined ? results : results.slice(0, limit);
}
