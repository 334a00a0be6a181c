/**
 * Grafana without Grafana, on data the processors produced (./scenario.ts):
 * - every dashboard variable and panel query, interpolated as the frontend does and with the
 *   ClickHouse plugin's macros expanded as the plugin does, runs on ClickHouse, returns rows, returns
 *   the columns its panel uses, and converts to the frame type its panel draws;
 * - every alert rule, evaluated as Grafana's ruler does (query -> reduce -> threshold -> state with
 *   `for`) minute by minute, fires on the drift or incident part of the run for the instances that
 *   are affected, stays quiet for those that are not, and never fires on the stationary part.
 * The file reads the provisioning files from disk, the same ones Grafana loads.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Dashboard } from '@grafana/schema';
import { timeSeriesSchema, rowCount, type Frame } from '../../../lib/grafana/frames.js';
import { readAlertingFiles, type AlertRule } from '../../../lib/grafana/provisioning.js';
import type { VariableState } from '../../../lib/grafana/template.js';
import { DASHBOARDS } from '../../../dashboards/src/index.js';
import { RULE_GROUPS } from '../../../dashboards/src/alerting/rules.js';
import { dashboardFiles, yamlFiles } from '../../dashboards/support.js';
import {
  evaluateOverTime,
  firingAnnotations,
  instants,
  panelQueries,
  resolveVariables,
  runPanelQuery,
  runSql,
  type RuleStep,
  type TimeRange,
} from './harness.js';
import { buildScenario, type ScenarioData } from './scenario.js';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

let data: ScenarioData;
beforeAll(async () => {
  data = await buildScenario();
}, 300_000);
afterAll(async () => {
  await data?.close();
});

/** The dashboards' default range, now-6h .. now, at the end of the run. */
const range = (): TimeRange => ({ fromMs: data.endMs - 6 * HOUR, toMs: data.endMs });

const expectations = new Map(DASHBOARDS.map((d) => [d.dashboard.uid!, d.expectations]));

const fieldValues = (f: Frame, name: string) => f.fields.find((x) => x.name === name)!.values;

/** Beyond the columns: what some panels must show for this run (the data says what happened). */
const SHOWS: Record<string, (frame: Frame, t: ScenarioData) => void> = {
  // Counted by ClickHouse from the tables the retrain trigger wrote, against what it published on the
  // broker: credit-risk drifts for 2 hours (its drift policy fires and alerts), delivery-eta does not.
  'dw-overview/Alerts emitted/A': (f, d) => {
    const [alerts] = fieldValues(f, 'alerts') as number[];
    expect(alerts).toBeGreaterThan(0);
    // alerts FINAL counts incidents: a FIRING and its RESOLVED share one row.
    expect(alerts).toBeLessThanOrEqual(d.published.alerts);
  },
  'dw-overview/Retrain events/A': (f, d) => {
    const [retrains] = fieldValues(f, 'retrains') as number[];
    expect(retrains).toBeGreaterThan(0);
    expect(retrains).toBe(d.published.retrainRequested);
  },
  // One row per consumer group the API polls, none for the API itself; the stalled joiner has lag.
  'dw-overview/Consumer groups/A': (f, d) => {
    const groups = fieldValues(f, 'consumer_group') as string[];
    expect([...groups].sort()).toEqual(Object.values(d.consumerGroups).sort());
    const lag = new Map(groups.map((g, i) => [g, Number(fieldValues(f, 'lag')[i])]));
    expect(lag.get(d.consumerGroups.labelJoiner)).toBe(d.counts.joinerBacklog);
    expect(lag.get(d.consumerGroups.windowMetrics)).toBe(0);
  },
  // The joiner's lag is reported by the API and by the joiner itself: drawn once, not added up.
  'dw-pipeline/Consumer lag/A': (f, d) => {
    const joiner = f.fields.filter((x) => x.kind === 'number' && (x.labels?.series ?? x.name).startsWith(`${d.consumerGroups.labelJoiner} `));
    expect(joiner.length).toBe(2); // predictions and outcomes
    expect(joiner.reduce((sum, x) => sum + Number(x.values[x.values.length - 1]), 0)).toBe(d.counts.joinerBacklog);
  },
  'dw-overview/Model health/A': (f) => {
    const col = (name: string) => f.fields.find((x) => x.name === name)!.values;
    const severity = new Map(col('model').map((m, i) => [`${String(m)} v${String(col('version')[i])}`, col('drift_severity')[i]]));
    expect(severity.get('credit-risk v1')).toBe('critical');
    expect(severity.get('delivery-eta v1')).toBe('none');
  },
  'dw-model-drift/Drift by feature and window/A': (f, t) => {
    const times = f.fields.find((x) => x.name === 'time')!.values as number[];
    const rowOf = (feature: string) =>
      f.fields.find((x) => x.labels === undefined && x.name === feature) ?? f.fields.find((x) => x.name === 'drift_ratio' && x.labels?.feature === feature);
    for (const feature of ['income', 'utilization']) {
      const v = rowOf(feature)!.values as Array<number | null>;
      const before = v.filter((_, i) => times[i]! < t.driftStartMs - 600_000).filter((x): x is number => x !== null);
      const after = v.filter((_, i) => times[i]! >= t.driftStartMs).filter((x): x is number => x !== null);
      expect(Math.max(...before), `${feature} before the drift`).toBeLessThan(1);
      expect(Math.min(...after), `${feature} after the drift`).toBeGreaterThan(1);
    }
  },
  'dw-performance/Shadow challenger vs champion: ${metric}/A': (f) => {
    const series = new Set(f.fields.flatMap((x) => (x.labels?.series ? [x.labels.series] : [])));
    expect([...series]).toEqual(expect.arrayContaining(['v1 champion realized', 'v2 shadow realized', 'v1 champion estimated', 'v2 shadow estimated']));
  },
};

