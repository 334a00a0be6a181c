/**
 * Building blocks for driftwatch's dashboards. Dashboards are written in TypeScript against the
 * @grafana/schema 12.2.0 types (the Grafana version docker-compose runs), so `tsc` checks every panel
 * option; `dashboards/build.ts` writes them to dashboards/json/<uid>.json, which Grafana provisions.
 *
 * Each query also declares the columns its panel relies on (`columns`); the integration tests run
 * the query against ClickHouse and check the result has them (test/integration/grafana).
 */
import {
  BigValueColorMode,
  BigValueGraphMode,
  BigValueJustifyMode,
  BigValueTextMode,
  DashboardCursorSync,
  FieldColorModeId,
  GraphDrawStyle,
  GraphGradientMode,
  GraphThresholdsStyleMode,
  LegendDisplayMode,
  LineInterpolation,
  MappingType,
  PercentChangeColorMode,
  ScaleDistribution,
  SortOrder,
  StackingMode,
  TableCellDisplayMode,
  ThresholdsMode,
  TooltipDisplayMode,
  VariableHide,
  VariableRefresh,
  VariableSort,
  VisibilityMode,
  VizOrientation,
  defaultDashboard,
  type Dashboard,
  type DashboardLink,
  type DataTransformerConfig,
  type FieldConfigSource,
  type Panel,
  type RowPanel,
  type ThresholdsConfig,
  type ValueMapping,
  type VariableModel,
} from '@grafana/schema';
import type * as TimeSeries from '@grafana/schema/dist/esm/raw/composable/timeseries/panelcfg/x/TimeSeriesPanelCfg_types.gen.js';
import type * as Stat from '@grafana/schema/dist/esm/raw/composable/stat/panelcfg/x/StatPanelCfg_types.gen.js';
import type * as Table from '@grafana/schema/dist/esm/raw/composable/table/panelcfg/x/TablePanelCfg_types.gen.js';
import type * as Heatmap from '@grafana/schema/dist/esm/raw/composable/heatmap/panelcfg/x/HeatmapPanelCfg_types.gen.js';
import type * as StateTimeline from '@grafana/schema/dist/esm/raw/composable/statetimeline/panelcfg/x/StateTimelinePanelCfg_types.gen.js';
import type * as BarChart from '@grafana/schema/dist/esm/raw/composable/barchart/panelcfg/x/BarChartPanelCfg_types.gen.js';
import type * as Text from '@grafana/schema/dist/esm/raw/composable/text/panelcfg/x/TextPanelCfg_types.gen.js';

export const DATASOURCE = { type: 'grafana-clickhouse-datasource', uid: 'driftwatch-clickhouse' } as const;
/** Every driftwatch dashboard carries this tag; the dashboards link of each lists them all. */
export const DASHBOARD_TAG = 'driftwatch';

export type ColumnKind = 'time' | 'number' | 'string';
export interface Column {
  readonly name: string;
  readonly kind: ColumnKind;
}
/** Shorthands: t('time'), n('value'), s('model'). */
export const t = (name: string): Column => ({ name, kind: 'time' });
export const n = (name: string): Column => ({ name, kind: 'number' });
export const s = (name: string): Column => ({ name, kind: 'string' });

export interface QuerySpec {
  readonly refId?: string;
  readonly sql: string;
  /** 'timeseries' (sqlds format 0: a long frame becomes wide) or 'table' (format 1, as is). */
  readonly format: 'timeseries' | 'table';
  /** Result columns the panel relies on (name and kind), checked against ClickHouse by the tests. */
  readonly columns: readonly Column[];
}

interface Box {
  readonly w: number;
  readonly h: number;
}

interface Common extends Box {
  readonly title: string;
  readonly description: string;
  readonly queries: readonly QuerySpec[];
  /** Minimum query interval (panel "Min interval"); windows are 5 minutes, so default '5m' for window tables. */
  readonly interval?: string;
  readonly links?: Panel['links'];
}

