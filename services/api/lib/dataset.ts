/**
 * Parses an uploaded reference dataset (the body of `POST .../reference`) into rows for the reference
 * profile builder (`lib/stats/profile`, `Row = Record<string, number | string | boolean | null>`).
 *
 * Two formats, chosen by Content-Type:
 *  - CSV (`text/csv`), RFC 4180: a header row names the features; fields may be quoted with `"`
 *    (a doubled `""` inside quotes is one quote), separated by `,`, rows end with LF or CRLF.
 *    Typing of an unquoted field: empty -> null (missing), `true`/`false` -> boolean, a decimal
 *    number -> number, anything else -> string. A quoted field is always a string, so a producer can
 *    keep a categorical code such as `"007"` categorical.
 *  - JSON lines (`application/x-ndjson`, `application/jsonl`): one JSON object per line, values
 *    number | string | boolean | null (nested values are rejected: features are flat, as in the
 *    event contracts' feature map).
 * Problems are reported with their line number as DW_INVALID_REQUEST (400), never as a 5xx.
 */
import { InvalidRequestError } from '../../../lib/runtime/errors.js';

export type Cell = number | string | boolean | null;
export type DatasetRow = Record<string, Cell>;

export interface DatasetLimits {
  readonly maxRows: number;
  /** Columns per row (features). */
  readonly maxColumns: number;
}

export const DEFAULT_MAX_COLUMNS = 2000;

const NUMBER = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;
/** Names that would reach Object.prototype when used as plain-object keys downstream. */
const FORBIDDEN_NAMES = new Set(['__proto__', 'constructor', 'prototype']);

function checkName(name: string, line: number): void {
  if (name.length === 0) throw new InvalidRequestError(`line ${line}: empty column name`);
  if (name.length > 256) throw new InvalidRequestError(`line ${line}: column name longer than 256 characters`);
  if (FORBIDDEN_NAMES.has(name)) throw new InvalidRequestError(`line ${line}: column name ${JSON.stringify(name)} is not allowed`);
}

function typedCell(raw: string, quoted: boolean): Cell {
  if (quoted) return raw;
  if (raw === '') return null;
  if (raw === 'true') return true;
  if (raw === 'false') return false;
  if (NUMBER.test(raw)) {
    const n = Number(raw);
    // 1e999 parses to Infinity: the contracts carry finite numbers only (DW_NON_FINITE_NUMBER).
    if (Number.isFinite(n)) return n;
  }
  return raw;
}

interface Field {
  readonly text: string;
  readonly quoted: boolean;
}

/** Splits CSV text into records of fields (RFC 4180), tracking the line each record starts on. */
function* csvRecords(text: string): Generator<{ fields: Field[]; line: number }> {
  let i = 0;
  let line = 1;
  const n = text.length;
  if (text.charCodeAt(0) === 0xfeff) i = 1; // byte-order mark
  while (i < n) {
    const startLine = line;
    const fields: Field[] = [];
    for (;;) {
      let value = '';
      let quoted = false;
      if (text[i] === '"') {
        quoted = true;
        i++;
        for (;;) {
          if (i >= n) throw new InvalidRequestError(`line ${startLine}: unterminated quoted field`);
          const c = text[i]!;
          if (c === '"') {
            if (text[i + 1] === '"') {
              value += '"';
              i += 2;
              continue;
            }
            i++;
            break;
          }
          if (c === '\n') line++;
          value += c;
          i++;
        }
        if (i < n && text[i] !== ',' && text[i] !== '\n' && text[i] !== '\r') {
          throw new InvalidRequestError(`line ${line}: unexpected character after a closing quote`);
        }
      } else {
        const start = i;
        while (i < n && text[i] !== ',' && text[i] !== '\n' && text[i] !== '\r') {
          if (text[i] === '"') throw new InvalidRequestError(`line ${line}: quote inside an unquoted field`);
          i++;
        }
        value = text.slice(start, i);
      }
      fields.push({ text: value, quoted });
      if (i >= n) break;
      if (text[i] === ',') {
        i++;
        continue;
      }
      // end of record: \n or \r\n (a lone \r is accepted as a line end too)
      if (text[i] === '\r') i++;
      if (text[i] === '\n') i++;
      line++;
      break;
    }
    const blank = fields.length === 1 && fields[0]!.text === '' && !fields[0]!.quoted;
    if (!blank) yield { fields, line: startLine };
  }
}

