import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { demoResources } from '../../src/demo/seed.js';
import { tableXmlToCsv } from '../../src/formats/csv.js';
import { createXsdValidator } from '../../src/formats/xsd.js';
import type { S3Resource } from '../../src/s3xml/model.js';
import { serializeS3XML } from '../../src/s3xml/serialize.js';
import { runXslt, STANDARDS_DIR } from '../support/run-xslt.js';
import { descendants, parseXml } from '../support/xml-tree.js';

const clock = { now: () => new Date('2024-05-01T10:00:00Z') };
const demo = serializeS3XML({ attributes: {}, resources: demoResources(clock) });
const validator = createXsdValidator({ standardsDir: STANDARDS_DIR });

describe('exports of the demo data', () => {
  it('give HAVE that validates, bare and in a DE envelope, one Hospital per demo hospital', async () => {
    const hospitals = demoResources(clock).filter((r) => r.name === 'med_hospital').length;
    const bare = await runXslt('have/export.xsl', demo, { utcnow: '2024-05-01T10:00:00' });
    const wrapped = await runXslt('have/export.xsl', demo, { utcnow: '2024-05-01T10:00:00', envelope: 'de', domain: 'demo.example' });
    assert.equal(descendants(parseXml(bare.output), 'Hospital').length, hospitals);
    const [haveResult, deResult] = await Promise.all([validator.validate(bare.output, 'have'), validator.validate(wrapped.output, 'de')]);
    assert.deepEqual(haveResult.errors, []);
    assert.deepEqual(deResult.errors, []);
  });

  it('give a GeoJSON feature for every located demo record and every location nobody points at', async () => {
    const { output } = await runXslt('geojson/export.xsl', demo);
    const collection = JSON.parse(output) as { features: { properties: { resource: string } }[] };
    const resources = demoResources(clock);
    const pointedAt = new Set<string>();
    const visit = (r: S3Resource): void => {
      for (const ref of r.references) if (ref.resource === 'gis_location' && ref.uuid) pointedAt.add(ref.uuid);
      r.components.forEach(visit);
    };
    resources.forEach(visit);
    const located = resources.filter((r) => r.name !== 'gis_location' && r.references.some((ref) => ref.field === 'location_id'));
    const standalone = resources.filter((r) => r.name === 'gis_location' && !pointedAt.has(r.uuid as string));
    assert.ok(standalone.length > 0);
    assert.equal(collection.features.length, located.length + standalone.length);
    assert.equal(
      collection.features.filter((f) => f.properties.resource === 'med_hospital').length,
      resources.filter((r) => r.name === 'med_hospital').length,
    );
  });

  it('give a hospital sheet with one row per hospital and its location columns filled', async () => {
    const { output } = await runXslt('csv/med/hospital.export.xsl', demo);
    const lines = tableXmlToCsv(output).trim().split('\r\n');
    assert.equal(lines.length, 1 + demoResources(clock).filter((r) => r.name === 'med_hospital').length);
    assert.match(lines[1] ?? '', /,Nepal,/);
  });
});