/** A panel before layout: JSON without id/gridPos, and its queries' expectations. */
export interface PanelDraft {
  readonly box: Box;
  readonly panel: Omit<Panel, 'id' | 'gridPos'>;
  readonly queries: readonly QuerySpec[];
}

function targets(queries: readonly QuerySpec[]): Panel['targets'] {
  return queries.map((q, i) => ({
    refId: q.refId ?? String.fromCharCode(65 + i),
    datasource: { ...DATASOURCE },
    editorType: 'sql',
    rawSql: dedent(q.sql),
    format: q.format === 'timeseries' ? 0 : 1,
  }));
}

/** Trims the indentation of template-literal SQL so the JSON stays readable. */
export function dedent(sql: string): string {
  const lines = sql.replace(/^\n+|\s+$/g, '').split('\n');
  const indent = Math.min(...lines.filter((l) => l.trim()).map((l) => /^ */.exec(l)![0].length));
  return lines.map((l) => l.slice(indent)).join('\n');
}

export function thresholds(...steps: Array<[number | null, string]>): ThresholdsConfig {
  return { mode: ThresholdsMode.Absolute, steps: steps.map(([value, color]) => ({ value, color })) };
}

/** Drift severity as window-metrics writes it: 0 none, 1 warning, 2 critical (model_drift_summary.severity_level). */
export const SEVERITY_MAPPINGS: ValueMapping[] = [
  {
    type: MappingType.ValueToText,
    options: {
      '0': { text: 'none', color: 'green', index: 0 },
      '1': { text: 'warning', color: 'orange', index: 1 },
      '2': { text: 'critical', color: 'red', index: 2 },
    },
  },
];
export const SEVERITY_TEXT_MAPPINGS: ValueMapping[] = [
  {
    type: MappingType.ValueToText,
    options: {
      none: { color: 'green', index: 0 },
      warning: { color: 'orange', index: 1 },
      critical: { color: 'red', index: 2 },
      unknown: { color: 'text', index: 3 },
    },
  },
];

type Override = FieldConfigSource['overrides'][number];
export const byName = (name: string, properties: Override['properties']): Override => ({ matcher: { id: 'byName', options: name }, properties });
export const byRefId = (refId: string, properties: Override['properties']): Override => ({ matcher: { id: 'byFrameRefID', options: refId }, properties });
export const dashedLine = (color?: string): Override['properties'] => [
  { id: 'custom.lineStyle', value: { fill: 'dash', dash: [10, 10] } },
  { id: 'custom.lineWidth', value: 1 },
  { id: 'custom.fillOpacity', value: 0 },
  ...(color ? [{ id: 'color', value: { mode: FieldColorModeId.Fixed, fixedColor: color } }] : []),
];

export interface TimeSeriesSpec extends Common {
  readonly unit?: string;
  readonly min?: number;
  readonly max?: number;
  readonly decimals?: number;
  readonly thresholds?: ThresholdsConfig;
  readonly thresholdsStyle?: GraphThresholdsStyleMode;
  readonly drawStyle?: GraphDrawStyle;
  readonly stacking?: StackingMode;
  readonly log?: boolean;
  readonly overrides?: Override[];
  readonly legendCalcs?: string[];
}

