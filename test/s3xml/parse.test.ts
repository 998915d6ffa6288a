import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import type { S3Document, S3Resource } from '../../src/s3xml/model.js';
import { parseS3XML, readS3XML, type S3XMLEvent } from '../../src/s3xml/parse.js';
import { serializeS3XML } from '../../src/s3xml/serialize.js';
import { arbDocument } from '../support/arbitrary-s3xml.js';

const fixture = (name: string): Buffer => readFileSync(new URL(`fixtures/${name}`, import.meta.url));

async function events(source: Iterable<Uint8Array | string>): Promise<S3XMLEvent[]> {
  const out: S3XMLEvent[] = [];
  for await (const event of readS3XML(source)) out.push(event);
  return out;
}

async function only(xml: string): Promise<S3Resource> {
  const doc = await parseS3XML(xml);
  assert.equal(doc.resources.length, 1);
  return doc.resources[0]!;
}

describe("Eden's example documents", () => {
  it('example A (a pull response) parses into records, a merge stub and dependencies', async () => {
    const doc = await parseS3XML(fixture('eden-example-a-pull.xml'));
    assert.deepEqual(doc.attributes, { success: 'true', results: '2', domain: 'eden.example.org', url: 'https://eden.example.org/eden' });
    assert.deepEqual(doc.resources.map((r) => r.name), ['org_office', 'org_office', 'org_organisation', 'org_office_type', 'gis_location']);
    assert.deepEqual(doc.resources[0], {
      name: 'org_office',
      uuid: 'urn:uuid:3f0c2a9e-8d1b-4c55-9a0e-1b2c3d4e5f60',
      mci: 1,
      created_on: '2024-03-01T09:12:44',
      modified_on: '2024-03-05T16:40:02',
      attributes: { created_by: 'admin@example.org', modified_by: 'ops@example.org', url: 'https://eden.example.org/eden/org/office/17' },
      data: [
        { field: 'name', text: 'Pokhara Field Office' },
        { field: 'code', text: 'PKR-01' },
        { field: 'obsolete', value: 'false', text: 'No' },
      ],
      references: [
        { field: 'organisation_id', resource: 'org_organisation', uuid: 'urn:uuid:aa11…', text: 'Himal Relief' },
        { field: 'office_type_id', resource: 'org_office_type', uuid: 'urn:uuid:bb22…', text: 'Field Office' },
        { field: 'location_id', resource: 'gis_location', uuid: 'urn:uuid:cc33…', attributes: { lat: '28.2096', lon: '83.9856' }, text: 'Pokhara' },
      ],
      components: [],
    });
    assert.deepEqual(doc.resources[1], {
      name: 'org_office',
      uuid: 'urn:uuid:dd44…',
      deleted: true,
      modified_on: '2024-03-04T08:00:00',
      replaced_by: 'urn:uuid:3f0c2a9e-8d1b-4c55-9a0e-1b2c3d4e5f60',
      attributes: {},
      data: [],
      references: [],
      components: [],
    });
    assert.deepEqual(doc.resources[4]?.data, [
      { field: 'name', text: 'Pokhara' },
      { field: 'gis_feature_type', value: '1', text: 'Point' },
      { field: 'lat', value: '28.2096', text: '28.2096' },
      { field: 'lon', value: '83.9856', text: '83.9856' },
    ]);
  });

  it('example B (a push) keeps tuids, valued data without text and the nested component', async () => {
    const doc = await parseS3XML(fixture('eden-example-b-push.xml'));
    assert.deepEqual(doc.attributes, {});
    const [location, hospital] = doc.resources;
    assert.equal(location?.tuid, 'LOC:clinic-42');
    assert.equal(location?.uuid, undefined);
    assert.deepEqual(location?.data.map((d) => [d.field, d.text]), [['name', 'Bhaktapur Clinic'], ['lat', '27.6710'], ['lon', '85.4298']]);
    assert.equal(hospital?.uuid, 'urn:gw:facility:42');
    assert.equal(hospital?.mci, 1);
    assert.deepEqual(hospital?.data[1], { field: 'facility_type', value: '1' });
    assert.deepEqual(hospital?.references, [{ field: 'location_id', resource: 'gis_location', tuid: 'LOC:clinic-42' }]);
    assert.deepEqual(hospital?.components, [{
      name: 'med_bed_capacity',
      attributes: {},
      data: [
        { field: 'bed_type', value: '6' },
        { field: 'beds_baseline', value: '40' },
        { field: 'beds_available', value: '12' },
      ],
      references: [],
      components: [],
    }]);
  });

  it('example C (delete and merge) marks lower-case deleted="true" stubs as deleted', async () => {
    const doc = await parseS3XML(fixture('eden-example-c-delete-merge.xml'));
    assert.deepEqual(doc.resources.map((r) => [r.uuid, r.deleted, r.replaced_by, r.modified_on]), [
      ['urn:uuid:keep…', undefined, undefined, undefined],
      ['urn:uuid:dupe…', true, 'urn:uuid:keep…', '2024-05-02T08:00:00'],
      ['urn:uuid:gone…', true, undefined, '2024-05-02T08:01:00'],
    ]);
  });
});

