import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { isSluiceError } from '../../../src/errors.js';
import { splitS3XML, type SplitEvent } from '../../../src/transform/chunking/s3xml-splitter.js';

async function* chunked(text: string, sizes: number[]): AsyncGenerator<Uint8Array> {
  const bytes = Buffer.from(text, 'utf8');
  let offset = 0;
  let k = 0;
  while (offset < bytes.length) {
    const size = Math.max(1, sizes[k++ % sizes.length] ?? 1);
    yield bytes.subarray(offset, offset + size);
    offset += size;
  }
}

async function collect(text: string, sizes: number[] = [65536]): Promise<SplitEvent[]> {
  const events: SplitEvent[] = [];
  for await (const event of splitS3XML(chunked(text, sizes))) events.push(event);
  return events;
}

/** A top-level resource with the things a naive splitter trips over. */
const resourceArbitrary = fc
  .record({
    name: fc.constantFrom('org_organisation', 'gis_location', 'org_office'),
    uuid: fc.string({ unit: fc.constantFrom('a', 'b', '-', 'é', '>', '/'), maxLength: 8 }),
    text: fc.string({ unit: fc.constantFrom('x', 'Æ', ' ', '&amp;', '&lt;', '"', "'", '>'), maxLength: 12 }),
    comment: fc.boolean(),
    cdata: fc.boolean(),
    nested: fc.boolean(),
    selfClosing: fc.boolean(),
  })
  .map(({ name, uuid, text, comment, cdata, nested, selfClosing }) => {
    const attributes = `name="${name}" uuid="${uuid.replace(/"/g, '')}" note='a > b'`;
    if (selfClosing) return `<resource ${attributes}/>`;
    return [
      `<resource ${attributes}>`,
      comment ? '<!-- </resource> inside a comment -->' : '',
      `<data field="name">${text}</data>`,
      cdata ? '<data field="raw"><![CDATA[</resource> <s3xml>]]></data>' : '',
      nested ? `<resource name="org_office"><reference field="x" resource="gis_location" uuid="u"/></resource>` : '',
      '</resource>',
    ].join('');
  });

describe('S3XML splitter', () => {
  it('partitions the root content into top-level items byte for byte, whatever the chunk sizes', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(resourceArbitrary, { maxLength: 8 }),
        fc.array(fc.constantFrom('\n  ', '<!-- c -->', '<?pi x?>', ''), { minLength: 9, maxLength: 9 }),
        fc.array(fc.integer({ min: 1, max: 40 }), { minLength: 1, maxLength: 5 }),
        async (resources, between, sizes) => {
          const inner = resources.map((resource, i) => `${between[i]}${resource}`).join('') + between[8];
          const document = `<?xml version="1.0" encoding="UTF-8"?>\n<s3xml domain="x.org">${inner}</s3xml>\n`;
          const events = await collect(document, sizes);
          const root = events[0];
          assert.ok(root?.kind === 'root');
          assert.equal(root.startTag, '<s3xml domain="x.org">');
          const items = events.filter((event) => event.kind === 'item');
          assert.equal(items.length, resources.length);
          const end = events[events.length - 1];
          assert.ok(end?.kind === 'end');
          const rebuilt = Buffer.concat([...items.map((event) => (event.kind === 'item' ? event.item.bytes : Buffer.alloc(0))), end.tail]);
          assert.equal(rebuilt.toString('utf8'), inner);
        },
      ),
      { numRuns: 150 },
    );
  });

  it('reads the name and uuid of each top-level resource and where it starts', async () => {
    const text = '<s3xml>\n<resource name="gis_location" uuid="urn:uuid:l1"/>\n<resource name="org_office" uuid="o&amp;1"><data field="name">x</data></resource></s3xml>';
    const items = (await collect(text, [7])).flatMap((event) => (event.kind === 'item' ? [event.item] : []));
    assert.deepEqual(
      items.map((item) => [item.element, item.name, item.uuid, item.offset]),
      [
        ['resource', 'gis_location', 'urn:uuid:l1', 7],
        ['resource', 'org_office', 'o&1', 58],
      ],
    );
  });

  it('gives no items for an empty self-closed root', async () => {
    const events = await collect('<?xml version="1.0"?><s3xml success="false"/>');
    assert.deepEqual(
      events.map((event) => event.kind),
      ['root', 'end'],
    );
    assert.ok(events[0]?.kind === 'root' && events[0].startTag === '<s3xml success="false">');
  });

  it('refuses a DOCTYPE with XML_DOCTYPE_FORBIDDEN', async () => {
    await assert.rejects(collect('<?xml version="1.0"?><!DOCTYPE s3xml [<!ENTITY a "b">]><s3xml/>'), (error) => isSluiceError(error) && error.code === 'XML_DOCTYPE_FORBIDDEN');
  });

  it('refuses a document that ends too early with XML_MALFORMED', async () => {
    await assert.rejects(collect('<s3xml><resource name="a">'), (error) => isSluiceError(error) && error.code === 'XML_MALFORMED');
    await assert.rejects(collect(''), (error) => isSluiceError(error) && error.code === 'XML_MALFORMED');
  });
});
