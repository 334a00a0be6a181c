import { describe, expect, it } from 'vitest';
import { ReferenceDataInvalidError } from '../../../lib/runtime/errors.js';
import { formatOf, parseCsv, readCsv, readJsonLines, readReference } from '../../../lib/reference/read.js';

describe('reference data reading', () => {
  it('parses RFC 4180 CSV: quotes, escaped quotes, embedded newlines, CRLF, BOM', () => {
    const { header, records } = parseCsv('\ufeffa,b,c\r\n1,"x, ""y""",3\r\n4,"multi\nline",\n');
    expect(header).toEqual(['a', 'b', 'c']);
    expect(records).toEqual([
      ['1', 'x, "y"', '3'],
      ['4', 'multi\nline', ''],
    ]);
  });

  it('types columns and maps reserved columns onto event fields', () => {
    const rows = readCsv(
      'income,region,zip,label,score,predicted_label,business.revenue,segment.device,prediction_id\n' +
        '52000,north,01234,1,0.8,1,12.5,ios,p1\n' +
        ',south,02000,0,0.3,0,,web,p2\n',
      { categorical: ['zip'] },
    );
    expect(rows[0]).toEqual({
      features: { income: 52000, region: 'north', zip: '01234' },
      label: '1',
      score: 0.8,
      predicted_label: '1',
      business: { revenue: 12.5 },
      segment: { device: 'ios' },
    });
    expect(rows[1]!.features).toEqual({ income: null, region: 'south', zip: '02000' });
    expect(rows[1]!.business).toBeUndefined();
  });

  it('reads flat and event-shaped JSON lines', () => {
    const rows = readJsonLines(
      [
        JSON.stringify({ age: 40, city: 'x', label: 1, target: 3.5 }),
        '',
        JSON.stringify({ prediction_id: 'p', features: { age: 41, flag: true }, score: 0.2, business: { converted: 1 }, segment: { region: 'eu' } }),
      ].join('\n'),
    );
    expect(rows[0]).toEqual({ features: { age: 40, city: 'x' }, label: '1', target_value: 3.5 });
    expect(rows[1]).toEqual({ features: { age: 41, flag: true }, score: 0.2, business: { converted: 1 }, segment: { region: 'eu' } });
  });

  it('rejects malformed input with a typed error naming the place', () => {
    expect(() => parseCsv('a,b\n1,2,3\n')).toThrow(/record 1 has 3 fields/);
    expect(() => parseCsv('a,a\n1,2\n')).toThrow(/repeats column 'a'/);
    expect(() => parseCsv('a\n"open\n')).toThrow(ReferenceDataInvalidError);
    expect(() => parseCsv('')).toThrow(/no header/);
    expect(() => readJsonLines('{"a":1}\nnot json')).toThrow(/line 2/);
    expect(() => readJsonLines('[1,2]')).toThrow(/not an object/);
    expect(() => readReference('a,b\n', 'csv')).toThrow(/no rows/);
    expect(() => formatOf('data.parquet')).toThrow(ReferenceDataInvalidError);
    expect(formatOf('x.ndjson')).toBe('jsonl');
  });
});
