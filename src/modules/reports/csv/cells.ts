import { stringify } from 'csv-stringify/sync';

/**
 * CSV cells safe to open in a spreadsheet. A text cell starting with `=`, `+`, `-`, `@`, a tab
 * or a carriage return is read by Excel, LibreOffice and Google Sheets as a formula
 * (`=HYPERLINK(...)`, `=cmd|...`), so such a cell gets a leading single quote, as OWASP's
 * "CSV Injection" page recommends; the quote shows in the cell and makes it plain text.
 *
 * Numbers stay numbers: a JavaScript `number` is written by us, never by a user, and a negative
 * one (`-0.25`) is a number to a spreadsheet, not a formula, so it is not prefixed (prefixing
 * would turn every negative metric into text). Only strings are neutralised, so a user string
 * that merely looks like a number (`-1+1`) is still prefixed.
 */
const FORMULA_START = /^[=+\-@\t\r]/;

export function neutralise(text: string): string {
  return FORMULA_START.test(text) ? `'${text}` : text;
}

/** A cell value as written: strings neutralised, numbers as JavaScript prints them, dates in ISO 8601, null empty. */
export type Cell = string | number | boolean | Date | null | undefined;

export function cellText(v: Cell): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'number') return Number.isFinite(v) ? String(v) : '';
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  if (v instanceof Date) return v.toISOString();
  return neutralise(v);
}

// csv-stringify quotes a cell holding its record delimiter (CRLF), but not a lone LF or CR, which spreadsheets and
// csv-parse read as the end of the row: such a cell is quoted too.
const CSV_OPTIONS = { record_delimiter: 'windows', eof: true, quoted_match: /[\r\n]/ } as const;

/** One CSV record (RFC 4180: a cell holding a comma, quote, CR or LF is quoted, quotes doubled), ending in CRLF. */
export function csvLine(cells: readonly string[]): string {
  return stringify([cells as string[]], CSV_OPTIONS);
}
