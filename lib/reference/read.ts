/**
 * Reading reference (training) data: CSV (RFC 4180) and JSON lines, into event-shaped rows.
 *
 * Column conventions (docs/windows.md, "Reference profiles"):
 *  - `label`, `target_value` (alias `target`): the ground truth;
 *  - `score`, `predicted_label`, `predicted_value`: the model's output on the row;
 *  - `business.<name>`: business outcome fields (KPI baselines), `segment.<key>`: segment attributes,
 *    `probabilities.<class>`: class probabilities, `features.<name>`: an explicit feature;
 *  - `prediction_id`, `event_id`, `event_time`, `prediction_time`, `model_name`, `model_version`,
 *    `is_shadow`, `status`, `outcome_time`, `label_delay_ms`, `latency_ms`, `fallback`: metadata, not
 *    features;
 *  - every other column is a feature.
 * JSON lines may also be event-shaped (PredictionEvent / LabeledPrediction JSON, with a `features`
 * object): such lines are taken as they are.
 *
 * CSV typing is per column: a column whose non-empty cells all parse as finite numbers is numeric,
 * otherwise its cells stay strings (a zip code column of digits is numeric unless listed in
 * `categorical`); an empty cell is a missing value.
 */
import { ReferenceDataInvalidError } from '../runtime/errors.js';
import type { Scalar } from '../stats/profile/types.js';

export interface ReferenceRow {
  features: Record<string, Scalar>;
  score?: number | null;
  predicted_label?: string | null;
  predicted_value?: number | null;
  probabilities?: Record<string, number>;
  label?: string | null;
  target_value?: number | null;
  business?: Record<string, number>;
  segment?: Record<string, string>;
  fallback?: string | null;
  latency_ms?: number | null;
}

export interface ReadOptions {
  /** Columns kept as strings even when every cell is numeric. */
  readonly categorical?: readonly string[];
  /** Columns ignored entirely. */
  readonly exclude?: readonly string[];
}

const METADATA = new Set([
  'prediction_id',
  'event_id',
  'event_time',
  'prediction_time',
  'model_name',
  'model_version',
  'is_shadow',
  'status',
  'outcome_time',
  'label_delay_ms',
  'outcome_event_id',
  'entity_id',
]);

/** RFC 4180 CSV: quoted fields, "" escapes, CRLF or LF line ends. Returns the header and records. */
export function parseCsv(text: string): { header: string[]; records: string[][] } {
  const records: string[][] = [];
  let field = '';
  let record: string[] = [];
  let i = 0;
  let quoted = false;
  let line = 1;
  const src = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  while (i < src.length) {
    const c = src[i]!;
    if (quoted) {
      if (c === '"') {
        if (src[i + 1] === '"') {
          field += '"';
          i += 2;
          continue;
        }
        quoted = false;
        i++;
        continue;
      }
      if (c === '\n') line++;
      field += c;
      i++;
      continue;
    }
    if (c === '"') {
      if (field !== '') throw new ReferenceDataInvalidError(`CSV line ${line}: a quote inside an unquoted field`, { line });
      quoted = true;
      i++;
    } else if (c === ',') {
      record.push(field);
      field = '';
      i++;
    } else if (c === '\n' || c === '\r') {
      record.push(field);
      field = '';
      if (!(record.length === 1 && record[0] === '')) records.push(record);
      record = [];
      if (c === '\r' && src[i + 1] === '\n') i++;
      i++;
      line++;
    } else {
      field += c;
      i++;
    }
  }
  if (quoted) throw new ReferenceDataInvalidError(`CSV: unterminated quoted field at line ${line}`, { line });
  if (field !== '' || record.length > 0) {
    record.push(field);
    records.push(record);
  }
  const header = records.shift();
  if (!header || header.length === 0 || header.every((h) => h.trim() === '')) throw new ReferenceDataInvalidError('CSV has no header row');
  const names = header.map((h) => h.trim());
  const dup = names.find((h, k) => names.indexOf(h) !== k);
  if (dup !== undefined) throw new ReferenceDataInvalidError(`CSV header repeats column '${dup}'`);
  records.forEach((r, k) => {
    if (r.length !== names.length)
      throw new ReferenceDataInvalidError(`CSV record ${k + 1} has ${r.length} fields, the header has ${names.length}`, { record: k + 1 });
  });
  return { header: names, records };
}

function toNumber(v: unknown): number | null {
  if (v === null || v === undefined || v === '') return null;
  const n = typeof v === 'number' ? v : Number(v);
  return Number.isFinite(n) ? n : null;
}

function toStringOrNull(v: unknown): string | null {
  if (v === null || v === undefined || v === '') return null;
  return String(v);
}

