import assert from 'node:assert/strict';
import { readFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import { before, describe, it } from 'node:test';
import { createXsdValidator } from '../../src/formats/xsd.js';
import { runXslt, STANDARDS_DIR } from '../support/run-xslt.js';
import { child, childText, children, parseXml, s3Field, s3Resources, type XmlElement } from '../support/xml-tree.js';

const SAMPLES_DIR = path.join(STANDARDS_DIR, 'cap', 'samples');
const validator = createXsdValidator({ standardsDir: STANDARDS_DIR });
const CAP_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}[+-]\d{2}:\d{2}$/;

interface Sample {
  name: string;
  cap: string;
  imported: string;
  exported: string;
  reimported: string;
}

/** What the issue says a round trip must keep, in a comparable form. */
function capSummary(xml: string): unknown {
  const root = parseXml(xml);
  assert.equal(root.name, 'alert');
  const numbers = (text: string): number[] => text.trim().split(/[\s,]+/).map(Number);
  const closedRing = (text: string): number[] => {
    const pairs = text.trim().replace(/\s*,\s*/g, ',').split(/\s+/);
    if (pairs[0] !== pairs.at(-1)) pairs.push(pairs[0] as string);
    return numbers(pairs.join(' '));
  };
  const pairs = (element: XmlElement, name: string): string[][] =>
    children(element, name).map((p) => [childText(p, 'valueName')?.trim() ?? '', childText(p, 'value')?.trim() ?? '']);
  return {
    identifier: childText(root, 'identifier'),
    sender: childText(root, 'sender'),
    sent: Date.parse(childText(root, 'sent') ?? ''),
    status: childText(root, 'status'),
    msgType: childText(root, 'msgType'),
    references: childText(root, 'references')?.trim().split(/\s+/) ?? [],
    infos: children(root, 'info').map((info) => ({
      language: childText(info, 'language'),
      categories: children(info, 'category').map((c) => c.text),
      event: childText(info, 'event'),
      urgency: childText(info, 'urgency'),
      severity: childText(info, 'severity'),
      certainty: childText(info, 'certainty'),
      headline: childText(info, 'headline'),
      description: childText(info, 'description'),
      parameters: pairs(info, 'parameter'),
      eventCodes: pairs(info, 'eventCode'),
      areas: children(info, 'area').map((area) => ({
        areaDesc: childText(area, 'areaDesc'),
        polygons: children(area, 'polygon').map((p) => closedRing(p.text)),
        circles: children(area, 'circle').map((c) => numbers(c.text)),
        geocodes: pairs(area, 'geocode'),
      })),
    })),
  };
}

/** S3XML with the CAP original texts of date-time fields left out (their @value is what counts). */
function comparableS3(xml: string): unknown {
  return s3Resources(parseXml(xml)).map((resource) => ({
    name: resource.attributes.name,
    uuid: resource.attributes.uuid,
    data: resource.children
      .filter((c) => c.name === 'data')
      .map((d) => [d.attributes.field, d.attributes.value ?? d.text]),
    references: resource.children
      .filter((c) => c.name === 'reference')
      .map((r) => [r.attributes.field, r.attributes.resource, r.attributes.uuid]),
  }));
}

