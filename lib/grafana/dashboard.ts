/**
 * Dashboard JSON checked as Grafana would load it.
 *
 * Structure: the shapes below are the @grafana/schema 12.2.0 types (`Dashboard`, `Panel`,
 * `RowPanel`, `GridPos`, `VariableModel`, `DashboardLink`, `FieldConfigSource`...) written as data.
 * `satisfies Props<T>` makes the compiler prove that each shape lists exactly the keys of the type
 * and marks exactly its required keys as required, so the runtime check cannot drift from the
 * published types. Panel `options` and `fieldConfig.defaults.custom` are typed per panel plugin in
 * dashboards/src (compile time); here they are only required to be objects.
 *
 * Semantics Grafana enforces or silently mishandles: uid rules (util.ValidateUID), unique panel ids,
 * a 24-column grid without overlaps, known datasource uids, unique refIds, and for ClickHouse
 * targets a non-empty rawSql, a sqlds format, only the stable macros (macros.ts) and only variables
 * the dashboard defines.
 */
import type {
  Dashboard,
  DashboardLink,
  DataSourceRef,
  FieldConfig,
  GridPos,
  Panel,
  RowPanel,
  ThresholdsConfig,
  VariableModel,
  VariableOption,
} from '@grafana/schema';
import { macrosUsed, STABLE_MACROS } from './macros.js';
import { type Prop, S, type Shape, validate } from './shape.js';
import { variablesUsed } from './template.js';
import { uidProblem } from './provisioning.js';

type RequiredKeys<T> = { [K in keyof T]-?: object extends Pick<T, K> ? never : K }[keyof T] & string;
/** Every key of T, required exactly when T requires it. */
type Props<T> = { [K in keyof Required<T> & string]: K extends RequiredKeys<T> ? Prop & { required: true } : Prop & { required?: undefined } };

const req = (shape: Shape) => ({ shape, required: true as const });
const opt = (shape: Shape) => ({ shape });
const obj = (props: Record<string, Prop>, open = false): Shape => ({ kind: 'object', props, open });

export const CLICKHOUSE_PLUGIN_ID = 'grafana-clickhouse-datasource';

const DATASOURCE_REF = obj({ apiVersion: opt(S.string), type: opt(S.string), uid: opt(S.string) } satisfies Props<DataSourceRef>);
const GRID_POS = obj({ h: req(S.int), w: req(S.int), x: req(S.int), y: req(S.int), static: opt(S.bool) } satisfies Props<GridPos>);
const DASHBOARD_LINK = obj({
  asDropdown: req(S.bool),
  icon: req(S.string),
  includeVars: req(S.bool),
  keepTime: req(S.bool),
  tags: req(S.array(S.string)),
  targetBlank: req(S.bool),
  title: req(S.string),
  tooltip: req(S.string),
  type: req(S.literal('link', 'dashboards')),
  url: opt(S.string),
} satisfies Props<DashboardLink>);
const THRESHOLDS = obj({
  mode: req(S.literal('absolute', 'percentage')),
  steps: req(S.array(S.object({ color: S.req(S.string), value: S.req(S.union(S.number, S.null)) }))),
} satisfies Props<ThresholdsConfig>);
const VALUE_MAPPING = S.object({ type: S.req(S.literal('value', 'range', 'regex', 'special')), options: S.req(S.map(S.any)) });
const FIELD_CONFIG = obj({
  color: opt(S.object({ mode: S.req(S.string), fixedColor: S.string, seriesBy: S.literal('min', 'max', 'last') })),
  custom: opt(S.map(S.any)),
  decimals: opt(S.number),
  description: opt(S.string),
  displayName: opt(S.string),
  displayNameFromDS: opt(S.string),
  filterable: opt(S.bool),
  links: opt(S.array(S.any)),
  mappings: opt(S.array(VALUE_MAPPING)),
  max: opt(S.number),
  min: opt(S.number),
  noValue: opt(S.string),
  path: opt(S.string),
  thresholds: opt(THRESHOLDS),
  unit: opt(S.string),
  writeable: opt(S.bool),
} satisfies Props<FieldConfig>);
const FIELD_CONFIG_SOURCE = S.object({
  defaults: S.req(FIELD_CONFIG),
  overrides: S.req(
    S.array(
      S.object({
        matcher: S.req(S.object({ id: S.req(S.string), options: S.any })),
        properties: S.req(S.array(S.object({ id: S.req(S.string), value: S.any }))),
      }),
    ),
  ),
});
const TRANSFORMATION = S.object({
  id: S.req(S.string),
  options: S.req(S.any),
  disabled: S.bool,
  filter: S.object({ id: S.req(S.string), options: S.any }),
  topic: S.literal('series', 'annotations', 'alertStates'),
});

