/**
 * Eden's spreadsheet intermediate form (S3XML.csv2tree / xlsx2tree): one XML document per sheet,
 *
 *   <table name="org_office">
 *     <row><col field="Name" hashtag="#loc+name">Pokhara</col><col field="Lat">28.2</col></row>
 *   </table>
 *
 * so that column → field stylesheets stay declarative. CSV and XLSX both read into and write
 * from this shape (csv.ts, xlsx.ts).
 */
import { SaxesParser } from 'saxes';
import { SluiceError } from '../errors.js';

export interface Table {
  /** The resource the sheet is for (`org_office`), or empty when unknown. */
  name: string;
  /** Column headers in order; duplicates are kept as they came. */
  columns: string[];
  /** HXL hashtags per column (`#org+name`), when the sheet had a hashtag row. */
  hashtags?: (string | undefined)[];
  /** Cells per row, aligned with `columns`; undefined is an empty cell. */
  rows: (string | undefined)[][];
}

/** `#loc +name`, `#geo+lat`: an HXL tag with optional +attributes. */
const HXL_HASHTAG = /^#[A-Za-z][\w]*(\s*\+[\w-]+)*$/;

/** Cells Eden reads as empty (S3XML.csv2tree). */
const NULL_CELLS = new Set(['null', '<null>']);

export function isNullCell(value: string): boolean {
  return NULL_CELLS.has(value.trim().toLowerCase());
}

/**
 * Builds a Table from raw records (first record = headers). A first data row made only of
 * `#hashtags` is HXL's hashtag row; blank rows are skipped; `NULL` cells become empty.
 */
export function tableFromRecords(name: string, records: readonly (readonly string[])[]): Table {
  const [header, ...body] = records;
  const columns = (header ?? []).map((h) => h.trim());
  let hashtags: (string | undefined)[] | undefined;
  const first = body[0];
  if (first && first.some((c) => c.trim() !== '') && first.every((c) => c.trim() === '' || HXL_HASHTAG.test(c.trim()))) {
    hashtags = columns.map((_, i) => {
      const tag = first[i]?.trim();
      return tag ? tag : undefined;
    });
    body.shift();
  }
  const rows = body
    .filter((record) => record.some((cell) => cell.trim() !== ''))
    .map((record) =>
      columns.map((_, i) => {
        const cell = record[i];
        return cell === undefined || cell === '' || isNullCell(cell) ? undefined : cell;
      }),
    );
  return hashtags ? { name, columns, hashtags, rows } : { name, columns, rows };
}

export function tableToXml(table: Table): string {
  const parts: string[] = [`<table name="${escapeAttribute(table.name)}">`];
  for (const row of table.rows) {
    parts.push('<row>');
    table.columns.forEach((column, i) => {
      const hashtag = table.hashtags?.[i];
      const tagAttribute = hashtag ? ` hashtag="${escapeAttribute(hashtag)}"` : '';
      parts.push(`<col field="${escapeAttribute(column)}"${tagAttribute}>${escapeText(row[i] ?? '')}</col>`);
    });
    parts.push('</row>');
  }
  parts.push('</table>');
  return parts.join('');
}

/**
 * Reads `<table><row><col field>` back into a Table. Columns are the union of `field` names in
 * order of first appearance, so rows that leave some columns out still line up.
 */
export function tableFromXml(xml: string): Table {
  const parser = new SaxesParser();
  const columns: string[] = [];
  const hashtagByColumn = new Map<string, string>();
  const rows: Map<string, string>[] = [];
  let name = '';
  let row: Map<string, string> | undefined;
  let cellField: string | undefined;
  let cellText = '';
  parser.on('opentag', (tag) => {
    const attribute = (key: string): string | undefined => tag.attributes[key];
    if (tag.name === 'table') name = attribute('name') ?? '';
    else if (tag.name === 'row') row = new Map();
    else if (tag.name === 'col' && row) {
      cellField = attribute('field') ?? '';
      cellText = '';
      if (!columns.includes(cellField)) columns.push(cellField);
      const hashtag = attribute('hashtag');
      if (hashtag) hashtagByColumn.set(cellField, hashtag);
    }
  });
  parser.on('text', (text) => {
    if (cellField !== undefined) cellText += text;
  });
  parser.on('closetag', (tag) => {
    if (tag.name === 'col' && row && cellField !== undefined) {
      // A repeated column name in one row keeps the first non-empty value.
      if (!row.get(cellField)) row.set(cellField, cellText);
      cellField = undefined;
    } else if (tag.name === 'row' && row) {
      rows.push(row);
      row = undefined;
    }
  });
  try {
    parser.write(xml).close();
  } catch (error) {
    throw new SluiceError('TABLE_XML_INVALID', `The spreadsheet XML is not well-formed: ${(error as Error).message}`, {
      status: 500,
      cause: error,
      fix: 'The export stylesheet must produce <table><row><col field="…">value</col></row></table>',
    });
  }
  const table: Table = {
    name,
    columns,
    rows: rows.map((r) => columns.map((c) => (r.get(c) ? r.get(c) : undefined))),
  };
  if (hashtagByColumn.size > 0) table.hashtags = columns.map((c) => hashtagByColumn.get(c));
  return table;
}

// Characters XML 1.0 cannot carry at all are dropped; \r is kept as a character reference because
// an XML parser would otherwise fold the \r\n inside a cell into \n.
const NOT_XML = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

export function escapeText(value: string): string {
  return value.replace(NOT_XML, '').replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/\r/g, '&#13;');
}

function escapeAttribute(value: string): string {
  return escapeText(value).replace(/"/g, '&quot;').replace(/\n/g, '&#10;').replace(/\t/g, '&#9;');
}
