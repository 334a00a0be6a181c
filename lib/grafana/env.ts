/**
 * Environment interpolation of Grafana provisioning values, as Grafana does it, so tests can check
 * what a provisioned datasource or contact point receives for a given environment.
 *
 * Mirrors grafana `pkg/services/provisioning/values/values.go` `interpolateValue`: the value is split
 * on `$$` (a literal `$`), each part goes through `setting.ExpandVar` (regex `\$(|__\w+){([^}]+)}`:
 * `${VAR}` and `$__env{VAR}` read the environment, `$__file{path}` reads a file) and then Go's
 * `os.ExpandEnv` (`$VAR`, `${VAR}`; unset is empty), and the parts are joined with `$`.
 *
 * Which fields are interpolated matters (values.go types): datasource fields, contact point settings
 * and notification policies are; alert rule query models and annotations are NOT (rules_types.go
 * reads `.Raw` for both, so `$__timeFilter` and `{{ $values.B }}` survive). Labels are interpolated.
 */

export type Env = Readonly<Record<string, string | undefined>>;

export class EnvInterpolationError extends Error {
  override readonly name = 'EnvInterpolationError';
}

const EXPANDER_REGEX = /\$(|__\w+){([^}]+)}/g;

/** Go's os.Expand shell-name rules (src/os/env.go). */
function isShellSpecialVar(c: string): boolean {
  return '*#$@!?-0123456789'.includes(c);
}
function isAlphaNum(c: string): boolean {
  return /^[A-Za-z0-9_]$/.test(c);
}
function getShellName(s: string): { name: string; width: number } {
  if (s[0] === '{') {
    if (s.length > 2 && isShellSpecialVar(s[1]!) && s[2] === '}') return { name: s[1]!, width: 3 };
    for (let i = 1; i < s.length; i++) {
      if (s[i] === '}') {
        if (i === 1) return { name: '', width: 2 }; // bad syntax; eat "${}"
        return { name: s.slice(1, i), width: i + 1 };
      }
    }
    return { name: '', width: 1 }; // bad syntax; eat "${"
  }
  if (isShellSpecialVar(s[0]!)) return { name: s[0]!, width: 1 };
  let i = 0;
  while (i < s.length && isAlphaNum(s[i]!)) i++;
  return { name: s.slice(0, i), width: i };
}

/** Go os.ExpandEnv. */
export function goExpandEnv(s: string, env: Env): string {
  let buf: string | null = null;
  let i = 0;
  for (let j = 0; j < s.length; j++) {
    if (s[j] === '$' && j + 1 < s.length) {
      buf ??= '';
      buf += s.slice(i, j);
      const { name, width } = getShellName(s.slice(j + 1));
      if (name === '' && width > 0) {
        // invalid syntax: the characters are eaten
      } else if (name === '') {
        buf += s[j]; // `$` not followed by a name: kept
      } else {
        buf += env[name] ?? '';
      }
      j += width;
      i = j + 1;
    }
  }
  if (buf === null) return s;
  return buf + s.slice(i);
}

function expandVar(s: string, env: Env): string {
  let out = s;
  for (const m of s.matchAll(EXPANDER_REGEX)) {
    const kind = m[1]!;
    const arg = m[2]!;
    if (kind === '' || kind === '__env') out = out.replace(m[0], () => env[arg] ?? '');
    else if (kind === '__file' || kind === '__vault')
      throw new EnvInterpolationError(`${m[0]}: driftwatch provisioning does not use the ${kind.slice(2)} expander`);
  }
  return out;
}

/** values.interpolateValue: the value Grafana uses for an interpolated provisioning field. */
export function interpolateValue(value: string, env: Env): string {
  return value
    .split('$$')
    .map((part) => goExpandEnv(expandVar(part, env), env))
    .join('$');
}

/** values.transformInterface: interpolates every string inside a YAML value (maps, lists). */
export function interpolateDeep(value: unknown, env: Env): unknown {
  if (typeof value === 'string') return interpolateValue(value, env);
  if (Array.isArray(value)) return value.map((v) => interpolateDeep(v, env));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value as Record<string, unknown>).map(([k, v]) => [k, interpolateDeep(v, env)]));
  }
  return value;
}

/** Environment variable names a provisioning value reads (`$X`, `${X}`, `$__env{X}`). */
export function envVarsReferenced(value: unknown): string[] {
  const names = new Set<string>();
  const visit = (v: unknown): void => {
    if (typeof v === 'string') {
      for (const part of v.split('$$')) {
        for (const m of part.matchAll(EXPANDER_REGEX)) if (m[1] === '' || m[1] === '__env') names.add(m[2]!);
        for (const m of part.replace(EXPANDER_REGEX, '').matchAll(/\$([A-Za-z_][A-Za-z0-9_]*)/g)) names.add(m[1]!);
      }
    } else if (Array.isArray(v)) v.forEach(visit);
    else if (v !== null && typeof v === 'object') Object.values(v as Record<string, unknown>).forEach(visit);
  };
  visit(value);
  return [...names].sort();
}
