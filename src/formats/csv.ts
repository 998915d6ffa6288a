/**
 * CSV ↔ `<table name><row><col field="Header">` (table-xml.ts), following Eden's
 * S3XML.csv2tree: UTF-8 (with or without BOM) first, Latin-1 when the bytes are not UTF-8,
 * `NULL` cells empty, an HXL hashtag row recognised, blank lines skipped.
 */
import { parse } from 'csv-parse/sync';
import { stringify } from 'csv-stringify/sync';
import { SluiceError } from '../errors.js';
import { tableFromRecords, tableFromXml, tableToXml, type Table } from './table-xml.js';

export interface CsvReadOptions {
  /** The resource the rows are for; becomes `<table name>`. */
  tableName: string;
  /** Field delimiter; default `,`. */
  delimiter?: string;
}

export interface CsvWriteOptions {
  /** Start with a UTF-8 byte order mark, which Excel needs to show non-Latin text (default false). */
  bom?: boolean;
  /** Write the HXL hashtag row after the header when the table has hashtags (default true). */
  hashtags?: boolean;
}

/** utf-8-sig, then latin-1, as Eden reads uploaded CSV files. */
export function decodeCsvBytes(bytes: Uint8Array | string): string {
  if (typeof bytes === 'string') return bytes.replace(/^\uFEFF/, '');
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(bytes);
  } catch {
    return new TextDecoder('latin1').decode(bytes);
  }
}

export function readCsv(bytes: Uint8Array | string, options: CsvReadOptions): Table {
  const text = decodeCsvBytes(bytes);
  let records: string[][];
  try {
    records = parse(text, {
      delimiter: options.delimiter ?? ',',
      relax_column_count: true,
      skip_empty_lines: true,
    }) as string[][];
  } catch (error) {
    const details = error as { lines?: number; code?: string; message: string };
    throw new SluiceError('CSV_INVALID', `The CSV file cannot be read: ${details.message}`, {
      status: 422,
      cause: error,
      fix: 'Check the quoting around the line named in the message (a quote opened and never closed is the usual cause)',
      details: { line: details.lines, parser: details.code },
    });
  }
  if (records.length === 0) {
    throw new SluiceError('CSV_EMPTY', 'The CSV file has no header row', {
      status: 422,
      fix: 'The first line of the file must name the columns',
    });
  }
  return tableFromRecords(options.tableName, records);
}

/** CSV bytes or text → the `<table>` XML the column stylesheets read. */
export function csvToTableXml(bytes: Uint8Array | string, options: CsvReadOptions): string {
  return tableToXml(readCsv(bytes, options));
}

export function writeCsv(table: Table, options: CsvWriteOptions = {}): string {
  const records: string[][] = [table.columns];
  if ((options.hashtags ?? true) && table.hashtags?.some((tag) => tag)) {
    records.push(table.hashtags.map((tag) => tag ?? ''));
  }
  for (const row of table.rows) records.push(table.columns.map((_, i) => row[i] ?? ''));
  const text = stringify(records, { record_delimiter: '\r\n' });
  return options.bom ? `\uFEFF${text}` : text;
}

/** The `<table>` XML an export stylesheet wrote → CSV text. */
export function tableXmlToCsv(xml: string, options: CsvWriteOptions = {}): string {
  return writeCsv(tableFromXml(xml), options);
}
