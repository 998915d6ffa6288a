/**
 * Command-line flags for Node's permission model, which is what stops a stylesheet from reading
 * files outside its folders: SaxonJS itself reads any `file:` URI and has no resolver hook.
 * Node 20 spells it `--experimental-permission` and wants `dir/*` for a folder; Node 22 and later
 * use `--permission` and treat a folder path as the folder and everything below it.
 */
import { realpathSync } from 'node:fs';

const nodeMajor = Number.parseInt(process.versions.node.split('.')[0]!, 10);

function grant(flag: string, target: string, isDirectory: boolean): string {
  if (!isDirectory) return `${flag}=${target}`;
  return nodeMajor >= 22 ? `${flag}=${target}` : `${flag}=${target.replace(/\/+$/, '')}/*`;
}

export interface PermissionGrants {
  readDirectories: string[];
  readFiles?: string[];
  writeDirectories?: string[];
  /** Worker threads inside the restricted process (they inherit the same limits). */
  workers?: boolean;
  /**
   * Only for running from TypeScript source: tsx transpiles through an esbuild child process.
   * Production (compiled JS) never sets this.
   */
  childProcesses?: boolean;
}

/**
 * Each path and, when it differs, the path it resolves to: Node checks the resolved path, so a
 * symlinked node_modules or data folder would otherwise be refused (XSLT_SANDBOX_VIOLATION on a
 * stylesheet that did nothing wrong).
 */
function withResolved(paths: readonly string[]): Set<string> {
  const all = new Set<string>();
  for (const target of paths) {
    all.add(target);
    try {
      all.add(realpathSync(target));
    } catch {
      // Not there (yet): the grant as given is all there is to grant.
    }
  }
  return all;
}

export function permissionFlags(grants: PermissionGrants): string[] {
  const flags = [nodeMajor >= 22 ? '--permission' : '--experimental-permission'];
  for (const directory of withResolved(grants.readDirectories)) flags.push(grant('--allow-fs-read', directory, true));
  for (const file of withResolved(grants.readFiles ?? [])) flags.push(grant('--allow-fs-read', file, false));
  for (const directory of withResolved(grants.writeDirectories ?? [])) flags.push(grant('--allow-fs-write', directory, true));
  if (grants.workers) flags.push('--allow-worker');
  if (grants.childProcesses) flags.push('--allow-child-process');
  return flags;
}

/** Node prints experimental/security warnings for these flags on every start; they are noise here. */
export const QUIET_WARNINGS = '--no-warnings';
