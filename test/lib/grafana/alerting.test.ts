import { describe, expect, it } from 'vitest';
import {
  applyEvaluation,
  evaluateCondition,
  evaluateRule,
  framesToResults,
  parseDuration,
  reduce,
  threshold,
  validateRuleForEvaluation,
  type Results,
  type RuleForEvaluation,
  type TrackedInstance,
} from '../../../lib/grafana/alerting.js';
import type { Field, Frame } from '../../../lib/grafana/frames.js';

const str = (name: string, values: (string | null)[]): Field => ({ name, chType: 'String', kind: 'string', nullable: false, values });
const num = (name: string, values: (number | null)[], labels?: Record<string, string>): Field => ({
  name,
  chType: 'Nullable(Float64)',
  kind: 'number',
  nullable: true,
  values,
  ...(labels ? { labels } : {}),
});
const time = (values: number[]): Field => ({ name: 'time', chType: "DateTime('UTC')", kind: 'time', nullable: false, values });

const numbers = (...v: Array<[string, number | null]>): Results => ({
  values: v.map(([m, value]) => ({ kind: 'number' as const, labels: { model: m }, value })),
});

describe('framesToResults (pkg/expr convertDataFramesToResults)', () => {
  it('reads a number table: one Number per row, labels from string columns, NULL as NaN', () => {
    const r = framesToResults([{ fields: [str('model', ['a', 'b']), num('v', [1, null])] }]);
    expect(r.values[0]).toEqual({ kind: 'number', labels: { model: 'a' }, value: 1 });
    expect(r.values[1]!.kind === 'number' && Number.isNaN(r.values[1]!.value)).toBe(true);
  });

  it('is NoData for no frame or a frame without fields (zero rows)', () => {
    expect(framesToResults([])).toEqual({ values: [{ kind: 'nodata' }] });
    expect(framesToResults([{ fields: [] }])).toEqual({ values: [{ kind: 'nodata' }] });
  });

  it('turns a wide frame into one Series per value field', () => {
    const r = framesToResults([{ fields: [time([1, 2]), num('v', [1, 2], { q: 'p99' }), num('v', [3, null], { q: 'p50' })] }]);
    expect(r.values).toEqual([
      {
        kind: 'series',
        labels: { q: 'p99' },
        points: [
          [1, 1],
          [2, 2],
        ],
      },
      {
        kind: 'series',
        labels: { q: 'p50' },
        points: [
          [1, 3],
          [2, null],
        ],
      },
    ]);
  });

  it('rejects a long frame (time-series queries must use format 0) and two numbers without time', () => {
    expect(() => framesToResults([{ fields: [time([1]), str('m', ['a']), num('v', [1])] }])).toThrow(/wide series but got type long/);
    expect(() => framesToResults([{ fields: [num('a', [1]), num('b', [2])] }])).toThrow(/wide series but got type not/);
  });

  it('cannot read a NULL label, as the Go code would panic', () => {
    expect(() => framesToResults([{ fields: [str('model', [null]), num('v', [1])] }])).toThrow(/NULL/);
  });
});

describe('reduce (mathexp/reduce.go)', () => {
  const series: Results = {
    values: [
      {
        kind: 'series',
        labels: { m: 'a' },
        points: [
          [1, 1],
          [2, null],
          [3, 4],
        ],
      },
    ],
  };
  const value = (r: Results) => (r.values[0] as { value: number | null }).value;

  it('sum/mean/max are NaN with a null point; last may be null', () => {
    expect(value(reduce(series, 'sum'))).toBeNaN();
    expect(value(reduce(series, 'max'))).toBeNaN();
    expect(
      value(
        reduce(
          {
            values: [
              {
                kind: 'series',
                labels: {},
                points: [
                  [1, 1],
                  [2, null],
                ],
              },
            ],
          },
          'last',
        ),
      ),
    ).toBeNull();
    expect(value(reduce(series, 'count'))).toBe(3);
  });

  it('dropNN drops null/NaN points first', () => {
    expect(value(reduce(series, 'mean', 'dropNN'))).toBe(2.5);
    expect(value(reduce(series, 'max', 'dropNN'))).toBe(4);
    expect(value(reduce({ values: [{ kind: 'series', labels: {}, points: [[1, null]] }] }, 'last', 'dropNN'))).toBeNull();
  });

  it('replaceNN replaces them', () => {
    expect(value(reduce(series, 'sum', 'replaceNN', 10))).toBe(15);
  });

  it('is a no-op on numbers, except that dropNN removes NaN numbers', () => {
    expect(reduce(numbers(['a', 2]), 'max').values).toEqual(numbers(['a', 2]).values);
    expect(reduce(numbers(['a', NaN], ['b', 1]), 'last', 'dropNN').values).toEqual([{ kind: 'number', labels: { model: 'b' }, value: 1 }]);
  });
});

describe('threshold (pkg/expr/threshold.go)', () => {
  it('gives 1/0, keeps nil, compares NaN as false', () => {
    const r = threshold(numbers(['a', 3], ['b', 1], ['c', null], ['d', NaN]), 'gt', [2]);
    expect(r.values.map((v) => (v as { value: number | null }).value)).toEqual([1, 0, null, 0]);
    expect((threshold(numbers(['a', 3]), 'within_range', [2, 3]).values[0] as { value: number }).value).toBe(0);
    expect((threshold(numbers(['a', 3]), 'outside_range_included', [2, 3]).values[0] as { value: number }).value).toBe(1);
  });
  it('needs its parameters', () => {
    expect(() => threshold(numbers(['a', 1]), 'within_range', [1])).toThrow(/need 2/);
  });
});

