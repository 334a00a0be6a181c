/**
 * Structural checks of the dashboard side of the Grafana provisioning, as Grafana would read the
 * files: datasource and dashboard-provider YAML against Grafana's provisioning structs, every
 * dashboard JSON against the @grafana/schema types, and the cross-references between them.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Dashboard } from '@grafana/schema';
import { allPanels, CLICKHOUSE_PLUGIN_ID, dashboardProblems } from '../../lib/grafana/dashboard.js';
import { envVarsReferenced } from '../../lib/grafana/env.js';
import { clickhouseSettingsProblems, readDashboardProviderFiles, readDatasourceFiles } from '../../lib/grafana/provisioning.js';
import { generate } from '../../dashboards/build.js';
import { DASHBOARDS } from '../../dashboards/src/index.js';
import { dashboardFiles, grafanaEnv, grafanaMounts, ROOT, yamlFiles } from './support.js';

const dashboards = dashboardFiles();
const byUid = new Map(dashboards.map((d) => [String(d.json.uid), d.json as unknown as Dashboard]));

describe('datasource provisioning (dashboards/datasources)', () => {
  const files = yamlFiles('dashboards/datasources');
  const { problems, datasources } = readDatasourceFiles(files, grafanaEnv());

  it('matches Grafana datasource provisioning types', () => {
    expect(files.length).toBeGreaterThan(0);
    expect(problems).toEqual([]);
  });

  it('provisions the ClickHouse plugin with a stable uid, configured from the environment docker compose gives Grafana', () => {
    const ch = datasources.find((d) => d.uid === 'driftwatch-clickhouse');
    expect(ch?.type).toBe(CLICKHOUSE_PLUGIN_ID);
    expect(clickhouseSettingsProblems(ch!)).toEqual([]);
    const raw = files[0]!.doc as { datasources: Array<{ jsonData: Record<string, unknown> }> };
    const fromEnv = Object.entries(raw.datasources[0]!.jsonData)
      .filter(([, v]) => typeof v === 'string' && v.includes('$'))
      .map(([k]) => k);
    expect(fromEnv).toEqual(expect.arrayContaining(['host', 'port', 'protocol', 'defaultDatabase']));
    // Every variable the files read is set (non-empty) for the Grafana container.
    const env = grafanaEnv();
    for (const name of envVarsReferenced(files.map((f) => f.doc))) expect(env[name], `docker-compose.yml grafana environment ${name}`).toBeTruthy();
    expect(ch!.jsonData.defaultDatabase).toBe('driftwatch');
  });
});

describe('dashboard provider (dashboards/provisioning)', () => {
  it('matches Grafana dashboard provisioning types and loads the folder docker compose mounts the JSON into', () => {
    const { problems, paths } = readDashboardProviderFiles(yamlFiles('dashboards/provisioning'));
    expect(problems).toEqual([]);
    const mounts = grafanaMounts();
    expect(paths).toEqual([mounts.get('dashboards/json')]);
    expect(mounts.get('dashboards/provisioning')).toBe('/etc/grafana/provisioning/dashboards');
    expect(mounts.get('dashboards/datasources')).toBe('/etc/grafana/provisioning/datasources');
  });
});

describe('dashboards (dashboards/json)', () => {
  const ctx = {
    datasourceUids: new Set(readDatasourceFiles(yamlFiles('dashboards/datasources'), grafanaEnv()).datasources.map((d) => d.uid)),
    dashboardUids: new Set(byUid.keys()),
    dashboardTags: new Set(dashboards.flatMap((d) => (d.json.tags as string[]) ?? [])),
  };

  for (const { name, json } of dashboards) {
    it(`${name} matches the @grafana/schema types and its references resolve`, () => {
      expect(dashboardProblems(json, ctx, name)).toEqual([]);
      expect(name).toBe(`${String(json.uid)}.json`);
    });
  }

  it('keeps the stable uids alert rules and links depend on', () => {
    expect([...byUid.keys()].sort()).toEqual(['dw-kpis', 'dw-model-drift', 'dw-overview', 'dw-performance', 'dw-pipeline']);
  });

  it('covers what each dashboard must show', () => {
    const titles = (uid: string) => allPanels(byUid.get(uid)!).map((p) => `${p.type}: ${p.title}`);
    expect(titles('dw-overview')).toEqual(
      expect.arrayContaining([
        'table: Model health',
        'state-timeline: Drift severity',
        'timeseries: Label coverage',
        'timeseries: KPIs against baseline',
        'table: Pipeline status',
      ]),
    );
    expect(titles('dw-model-drift')).toEqual(
      expect.arrayContaining([
        'heatmap: Drift by feature and window',
        'timeseries: Drift score by feature',
        'timeseries: p-value by feature',
        'timeseries: Prediction drift',
        'timeseries: Missing rate by feature',
        'table: Schema changes',
      ]),
    );
    expect(titles('dw-performance')).toEqual(
      expect.arrayContaining([
        'timeseries: Realized vs estimated ${metric}',
        'timeseries: Label coverage',
        'timeseries: Label delay',
        'timeseries: Shadow challenger vs champion: ${metric}',
      ]),
    );
    expect(titles('dw-kpis')).toEqual(expect.arrayContaining(['timeseries: KPIs by segment', 'barchart: Latest window by segment']));
    expect(titles('dw-pipeline')).toEqual(
      expect.arrayContaining([
        'timeseries: Throughput',
        'timeseries: Consumer lag',
        'timeseries: Dead letters by code',
        'timeseries: Join state',
        'timeseries: Scoring latency',
        'timeseries: Predictions, fallbacks and errors',
        'timeseries: Window close delay',
      ]),
    );
  });

  it('offers model, version, feature and segment variables', () => {
    const vars = (uid: string) => (byUid.get(uid)!.templating?.list ?? []).map((v) => v.name);
    expect(vars('dw-model-drift')).toEqual(['model', 'version', 'segment', 'feature']);
    expect(vars('dw-performance')).toEqual(expect.arrayContaining(['model', 'version', 'segment']));
    expect(vars('dw-kpis')).toEqual(expect.arrayContaining(['model', 'version', 'segment', 'kpi']));
    expect(vars('dw-overview')).toEqual(['model']);
  });

  it('draws thresholds next to drift scores and p-values', () => {
    const drift = allPanels(byUid.get('dw-model-drift')!);
    for (const title of ['Drift score by feature', 'p-value by feature']) {
      const p = drift.find((x) => x.title === title)!;
      expect((p.targets ?? []).map((t) => t.refId)).toEqual(['A', 'B']);
      expect(String((p.targets![1] as { rawSql: string }).rawSql)).toMatch(/max\(threshold\) AS max_threshold/);
      expect(p.fieldConfig?.overrides.some((o) => o.matcher.id === 'byFrameRefID' && o.matcher.options === 'B')).toBe(true);
    }
  });

  it('links every dashboard to the others', () => {
    for (const d of byUid.values()) {
      expect(
        d.links?.some((l) => l.type === 'dashboards' && l.tags.includes('driftwatch')),
        d.uid,
      ).toBe(true);
      expect(d.tags).toContain('driftwatch');
    }
  });
});

describe('generated files', () => {
  it('are exactly what dashboards/build.ts produces from dashboards/src (no hand edits, nothing stale)', async () => {
    for (const [path, content] of await generate()) expect(readFileSync(join(ROOT, path), 'utf8'), `${path}: run npx tsx dashboards/build.ts`).toBe(content);
    expect(DASHBOARDS.map((d) => `${d.dashboard.uid}.json`).sort()).toEqual(dashboards.map((d) => d.name));
  });
});
