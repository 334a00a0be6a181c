/**
 * Dashboard template variables, interpolated the way Grafana's frontend does before a panel query
 * reaches the ClickHouse plugin's backend (where `expandMacros` then runs).
 *
 * Mirrors:
 * - `TemplateSrv.replace` (grafana `public/app/features/templating/template_srv.ts`): the variable
 *   regex `\$(\w+)|\[\[(\w+?)(?::(\w+))?\]\]|\${(\w+)(?:\.([^:^\}]+))?(?::([^\}]+))?}`, unknown names
 *   left untouched (so `$__timeFilter` survives for the backend), "All" expanded to every option
 *   value unless the variable has a custom `allValue`, which is inserted unformatted.
 * - The ClickHouse datasource's format function (clickhouse-datasource `src/data/CHDatasource.ts`,
 *   `format(value)`): an array becomes `'a','b'`; a single value is inserted as is, without quotes.
 *   Hence queries write `= '${model}'` for a single-value variable and `IN (${version})` for a
 *   multi-value one.
 * - `$__conditionalAll(condition, $var)` (CHDatasource.applyConditionalAll): replaced by `1=1` when
 *   the variable is All or empty, else by the condition.
 * Only the format ids driftwatch may need (`raw`, `singlequote`, `csv`, `sqlstring`) are supported;
 * any other explicit format is an error rather than a silent guess.
 */

export const ALL_VALUE = '$__all';

export interface VariableState {
  readonly name: string;
  readonly multi: boolean;
  readonly includeAll: boolean;
  readonly allValue?: string;
  /** Option values as the variable query returned them (without the All option). */
  readonly options: readonly string[];
  /** Current selection: `$__all`, a value, or values for a multi variable. */
  readonly current: string | readonly string[];
}

export class TemplateError extends Error {
  override readonly name = 'TemplateError';
}

const VARIABLE_REGEX = /\$(\w+)|\[\[(\w+?)(?::(\w+))?\]\]|\${(\w+)(?:\.([^:^}]+))?(?::([^}]+))?}/g;

function isAll(v: VariableState): boolean {
  return v.current === ALL_VALUE || (Array.isArray(v.current) && v.current.includes(ALL_VALUE));
}

/** The datasource's format function: arrays become a quoted list, scalars pass through. */
function clickhouseFormat(value: string | readonly string[]): string {
  if (Array.isArray(value)) return `'${value.join("','")}'`;
  return value as string;
}

const sqlQuote = (s: string) => `'${s.replace(/'/g, "''")}'`;

function formatWith(fmt: string | undefined, value: string | readonly string[]): string {
  if (fmt === undefined) return clickhouseFormat(value);
  const list = Array.isArray(value) ? (value as readonly string[]) : [value as string];
  switch (fmt) {
    case 'raw':
      return Array.isArray(value) ? list.join(',') : (value as string);
    case 'csv':
      return list.join(',');
    case 'singlequote':
      return list.map((v) => `'${v.replace(/'/g, "\\'")}'`).join(',');
    case 'sqlstring':
      return list.map(sqlQuote).join(',');
    default:
      throw new TemplateError(`variable format '${fmt}' is not supported by driftwatch's interpolation`);
  }
}

/** Built-in variables a panel query runner passes as scoped vars (`$__interval`, `$__from`...). */
export interface BuiltinVars {
  readonly fromMs: number;
  readonly toMs: number;
  readonly intervalMs: number;
  readonly interval: string;
}

function applyConditionalAll(sql: string, vars: ReadonlyMap<string, VariableState>): string {
  const macro = '$__conditionalAll(';
  let idx = sql.lastIndexOf(macro);
  while (idx !== -1) {
    // getMacroArgs: scan from the '(' for top-level commas and the closing bracket.
    const start = idx + macro.length - 1;
    let depth = 0;
    let last = 1;
    const args: string[] = [];
    const sub = sql.slice(start);
    let end = -1;
    for (let i = 0; i < sub.length; i++) {
      const c = sub[i];
      if (c === '(') depth++;
      else if (c === ')') depth--;
      if (c === ',' && depth === 1) {
        args.push(sub.slice(last, i));
        last = i + 1;
      }
      if ((c === '(' || c === ')' || c === ',') && depth === 0) {
        args.push(sub.slice(last, i));
        end = i;
        break;
      }
    }
    if (end < 0 || args.length !== 2) return sql;
    const name = args[1]!.trim().slice(1);
    const v = vars.get(name);
    const value = v === undefined ? '' : Array.isArray(v.current) ? v.current.join(',') : String(v.current);
    const phrase = value === '' || value === ALL_VALUE ? '1=1' : args[0]!;
    sql = sql.replace(`${macro}${args[0]},${args[1]})`, phrase);
    idx = sql.lastIndexOf(macro);
  }
  return sql;
}

/**
 * Interpolates dashboard variables into a panel's rawSql as the Grafana frontend + ClickHouse
 * datasource do (`applyTemplateVariables`).
 */
export function interpolateVariables(rawSql: string, variables: readonly VariableState[], builtins?: BuiltinVars): string {
  const byName = new Map(variables.map((v) => [v.name, v]));
  const withConditional = applyConditionalAll(rawSql, byName);
  const scoped: Record<string, string> = builtins
    ? {
        __from: String(Math.trunc(builtins.fromMs)),
        __to: String(Math.trunc(builtins.toMs)),
        __interval: builtins.interval,
        __interval_ms: String(Math.trunc(builtins.intervalMs)),
      }
    : {};
  return withConditional.replace(VARIABLE_REGEX, (match, var1?: string, var2?: string, fmt2?: string, var3?: string, fieldPath?: string, fmt3?: string) => {
    const name = (var1 ?? var2 ?? var3)!;
    const fmt = fmt2 ?? fmt3;
    if (name in scoped) return formatWith(fmt, scoped[name]!);
    const v = byName.get(name);
    if (!v) return match;
    if (fieldPath) throw new TemplateError(`field paths (\${${name}.${fieldPath}}) are not supported`);
    if (isAll(v)) {
      if (v.allValue !== undefined && v.allValue !== '') return v.allValue;
      return formatWith(fmt, v.options);
    }
    return formatWith(fmt, v.current);
  });
}

/** Names of the dashboard variables a query references (`$x`, `${x}`, `[[x]]`). */
export function variablesUsed(sql: string): string[] {
  const out: string[] = [];
  for (const m of sql.matchAll(VARIABLE_REGEX)) {
    const name = m[1] ?? m[2] ?? m[4];
    if (name && !name.startsWith('__')) out.push(name);
  }
  return out;
}
