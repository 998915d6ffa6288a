import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { before, describe, it } from 'node:test';
import { heapFloorMb, heapNeededMb, oversizedTimeoutMs } from '../../src/transform/worker/oversized-lane.js';
import { scratchDir, testEngine, transformFailure } from './helpers.js';

/**
 * One record bigger than a batch (a long free text, an embedded attachment, a big polygon) must
 * transform when the machine can hold it, and otherwise fail with TRANSFORM_RECORD_TOO_LARGE
 * naming the record and the limit; the engine goes on working either way. Without the oversized
 * lane such a record runs in a batch thread with a 64 MB heap: it fails with a generic memory
 * error, or aborts the whole process (nodejs/node#47224).
 */

const MIB = 1024 * 1024;

const XSL_HEAD = '<xsl:stylesheet version="3.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform">';

/** Record-local, and does what Eden's stylesheets do all the time: normalize-space() and compare a field. */
const COPY_NOTES = `${XSL_HEAD}
  <xsl:template match="/s3xml"><out><xsl:apply-templates select="resource"/></out></xsl:template>
  <xsl:template match="resource">
    <record uuid="{@uuid}" nonempty="{normalize-space(data[@field = 'comments']) != ''}"><xsl:value-of select="data[@field = 'comments']"/></record>
  </xsl:template>
</xsl:stylesheet>`;

/** When the document holds a long text, upper-cases 100 copies of it: one allocation bigger than any test heap. */
const MEMORY_BOMB = `${XSL_HEAD}
  <xsl:template match="/">
    <out><xsl:if test="string-length(.) gt 1000000"><xsl:value-of select="let $text := string(.) return string-length(upper-case(string-join((1 to 100) ! $text, '')))"/></xsl:if></out>
  </xsl:template>
</xsl:stylesheet>`;

function longText(bytes: number): string {
  return 'Lorem ipsum dolor sit amet, consectetur adipiscing elit. '.repeat(Math.ceil(bytes / 57)).slice(0, bytes);
}

function document(bigBytes: number): string {
  return (
    '<?xml version="1.0" encoding="UTF-8"?>\n<s3xml>' +
    '<resource name="org_organisation" uuid="small-1"><data field="comments">short</data></resource>' +
    `<resource name="org_organisation" uuid="urn:uuid:big"><data field="comments">${longText(bigBytes)}</data></resource>` +
    '<resource name="org_organisation" uuid="small-2"><data field="comments">short</data></resource>' +
    '</s3xml>'
  );
}