function checkColumns(frame: Frame, expected: ReadonlyArray<{ name: string; kind: string }>): void {
  const byName = new Map(frame.fields.map((f) => [f.name, f.kind]));
  for (const c of expected) expect(byName.get(c.name), `column ${c.name} (${c.kind}); got ${[...byName].map(([n, k]) => `${n}:${k}`).join(', ')}`).toBe(c.kind);
}

describe('dashboards on ClickHouse data produced by the processors', () => {
  for (const { json } of dashboardFiles()) {
    const d = json as unknown as Dashboard;
    describe(d.uid!, () => {
      let vars: VariableState[];
      beforeAll(async () => {
        vars = await resolveVariables(data.ch, d, range());
      });

      it('resolves every variable to options from the data', () => {
        for (const v of vars) expect(v.options.length, `variable ${v.name}`).toBeGreaterThan(0);
        const model = vars.find((v) => v.name === 'model');
        if (model) expect(model.options).toEqual(['credit-risk', 'delivery-eta']);
        const segment = vars.find((v) => v.name === 'segment');
        if (segment) expect(segment.options).toContain('overall');
      });

      for (const q of panelQueries(d)) {
        it(`${q.panel.title} / ${q.refId}`, async () => {
          const r = await runPanelQuery(data.ch, q, vars, range());
          expect(rowCount(r.frame), `no rows for:\n${r.sql}`).toBeGreaterThan(0);
          const expected = expectations.get(d.uid!)?.get(q.panel.id!)?.get(q.refId);
          expect(expected, 'the dashboard source declares the columns of every query').toBeDefined();
          checkColumns(r.frame, expected!);
          const frame = r.frames[0]!;
          switch (q.panel.type) {
            case 'timeseries':
            case 'state-timeline':
            case 'heatmap': {
              // The plugin must be able to turn the result into series (long results sorted by time).
              const schema = timeSeriesSchema(frame);
              expect(schema.type).toBe('wide');
              expect(schema.valueIndices.every((i) => frame.fields[i]!.kind === 'number')).toBe(true);
              break;
            }
            case 'stat':
              expect(frame.fields.some((f) => f.kind === 'number')).toBe(true);
              break;
            default:
              break;
          }
          SHOWS[`${d.uid}/${q.panel.title}/${q.refId}`]?.(frame, data);
          // Fields the panel's overrides name must exist.
          for (const o of q.panel.fieldConfig?.overrides ?? []) {
            if (o.matcher.id === 'byName') expect(r.frame.fields.map((f) => f.name)).toContain(o.matcher.options);
          }
        });
      }
    });
  }
});

