import { spawn } from 'node:child_process';
import path from 'node:path';
import { nodeModulesDir, xslt3CliPath } from '../runtime-paths.js';
import { permissionFlags, QUIET_WARNINGS } from './node-permissions.js';

/**
 * Compiles XSLT to SEF by running SaxonJS's own `xslt3 -export … -nogo` in a child process: the
 * only supported compile route in SaxonJS 2.x (Saxonica's tutorial server does the same). One
 * compile costs about a second, so callers cache the result by content hash.
 */

export interface ExportRequest {
  entryPath: string;
  outputPath: string;
  /** When set, the compiler runs under Node's permission model and may read only these folders. */
  sandboxReadDirectories?: string[];
  timeoutMs?: number;
}

/** What xslt3 reported, parsed from its stderr. */
export interface CompileFailure {
  xsltCode: string;
  message: string;
  line?: number;
  /** The module as xslt3 names it (its last path segments, e.g. `cap/import.xsl`) or a file URI. */
  moduleHint?: string;
}

export class Xslt3ExportError extends Error {
  constructor(readonly failure: CompileFailure, readonly stderr: string) {
    super(failure.message);
    this.name = 'Xslt3ExportError';
  }
}

/**
 * xslt3 prints one error per compile, in one of these shapes:
 *   Error XTSE0650 on line 4 in fmt/main.xsl:\n  Named template Q{}missing does not exist
 *   Error XPST0008:\n  Static error in XPath on line 5 in fmt/main.xsl {$x}: No binding for variable Q{}x
 *   Error FODC0002:\n  Failed parsing XML in file:///…/x.xsl: Unexpected close tag at line 0 column 10
 */
export function parseXslt3Errors(stderr: string): CompileFailure {
  const lines = stderr.split(/\r?\n/);
  const headerIndex = lines.findIndex((line) => /^(Error|Static error|Fatal error)\b/.test(line));
  if (headerIndex < 0) {
    const message = lines.filter((line) => line.trim() && !/^Failed to compile stylesheet/.test(line)).join(' ').trim();
    return { xsltCode: 'SXJS0000', message: message || 'the XSLT compiler failed without a message' };
  }
  const header = lines[headerIndex]!;
  const body: string[] = [];
  for (let i = headerIndex + 1; i < lines.length; i++) {
    const line = lines[i]!;
    if (!/^\s/.test(line)) break;
    body.push(line.trim());
  }
  const headerMatch = /^(?:Static |Fatal )?[Ee]rror(?: ([A-Z]{4}\d{4}|[A-Za-z][\w-]*\d+))?(?: (?:on|at) line (\d+))?(?: (?:in|of) (.+?))?:?\s*$/.exec(header);
  const failure: CompileFailure = {
    xsltCode: headerMatch?.[1] ?? 'XTSE0000',
    message: body.join(' ') || header,
  };
  if (headerMatch?.[2]) failure.line = Number(headerMatch[2]);
  if (headerMatch?.[3]) failure.moduleHint = headerMatch[3];
  const inner = /on line (\d+) in (\S+?)(?: \{.*?\})?: (.*)$/.exec(failure.message);
  if (inner) {
    failure.line ??= Number(inner[1]);
    failure.moduleHint ??= inner[2];
    failure.message = inner[3]!;
  }
  const parseFailure = /^Failed parsing XML in (file:\S+?): (.*?)(?: at line (\d+) column (\d+))?$/.exec(failure.message);
  if (parseFailure) {
    failure.moduleHint = parseFailure[1];
    failure.message = parseFailure[2]!;
    if (parseFailure[3]) failure.line = Number(parseFailure[3]) + 1;
  }
  return failure;
}

export async function exportSef(request: ExportRequest): Promise<void> {
  const outputDir = path.dirname(request.outputPath);
  const args = [QUIET_WARNINGS];
  if (request.sandboxReadDirectories) {
    args.push(
      ...permissionFlags({
        readDirectories: [nodeModulesDir(), outputDir, path.dirname(request.entryPath), ...request.sandboxReadDirectories],
        writeDirectories: [outputDir],
      }),
    );
  }
  args.push(xslt3CliPath(), `-xsl:${request.entryPath}`, `-export:${request.outputPath}`, '-nogo');
  const child = spawn(process.execPath, args, {
    cwd: outputDir,
    stdio: ['ignore', 'pipe', 'pipe'],
    // The compiler needs nothing from the environment; do not hand it secrets.
    env: {},
  });
  let stderr = '';
  let stdout = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  const timeoutMs = request.timeoutMs ?? 120_000;
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    child.kill('SIGKILL');
  }, timeoutMs);
  const exitCode = await new Promise<number | null>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolve(code));
  }).finally(() => clearTimeout(timer));
  if (timedOut) {
    throw new Xslt3ExportError({ xsltCode: 'SXJS0000', message: `the XSLT compiler did not finish within ${timeoutMs} ms` }, stderr);
  }
  if (exitCode !== 0) {
    const output = `${stderr}\n${stdout}`;
    throw new Xslt3ExportError(parseXslt3Errors(output), output);
  }
}
