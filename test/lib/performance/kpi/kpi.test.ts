import { describe, expect, it } from 'vitest';
import { addKpi, createKpiAccumulator, kpiOverRows, kpiValue, mergeKpi, parseKpiDefinitions } from '../../../../lib/performance/kpi/kpi.js';

const section = [
  { name: 'conversion_rate', expression: 'business.converted', aggregation: 'mean' },
  { name: 'revenue_per_prediction', expression: 'business.revenue', aggregation: 'ratio', denominator: '1' },
  { name: 'fallback_rate', expression: 'fallback != null', aggregation: 'rate' },
  { name: 'revenue', expression: 'business.revenue', aggregation: 'sum', models: ['shop'] },
  { name: 'conversions', expression: 'business.converted == 1', aggregation: 'count' },
];

describe('KPI definitions', () => {
  it('parses the documented examples and infers their source', () => {
    const { kpis, problems } = parseKpiDefinitions(section);
    expect(problems).toEqual([]);
    expect(kpis.map((k) => [k.name, k.source])).toEqual([
      ['conversion_rate', 'labeled'],
      ['revenue_per_prediction', 'labeled'],
      ['fallback_rate', 'predictions'],
      ['revenue', 'labeled'],
      ['conversions', 'labeled'],
    ]);
    expect(kpis[3]!.models).toEqual(['shop']);
  });

  it('reports every problem at once', () => {
    const { problems } = parseKpiDefinitions([
      { name: 'Bad Name', expression: 'x', aggregation: 'median' },
      { name: 'both', expression: 'business.revenue + latency_ms', aggregation: 'sum' },
      { name: 'wrong_source', expression: 'label == "1"', aggregation: 'rate', source: 'predictions' },
      { name: 'den', expression: '1', aggregation: 'sum', denominator: '2' },
      { name: 'den', expression: '1 +', aggregation: 'sum', extra: 1 },
      'nope',
    ]);
    const text = problems.join('\n');
    expect(text).toMatch(/kpis\[0\]\.name/);
    expect(text).toMatch(/kpis\[0\]\.aggregation/);
    expect(text).toMatch(/kpis\[0\]\.expression: unknown field 'x'/);
    expect(text).toMatch(/kpis\[1\]: reads outcome fields/);
    expect(text).toMatch(/kpis\[2\]\.source/);
    expect(text).toMatch(/kpis\[3\]\.denominator/);
    expect(text).toMatch(/kpis\[4\]\.name: duplicate/);
    expect(text).toMatch(/kpis\[4\]: unknown key 'extra'/);
    expect(text).toMatch(/kpis\[4\]\.expression: unexpected/);
    expect(text).toMatch(/kpis\[5\]/);
    expect(parseKpiDefinitions({}).problems[0]).toMatch(/expected a list/);
  });

  it('aggregates per window, with null instead of silent zeros', () => {
    const { kpis } = parseKpiDefinitions(section);
    const rows = [
      { business: { converted: 1, revenue: 10 }, fallback: null },
      { business: { converted: 0 }, fallback: 'default_score' },
      { business: { converted: 1, revenue: 5 }, fallback: null },
      { business: {}, fallback: null },
    ];
    const by = Object.fromEntries(kpis.map((k) => [k.name, kpiOverRows(k, rows).value]));
    expect(by).toEqual({ conversion_rate: 2 / 3, revenue_per_prediction: 15 / 4, fallback_rate: 0.25, revenue: 15, conversions: 2 });
    const empty = Object.fromEntries(kpis.map((k) => [k.name, kpiValue(createKpiAccumulator(), k.aggregation)]));
    expect(empty).toEqual({ conversion_rate: null, revenue_per_prediction: null, fallback_rate: null, revenue: null, conversions: 0 });
  });

  it('merges accumulators exactly', () => {
    const { kpis } = parseKpiDefinitions(section);
    const k = kpis[1]!;
    const all = createKpiAccumulator();
    const a = createKpiAccumulator();
    const b = createKpiAccumulator();
    for (let i = 0; i < 300; i++) {
      const row = { business: { revenue: i * 0.1 } };
      addKpi(all, k, row);
      addKpi(i % 7 === 0 ? a : b, k, row);
    }
    expect(kpiValue(mergeKpi(b, a), 'ratio')).toBe(kpiValue(all, 'ratio'));
  });
});
