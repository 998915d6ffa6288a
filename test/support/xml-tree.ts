/**
 * A minimal namespace-aware XML tree for assertions in tests (saxes underneath): enough to pick
 * elements by local name and read their text, nothing more.
 */
import { SaxesParser } from 'saxes';

export interface XmlElement {
  /** Local name, without prefix. */
  name: string;
  namespace: string;
  attributes: Record<string, string>;
  children: XmlElement[];
  /** Concatenated text of this element and its descendants. */
  text: string;
}

export function parseXml(xml: string): XmlElement {
  const parser = new SaxesParser({ xmlns: true });
  const stack: XmlElement[] = [];
  let root: XmlElement | undefined;
  parser.on('opentag', (tag) => {
    const attributes: Record<string, string> = {};
    for (const attribute of Object.values(tag.attributes)) {
      const key = attribute.uri ? `{${attribute.uri}}${attribute.local}` : attribute.local;
      attributes[key] = attribute.value;
    }
    const element: XmlElement = { name: tag.local, namespace: tag.uri, attributes, children: [], text: '' };
    stack.at(-1)?.children.push(element);
    stack.push(element);
    root ??= element;
  });
  parser.on('text', (text) => {
    for (const open of stack) open.text += text;
  });
  parser.on('closetag', () => {
    stack.pop();
  });
  parser.write(xml).close();
  if (!root) throw new Error('no root element');
  return root;
}

export function children(element: XmlElement | undefined, name: string): XmlElement[] {
  return element ? element.children.filter((child) => child.name === name) : [];
}

export function child(element: XmlElement | undefined, name: string): XmlElement | undefined {
  return children(element, name)[0];
}

/** Text of the first child with that name, or undefined. */
export function childText(element: XmlElement | undefined, name: string): string | undefined {
  return child(element, name)?.text;
}

export function descendants(element: XmlElement, name: string): XmlElement[] {
  const found: XmlElement[] = [];
  const visit = (node: XmlElement): void => {
    for (const c of node.children) {
      if (c.name === name) found.push(c);
      visit(c);
    }
  };
  visit(element);
  return found;
}

/** `<resource name=…>` elements of an S3XML document at any depth, optionally filtered by table. */
export function s3Resources(root: XmlElement, table?: string): XmlElement[] {
  return descendants(root, 'resource').filter((r) => table === undefined || r.attributes.name === table);
}

/** The machine value of a field: the raw JSON `value` attribute decoded, else the text. */
export function s3Field(resource: XmlElement, field: string): unknown {
  const data = resource.children.find((c) => c.name === 'data' && c.attributes.field === field);
  if (!data) return undefined;
  const raw = data.attributes.value;
  if (raw === undefined) return data.text;
  try {
    return JSON.parse(raw);
  } catch {
    return raw;
  }
}
