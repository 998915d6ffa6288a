/**
 * Command-line flags for Node's permission model, which is what stops a stylesheet from reading
 * files outside its folders: SaxonJS itself reads any `file:` URI and has no resolver hook.
 * Node 20 spells it `--experimental-permission` and wants `dir/*` for a folder; Node 22 and later
 * use `--permission` and treat a folder path as the folder and everything below it.
 */

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

export function permissionFlags(grants: PermissionGrants): string[] {
  const flags = [nodeMajor >= 22 ? '--permission' : '--experimental-permission'];
  for (const directory of new Set(grants.readDirectories)) flags.push(grant('--allow-fs-read', directory, true));
  for (const file of new Set(grants.readFiles ?? [])) flags.push(grant('--allow-fs-read', file, false));
  for (const directory of new Set(grants.writeDirectories ?? [])) flags.push(grant('--allow-fs-write', directory, true));
  if (grants.workers) flags.push('--allow-worker');
  if (grants.childProcesses) flags.push('--allow-child-process');
  return flags;
}

/** Node prints experimental/security warnings for these flags on every start; they are noise here. */
export const QUIET_WARNINGS = '--no-warnings';