describe('evaluateCondition (ngalert eval)', () => {
  it('maps values to states', () => {
    const r = evaluateCondition(numbers(['a', 1], ['b', 0], ['c', null], ['d', NaN]));
    expect(r.kind === 'results' && r.instances.map((i) => i.state)).toEqual(['Alerting', 'Normal', 'NoData', 'Alerting']);
  });
  it('is NoData without values, an error for series or duplicate labels', () => {
    expect(evaluateCondition({ values: [] }).kind).toBe('nodata');
    expect(evaluateCondition({ values: [{ kind: 'nodata' }] }).kind).toBe('nodata');
    expect(evaluateCondition({ values: [{ kind: 'series', labels: {}, points: [] }] }).kind).toBe('error');
    expect(evaluateCondition(numbers(['a', 1], ['a', 0])).kind).toBe('error');
  });
});

const rule: RuleForEvaluation = {
  uid: 'r',
  title: 'r',
  condition: 'C',
  for: '2m',
  noDataState: 'Alerting',
  data: [
    { refId: 'A', datasourceUid: 'ds', relativeTimeRange: { from: 600, to: 0 }, model: { rawSql: 'x' } },
    { refId: 'B', datasourceUid: '__expr__', model: { type: 'reduce', expression: 'A', reducer: 'last', settings: { mode: 'dropNN' } } },
    { refId: 'C', datasourceUid: '__expr__', model: { type: 'threshold', expression: 'B', conditions: [{ evaluator: { type: 'gt', params: [0.5] } }] } },
  ],
};

describe('evaluateRule', () => {
  it('runs A with the relative range and the default interval, then B and C', async () => {
    const seen: Array<{ fromMs: number; toMs: number; intervalMs: number }> = [];
    const frames: Frame[] = [{ fields: [str('model', ['a', 'b']), num('v', [0.9, 0.1])] }];
    const { result } = await evaluateRule(rule, 1_000_000, async (req) => (seen.push(req), frames));
    expect(seen).toEqual([expect.objectContaining({ fromMs: 400_000, toMs: 1_000_000, intervalMs: 1000, maxDataPoints: 43200 })]);
    expect(result).toEqual({
      kind: 'results',
      instances: [expect.objectContaining({ labels: { model: 'a' }, state: 'Alerting' }), expect.objectContaining({ labels: { model: 'b' }, state: 'Normal' })],
    });
  });

  it('turns a datasource failure into an error result', async () => {
    const { result } = await evaluateRule(rule, 0, async () => {
      throw new Error('Syntax error');
    });
    expect(result).toEqual({ kind: 'error', error: 'Syntax error' });
  });

  it('rejects rules it cannot reproduce', () => {
    const bad: RuleForEvaluation = {
      ...rule,
      condition: 'D',
      data: [...rule.data, { refId: 'E', datasourceUid: '__expr__', model: { type: 'math', expression: '$B > 1' } }],
    };
    const problems = validateRuleForEvaluation(bad);
    expect(problems.some((p) => p.includes('condition D does not exist'))).toBe(true);
    expect(problems.some((p) => p.includes('math'))).toBe(true);
  });
});

describe('applyEvaluation (state manager: noDataState, for)', () => {
  const firing = { kind: 'results' as const, instances: [{ labels: { m: 'a' }, state: 'Alerting' as const, value: 1 }] };
  it('keeps an alerting instance pending until `for` has passed', () => {
    let s: Map<string, TrackedInstance> = new Map();
    s = applyEvaluation(s, firing, rule, 0);
    expect([...s.values()][0]!.state).toBe('Pending');
    s = applyEvaluation(s, firing, rule, 60_000);
    expect([...s.values()][0]!.state).toBe('Pending');
    s = applyEvaluation(s, firing, rule, 120_000);
    expect([...s.values()][0]!.state).toBe('Alerting');
    s = applyEvaluation(s, { kind: 'results', instances: [{ labels: { m: 'a' }, state: 'Normal', value: 0 }] }, rule, 180_000);
    expect([...s.values()][0]!.state).toBe('Normal');
  });

  it('maps NoData and errors by the rule settings', () => {
    expect([...applyEvaluation(new Map(), { kind: 'nodata' }, { ...rule, for: '0s' }, 0).values()][0]!.state).toBe('Alerting');
    expect([...applyEvaluation(new Map(), { kind: 'nodata' }, { noDataState: 'OK' }, 0).values()][0]!.state).toBe('Normal');
    expect([...applyEvaluation(new Map(), { kind: 'nodata' }, {}, 0).values()][0]!.state).toBe('NoData');
    expect([...applyEvaluation(new Map(), { kind: 'error', error: 'x' }, {}, 0).values()][0]!.state).toBe('Error');
  });

  it('parses Prometheus durations', () => {
    expect([parseDuration('0s'), parseDuration('1m30s'), parseDuration('2h'), parseDuration('1d'), parseDuration('0')]).toEqual([
      0, 90_000, 7_200_000, 86_400_000, 0,
    ]);
    expect(() => parseDuration('5 minutes')).toThrow();
  });
});
