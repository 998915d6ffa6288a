import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { SaxesParser, type SaxesTagNS } from 'saxes';
import { SluiceError } from '../../errors.js';
import { localName, prefixOf, splitAttributeValueTemplate, xpathReferences, type FunctionCall } from './xpath-lexer.js';

/**
 * Reads a stylesheet and every module it includes or imports, and records what the Eden
 * compatibility layer and the sandbox need to know about each module: names declared and used,
 * resource-reading calls, and the exact source offsets of the attributes that the XSLT 1.0
 * compatibility rewrite changes. Nothing here runs XSLT.
 */

export const XSLT_NS = 'http://www.w3.org/1999/XSL/Transform';
const FN_NS = 'http://www.w3.org/2005/xpath-functions';
const CODEPOINT_COLLATION = 'http://www.w3.org/2005/xpath-functions/collation/codepoint';

/** An expanded name in EQName form: `Q{uri}local`. */
export type ExpandedName = string;

export interface SourceEdit {
  start: number;
  end: number;
  replacement: string;
}

export interface ModuleReference {
  kind: 'include' | 'import';
  href: string;
  /** Absolute path of the referenced module when `href` resolves to a local file. */
  resolvedPath?: string;
  /** Offsets of the raw href value (inside the quotes) in the module text. */
  valueStart: number;
  valueEnd: number;
  line: number;
}

export interface ResourceAccess {
  /** What reaches outside the stylesheet: a function such as `doc`, or an instruction. */
  via: string;
  /** The literal URI when the stylesheet gives one; undefined when it is computed at run time. */
  uri?: string;
  line: number;
}

export interface ForbiddenConstruct {
  what: string;
  line: number;
}

export interface TemplateCall {
  name: ExpandedName;
  params: Set<ExpandedName>;
}

export interface StylesheetModule {
  path: string;
  uri: string;
  text: string;
  /** False for a simplified stylesheet (a literal result element with xsl:version). */
  isStylesheetElement: boolean;
  /** The version on the module's root element. */
  version: number;
  references: ModuleReference[];
  namedTemplates: Set<ExpandedName>;
  templateCalls: Map<ExpandedName, TemplateCall>;
  keysDeclared: Set<ExpandedName>;
  keysUsed: Set<ExpandedName>;
  /** Every variable or parameter name declared anywhere in the module, local or global. */
  variablesDeclared: Set<ExpandedName>;
  variablesReferenced: Set<ExpandedName>;
  resourceAccesses: ResourceAccess[];
  forbidden: ForbiddenConstruct[];
  /** Edits that give XSLT 1.0 results under SaxonJS (see docs/decisions/xslt-1.0-compatibility.md). */
  compatEdits: SourceEdit[];
  /** Where ` xml:base="…"` can be inserted into the root start tag, or the existing value's span. */
  baseInsertAt: number;
  existingBase?: { start: number; end: number };
}

export interface StylesheetTree {
  principal: StylesheetModule;
  /** Every module, principal first, each once. */
  modules: StylesheetModule[];
}

/** Functions that read documents or text from a URI. */
const RESOURCE_FUNCTIONS = new Set([
  'doc', 'doc-available', 'document', 'unparsed-text', 'unparsed-text-lines', 'unparsed-text-available',
  'collection', 'uri-collection', 'json-doc',
]);

/** Functions that compile or run code chosen at run time, or look functions up by name. */
const DYNAMIC_CODE_FUNCTIONS = new Set(['transform', 'function-lookup', 'load-xquery-module']);

/** Namespaces through which SaxonJS reaches JavaScript or its own extensions. */
const FORBIDDEN_NAMESPACE_PREFIXES = ['http://saxonica.com/ns/', 'http://saxon.sf.net/'];

/** Attributes of XSLT instructions that hold an XPath expression or a pattern. */
const EXPRESSION_ATTRIBUTES = new Set([
  'select', 'test', 'match', 'use', 'value', 'group-by', 'group-adjacent', 'group-starting-with',
  'group-ending-with', 'from', 'count', 'xpath', 'context-item', 'initial-value', 'with-params',
  'for-each-item', 'for-each-source', 'key', 'start-at', 'namespace-context', 'use-when',
]);

