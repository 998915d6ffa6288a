/**
 * Just enough XPath lexing to answer the questions the compiler and the sandbox ask of a
 * stylesheet without a full XPath parser: which variables does it reference, which functions
 * does it call (and with which literal first argument), which keys does it use. String literals
 * and comments are recognised so that `'$x'` or `(: doc() :)` are not mistaken for code.
 */

export type XPathToken =
  | { kind: 'string'; value: string; start: number; end: number }
  | { kind: 'name'; value: string; start: number; end: number }
  | { kind: 'variable'; value: string; start: number; end: number }
  | { kind: 'symbol'; value: string; start: number; end: number };

const NAME_START = /[A-Za-z_\u00C0-\uFFFF]/;
const NAME_CHAR = /[A-Za-z0-9_.\-\u00B7\u00C0-\uFFFF]/;

function readNCName(text: string, from: number): number {
  let i = from;
  if (i < text.length && NAME_START.test(text[i]!)) {
    i++;
    while (i < text.length && NAME_CHAR.test(text[i]!)) i++;
  }
  return i;
}

/** Reads a QName or an EQName (`Q{uri}local`) starting at `from`; returns the end index. */
function readQName(text: string, from: number): number {
  if (text.startsWith('Q{', from)) {
    const close = text.indexOf('}', from + 2);
    if (close < 0) return from;
    return readNCName(text, close + 1);
  }
  let end = readNCName(text, from);
  if (end > from && text[end] === ':' && text[end + 1] !== ':' && NAME_START.test(text[end + 1] ?? '')) {
    end = readNCName(text, end + 1);
  }
  return end;
}

/**
 * Splits an XPath expression into tokens. Whitespace and `(: comments :)` are dropped. The lexer
 * never throws: anything it does not understand becomes a one-character symbol.
 */
export function tokenizeXPath(expression: string): XPathToken[] {
  const tokens: XPathToken[] = [];
  let i = 0;
  const text = expression;
  while (i < text.length) {
    const ch = text[i]!;
    if (ch === ' ' || ch === '\t' || ch === '\n' || ch === '\r') {
      i++;
      continue;
    }
    if (ch === '(' && text[i + 1] === ':') {
      let depth = 1;
      i += 2;
      while (i < text.length && depth > 0) {
        if (text[i] === '(' && text[i + 1] === ':') {
          depth++;
          i += 2;
        } else if (text[i] === ':' && text[i + 1] === ')') {
          depth--;
          i += 2;
        } else i++;
      }
      continue;
    }
    if (ch === '"' || ch === "'") {
      const start = i;
      let value = '';
      i++;
      while (i < text.length) {
        if (text[i] === ch) {
          if (text[i + 1] === ch) {
            value += ch;
            i += 2;
            continue;
          }
          break;
        }
        value += text[i];
        i++;
      }
      i++;
      tokens.push({ kind: 'string', value, start, end: Math.min(i, text.length) });
      continue;
    }
    if (ch === '$') {
      const start = i;
      let j = i + 1;
      while (j < text.length && /\s/.test(text[j]!)) j++;
      const end = readQName(text, j);
      if (end > j) {
        tokens.push({ kind: 'variable', value: text.slice(j, end), start, end });
        i = end;
        continue;
      }
      tokens.push({ kind: 'symbol', value: '$', start, end: i + 1 });
      i++;
      continue;
    }
    if (NAME_START.test(ch) || text.startsWith('Q{', i)) {
      const end = readQName(text, i);
      if (end > i) {
        tokens.push({ kind: 'name', value: text.slice(i, end), start: i, end });
        i = end;
        continue;
      }
    }
    if (/[0-9.]/.test(ch)) {
      let j = i + 1;
      while (j < text.length && /[0-9.eE]/.test(text[j]!)) j++;
      tokens.push({ kind: 'symbol', value: text.slice(i, j), start: i, end: j });
      i = j;
      continue;
    }
    tokens.push({ kind: 'symbol', value: ch, start: i, end: i + 1 });
    i++;
  }
  return tokens;
}

export interface FunctionCall {
  /** The name as written (`doc`, `fn:doc`, `Q{…}doc`). */
  name: string;
  /** The first argument when it is a plain string literal, e.g. `document('labels.xml')`. */
  literalArgument?: string;
  /** True when the call has no arguments at all. */
  noArguments: boolean;
}

/** Node tests and keywords that look like function calls but are not. */
const NOT_FUNCTIONS = new Set([
  'node', 'text', 'comment', 'processing-instruction', 'element', 'attribute', 'document-node',
  'schema-element', 'schema-attribute', 'namespace-node', 'item', 'empty-sequence', 'if', 'function',
  'map', 'array', 'switch', 'typeswitch',
]);

