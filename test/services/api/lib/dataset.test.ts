import { describe, expect, it } from 'vitest';
import { parseCsv, parseDataset, parseJsonLines } from '../../../../services/api/lib/dataset.js';

const limits = { maxRows: 5, maxColumns: 3 };

describe('CSV (RFC 4180)', () => {
  it('types unquoted fields and keeps quoted fields as strings', () => {
    expect(parseCsv('a,b,c\n1,x,true\n-2.5e3,,false\n"7","x,y",TRUE\n', limits)).toEqual([
      { a: 1, b: 'x', c: true },
      { a: -2500, b: null, c: false },
      { a: '7', b: 'x,y', c: 'TRUE' },
    ]);
  });

  it('handles CRLF, a BOM, escaped quotes, newlines inside quotes, no final newline and blank lines', () => {
    expect(parseCsv('\ufeffa,b\r\n"say ""hi""","line1\nline2"\r\n\r\n3,4', limits)).toEqual([
      { a: 'say "hi"', b: 'line1\nline2' },
      { a: 3, b: 4 },
    ]);
  });

  it('keeps non-finite and non-decimal numbers as strings', () => {
    expect(parseCsv('a,b,c\n1e999,0x10,NaN\n', limits)).toEqual([{ a: '1e999', b: '0x10', c: 'NaN' }]);
  });

  it('reports malformed input with its line number', () => {
    const cases: Array<[string, RegExp]> = [
      ['', /empty/],
      ['a,b\n', /no data rows/],
      ['a,a\n1,2\n', /line 1: duplicate column "a"/],
      ['a,,c\n1,2,3\n', /line 1: empty column name/],
      ['a,b,c,d\n1,2,3,4\n', /4 columns; at most 3/],
      ['a,b\n1,2\n3\n', /line 3: 1 fields, the header has 2/],
      ['a\n"x\n', /line 2: unterminated quoted field/],
      ['a\n"x"y\n', /unexpected character after a closing quote/],
      ['a\nx"y\n', /quote inside an unquoted field/],
      ['constructor\n1\n', /not allowed/],
      [`a\n${'1\n'.repeat(6)}`, /more than 5 data rows/],
    ];
    for (const [text, message] of cases) expect(() => parseCsv(text, limits), JSON.stringify(text)).toThrow(message);
  });
});

describe('JSON lines', () => {
  it('parses one flat object per line and skips blank lines', () => {
    expect(parseJsonLines('{"a":1,"b":"x"}\n\n  {"a":null,"c":true}  \n', limits)).toEqual([
      { a: 1, b: 'x' },
      { a: null, c: true },
    ]);
  });

  it('rejects nested values, non-objects, bad JSON and prototype keys', () => {
    for (const [text, message] of [
      ['{"a":[1]}', /line 1: field "a"/],
      ['1', /expected a JSON object/],
      ['{"a":1}\n{"a":', /line 2: not valid JSON/],
      ['{"__proto__":1}', /not allowed/],
      ['{"a":1e400}', /finite/],
      ['\n\n', /empty/],
      ['{"a":1,"b":2,"c":3,"d":4}', /at most 3/],
    ] as const) {
      expect(() => parseJsonLines(text, limits), text).toThrow(message);
    }
  });

  it('chooses the parser by media type', () => {
    expect(parseDataset('text/csv; charset=utf-8', 'a\n1\n', limits)).toEqual([{ a: 1 }]);
    expect(parseDataset('application/x-ndjson', '{"a":1}', limits)).toEqual([{ a: 1 }]);
  });
});
