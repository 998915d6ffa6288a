// Sluice console: pretty-printing, highlighting and diffing of documents, for the transform
// preview and the mapping editor. Everything is built as DOM text nodes, never as HTML strings.
'use strict';

(function () {
  const { el } = window.Sluice;

  const TOKEN = /(<!--[\s\S]*?-->|<\?[\s\S]*?\?>|<!\[CDATA\[[\s\S]*?\]\]>|<!DOCTYPE[^>]*>|<\/[^>]+>|<[^>]+\/>|<[^>]+>|[^<]+)/g;

  /** Indents an XML document for reading; whitespace-only text between elements is dropped. */
  function prettyXml(text) {
    const tokens = text.match(TOKEN);
    if (!tokens) return text;
    const out = [];
    let depth = 0;
    const pad = () => '  '.repeat(depth);
    for (let i = 0; i < tokens.length; i += 1) {
      const token = tokens[i];
      if (!token.startsWith('<')) {
        if (token.trim() !== '') out.push(pad() + token.trim());
        continue;
      }
      if (token.startsWith('</')) {
        depth = Math.max(0, depth - 1);
        out.push(pad() + token);
      } else if (token.startsWith('<?') || token.startsWith('<!') || token.endsWith('/>')) {
        out.push(pad() + token);
      } else {
        // <a>text</a> stays on one line.
        const next = tokens[i + 1];
        const after = tokens[i + 2];
        if (next !== undefined && !next.startsWith('<') && after !== undefined && after.startsWith('</')) {
          out.push(pad() + token + next + after);
          i += 2;
        } else if (next !== undefined && next.startsWith('</')) {
          out.push(pad() + token + next);
          i += 1;
        } else {
          out.push(pad() + token);
          depth += 1;
        }
      }
    }
    return out.join('\n');
  }

  /** Pretty JSON or XML, else the text as it is. */
  function pretty(text) {
    const start = text.trimStart();
    if (start.startsWith('{') || start.startsWith('[')) {
      try {
        return JSON.stringify(JSON.parse(text), null, 2);
      } catch (error) {
        return text;
      }
    }
    if (start.startsWith('<')) return prettyXml(text);
    return text;
  }

  /**
   * The same document written the same way: parsed and serialised again, so that `&quot;` against
   * `&#34;`, quote style or an XML declaration on one side only are not counted as changes. Text
   * that does not parse as XML is left as it is.
   */
  function canonicalXml(text) {
    if (!text.trimStart().startsWith('<') || typeof DOMParser === 'undefined') return text;
    const parsed = new DOMParser().parseFromString(text, 'application/xml');
    if (!parsed.documentElement || parsed.getElementsByTagName('parsererror').length) return text;
    return new XMLSerializer().serializeToString(parsed.documentElement);
  }

  /** Splits one line into highlighted pieces, carrying the state of a tag or comment across lines. */
  function tokenizeLine(line, state) {
    const pieces = [];
    let pos = 0;
    const push = (cls, text) => { if (text) pieces.push([cls, text]); };
    while (pos < line.length) {
      const rest = line.slice(pos);
      if (state === 'comment' || state === 'pi' || state === 'cdata') {
        const end = { comment: '-->', pi: '?>', cdata: ']]>' }[state];
        const at = rest.indexOf(end);
        const cls = state === 'pi' ? 'x-pi' : 'x-comment';
        if (at < 0) { push(cls, rest); pos = line.length; } else { push(cls, rest.slice(0, at + end.length)); pos += at + end.length; state = 'text'; }
        continue;
      }
      if (state === 'tag') {
        let m;
        if ((m = /^\s+/.exec(rest))) push(null, m[0]);
        else if ((m = /^\/?>/.exec(rest))) { push('x-tag', m[0]); state = 'text'; }
        else if ((m = /^[\w:.-]+(?=\s*=)/.exec(rest))) push('x-attr', m[0]);
        else if ((m = /^=/.exec(rest))) push(null, m[0]);
        else if ((m = /^("[^"]*"?|'[^']*'?)/.exec(rest))) push('x-value', m[0]);
        else { m = [rest[0]]; push(null, rest[0]); }
        pos += m[0].length;
        continue;
      }
      const lt = rest.indexOf('<');
      if (lt < 0) { push(null, rest); break; }
      push(null, rest.slice(0, lt));
      pos += lt;
      const here = line.slice(pos);
      if (here.startsWith('<!--')) { state = 'comment'; continue; }
      if (here.startsWith('<![CDATA[')) { state = 'cdata'; continue; }
      if (here.startsWith('<?')) { state = 'pi'; continue; }
      const name = /^<\/?[\w:.!-]*/.exec(here);
      push('x-tag', name[0]);
      pos += name[0].length;
      state = 'tag';
    }
    return { pieces, state };
  }

  /**
   * Shows a document in `target` highlighted, one element per line (data-line = 1-based number),
   * lines in `badLines` marked.
   */
  function showHighlighted(target, text, badLines) {
    target.textContent = '';
    const xml = text.trimStart().startsWith('<');
    let state = 'text';
    const fragment = document.createDocumentFragment();
    text.split('\n').forEach((line, index) => {
      const number = index + 1;
      const lineNode = el('span', { 'data-line': number, class: badLines && badLines.has(number) ? 'line-bad' : null });
      if (xml) {
        const result = tokenizeLine(line, state);
        state = result.state;
        for (const [cls, piece] of result.pieces) lineNode.append(cls ? el('span', { class: cls }, piece) : document.createTextNode(piece));
      } else {
        lineNode.append(line);
      }
      fragment.append(lineNode, '\n');
    });
    target.append(fragment);
  }

  /** Line diff (common head and tail trimmed, LCS in between), as the server's line-diff.ts. */
  function diffLines(before, after) {
    const a = before.split('\n');
    const b = after.split('\n');
    let head = 0;
    while (head < a.length && head < b.length && a[head] === b[head]) head += 1;
    let tail = 0;
    while (tail < a.length - head && tail < b.length - head && a[a.length - 1 - tail] === b[b.length - 1 - tail]) tail += 1;
    const midA = a.slice(head, a.length - tail);
    const midB = b.slice(head, b.length - tail);
    const out = a.slice(0, head).map((text) => ({ kind: 'same', text }));
    if (midA.length * midB.length > 4000000) {
      midA.forEach((text) => out.push({ kind: 'remove', text }));
      midB.forEach((text) => out.push({ kind: 'add', text }));
    } else {
      const n = midA.length;
      const m = midB.length;
      const width = m + 1;
      const lengths = new Uint32Array((n + 1) * width);
      for (let i = n - 1; i >= 0; i -= 1) {
        for (let j = m - 1; j >= 0; j -= 1) {
          lengths[i * width + j] = midA[i] === midB[j] ? lengths[(i + 1) * width + j + 1] + 1 : Math.max(lengths[(i + 1) * width + j], lengths[i * width + j + 1]);
        }
      }
      let i = 0;
      let j = 0;
      while (i < n && j < m) {
        if (midA[i] === midB[j]) { out.push({ kind: 'same', text: midA[i] }); i += 1; j += 1; }
        else if (lengths[(i + 1) * width + j] >= lengths[i * width + j + 1]) { out.push({ kind: 'remove', text: midA[i] }); i += 1; }
        else { out.push({ kind: 'add', text: midB[j] }); j += 1; }
      }
      while (i < n) out.push({ kind: 'remove', text: midA[i++] });
      while (j < m) out.push({ kind: 'add', text: midB[j++] });
    }
    a.slice(a.length - tail).forEach((text) => out.push({ kind: 'same', text }));
    return out;
  }

  /** Shows a diff in `target`, unchanged runs folded to three lines of context. */
  function showDiff(target, before, after) {
    target.textContent = '';
    const lines = diffLines(before, after);
    const changed = lines.filter((line) => line.kind !== 'same').length;
    if (changed === 0) {
      target.append(el('span', { class: 'diff-fold' }, 'No differences.'));
      return 0;
    }
    const keep = lines.map(() => false);
    lines.forEach((line, index) => {
      if (line.kind === 'same') return;
      for (let k = Math.max(0, index - 3); k <= Math.min(lines.length - 1, index + 3); k += 1) keep[k] = true;
    });
    let folded = 0;
    const flush = () => {
      if (folded) target.append(el('span', { class: 'diff-fold' }, `… ${folded} unchanged line${folded === 1 ? '' : 's'}`));
      folded = 0;
    };
    lines.forEach((line, index) => {
      if (!keep[index]) { folded += 1; return; }
      flush();
      const mark = line.kind === 'add' ? '+ ' : line.kind === 'remove' ? '- ' : '  ';
      target.append(el('span', { class: `diff-${line.kind}` }, mark + line.text));
    });
    flush();
    return changed;
  }

  window.SluiceXml = { pretty, prettyXml, canonicalXml, showHighlighted, diffLines, showDiff };

  // Bodies the server marks (captured exchanges on a run page) are indented for reading; the
  // server sends them as they went over the wire.
  for (const block of document.querySelectorAll('pre[data-pretty]')) {
    block.textContent = pretty(block.textContent || '');
  }
})();