export function timeseries(spec: TimeSeriesSpec): PanelDraft {
  const custom: TimeSeries.FieldConfig = {
    drawStyle: spec.drawStyle ?? GraphDrawStyle.Line,
    lineInterpolation: LineInterpolation.Linear,
    lineWidth: 1,
    fillOpacity: spec.drawStyle === GraphDrawStyle.Bars ? 80 : 10,
    gradientMode: GraphGradientMode.None,
    showPoints: VisibilityMode.Auto,
    pointSize: 4,
    spanNulls: false,
    stacking: { mode: spec.stacking ?? StackingMode.None, group: 'A' },
    thresholdsStyle: { mode: spec.thresholdsStyle ?? GraphThresholdsStyleMode.Off },
    scaleDistribution: spec.log ? { type: ScaleDistribution.Log, log: 10 } : { type: ScaleDistribution.Linear },
    hideFrom: { legend: false, tooltip: false, viz: false },
  };
  const options: TimeSeries.Options = {
    legend: { showLegend: true, displayMode: LegendDisplayMode.Table, placement: 'bottom', calcs: spec.legendCalcs ?? ['lastNotNull', 'max'] },
    tooltip: { mode: TooltipDisplayMode.Multi, sort: SortOrder.Descending },
  };
  return {
    box: spec,
    queries: spec.queries,
    panel: {
      type: 'timeseries',
      title: spec.title,
      description: spec.description,
      datasource: { ...DATASOURCE },
      ...(spec.interval ? { interval: spec.interval } : {}),
      ...(spec.links ? { links: spec.links } : {}),
      targets: targets(spec.queries),
      fieldConfig: {
        defaults: {
          custom: custom as Record<string, unknown>,
          color: { mode: FieldColorModeId.PaletteClassic },
          ...(spec.unit ? { unit: spec.unit } : {}),
          ...(spec.min !== undefined ? { min: spec.min } : {}),
          ...(spec.max !== undefined ? { max: spec.max } : {}),
          ...(spec.decimals !== undefined ? { decimals: spec.decimals } : {}),
          thresholds: spec.thresholds ?? thresholds([null, 'green']),
        },
        overrides: spec.overrides ?? [],
      },
      options: options as unknown as Record<string, unknown>,
    },
  };
}

export interface StatSpec extends Common {
  readonly unit?: string;
  readonly decimals?: number;
  readonly thresholds?: ThresholdsConfig;
  readonly mappings?: ValueMapping[];
  readonly colorMode?: BigValueColorMode;
  readonly reducer?: 'lastNotNull' | 'sum' | 'max' | 'mean';
  readonly noValue?: string;
}

export function stat(spec: StatSpec): PanelDraft {
  const options: Stat.Options = {
    reduceOptions: { calcs: [spec.reducer ?? 'lastNotNull'], fields: '', values: false },
    orientation: VizOrientation.Auto,
    textMode: BigValueTextMode.Auto,
    colorMode: spec.colorMode ?? BigValueColorMode.Value,
    graphMode: BigValueGraphMode.None,
    justifyMode: BigValueJustifyMode.Auto,
    wideLayout: true,
    showPercentChange: false,
    percentChangeColorMode: PercentChangeColorMode.Standard,
  };
  return {
    box: spec,
    queries: spec.queries,
    panel: {
      type: 'stat',
      title: spec.title,
      description: spec.description,
      datasource: { ...DATASOURCE },
      ...(spec.interval ? { interval: spec.interval } : {}),
      ...(spec.links ? { links: spec.links } : {}),
      targets: targets(spec.queries),
      fieldConfig: {
        defaults: {
          color: { mode: FieldColorModeId.Thresholds },
          thresholds: spec.thresholds ?? thresholds([null, 'green']),
          ...(spec.mappings ? { mappings: spec.mappings } : {}),
          ...(spec.unit ? { unit: spec.unit } : {}),
          ...(spec.decimals !== undefined ? { decimals: spec.decimals } : {}),
          ...(spec.noValue !== undefined ? { noValue: spec.noValue } : {}),
        },
        overrides: [],
      },
      options: options as unknown as Record<string, unknown>,
    },
  };
}

export interface TableSpec extends Common {
  readonly overrides?: Override[];
  readonly sortBy?: Table.Options['sortBy'];
  readonly transformations?: DataTransformerConfig[];
  readonly dataLinks?: Array<{ title: string; url: string }>;
}