describe('retrain trigger panels on what the real trigger wrote', () => {
  const overview = () => dashboardFiles().find((f) => f.json.uid === 'dw-overview')!.json as unknown as Dashboard;
  const count = async (title: string, model: string) => {
    const d = overview();
    const q = panelQueries(d).find((x) => x.panel.title === title)!;
    const r = await runPanelQuery(data.ch, q, await resolveVariables(data.ch, d, range(), { model: [model] }), range());
    return Number(r.frame.fields[0]!.values[0]);
  };

  it('count the drifting model and not the stationary one', async () => {
    for (const title of ['Alerts emitted', 'Retrain events']) {
      expect(await count(title, 'credit-risk'), `${title}, credit-risk`).toBeGreaterThan(0);
      expect(await count(title, 'delivery-eta'), `${title}, delivery-eta`).toBe(0);
    }
  });
});

// ---- alert rules ------------------------------------------------------------------------------------

const rules = readAlertingFiles(yamlFiles('alert-rules'), {}).provisioning.groups.flatMap((g) => g.rules);
const specs = new Map(RULE_GROUPS.flatMap((g) => g.rules).map((r) => [r.uid, r]));

/**
 * Per rule: the instants it must fire at (relative to T_end), which instance labels must fire and
 * which must not. A rule firing with no labels fired on no data.
 */
const FIRING: Record<string, { from: number; to: number; fire: Array<Record<string, string>>; quiet: Array<Record<string, string>> }> = {
  'dw-drift-warning': { from: -20, to: 0, fire: [{ model: 'credit-risk', version: '1' }], quiet: [{ model: 'delivery-eta' }] },
  'dw-drift-critical': { from: -20, to: 0, fire: [{ model: 'credit-risk', version: '1' }], quiet: [{ model: 'delivery-eta' }] },
  'dw-realized-performance-drop': { from: -20, to: 0, fire: [{ model: 'credit-risk', metric: 'accuracy' }], quiet: [{ model: 'delivery-eta' }] },
  'dw-estimated-performance-drop': { from: -20, to: 0, fire: [{ model: 'credit-risk', metric: 'accuracy' }], quiet: [{ model: 'delivery-eta' }] },
  'dw-kpi-drop': { from: -20, to: 0, fire: [{ model: 'credit-risk', kpi: 'repayment_rate' }], quiet: [{ model: 'delivery-eta' }] },
  'dw-label-coverage-collapse': { from: -20, to: 0, fire: [{ model: 'delivery-eta' }], quiet: [{ model: 'credit-risk' }] },
  'dw-pipeline-stalled': { from: 10, to: 35, fire: [{ model: 'credit-risk' }, { model: 'delivery-eta' }], quiet: [] },
  // The healthy groups have lag at every poll (records in flight) and must stay quiet; so must the API,
  // which reports every group's lag but is no consumer (CONSUMER_GROUPS below fills the groups in).
  'dw-consumer-stalled': {
    from: -20,
    to: 0,
    fire: [{ consumer_group: 'label-joiner' }],
    quiet: [{ consumer_group: 'ingest' }, { consumer_group: 'scoring' }, { consumer_group: 'window-metrics' }],
  },
  'dw-dead-letter-spike': { from: -20, to: 0, fire: [{ component: 'ingest', code: 'DW_INVALID_JSON' }], quiet: [] },
  'dw-scoring-error-rate': { from: -20, to: 0, fire: [{ model: 'delivery-eta' }], quiet: [{ model: 'credit-risk' }] },
  'dw-scoring-latency': { from: -20, to: 0, fire: [{ model: 'credit-risk' }, { model: 'delivery-eta' }], quiet: [] },
};

/** Consumer group names are per run (the namespace is unique): expectations name them by role. */
const CONSUMER_GROUPS = { ingest: 'ingest', 'label-joiner': 'labelJoiner', 'window-metrics': 'windowMetrics', scoring: 'scoring' } as const;
const resolve = (want: Readonly<Record<string, string>>): Record<string, string> =>
  want.consumer_group ? { ...want, consumer_group: data.consumerGroups[CONSUMER_GROUPS[want.consumer_group as keyof typeof CONSUMER_GROUPS]] } : { ...want };

const matches = (labels: Readonly<Record<string, string>>, subset: Readonly<Record<string, string>>) =>
  Object.entries(resolve(subset)).every(([k, v]) => labels[k] === v);