/** The ClickHouse plugin's SQL query model (CHSqlQuery in src/types/sql.ts) plus DataQuery. */
export const CLICKHOUSE_TARGET = S.object({
  refId: S.req(S.string),
  datasource: S.req(DATASOURCE_REF),
  hide: S.bool,
  queryType: S.literal('table', 'timeseries', 'logs', 'traces'),
  pluginVersion: S.string,
  editorType: S.req(S.literal('sql')),
  rawSql: S.req(S.string),
  format: S.req(S.literal(0, 1)),
  meta: S.map(S.any),
  expand: S.bool,
});

const PANEL_PROPS = {
  cacheTimeout: opt(S.string),
  datasource: opt(DATASOURCE_REF),
  description: opt(S.string),
  fieldConfig: opt(FIELD_CONFIG_SOURCE),
  gridPos: opt(GRID_POS),
  hideTimeOverride: opt(S.bool),
  id: opt(S.int),
  interval: opt(S.string),
  libraryPanel: opt(S.object({ name: S.req(S.string), uid: S.req(S.string) })),
  links: opt(S.array(DASHBOARD_LINK)),
  maxDataPoints: opt(S.int),
  maxPerRow: opt(S.int),
  options: opt(S.map(S.any)),
  pluginVersion: opt(S.string),
  queryCachingTTL: opt(S.int),
  repeat: opt(S.string),
  repeatDirection: opt(S.literal('h', 'v')),
  targets: opt(S.array(CLICKHOUSE_TARGET)),
  timeFrom: opt(S.string),
  timeShift: opt(S.string),
  title: opt(S.string),
  transformations: opt(S.array(TRANSFORMATION)),
  transparent: opt(S.bool),
  type: req(S.string),
} satisfies Props<Panel>;
const PANEL = obj(PANEL_PROPS);
const ROW_PANEL = obj({
  collapsed: req(S.bool),
  datasource: opt(DATASOURCE_REF),
  gridPos: opt(GRID_POS),
  id: req(S.int),
  panels: req(S.array(PANEL)),
  repeat: opt(S.string),
  title: opt(S.string),
  type: req(S.literal('row')),
} satisfies Props<RowPanel>);

const VARIABLE_OPTION = obj({
  selected: opt(S.bool),
  text: req(S.union(S.string, S.array(S.string))),
  value: req(S.union(S.string, S.array(S.string))),
} satisfies Props<VariableOption>);
const VARIABLE = obj({
  allValue: opt(S.string),
  allowCustomValue: opt(S.bool),
  current: opt(VARIABLE_OPTION),
  datasource: opt(S.union(DATASOURCE_REF, S.null)),
  description: opt(S.string),
  hide: opt(S.literal(0, 1, 2, 3)),
  includeAll: opt(S.bool),
  label: opt(S.string),
  multi: opt(S.bool),
  name: req(S.string),
  options: opt(S.array(VARIABLE_OPTION)),
  // A ClickHouse variable query: the CHVariableQuery object (refId, queryType 'sql', rawSql).
  query: opt(
    S.union(S.string, S.object({ refId: S.req(S.string), queryType: S.req(S.literal('sql')), editorType: S.literal('sql'), rawSql: S.req(S.string) })),
  ),
  refresh: opt(S.literal(0, 1, 2)),
  regex: opt(S.string),
  skipUrlSync: opt(S.bool),
  sort: opt(S.literal(0, 1, 2, 3, 4, 5, 6, 7, 8)),
  staticOptions: opt(S.array(VARIABLE_OPTION)),
  staticOptionsOrder: opt(S.literal('before', 'after', 'sorted')),
  type: req(S.literal('query', 'adhoc', 'groupby', 'constant', 'datasource', 'interval', 'textbox', 'custom', 'system', 'snapshot')),
} satisfies Props<VariableModel>);

