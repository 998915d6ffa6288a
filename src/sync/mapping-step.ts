/**
 * A repository's value mapping (mappings/<instance>.json, linked by `config.mapping`) applied to the
 * S3XML of its sync: the peer's pages go through the mapping's inbound direction before the
 * importer sees them, our exported windows through the outbound direction before they are POSTed.
 * A table the mapping renames is asked for (pull) and sent (push) under the peer's name and kept
 * here under the local one.
 *
 * The mapping document is read again at the start of every run, so a saved mapping applies from
 * the next run; the generated stylesheet is kept per content hash (and the engine compiles each
 * distinct text once), so an unchanged mapping costs one read and one hash per run. The document
 * reader and the engine are handed in; the engine is only created when a run needs it.
 */
import { createHash } from 'node:crypto';
import { asSluiceError, SluiceError } from '../errors.js';
import type { MappingDocument } from '../formats/mapping-document.js';
import { generateMappingXslt, parseMappingMessages, type UnmappedValue } from '../formats/mapping-generator.js';
import type { RepositoryRecord } from '../store/store.js';
import type { TransformEngine } from '../transform/engine.js';

/** The key of `repository.config` that names the mapping instance (console/instance-links.ts). */
export const REPOSITORY_MAPPING_KEY = 'mapping';

/** Eden answers a pull in one document; above this size it is mapped in batches of records. */
const CHUNKED_ABOVE_BYTES = 8 * 1024 * 1024;

export interface SyncMappingDeps {
  /** Reads and validates mappings/<instance>.json. */
  readMapping: (instance: string) => Promise<MappingDocument>;
  /** Called on first use only: a gateway whose peers have no mapping starts no transform threads. */
  engine: () => Pick<TransformEngine, 'transform' | 'close'>;
}

/** Unmapped values one direction met, counted (the sync log lists them like the Ushahidi poll does). */
export interface UnmappedTally {
  direction: UnmappedValue['direction'];
  resource: string;
  field: string;
  value: string;
  action: UnmappedValue['action'];
  count: number;
}

/** The mapping of one run with one repository: the hook pull.ts and push.ts call. */
export interface DocumentMapping {
  readonly instance: string;
  /** The peer's name of a local table (itself when the mapping does not rename it). */
  remoteResource(local: string): string;
  /**
   * A task's URL filters (`~.field__op=value`) with the field names the peer uses. Values are sent
   * as written: a value map need not be one-to-one, so no single remote value stands for a local one.
   */
  remoteFilters(localResource: string, filters: readonly string[]): string[];
  /** The peer's document → ours (remote names and values → local). */
  inbound(document: Buffer): Promise<Buffer>;
  /** Our document → the peer's. */
  outbound(document: Buffer): Promise<Buffer>;
  /** The unmapped values met since the last call; the tally starts again. */
  takeUnmapped(): UnmappedTally[];
}

function mappingFailed(instance: string, direction: string, error: unknown): SluiceError {
  const failure = asSluiceError(error);
  // A page too big for the machine is not the mapping's fault: keep the engine's code and advice.
  if (failure.severity === 'limit') {
    return new SluiceError(failure.code, `the ${direction} mapping ${instance} could not run on this page: ${failure.message}`, {
      status: failure.status,
      severity: failure.severity,
      cause: error,
      fix: `${failure.fix ? `${failure.fix}. ` : ''}Nothing of that page was imported or sent and the checkpoint did not move`,
      ...(failure.details ? { details: { ...failure.details, mappingCode: failure.code } } : { details: { mappingCode: failure.code } }),
    });
  }
  return new SluiceError('SYNC_MAPPING_FAILED', `the ${direction} mapping ${instance} could not be applied: ${failure.code} ${failure.message}`, {
    status: 500,
    cause: error,
    fix: 'Nothing of that page was imported or sent and the checkpoint did not move; check the mapping in the mapping editor (preview it on a captured payload)',
    details: { mappingCode: failure.code },
  });
}

/** A failure to read the mapping keeps its stable code (MAPPING_NOT_FOUND, MAPPING_INVALID…) and names the repository. */
function mappingUnreadable(repository: Pick<RepositoryRecord, 'name'>, instance: string, error: unknown): SluiceError {
  const failure = asSluiceError(error);
  return new SluiceError(failure.code, `the mapping ${instance} of repository ${repository.name} cannot be used: ${failure.message}`, {
    status: failure.status,
    cause: error,
    fix: `${failure.fix ? `${failure.fix}. ` : ''}Nothing is pulled or pushed with this repository until its mapping can be read (or it is unlinked)`,
    ...(failure.details ? { details: failure.details } : {}),
  });
}

const MAX_CACHED_STYLESHEETS = 32;

