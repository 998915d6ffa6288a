/**
 * A line diff (longest common subsequence after trimming the common head and tail), for mapping
 * versions. Documents here are small; past a size cap the middle is shown as replaced whole
 * rather than spending quadratic time on it.
 */
import { html, type Html } from './html.js';

export type DiffLine = { kind: 'same' | 'add' | 'remove'; text: string };

const MAX_CELLS = 4_000_000;

export function diffLines(before: string, after: string): DiffLine[] {
  const a = before.split('\n');
  const b = after.split('\n');
  let head = 0;
  while (head < a.length && head < b.length && a[head] === b[head]) head += 1;
  let tail = 0;
  while (tail < a.length - head && tail < b.length - head && a[a.length - 1 - tail] === b[b.length - 1 - tail]) tail += 1;
  const midA = a.slice(head, a.length - tail);
  const midB = b.slice(head, b.length - tail);
  const out: DiffLine[] = a.slice(0, head).map((text) => ({ kind: 'same', text }));
  if (midA.length * midB.length > MAX_CELLS) {
    out.push(...midA.map((text) => ({ kind: 'remove' as const, text })), ...midB.map((text) => ({ kind: 'add' as const, text })));
  } else {
    out.push(...lcsDiff(midA, midB));
  }
  out.push(...a.slice(a.length - tail).map((text) => ({ kind: 'same' as const, text })));
  return out;
}

function lcsDiff(a: string[], b: string[]): DiffLine[] {
  const n = a.length;
  const m = b.length;
  // lengths[i][j] = LCS of a[i..] and b[j..], in one flat array.
  const width = m + 1;
  const lengths = new Uint32Array((n + 1) * width);
  for (let i = n - 1; i >= 0; i -= 1) {
    for (let j = m - 1; j >= 0; j -= 1) {
      lengths[i * width + j] = a[i] === b[j] ? lengths[(i + 1) * width + j + 1]! + 1 : Math.max(lengths[(i + 1) * width + j]!, lengths[i * width + j + 1]!);
    }
  }
  const out: DiffLine[] = [];
  let i = 0;
  let j = 0;
  while (i < n && j < m) {
    if (a[i] === b[j]) {
      out.push({ kind: 'same', text: a[i]! });
      i += 1;
      j += 1;
    } else if (lengths[(i + 1) * width + j]! >= lengths[i * width + j + 1]!) {
      out.push({ kind: 'remove', text: a[i]! });
      i += 1;
    } else {
      out.push({ kind: 'add', text: b[j]! });
      j += 1;
    }
  }
  while (i < n) out.push({ kind: 'remove', text: a[i++]! });
  while (j < m) out.push({ kind: 'add', text: b[j++]! });
  return out;
}

export function changeCount(lines: readonly DiffLine[]): { added: number; removed: number } {
  return {
    added: lines.filter((line) => line.kind === 'add').length,
    removed: lines.filter((line) => line.kind === 'remove').length,
  };
}

/** The diff as a block, unchanged runs folded to `context` lines around each change. */
export function renderDiff(lines: readonly DiffLine[], context = 3): Html {
  const keep = new Array<boolean>(lines.length).fill(false);
  lines.forEach((line, index) => {
    if (line.kind === 'same') return;
    for (let k = Math.max(0, index - context); k <= Math.min(lines.length - 1, index + context); k += 1) keep[k] = true;
  });
  const parts: Html[] = [];
  let folded = 0;
  const flush = () => {
    if (folded > 0) parts.push(html`<span class="diff-fold">… ${folded} unchanged line${folded === 1 ? '' : 's'}</span>\n`);
    folded = 0;
  };
  lines.forEach((line, index) => {
    if (!keep[index]) {
      folded += 1;
      return;
    }
    flush();
    const mark = line.kind === 'add' ? '+' : line.kind === 'remove' ? '-' : ' ';
    parts.push(html`<span class="diff-${line.kind}">${mark} ${line.text}</span>\n`);
  });
  flush();
  if (!lines.some((line) => line.kind !== 'same')) return html`<p class="empty">No differences.</p>`;
  return html`<pre class="diff">${parts}</pre>`;
}
