import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { closeCutDocument } from '../../src/console/captured-payloads.js';
import { tallyS3Xml, tallyUshahidiCategories, ValueTally } from '../../src/console/payload-values.js';

const DOCUMENT = `<s3xml>
  <resource name="med_hospital" uuid="h1">
    <data field="facility_type" value="1">Hospital</data>
    <data field="status">Functioning</data>
    <resource name="med_hospital_status" uuid="s1"><data field="status">Component value</data></resource>
  </resource>
  <resource name="med_hospital" uuid="h2">
    <data field="facility_type" value="13">Health Post</data>
    <data field="status">  Functioning </data>
    <data field="services" value="[&quot;surgery&quot;,&quot;maternity&quot;]">Surgery, Maternity</data>
  </resource>
  <resource name="org_office" uuid="o1"><data field="status">Other table</data></resource>
</s3xml>`;

describe('values seen in captured documents', () => {
  it('counts the machine values of one field of one resource, with their labels', () => {
    const tally = new ValueTally();
    tallyS3Xml(DOCUMENT, 'med_hospital', 'facility_type', tally);
    assert.deepEqual(tally.list(), [
      { value: '1', count: 1, text: 'Hospital' },
      { value: '13', count: 1, text: 'Health Post' },
    ]);
  });

  it('compares texts after trimming and leaves out components and other tables', () => {
    const tally = new ValueTally();
    tallyS3Xml(DOCUMENT, 'med_hospital', 'status', tally);
    assert.deepEqual(tally.list(), [{ value: 'Functioning', count: 2 }]);
  });

  it('counts each item of a list value', () => {
    const tally = new ValueTally();
    tallyS3Xml(DOCUMENT, 'med_hospital', 'services', tally);
    assert.deepEqual(tally.list().map((entry) => entry.value), ['maternity', 'surgery']);
  });

  it('keeps what it read before a document was cut at the capture cap', () => {
    const tally = new ValueTally();
    tallyS3Xml(DOCUMENT.slice(0, DOCUMENT.indexOf('uuid="h2"') + 80), 'med_hospital', 'facility_type', tally);
    assert.deepEqual(tally.list().map((entry) => entry.value), ['1', '13']);
  });

  it('finds Ushahidi category tags in v5 posts and classic v2 incidents', () => {
    const tally = new ValueTally();
    const v5 = { results: [{ id: 1, categories: [{ id: 3, tag: 'Flood', type: 'category' }] }, { id: 2, categories: [{ id: 3, tag: 'Flood', type: 'category' }, { id: 4, tag: 'Shelter', type: 'category' }] }] };
    const v2 = { payload: { incidents: [{ incident: { incidentid: '9' }, categories: [{ category: { id: 7, title: 'Roads blocked' } }] }] } };
    tallyUshahidiCategories(JSON.stringify(v5), tally);
    tallyUshahidiCategories(JSON.stringify(v2), tally);
    tallyUshahidiCategories('{"cut": [', tally);
    assert.deepEqual(tally.list(), [
      { value: 'Flood', count: 2 },
      { value: 'Roads blocked', count: 1 },
      { value: 'Shelter', count: 1 },
    ]);
  });

  it('still finds the category tags of a JSON document cut at the capture cap', () => {
    const tally = new ValueTally();
    const cut = '{"results":[{"id":1,"categories":[{"id":3,"tag":"Eau \\"potable\\"","type":"category"}]},{"id":2,"categories":[{"id":4,"tag":"Sh';
    tallyUshahidiCategories(cut, tally);
    tallyUshahidiCategories('{"payload":{"incidents":[{"categories":[{"category":{"id":7,"title":"Roads blocked"}}]},{"categ', tally);
    assert.deepEqual(tally.list(), [
      { value: 'Eau "potable"', count: 1 },
      { value: 'Roads blocked', count: 1 },
    ]);
  });
});

describe('cut captured documents', () => {
  it('are closed after their last whole record so they can be transformed', () => {
    const cut = DOCUMENT.slice(0, DOCUMENT.indexOf('uuid="h2"') + 40);
    const closed = closeCutDocument(cut);
    assert.equal(closed?.records, 1);
    assert.ok(closed?.text.endsWith('</resource>\n</s3xml>\n'), closed?.text);
    assert.doesNotMatch(closed!.text, /h2/);
  });

  it('give nothing when not one record is whole', () => {
    assert.equal(closeCutDocument('<s3xml><resource name="x"><data field="a">'), undefined);
    assert.equal(closeCutDocument('not xml at all'), undefined);
  });
});