describe('reading resources', () => {
  it('ignores elements and attributes Eden ignores, keeping unknown resource attributes in order', async () => {
    const resource = await only(`<?xml version="1.0"?>
      <?xml-stylesheet type="text/xsl" href="http://attacker.example/x.xsl"?>
      <!-- a comment mentioning <!DOCTYPE and <!ENTITY is harmless -->
      <s3xml xmlns:xi="http://www.w3.org/2001/XInclude" xmlns:geo="urn:geo">
        <options resource="org_office"><select name="x"><option value="1">One</option></select></options>
        <resource name="org_office" zeta="1" uuid="urn:uuid:1" alpha="2" geo:extra="dropped" xmlns:foo="urn:foo" llrepr="Office">
          stray text in a resource
          <xi:include href="file:///etc/passwd"/>
          <map lat="1" lon="2"><geometry value="{}"/></map>
          <geo:point>1 2</geo:point>
          <unknown><resource name="never_read"/><data field="never">x</data></unknown>
          <data field="name">Kathmandu<b>bold is ignored</b></data>
          <data field="comments"><![CDATA[<!DOCTYPE is only text & <b>markup</b> here]]></data>
          <?php echo "ignored"; ?>
          <resource xmlns="urn:other" name="namespaced_component"/>
        </resource>
      </s3xml>`);
    assert.deepEqual(Object.entries(resource.attributes), [['zeta', '1'], ['alpha', '2'], ['llrepr', 'Office']]);
    assert.deepEqual(resource.data, [
      { field: 'name', text: 'Kathmandu' },
      { field: 'comments', text: '<!DOCTYPE is only text & <b>markup</b> here' },
    ]);
    assert.deepEqual(resource.references, []);
    assert.deepEqual(resource.components, []);
  });

  it('ignores top-level elements other than resource', async () => {
    const doc = await parseS3XML('<s3xml><contents/><resource name="a"/><table name="x"><row><col field="y">1</col></row></table></s3xml>');
    assert.deepEqual(doc.resources.map((r) => r.name), ['a']);
  });

  it('accepts deleted as true in any letter case and nothing else', async () => {
    const doc = await parseS3XML(`<s3xml>
      <resource name="a" deleted="true"/><resource name="a" deleted="True"/><resource name="a" deleted="TRUE"/>
      <resource name="a" deleted="false"/><resource name="a" deleted="False"/><resource name="a" deleted=""/><resource name="a" deleted="1"/>
    </s3xml>`);
    assert.deepEqual(doc.resources.map((r) => r.deleted), [true, true, true, undefined, undefined, undefined, undefined]);
  });

  it('decodes entities and character references and keeps data text verbatim', async () => {
    const resource = await only(`<s3xml><resource name="a">
      <data field="specials">&lt;b&gt; &amp; &quot;q&quot; &apos;a&apos; &#233;&#x1F30A;</data>
      <data field="spaces">  two  spaces
 and a line  </data>
      <data field="cr">a&#13;b</data>
      <data field="blank">   </data>
      <data field="empty"></data>
      <data field="absent"/>
      <data field="valued" value="&quot;Actual&quot;">Actual</data>
      <data field="attribute-layout" value="a&#10;b&#9;c
d	e"/>
    </resource></s3xml>`);
    assert.deepEqual(resource.data, [
      { field: 'specials', text: '<b> & "q" \'a\' é🌊' },
      { field: 'spaces', text: '  two  spaces\n and a line  ' },
      { field: 'cr', text: 'a\rb' },
      { field: 'blank', text: '   ' },
      { field: 'empty', text: '' },
      { field: 'absent' },
      { field: 'valued', value: '"Actual"', text: 'Actual' },
      // Literal newlines and tabs in attributes are normalised to spaces by XML; references survive.
      { field: 'attribute-layout', value: 'a\nb\tc d e' },
    ]);
  });

  it('treats whitespace between the children of a resource as layout, not data', async () => {
    const resource = await only('<s3xml>\n  <resource name="a">\n    <data field="x">1</data>\n    \n  </resource>\n</s3xml>');
    assert.deepEqual(resource.data, [{ field: 'x', text: '1' }]);
  });

  it('normalises created_on and modified_on to UTC seconds', async () => {
    const doc = await parseS3XML(`<s3xml>
      <resource name="a" created_on="2024-03-05 16:40:02.123456" modified_on="2024-03-05T22:25:02+05:45"/>
      <resource name="a" created_on="2024-03-05" modified_on="2024-03-05T16:40:02Z"/>
    </s3xml>`);
    assert.deepEqual(doc.resources.map((r) => [r.created_on, r.modified_on]), [
      ['2024-03-05T16:40:02', '2024-03-05T16:40:02'],
      ['2024-03-05T08:00:00', '2024-03-05T16:40:02'],
    ]);
  });

  it('accepts real calendar instants and refuses impossible ones', async () => {
    for (const valid of ['2024-02-29T23:59:59', '2000-02-29T00:00:00', '2023-12-31T00:00:00', '2023-04-30T12:00:00']) {
      assert.equal((await only(`<s3xml><resource name="a" modified_on="${valid}"/></s3xml>`)).modified_on, valid);
    }
    for (const invalid of ['2023-02-29T10:00:00', '1900-02-29T10:00:00', '2024-04-31T10:00:00', '2024-13-01T10:00:00', '2024-00-10T10:00:00',
      '2024-01-00T10:00:00', '2024-01-01T24:00:00', '2024-01-01T10:60:00', '2024-01-01T10:00:60', '']) {
      await assert.rejects(parseS3XML(`<s3xml><resource name="a" modified_on="${invalid}"/></s3xml>`), { code: 'S3XML_BAD_TIMESTAMP' }, invalid);
    }
  });

  it('reads mci as Python int() does', async () => {
    const doc = await parseS3XML('<s3xml><resource name="a" mci=" 2 "/><resource name="a" mci="+0"/><resource name="a" mci="-1"/></s3xml>');
    assert.deepEqual(doc.resources.map((r) => r.mci), [2, 0, -1]);
  });

  it('reads references with uuid lists, tuids, extra attributes and an inline resource', async () => {
    const resource = await only(`<s3xml><resource name="org_office">
      <reference field="sector_id" resource="org_sector" uuid='["urn:uuid:s1","urn:uuid:s2"]'>Health, WASH</reference>
      <reference field="event_type_id" resource="event_event_type" tuid="EVENTTYPE:Flood"></reference>
      <reference field="location_id" resource="gis_location">
        <resource name="gis_location"><data field="name">Inline</data></resource>
        <resource name="gis_location"><data field="name">Second inline is ignored</data></resource>
      </reference>
    </resource></s3xml>`);
    assert.deepEqual(resource.references, [
      { field: 'sector_id', resource: 'org_sector', uuid: '["urn:uuid:s1","urn:uuid:s2"]', text: 'Health, WASH' },
      { field: 'event_type_id', resource: 'event_event_type', tuid: 'EVENTTYPE:Flood', text: '' },
      {
        field: 'location_id',
        resource: 'gis_location',
        inline: { name: 'gis_location', attributes: {}, data: [{ field: 'name', text: 'Inline' }], references: [], components: [] },
      },
    ]);
  });

  it('nests components with their alias, in document order', async () => {
    const resource = await only(`<s3xml><resource name="org_organisation" uuid="urn:uuid:o">
      <resource name="org_organisation_branch" alias="branch" uuid="urn:uuid:b1"/>
      <data field="name">Org</data>
      <resource name="org_organisation_branch" alias="parent" uuid="urn:uuid:b2">
        <resource name="org_office" uuid="urn:uuid:deep"/>
      </resource>
    </resource></s3xml>`);
    assert.deepEqual(resource.components.map((c) => [c.alias, c.uuid, c.components.map((d) => d.uuid)]), [
      ['branch', 'urn:uuid:b1', []],
      ['parent', 'urn:uuid:b2', ['urn:uuid:deep']],
    ]);
  });

  it('keeps an attribute named __proto__ as an ordinary attribute', async () => {
    const resource = await only('<s3xml><resource name="a" __proto__="x"/></s3xml>');
    assert.equal(Object.getOwnPropertyDescriptor(resource.attributes, '__proto__')?.value, 'x');
    assert.equal(Object.getPrototypeOf(resource.attributes), Object.prototype);
  });
});

