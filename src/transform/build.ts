import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { isSluiceError } from '../errors.js';
import { besideSefPath, StylesheetCompiler, stylesheetTreeKey } from './compile/stylesheet-compiler.js';
import { loadStylesheetTree } from './stylesheet/module-tree.js';

/**
 * `npm run build` step: compiles every top-level stylesheet under stylesheets/ to SEF beside its
 * source (`cap/import.xsl` → `cap/import.sef.json`, plus a `.sef.meta.json` sidecar recording
 * which sources it was built from). The source must stay beside its SEF: `document('')` and
 * relative `document()` read it at run time.
 *
 * A stylesheet is top-level when no other stylesheet in the folder includes or imports it;
 * shared modules are compiled only as part of the stylesheets that use them. `compile.json` in the
 * folder may list extra files to compile or files to leave out: `{"include": [], "exclude": []}`.
 *
 * Up-to-date SEF files (newer than every module, and built from the same content) are skipped.
 * A stylesheet that does not compile fails the build with `file:line: message`.
 */

export interface BuildOptions {
  stylesheetsDir: string;
  /** Scratch space for the compiler; a temporary folder by default. */
  workDir?: string;
  concurrency?: number;
  log?: (line: string) => void;
}

export interface BuildReport {
  compiled: string[];
  upToDate: string[];
  failed: { file: string; message: string }[];
}

interface CompileManifest {
  include?: string[];
  exclude?: string[];
}

async function listStylesheets(dir: string): Promise<string[]> {
  const found: string[] = [];
  const walk = async (folder: string): Promise<void> => {
    for (const entry of await readdir(folder, { withFileTypes: true })) {
      if (entry.name.startsWith('.') || entry.name === 'node_modules') continue;
      const full = path.join(folder, entry.name);
      if (entry.isDirectory()) await walk(full);
      else if (entry.isFile() && /\.xslt?$/i.test(entry.name)) found.push(full);
    }
  };
  await walk(dir);
  return found.sort();
}

async function readManifest(dir: string): Promise<CompileManifest> {
  try {
    return JSON.parse(await readFile(path.join(dir, 'compile.json'), 'utf8')) as CompileManifest;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw error;
  }
}

/** The stylesheets the build compiles, as absolute paths. */
export async function findTopLevelStylesheets(stylesheetsDir: string): Promise<string[]> {
  const dir = path.resolve(stylesheetsDir);
  const all = await listStylesheets(dir);
  const referenced = new Set<string>();
  for (const file of all) {
    try {
      const tree = await loadStylesheetTree(file);
      for (const module of tree.modules) for (const reference of module.references) if (reference.resolvedPath) referenced.add(reference.resolvedPath);
    } catch {
      // A broken module still gets compiled on its own, so its error is reported.
    }
  }
  const manifest = await readManifest(dir);
  const excluded = new Set((manifest.exclude ?? []).map((file) => path.resolve(dir, file)));
  const selected = new Set(all.filter((file) => !referenced.has(file)));
  for (const file of manifest.include ?? []) selected.add(path.resolve(dir, file));
  return [...selected].filter((file) => !excluded.has(file)).sort();
}

async function newestModuleTime(files: string[]): Promise<number> {
  const times = await Promise.all(files.map(async (file) => (await stat(file)).mtimeMs));
  return Math.max(...times);
}

async function isUpToDate(compiler: StylesheetCompiler, file: string): Promise<boolean> {
  const tree = await loadStylesheetTree(file);
  const sefPath = besideSefPath(file);
  const current = await compiler.loadIfCurrent(sefPath, stylesheetTreeKey(tree));
  if (!current) return false;
  const sefTime = (await stat(sefPath)).mtimeMs;
  return sefTime >= (await newestModuleTime(tree.modules.map((module) => module.path)));
}

export async function buildStylesheets(options: BuildOptions): Promise<BuildReport> {
  const dir = path.resolve(options.stylesheetsDir);
  const log = options.log ?? (() => {});
  const workDir = options.workDir ?? (await mkdtemp(path.join(os.tmpdir(), 'sluice-build-')));
  const compiler = new StylesheetCompiler({ cacheDir: workDir, concurrency: options.concurrency ?? 2 });
  const report: BuildReport = { compiled: [], upToDate: [], failed: [] };
  try {
    const files = await findTopLevelStylesheets(dir);
    await Promise.all(
      files.map(async (file) => {
        const relative = path.relative(process.cwd(), file);
        try {
          if (await isUpToDate(compiler, file)) {
            report.upToDate.push(file);
            return;
          }
          const tree = await loadStylesheetTree(file);
          const compiled = await compiler.compile(tree, { outputPath: besideSefPath(file) });
          report.compiled.push(file);
          log(`compiled ${relative}${compiled.warnings.length ? ` (${compiled.warnings.join('; ')})` : ''}`);
        } catch (error) {
          const message = isSluiceError(error) ? error.message : `${relative}: ${(error as Error).message}`;
          report.failed.push({ file, message });
        }
      }),
    );
  } finally {
    if (!options.workDir) await rm(workDir, { recursive: true, force: true });
  }
  report.compiled.sort();
  report.upToDate.sort();
  report.failed.sort((a, b) => a.file.localeCompare(b.file));
  return report;
}

/** `node dist/transform/build.js [stylesheetsDir]`: exit status 1 when a stylesheet fails. */
async function main(argv: string[]): Promise<number> {
  const projectRoot = fileURLToPath(new URL('../../', import.meta.url));
  const stylesheetsDir = path.resolve(argv[2] ?? path.join(projectRoot, 'stylesheets'));
  const started = performance.now();
  const report = await buildStylesheets({ stylesheetsDir, log: (line) => process.stdout.write(`${line}\n`) });
  for (const failure of report.failed) process.stderr.write(`${failure.message}\n`);
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  process.stdout.write(
    `stylesheets: ${report.compiled.length} compiled, ${report.upToDate.length} up to date, ${report.failed.length} failed (${seconds} s)\n`,
  );
  return report.failed.length > 0 ? 1 : 0;
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  main(process.argv).then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      process.stderr.write(`stylesheet build failed: ${(error as Error).stack ?? String(error)}\n`);
      process.exitCode = 1;
    },
  );
}
