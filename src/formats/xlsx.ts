/**
 * XLSX ↔ `<table name><row><col field="Header">` with exceljs, the same intermediate form as CSV
 * (table-xml.ts), so one column stylesheet serves both. Cells are read as the text a person sees:
 * numbers without exponent, dates as ISO 8601, rich text and hyperlinks as their text, formulas
 * as their cached result.
 */
import ExcelJS from 'exceljs';
import { SluiceError } from '../errors.js';
import { tableFromRecords, tableFromXml, tableToXml, type Table } from './table-xml.js';

export interface XlsxReadOptions {
  tableName: string;
  /** Worksheet name; default the first worksheet. */
  sheet?: string;
}

export async function readXlsx(bytes: Uint8Array, options: XlsxReadOptions): Promise<Table> {
  const workbook = new ExcelJS.Workbook();
  try {
    // exceljs wants a Node Buffer; a view over the same memory avoids a copy.
    await workbook.xlsx.load(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength) as unknown as ArrayBuffer);
  } catch (error) {
    throw new SluiceError('XLSX_INVALID', `The workbook cannot be read: ${(error as Error).message}`, {
      status: 422,
      cause: error,
      fix: 'Save the file as an Excel workbook (.xlsx); older .xls files are not supported',
    });
  }
  const worksheet = options.sheet ? workbook.getWorksheet(options.sheet) : workbook.worksheets[0];
  if (!worksheet) {
    throw new SluiceError('XLSX_NO_SHEET', options.sheet ? `The workbook has no sheet "${options.sheet}"` : 'The workbook has no sheet', {
      status: 422,
      fix: 'Put the rows on the first sheet, with the column names in the first row',
    });
  }
  const width = worksheet.columnCount;
  const records: string[][] = [];
  worksheet.eachRow({ includeEmpty: true }, (row) => {
    const record: string[] = [];
    for (let column = 1; column <= width; column++) record.push(cellText(row.getCell(column).value));
    records.push(record);
  });
  if (records.length === 0) {
    throw new SluiceError('XLSX_EMPTY', 'The worksheet has no header row', {
      status: 422,
      fix: 'The first row of the sheet must name the columns',
    });
  }
  return tableFromRecords(options.tableName, records);
}

export async function xlsxToTableXml(bytes: Uint8Array, options: XlsxReadOptions): Promise<string> {
  return tableToXml(await readXlsx(bytes, options));
}

export async function writeXlsx(table: Table): Promise<Uint8Array> {
  const workbook = new ExcelJS.Workbook();
  // Sheet names are limited to 31 characters and may not contain []:*?/\ .
  const sheetName = (table.name || 'Sheet1').replace(/[[\]:*?/\\]/g, '_').slice(0, 31);
  const worksheet = workbook.addWorksheet(sheetName);
  worksheet.addRow(table.columns).font = { bold: true };
  if (table.hashtags?.some((tag) => tag)) worksheet.addRow(table.hashtags.map((tag) => tag ?? ''));
  // Values stay text: a code like "007" or a phone number must not become a number. A line break
  // in a cell is a bare LF in Excel; a CR would not survive the workbook's own XML anyway.
  for (const row of table.rows) worksheet.addRow(table.columns.map((_, i) => row[i]?.replace(/\r\n?/g, '\n') ?? null));
  const buffer = await workbook.xlsx.writeBuffer();
  return new Uint8Array(buffer as ArrayBuffer);
}

export async function tableXmlToXlsx(xml: string): Promise<Uint8Array> {
  return writeXlsx(tableFromXml(xml));
}

function cellText(value: ExcelJS.CellValue): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'string') return value;
  if (typeof value === 'number') return Number.isInteger(value) ? String(value) : String(Number(value.toPrecision(15)));
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (value instanceof Date) return isoDate(value);
  if ('richText' in value) return value.richText.map((part) => part.text).join('');
  if ('formula' in value || 'sharedFormula' in value) {
    const result = (value as { result?: unknown }).result;
    return result === undefined || result === null || typeof result === 'object' && !(result instanceof Date)
      ? ''
      : cellText(result as ExcelJS.CellValue);
  }
  if ('hyperlink' in value) return typeof value.text === 'string' ? value.text : cellText(value.text as ExcelJS.CellValue);
  if ('error' in value) return '';
  return '';
}

/** Midnight dates as `YYYY-MM-DD`, others as `YYYY-MM-DDTHH:MM:SS` (Excel dates carry no zone). */
function isoDate(date: Date): string {
  const iso = date.toISOString();
  return iso.endsWith('T00:00:00.000Z') ? iso.slice(0, 10) : iso.slice(0, 19);
}