/** `version` of XSLT elements, `xsl:version` of literal result elements. */
function versionOf(tag: SaxesTagNS): string | undefined {
  if (tag.uri === XSLT_NS) return tag.attributes['version']?.value;
  for (const attribute of Object.values(tag.attributes)) {
    if (attribute.uri === XSLT_NS && attribute.local === 'version') return attribute.value;
  }
  return undefined;
}

function parseVersion(value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const number = Number.parseFloat(value);
  return Number.isFinite(number) ? number : fallback;
}

interface RawAttribute {
  name: string;
  valueStart: number;
  valueEnd: number;
}

/** Finds the raw attribute values of one start tag; values cannot contain their quote or `<`. */
function rawAttributes(text: string, tagStart: number, tagEnd: number): Map<string, RawAttribute> {
  const slice = text.slice(tagStart, tagEnd);
  const pattern = /\s([^\s=/>]+)\s*=\s*(?:"([^"]*)"|'([^']*)')/g;
  const found = new Map<string, RawAttribute>();
  for (let match = pattern.exec(slice); match; match = pattern.exec(slice)) {
    const value = match[2] ?? match[3] ?? '';
    const valueEnd = tagStart + match.index + match[0].length - 1;
    found.set(match[1]!, { name: match[1]!, valueStart: valueEnd - value.length, valueEnd });
  }
  return found;
}

type NamespaceScope = Record<string, string>;

function expand(name: string, scope: NamespaceScope, defaultUri = ''): ExpandedName | undefined {
  const trimmed = name.trim();
  if (trimmed.startsWith('Q{')) return trimmed;
  const prefix = prefixOf(trimmed);
  const local = localName(trimmed);
  if (prefix === '') return `Q{${defaultUri}}${local}`;
  const uri = prefix === undefined ? undefined : scope[prefix];
  return uri === undefined ? undefined : `Q{${uri}}${local}`;
}

function isFileUriOrRelative(href: string): boolean {
  return !/^[a-zA-Z][a-zA-Z0-9+.-]*:/.test(href) || href.startsWith('file:');
}

function resolveHref(href: string, moduleUri: string): string | undefined {
  if (!isFileUriOrRelative(href)) return undefined;
  try {
    return fileURLToPath(new URL(href, moduleUri));
  } catch {
    return undefined;
  }
}

/** Reads the internal DTD subset's simple general entities so `&nbsp;`-style sheets still parse. */
function internalEntities(doctype: string): Record<string, string> {
  const entities: Record<string, string> = {};
  const pattern = /<!ENTITY\s+([^\s%]+)\s+(?:"([^"]*)"|'([^']*)')\s*>/g;
  for (let match = pattern.exec(doctype); match; match = pattern.exec(doctype)) {
    entities[match[1]!] = (match[2] ?? match[3] ?? '').replace(/&#(x?)([0-9a-fA-F]+);/g, (_all, hex: string, digits: string) =>
      String.fromCodePoint(Number.parseInt(digits, hex ? 16 : 10)),
    );
  }
  return entities;
}

