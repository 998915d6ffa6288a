import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isSluiceError } from '../../src/errors.js';
import { createFormatSteps } from '../../src/formats/steps.js';
import { readXlsx } from '../../src/formats/xlsx.js';

describe('format steps', () => {
  it('decode CSV bytes for a resource and encode the export back to CSV text', async () => {
    const steps = createFormatSteps();
    const bytes = new TextEncoder().encode('Name,Lat\nPokhara,28.2\n');
    const xml = await steps['csv-decode'](bytes, { resource: 'gis_location' });
    assert.equal(xml, '<table name="gis_location"><row><col field="Name">Pokhara</col><col field="Lat">28.2</col></row></table>');
    assert.equal(await steps['csv-encode'](xml as string, { bom: true }), '\uFEFFName,Lat\r\nPokhara,28.2\r\n');
  });

  it('encode the same table as a workbook and decode it again', async () => {
    const steps = createFormatSteps();
    const xml = '<table name="org_office"><row><col field="Name">Bhaktapur</col></row></table>';
    const workbook = await steps['xlsx-encode'](xml, {});
    assert.ok(workbook instanceof Uint8Array);
    assert.deepEqual((await readXlsx(workbook, { tableName: 'org_office' })).rows, [['Bhaktapur']]);
    assert.equal(await steps['xlsx-decode'](workbook, { resource: 'org_office' }), xml);
  });

  it('hand S3JSON to the codec it is given, and say so when there is none', async () => {
    const codec = { jsonToXml: (json: string) => `<s3xml n="${json.length}"/>`, xmlToJson: (xml: string) => `{"xml":${xml.length}}` };
    const steps = createFormatSteps({ s3json: codec });
    assert.equal(await steps['s3json-decode']('{"$_org_office":[]}', {}), '<s3xml n="19"/>');
    assert.equal(await steps['s3json-encode']('<s3xml/>', {}), '{"xml":8}');
    await assert.rejects(createFormatSteps()['s3json-decode']('{}', {}), (error: unknown) => isSluiceError(error) && error.code === 'STEP_NOT_AVAILABLE');
  });
});
