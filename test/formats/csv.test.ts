import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parse } from 'csv-parse/sync';
import { stringify } from 'csv-stringify/sync';
import { isSluiceError } from '../../src/errors.js';
import { csvToTableXml, decodeCsvBytes, readCsv, tableXmlToCsv, writeCsv } from '../../src/formats/csv.js';
import { CSV_RESOURCES, getFormat, splitResourceName, stylesheetPath } from '../../src/formats/registry.js';
import { tableFromXml, tableToXml } from '../../src/formats/table-xml.js';
import { readXlsx, tableXmlToXlsx, writeXlsx, xlsxToTableXml } from '../../src/formats/xlsx.js';
import { REALISTIC_RESOURCES, realisticSheet, type Sheet } from '../fixtures/formats/csv/realistic-sheets.js';
import { runXslt } from '../support/run-xslt.js';
import { parseXml, s3Field, s3Resources, type XmlElement } from '../support/xml-tree.js';

const ROWS = 300;

function toCsv(sheet: Sheet): string {
  return stringify(sheet);
}

/** Every column of the original sheet must come back with the same value in every row. */
function assertSameColumns(original: Sheet, exported: Sheet, label: string): void {
  const [originalHeader, ...originalRows] = original;
  const [exportedHeader, ...exportedRows] = exported;
  assert.equal(exportedRows.length, originalRows.length, `${label}: row count`);
  for (const [column, header] of (originalHeader ?? []).entries()) {
    const at = (exportedHeader ?? []).indexOf(header);
    assert.notEqual(at, -1, `${label}: column ${header} is exported`);
    originalRows.forEach((row, i) => {
      assert.equal(exportedRows[i]?.[at] ?? '', row[column] ?? '', `${label}: row ${i + 1}, column ${header}`);
    });
  }
}

describe('CSV and the <table> form', () => {
  it('reads quoted cells with commas, quotes and line breaks into <table><row><col field>', () => {
    const xml = csvToTableXml('Name,Comments\r\n"Smith, Jones","He said ""hi""\r\nthen left"\r\n', { tableName: 'org_office' });
    assert.equal(
      xml,
      '<table name="org_office"><row><col field="Name">Smith, Jones</col><col field="Comments">He said "hi"&#13;\nthen left</col></row></table>',
    );
    assert.deepEqual(tableFromXml(xml).rows, [['Smith, Jones', 'He said "hi"\r\nthen left']]);
  });

  it('reads UTF-8 with a byte order mark and falls back to Latin-1', () => {
    const utf8 = new Uint8Array([0xef, 0xbb, 0xbf, ...new TextEncoder().encode('Name\nZürich\n')]);
    assert.deepEqual(readCsv(utf8, { tableName: 't' }).rows, [['Zürich']]);
    const latin1 = new Uint8Array([...new TextEncoder().encode('Name\n'), 0x5a, 0xfc, 0x72, 0x69, 0x63, 0x68, 0x0a]);
    assert.deepEqual(readCsv(latin1, { tableName: 't' }).rows, [['Zürich']]);
    assert.equal(decodeCsvBytes('\uFEFFa'), 'a');
  });

  it('treats NULL cells as empty, skips blank rows and keeps short rows aligned', () => {
    const table = readCsv('Name,Code,Phone\nA,NULL,1\n,,\nB,<null>\nC\n', { tableName: 't' });
    assert.deepEqual(table.rows, [
      ['A', undefined, '1'],
      ['B', undefined, undefined],
      ['C', undefined, undefined],
    ]);
  });

  it('recognises an HXL hashtag row and keeps the tags on the columns', () => {
    const xml = csvToTableXml('Name,Lat,Notes\n#loc +name,#geo+lat,\nKathmandu,27.7,x\n', { tableName: 'gis_location' });
    assert.match(xml, /<col field="Name" hashtag="#loc \+name">Kathmandu<\/col><col field="Lat" hashtag="#geo\+lat">27\.7<\/col><col field="Notes">x<\/col>/);
    const csv = tableXmlToCsv(xml);
    assert.equal(csv, 'Name,Lat,Notes\r\n#loc +name,#geo+lat,\r\nKathmandu,27.7,x\r\n');
  });

  it('drops characters XML cannot carry instead of producing broken XML', () => {
    const xml = csvToTableXml('Name\n"A\u0001B\u0007"\n', { tableName: 't' });
    assert.equal(tableFromXml(xml).rows[0]?.[0], 'AB');
  });

  it('reports an unclosed quote with a stable code and the line', () => {
    assert.throws(
      () => readCsv('Name,Comments\nA,"never closed\n', { tableName: 't' }),
      (error: unknown) => isSluiceError(error) && error.code === 'CSV_INVALID' && error.details.line === 2,
    );
    assert.throws(() => readCsv('', { tableName: 't' }), (error: unknown) => isSluiceError(error) && error.code === 'CSV_EMPTY');
  });

  it('writes the union of columns in order of first appearance, with an optional BOM', () => {
    const xml = '<table name="t"><row><col field="A">1</col></row><row><col field="B">x,y</col><col field="A">2</col></row></table>';
    assert.equal(tableXmlToCsv(xml, { bom: true }), '\uFEFFA,B\r\n1,\r\n2,"x,y"\r\n');
  });
});

