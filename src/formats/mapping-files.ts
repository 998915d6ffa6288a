/**
 * mappings/<instance>.json on disk → mappings/<instance>.xsl beside it. The JSON is the source of
 * truth; the .xsl is regenerated (never hand-edited) and only rewritten when its bytes change, so
 * an unchanged mapping leaves the file, its mtime and any compiled-SEF cache alone.
 */
import { readdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { SluiceError } from '../errors.js';
import { validateMappingDocument, type MappingDocument } from './mapping-document.js';
import { generateMappingXslt } from './mapping-generator.js';

export interface CompiledMapping {
  instance: string;
  jsonPath: string;
  xslPath: string;
  /** False when the .xsl already held exactly these bytes. */
  changed: boolean;
}

const INSTANCE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/** The instances with a mapping document in `dir` (every *.json except schema.json), sorted. */
export async function listMappingInstances(dir: string): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (error) {
    throw new SluiceError('MAPPING_DIR_MISSING', `The mappings folder ${dir} cannot be read`, {
      status: 404,
      cause: error,
      fix: 'Run the command from the repository root or pass --dir',
    });
  }
  return names
    .filter((name) => name.endsWith('.json') && name !== 'schema.json')
    .map((name) => name.slice(0, -'.json'.length))
    .sort();
}

/**
 * Where JSON.parse gave up, as line and column (1-based): V8 names a character offset, or none when
 * the text ends early (then the end is the place) or when it quotes the text instead.
 */
export function jsonErrorPlace(text: string, message: string): { line: number; column: number } {
  const offset = /at position (\d+)/.exec(message);
  let position = offset ? Number(offset[1]) : text.length;
  // Else V8 quotes the text around the token: from ten characters before it ("...") or from the start.
  const quoted = offset ? null : /^Unexpected token '([\s\S])', (\.\.\.)?"([\s\S]*?)"(?:\.\.\.)? is not valid JSON$/.exec(message);
  if (quoted) {
    const start = Math.max(0, text.indexOf(quoted[3]!));
    position = quoted[2] ? start + 10 : Math.max(0, text.indexOf(quoted[1]!, start));
  }
  const before = text.slice(0, Math.min(position, text.length));
  const lines = before.split('\n');
  return { line: lines.length, column: (lines.at(-1)?.length ?? 0) + 1 };
}

export async function readMappingDocument(dir: string, instance: string): Promise<MappingDocument> {
  if (!INSTANCE_NAME.test(instance)) {
    throw new SluiceError('MAPPING_BAD_INSTANCE', `"${instance}" is not a valid instance name`, {
      fix: 'Instance names use letters, digits, dot, dash and underscore',
    });
  }
  const jsonPath = path.join(dir, `${instance}.json`);
  let text: string;
  try {
    text = await readFile(jsonPath, 'utf8');
  } catch (error) {
    throw new SluiceError('MAPPING_NOT_FOUND', `There is no mapping ${jsonPath}`, {
      status: 404,
      cause: error,
      fix: `Create ${jsonPath} (see mappings/README.md) or check the instance name`,
    });
  }
  let candidate: unknown;
  try {
    candidate = JSON.parse(text);
  } catch (error) {
    const where = jsonErrorPlace(text, (error as Error).message);
    throw new SluiceError('MAPPING_INVALID', `${jsonPath} is not JSON: line ${where.line}, column ${where.column}: ${(error as Error).message}`, {
      status: 422,
      cause: error,
      fix: `Correct the JSON syntax at line ${where.line}, column ${where.column} of ${jsonPath} (or just before it)`,
      details: where,
    });
  }
  const document = validateMappingDocument(candidate, jsonPath);
  if (document.instance !== instance) {
    throw new SluiceError('MAPPING_INVALID', `${jsonPath} says it is for instance "${document.instance}"`, {
      status: 422,
      fix: `Name the file ${document.instance}.json or set "instance" to "${instance}"`,
      details: { problems: [{ path: '/instance', message: `must be "${instance}", the file's name` }] },
    });
  }
  return document;
}

/** Compiles one instance, or every instance in `dir` when none is named. */
export async function compileMappings(dir: string, instance?: string): Promise<CompiledMapping[]> {
  const instances = instance === undefined ? await listMappingInstances(dir) : [instance];
  const results: CompiledMapping[] = [];
  for (const name of instances) {
    const document = await readMappingDocument(dir, name);
    const xslPath = path.join(dir, `${name}.xsl`);
    const xslt = generateMappingXslt(document);
    const current = await readFile(xslPath, 'utf8').catch(() => undefined);
    const changed = current !== xslt;
    if (changed) {
      // Write then rename, so a running gateway never reads a half-written stylesheet.
      const partial = `${xslPath}.${process.pid}.tmp`;
      await writeFile(partial, xslt);
      await rename(partial, xslPath);
    }
    results.push({ instance: name, jsonPath: path.join(dir, `${name}.json`), xslPath, changed });
  }
  return results;
}
