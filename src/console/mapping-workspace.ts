/**
 * The mapping editor's side of mappings/: saving a mapping document checks it (JSON Schema and
 * the duplicate rules), generates the .xsl, compiles it with the transform engine, and only then
 * writes the JSON and the .xsl; every save is also kept as a numbered version under
 * mappings/.versions/<instance>/, so earlier versions can be compared and brought back.
 * The sync run reads mappings/<instance>.xsl when it starts, so a saved mapping applies from the
 * next run.
 */
import { mkdir, readdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { SluiceError } from '../errors.js';
import { mappingProblems, type MappingDocument, type MappingProblem } from '../formats/mapping-document.js';
import { compileMappings, listMappingInstances } from '../formats/mapping-files.js';
import { generateMappingXslt } from '../formats/mapping-generator.js';
import { formatTimestamp, type Clock } from '../s3xml/timestamps.js';
import type { TransformEngine } from '../transform/engine.js';
import { INSTANCE_NAME } from './instance-links.js';

export interface MappingVersion {
  version: number;
  saved_at: string;
  saved_by: string;
  note?: string;
  document: MappingDocument;
}

export type MappingVersionInfo = Omit<MappingVersion, 'document'>;

export interface SavedMapping {
  instance: string;
  version: number;
  /** False when the generated .xsl already held these bytes. */
  xslChanged: boolean;
  warnings: string[];
}

export interface MappingSummary {
  instance: string;
  resources: number;
  fields: number;
  valueMaps: number;
  versions: number;
  lastSaved?: string;
  compiled: boolean;
}

const VERSIONS_DIR = '.versions';

export function prettyMapping(document: MappingDocument): string {
  return `${JSON.stringify(document, null, 2)}\n`;
}

function checkInstance(instance: string): string {
  if (!INSTANCE_NAME.test(instance) || instance.length > 100) {
    throw new SluiceError('MAPPING_BAD_INSTANCE', `"${instance}" is not a valid instance name`, { status: 400, fix: 'Use letters, digits, dot, dash and underscore' });
  }
  return instance;
}

async function writeAtomically(file: string, text: string): Promise<void> {
  const partial = `${file}.${process.pid}.${Date.now()}.tmp`;
  await writeFile(partial, text);
  await rename(partial, file);
}

export class MappingWorkspace {
  constructor(
    private readonly dir: string,
    private readonly clock: Clock,
    private readonly engine?: Pick<TransformEngine, 'prepare'>,
  ) {}

  private versionsDir(instance: string): string {
    return path.join(this.dir, VERSIONS_DIR, checkInstance(instance));
  }

  private jsonPath(instance: string): string {
    return path.join(this.dir, `${checkInstance(instance)}.json`);
  }

  async instances(): Promise<string[]> {
    return listMappingInstances(this.dir).catch(() => []);
  }

  async summaries(): Promise<MappingSummary[]> {
    const out: MappingSummary[] = [];
    for (const instance of await this.instances()) {
      const document = await this.current(instance).catch(() => undefined);
      const versions = await this.versions(instance);
      const fields = document?.resources.flatMap((resource) => resource.fields ?? []) ?? [];
      const xsl = await this.xsl(instance);
      out.push({
        instance,
        resources: document?.resources.length ?? 0,
        fields: fields.length,
        valueMaps: fields.reduce((sum, entry) => sum + Object.keys(entry.inbound?.values ?? {}).length + Object.keys(entry.outbound?.values ?? {}).length, 0),
        versions: versions.length,
        ...(versions.length ? { lastSaved: versions[versions.length - 1]!.saved_at } : {}),
        compiled: xsl !== undefined,
      });
    }
    return out;
  }

  /** The document as it is on disk (not validated: a hand-broken file still opens in the editor). */
  async current(instance: string): Promise<MappingDocument> {
    let text: string;
    try {
      text = await readFile(this.jsonPath(instance), 'utf8');
    } catch (error) {
      throw new SluiceError('MAPPING_NOT_FOUND', `There is no mapping for the instance ${instance}`, { status: 404, cause: error, fix: 'Create it on the Mappings page' });
    }
    try {
      return JSON.parse(text) as MappingDocument;
    } catch (error) {
      throw new SluiceError('MAPPING_INVALID', `mappings/${instance}.json is not JSON: ${(error as Error).message}`, { status: 422, cause: error });
    }
  }

  async exists(instance: string): Promise<boolean> {
    return (await this.instances()).includes(checkInstance(instance));
  }

  /** The generated stylesheet as it is on disk. */
  async xsl(instance: string): Promise<string | undefined> {
    return readFile(path.join(this.dir, `${checkInstance(instance)}.xsl`), 'utf8').catch(() => undefined);
  }

  /** The problems of a candidate document and, when there are none, the stylesheet it would generate. */
  check(instance: string, candidate: unknown): { problems: MappingProblem[]; xsl?: string } {
    const problems = mappingProblems(candidate);
    if (problems.length === 0 && (candidate as MappingDocument).instance !== instance) {
      problems.push({ path: '/instance', message: `must be "${instance}", the mapping's name` });
    }
    if (problems.length > 0) return { problems };
    return { problems, xsl: generateMappingXslt(candidate as MappingDocument) };
  }

  async versions(instance: string): Promise<MappingVersionInfo[]> {
    const dir = this.versionsDir(instance);
    let names: string[];
    try {
      names = await readdir(dir);
    } catch {
      return [];
    }
    const versions: MappingVersionInfo[] = [];
    for (const name of names.filter((entry) => /^\d{6}\.json$/.test(entry)).sort()) {
      const { document: _document, ...info } = JSON.parse(await readFile(path.join(dir, name), 'utf8')) as MappingVersion;
      versions.push(info);
    }
    return versions;
  }

  async version(instance: string, version: number): Promise<MappingVersion> {
    const file = path.join(this.versionsDir(instance), `${String(version).padStart(6, '0')}.json`);
    try {
      return JSON.parse(await readFile(file, 'utf8')) as MappingVersion;
    } catch (error) {
      throw new SluiceError('MAPPING_VERSION_NOT_FOUND', `The mapping ${instance} has no version ${version}`, { status: 404, cause: error });
    }
  }

  private async keepVersion(instance: string, entry: Omit<MappingVersion, 'version'>): Promise<number> {
    const existing = await this.versions(instance);
    const version = (existing[existing.length - 1]?.version ?? 0) + 1;
    await mkdir(this.versionsDir(instance), { recursive: true });
    await writeAtomically(path.join(this.versionsDir(instance), `${String(version).padStart(6, '0')}.json`), `${JSON.stringify({ version, ...entry }, null, 2)}\n`);
    return version;
  }

  /**
   * Checks, generates and compiles, then writes the version, the JSON and the .xsl. Throws
   * MAPPING_INVALID (422, `details.problems`) or the compiler's error; nothing is written then.
   */
  async save(instance: string, candidate: unknown, by: string, note?: string): Promise<SavedMapping> {
    checkInstance(instance);
    const { problems, xsl } = this.check(instance, candidate);
    if (problems.length > 0 || xsl === undefined) {
      const first = problems[0]!;
      throw new SluiceError('MAPPING_INVALID', `The mapping is not valid: ${first.path} ${first.message}`, {
        status: 422,
        fix: 'Correct the listed places; mappings/schema.json describes the format',
        details: { problems },
      });
    }
    const warnings = this.engine ? (await this.engine.prepare({ text: xsl })).warnings : [];
    const document = candidate as MappingDocument;
    const at = formatTimestamp(this.clock.now());
    if ((await this.versions(instance)).length === 0 && (await this.exists(instance))) {
      // A mapping written by hand before the editor saw it: keep that as version 1.
      const before = await this.current(instance).catch(() => undefined);
      if (before) await this.keepVersion(instance, { saved_at: at, saved_by: 'mappings folder', note: 'as found on disk', document: before });
    }
    const version = await this.keepVersion(instance, { saved_at: at, saved_by: by, ...(note ? { note } : {}), document });
    await mkdir(this.dir, { recursive: true });
    await writeAtomically(this.jsonPath(instance), prettyMapping(document));
    const [compiled] = await compileMappings(this.dir, instance);
    return { instance, version, xslChanged: compiled?.changed ?? true, warnings };
  }

  async revert(instance: string, version: number, by: string): Promise<SavedMapping> {
    const old = await this.version(instance, version);
    return this.save(instance, old.document, by, `back to version ${version}`);
  }
}