const active = (step: RuleStep) => [...step.states.values()].filter((s) => s.state === 'Alerting' || s.state === 'Pending');

describe('alert rules as Grafana evaluates them', () => {
  it('checks what panels show where the run says what they must show', () => {
    const all = dashboardFiles().flatMap(({ json }) => panelQueries(json as unknown as Dashboard).map((q) => `${q.dashboardUid}/${q.panel.title}/${q.refId}`));
    for (const key of Object.keys(SHOWS)) expect(all).toContain(key);
  });

  it('covers every provisioned rule', () => {
    expect(rules.map((r) => r.uid).sort()).toEqual(Object.keys(FIRING).sort());
  });

  it('dw-consumer-stalled judges every consumer group the API measures, not the API: its lag samples are non-zero on the stationary part', async () => {
    // What made the rule fire in production when it grouped by component: the API (component 'api',
    // consuming nothing) reports the in-flight lag of every group.
    const [api] = await runSql(
      data.ch,
      `SELECT count() AS samples, countIf(value > 0) AS nonzero FROM ops_metrics
       WHERE component = 'api' AND metric = 'driftwatch_consumer_lag'
         AND ts >= fromUnixTimestamp64Milli(${data.endMs - 160 * MINUTE}) AND ts <= fromUnixTimestamp64Milli(${data.endMs - 130 * MINUTE})`,
    ).then((f) => [Object.fromEntries(f.fields.map((x) => [x.name, Number(x.values[0])]))]);
    expect(api!.samples).toBeGreaterThan(0);
    expect(api!.nonzero).toBeGreaterThan(0);
    const rule = rules.find((r) => r.uid === 'dw-consumer-stalled')!;
    const [step] = await evaluateOverTime(data.ch, rule, [data.endMs - 140 * MINUTE]);
    const judged = [...step!.states.values()].map((x) => x.labels);
    expect(judged.map((l) => l.consumer_group).sort()).toEqual(Object.values(data.consumerGroups).sort());
    expect(judged.every((l) => l.component === undefined)).toBe(true);
    expect([...step!.states.values()].every((x) => x.state === 'Normal')).toBe(true);
  });

  for (const rule of rules as AlertRule[]) {
    const f = FIRING[rule.uid];
    describe(rule.uid, () => {
      it('stays quiet on the stationary part of the run', async () => {
        // 2h40m to 2h10m before the end: before the drift, the label outage and every incident.
        const steps = await evaluateOverTime(data.ch, rule, instants(data.endMs - 160 * MINUTE, data.endMs - 130 * MINUTE));
        for (const step of steps) {
          expect(step.result.kind, `${new Date(step.atMs).toISOString()}: ${JSON.stringify(step.result)}`).not.toBe('error');
          expect(
            active(step).map((s) => s.labels),
            new Date(step.atMs).toISOString(),
          ).toEqual([]);
        }
      });

      it(`fires on the ${specs.get(rule.uid)?.firesOn ?? '?'} part of the run, for the affected instances only`, async () => {
        expect(f, 'an expectation for this rule').toBeDefined();
        const steps = await evaluateOverTime(data.ch, rule, instants(data.endMs + f!.from * MINUTE, data.endMs + f!.to * MINUTE));
        for (const step of steps) expect(step.result.kind, JSON.stringify(step.result)).not.toBe('error');
        const last = steps[steps.length - 1]!;
        const firing = [...last.states.values()].filter((s) => s.state === 'Alerting');
        for (const want of f!.fire)
          expect(
            firing.some((s) => matches(s.labels, want)),
            `${JSON.stringify(want)} firing; states: ${JSON.stringify([...last.states.values()])}`,
          ).toBe(true);
        for (const step of steps)
          for (const not of f!.quiet)
            expect(
              active(step).some((s) => matches(s.labels, not)),
              `${JSON.stringify(not)} must stay quiet`,
            ).toBe(false);
        // Grafana would notify with these annotations: they render, with the value in them.
        const notes = firingAnnotations(rule, last);
        expect(notes.length).toBeGreaterThan(0);
        for (const n of notes) {
          expect(n.summary).toMatch(/\d/);
          expect(n.description).toMatch(/\d/);
          expect(n.labels.severity).toBe(rule.labels.severity);
        }
      });
    });
  }
});
