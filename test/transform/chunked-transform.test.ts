import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { isSluiceError } from '../../src/errors.js';
import type { TransformEngine } from '../../src/transform/engine.js';
import { testEngine } from './helpers.js';

/** An Eden-style export: organisations first, then the locations they reference, with comments. */
function s3xml(organisations: number, badAt = -1): string {
  const parts = ['<?xml version="1.0" encoding="UTF-8"?>\n<!-- exported -->\n<s3xml success="true" domain="eden.example.org">\n'];
  for (let i = 0; i < organisations; i++) {
    const uuid = i === badAt ? 'bad' : `org-${i}`;
    parts.push(
      `  <resource name="org_organisation" uuid="${uuid}"><data field="name">Org ${i} &amp; Ærø</data>` +
        `<reference field="location_id" resource="gis_location" uuid="loc-${i % 7}"/>` +
        (i % 3 === 0 ? `<resource name="org_office" uuid="off-${i}"><data field="name">Office</data></resource>` : '') +
        '</resource>\n',
    );
    if (i % 10 === 4) parts.push('  <!-- a comment between records -->\n');
  }
  for (let l = 0; l < 7; l++) parts.push(`  <resource name="gis_location" uuid="loc-${l}"><data field="name">Place ${l}</data></resource>\n`);
  parts.push('</s3xml>\n');
  return parts.join('');
}

describe('chunked transforms', () => {
  let engine: TransformEngine;
  before(() => {
    engine = testEngine({ workers: 2, batchRecords: 4 });
  });
  after(() => engine.close());

  it('gives the whole-document output for a record-local S3XML stylesheet', async () => {
    const input = s3xml(37);
    const whole = await engine.transform({ stylesheet: { path: 'chunking/stamp.xsl' }, input });
    const chunked = await engine.transform({ stylesheet: { path: 'chunking/stamp.xsl' }, input, chunked: true });
    assert.equal(chunked.output, whole.output);
    assert.equal(chunked.chunks, 11);
    assert.equal((chunked.output.match(/checked="yes"/g) ?? []).length, 44);
  });

  it('carries the referenced lookup records into each batch so keys still find them', async () => {
    const input = s3xml(23);
    const whole = await engine.transform({ stylesheet: { path: 'chunking/locations.xsl' }, input });
    const chunked = await engine.transform({ stylesheet: { path: 'chunking/locations.xsl' }, input, chunked: true, chunkContext: ['gis_location'] });
    assert.equal(chunked.output, whole.output);
    assert.match(chunked.output, /^name,location\nOrg 0 & Ærø,Place 0\n/);
    assert.match(chunked.output, /Org 22 & Ærø,Place 1\n-- end\n$/);
  });

  it('streams the output in order from a readable source and reports progress', async () => {
    const input = s3xml(30);
    const pieces: string[] = [];
    const progress: number[] = [];
    const summary = await engine.transformStream(
      {
        stylesheet: { path: 'chunking/locations.xsl' },
        open: () => Readable.from([Buffer.from(input).subarray(0, 1000), Buffer.from(input).subarray(1000)]),
        chunkContext: ['gis_location'],
        batchRecords: 5,
        onProgress: ({ records }) => progress.push(records),
      },
      (text) => {
        pieces.push(text);
      },
    );
    const whole = await engine.transform({ stylesheet: { path: 'chunking/locations.xsl' }, input });
    assert.equal(pieces.join(''), whole.output);
    assert.equal(summary.records, 30);
    assert.equal(summary.chunks, 6);
    assert.deepEqual(progress, [5, 10, 15, 20, 25, 30]);
  });

  it('handles a document without records', async () => {
    const input = '<?xml version="1.0"?><s3xml success="false"/>';
    const whole = await engine.transform({ stylesheet: { path: 'chunking/stamp.xsl' }, input });
    const chunked = await engine.transform({ stylesheet: { path: 'chunking/stamp.xsl' }, input, chunked: true });
    assert.equal(chunked.output, whole.output);
  });

  it('names the batch when one record fails', async () => {
    await assert.rejects(
      engine.transform({ stylesheet: { path: 'chunking/stamp.xsl' }, input: s3xml(20, 13), chunked: true }),
      (error) => isSluiceError(error) && error.code === 'XSLT_RUNTIME_ERROR' && error.details['batch'] === 3 && error.details['xsltCode'] === 'Q{urn:test}BAD',
    );
  });

  it('refuses chunking a stylesheet whose output cannot be joined', async () => {
    await assert.rejects(
      engine.transform({ stylesheet: { path: 'chunking/json-out.xsl' }, input: s3xml(3), chunked: true }),
      (error) => isSluiceError(error) && error.code === 'XSLT_CHUNKING_UNSUPPORTED',
    );
  });
});

describe('batch threads of a chunked run', () => {
  it('are as many as fit in the memory budget, unless the caller says how many', async () => {
    const cases: [Parameters<typeof testEngine>[0], number][] = [
      [{ workers: 2 }, 1],
      [{ workers: 2, batchMemoryMb: 300 }, 2],
      [{ workers: 2, batchMemoryMb: 4096 }, 2],
      [{ workers: 4, batchMemoryMb: 200, batchWorkers: 3 }, 3],
    ];
    for (const [options, threads] of cases) {
      const engine = testEngine({ ...options, batchRecords: 4 });
      try {
        const summary = await engine.transformStream(
          { stylesheet: { path: 'chunking/stamp.xsl' }, open: () => Readable.from([Buffer.from(s3xml(9))]), chunkContext: ['gis_location'] },
          () => {},
        );
        assert.equal(summary.threads, threads, JSON.stringify(options));
        assert.equal(summary.records, 9);
      } finally {
        await engine.close();
      }
    }
  });
});