export function table(spec: TableSpec): PanelDraft {
  const custom: Table.FieldConfig = {
    align: 'auto',
    cellOptions: { type: TableCellDisplayMode.Auto },
    inspect: false,
    filterable: true,
  };
  const options: Table.Options = {
    showHeader: true,
    frameIndex: 0,
    cellHeight: 'sm' as Table.Options['cellHeight'],
    ...(spec.sortBy ? { sortBy: spec.sortBy } : {}),
  };
  return {
    box: spec,
    queries: spec.queries,
    panel: {
      type: 'table',
      title: spec.title,
      description: spec.description,
      datasource: { ...DATASOURCE },
      ...(spec.interval ? { interval: spec.interval } : {}),
      ...(spec.links ? { links: spec.links } : {}),
      targets: targets(spec.queries),
      fieldConfig: {
        defaults: {
          custom: custom as unknown as Record<string, unknown>,
          color: { mode: FieldColorModeId.Thresholds },
          thresholds: thresholds([null, 'text']),
          ...(spec.dataLinks ? { links: spec.dataLinks } : {}),
        },
        overrides: spec.overrides ?? [],
      },
      options: options as unknown as Record<string, unknown>,
      ...(spec.transformations ? { transformations: spec.transformations } : {}),
    },
  };
}

/** Table cell colouring by value mapping or thresholds. */
export const colorText = (extra: Override['properties'] = []): Override['properties'] => [
  { id: 'custom.cellOptions', value: { type: TableCellDisplayMode.ColorText } },
  ...extra,
];

export interface HeatmapSpec extends Common {
  readonly unit?: string;
  readonly min: number;
  readonly max: number;
}

/** A heatmap of pre-bucketed rows (one wide field per row label), e.g. feature × window. */
export function heatmap(spec: HeatmapSpec): PanelDraft {
  const options: Heatmap.Options = {
    calculate: false,
    cellGap: 1,
    color: {
      mode: 'scheme' as Heatmap.HeatmapColorMode,
      scheme: 'RdYlGn',
      reverse: true,
      exponent: 0.5,
      fill: 'dark-orange',
      scale: 'linear' as Heatmap.HeatmapColorScale,
      steps: 64,
      min: spec.min,
      max: spec.max,
    },
    exemplars: { color: 'rgba(255,0,255,0.7)' },
    filterValues: { le: -1e9 },
    legend: { show: true },
    rowsFrame: { layout: 'auto' as Heatmap.RowsHeatmapOptions['layout'] },
    showValue: VisibilityMode.Never,
    tooltip: { mode: TooltipDisplayMode.Single, yHistogram: false, showColorScale: true },
    yAxis: { axisPlacement: 'left' as Heatmap.YAxisConfig['axisPlacement'], reverse: false },
  };
  return {
    box: spec,
    queries: spec.queries,
    panel: {
      type: 'heatmap',
      title: spec.title,
      description: spec.description,
      datasource: { ...DATASOURCE },
      ...(spec.interval ? { interval: spec.interval } : {}),
      targets: targets(spec.queries),
      fieldConfig: {
        defaults: {
          ...(spec.unit ? { unit: spec.unit } : {}),
          custom: { hideFrom: { legend: false, tooltip: false, viz: false }, scaleDistribution: { type: ScaleDistribution.Linear } },
        },
        overrides: [],
      },
      options: options as unknown as Record<string, unknown>,
    },
  };
}

export interface StateTimelineSpec extends Common {
  readonly mappings: ValueMapping[];
  readonly thresholds?: ThresholdsConfig;
}