const ANNOTATION = S.object({
  builtIn: S.int,
  datasource: S.union(DATASOURCE_REF, S.null),
  enable: S.req(S.bool),
  filter: S.object({ exclude: S.bool, ids: S.req(S.array(S.int)) }),
  hide: S.bool,
  iconColor: S.req(S.string),
  name: S.req(S.string),
  target: S.map(S.any),
  type: S.string,
  snapshotData: S.any,
});

export const DASHBOARD_SHAPE: Shape = obj({
  annotations: opt(S.object({ list: S.array(ANNOTATION) })),
  description: opt(S.string),
  editable: opt(S.bool),
  fiscalYearStartMonth: opt(S.int),
  gnetId: opt(S.string),
  graphTooltip: opt(S.literal(0, 1, 2)),
  id: opt(S.union(S.int, S.null)),
  links: opt(S.array(DASHBOARD_LINK)),
  liveNow: opt(S.bool),
  panels: opt(S.array(S.union(ROW_PANEL, PANEL))),
  preload: opt(S.bool),
  refresh: opt(S.string),
  revision: opt(S.int),
  schemaVersion: req(S.int),
  snapshot: opt(S.map(S.any)),
  tags: opt(S.array(S.string)),
  templating: opt(S.object({ list: S.array(VARIABLE) })),
  time: opt(S.object({ from: S.req(S.string), to: S.req(S.string) })),
  timepicker: opt(
    S.object({
      hidden: S.bool,
      nowDelay: S.string,
      quick_ranges: S.array(S.object({ display: S.req(S.string), from: S.req(S.string), to: S.req(S.string) })),
      refresh_intervals: S.array(S.string),
    }),
  ),
  timezone: opt(S.string),
  title: opt(S.string),
  uid: opt(S.string),
  version: opt(S.int),
  weekStart: opt(S.string),
} satisfies Props<Dashboard>);

/** Core panel plugins of Grafana 12 that driftwatch may use. */
export const KNOWN_PANEL_TYPES = [
  'timeseries',
  'stat',
  'gauge',
  'bargauge',
  'table',
  'text',
  'heatmap',
  'barchart',
  'state-timeline',
  'status-history',
  'piechart',
  'histogram',
  'row',
] as const;

export interface DashboardContext {
  readonly datasourceUids: ReadonlySet<string>;
  readonly dashboardUids: ReadonlySet<string>;
  readonly dashboardTags: ReadonlySet<string>;
}

/** Panels including those nested in collapsed rows. */
export function allPanels(d: Dashboard): Panel[] {
  const out: Panel[] = [];
  for (const p of d.panels ?? []) {
    if (p.type === 'row') out.push(...((p as RowPanel).panels ?? []));
    else out.push(p as Panel);
  }
  return out;
}