describe('a record larger than a batch', () => {
  let sheets: string;
  before(async () => {
    sheets = await scratchDir('oversized');
    await writeFile(path.join(sheets, 'copy-notes.xsl'), COPY_NOTES);
    await writeFile(path.join(sheets, 'memory-bomb.xsl'), MEMORY_BOMB);
  });

  it('transforms in a process of its own and joins in order with the batches around it', async () => {
    // 6 MB: a batch thread (64 MB heap) runs out of memory on it; it needs about 130 MB.
    const engine = testEngine({ stylesheetsDir: sheets, maxRecordHeapMb: 512 });
    try {
      const input = document(6 * MIB);
      const result = await engine.transform({ stylesheet: { path: 'copy-notes.xsl' }, input, chunked: true });
      assert.equal(result.chunks, 3);
      const uuids = [...result.output.matchAll(/<record uuid="([^"]+)" nonempty="true">/g)].map((match) => match[1]);
      assert.deepEqual(uuids, ['small-1', 'urn:uuid:big', 'small-2']);
      assert.ok(result.output.includes(`>${longText(6 * MIB)}</record>`), 'the long text arrives whole');
    } finally {
      await engine.close();
    }
  });

  it('is refused at once, naming the record, the limit and how to raise it, when it cannot fit the heap ceiling', async () => {
    const engine = testEngine({ stylesheetsDir: sheets, maxRecordHeapMb: 64, maxRecordHeapSetting: 'SLUICE_RECORD_HEAP_MB' });
    try {
      const started = performance.now();
      // The decoded text and the output alone take 40 MB; with SaxonJS itself it cannot fit 64 MB.
      const error = await transformFailure(engine.transform({ stylesheet: { path: 'copy-notes.xsl' }, input: document(20 * MIB), chunked: true }));
      assert.equal(error.code, 'TRANSFORM_RECORD_TOO_LARGE');
      assert.equal(error.severity, 'limit');
      assert.equal(error.status, 413);
      assert.match(error.message, /^record org_organisation urn:uuid:big \(\d+ bytes, from input byte 141\) needs at least 73 MB of transform heap; the limit is 64 MB$/);
      assert.match(error.fix ?? '', /Raise SLUICE_RECORD_HEAP_MB to at least 433 MB/);
      assert.equal(error.details['uuid'], 'urn:uuid:big');
      assert.equal(error.details['heapLimitMb'], 64);
      assert.ok(performance.now() - started < 5_000, 'refused from its size, without running it');
      // The engine still serves the next request.
      const next = await engine.transform({ stylesheet: { path: 'copy-notes.xsl' }, input: document(10), chunked: true });
      assert.equal((next.output.match(/<record /g) ?? []).length, 3);
    } finally {
      await engine.close();
    }
  });

  it('that runs out of memory in its process fails with TRANSFORM_RECORD_TOO_LARGE and leaves the engine working', async () => {
    const engine = testEngine({ stylesheetsDir: sheets, maxRecordHeapMb: 128 });
    try {
      const error = await transformFailure(engine.transform({ stylesheet: { path: 'memory-bomb.xsl' }, input: document(2 * MIB), chunked: true }));
      assert.equal(error.code, 'TRANSFORM_RECORD_TOO_LARGE');
      assert.match(error.message, /urn:uuid:big .* ran out of memory within the 128 MB transform heap limit/);
      assert.match(error.fix ?? '', /Raise the transform engine option maxRecordHeapMb to at least 256 MB/);
      assert.equal(error.details['resource'], 'org_organisation');
      const next = await engine.transform({ stylesheet: { path: 'copy-notes.xsl' }, input: document(2 * MIB), chunked: true });
      assert.match(next.output, /<record uuid="urn:uuid:big" nonempty="true">/);
    } finally {
      await engine.close();
    }
  });

  it('in a whole-document transform too big for the pooled thread heap runs in a process of its own', async () => {
    // A 128 MB thread aborts the whole process on this record (measured: Node 20, 20 MB record).
    const engine = testEngine({ stylesheetsDir: sheets, maxOldGenerationSizeMb: 48, maxRecordHeapMb: 192 });
    try {
      const result = await engine.transform({ stylesheet: { path: 'copy-notes.xsl' }, input: document(4 * MIB) });
      assert.match(result.output, /<record uuid="urn:uuid:big" nonempty="true">Lorem/);
      const error = await transformFailure(engine.transform({ stylesheet: { path: 'memory-bomb.xsl' }, input: document(3 * MIB) }));
      assert.equal(error.code, 'TRANSFORM_RECORD_TOO_LARGE', 'the record that makes up the document is named');
      assert.equal(error.details['uuid'], 'urn:uuid:big');
      const small = await engine.transform({ stylesheet: { path: 'copy-notes.xsl' }, input: document(10) });
      assert.match(small.output, /<record uuid="small-2" nonempty="true">short<\/record>/);
    } finally {
      await engine.close();
    }
  });
});

describe('the oversized-record model', () => {
  it('estimates the heap from the measured 20 MB per MB of long text, and refuses only below twice the text', () => {
    assert.equal(heapNeededMb(0), 32);
    assert.equal(heapNeededMb(20 * MIB), 432);
    assert.equal(heapNeededMb(50 * MIB), 1032);
    assert.equal(heapFloorMb(50 * MIB), 132);
  });

  it('gives a big record one more second per MiB on top of the time limit', () => {
    assert.equal(oversizedTimeoutMs(30_000, 50 * MIB), 80_000);
    assert.equal(oversizedTimeoutMs(30_000, 1.5 * MIB), 32_000);
  });
});