/** Parses one stylesheet module (given its text) and records what it declares and uses. */
export function analyzeModule(text: string, filePath: string): StylesheetModule {
  const uri = pathToFileURL(filePath).href;
  const module: StylesheetModule = {
    path: filePath,
    uri,
    text,
    isStylesheetElement: false,
    version: 1,
    references: [],
    namedTemplates: new Set(),
    templateCalls: new Map(),
    keysDeclared: new Set(),
    keysUsed: new Set(),
    variablesDeclared: new Set(),
    variablesReferenced: new Set(),
    resourceAccesses: [],
    forbidden: [],
    compatEdits: [],
    baseInsertAt: 0,
  };

  const parser = new SaxesParser({ xmlns: true, position: true, fileName: filePath });
  interface Frame {
    scope: NamespaceScope;
    version: number;
    expandText: boolean;
    tag: SaxesTagNS;
  }
  const stack: Frame[] = [];
  let failure: Error | undefined;

  const noteExpression = (expression: string, scope: NamespaceScope, line: number): void => {
    const { variables, bound, calls, functionReferences } = xpathReferences(expression);
    for (const variable of variables) {
      const name = expand(variable, scope);
      if (name) module.variablesReferenced.add(name);
    }
    for (const variable of bound) {
      const name = expand(variable, scope);
      if (name) module.variablesDeclared.add(name);
    }
    for (const call of calls) noteCall(call, scope, line);
    for (const reference of functionReferences) {
      const name = expand(reference, scope, FN_NS);
      if (!name) continue;
      const local = localName(name);
      if (name.startsWith(`Q{${FN_NS}}`) && (RESOURCE_FUNCTIONS.has(local) || DYNAMIC_CODE_FUNCTIONS.has(local))) {
        module.forbidden.push({ what: `a reference to the function ${local}#…`, line });
      }
      if (FORBIDDEN_NAMESPACE_PREFIXES.some((prefix) => name.startsWith(`Q{${prefix}`))) {
        module.forbidden.push({ what: `the extension function ${reference}`, line });
      }
    }
  };

  const noteCall = (call: FunctionCall, scope: NamespaceScope, line: number): void => {
    const name = expand(call.name, scope, FN_NS);
    if (!name) return;
    if (FORBIDDEN_NAMESPACE_PREFIXES.some((prefix) => name.startsWith(`Q{${prefix}`))) {
      module.forbidden.push({ what: `the extension function ${call.name}()`, line });
      return;
    }
    if (!name.startsWith(`Q{${FN_NS}}`)) return;
    const local = localName(name);
    if (local === 'key' && call.literalArgument !== undefined) {
      const key = expand(call.literalArgument, scope);
      if (key) module.keysUsed.add(key);
    } else if (RESOURCE_FUNCTIONS.has(local)) {
      // `document('')` and a call without arguments read the stylesheet itself or the default collection.
      const access: ResourceAccess = { via: `${local}()`, line };
      if (call.literalArgument !== undefined) access.uri = call.literalArgument;
      else if (call.noArguments) access.uri = local === 'collection' || local === 'uri-collection' ? 'collection:default' : '';
      module.resourceAccesses.push(access);
    } else if (DYNAMIC_CODE_FUNCTIONS.has(local)) {
      module.forbidden.push({ what: `the function ${local}()`, line });
    }
  };

  parser.on('doctype', (doctype) => {
    Object.assign(parser.ENTITIES, internalEntities(doctype));
  });

  parser.on('opentag', (tag) => {
    const tagEnd = parser.position;
    const tagStart = text.lastIndexOf('<', tagEnd - 1);
    const line = parser.line;
    const parent = stack[stack.length - 1];
    const scope: NamespaceScope = { ...(parent?.scope ?? {}), ...(tag.ns ?? {}) };
    const version = parseVersion(versionOf(tag), parent?.version ?? 1);
    const isXslt = tag.uri === XSLT_NS;
    const expandTextAttribute = isXslt
      ? tag.attributes['expand-text']?.value
      : Object.values(tag.attributes).find((a) => a.uri === XSLT_NS && a.local === 'expand-text')?.value;
    const expandText = expandTextAttribute === undefined ? (parent?.expandText ?? false) : /^(yes|true|1)$/.test(expandTextAttribute.trim());
    stack.push({ scope, version, expandText, tag });

    const raw = rawAttributes(text, tagStart, tagEnd);
    const isRoot = stack.length === 1;
    if (isRoot) {
      module.isStylesheetElement = isXslt && (tag.local === 'stylesheet' || tag.local === 'transform');
      module.version = version;
      const existing = raw.get('xml:base');
      if (existing) module.existingBase = { start: existing.valueStart, end: existing.valueEnd };
      module.baseInsertAt = tagStart + 1 + tag.name.length;
    }
    const compat = version < 2;

    if (tag.uri && FORBIDDEN_NAMESPACE_PREFIXES.some((prefix) => tag.uri!.startsWith(prefix))) {
      module.forbidden.push({ what: `the extension instruction <${tag.name}>`, line });
    }

    if (isXslt) {
      const attribute = (name: string): string | undefined => tag.attributes[name]?.value;
      for (const [name, value] of Object.entries(tag.attributes)) {
        if (value.uri !== '' || !value.value) continue;
        if (name.startsWith('_')) {
          // A shadow attribute builds the real attribute (an XPath expression) at compile time,
          // out of sight of this check.
          module.forbidden.push({ what: `the shadow attribute ${name}`, line });
        }
        if (EXPRESSION_ATTRIBUTES.has(name)) noteExpression(value.value, scope, line);
        else if (value.value.includes('{')) {
          for (const part of splitAttributeValueTemplate(value.value)) {
            if (part.kind === 'expression') noteExpression(part.expression, scope, line);
          }
        }
      }
      switch (tag.local) {
        case 'include':
        case 'import': {
          const href = attribute('href') ?? '';
          const rawHref = raw.get('href');
          const resolvedPath = resolveHref(href, uri);
          module.references.push({
            kind: tag.local,
            href,
            ...(resolvedPath ? { resolvedPath } : {}),
            valueStart: rawHref?.valueStart ?? tagEnd,
            valueEnd: rawHref?.valueEnd ?? tagEnd,
            line,
          });
          module.resourceAccesses.push({ via: `xsl:${tag.local}`, uri: href, line });
          break;
        }
        case 'template': {
          const name = attribute('name');
          const expanded = name ? expand(name, scope) : undefined;
          if (expanded) module.namedTemplates.add(expanded);
          break;
        }
        case 'call-template': {
          const name = attribute('name');
          const expanded = name ? expand(name, scope) : undefined;
          if (expanded && !module.templateCalls.has(expanded)) module.templateCalls.set(expanded, { name: expanded, params: new Set() });
          break;
        }
        case 'with-param': {
          const caller = stack[stack.length - 2]?.tag;
          const name = attribute('name');
          if (caller?.uri === XSLT_NS && caller.local === 'call-template' && name) {
            const template = expand(caller.attributes['name']?.value ?? '', stack[stack.length - 2]!.scope);
            const param = expand(name, scope);
            if (template && param) module.templateCalls.get(template)?.params.add(param);
          }
          break;
        }
        case 'key': {
          const name = attribute('name');
          const expanded = name ? expand(name, scope) : undefined;
          if (expanded) module.keysDeclared.add(expanded);
          break;
        }
        case 'variable':
        case 'param': {
          const name = attribute('name');
          const expanded = name ? expand(name, scope) : undefined;
          if (expanded) module.variablesDeclared.add(expanded);
          break;
        }
        case 'result-document':
          module.resourceAccesses.push({ via: 'xsl:result-document', uri: attribute('href') ?? '', line });
          break;
        case 'source-document':
          module.resourceAccesses.push({ via: 'xsl:source-document', uri: attribute('href') ?? '', line });
          break;
        case 'import-schema':
        case 'use-package':
          module.forbidden.push({ what: `<xsl:${tag.local}>`, line });
          break;
        case 'evaluate':
          module.forbidden.push({ what: '<xsl:evaluate> (dynamic XPath)', line });
          break;
        default:
          break;
      }
      if (compat && tag.local === 'value-of' && tag.attributes['select'] && !tag.attributes['separator']) {
        const select = raw.get('select');
        if (select) {
          // XSLT 1.0 takes the first node; SaxonJS joins adjacent text nodes, so make "first" explicit.
          module.compatEdits.push({ start: select.valueStart, end: select.valueStart, replacement: '(' });
          module.compatEdits.push({ start: select.valueEnd, end: select.valueEnd, replacement: ')[1]' });
        }
      }
      if (compat && tag.local === 'sort' && tag.attributes['select']) {
        const select = raw.get('select');
        if (select) {
          // XSLT 1.0 sorts a missing key as '' (or NaN); SaxonJS sorts the empty sequence first even descending.
          module.compatEdits.push({ start: select.valueStart, end: select.valueStart, replacement: 'string(' });
          module.compatEdits.push({ start: select.valueEnd, end: select.valueEnd, replacement: ')' });
        }
      }
      if (compat && tag.local === 'sort' && !tag.attributes['lang'] && !tag.attributes['collation']) {
        // libxslt compares sort keys by code point unless a lang is given; SaxonJS would use a
        // locale collation (Æ before D).
        const insertAt = tagStart + 1 + tag.name.length;
        module.compatEdits.push({ start: insertAt, end: insertAt, replacement: ` collation="${CODEPOINT_COLLATION}"` });
      }
    } else {
      for (const [name, value] of Object.entries(tag.attributes)) {
        if (value.uri === XSLT_NS && value.local === 'use-when') noteExpression(value.value, scope, line);
        if (value.uri === XSLT_NS || name.startsWith('xmlns') || !value.value.includes('{')) continue;
        const rawValue = raw.get(name);
        for (const part of splitAttributeValueTemplate(value.value)) {
          if (part.kind !== 'expression') continue;
          noteExpression(part.expression, scope, line);
        }
        if (compat && rawValue) {
          const rawText = text.slice(rawValue.valueStart, rawValue.valueEnd);
          for (const part of splitAttributeValueTemplate(rawText)) {
            if (part.kind !== 'expression' || !part.expression.trim()) continue;
            module.compatEdits.push({ start: rawValue.valueStart + part.start, end: rawValue.valueStart + part.start, replacement: '(' });
            module.compatEdits.push({ start: rawValue.valueStart + part.end, end: rawValue.valueStart + part.end, replacement: ')[1]' });
          }
        }
      }
    }
  });

  parser.on('text', (value) => {
    const frame = stack[stack.length - 1];
    if (!frame?.expandText || !value.includes('{')) return;
    for (const part of splitAttributeValueTemplate(value)) {
      if (part.kind === 'expression') noteExpression(part.expression, frame.scope, parser.line);
    }
  });

  parser.on('closetag', () => {
    stack.pop();
  });

  parser.on('error', (error) => {
    failure ??= error;
  });

  try {
    parser.write(text).close();
  } catch (error) {
    failure ??= error as Error;
  }
  if (failure) {
    const match = /:(\d+):(\d+): (.*)$/s.exec(failure.message);
    throw new SluiceError('XSLT_COMPILE_ERROR', `${filePath}:${match?.[1] ?? '?'}: ${match?.[3] ?? failure.message}`, {
      status: 422,
      fix: 'Make the stylesheet well-formed XML',
      details: { module: filePath, ...(match ? { line: Number(match[1]), column: Number(match[2]) } : {}) },
    });
  }
  return module;
}

