import { describe, expect, it } from 'vitest';
import { expandMacros, formatInterval, MacroError, macrosUsed, STABLE_MACROS } from '../../../lib/grafana/macros.js';

// The golden cases are the plugin's own (clickhouse-datasource pkg/macros/macros_test.go @897b9dc):
// from 2014-11-12T11:45:26.123Z, to 2015-11-12T11:45:26.456Z.
const from = Date.parse('2014-11-12T11:45:26.123Z');
const to = Date.parse('2015-11-12T11:45:26.456Z');
const q = { fromMs: from, toMs: to, intervalMs: 20_000 };

describe('expandMacros (clickhouse-datasource golden cases)', () => {
  const cases: Array<[string, string]> = [
    [
      'select * from foo where $__timeFilter(cast(sth as timestamp))',
      'select * from foo where cast(sth as timestamp) >= toDateTime(1415792726) AND cast(sth as timestamp) <= toDateTime(1447328726)',
    ],
    [
      'select * from foo where $__timeFilter(cast(sth as timestamp) )',
      'select * from foo where cast(sth as timestamp) >= toDateTime(1415792726) AND cast(sth as timestamp) <= toDateTime(1447328726)',
    ],
    [
      'select * from foo where $__timeFilter_ms(cast(sth as timestamp))',
      'select * from foo where cast(sth as timestamp) >= fromUnixTimestamp64Milli(1415792726123) AND cast(sth as timestamp) <= fromUnixTimestamp64Milli(1447328726456)',
    ],
    [
      'select * from foo where ( date >= $__fromTime and date <= $__toTime ) limit 100',
      'select * from foo where ( date >= toDateTime(1415792726) and date <= toDateTime(1447328726) ) limit 100',
    ],
    [
      'select * from foo where ( date >= $__fromTime ) and ( date <= $__toTime ) limit 100',
      'select * from foo where ( date >= toDateTime(1415792726) ) and ( date <= toDateTime(1447328726) ) limit 100',
    ],
    [
      'select * from foo where ( date >= $__fromTime_ms and date <= $__toTime_ms ) limit 100',
      'select * from foo where ( date >= fromUnixTimestamp64Milli(1415792726123) and date <= fromUnixTimestamp64Milli(1447328726456) ) limit 100',
    ],
    ['select $__timeInterval(col) from foo', 'select toStartOfInterval(toDateTime(col), INTERVAL 20 second) from foo'],
    ['select $__timeInterval_ms(col) from foo', 'select toStartOfInterval(toDateTime64(col, 3), INTERVAL 20000 millisecond) from foo'],
    ['select toStartOfInterval(col, INTERVAL $__interval_s second) AS time from foo', 'select toStartOfInterval(col, INTERVAL 20 second) AS time from foo'],
    ['WHERE $__dateFilter(dateCol)', "WHERE dateCol >= toDate('2014-11-12') AND dateCol <= toDate('2015-11-12')"],
    [
      'WHERE $__dateTimeFilter(dateCol, timeCol)',
      "WHERE (dateCol >= toDate('2014-11-12') AND dateCol <= toDate('2015-11-12')) AND (timeCol >= toDateTime(1415792726) AND timeCol <= toDateTime(1447328726))",
    ],
    ['WHERE $__dt(d, t)', "WHERE (d >= toDate('2014-11-12') AND d <= toDate('2015-11-12')) AND (t >= toDateTime(1415792726) AND t <= toDateTime(1447328726))"],
  ];
  for (const [input, output] of cases) {
    it(input, () => expect(expandMacros(input, q)).toBe(output));
  }
});

describe('expandMacros (sqlutil.Interpolate engine)', () => {
  it('does not let a shorter macro eat a longer one ($__timeFilter vs $__timeFilter_ms)', () => {
    const out = expandMacros('$__timeFilter_ms(a) AND $__timeFilter(b)', q);
    expect(out).toBe(
      'a >= fromUnixTimestamp64Milli(1415792726123) AND a <= fromUnixTimestamp64Milli(1447328726456) AND b >= toDateTime(1415792726) AND b <= toDateTime(1447328726)',
    );
  });

  it('takes arguments only from a bracket right after the name', () => {
    // The old SDK scanner swallowed "( x )" here; parseArgs requires '(' immediately after the name.
    expect(expandMacros('SELECT $__fromTime, count(x) FROM t', q)).toBe('SELECT toDateTime(1415792726), count(x) FROM t');
  });

  it('splits arguments only at top-level commas', () => {
    expect(expandMacros('$__timeFilter(if(a, b, c))', q)).toBe('if(a, b, c) >= toDateTime(1415792726) AND if(a, b, c) <= toDateTime(1447328726)');
  });

  it('replaces every occurrence of a matched text', () => {
    expect(expandMacros('$__toTime - $__toTime', q)).toBe('toDateTime(1447328726) - toDateTime(1447328726)');
  });

  it('truncates the interval to whole seconds, at least 1', () => {
    expect(expandMacros('$__interval_s $__timeInterval(c)', { ...q, intervalMs: 1500 })).toBe('1 toStartOfInterval(toDateTime(c), INTERVAL 1 second)');
    expect(expandMacros('$__interval_s', { ...q, intervalMs: 10 })).toBe('1');
  });

  it('keeps the SDK defaults the plugin does not override', () => {
    expect(expandMacros('$__interval $__interval_ms', { ...q, intervalMs: 300_000 })).toBe('5m 300000');
    expect(expandMacros('$__timeFrom(x)', q)).toBe("x >= '2014-11-12T11:45:26Z'");
  });

  it('reports a wrong argument count and an unclosed bracket', () => {
    expect(() => expandMacros('$__timeFilter()', q)).not.toThrow(); // one empty argument, like Go
    expect(() => expandMacros('$__timeFilter(a, b)', q)).toThrow(MacroError);
    expect(() => expandMacros('$__timeFilter(a', q)).toThrow(/missing close bracket/);
  });

  it('leaves unknown macros and text without macros unchanged', () => {
    expect(expandMacros('SELECT $__nope(x), 1', q)).toBe('SELECT $__nope(x), 1');
    expect(macrosUsed('a $__timeFilter(x) $__interval_s $__nope')).toEqual(['timeFilter', 'interval_s', 'nope']);
  });

  it('lists only macros with the same expansion in every plugin release as stable', () => {
    expect(STABLE_MACROS).not.toContain('timeFrom');
    expect(STABLE_MACROS).not.toContain('timeGroup');
    expect(STABLE_MACROS).toContain('timeInterval');
  });

  it('formats intervals like gtime.FormatInterval', () => {
    expect([formatInterval(500), formatInterval(15_000), formatInterval(3_600_000), formatInterval(2 * 86_400_000), formatInterval(0)]).toEqual([
      '500ms',
      '15s',
      '1h',
      '2d',
      '1ms',
    ]);
  });
});
