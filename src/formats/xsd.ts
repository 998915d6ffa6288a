/**
 * XSD validation of CAP 1.2, EDXL-HAVE 1.0 and EDXL-DE 1.0 documents with xmllint-wasm (libxml2
 * compiled to WebAssembly: no native build, no network, no file access outside what we preload).
 *
 * The official schemas are never copied into this repository: they are read from a standards
 * directory (default `<repo>/../shared/standards`; the composition root may override it, e.g. from
 * SLUICE_STANDARDS_DIR). DE's payload wildcards are `processContents="lax"`, so an envelope is only
 * checked together with its CAP/HAVE payload when those schemas are loaded in the same run: the
 * `de` schema is therefore a generated driver that imports DE, CAP and HAVE at once.
 */
import { constants } from 'node:fs';
import { access, readFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { validateXML, memoryPages, type XMLFileInfo } from 'xmllint-wasm';
import { SluiceError } from '../errors.js';

export type SchemaName = 'cap' | 'have' | 'de';

export const SCHEMA_NAMES: readonly SchemaName[] = ['cap', 'have', 'de'];

export interface XsdValidationError {
  line?: number;
  message: string;
}

export interface XsdValidationResult {
  valid: boolean;
  errors: XsdValidationError[];
}

export interface XsdValidatorOptions {
  /** Folder holding `cap/schema`, `de/schema` and `have/schema/1.0` as in shared/standards. */
  standardsDir?: string;
  /** WebAssembly memory ceiling in MiB for one validation run (default 256). */
  maxMemoryMiB?: number;
}

export interface XsdValidator {
  validate(xml: string, schema: SchemaName): Promise<XsdValidationResult>;
  /** Validates several documents in one xmllint run (start-up dominates the cost of one call). */
  validateMany(xmls: readonly string[], schema: SchemaName): Promise<XsdValidationResult[]>;
  /** Whether the official XSDs can be read now (checked again on every call until they can). */
  availability(): Promise<SchemaAvailability>;
}

/** Whether CAP/HAVE/DE documents can be validated, and if not, which expected files are absent. */
export interface SchemaAvailability {
  available: boolean;
  standardsDir: string;
  /** Expected files (relative to standardsDir) that could not be read; empty when available. */
  missing: string[];
}

const CAP_FILE = 'CAP-v1.2-os.xsd';
const DE_FILE = 'EDXL-DE_Schema_v1.0.xsd';
const HAVE_ROOT_FILE = 'edxl-have.xsd';
const DRIVER_FILE = 'sluice-driver.xsd';

/** The official files the validator reads, relative to the standards directory. */
export const EXPECTED_STANDARD_FILES: readonly string[] = [
  `cap/schema/${CAP_FILE}`,
  `de/schema/${DE_FILE}`,
  `have/schema/1.0/${HAVE_ROOT_FILE}`,
];

/** Names the files and the setting, for errors, the startup warning and /api/formats. */
export const STANDARDS_FIX =
  'Install the official OASIS schemas under their own names in the standards folder: ' +
  `${EXPECTED_STANDARD_FILES.join(', ')} and the other EDXL-HAVE 1.0 XSDs beside edxl-have.xsd (a copy of shared/standards). ` +
  'The folder is SLUICE_STANDARDS_DIR (default: shared/standards beside the Sluice folder); files put there are used at once, ' +
  'a changed SLUICE_STANDARDS_DIR after a restart';

/** Generated, not copied: it only names the official files, which keep their own file names. */
const DRIVER_SCHEMA = `<?xml version="1.0" encoding="UTF-8"?>
<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" targetNamespace="urn:x-sluice:xsd-driver">
  <xs:import namespace="urn:oasis:names:tc:emergency:EDXL:DE:1.0" schemaLocation="${DE_FILE}"/>
  <xs:import namespace="urn:oasis:names:tc:emergency:cap:1.2" schemaLocation="${CAP_FILE}"/>
  <xs:import namespace="urn:oasis:names:tc:emergency:EDXL:HAVE:1.0" schemaLocation="${HAVE_ROOT_FILE}"/>
</xs:schema>
`;

/** `<repo>/../shared/standards`, computed from this module's location (src/ or dist/ alike). */
export function defaultStandardsDir(): string {
  return fileURLToPath(new URL('../../../shared/standards/', import.meta.url));
}

interface SchemaSet {
  main: XMLFileInfo;
  preload: XMLFileInfo[];
}

export function createXsdValidator(options: XsdValidatorOptions = {}): XsdValidator {
  const standardsDir = options.standardsDir ?? defaultStandardsDir();
  const maxMemoryPages = Math.min((options.maxMemoryMiB ?? 256) * memoryPages.MiB, memoryPages.max);
  let files: Promise<Map<string, string>> | undefined;

  // Read once, lazily: every imported XSD must be preloaded under its exact schemaLocation string,
  // and the HAVE set imports its siblings by bare file name, so everything lives in one flat folder.
  const loadFiles = (): Promise<Map<string, string>> => {
    files ??= readStandardFiles(standardsDir).catch((error: unknown) => {
      files = undefined;
      throw error;
    });
    return files;
  };

  const schemaSet = async (schema: SchemaName): Promise<SchemaSet> => {
    const all = await loadFiles();
    const info = (name: string): XMLFileInfo => ({ fileName: name, contents: all.get(name) ?? '' });
    const haveFiles = [...all.keys()].filter((name) => name !== CAP_FILE && name !== DE_FILE);
    switch (schema) {
      case 'cap':
        return { main: info(CAP_FILE), preload: [] };
      case 'have':
        return { main: info(HAVE_ROOT_FILE), preload: haveFiles.filter((n) => n !== HAVE_ROOT_FILE).map(info) };
      case 'de':
        return {
          main: { fileName: DRIVER_FILE, contents: DRIVER_SCHEMA },
          preload: [info(DE_FILE), info(CAP_FILE), ...haveFiles.map(info)],
        };
    }
  };

  const validateMany = async (xmls: readonly string[], schema: SchemaName): Promise<XsdValidationResult[]> => {
    if (!SCHEMA_NAMES.includes(schema)) {
      throw new SluiceError('XSD_UNKNOWN_SCHEMA', `There is no schema called "${String(schema)}"`, {
        fix: `Use one of ${SCHEMA_NAMES.join(', ')}`,
      });
    }
    const results: (XsdValidationResult | undefined)[] = xmls.map(refuseDoctype);
    const pending = xmls.map((xml, index) => ({ xml, index })).filter(({ index }) => results[index] === undefined);
    if (pending.length === 0) return results as XsdValidationResult[];

    const { main, preload } = await schemaSet(schema);
    const fileNameOf = (index: number): string => `document-${index + 1}.xml`;
    let rawOutput: string;
    try {
      const outcome = await validateXML({
        xml: pending.map(({ xml, index }) => ({ fileName: fileNameOf(index), contents: xml })),
        schema: main,
        preload,
        maxMemoryPages,
      });
      rawOutput = outcome.rawOutput;
    } catch (error) {
      throw new SluiceError('XSD_VALIDATOR_FAILED', `The XML schema validator could not run: ${String(error)}`, {
        status: 500,
        cause: error,
        fix: 'Check that the standards directory holds the official XSDs and that the document is not too large',
      });
    }
    const byFile = parseXmllintOutput(rawOutput);
    for (const { index } of pending) {
      const parsed = byFile.get(fileNameOf(index));
      const errors = parsed?.errors ?? [];
      const valid = parsed?.validates === true && errors.length === 0;
      results[index] = {
        valid,
        errors: valid || errors.length > 0 ? errors : [{ message: 'The document could not be validated' }],
      };
    }
    return results as XsdValidationResult[];
  };

  return {
    validateMany,
    async validate(xml, schema) {
      const [result] = await validateMany([xml], schema);
      return result as XsdValidationResult;
    },
    async availability() {
      try {
        await loadFiles();
        return { available: true, standardsDir, missing: [] };
      } catch {
        return { available: false, standardsDir, missing: await missingStandardFiles(standardsDir) };
      }
    },
  };
}

async function missingStandardFiles(standardsDir: string): Promise<string[]> {
  const missing: string[] = [];
  for (const file of EXPECTED_STANDARD_FILES) {
    try {
      await access(path.join(standardsDir, file), constants.R_OK);
    } catch {
      missing.push(file);
    }
  }
  // Present but unreadable as a set (e.g. a folder in place of a file): name them all.
  return missing.length > 0 ? missing : [...EXPECTED_STANDARD_FILES];
}

let sharedValidator: { dir: string; validator: XsdValidator } | undefined;

/**
 * Validates one document against an official schema. `cap` and `have` load that standard alone;
 * `de` loads the driver (DE + CAP + HAVE), so an envelope's payloads are checked as well.
 */
export function validateXml(
  xml: string,
  schemaName: SchemaName,
  options: XsdValidatorOptions = {},
): Promise<XsdValidationResult> {
  const dir = options.standardsDir ?? defaultStandardsDir();
  if (sharedValidator?.dir !== dir) sharedValidator = { dir, validator: createXsdValidator({ ...options, standardsDir: dir }) };
  return sharedValidator.validator.validate(xml, schemaName);
}

/** Throws XSD_INVALID with every error in `details.errors` when the result is not valid. */
export function assertValid(result: XsdValidationResult, what: string): void {
  if (result.valid) return;
  const first = result.errors[0];
  const where = first?.line === undefined ? '' : ` (line ${first.line})`;
  throw new SluiceError('XSD_INVALID', `${what} does not validate: ${first?.message ?? 'unknown error'}${where}`, {
    status: 422,
    severity: 'record',
    fix: 'Correct the listed elements so that the document follows the official schema',
    details: { errors: result.errors },
  });
}

async function readStandardFiles(standardsDir: string): Promise<Map<string, string>> {
  const files = new Map<string, string>();
  const read = async (dir: string, name: string): Promise<void> => {
    files.set(name, await readFile(path.join(dir, name), 'utf8'));
  };
  try {
    await read(path.join(standardsDir, 'cap', 'schema'), CAP_FILE);
    await read(path.join(standardsDir, 'de', 'schema'), DE_FILE);
    const haveDir = path.join(standardsDir, 'have', 'schema', '1.0');
    for (const name of (await readdir(haveDir)).filter((n) => n.endsWith('.xsd')).sort()) {
      await read(haveDir, name);
    }
  } catch (error) {
    throw schemasMissing(error);
  }
  if (!files.has(HAVE_ROOT_FILE)) throw schemasMissing();
  return files;
}

/**
 * A configuration gap, not a defect: 503 until the schemas are installed. Documents are refused,
 * never sent or accepted unvalidated. The message leaves out the server's folder (anonymous demo
 * readers see it); the startup warning and /api/formats name it for operators.
 */
function schemasMissing(cause?: unknown): SluiceError {
  return new SluiceError(
    'XSD_SCHEMAS_MISSING',
    'The official CAP 1.2, EDXL-HAVE 1.0 and EDXL-DE 1.0 schemas are not installed on this gateway, so it cannot validate these documents and refuses to send or accept them',
    {
      status: 503,
      ...(cause === undefined ? {} : { cause }),
      fix: STANDARDS_FIX,
      details: { expectedFiles: [...EXPECTED_STANDARD_FILES] },
    },
  );
}

/** A DTD is never needed by these standards and is where entity attacks live, so refuse it outright. */
function refuseDoctype(xml: string): XsdValidationResult | undefined {
  const match = /<!DOCTYPE|<!ENTITY/i.exec(xml);
  if (!match) return undefined;
  const line = xml.slice(0, match.index).split('\n').length;
  return { valid: false, errors: [{ line, message: 'A DOCTYPE or ENTITY declaration is not allowed' }] };
}

interface FileOutcome {
  validates: boolean;
  errors: XsdValidationError[];
}

/**
 * xmllint prints `<file>:<line>: <message>` per error, then `<file> validates` or
 * `<file> fails to validate`; parser errors add context lines without a prefix, which we skip.
 */
export function parseXmllintOutput(rawOutput: string): Map<string, FileOutcome> {
  const outcomes = new Map<string, FileOutcome>();
  const outcomeOf = (file: string): FileOutcome => {
    let outcome = outcomes.get(file);
    if (!outcome) {
      outcome = { validates: false, errors: [] };
      outcomes.set(file, outcome);
    }
    return outcome;
  };
  for (const line of rawOutput.split('\n')) {
    const located = /^(document-\d+\.xml):(\d+): (.*)$/.exec(line);
    if (located) {
      outcomeOf(located[1] as string).errors.push({ line: Number(located[2]), message: (located[3] as string).trim() });
      continue;
    }
    const verdict = /^(document-\d+\.xml) (validates|fails to validate)$/.exec(line.trim());
    if (verdict) {
      const outcome = outcomeOf(verdict[1] as string);
      outcome.validates = verdict[2] === 'validates';
    }
  }
  return outcomes;
}
