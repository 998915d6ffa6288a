import assert from 'node:assert/strict';
import { access } from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import { isSluiceError } from '../../src/errors.js';
import {
  CSV_RESOURCES,
  findFormat,
  formatForExtension,
  formatsForMediaType,
  getFormat,
  listFormats,
  listStylesheetPaths,
  splitResourceName,
  stylesheetPath,
} from '../../src/formats/registry.js';
import { createFormatSteps } from '../../src/formats/steps.js';
import { STYLESHEETS_DIR } from '../support/run-xslt.js';

describe('format registry', () => {
  it('declares every format the gateway speaks, looked up by name, extension and media type', () => {
    assert.deepEqual(listFormats().map((f) => f.name), ['cap', 'cap-atom', 'have', 'de', 'csv', 'xlsx', 's3json', 'geojson', 'osm']);
    assert.equal(getFormat('cap').mediaTypes[0], 'application/cap+xml');
    assert.equal(formatForExtension('.CAP')?.name, 'cap');
    assert.equal(formatForExtension('xml'), undefined);
    assert.deepEqual(formatsForMediaType('text/csv; charset=utf-8').map((f) => f.name), ['csv']);
    assert.equal(findFormat('rss'), undefined);
    assert.throws(() => getFormat('rss'), (error: unknown) => isSluiceError(error) && error.code === 'FORMAT_UNKNOWN' && error.status === 404);
  });

  it('names stylesheets that exist, for every format and every CSV resource', async () => {
    const paths = listStylesheetPaths();
    assert.equal(paths.length, 2 + 1 + 2 + 2 + 2 * CSV_RESOURCES.length + 2 + 2 + 1);
    assert.ok(paths.includes('csv/cap/alert.export.xsl') && paths.includes('cap/atom.xsl'));
    for (const relative of paths) await access(path.join(STYLESHEETS_DIR, relative));
  });

  it('names only steps that exist', () => {
    const steps = createFormatSteps();
    for (const format of listFormats()) {
      for (const step of [format.decode, format.encode]) if (step) assert.equal(typeof steps[step], 'function', step);
    }
  });

  it('asks for XSD checks exactly on CAP, HAVE and DE', () => {
    assert.deepEqual(listFormats().filter((f) => f.xsd?.inbound && f.xsd.outbound).map((f) => f.name), ['cap', 'have', 'de']);
    assert.deepEqual(getFormat('de').wraps, ['cap', 'have']);
  });

  it('refuses a direction a format does not support and bad resource names', () => {
    assert.throws(() => stylesheetPath(getFormat('osm'), 'export'), (e: unknown) => isSluiceError(e) && e.code === 'FORMAT_DIRECTION_UNSUPPORTED');
    assert.throws(() => stylesheetPath(getFormat('csv'), 'import'), (e: unknown) => isSluiceError(e) && e.code === 'FORMAT_NEEDS_RESOURCE');
    assert.throws(() => stylesheetPath(getFormat('csv'), 'import', { prefix: '..', name: 'x' }), (e: unknown) => isSluiceError(e) && e.code === 'FORMAT_BAD_RESOURCE');
    assert.throws(() => splitResourceName('office'), (e: unknown) => isSluiceError(e) && e.code === 'FORMAT_BAD_RESOURCE');
    assert.deepEqual(splitResourceName('event_incident_report'), { prefix: 'event', name: 'incident_report' });
    assert.equal(stylesheetPath(getFormat('cap'), 'export'), 'cap/export.xsl');
  });
});