export interface XPathReferences {
  /** Variables referenced (not bound by the expression itself). */
  variables: string[];
  /** Range variables and inline-function parameters the expression binds itself. */
  bound: string[];
  calls: FunctionCall[];
  /** Named function references such as `doc#1`, which call a function without `name(`. */
  functionReferences: string[];
}

/** Lists the variables referenced and the functions called in one XPath expression. */
export function xpathReferences(expression: string): XPathReferences {
  const tokens = tokenizeXPath(expression);
  const variables: string[] = [];
  const bound: string[] = [];
  const calls: FunctionCall[] = [];
  const functionReferences: string[] = [];
  /** Paren depth at which an inline function's parameter list closes, while inside one. */
  let parameterListDepth = -1;
  let depth = 0;
  for (let k = 0; k < tokens.length; k++) {
    const token = tokens[k]!;
    if (token.kind === 'symbol' && token.value === '(') depth++;
    if (token.kind === 'symbol' && token.value === ')') {
      if (depth === parameterListDepth) parameterListDepth = -1;
      depth--;
    }
    if (token.kind === 'variable') {
      const next = tokens[k + 1];
      const afterNext = tokens[k + 2];
      // `for $x in`, `some $x in`, `let $x :=`, `function($x as …)`: bindings, not references.
      const binds =
        parameterListDepth >= 0 ||
        (next?.kind === 'name' && (next.value === 'in' || next.value === 'as')) ||
        (next?.kind === 'symbol' && next.value === ':' && afterNext?.kind === 'symbol' && afterNext.value === '=');
      (binds ? bound : variables).push(token.value);
      continue;
    }
    if (token.kind === 'name' && token.value === 'function' && tokens[k + 1]?.kind === 'symbol' && tokens[k + 1]!.value === '(') {
      parameterListDepth = depth + 1;
      continue;
    }
    if (token.kind !== 'name') continue;
    const next = tokens[k + 1];
    const previous = tokens[k - 1];
    // `child::name(` cannot happen, but an axis step `@name` or a name after `/` followed by `(` is
    // still a function call in XPath 3, so only the keyword list is excluded.
    if (next?.kind === 'symbol' && next.value === '(' && !NOT_FUNCTIONS.has(token.value)) {
      if (previous?.kind === 'symbol' && previous.value === '@') continue;
      const first = tokens[k + 2];
      const after = tokens[k + 3];
      const call: FunctionCall = { name: token.value, noArguments: first?.kind === 'symbol' && first.value === ')' };
      if (first?.kind === 'string' && after?.kind === 'symbol' && (after.value === ')' || after.value === ',')) {
        call.literalArgument = first.value;
      }
      calls.push(call);
    } else if (next?.kind === 'symbol' && next.value === '#') {
      functionReferences.push(token.value);
    }
  }
  return { variables, bound, calls, functionReferences };
}

/** One piece of an attribute value template: literal text or an `{expression}`. */
export type AvtPart = { kind: 'text'; text: string } | { kind: 'expression'; expression: string; start: number; end: number };

/**
 * Splits an attribute value template into text and expressions. `start`/`end` of an expression
 * part are the offsets of the expression text inside the attribute value (without the braces).
 * Braces inside string literals do not close an expression, as XSLT requires.
 */
export function splitAttributeValueTemplate(value: string): AvtPart[] {
  const parts: AvtPart[] = [];
  let text = '';
  let i = 0;
  while (i < value.length) {
    const ch = value[i]!;
    if (ch === '{' && value[i + 1] === '{') {
      text += '{';
      i += 2;
      continue;
    }
    if (ch === '}' && value[i + 1] === '}') {
      text += '}';
      i += 2;
      continue;
    }
    if (ch === '{') {
      if (text) parts.push({ kind: 'text', text });
      text = '';
      const start = i + 1;
      let j = start;
      let quote: string | undefined;
      while (j < value.length) {
        const c = value[j]!;
        if (quote) {
          if (c === quote) quote = undefined;
        } else if (c === '"' || c === "'") quote = c;
        else if (c === '}') break;
        j++;
      }
      parts.push({ kind: 'expression', expression: value.slice(start, j), start, end: j });
      i = j + 1;
      continue;
    }
    text += ch;
    i++;
  }
  if (text) parts.push({ kind: 'text', text });
  return parts;
}

/** The local part of a lexical QName or EQName. */
export function localName(name: string): string {
  if (name.startsWith('Q{')) return name.slice(name.indexOf('}') + 1);
  const colon = name.indexOf(':');
  return colon < 0 ? name : name.slice(colon + 1);
}

/** The prefix of a lexical QName ('' when none, undefined for an EQName). */
export function prefixOf(name: string): string | undefined {
  if (name.startsWith('Q{')) return undefined;
  const colon = name.indexOf(':');
  return colon < 0 ? '' : name.slice(0, colon);
}
