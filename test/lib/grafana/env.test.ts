import { describe, expect, it } from 'vitest';
import { envVarsReferenced, EnvInterpolationError, goExpandEnv, interpolateDeep, interpolateValue } from '../../../lib/grafana/env.js';

const env = { HOST: 'clickhouse', PORT: '8123', EMPTY: '', DOLLAR: 'a$HOST' };

describe('interpolateValue (grafana provisioning values.interpolateValue)', () => {
  it('expands ${VAR}, $VAR and $__env{VAR}', () => {
    expect(interpolateValue('${HOST}:${PORT}', env)).toBe('clickhouse:8123');
    expect(interpolateValue('$HOST:$PORT', env)).toBe('clickhouse:8123');
    expect(interpolateValue('$__env{HOST}', env)).toBe('clickhouse');
  });

  it('gives an empty string for an unset variable, like os.ExpandEnv', () => {
    expect(interpolateValue('x${MISSING}y', env)).toBe('xy');
  });

  it('keeps $$ as a literal $', () => {
    expect(interpolateValue('cost $$5 on $HOST', env)).toBe('cost $5 on clickhouse');
  });

  it('expands again what an expander inserted (ExpandVar then os.ExpandEnv)', () => {
    expect(interpolateValue('${DOLLAR}', env)).toBe('aclickhouse');
  });

  it('mangles Go-template variables, which is why annotations are not interpolated', () => {
    expect(interpolateValue('{{ $labels.model }}', env)).toBe('{{ .model }}');
  });

  it('refuses the file and vault expanders driftwatch does not use', () => {
    expect(() => interpolateValue('$__file{/etc/secret}', env)).toThrow(EnvInterpolationError);
  });

  it('follows Go os.Expand edge cases', () => {
    expect(goExpandEnv('a$', env)).toBe('a$');
    expect(goExpandEnv('${}x', env)).toBe('x');
    expect(goExpandEnv('$ x', env)).toBe('$ x');
    expect(goExpandEnv('$1', { '1': 'one' })).toBe('one');
  });

  it('interpolates nested maps and lists, leaving numbers alone', () => {
    expect(interpolateDeep({ a: ['$HOST', 1], b: { c: '${PORT}' } }, env)).toEqual({ a: ['clickhouse', 1], b: { c: '8123' } });
  });

  it('lists the variables a value reads', () => {
    expect(envVarsReferenced({ url: '${A}/$B/$__env{C}', n: 1, x: ['$$D'] })).toEqual(['A', 'B', 'C']);
  });
});
