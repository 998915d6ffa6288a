import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { SluiceError } from '../../errors.js';
import type { StylesheetModule, StylesheetTree } from '../stylesheet/module-tree.js';

/**
 * The first of two sandbox layers for stylesheets not shipped with Sluice: refuse, before
 * compiling, what can be seen in the source — URLs, files outside the allowed folders, dynamic
 * code (xsl:evaluate, fn:transform, function-lookup), SaxonJS's JavaScript bridge and extension
 * instructions. URIs computed at run time cannot be checked here; the sandbox process's
 * operating-system limit (Node's permission model) stops those.
 */

export function isWithin(target: string, roots: string[]): boolean {
  const resolved = path.resolve(target);
  return roots.some((root) => {
    const base = path.resolve(root);
    return resolved === base || resolved.startsWith(base.endsWith(path.sep) ? base : base + path.sep);
  });
}

function violation(module: StylesheetModule, line: number, what: string): SluiceError {
  return new SluiceError('XSLT_SANDBOX_VIOLATION', `${module.path}:${line}: ${what} is not allowed in an uploaded or custom stylesheet`, {
    status: 403,
    severity: 'job',
    fix: 'Read only files in the stylesheet\'s own folder or the configured folders, and no URLs; ask an administrator to ship the stylesheet with Sluice if it needs more',
    details: { module: module.path, line },
  });
}

function hasScheme(uri: string): boolean {
  return /^[a-zA-Z][a-zA-Z0-9+.-]*:/.test(uri);
}

/** Throws XSLT_SANDBOX_VIOLATION for the first construct that reaches outside `roots`. */
export function checkUntrustedStylesheet(tree: StylesheetTree, roots: string[]): void {
  for (const module of tree.modules) {
    const forbidden = module.forbidden[0];
    if (forbidden) throw violation(module, forbidden.line, forbidden.what);
    for (const access of module.resourceAccesses) {
      const uri = access.uri;
      // Computed at run time: left to the operating-system limit.
      if (uri === undefined || uri.includes('{')) continue;
      // document('') is the stylesheet itself; collection() without a finder yields nothing.
      if (uri === '' || uri === 'collection:default') continue;
      if (hasScheme(uri) && !uri.startsWith('file:')) throw violation(module, access.line, `${access.via} of the URL ${uri}`);
      let target: string;
      try {
        // Secondary results resolve against the output base, which is the stylesheet's folder too.
        target = fileURLToPath(new URL(uri, module.uri));
      } catch {
        throw violation(module, access.line, `${access.via} of ${uri}`);
      }
      if (!isWithin(target, roots)) {
        const verb = access.via === 'xsl:result-document' ? 'writing' : 'reading';
        throw violation(module, access.line, `${access.via} ${verb} ${target} (outside the allowed folders)`);
      }
    }
  }
}