describe('decoding', () => {
  it('accepts a UTF-8 byte order mark and UTF-8 or US-ASCII declarations', async () => {
    for (const declaration of ['', '<?xml version="1.0"?>', '<?xml version="1.0" encoding="UTF-8"?>', "<?xml version='1.0' encoding='us-ascii'?>"]) {
      const bytes = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(`${declaration}<s3xml><resource name="a"/></s3xml>`)]);
      assert.equal((await parseS3XML(bytes)).resources.length, 1, declaration);
    }
  });

  it('trusts text that arrives already decoded, whatever encoding it declares', async () => {
    const doc = await parseS3XML("<?xml version='1.0' encoding='ISO-8859-1'?><s3xml><resource name='a'><data field='n'>Café</data></resource></s3xml>");
    assert.equal(doc.resources[0]?.data[0]?.text, 'Café');
  });

  it('reads multi-byte characters split across byte chunks', async () => {
    const bytes = Buffer.from('<s3xml><resource name="a"><data field="n">पोखरा 🚑 مكتب</data></resource></s3xml>');
    const oneByteAtATime = Array.from(bytes, (byte) => Uint8Array.of(byte));
    const doc = await events(oneByteAtATime);
    assert.equal(doc[1]?.type === 'resource' && doc[1].resource.data[0]?.text, 'पोखरा 🚑 مكتب');
  });

  it('accepts a mix of string and byte chunks', async () => {
    const doc = await events(['<s3xml><resource name="a">', Buffer.from('<data field="n">é</data>'), '</resource></s3xml>']);
    assert.equal(doc.length, 2);
  });
});