describe('XLSX and the <table> form', () => {
  it('writes a workbook and reads the same table back, text kept as text', async () => {
    const table = { name: 'med_hospital', columns: ['Name', 'Code', 'Comments'], rows: [['Bir Hospital', '007', 'a, "b"\nc'], ['東京医療センター', undefined, 'x']] };
    const bytes = await writeXlsx(table);
    const back = await readXlsx(bytes, { tableName: 'med_hospital' });
    assert.deepEqual(back.columns, table.columns);
    assert.deepEqual(back.rows, table.rows);
  });

  it('reads numbers, dates and formulas as the text a person sees', async () => {
    const ExcelJS = (await import('exceljs')).default;
    const workbook = new ExcelJS.Workbook();
    const sheet = workbook.addWorksheet('Sheet');
    sheet.addRow(['Name', 'Beds', 'Lat', 'Opened', 'Total']);
    sheet.addRow(['A', 12, 27.7046, new Date(Date.UTC(2024, 4, 1)), { formula: 'B2*2', result: 24 }]);
    const bytes = new Uint8Array((await workbook.xlsx.writeBuffer()) as ArrayBuffer);
    const table = await readXlsx(bytes, { tableName: 't' });
    assert.deepEqual(table.rows, [['A', '12', '27.7046', '2024-05-01', '24']]);
  });

  it('refuses bytes that are not a workbook with a stable code', async () => {
    await assert.rejects(xlsxToTableXml(new TextEncoder().encode('Name\nA\n'), { tableName: 't' }), (error: unknown) =>
      isSluiceError(error) && error.code === 'XLSX_INVALID',
    );
  });
});