/** The field of a URL filter key: `~.field`, before `__op`, `$subfield`, `!` or `=`. */
const FILTER_FIELD = /^~\.((?:[A-Za-z0-9]|_(?!_))+)/;

export class SyncMappings {
  private engine: Pick<TransformEngine, 'transform' | 'close'> | undefined;
  private readonly stylesheets = new Map<string, string>();

  constructor(private readonly deps: SyncMappingDeps) {}

  /** Stops the engine if a run started it. */
  async close(): Promise<void> {
    const closing = this.engine;
    this.engine = undefined;
    await closing?.close();
  }

  /** The instance a repository names, undefined when none; a malformed name is an error, not "no mapping". */
  static instanceOf(repository: Pick<RepositoryRecord, 'config' | 'name'>): string | undefined {
    const value = repository.config[REPOSITORY_MAPPING_KEY];
    if (value === undefined || value === null || value === '') return undefined;
    if (typeof value !== 'string') {
      throw new SluiceError('MAPPING_BAD_INSTANCE', `repository ${repository.name} names its mapping with a ${typeof value}, not an instance name`, {
        status: 400,
        fix: 'Link the mapping again in the mapping editor',
      });
    }
    return value;
  }

  /** The mapping for one run with `repository`, read now; undefined when the repository has none. */
  async forRepository(repository: Pick<RepositoryRecord, 'config' | 'name'>): Promise<DocumentMapping | undefined> {
    const instance = SyncMappings.instanceOf(repository);
    if (instance === undefined) return undefined;
    let document: MappingDocument;
    try {
      document = await this.deps.readMapping(instance);
    } catch (error) {
      throw mappingUnreadable(repository, instance, error);
    }
    return this.mappingOf(document);
  }

  private stylesheetOf(document: MappingDocument): string {
    const key = createHash('sha256').update(JSON.stringify(document)).digest('hex');
    let xsl = this.stylesheets.get(key);
    if (xsl === undefined) {
      xsl = generateMappingXslt(document);
      if (this.stylesheets.size >= MAX_CACHED_STYLESHEETS) this.stylesheets.clear();
      this.stylesheets.set(key, xsl);
    }
    return xsl;
  }

  private mappingOf(document: MappingDocument): DocumentMapping {
    const xsl = this.stylesheetOf(document);
    const instance = document.instance;
    const remoteNames = new Map(document.resources.map((resource) => [resource.local, resource.remote ?? resource.local]));
    const remoteFields = new Map(
      document.resources.map((resource) => [resource.local, new Map((resource.fields ?? []).map((field) => [field.local, field.remote ?? field.local]))]),
    );
    let tally = new Map<string, UnmappedTally>();
    const apply = async (direction: 'inbound' | 'outbound', input: Buffer): Promise<Buffer> => {
      // A page without records (the end of a feed) has nothing to map; it is most incremental pulls.
      if (!input.includes('<resource')) return input;
      this.engine ??= this.deps.engine();
      let output: string;
      let messages: string[];
      try {
        const result = await this.engine.transform({
          stylesheet: { text: xsl },
          input,
          params: { direction },
          ...(input.length > CHUNKED_ABOVE_BYTES ? { chunked: true } : {}),
        });
        output = result.output;
        messages = result.messages;
      } catch (error) {
        throw mappingFailed(instance, direction, error);
      }
      for (const seen of parseMappingMessages(messages).unmapped) {
        const key = JSON.stringify([seen.direction, seen.resource, seen.field, seen.value, seen.action]);
        const entry = tally.get(key);
        if (entry) entry.count += 1;
        else tally.set(key, { direction: seen.direction, resource: seen.resource, field: seen.field, value: seen.value, action: seen.action, count: 1 });
      }
      return Buffer.from(output, 'utf8');
    };
    return {
      instance,
      remoteResource: (local) => remoteNames.get(local) ?? local,
      remoteFilters: (localResource, filters) => {
        const fields = remoteFields.get(localResource);
        if (!fields || fields.size === 0) return [...filters];
        return filters.map((filter) => filter.replace(FILTER_FIELD, (_whole, field: string) => `~.${fields.get(field) ?? field}`));
      },
      inbound: (input) => apply('inbound', input),
      outbound: (input) => apply('outbound', input),
      takeUnmapped() {
        const taken = [...tally.values()];
        tally = new Map();
        return taken;
      },
    };
  }
}

/** `unmapped status "Evacuated" ×2 (passed)`: the same words as the Ushahidi poll's log line. */
export function describeUnmapped(tally: readonly UnmappedTally[], limit = 20): string[] {
  const lines = tally.slice(0, limit).map((entry) => `unmapped ${entry.field} "${entry.value}" ×${entry.count} (${entry.action})`);
  if (tally.length > limit) lines.push(`${tally.length - limit} more unmapped values`);
  return lines;
}
