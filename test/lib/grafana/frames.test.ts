import { describe, expect, it } from 'vitest';
import { fieldKindOf, frameFromClickHouse, FrameError, longToWide, pluginResponse, timeSeriesSchema, FORMAT } from '../../../lib/grafana/frames.js';

const t0 = Date.parse('2024-01-01T00:00:00Z');
const iso = (ms: number) => new Date(ms).toISOString();

describe('fieldKindOf (plugin converters)', () => {
  it('maps ClickHouse types to field kinds', () => {
    expect(fieldKindOf('Nullable(Float64)')).toBe('number');
    expect(fieldKindOf('UInt64')).toBe('number');
    expect(fieldKindOf('Decimal(18, 4)')).toBe('number');
    expect(fieldKindOf('LowCardinality(String)')).toBe('string');
    expect(fieldKindOf("Enum8('a' = 1)")).toBe('string');
    expect(fieldKindOf("DateTime64(3, 'UTC')")).toBe('time');
    expect(fieldKindOf("DateTime('UTC')")).toBe('time');
    expect(fieldKindOf('Date')).toBe('time');
    expect(fieldKindOf('Bool')).toBe('bool');
    expect(fieldKindOf('Array(String)')).toBe('json');
    expect(fieldKindOf('Map(String, String)')).toBe('json');
  });
});

describe('frameFromClickHouse', () => {
  it('reads numbers (64-bit ints quoted, nan/inf), times and NULLs', () => {
    const f = frameFromClickHouse({
      meta: [
        { name: 't', type: "DateTime64(3, 'UTC')" },
        { name: 'n', type: 'UInt64' },
        { name: 'x', type: 'Nullable(Float64)' },
      ],
      data: [
        { t: iso(t0), n: '18446744073709551615', x: 'nan' },
        { t: iso(t0 + 1000), n: '2', x: null },
      ],
    });
    expect(f.fields[0]!.values).toEqual([t0, t0 + 1000]);
    expect(f.fields[1]!.values[1]).toBe(2);
    expect(Number.isNaN(f.fields[2]!.values[0] as number)).toBe(true);
    expect(f.fields[2]!.values[1]).toBeNull();
    expect(f.fields[2]!.nullable).toBe(true);
  });
});

const long = frameFromClickHouse({
  meta: [
    { name: 'time', type: "DateTime('UTC')" },
    { name: 'feature', type: 'String' },
    { name: 'score', type: 'Float64' },
  ],
  data: [
    { time: iso(t0), feature: 'a', score: 0.1 },
    { time: iso(t0), feature: 'b', score: 0.2 },
    { time: iso(t0 + 300_000), feature: 'a', score: 0.3 },
  ],
});

describe('timeSeriesSchema and longToWide (data.LongToWide, FillModeNull)', () => {
  it('classifies frames', () => {
    expect(timeSeriesSchema(long).type).toBe('long');
    expect(timeSeriesSchema(longToWide(long)).type).toBe('wide');
    expect(timeSeriesSchema({ fields: [long.fields[1]!, long.fields[2]!] }).type).toBe('not');
  });

  it('makes one field per label set, with nulls where a series has no point', () => {
    const w = longToWide(long);
    expect(w.fields.map((f) => [f.name, f.labels])).toEqual([
      ['time', undefined],
      ['score', { feature: 'a' }],
      ['score', { feature: 'b' }],
    ]);
    expect(w.fields[0]!.values).toEqual([t0, t0 + 300_000]);
    expect(w.fields[1]!.values).toEqual([0.1, 0.3]);
    expect(w.fields[2]!.values).toEqual([0.2, null]);
  });

  it('refuses a long frame that is not sorted by time, as the plugin does', () => {
    const unsorted = { fields: long.fields.map((f) => ({ ...f, values: [...f.values].reverse() })) };
    expect(() => longToWide(unsorted)).toThrow(/sorted ascending by time/);
    expect(() => longToWide({ fields: [long.fields[1]!, long.fields[2]!] })).toThrow(FrameError);
  });

  it('returns a frame without fields for zero rows, converts only the time-series format', () => {
    const empty = { fields: long.fields.map((f) => ({ ...f, values: [] })) };
    expect(pluginResponse(empty, FORMAT.timeSeries)).toEqual([{ name: undefined, fields: [] }]);
    expect(timeSeriesSchema(pluginResponse(long, FORMAT.timeSeries)[0]!).type).toBe('wide');
    expect(timeSeriesSchema(pluginResponse(long, FORMAT.table)[0]!).type).toBe('long');
  });
});
