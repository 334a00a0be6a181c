/**
 * The ClickHouse datasource plugin's SQL macros, expanded exactly as the plugin's backend does, so
 * every panel and alert query can be run against ClickHouse without a Grafana server.
 *
 * Two upstream pieces are mirrored:
 * - The macro engine: grafana-plugin-sdk-go `data/sqlutil/macros.go` `Interpolate` (pinned at
 *   https://github.com/grafana/grafana-plugin-sdk-go/blob/d44c37a1573fe36ea6e4909daa64dac24fa28fd3/data/sqlutil/macros.go
 *   and its successor with `parseArgs`): the SDK's default macros are merged with the plugin's
 *   (the plugin wins), names are applied longest first, a macro is `\$__name\b` optionally followed
 *   *immediately* by a bracketed argument list split on top-level commas, and every occurrence of a
 *   matched text is replaced at once (strings.ReplaceAll).
 * - The plugin's macro table: grafana/clickhouse-datasource `pkg/macros/macros.go` (pinned at
 *   https://github.com/grafana/clickhouse-datasource/blob/4304e52e020c0e47ea0f6e9e2abf65c83aee05ab/pkg/macros/macros.go).
 *
 * Odd upstream behaviour kept on purpose: `$__timeInterval` truncates the interval to whole seconds
 * (min 1); `$__dateFilter` formats the range in the time's location (Grafana passes UTC);
 * `$__timeFilter` has second precision, so a DateTime64 column is compared to `toDateTime(s)`.
 * The SDK defaults `$__timeFrom`, `$__timeTo` and `$__timeGroup` differ between plugin versions
 * (RFC 3339 strings vs toDateTime; datepart() vs toStartOfInterval), so driftwatch's queries must
 * not use them: `STABLE_MACROS` lists the ones whose expansion is the same in every release.
 */

export interface MacroQuery {
  /** Query range, unix milliseconds (Grafana's backend.TimeRange). */
  readonly fromMs: number;
  readonly toMs: number;
  /** The query interval (backend.DataQuery.Interval), milliseconds. */
  readonly intervalMs: number;
  /** sqlds `$__table` / `$__column` (unused by driftwatch; empty in Grafana unless set). */
  readonly table?: string;
  readonly column?: string;
}

export class MacroError extends Error {
  override readonly name = 'MacroError';
}

type MacroFunc = (q: MacroQuery, args: readonly string[]) => string;

function unixSeconds(ms: number): number {
  // Go time.Unix() floors towards negative infinity for pre-1970 instants; Math.floor does the same.
  return Math.floor(ms / 1000);
}
const toDateTime = (ms: number) => `toDateTime(${unixSeconds(ms)})`;
const toDateTime64 = (ms: number) => `fromUnixTimestamp64Milli(${Math.trunc(ms)})`;
const toDate = (ms: number) => `toDate('${new Date(ms).toISOString().slice(0, 10)}')`;
/** RFC 3339 in UTC as Go's time.RFC3339 prints it (no fractional seconds). */
const rfc3339 = (ms: number) => new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');

function expectArgs(name: string, args: readonly string[], n: number): void {
  if (args.length !== n) {
    // sqlutil.ErrorBadArgumentCount: "unexpected number of arguments: expected N argument(s), received M"
    throw new MacroError(`$__${name}: unexpected number of arguments: expected ${n} argument${n === 1 ? '' : 's'}, received ${args.length}`);
  }
}

/** gtime.FormatInterval (grafana-plugin-sdk-go backend/gtime). */
export function formatInterval(ms: number): string {
  const s = 1000,
    m = 60 * s,
    h = 60 * m,
    d = 24 * h,
    y = 365 * d;
  if (ms >= y) return `${Math.trunc(ms / y)}y`;
  if (ms >= d) return `${Math.trunc(ms / d)}d`;
  if (ms >= h) return `${Math.trunc(ms / h)}h`;
  if (ms >= m) return `${Math.trunc(ms / m)}m`;
  if (ms >= s) return `${Math.trunc(ms / s)}s`;
  if (ms >= 1) return `${Math.trunc(ms)}ms`;
  return '1ms';
}

/** sqlutil.DefaultMacros (SDK). The plugin overrides `timeFilter`. */
const SDK_DEFAULT_MACROS: Readonly<Record<string, MacroFunc>> = {
  interval: (q) => formatInterval(q.intervalMs),
  interval_ms: (q) => String(Math.trunc(q.intervalMs)),
  timeFilter: (q, args) => {
    expectArgs('timeFilter', args, 1);
    return `${args[0]} >= '${rfc3339(q.fromMs)}' AND ${args[0]} <= '${rfc3339(q.toMs)}'`;
  },
  timeFrom: (q, args) => {
    expectArgs('timeFrom', args, 1);
    return `${args[0]} >= '${rfc3339(q.fromMs)}'`;
  },
  timeTo: (q, args) => {
    expectArgs('timeTo', args, 1);
    return `${args[0]} <= '${rfc3339(q.toMs)}'`;
  },
  timeGroup: (_q, args) => {
    expectArgs('timeGroup', args, 2);
    const col = args[0];
    const parts: Record<string, string[]> = {
      minute: ['minute', 'hour', 'day', 'month', 'year'],
      hour: ['hour', 'day', 'month', 'year'],
      day: ['day', 'month', 'year'],
      month: ['month', 'year'],
      year: ['year'],
    };
    const list = parts[args[1] ?? ''] ?? [];
    return list.map((p, i) => `datepart(${p}, ${col})${i < list.length - 1 ? ',' : ''}`).join('');
  },
  table: (q) => q.table ?? '',
  column: (q) => q.column ?? '',
};

