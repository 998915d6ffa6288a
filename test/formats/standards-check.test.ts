import assert from 'node:assert/strict';
import { mkdtemp, rm, symlink } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { warnIfStandardsMissing } from '../../src/formats/standards-check.js';
import { createXsdValidator } from '../../src/formats/xsd.js';
import { STANDARDS_DIR } from '../support/run-xslt.js';

function recordingLogger() {
  const warnings: { details: Record<string, unknown>; message: string }[] = [];
  return { warnings, warn: (details: Record<string, unknown>, message: string) => warnings.push({ details, message }) };
}

describe('the startup check for the official XSDs', () => {
  it('warns once, naming the folder looked in, what is refused and the setting to change', async () => {
    const emptyDir = await mkdtemp(path.join(os.tmpdir(), 'sluice-no-standards-'));
    try {
      const logger = recordingLogger();
      const availability = await warnIfStandardsMissing(createXsdValidator({ standardsDir: emptyDir }), logger);
      assert.equal(availability.available, false);
      assert.equal(logger.warnings.length, 1);
      const [{ details, message }] = logger.warnings as [{ details: Record<string, unknown>; message: string }];
      assert.ok(message.includes(emptyDir), message);
      assert.match(message, /CAP, EDXL-HAVE and EDXL-DE documents cannot be validated/);
      assert.match(message, /refuse/);
      assert.match(message, /SLUICE_STANDARDS_DIR/);
      assert.match(message, /CAP-v1\.2-os\.xsd/);
      assert.equal(details['setting'], 'SLUICE_STANDARDS_DIR');
      assert.deepEqual(details['missing'], ['cap/schema/CAP-v1.2-os.xsd', 'de/schema/EDXL-DE_Schema_v1.0.xsd', 'have/schema/1.0/edxl-have.xsd']);
    } finally {
      await rm(emptyDir, { recursive: true, force: true });
    }
  });

  it('stays quiet when the schemas are there', async () => {
    const logger = recordingLogger();
    const availability = await warnIfStandardsMissing(createXsdValidator({ standardsDir: STANDARDS_DIR }), logger);
    assert.deepEqual(availability, { available: true, standardsDir: STANDARDS_DIR, missing: [] });
    assert.equal(logger.warnings.length, 0);
  });

  it('notices schemas installed after the first check without a new validator', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'sluice-late-standards-'));
    try {
      const validator = createXsdValidator({ standardsDir: path.join(dir, 'standards') });
      assert.equal((await validator.availability()).available, false);
      await symlink(STANDARDS_DIR, path.join(dir, 'standards'));
      assert.equal((await validator.availability()).available, true);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
