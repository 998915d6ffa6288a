/**
 * Facts about a compiled stylesheet read from its SEF: the serialization method and media type of
 * the principal output (so callers know what they get back without running it) and the declared
 * global parameters.
 */

export interface SefInfo {
  method: string;
  mediaType: string;
  globalParams: string[];
}

interface SefNode {
  N?: string;
  name?: string;
  value?: string;
  C?: SefNode[];
}

const DEFAULT_MEDIA_TYPES: Record<string, string> = {
  xml: 'application/xml',
  html: 'text/html',
  xhtml: 'application/xhtml+xml',
  text: 'text/plain',
  json: 'application/json',
  adaptive: 'text/plain',
};

function localOf(name: string): string {
  return name.startsWith('Q{') ? name.slice(name.indexOf('}') + 1) : name;
}

export function readSefInfo(sefText: string): SefInfo {
  const root = JSON.parse(sefText) as SefNode;
  const properties = new Map<string, string>();
  const globalParams: string[] = [];
  const visit = (node: SefNode, depth: number): void => {
    if (node.N === 'output' && node.name === undefined) {
      for (const property of node.C ?? []) {
        if (property.N === 'property' && property.name !== undefined && property.value !== undefined) {
          properties.set(localOf(property.name), property.value);
        }
      }
    }
    if (node.N === 'globalParam' && node.name) globalParams.push(node.name);
    // Declarations sit near the top of the package; template bodies need not be walked.
    if (depth < 3) for (const child of node.C ?? []) visit(child, depth + 1);
  };
  visit(root, 0);
  const method = localOf(properties.get('method') ?? 'xml');
  return {
    method,
    mediaType: properties.get('media-type') ?? DEFAULT_MEDIA_TYPES[method] ?? 'application/octet-stream',
    globalParams,
  };
}