/** clickhouse-datasource `macros.Macros`. */
const PLUGIN_MACROS: Readonly<Record<string, MacroFunc>> = {
  fromTime: (q) => toDateTime(q.fromMs),
  toTime: (q) => toDateTime(q.toMs),
  fromTime_ms: (q) => toDateTime64(q.fromMs),
  toTime_ms: (q) => toDateTime64(q.toMs),
  timeFilter: (q, args) => {
    expectArgs('timeFilter', args, 1);
    return `${args[0]} >= ${toDateTime(q.fromMs)} AND ${args[0]} <= ${toDateTime(q.toMs)}`;
  },
  timeFilter_ms: (q, args) => {
    expectArgs('timeFilter_ms', args, 1);
    return `${args[0]} >= ${toDateTime64(q.fromMs)} AND ${args[0]} <= ${toDateTime64(q.toMs)}`;
  },
  dateFilter: (q, args) => {
    expectArgs('dateFilter', args, 1);
    return `${args[0]} >= ${toDate(q.fromMs)} AND ${args[0]} <= ${toDate(q.toMs)}`;
  },
  dateTimeFilter: dateTimeFilter,
  dt: dateTimeFilter,
  // math.Max(query.Interval.Seconds(), 1) then int(): fractional seconds are truncated.
  timeInterval: (q, args) => {
    expectArgs('timeInterval', args, 1);
    return `toStartOfInterval(toDateTime(${args[0]}), INTERVAL ${Math.trunc(Math.max(q.intervalMs / 1000, 1))} second)`;
  },
  timeInterval_ms: (q, args) => {
    expectArgs('timeInterval_ms', args, 1);
    return `toStartOfInterval(toDateTime64(${args[0]}, 3), INTERVAL ${Math.trunc(Math.max(q.intervalMs, 1))} millisecond)`;
  },
  interval_s: (q) => String(Math.trunc(Math.max(q.intervalMs / 1000, 1))),
};

function dateTimeFilter(q: MacroQuery, args: readonly string[]): string {
  expectArgs('dateTimeFilter', args, 2);
  const [d, t] = args;
  return `(${d} >= ${toDate(q.fromMs)} AND ${d} <= ${toDate(q.toMs)}) AND (${t} >= ${toDateTime(q.fromMs)} AND ${t} <= ${toDateTime(q.toMs)})`;
}

/** The merged table the plugin runs with: SDK defaults, overridden by the plugin's macros. */
export const MACROS: Readonly<Record<string, MacroFunc>> = Object.freeze({ ...SDK_DEFAULT_MACROS, ...PLUGIN_MACROS });

/** Macros whose expansion is identical across clickhouse-datasource v4 releases; queries use only these. */
export const STABLE_MACROS: readonly string[] = [
  'fromTime',
  'toTime',
  'fromTime_ms',
  'toTime_ms',
  'timeFilter',
  'timeFilter_ms',
  'dateFilter',
  'timeInterval',
  'timeInterval_ms',
  'interval_s',
];

/**
 * sqlutil `parseArgs`: an argument list only when `(` follows the name immediately; arguments split
 * on commas at bracket depth 1 and trimmed. Returns the args and the length consumed, or length -1
 * for an unclosed bracket.
 */
function parseArgs(rest: string): { args: string[]; length: number } {
  if (!rest.startsWith('(')) return { args: [], length: 0 };
  const args: string[] = [];
  let depth = 0;
  let arg = '';
  // Iterate by code point like Go's `range` over a string; indices are UTF-16 here, which is what
  // String.slice needs.
  for (let i = 0; i < rest.length; i++) {
    const c = rest[i]!;
    if (c === '(') {
      depth++;
      if (depth === 1) continue;
    } else if (c === ')') {
      depth--;
      if (depth === 0) {
        args.push(arg.trim());
        return { args, length: i + 1 };
      }
    } else if (c === ',' && depth === 1) {
      args.push(arg.trim());
      arg = '';
      continue;
    }
    arg += c;
  }
  return { args: [], length: -1 };
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Names of the `$__name` macros a query uses (known or not), in order of appearance. */
export function macrosUsed(sql: string): string[] {
  return [...sql.matchAll(/\$__([A-Za-z0-9_]+)/g)].map((m) => m[1]!);
}

/**
 * Expands the macros of `rawSql` as the plugin's backend does. Unknown `$__x` names are left as they
 * are (ClickHouse then rejects the query, as it would in Grafana).
 */
export function expandMacros(rawSql: string, q: MacroQuery, macros: Readonly<Record<string, MacroFunc>> = MACROS): string {
  // Longest names first so that a shorter name never eats a longer one's text (sort.Slice by len).
  const names = Object.keys(macros).sort((a, b) => b.length - a.length || a.localeCompare(b));
  let sql = rawSql;
  for (const name of names) {
    const rx = new RegExp(`\\$__${escapeRegExp(name)}\\b`, 'g');
    const matches: { full: string; args: string[] }[] = [];
    for (const m of sql.matchAll(rx)) {
      const end = m.index + m[0].length;
      const { args, length } = parseArgs(sql.slice(end));
      if (length < 0) throw new MacroError(`failed to parse macro arguments (missing close bracket?) in $__${name}`);
      matches.push({ full: sql.slice(m.index, end + length), args });
    }
    for (const match of matches) {
      const res = macros[name]!(q, match.args);
      sql = sql.split(match.full).join(res);
    }
  }
  return sql;
}
