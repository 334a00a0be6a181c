/**
 * Data frames as Grafana builds them from a ClickHouse result, so tests can check what a panel or an
 * alert rule receives.
 *
 * - Column types map to field kinds as the plugin's converters do (clickhouse-datasource
 *   `pkg/converters/converters.go`): numbers (Int*, UInt*, Float*, Decimal*), strings (String,
 *   FixedString, Enum*, UUID, IPv4/6, LowCardinality(String)), times (Date*, DateTime*), Bool, and
 *   JSON-ish values (Array, Map, Tuple, JSON) that the plugin sends as JSON.
 * - `timeSeriesSchema` mirrors grafana-plugin-sdk-go `data.Frame.TimeSeriesSchema`: the first time
 *   field is the time index, string fields are factors (labels), every other field is a value;
 *   no time or no value -> not a time series; factors -> long; otherwise wide.
 * - `longToWide` mirrors `data.LongToWide` with FillModeNull (the plugin's fill mode,
 *   clickhouse-datasource `pkg/plugin/driver.go` Settings): rows must be sorted ascending by time
 *   ("long series must be sorted ascending by time to be converted"), one wide field per value
 *   column and factor combination, labelled with the factor values, missing points null.
 * - sqlds `getFrames` (pinned https://github.com/grafana/sqlds/blob/main/query.go): zero rows is
 *   ErrorNoResults and the response carries one frame without fields; format 0 (time series)
 *   converts a long frame to wide; format 1 (table) leaves it as it is.
 */

export type FieldKind = 'number' | 'string' | 'time' | 'bool' | 'json' | 'other';

export interface Field {
  readonly name: string;
  /** ClickHouse type as the server reported it. */
  readonly chType: string;
  readonly kind: FieldKind;
  readonly nullable: boolean;
  readonly labels?: Readonly<Record<string, string>>;
  /** numbers for number fields (NaN/±Infinity kept), unix ms for time fields, null for NULL. */
  readonly values: ReadonlyArray<number | string | boolean | null | unknown>;
}

export interface Frame {
  readonly name?: string;
  readonly fields: readonly Field[];
}

export class FrameError extends Error {
  override readonly name = 'FrameError';
}

/** sqlds format option (the query model's `format`). */
export const FORMAT = { timeSeries: 0, table: 1, logs: 2, trace: 3, multi: 4 } as const;

function unwrap(t: string): { base: string; nullable: boolean } {
  let base = t.trim();
  let nullable = false;
  for (;;) {
    const m = /^(Nullable|LowCardinality)\((.*)\)$/.exec(base);
    if (!m) break;
    if (m[1] === 'Nullable') nullable = true;
    base = m[2]!.trim();
  }
  return { base, nullable };
}

export function fieldKindOf(chType: string): FieldKind {
  const { base } = unwrap(chType);
  if (/^(U?Int(8|16|32|64|128|256)|Float(32|64)|BFloat16|Decimal(32|64|128|256)?(\(.*\))?)$/.test(base)) return 'number';
  if (/^(String|FixedString\(\d+\)|Enum(8|16)?\(.*\)|UUID|IPv4|IPv6)$/.test(base)) return 'string';
  if (/^(Date|Date32|DateTime(\(.*\))?|DateTime64\(.*\))$/.test(base)) return 'time';
  if (base === 'Bool') return 'bool';
  if (/^(Array|Map|Tuple|Nested|JSON|Object|Variant|Dynamic)\b/.test(base)) return 'json';
  return 'other';
}

function parseNumber(v: unknown): number | null {
  if (v === null || v === undefined) return null;
  if (typeof v === 'number') return v;
  if (typeof v === 'string') {
    if (v === 'nan' || v === '-nan') return NaN;
    if (v === 'inf' || v === '+inf') return Infinity;
    if (v === '-inf') return -Infinity;
    const n = Number(v);
    if (Number.isNaN(n)) throw new FrameError(`cannot read ${JSON.stringify(v)} as a number`);
    return n;
  }
  throw new FrameError(`cannot read ${JSON.stringify(v)} as a number`);
}

function parseTime(v: unknown, chType: string): number | null {
  if (v === null || v === undefined) return null;
  if (typeof v === 'number') return v;
  if (typeof v === 'string') {
    // ISO output (date_time_output_format=iso) or a bare date.
    const s = /^\d{4}-\d{2}-\d{2}$/.test(v) ? `${v}T00:00:00Z` : v;
    const ms = Date.parse(s);
    if (Number.isNaN(ms)) throw new FrameError(`cannot read ${JSON.stringify(v)} (${chType}) as a time; query with date_time_output_format=iso`);
    return ms;
  }
  throw new FrameError(`cannot read ${JSON.stringify(v)} (${chType}) as a time`);
}

/** ClickHouse `FORMAT JSON` output: `meta` (name, type) and `data` (rows as objects or arrays). */
export interface ClickHouseJson {
  readonly meta: ReadonlyArray<{ readonly name: string; readonly type: string }>;
  readonly data: ReadonlyArray<Record<string, unknown> | readonly unknown[]>;
}