describe('CAP 1.2 import and export', () => {
  const samples: Sample[] = [];

  before(async () => {
    const names = (await readdir(SAMPLES_DIR)).filter((n) => n.endsWith('.xml')).sort();
    for (const name of names) {
      const cap = await readFile(path.join(SAMPLES_DIR, name), 'utf8');
      const imported = await runXslt('cap/import.xsl', cap);
      assert.deepEqual(imported.messages, [], `${name} imports without warnings`);
      const exported = await runXslt('cap/export.xsl', imported.output);
      const reimported = await runXslt('cap/import.xsl', exported.output);
      samples.push({ name, cap, imported: imported.output, exported: exported.output, reimported: reimported.output });
    }
  });

  it('imports all seven real CAP samples into one cap_alert each', () => {
    assert.equal(samples.length, 7);
    for (const sample of samples) {
      const root = parseXml(sample.imported);
      const alerts = s3Resources(root, 'cap_alert');
      assert.equal(alerts.length, 1, sample.name);
      const source = parseXml(sample.cap);
      const alert = alerts[0] as XmlElement;
      assert.equal(s3Field(alert, 'identifier'), childText(source, 'identifier'), sample.name);
      assert.equal(s3Resources(root, 'cap_info').length, children(source, 'info').length, sample.name);
      const shapes = children(source, 'info').flatMap((i) => children(i, 'area')).flatMap((a) => [
        ...children(a, 'polygon'),
        ...children(a, 'circle'),
      ]);
      assert.equal(s3Resources(root, 'gis_location').length, shapes.length, sample.name);
    }
  });

  it('stores times as UTC S3 timestamps and keeps the CAP original as the label', () => {
    const australia = samples.find((s) => s.name.startsWith('australia')) as Sample;
    const alert = s3Resources(parseXml(australia.imported), 'cap_alert')[0] as XmlElement;
    const sent = alert.children.find((c) => c.attributes.field === 'sent') as XmlElement;
    assert.equal(sent.attributes.value, '2011-10-05T13:04:00');
    assert.equal(sent.text, '2011-10-05T23:04:00+10:00');
  });

  it('turns polygons into lon-lat WKT and circles into points with a radius in metres', () => {
    const oasis = samples.find((s) => s.name.includes('example2')) as Sample;
    const polygon = s3Resources(parseXml(oasis.imported), 'gis_location')[0] as XmlElement;
    assert.equal(
      s3Field(polygon, 'wkt'),
      'POLYGON ((-120.14 38.47, -119.95 38.34, -119.74 38.52, -119.89 38.62, -120.14 38.47))',
    );
    assert.equal(s3Field(polygon, 'gis_feature_type'), 3);
    const australia = samples.find((s) => s.name.startsWith('australia')) as Sample;
    const circle = s3Resources(parseXml(australia.imported), 'gis_location')[0] as XmlElement;
    assert.equal(s3Field(circle, 'wkt'), 'POINT (147.0598 -35.3888)');
    assert.equal(s3Field(circle, 'radius'), 25000);
  });

  it('keeps references chains of Update messages on import', () => {
    const canada = samples.find((s) => s.name.startsWith('ec-canada')) as Sample;
    const alert = s3Resources(parseXml(canada.imported), 'cap_alert')[0] as XmlElement;
    assert.equal(
      s3Field(alert, 'reference'),
      'cap@ec.gc.ca,2.49.0.1.124.a3f342a4.2012,2012-05-02T21:45:05-00:00 cap@ec.gc.ca,2.49.0.1.124.60f31a3a.2012,2012-05-02T21:55:21-00:00',
    );
    assert.equal(s3Field(alert, 'msg_type'), 'Update');
  });

  it('exports what it imported: identifier, times, references, every info block and area survive', () => {
    for (const sample of samples) {
      assert.deepEqual(capSummary(sample.exported), capSummary(sample.cap), sample.name);
    }
  });

  it('imports its own export to the same records (import, export, import)', () => {
    for (const sample of samples) {
      assert.deepEqual(comparableS3(sample.reimported), comparableS3(sample.imported), sample.name);
    }
  });

  it('writes every time with an explicit offset, never Z or fractions', () => {
    for (const sample of samples) {
      const times = sample.exported.match(/<(sent|effective|onset|expires)>[^<]*</g) ?? [];
      assert.ok(times.length > 0);
      for (const time of times) assert.match(time.replace(/^<\w+>|<$/g, ''), CAP_TIME, sample.name);
    }
  });

  it('produces CAP that validates against the official XSD for every sample', async () => {
    const results = await validator.validateMany(
      samples.map((s) => s.exported),
      'cap',
    );
    results.forEach((result, i) => assert.deepEqual(result.errors, [], samples[i]?.name));
  });

  it('exports an Eden-style flat record with JSON option values, WKT and metres as valid CAP', async () => {
    const s3xml = await readFile(new URL('../fixtures/formats/cap/eden-flat-alert.s3.xml', import.meta.url), 'utf8');
    const { output, messages } = await runXslt('cap/export.xsl', s3xml);
    assert.deepEqual(messages, []);
    const alert = parseXml(output);
    assert.equal(childText(alert, 'sent'), '2024-05-01T10:00:00-00:00');
    assert.equal(childText(alert, 'msgType'), 'Update');
    assert.equal(childText(alert, 'references'), 'alerts@gw.example,gw.example.2024-0001,2024-05-01T08:00:00-00:00');
    const infos = children(alert, 'info');
    assert.deepEqual(
      infos.map((i) => childText(i, 'language')),
      ['en-US', 'fr-FR'],
    );
    for (const info of infos) {
      assert.deepEqual(children(info, 'category').map((c) => c.text), ['Met', 'Safety']);
      const area = child(info, 'area') as XmlElement;
      // The MULTIPOLYGON's two outer rings become two polygons; the hole is dropped.
      assert.deepEqual(children(area, 'polygon').map((p) => p.text), [
        '10,20 10,21 11,21 11,20 10,20',
        '12,22 12,23 13,23 12,22',
      ]);
      assert.deepEqual(children(area, 'circle').map((c) => c.text), ['27.7,85.3 2.5']);
      assert.deepEqual(children(area, 'geocode').map((g) => childText(g, 'value')), ['NP-BA']);
      assert.deepEqual(children(info, 'parameter').map((p) => childText(p, 'valueName')), ['color']);
    }
    assert.equal(childText(infos[0], 'expires'), '2024-05-02T10:00:00-00:00');
    const result = await validator.validate(output, 'cap');
    assert.deepEqual(result.errors, []);
  });

  it('replaces an unknown enumeration value by a safe default and reports it', async () => {
    const s3xml = `<s3xml><resource name="cap_alert" uuid="urn:uuid:x1">
      <data field="identifier">x1</data><data field="sender">a@b.example</data>
      <data field="sent" value="2024-05-01T10:00:00"/>
      <data field="status" value="&quot;Rumour&quot;">Rumour</data>
      <resource name="cap_info"><data field="category" value='["Weather"]'/>
        <data field="urgency" value='"Soon"'/><data field="event">Storm</data></resource>
    </resource></s3xml>`;
    const { output, messages } = await runXslt('cap/export.xsl', s3xml);
    const alert = parseXml(output);
    assert.equal(childText(alert, 'status'), 'Actual');
    const info = child(alert, 'info');
    assert.deepEqual(children(info, 'category').map((c) => c.text), ['Other']);
    assert.equal(childText(info, 'urgency'), 'Unknown');
    assert.deepEqual(messages, [
      'sluice:unmapped cap cap_alert.status "Rumour" replaced by Actual',
      'sluice:unmapped cap cap_info.category "Weather" dropped',
      'sluice:unmapped cap cap_info.urgency "Soon" replaced by Unknown',
    ]);
    assert.deepEqual((await validator.validate(output, 'cap')).errors, []);
  });

  it('builds references triplets from referenced alert records when the text field is empty', async () => {
    const s3xml = `<s3xml><resource name="cap_alert" uuid="urn:uuid:u2">
        <data field="identifier">two</data><data field="sender">a@b.example</data><data field="sent" value="2024-05-01T12:00:00"/>
        <data field="msg_type" value='"Update"'/>
        <reference field="reference" resource="cap_alert" uuid='["urn:uuid:u1","urn:uuid:missing"]'/>
        <reference field="template_id" resource="cap_alert" uuid="[broken"/>
      </resource>
      <resource name="cap_alert" uuid="urn:uuid:u1"><data field="identifier">one</data><data field="sender">a@b.example</data>
        <data field="sent" value="2024-05-01T10:00:00"/></resource></s3xml>`;
    const { output } = await runXslt('cap/export.xsl', s3xml, { identifier: 'two' });
    assert.equal(childText(parseXml(output), 'references'), 'a@b.example,one,2024-05-01T10:00:00-00:00');
  });

  it('exports a Cancel without info blocks that still validates', async () => {
    const s3xml = `<s3xml><resource name="cap_alert" uuid="urn:uuid:c2" created_on="2024-05-01T12:00:00">
      <data field="identifier">gw.example.2024-0002</data><data field="sender">alerts@gw.example</data>
      <data field="msg_type" value='"Cancel"'>Cancel</data><data field="note">Flood threat ended</data>
      <data field="reference">alerts@gw.example,gw.example.2024-0001,2024-05-01T10:00:00-00:00</data>
    </resource></s3xml>`;
    const { output } = await runXslt('cap/export.xsl', s3xml);
    const alert = parseXml(output);
    assert.equal(childText(alert, 'sent'), '2024-05-01T12:00:00-00:00');
    assert.equal(childText(alert, 'msgType'), 'Cancel');
    assert.equal(children(alert, 'info').length, 0);
    assert.deepEqual((await validator.validate(output, 'cap')).errors, []);
  });

  it('wraps several alerts in an EDXL-DE envelope that validates with its payloads', async () => {
    const both = samples
      .slice(0, 2)
      .map((s) => s.imported.replace(/^[\s\S]*?<s3xml>|<\/s3xml>\s*$/g, ''))
      .join('');
    const { output } = await runXslt('cap/export.xsl', `<s3xml>${both}</s3xml>`, {
      utcnow: '2024-05-01T10:00:00',
      msguid: 'urn:uuid:0f4a',
      domain: 'gw.example',
    });
    const envelope = parseXml(output);
    assert.equal(envelope.name, 'EDXLDistribution');
    assert.equal(childText(envelope, 'distributionID'), 'urn:uuid:0f4a');
    assert.equal(childText(envelope, 'senderID'), 'sluice@gw.example');
    assert.equal(childText(envelope, 'dateTimeSent'), '2024-05-01T10:00:00-00:00');
    assert.equal(children(envelope, 'contentObject').length, 2);
    assert.deepEqual((await validator.validate(output, 'de')).errors, []);
  });

  it('exports only the alert named by the identifier parameter', async () => {
    const all = samples.map((s) => s.imported.replace(/^[\s\S]*?<s3xml>|<\/s3xml>\s*$/g, '')).join('');
    const { output } = await runXslt('cap/export.xsl', `<s3xml>${all}</s3xml>`, { identifier: 'KSTO1055887203' });
    const alert = parseXml(output);
    assert.equal(alert.name, 'alert');
    assert.equal(childText(alert, 'identifier'), 'KSTO1055887203');
  });

  it('publishes an Atom index of the current alerts, newest first, linking to their CAP', async () => {
    const all = samples.map((s) => s.imported.replace(/^[\s\S]*?<s3xml>|<\/s3xml>\s*$/g, '')).join('');
    const expired = '<resource name="cap_alert" uuid="urn:uuid:old"><data field="identifier">old</data>'
      + '<data field="sent" value="2001-01-01T00:00:00"/><resource name="cap_info"><data field="expires" value="2001-01-02T00:00:00"/></resource></resource>';
    const { output } = await runXslt('cap/atom.xsl', `<s3xml>${all}${expired}</s3xml>`, {
      base_url: 'https://gw.example/sluice/',
      utcnow: '2010-01-01T00:00:00',
    });
    const feed = parseXml(output);
    assert.equal(feed.name, 'feed');
    const entries = children(feed, 'entry');
    // The 2003 thunderstorm warning and the 2001 alert expired before 2010; the 2003 earthquake
    // update names no expiry, so it stays current.
    assert.deepEqual(
      entries.map((e) => childText(e, 'updated')),
      ['2021-09-10T13:30:26Z', '2018-10-20T12:15:00Z', '2012-05-02T23:21:04Z', '2011-10-05T13:04:00Z', '2011-09-02T11:36:50Z', '2003-06-12T03:56:00Z'],
    );
    assert.equal(childText(entries[0], 'title'), 'Hvöss suðaustanátt');
    assert.equal(
      child(entries[0], 'link')?.attributes.href,
      'https://gw.example/sluice/cap/alert.cap?~.identifier=is-IMO-2a4c2db8-07fd-4a0f-b372-9667280d46d1',
    );
  });

  it('imports every alert inside an EDXL-DE envelope', async () => {
    const de = await readFile(path.join(STANDARDS_DIR, 'de', 'samples', 'de10-bushfire-7-cap-alerts.xml'), 'utf8');
    const { output } = await runXslt('cap/import.xsl', de);
    assert.equal(s3Resources(parseXml(output), 'cap_alert').length, 7);
  });
});