export function parseCsv(text: string, limits: DatasetLimits): DatasetRow[] {
  const records = csvRecords(text);
  const head = records.next();
  if (head.done) throw new InvalidRequestError('the dataset is empty: expected a header row and at least one data row');
  const names = head.value.fields.map((f) => f.text.trim());
  if (names.length > limits.maxColumns) throw new InvalidRequestError(`line 1: ${names.length} columns; at most ${limits.maxColumns} are allowed`);
  const seen = new Set<string>();
  for (const name of names) {
    checkName(name, 1);
    if (seen.has(name)) throw new InvalidRequestError(`line 1: duplicate column ${JSON.stringify(name)}`);
    seen.add(name);
  }
  const rows: DatasetRow[] = [];
  for (const { fields, line } of records) {
    if (fields.length !== names.length) throw new InvalidRequestError(`line ${line}: ${fields.length} fields, the header has ${names.length}`);
    if (rows.length >= limits.maxRows) throw new InvalidRequestError(`more than ${limits.maxRows} data rows (API_REFERENCE_MAX_ROWS)`);
    const row: DatasetRow = {};
    for (let c = 0; c < names.length; c++) row[names[c]!] = typedCell(fields[c]!.text, fields[c]!.quoted);
    rows.push(row);
  }
  if (rows.length === 0) throw new InvalidRequestError('the dataset has a header but no data rows');
  return rows;
}

export function parseJsonLines(text: string, limits: DatasetLimits): DatasetRow[] {
  const rows: DatasetRow[] = [];
  const lines = text.split('\n');
  for (let idx = 0; idx < lines.length; idx++) {
    const lineText = lines[idx]!.trim();
    if (lineText === '') continue;
    const line = idx + 1;
    let parsed: unknown;
    try {
      parsed = JSON.parse(lineText);
    } catch {
      throw new InvalidRequestError(`line ${line}: not valid JSON`);
    }
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new InvalidRequestError(`line ${line}: expected a JSON object`);
    const entries = Object.entries(parsed as Record<string, unknown>);
    if (entries.length > limits.maxColumns) throw new InvalidRequestError(`line ${line}: ${entries.length} fields; at most ${limits.maxColumns} are allowed`);
    if (rows.length >= limits.maxRows) throw new InvalidRequestError(`more than ${limits.maxRows} data rows (API_REFERENCE_MAX_ROWS)`);
    const row: DatasetRow = {};
    for (const [name, value] of entries) {
      checkName(name, line);
      if (value === null || typeof value === 'string' || typeof value === 'boolean') row[name] = value;
      else if (typeof value === 'number' && Number.isFinite(value)) row[name] = value;
      else throw new InvalidRequestError(`line ${line}: field ${JSON.stringify(name)} must be a finite number, a string, a boolean or null`);
    }
    rows.push(row);
  }
  if (rows.length === 0) throw new InvalidRequestError('the dataset is empty: expected at least one JSON object line');
  return rows;
}

export const CSV_TYPES = ['text/csv'] as const;
export const JSON_LINES_TYPES = ['application/x-ndjson', 'application/jsonl', 'application/json-lines'] as const;

export function parseDataset(contentType: string, text: string, limits: DatasetLimits): DatasetRow[] {
  const type = contentType.split(';')[0]!.trim().toLowerCase();
  if ((CSV_TYPES as readonly string[]).includes(type)) return parseCsv(text, limits);
  return parseJsonLines(text, limits);
}