export function stateTimeline(spec: StateTimelineSpec): PanelDraft {
  const options: StateTimeline.Options = {
    mergeValues: true,
    showValue: VisibilityMode.Never,
    alignValue: 'left' as StateTimeline.Options['alignValue'],
    rowHeight: 0.8,
    legend: { showLegend: true, displayMode: LegendDisplayMode.List, placement: 'bottom', calcs: [] },
    tooltip: { mode: TooltipDisplayMode.Single, sort: SortOrder.None },
  };
  const custom: StateTimeline.FieldConfig = { lineWidth: 0, fillOpacity: 80, hideFrom: { legend: false, tooltip: false, viz: false } };
  return {
    box: spec,
    queries: spec.queries,
    panel: {
      type: 'state-timeline',
      title: spec.title,
      description: spec.description,
      datasource: { ...DATASOURCE },
      ...(spec.interval ? { interval: spec.interval } : {}),
      ...(spec.links ? { links: spec.links } : {}),
      targets: targets(spec.queries),
      fieldConfig: {
        defaults: {
          custom: custom as Record<string, unknown>,
          color: { mode: FieldColorModeId.Thresholds },
          mappings: spec.mappings,
          thresholds: spec.thresholds ?? thresholds([null, 'green'], [1, 'orange'], [2, 'red']),
        },
        overrides: [],
      },
      options: options as unknown as Record<string, unknown>,
    },
  };
}

export interface BarChartSpec extends Common {
  readonly xField: string;
  readonly unit?: string;
  readonly transformations?: DataTransformerConfig[];
}

export function barchart(spec: BarChartSpec): PanelDraft {
  const options: BarChart.Options = {
    xField: spec.xField,
    orientation: VizOrientation.Horizontal,
    barWidth: 0.8,
    groupWidth: 0.7,
    fullHighlight: false,
    showValue: VisibilityMode.Auto,
    stacking: StackingMode.None,
    xTickLabelMaxLength: 24,
    xTickLabelRotation: 0,
    legend: { showLegend: true, displayMode: LegendDisplayMode.List, placement: 'bottom', calcs: [] },
    tooltip: { mode: TooltipDisplayMode.Multi, sort: SortOrder.None },
  };
  const custom: BarChart.FieldConfig = {
    fillOpacity: 80,
    lineWidth: 1,
    gradientMode: GraphGradientMode.None,
    hideFrom: { legend: false, tooltip: false, viz: false },
  };
  return {
    box: spec,
    queries: spec.queries,
    panel: {
      type: 'barchart',
      title: spec.title,
      description: spec.description,
      datasource: { ...DATASOURCE },
      targets: targets(spec.queries),
      fieldConfig: {
        defaults: { custom: custom as Record<string, unknown>, color: { mode: FieldColorModeId.PaletteClassic }, ...(spec.unit ? { unit: spec.unit } : {}) },
        overrides: [],
      },
      options: options as unknown as Record<string, unknown>,
      ...(spec.transformations ? { transformations: spec.transformations } : {}),
    },
  };
}

export function text(spec: Box & { readonly title: string; readonly markdown: string }): PanelDraft {
  const options: Text.Options = {
    mode: 'markdown' as Text.TextMode,
    content: spec.markdown,
    code: { language: 'plaintext' as Text.CodeLanguage, showLineNumbers: false, showMiniMap: false },
  };
  return { box: spec, queries: [], panel: { type: 'text', title: spec.title, options: options as unknown as Record<string, unknown> } };
}

export interface VariableSpec {
  readonly name: string;
  readonly label: string;
  readonly description: string;
  readonly sql: string;
  readonly multi: boolean;
  readonly includeAll: boolean;
  /** Initial selection when the dashboard opens: All, or the first option. */
  readonly current?: 'all' | { readonly value: string };
}

/** A ClickHouse query variable (CHVariableQuery: refId, queryType 'sql', rawSql), refreshed with the time range. */
export function queryVariable(v: VariableSpec): VariableModel {
  const current =
    v.current === 'all'
      ? { text: 'All', value: '$__all', selected: true }
      : v.current
        ? { text: v.current.value, value: v.multi ? [v.current.value] : v.current.value, selected: true }
        : undefined;
  return {
    type: 'query',
    name: v.name,
    label: v.label,
    description: v.description,
    datasource: { ...DATASOURCE },
    query: { refId: `var-${v.name}`, queryType: 'sql', editorType: 'sql', rawSql: dedent(v.sql) },
    refresh: VariableRefresh.onTimeRangeChanged,
    sort: VariableSort.alphabeticalAsc,
    multi: v.multi,
    includeAll: v.includeAll,
    hide: VariableHide.dontHide,
    ...(current ? { current } : {}),
    options: [],
  };
}

