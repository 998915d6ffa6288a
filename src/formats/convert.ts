/**
 * One format conversion end to end, as DESIGN §1 draws it, so a route or a job only names the
 * format:
 *
 *   import: bytes → decode step → XSD gate → import stylesheet → instance mapping (inbound) → S3XML
 *   export: S3XML → instance mapping (outbound) → export stylesheet → XSD gate → encode step → bytes
 *           (an envelope format first runs the export of the format it carries for that table)
 *
 * The XSLT engine is passed in (the transform engine's `transform()` fits as it is), as are the
 * XSD validator and the steps; nothing here touches disk, network or clock.
 */
import { SluiceError } from '../errors.js';
import { parseMappingMessages, type MappingRunReport } from './mapping-generator.js';
import { getFormat, stylesheetPath, type FormatDeclaration, type FormatName } from './registry.js';
import { createFormatSteps, type Step, type StepData, type StepName } from './steps.js';
import { checkFormatDocument } from './validate.js';
import type { XsdValidator } from './xsd.js';

export type StylesheetSource = { path: string } | { text: string };

export interface TransformRequest {
  /** A path relative to the stylesheets folder, or generated XSLT text (instance mappings). */
  stylesheet: StylesheetSource;
  input: string;
  params?: Record<string, string>;
}

export interface TransformResult {
  output: string;
  messages: string[];
}

export interface StylesheetRunner {
  transform(request: TransformRequest): Promise<TransformResult>;
}

export interface FormatConverterDependencies {
  runner: StylesheetRunner;
  validator: XsdValidator;
  steps?: Record<StepName, Step>;
}

export interface ConversionOptions {
  /** The resource (`org_office`): picks CSV column stylesheets and names the table. */
  resource?: string;
  /** The peer instance's compiled mapping (mappings/<instance>.xsl), applied when given. */
  mapping?: StylesheetSource;
  /** Stylesheet parameters (utcnow, base_url, msguid, domain, identifier, …). */
  params?: Record<string, string>;
  /** CSV export: start with a byte order mark for Excel. */
  bom?: boolean;
}

export interface ImportResult {
  s3xml: string;
  /** xsl:message output of the import stylesheet (warnings, unmapped enumeration values). */
  messages: string[];
  /** Unmapped values the instance mapping saw; empty when no mapping was applied. */
  mapping: MappingRunReport;
}

export interface ExportResult {
  body: StepData;
  mediaType: string;
  messages: string[];
  mapping: MappingRunReport;
}

export interface FormatConverter {
  importDocument(format: FormatName, body: StepData, options?: ConversionOptions): Promise<ImportResult>;
  exportDocument(format: FormatName, s3xml: string, options?: ConversionOptions): Promise<ExportResult>;
}

/** The wrapped format (`wraps`) whose stylesheets are written for this resource, if any. */
export function carriedFormat(envelope: FormatDeclaration, resource: string | undefined): FormatDeclaration | undefined {
  if (resource === undefined) return undefined;
  return (envelope.wraps ?? []).map(getFormat).find((wrapped) => wrapped.exportStylesheet !== undefined && wrapped.resources?.includes(resource));
}

const NO_MAPPING: MappingRunReport = { unmapped: [], counts: [], rejectedRecords: [], otherMessages: [] };

export function createFormatConverter(dependencies: FormatConverterDependencies): FormatConverter {
  const steps = dependencies.steps ?? createFormatSteps();
  const { runner, validator } = dependencies;

  const runStep = async (name: StepName | undefined, input: StepData, format: FormatDeclaration, options: ConversionOptions): Promise<StepData> => {
    if (!name) return input;
    return steps[name](input, {
      ...(options.resource === undefined ? {} : { resource: options.resource }),
      ...(options.bom === undefined ? {} : { bom: options.bom }),
    }).catch((error: unknown) => {
      throw error instanceof SluiceError
        ? error
        : new SluiceError('FORMAT_STEP_FAILED', `The ${name} step of ${format.label} failed: ${String(error)}`, { status: 500, cause: error });
    });
  };

  const applyMapping = async (mapping: StylesheetSource | undefined, s3xml: string, direction: 'inbound' | 'outbound') => {
    if (!mapping) return { s3xml, report: NO_MAPPING };
    const run = await runner.transform({ stylesheet: mapping, input: s3xml, params: { direction } });
    return { s3xml: run.output, report: parseMappingMessages(run.messages) };
  };

  return {
    async importDocument(name, body, options = {}) {
      const format = getFormat(name);
      const decoded = await runStep(format.decode, body, format, options);
      const xml = typeof decoded === 'string' ? decoded : new TextDecoder('utf-8').decode(decoded);
      await checkFormatDocument(format, xml, 'inbound', validator);
      const imported = await runner.transform({
        stylesheet: { path: stylesheetPath(format, 'import', options.resource) },
        input: xml,
        params: options.params ?? {},
      });
      const mapped = await applyMapping(options.mapping, imported.output, 'inbound');
      return { s3xml: mapped.s3xml, messages: imported.messages, mapping: mapped.report };
    },

    async exportDocument(name, s3xml, options = {}) {
      const format = getFormat(name);
      const mapped = await applyMapping(options.mapping, s3xml, 'outbound');
      const params = options.params ?? {};
      const messages: string[] = [];
      let input = mapped.s3xml;
      // An envelope (EDXL-DE) carries the table's own standard where there is one: CAP alerts as
      // CAP, hospitals as HAVE. Other tables reach the envelope as S3XML, which it wraps as is.
      const payloadFormat = carriedFormat(format, options.resource);
      if (payloadFormat) {
        const payload = await runner.transform({ stylesheet: { path: stylesheetPath(payloadFormat, 'export', options.resource) }, input, params });
        messages.push(...payload.messages);
        input = payload.output;
      }
      const exported = await runner.transform({
        stylesheet: { path: stylesheetPath(format, 'export', options.resource) },
        input,
        params,
      });
      messages.push(...exported.messages);
      await checkFormatDocument(format, exported.output, 'outbound', validator);
      const body = await runStep(format.encode, exported.output, format, options);
      return { body, mediaType: format.mediaTypes[0] as string, messages, mapping: mapped.report };
    },
  };
}
