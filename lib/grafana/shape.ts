/**
 * A tiny structural validator: enough to mirror Grafana's Go provisioning structs and the
 * @grafana/schema dashboard types as data, and to report every problem with its path.
 *
 * It is stricter than Grafana in one way on purpose: unknown keys are problems. Go's yaml.v3 and
 * encoding/json silently drop unknown fields, so a typo (`noDataSate`) would be ignored by Grafana
 * and the rule would run with a default; here it fails the test instead.
 */

export type Shape =
  | { readonly kind: 'string' | 'number' | 'int' | 'bool' | 'any' | 'null' }
  | { readonly kind: 'literal'; readonly values: readonly (string | number | boolean)[] }
  | { readonly kind: 'array'; readonly of: Shape }
  | { readonly kind: 'map'; readonly of: Shape }
  | { readonly kind: 'union'; readonly of: readonly Shape[] }
  | { readonly kind: 'object'; readonly props: Readonly<Record<string, Prop>>; readonly open?: boolean };

export interface Prop {
  readonly shape: Shape;
  readonly required?: boolean;
}

export const S = {
  string: { kind: 'string' } as Shape,
  number: { kind: 'number' } as Shape,
  int: { kind: 'int' } as Shape,
  bool: { kind: 'bool' } as Shape,
  any: { kind: 'any' } as Shape,
  null: { kind: 'null' } as Shape,
  literal: (...values: (string | number | boolean)[]): Shape => ({ kind: 'literal', values }),
  array: (of: Shape): Shape => ({ kind: 'array', of }),
  map: (of: Shape): Shape => ({ kind: 'map', of }),
  union: (...of: Shape[]): Shape => ({ kind: 'union', of }),
  object: (props: Record<string, Prop | Shape>, open = false): Shape => ({
    kind: 'object',
    props: Object.fromEntries(Object.entries(props).map(([k, p]) => [k, 'kind' in p ? { shape: p as Shape } : (p as Prop)])),
    open,
  }),
  req: (shape: Shape): Prop => ({ shape, required: true }),
  opt: (shape: Shape): Prop => ({ shape }),
};

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  return typeof v;
}

export function check(value: unknown, shape: Shape, path: string, problems: string[]): void {
  switch (shape.kind) {
    case 'any':
      return;
    case 'null':
      if (value !== null) problems.push(`${path}: expected null, got ${describe(value)}`);
      return;
    case 'string':
      if (typeof value !== 'string') problems.push(`${path}: expected a string, got ${describe(value)}`);
      return;
    case 'number':
      if (typeof value !== 'number' || !Number.isFinite(value)) problems.push(`${path}: expected a number, got ${describe(value)}`);
      return;
    case 'int':
      if (typeof value !== 'number' || !Number.isInteger(value)) problems.push(`${path}: expected an integer, got ${JSON.stringify(value)}`);
      return;
    case 'bool':
      if (typeof value !== 'boolean') problems.push(`${path}: expected true/false, got ${describe(value)}`);
      return;
    case 'literal':
      if (!shape.values.includes(value as string))
        problems.push(`${path}: expected one of ${shape.values.map((v) => JSON.stringify(v)).join(', ')}, got ${JSON.stringify(value)}`);
      return;
    case 'array':
      if (!Array.isArray(value)) {
        problems.push(`${path}: expected a list, got ${describe(value)}`);
        return;
      }
      value.forEach((v, i) => check(v, shape.of, `${path}[${i}]`, problems));
      return;
    case 'map':
      if (value === null || typeof value !== 'object' || Array.isArray(value)) {
        problems.push(`${path}: expected a mapping, got ${describe(value)}`);
        return;
      }
      for (const [k, v] of Object.entries(value)) check(v, shape.of, `${path}.${k}`, problems);
      return;
    case 'union': {
      for (const alt of shape.of) {
        const p: string[] = [];
        check(value, alt, path, p);
        if (p.length === 0) return;
      }
      // Report the alternative that came closest (fewest problems).
      let best: string[] | undefined;
      for (const alt of shape.of) {
        const p: string[] = [];
        check(value, alt, path, p);
        if (!best || p.length < best.length) best = p;
      }
      problems.push(...(best ?? [`${path}: matches no alternative`]));
      return;
    }
    case 'object': {
      if (value === null || typeof value !== 'object' || Array.isArray(value)) {
        problems.push(`${path}: expected a mapping, got ${describe(value)}`);
        return;
      }
      const obj = value as Record<string, unknown>;
      for (const [k, prop] of Object.entries(shape.props)) {
        if (obj[k] === undefined) {
          if (prop.required) problems.push(`${path}.${k}: required`);
          continue;
        }
        check(obj[k], prop.shape, `${path}.${k}`, problems);
      }
      if (!shape.open) {
        for (const k of Object.keys(obj)) if (!(k in shape.props)) problems.push(`${path}.${k}: unknown key (Grafana would ignore it silently)`);
      }
      return;
    }
  }
}

export function validate(value: unknown, shape: Shape, path = '$'): string[] {
  const problems: string[] = [];
  check(value, shape, path, problems);
  return problems;
}
