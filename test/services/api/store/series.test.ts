import { describe, expect, it } from 'vitest';
import { SERIES, buildSeriesQuery, type SeriesSpec } from '../../../../services/api/store/series.js';
import { encodeCursor } from '../../../../services/api/lib/cursor.js';

const EVIL = "x' OR 1=1; DROP TABLE drift_metrics; --";

describe('series statements', () => {
  it('bind every request value as a typed parameter: no value reaches the SQL text', () => {
    for (const spec of Object.values(SERIES) as SeriesSpec[]) {
      const filters = Object.fromEntries(Object.entries(spec.filters).map(([k, f]) => [k, f.type === 'Bool' ? true : EVIL]));
      const key = spec.key.map((k) => (k.type === 'time' ? 1714521600000 : k.type === 'string' ? EVIL : k.type === 'uint64' ? '123' : 1));
      const { sql, params } = buildSeriesQuery(spec, { filters, from: 1, to: 2, limit: 10, order: 'desc', cursor: encodeCursor(spec.id, 'asc', key) });
      expect(sql).not.toContain('DROP');
      expect(sql).not.toContain("'x");
      expect(sql).toMatch(new RegExp(`FROM ${spec.table} FINAL`));
      for (const name of Object.keys(spec.filters)) expect(sql).toContain(`{f_${name}:`);
      expect(Object.values(params)).toContain(EVIL.length > 0 && Object.values(spec.filters).some((f) => f.type === 'String') ? EVIL : 1);
      // The cursor's order wins over the request's, so a page continues in the direction it started.
      expect(sql).toMatch(/ASC/);
      expect(sql).toContain(') > (');
      expect(params.limit).toBe(11);
    }
  });

  it('omits absent filters', () => {
    const { sql, params } = buildSeriesQuery(SERIES.alerts, { filters: { model: 'm' }, limit: 5, order: 'desc' });
    expect(sql).toContain('model_name = {f_model:String}');
    expect(sql).not.toContain('{f_rule');
    expect(params).toEqual({ f_model: 'm', limit: 6 });
  });
});