describe('column stylesheets', () => {
  it('ship an import and an export stylesheet for every listed resource', () => {
    assert.deepEqual([...CSV_RESOURCES].sort(), [...REALISTIC_RESOURCES].sort());
    assert.equal(stylesheetPath(getFormat('csv'), 'import', 'org_office'), 'csv/org/office.xsl');
    assert.equal(stylesheetPath(getFormat('xlsx'), 'export', 'event_incident_report'), 'csv/event/incident_report.export.xsl');
  });

  for (const resource of REALISTIC_RESOURCES) {
    it(`round-trips ${ROWS} realistic ${resource} rows through CSV: import cleanly, export the same values`, async () => {
      const sheet = realisticSheet(resource, ROWS);
      const { prefix, name } = splitResourceName(resource);
      const tableXml = csvToTableXml(toCsv(sheet), { tableName: resource });
      const imported = await runXslt(`csv/${prefix}/${name}.xsl`, tableXml);
      assert.deepEqual(imported.messages, [], 'the import reports nothing');
      const records = s3Resources(parseXml(imported.output), resource).filter((r) => r.attributes.name === resource);
      assert.equal(records.length, ROWS);
      const exported = await runXslt(`csv/${prefix}/${name}.export.xsl`, imported.output);
      const csv = tableXmlToCsv(exported.output);
      assertSameColumns(sheet, parse(csv) as Sheet, resource);
    });
  }

  it('round-trips office rows through XLSX with the same stylesheets', async () => {
    const sheet = realisticSheet('org_office', 60);
    const workbook = await writeXlsx(readCsv(toCsv(sheet), { tableName: 'org_office' }));
    const imported = await runXslt('csv/org/office.xsl', await xlsxToTableXml(workbook, { tableName: 'org_office' }));
    const exported = await runXslt('csv/org/office.export.xsl', imported.output);
    const back = await readXlsx(await tableXmlToXlsx(exported.output), { tableName: 'org_office' });
    // Excel cells break lines with a bare LF, so a CRLF inside a cell comes back as LF.
    const lf = sheet.map((row) => row.map((cell) => cell.replace(/\r\n/g, '\n')));
    assertSameColumns(lf, [back.columns, ...back.rows.map((r) => r.map((c) => c ?? ''))], 'xlsx');
  });

  it('creates each lookup once and links rows to it and to their own location', async () => {
    const sheet = realisticSheet('org_office', ROWS);
    const imported = parseXml((await runXslt('csv/org/office.xsl', csvToTableXml(toCsv(sheet), { tableName: 'org_office' }))).output);
    const types = s3Resources(imported, 'org_office_type');
    assert.equal(types.length, new Set(sheet.slice(1).map((r) => r[3]).filter(Boolean)).size);
    const office = s3Resources(imported, 'org_office')[0];
    const locationTuid = office?.children.find((c) => c.attributes.field === 'location_id')?.attributes.tuid;
    const location = s3Resources(imported, 'gis_location').find((l) => l.attributes.tuid === locationTuid);
    assert.ok(location);
    assert.equal(s3Field(location, 'lat'), Number(sheet[1]?.[14]));
  });

  it('maps hospital type and status labels to Eden codes and back', async () => {
    const csv = 'Name,Type,Status,Total Beds\nBir,Field Hospital,Evacuating,120\nTeku,12,no response,x\n';
    const imported = await runXslt('csv/med/hospital.xsl', csvToTableXml(csv, { tableName: 'med_hospital' }));
    const hospitals = s3Resources(parseXml(imported.output), 'med_hospital');
    assert.equal(s3Field(hospitals[0] as XmlElement, 'facility_type'), 2);
    assert.equal(s3Field(s3Resources(hospitals[0] as XmlElement, 'med_hospital_status')[0] as XmlElement, 'facility_status'), 3);
    assert.equal(s3Field(hospitals[1] as XmlElement, 'facility_type'), 12);
    assert.deepEqual(imported.messages, ['sluice:warning csv total_beds is not a number: "x"']);
    const back = tableFromXml((await runXslt('csv/med/hospital.export.xsl', imported.output)).output);
    assert.deepEqual(back.rows.map((r) => r.slice(2, 4)), [['Field Hospital', 'Evacuating'], ['Health center with beds', 'No Response']]);
  });

  it('reads columns by HXL hashtag when the header says something else', async () => {
    const csv = 'Nom,Latitude du lieu\n#loc+name,#geo+lat\nKathmandou,27.7\n';
    const xml = csvToTableXml(csv, { tableName: 'gis_location' }).replace('#loc+name', 'Name');
    const imported = parseXml((await runXslt('csv/gis/location.xsl', xml)).output);
    assert.equal(s3Field(s3Resources(imported, 'gis_location')[0] as XmlElement, 'name'), 'Kathmandou');
    assert.equal(tableToXml(tableFromXml(xml)), xml);
  });

  it('keeps the CSV writer and reader inverse for awkward cells', () => {
    const table = { name: 't', columns: ['A', 'B'], rows: [['x,"y"\r\nz', undefined], ['ü ñ 漢字', '#not-a-tag']] };
    assert.deepEqual(readCsv(writeCsv(table), { tableName: 't' }).rows, table.rows);
  });
});