/** Maps one flat record (column -> typed value) onto an event-shaped reference row. */
export function rowFromFlat(rec: Readonly<Record<string, unknown>>, opts: ReadOptions = {}): ReferenceRow {
  const row: ReferenceRow = { features: {} };
  for (const [col, value] of Object.entries(rec)) {
    if (opts.exclude?.includes(col) || METADATA.has(col)) continue;
    const v = value === '' || value === undefined ? null : value;
    if (col === 'label') row.label = toStringOrNull(v);
    else if (col === 'target_value' || col === 'target') row.target_value = toNumber(v);
    else if (col === 'score') row.score = toNumber(v);
    else if (col === 'predicted_label') row.predicted_label = toStringOrNull(v);
    else if (col === 'predicted_value') row.predicted_value = toNumber(v);
    else if (col === 'fallback') row.fallback = toStringOrNull(v);
    else if (col === 'latency_ms') row.latency_ms = toNumber(v);
    else if (col.startsWith('business.')) {
      const n = toNumber(v);
      if (n !== null) (row.business ??= {})[col.slice(9)] = n;
    } else if (col.startsWith('segment.')) {
      if (v !== null) (row.segment ??= {})[col.slice(8)] = String(v);
    } else if (col.startsWith('probabilities.')) {
      const n = toNumber(v);
      if (n !== null) (row.probabilities ??= {})[col.slice(14)] = n;
    } else {
      const name = col.startsWith('features.') ? col.slice(9) : col;
      row.features[name] = v === null || typeof v === 'number' || typeof v === 'string' || typeof v === 'boolean' ? (v as Scalar) : JSON.stringify(v);
    }
  }
  return row;
}

export function readCsv(text: string, opts: ReadOptions = {}): ReferenceRow[] {
  const { header, records } = parseCsv(text);
  const numeric = header.map((h, c) => {
    if (opts.categorical?.includes(h) || opts.categorical?.includes(h.replace(/^features\./, ''))) return false;
    let any = false;
    for (const r of records) {
      const cell = r[c]!.trim();
      if (cell === '') continue;
      if (!Number.isFinite(Number(cell))) return false;
      any = true;
    }
    return any;
  });
  return records.map((r) => {
    const rec: Record<string, unknown> = {};
    header.forEach((h, c) => {
      const cell = r[c]!;
      rec[h] = cell.trim() === '' ? null : numeric[c] ? Number(cell) : cell;
    });
    return rowFromFlat(rec, opts);
  });
}

/** JSON lines: flat objects (columns as in CSV) or event-shaped objects with a `features` map. */
export function readJsonLines(text: string, opts: ReadOptions = {}): ReferenceRow[] {
  const rows: ReferenceRow[] = [];
  text.split(/\r?\n/).forEach((line, k) => {
    if (line.trim() === '') return;
    let obj: unknown;
    try {
      obj = JSON.parse(line);
    } catch (err) {
      throw new ReferenceDataInvalidError(`JSON lines: line ${k + 1} is not valid JSON: ${(err as Error).message}`, { line: k + 1 });
    }
    if (!obj || typeof obj !== 'object' || Array.isArray(obj))
      throw new ReferenceDataInvalidError(`JSON lines: line ${k + 1} is not an object`, { line: k + 1 });
    const o = obj as Record<string, unknown>;
    if (o.features && typeof o.features === 'object' && !Array.isArray(o.features)) {
      const { features, business, segment, probabilities, ...rest } = o as Record<string, unknown> & { features: Record<string, unknown> };
      const row = rowFromFlat(rest, opts);
      for (const [f, v] of Object.entries(features)) {
        if (opts.exclude?.includes(f)) continue;
        row.features[f] = v === null || typeof v === 'number' || typeof v === 'string' || typeof v === 'boolean' ? (v as Scalar) : JSON.stringify(v);
      }
      if (business && typeof business === 'object') row.business = { ...(row.business ?? {}), ...(business as Record<string, number>) };
      if (segment && typeof segment === 'object') row.segment = { ...(row.segment ?? {}), ...(segment as Record<string, string>) };
      if (probabilities && typeof probabilities === 'object') row.probabilities = { ...(probabilities as Record<string, number>) };
      rows.push(row);
    } else rows.push(rowFromFlat(o, opts));
  });
  return rows;
}

export type ReferenceFormat = 'csv' | 'jsonl';

export function formatOf(path: string): ReferenceFormat {
  if (/\.csv$/i.test(path)) return 'csv';
  if (/\.(jsonl|ndjson|json)$/i.test(path)) return 'jsonl';
  throw new ReferenceDataInvalidError(`cannot tell the format of ${path}: use .csv, .jsonl or .ndjson (or pass the format)`);
}

export function readReference(text: string, format: ReferenceFormat, opts: ReadOptions = {}): ReferenceRow[] {
  const rows = format === 'csv' ? readCsv(text, opts) : readJsonLines(text, opts);
  if (rows.length === 0) throw new ReferenceDataInvalidError('the reference data has no rows');
  return rows;
}