/** The frame sqlutil.FrameFromRows builds from a result (before sqlds' format handling). */
export function frameFromClickHouse(result: ClickHouseJson, name?: string): Frame {
  const fields = result.meta.map((col, i) => {
    const kind = fieldKindOf(col.type);
    const { nullable } = unwrap(col.type);
    const values = result.data.map((row) => {
      const raw = Array.isArray(row) ? row[i] : (row as Record<string, unknown>)[col.name];
      switch (kind) {
        case 'number':
          return parseNumber(raw);
        case 'time':
          return parseTime(raw, col.type);
        case 'string':
          return raw === null || raw === undefined ? null : String(raw);
        case 'bool':
          return raw === null || raw === undefined ? null : raw === true || raw === 1 || raw === 'true';
        default:
          return raw ?? null;
      }
    });
    return { name: col.name, chType: col.type, kind, nullable, values } satisfies Field;
  });
  return { name, fields };
}

export function rowCount(frame: Frame): number {
  return frame.fields[0]?.values.length ?? 0;
}

export type TimeSeriesType = 'not' | 'long' | 'wide';

export interface TimeSeriesSchema {
  readonly type: TimeSeriesType;
  readonly timeIndex: number;
  readonly factorIndices: readonly number[];
  readonly valueIndices: readonly number[];
}

export function timeSeriesSchema(frame: Frame): TimeSeriesSchema {
  const not: TimeSeriesSchema = { type: 'not', timeIndex: -1, factorIndices: [], valueIndices: [] };
  if (frame.fields.length === 0) return not;
  const timeIndex = frame.fields.findIndex((f) => f.kind === 'time');
  if (timeIndex < 0) return not;
  const factorIndices = frame.fields.flatMap((f, i) => (f.kind === 'string' ? [i] : []));
  const valueIndices = frame.fields.flatMap((f, i) => (i !== timeIndex && f.kind !== 'string' ? [i] : []));
  if (valueIndices.length === 0) return { ...not, timeIndex, factorIndices };
  return { type: factorIndices.length === 0 ? 'wide' : 'long', timeIndex, factorIndices, valueIndices };
}

/** data.LongToWide with FillMissing{Mode: FillModeNull}. */
export function longToWide(frame: Frame): Frame {
  const schema = timeSeriesSchema(frame);
  if (schema.type !== 'long') throw new FrameError(`can not convert to wide series, expected long format series input but got ${schema.type} series`);
  const n = rowCount(frame);
  if (n === 0) throw new FrameError('can not convert to wide series, input fields have no rows');
  const timeField = frame.fields[schema.timeIndex]!;
  const times: number[] = [];
  const wide: { name: string; chType: string; kind: FieldKind; nullable: boolean; labels: Record<string, string>; values: unknown[] }[] = [];
  const index = new Map<string, number>(); // `${valueIdx}|${factorKey}` -> wide field position
  let last = timeField.values[0] as number | null;
  if (last === null) throw new FrameError('time may not have nil values');
  times.push(last);
  let row = 0;
  for (let r = 0; r < n; r++) {
    const t = timeField.values[r] as number | null;
    if (t === null) throw new FrameError('time may not have nil values');
    if (t > last) {
      last = t;
      row++;
      times.push(t);
      for (const f of wide) f.values.push(null);
    }
    if (t < last) throw new FrameError('long series must be sorted ascending by time to be converted');
    const labels: Record<string, string> = {};
    for (const fi of schema.factorIndices) {
      const f = frame.fields[fi]!;
      labels[f.name] = f.values[r] === null ? '' : String(f.values[r]);
    }
    const key = JSON.stringify(schema.factorIndices.map((fi) => [frame.fields[fi]!.name, labels[frame.fields[fi]!.name]]));
    for (const vi of schema.valueIndices) {
      const id = `${vi}|${key}`;
      let pos = index.get(id);
      if (pos === undefined) {
        const src = frame.fields[vi]!;
        pos = wide.length;
        wide.push({ name: src.name, chType: src.chType, kind: src.kind, nullable: true, labels: { ...labels }, values: new Array(row + 1).fill(null) });
        index.set(id, pos);
      }
      wide[pos]!.values[row] = frame.fields[vi]!.values[r];
    }
  }
  return {
    name: frame.name,
    fields: [{ name: timeField.name, chType: timeField.chType, kind: 'time', nullable: false, values: times }, ...wide],
  };
}

/**
 * What the plugin returns for one query: sqlds getFrames. Zero rows -> one frame without fields
 * (ErrorNoResults is swallowed by sqlds and the panel shows "No data").
 */
export function pluginResponse(frame: Frame, format: number): Frame[] {
  if (rowCount(frame) === 0) return [{ name: frame.name, fields: [] }];
  if (format === FORMAT.timeSeries && timeSeriesSchema(frame).type === 'long') return [longToWide(frame)];
  return [frame];
}