describe('streaming', () => {
  it('yields the root first and each top-level resource as soon as its end tag is read', async () => {
    const chunks = ['<s3xml a="1"><resource name="one"><resource name="child"/></resource>', '<resource name="two"/>', '</s3xml>'];
    const seen: string[] = [];
    let fed = 0;
    async function* source(): AsyncGenerator<string> {
      for (const chunk of chunks) {
        fed += 1;
        yield chunk;
      }
    }
    for await (const event of readS3XML(source())) {
      seen.push(`${event.type === 'root' ? `root:${event.attributes.a}` : `resource:${event.resource.name}`}@${fed}`);
    }
    assert.deepEqual(seen, ['root:1@1', 'resource:one@1', 'resource:two@2']);
  });

  it('stops reading the source when the consumer stops early', async () => {
    let closed = false;
    let pulled = 0;
    function* source(): Generator<string> {
      try {
        yield '<s3xml>';
        for (;;) {
          pulled += 1;
          yield '<resource name="a"/>';
        }
      } finally {
        closed = true;
      }
    }
    let count = 0;
    for await (const event of readS3XML(source())) {
      if (event.type === 'resource' && (count += 1) === 3) break;
    }
    assert.equal(closed, true);
    assert.ok(pulled < 10);
  });

  it('reads any document the same whatever the chunk boundaries', async () => {
    await fc.assert(fc.asyncProperty(
      arbDocument({ maxResources: 3 }),
      fc.array(fc.nat(), { maxLength: 12 }),
      fc.boolean(),
      async (doc: S3Document, cuts, asBytes) => {
        const xml = serializeS3XML(doc);
        const whole: Uint8Array | string = asBytes ? Buffer.from(xml) : xml;
        const points = [...new Set(cuts.map((cut) => cut % (whole.length + 1)))].sort((a, b) => a - b);
        const chunks: (Uint8Array | string)[] = [];
        let from = 0;
        for (const point of [...points, whole.length]) {
          chunks.push(whole.slice(from, point));
          from = point;
        }
        const parsed: S3Document = { attributes: {}, resources: [] };
        for (const event of await events(chunks)) {
          if (event.type === 'root') parsed.attributes = event.attributes;
          else parsed.resources.push(event.resource);
        }
        assert.deepEqual(parsed, doc);
      },
    ), { numRuns: 150 });
  });
});
