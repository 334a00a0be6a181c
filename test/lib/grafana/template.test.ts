import { describe, expect, it } from 'vitest';
import { ALL_VALUE, interpolateVariables, TemplateError, variablesUsed, type VariableState } from '../../../lib/grafana/template.js';

const model: VariableState = { name: 'model', multi: false, includeAll: false, options: ['churn', 'eta'], current: 'churn' };
const version: VariableState = { name: 'version', multi: true, includeAll: true, options: ['1', '2', "o'brien"], current: ALL_VALUE };

describe('interpolateVariables', () => {
  it('inserts a single value as is with the ClickHouse format (no quotes)', () => {
    expect(interpolateVariables("model_name = '$model'", [model])).toBe("model_name = 'churn'");
    expect(interpolateVariables("model_name = '${model}'", [model])).toBe("model_name = 'churn'");
    expect(interpolateVariables("model_name = '[[model]]'", [model])).toBe("model_name = 'churn'");
  });

  it("expands All to every option, quoted as 'a','b' by the ClickHouse format", () => {
    expect(interpolateVariables('v IN (${version})', [version])).toBe("v IN ('1','2','o'brien')");
  });

  it('escapes with sqlstring, for one value, several or All', () => {
    expect(interpolateVariables('m IN (${model:sqlstring})', [model])).toBe("m IN ('churn')");
    expect(interpolateVariables('v IN (${version:sqlstring})', [version])).toBe("v IN ('1','2','o''brien')");
    expect(interpolateVariables('v IN (${version:sqlstring})', [{ ...version, current: ['2'] }])).toBe("v IN ('2')");
  });

  it('inserts a custom all value unformatted', () => {
    expect(interpolateVariables('v IN (${version:sqlstring})', [{ ...version, allValue: 'SELECT 1' }])).toBe('v IN (SELECT 1)');
  });

  it('leaves macros and unknown names for the backend', () => {
    const sql = 'WHERE $__timeFilter(ts) AND x = $unknown';
    expect(interpolateVariables(sql, [model])).toBe(sql);
  });

  it('replaces the built-in scoped variables', () => {
    expect(interpolateVariables('$__interval $__interval_ms $__from $__to', [], { fromMs: 1000, toMs: 2000, intervalMs: 60000, interval: '1m' })).toBe(
      '1m 60000 1000 2000',
    );
  });

  it('applies $__conditionalAll', () => {
    expect(interpolateVariables('WHERE $__conditionalAll(v IN (${version:sqlstring}), $version)', [version])).toBe('WHERE 1=1');
    expect(interpolateVariables('WHERE $__conditionalAll(v IN (${version:sqlstring}), $version)', [{ ...version, current: ['1'] }])).toBe("WHERE v IN ('1')");
  });

  it('rejects formats it does not reproduce', () => {
    expect(() => interpolateVariables('${model:regex}', [model])).toThrow(TemplateError);
  });

  it('lists the variables a query uses, not the macros', () => {
    expect(variablesUsed('$__timeFilter(t) AND m IN (${model:sqlstring}) AND [[version]] AND $feature')).toEqual(['model', 'version', 'feature']);
  });
});
