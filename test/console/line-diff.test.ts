import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { changeCount, diffLines, renderDiff } from '../../src/console/line-diff.js';

function side(lines: ReturnType<typeof diffLines>, kind: 'before' | 'after'): string {
  return lines
    .filter((line) => line.kind === 'same' || line.kind === (kind === 'before' ? 'remove' : 'add'))
    .map((line) => line.text)
    .join('\n');
}

describe('the line diff', () => {
  it('rebuilds both texts from its lines, whatever they are', () => {
    const text = fc.array(fc.constantFrom('a', 'b', 'c', '{', '}', ''), { maxLength: 30 }).map((lines) => lines.join('\n'));
    fc.assert(
      fc.property(text, text, (before, after) => {
        const lines = diffLines(before, after);
        assert.equal(side(lines, 'before'), before);
        assert.equal(side(lines, 'after'), after);
      }),
      { numRuns: 300 },
    );
  });

  it('marks only what changed when one line is replaced', () => {
    const lines = diffLines('a\nb\nc\nd', 'a\nb\nX\nd');
    assert.deepEqual(changeCount(lines), { added: 1, removed: 1 });
    assert.deepEqual(
      lines.filter((line) => line.kind !== 'same'),
      [
        { kind: 'remove', text: 'c' },
        { kind: 'add', text: 'X' },
      ],
    );
  });

  it('folds long unchanged runs and escapes what it shows', () => {
    const before = Array.from({ length: 40 }, (_, i) => `line ${i}`).join('\n');
    const after = before.replace('line 20', '<b>changed</b>');
    const shown = renderDiff(diffLines(before, after)).value;
    assert.match(shown, /… 17 unchanged lines/);
    assert.match(shown, /&lt;b&gt;changed&lt;\/b&gt;/);
    assert.match(renderDiff(diffLines('same', 'same')).value, /No differences/);
  });
});
