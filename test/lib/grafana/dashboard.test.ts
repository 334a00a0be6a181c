import { describe, expect, it } from 'vitest';
import type { Dashboard } from '@grafana/schema';
import { dashboardProblems, layoutSketch } from '../../../lib/grafana/dashboard.js';

const ds = { type: 'grafana-clickhouse-datasource', uid: 'ch' };
const ctx = { datasourceUids: new Set(['ch']), dashboardUids: new Set(['d1', 'd2']), dashboardTags: new Set(['driftwatch']) };
const target = (rawSql: string, refId = 'A') => ({ refId, datasource: ds, editorType: 'sql', rawSql, format: 0 });
const panel = (id: number, x: number, y: number, w: number, h: number, rawSql = 'SELECT 1 WHERE $__timeFilter(t)') => ({
  id,
  type: 'timeseries',
  title: `p${id}`,
  datasource: ds,
  gridPos: { x, y, w, h },
  targets: [target(rawSql)],
});
const dash = (panels: unknown[], extra: Record<string, unknown> = {}) => ({
  uid: 'd1',
  title: 'D',
  schemaVersion: 42,
  panels,
  templating: { list: [] },
  ...extra,
});

describe('dashboardProblems', () => {
  it('accepts a well-formed dashboard', () => {
    expect(dashboardProblems(dash([panel(1, 0, 0, 12, 8), panel(2, 12, 0, 12, 8)]), ctx)).toEqual([]);
  });

  it('reports keys outside the @grafana/schema types and missing required ones', () => {
    const p = dashboardProblems({ ...dash([]), schemaVersion: undefined, colour: 'red' }, ctx);
    expect(p.join('\n')).toMatch(/schemaVersion: required/);
    expect(p.join('\n')).toMatch(/colour: unknown key/);
  });

  it('reports overlapping panels, the grid edge and duplicate ids', () => {
    const p = dashboardProblems(dash([panel(1, 0, 0, 12, 8), panel(1, 6, 4, 20, 8)]), ctx).join('\n');
    expect(p).toMatch(/overlaps/);
    expect(p).toMatch(/outside the 24-column grid/);
    expect(p).toMatch(/duplicate panel id 1/);
  });

  it('reports unknown datasources, unstable macros and undefined variables', () => {
    const bad = { ...panel(1, 0, 0, 24, 8, "SELECT $__timeGroup(t, '5m') FROM x WHERE m IN (${model:sqlstring})"), datasource: { ...ds, uid: 'nope' } };
    const p = dashboardProblems(dash([bad]), ctx).join('\n');
    expect(p).toMatch(/not a provisioned ClickHouse datasource/);
    expect(p).toMatch(/\$__timeGroup is not one of the stable macros/);
    expect(p).toMatch(/undefined variable \$model/);
  });

  it('checks links to other dashboards', () => {
    const link = {
      title: 'x',
      type: 'link',
      url: '/d/missing',
      tags: [],
      asDropdown: false,
      icon: 'dashboard',
      includeVars: false,
      keepTime: false,
      targetBlank: false,
      tooltip: '',
    };
    expect(dashboardProblems(dash([], { links: [link] }), ctx).join()).toMatch(/unknown dashboard missing/);
  });
});

describe('layoutSketch', () => {
  it('draws each panel where its gridPos puts it, with its title', () => {
    const sketch = layoutSketch({ ...dash([panel(1, 0, 0, 12, 3), panel(2, 12, 0, 12, 3)]) } as Dashboard, 2);
    expect(sketch.split('\n')).toEqual([
      '+-----------------------+-----------------------+',
      '|p1 [timeseries]        |p2 [timeseries]        |',
      '|                       |                       |',
      '+-----------------------+-----------------------+',
    ]);
  });
});