/** Links to every driftwatch dashboard (by tag), keeping the time range and variables. */
export const DASHBOARD_LINKS: DashboardLink[] = [
  {
    title: 'driftwatch',
    type: 'dashboards',
    tags: [DASHBOARD_TAG],
    asDropdown: true,
    icon: 'external link',
    includeVars: true,
    keepTime: true,
    targetBlank: false,
    tooltip: 'Other driftwatch dashboards',
  },
];

export function dashboardLink(uid: string, title: string, tooltip: string): DashboardLink {
  return {
    title,
    type: 'link',
    url: `/d/${uid}`,
    tags: [],
    asDropdown: false,
    icon: 'dashboard',
    includeVars: true,
    keepTime: true,
    targetBlank: false,
    tooltip,
  };
}

export interface DashboardSpec {
  readonly uid: string;
  readonly title: string;
  readonly description: string;
  readonly tags?: readonly string[];
  readonly time?: { readonly from: string; readonly to: string };
  readonly variables: readonly VariableModel[];
  readonly links: readonly DashboardLink[];
  /** Layout: each inner list is placed left to right, wrapping at 24 columns; a string starts a row header. */
  readonly layout: ReadonlyArray<string | PanelDraft>;
}

export interface BuiltDashboard {
  readonly dashboard: Dashboard;
  /** Column expectations by panel id and refId. */
  readonly expectations: ReadonlyMap<number, ReadonlyMap<string, readonly Column[]>>;
}

/** Lays the panels out on the 24-column grid (flowing left to right), assigns ids, builds the JSON. */
export function buildDashboard(spec: DashboardSpec): BuiltDashboard {
  const panels: Array<Panel | RowPanel> = [];
  const expectations = new Map<number, Map<string, readonly Column[]>>();
  let id = 1;
  let x = 0;
  let y = 0;
  let lineBottom = 0;
  for (const item of spec.layout) {
    if (typeof item === 'string') {
      y = Math.max(y, lineBottom);
      panels.push({ type: 'row', title: item, collapsed: false, id: id++, panels: [], gridPos: { x: 0, y, w: 24, h: 1 } });
      y += 1;
      x = 0;
      lineBottom = y;
      continue;
    }
    const { w, h } = item.box;
    if (x + w > 24) {
      x = 0;
      y = lineBottom;
    }
    const panelId = id++;
    panels.push({ ...item.panel, id: panelId, gridPos: { x, y, w, h } } as Panel);
    const byRef = new Map<string, readonly Column[]>();
    item.queries.forEach((q, i) => byRef.set(q.refId ?? String.fromCharCode(65 + i), q.columns));
    expectations.set(panelId, byRef);
    x += w;
    lineBottom = Math.max(lineBottom, y + h);
  }
  const dashboard: Dashboard = {
    uid: spec.uid,
    title: spec.title,
    description: spec.description,
    tags: [DASHBOARD_TAG, ...(spec.tags ?? [])],
    editable: false,
    graphTooltip: DashboardCursorSync.Crosshair,
    timezone: 'utc',
    time: { from: spec.time?.from ?? 'now-6h', to: spec.time?.to ?? 'now' },
    refresh: '1m',
    schemaVersion: defaultDashboard.schemaVersion!,
    version: 1,
    links: [...spec.links],
    templating: { list: [...spec.variables] },
    annotations: { list: [] },
    panels,
  };
  return { dashboard, expectations };
}
