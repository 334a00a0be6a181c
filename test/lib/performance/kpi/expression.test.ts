import { describe, expect, it } from 'vitest';
import { compileExpression, ExpressionError, MAX_EXPRESSION_LENGTH } from '../../../../lib/performance/kpi/expression.js';

const ROOTS = ['business', 'fallback', 'score', 'segment', 'features', 'label'];
const ev = (src: string, ctx: Record<string, unknown> = {}) => compileExpression(src, ROOTS).evaluate(ctx);

describe('KPI expression language', () => {
  const ctx = { business: { converted: 1, revenue: 12.5 }, fallback: null, score: 0.8, segment: { region: 'eu' }, features: { 'odd key': 3 }, label: '1' };

  it('reads fields and does arithmetic with precedence', () => {
    expect(ev('business.revenue * 2 + 1', ctx)).toBe(26);
    expect(ev('(business.revenue - 2.5) / 2', ctx)).toBe(5);
    expect(ev('-score + 1', ctx)).toBeCloseTo(0.2, 14);
    expect(ev('10 % 4')).toBe(2);
    expect(ev("features['odd key']", ctx)).toBe(3);
    expect(ev('1e3 + .5')).toBe(1000.5);
  });

  it('propagates null through arithmetic; division by zero is null', () => {
    expect(ev('business.missing + 1', ctx)).toBeNull();
    expect(ev('1 / 0')).toBeNull();
    expect(ev('business.revenue / (score - score)', ctx)).toBeNull();
  });

  it('compares with documented null and type semantics', () => {
    expect(ev('fallback != null', ctx)).toBe(false);
    expect(ev('fallback == null', ctx)).toBe(true);
    expect(ev('fallback != null', { fallback: 'default_score' })).toBe(true);
    expect(ev("segment.region == 'eu'", ctx)).toBe(true);
    expect(ev('score >= 0.5', ctx)).toBe(true);
    expect(ev('fallback < 1', ctx)).toBeNull();
    expect(ev('label == 1', ctx)).toBe(false); // string vs number: no coercion
    expect(ev('true == 1')).toBe(true);
    expect(ev("'a' < 'b'")).toBe(true);
  });

  it('has truthiness-based logic, ternary and functions', () => {
    expect(ev("score > 0.5 && segment.region == 'eu'", ctx)).toBe(true);
    expect(ev('fallback or business.converted', ctx)).toBe(true);
    expect(ev('not fallback', ctx)).toBe(true);
    expect(ev('score > 0.9 ? 1 : 2', ctx)).toBe(2);
    expect(ev('coalesce(business.nope, 7)', ctx)).toBe(7);
    expect(ev('if(is_null(fallback), 1, 0)', ctx)).toBe(1);
    expect(ev('max(1, 4, 2) + min(3, abs(-1))')).toBe(5);
    expect(ev('upper(segment.region)', ctx)).toBe('EU');
    expect(ev("number('42')")).toBe(42);
    expect(ev('log(0)')).toBeNull();
  });

  it('cannot reach prototypes or run code', () => {
    expect(() => compileExpression('business.__proto__', ROOTS)).toThrow(/not allowed/);
    expect(() => compileExpression('constructor', ROOTS)).toThrow(/unknown field/);
    expect(() => compileExpression("business['constructor']", ROOTS)).toThrow(/not allowed/);
    expect(() => compileExpression('process.exit(1)', ROOTS)).toThrow(ExpressionError);
    expect(() => compileExpression('eval("1")', ROOTS)).toThrow(/unknown function 'eval'/);
    expect(ev('business.toString', ctx)).toBeNull();
  });

  it('reports syntax errors with a position', () => {
    const bad = ['1 +', 'score >', '(1', "'open", 'a ;', 'score score', 'abs()', 'abs(1, 2)', 'business.', 'business[1]'];
    for (const src of bad) {
      let err: unknown;
      try {
        compileExpression(src, ROOTS);
      } catch (e) {
        err = e;
      }
      expect(err, src).toBeInstanceOf(ExpressionError);
      expect((err as ExpressionError).pos).toBeGreaterThanOrEqual(0);
    }
  });

  it('bounds size and nesting', () => {
    expect(() => compileExpression('1+'.repeat(MAX_EXPRESSION_LENGTH) + '1', ROOTS)).toThrow(/longer than/);
    expect(() => compileExpression('('.repeat(60) + '1' + ')'.repeat(60), ROOTS)).toThrow(/nests deeper/);
    expect(() => compileExpression('', ROOTS)).toThrow(/empty/);
  });

  it('lists the roots it reads', () => {
    expect(compileExpression('business.revenue / coalesce(score, 1) + (fallback != null)', ROOTS).roots).toEqual(['business', 'fallback', 'score']);
  });
});