/** Every problem Grafana would have (or would hide) with this dashboard. */
export function dashboardProblems(dash: unknown, ctx: DashboardContext, name = 'dashboard'): string[] {
  const problems = validate(dash, DASHBOARD_SHAPE, name);
  if (problems.length) return problems;
  const d = dash as Dashboard;
  if (!d.title) problems.push(`${name}: title is empty (ErrDashboardTitleEmpty)`);
  if (!d.uid) problems.push(`${name}: no uid; links and alert rules need a stable one`);
  else {
    const up = uidProblem(d.uid);
    if (up) problems.push(`${name}: ${up}`);
  }
  const variables = new Map((d.templating?.list ?? []).map((v) => [v.name, v]));
  if (variables.size !== (d.templating?.list ?? []).length) problems.push(`${name}: duplicate variable names`);
  for (const v of variables.values()) {
    if (v.type === 'query') {
      if (v.datasource?.uid === undefined || !ctx.datasourceUids.has(v.datasource.uid))
        problems.push(`${name}: variable ${v.name} uses datasource ${JSON.stringify(v.datasource)}, not a provisioned one`);
      const sql = typeof v.query === 'string' ? v.query : String((v.query as { rawSql?: string } | undefined)?.rawSql ?? '');
      if (!sql.trim()) problems.push(`${name}: variable ${v.name} has no query`);
      for (const m of macrosUsed(sql))
        if (!STABLE_MACROS.includes(m)) problems.push(`${name}: variable ${v.name} uses $__${m}, whose expansion differs between plugin versions`);
      for (const used of variablesUsed(sql)) if (!variables.has(used)) problems.push(`${name}: variable ${v.name} refers to undefined variable $${used}`);
    }
  }
  const ids = new Set<number>();
  const cells = new Map<string, string>();
  const top = d.panels ?? [];
  for (const p of top) {
    const title = `${name}: panel ${JSON.stringify(p.title ?? p.type)}`;
    const gp = p.gridPos;
    if (!gp) {
      problems.push(`${title}: no gridPos`);
      continue;
    }
    if (gp.w < 1 || gp.h < 1 || gp.x < 0 || gp.y < 0 || gp.x + gp.w > 24)
      problems.push(`${title}: gridPos ${JSON.stringify(gp)} is outside the 24-column grid`);
    for (let x = gp.x; x < gp.x + gp.w; x++) {
      for (let y = gp.y; y < gp.y + gp.h; y++) {
        const k = `${x},${y}`;
        if (cells.has(k)) {
          problems.push(`${title}: overlaps ${cells.get(k)} at ${k}`);
          y = gp.y + gp.h;
          x = gp.x + gp.w;
        } else cells.set(k, String(p.title ?? p.type));
      }
    }
  }
  for (const p of [...top, ...top.flatMap((r) => (r.type === 'row' ? (r as RowPanel).panels : []))]) {
    const title = `${name}: panel ${JSON.stringify(p.title ?? p.type)}`;
    if (p.id === undefined) problems.push(`${title}: no id`);
    else if (ids.has(p.id)) problems.push(`${title}: duplicate panel id ${p.id}`);
    else ids.add(p.id);
    if (!(KNOWN_PANEL_TYPES as readonly string[]).includes(p.type)) problems.push(`${title}: unknown panel type ${p.type}`);
    if (p.type === 'row' || p.type === 'text') continue;
    const panel = p as Panel;
    if (panel.datasource?.type !== CLICKHOUSE_PLUGIN_ID || !ctx.datasourceUids.has(panel.datasource.uid ?? ''))
      problems.push(`${title}: datasource ${JSON.stringify(panel.datasource)} is not a provisioned ClickHouse datasource`);
    const targets = (panel.targets ?? []) as Array<{ refId: string; rawSql: string; datasource?: DataSourceRef }>;
    if (targets.length === 0) problems.push(`${title}: no queries`);
    const refIds = new Set<string>();
    for (const t of targets) {
      if (refIds.has(t.refId)) problems.push(`${title}: duplicate refId ${t.refId}`);
      refIds.add(t.refId);
      if (t.datasource?.uid !== panel.datasource?.uid) problems.push(`${title}/${t.refId}: target datasource differs from the panel's`);
      if (!t.rawSql.trim()) problems.push(`${title}/${t.refId}: empty rawSql`);
      for (const m of macrosUsed(t.rawSql))
        if (!STABLE_MACROS.includes(m)) problems.push(`${title}/${t.refId}: $__${m} is not one of the stable macros (${STABLE_MACROS.join(', ')})`);
      for (const used of variablesUsed(t.rawSql)) if (!variables.has(used)) problems.push(`${title}/${t.refId}: refers to undefined variable $${used}`);
    }
    for (const o of panel.fieldConfig?.overrides ?? []) {
      if (o.matcher.id === 'byFrameRefID' && !refIds.has(String(o.matcher.options)))
        problems.push(`${title}: override matches refId ${String(o.matcher.options)}, which has no query`);
    }
  }
  for (const l of d.links ?? []) {
    if (l.type === 'link') {
      const m = /^\/d\/([^/?#]+)/.exec(l.url ?? '');
      if (!m) problems.push(`${name}: link ${l.title} is not a /d/<uid> dashboard link`);
      else if (!ctx.dashboardUids.has(m[1]!)) problems.push(`${name}: link ${l.title} points to unknown dashboard ${m[1]}`);
    } else if (!l.tags.some((t) => ctx.dashboardTags.has(t))) problems.push(`${name}: dashboards link ${l.title} matches no dashboard tag`);
  }
  for (const p of allPanels(d)) {
    for (const l of (p.links ?? []) as Array<{ url: string; title: string }>) {
      const m = /^\/d\/([^/?#]+)/.exec(l.url);
      if (m && !ctx.dashboardUids.has(m[1]!)) problems.push(`${name}: panel ${p.title} link ${l.title} points to unknown dashboard ${m[1]}`);
    }
    const defaults = p.fieldConfig?.defaults as { links?: Array<{ url?: string; title?: string }> } | undefined;
    for (const l of defaults?.links ?? []) {
      const m = /^\/d\/([^/?#]+)/.exec(l.url ?? '');
      if (m && !ctx.dashboardUids.has(m[1]!)) problems.push(`${name}: panel ${p.title} data link ${l.title} points to unknown dashboard ${m[1]}`);
    }
  }
  return problems;
}

/** Word-wraps `text` into at most `maxLines` lines of `width`, ending with … when it does not fit. */
function wrap(text: string, width: number, maxLines: number): string[] {
  if (width <= 0 || maxLines <= 0) return [];
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/)) {
    const candidate = line ? `${line} ${word}` : word;
    if (candidate.length <= width) line = candidate;
    else {
      if (line) lines.push(line);
      line = word.length > width ? `${word.slice(0, width - 1)}…` : word;
    }
  }
  if (line) lines.push(line);
  if (lines.length > maxLines) {
    const kept = lines.slice(0, maxLines);
    const last = kept[maxLines - 1]!;
    kept[maxLines - 1] = last.length >= width ? `${last.slice(0, width - 1)}…` : `${last}…`;
    return kept;
  }
  return lines;
}

/**
 * An ASCII picture of a dashboard's grid (24 columns, one text row per grid unit of height,
 * 3 characters per column): each panel is a box with its title.
 */
export function layoutSketch(d: Dashboard, colWidth = 3): string {
  const boxes = (d.panels ?? []).flatMap((p) => {
    const gp = p.gridPos;
    if (!gp) return [];
    return [
      {
        x: gp.x,
        y: gp.y,
        w: gp.w,
        h: p.type === 'row' ? 1 : gp.h,
        title: p.type === 'row' ? `▸ ${p.title ?? ''}` : `${p.title ?? ''} [${p.type}]`,
        row: p.type === 'row',
      },
    ];
  });
  const height = Math.max(0, ...boxes.map((b) => b.y + b.h));
  const W = 24 * colWidth + 1;
  // Each grid row is drawn as one text line; box borders sit on the box's first and last line.
  const lines = Array.from({ length: height + 1 }, () => Array.from({ length: W }, () => ' '));
  for (const b of boxes) {
    const x0 = b.x * colWidth;
    const x1 = (b.x + b.w) * colWidth;
    const y0 = b.y;
    const y1 = b.y + b.h;
    for (let x = x0; x <= x1; x++) {
      lines[y0]![x] = x === x0 || x === x1 ? '+' : '-';
      lines[y1]![x] = x === x0 || x === x1 ? '+' : '-';
    }
    for (let y = y0 + 1; y < y1; y++) {
      lines[y]![x0] = '|';
      lines[y]![x1] = '|';
    }
    const inner = x1 - x0 - 2;
    const room = b.row ? 1 : Math.max(0, y1 - y0 - 1);
    const wrapped = wrap(b.title, inner, room);
    wrapped.forEach((text, k) => {
      const ty = b.row ? y0 : y0 + 1 + k;
      for (let i = 0; i < text.length; i++) lines[ty]![x0 + 1 + i] = text[i]!;
    });
  }
  return lines.map((l) => l.join('').trimEnd()).join('\n');
}
