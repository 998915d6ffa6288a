/**
 * The check the composition root runs once at startup. Without the official XSDs every CAP, HAVE
 * and DE document is refused (fail-closed), so the operator must learn it from the startup log,
 * not from the first 503 a partner reports.
 */
import { STANDARDS_FIX, type SchemaAvailability, type XsdValidator } from './xsd.js';

export interface WarningSink {
  warn(details: Record<string, unknown>, message: string): void;
}

/** Logs one warning naming the folder looked in, what is affected and the setting to change. */
export async function warnIfStandardsMissing(validator: Pick<XsdValidator, 'availability'>, logger: WarningSink): Promise<SchemaAvailability> {
  const availability = await validator.availability();
  if (!availability.available) {
    logger.warn(
      { standardsDir: availability.standardsDir, missing: availability.missing, setting: 'SLUICE_STANDARDS_DIR' },
      `The official XSDs are not in ${availability.standardsDir} (missing: ${availability.missing.join(', ')}). ` +
        'CAP, EDXL-HAVE and EDXL-DE documents cannot be validated, so Sluice will refuse to export or import them ' +
        '(503 XSD_SCHEMAS_MISSING on .cap, .have and .de URLs; the transform preview cannot validate). ' +
        `${STANDARDS_FIX}.`,
    );
  }
  return availability;
}