export interface LoadOptions {
  /** The principal module's text when it does not come from the file (an uploaded stylesheet). */
  principalText?: string;
  /**
   * Untrusted stylesheets: modules outside these folders are not even read (the sandbox check
   * then refuses the reference).
   */
  allowedRoots?: string[];
}

function within(target: string, roots: string[]): boolean {
  return roots.some((root) => {
    const base = path.resolve(root);
    return target === base || target.startsWith(base.endsWith(path.sep) ? base : base + path.sep);
  });
}

/** Reads a stylesheet tree from disk: the principal module and everything it includes or imports. */
export async function loadStylesheetTree(principalPath: string, options: LoadOptions = {}): Promise<StylesheetTree> {
  const modules: StylesheetModule[] = [];
  const seen = new Map<string, StylesheetModule>();
  const visit = async (filePath: string, text?: string): Promise<StylesheetModule> => {
    const known = seen.get(filePath);
    if (known) return known;
    let source = text;
    if (source === undefined) {
      try {
        source = await readFile(filePath, 'utf8');
      } catch (error) {
        throw new SluiceError('XSLT_COMPILE_ERROR', `${filePath}: cannot read the stylesheet (${(error as NodeJS.ErrnoException).code ?? 'error'})`, {
          status: 422,
          fix: 'Check the path of the stylesheet and of its xsl:include/xsl:import hrefs',
          details: { module: filePath },
          cause: error,
        });
      }
    }
    const module = analyzeModule(source, filePath);
    seen.set(filePath, module);
    modules.push(module);
    for (const reference of module.references) {
      if (!reference.resolvedPath) continue;
      if (options.allowedRoots && !within(reference.resolvedPath, options.allowedRoots)) continue;
      await visit(reference.resolvedPath);
    }
    return module;
  };
  const principal = await visit(path.resolve(principalPath), options.principalText);
  return { principal, modules };
}

/** Applies non-overlapping edits (insertions may share an offset; they keep their order). */
export function applyEdits(text: string, edits: SourceEdit[]): string {
  const ordered = edits.map((edit, index) => ({ edit, index })).sort((a, b) => a.edit.start - b.edit.start || a.index - b.index);
  let result = '';
  let cursor = 0;
  for (const { edit } of ordered) {
    result += text.slice(cursor, edit.start) + edit.replacement;
    cursor = Math.max(cursor, edit.end);
  }
  return result + text.slice(cursor);
}
