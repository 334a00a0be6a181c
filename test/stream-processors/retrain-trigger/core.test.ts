import { describe, expect, it } from 'vitest';
import {
  alertId,
  evaluate,
  idempotencyKey,
  labelCountRange,
  stateKey,
  upgradeTriggerState,
  type Decision,
  type LabelTotal,
  type FeatureDrift,
  type KpiValue,
  type PerformanceValue,
  type PolicyState,
  type TriggerState,
  type WindowResult,
} from '../../../stream-processors/retrain-trigger/core.js';
import { parsePolicies, severityLevel, type Policy } from '../../../stream-processors/retrain-trigger/policy.js';

const T0 = Date.UTC(2025, 0, 1);
const W = 300_000; // 5-minute windows
const NOW = T0 + 1e9;

interface WinOpts {
  version?: string;
  model?: string;
  /** feature -> severity name */
  severities?: Record<string, string>;
  performance?: Partial<PerformanceValue>[];
  kpis?: KpiValue[];
  labeled?: number;
  /** Realized rows final (default true: labels complete, as in a replay long after the label delay). */
  final?: boolean;
  /** A label update of a window already closed (only its realized performance). */
  labelsOnly?: boolean;
}

function win(i: number, o: WinOpts = {}): WindowResult {
  const features: FeatureDrift[] = Object.entries(o.severities ?? {}).map(([feature, severity]) => ({
    feature,
    severity,
    severityLevel: severityLevel(severity),
    drift: severity !== 'none',
    score: 0.3,
    threshold: 0.1,
    method: 'psi',
  }));
  return {
    modelName: o.model ?? 'm',
    modelVersion: o.version ?? '1',
    windowStart: T0 + i * W,
    windowEnd: T0 + (i + 1) * W,
    drift: {
      nFeatures: features.length,
      nDrifted: features.filter((f) => f.drift).length,
      driftedFeatures: features.filter((f) => f.drift).map((f) => f.feature),
      severity: 'none',
      severityLevel: 0,
      datasetDrift: false,
      predictionDrift: false,
      profileStatus: 'ok',
    },
    features,
    performance: (o.performance ?? []).map((p) => ({ metric: 'accuracy', kind: 'realized', value: null, nLabeled: 100, nTotal: 100, ...p })),
    kpis: o.kpis ?? [],
    labeledCount: o.labeled ?? 0,
    labelsFinal: o.final ?? true,
    labelsOnly: o.labelsOnly ?? false,
  };
}

const drifting = { severities: { a: 'critical', b: 'critical', c: 'warning' } };
const calm = { severities: { a: 'none', b: 'warning', c: 'none' } };

function policy(p: Record<string, unknown>): Policy {
  return parsePolicies([{ id: 'p', model: 'm', ...p }])[0]!;
}

function run(policies: Policy | Policy[], windows: WindowResult[], state?: PolicyState) {
  return evaluate(state ?? { policies: Array.isArray(policies) ? policies : [policies], triggers: {} }, windows, NOW);
}

const reasons = (ds: readonly Decision[]) => ds.map((d) => d.reason);

describe('leaf conditions', () => {
  it('drift: at least k features at or above the severity for N consecutive windows', () => {
    const p = policy({ when: { drift: { min_features: 2, min_severity: 'critical', for_windows: 3 } } });
    const out = run(p, [win(0, drifting), win(1, drifting), win(2, drifting)]);
    expect(out.decisions.map((d) => d.conditions[0]!.streak)).toEqual([1, 2, 3]);
    expect(reasons(out.decisions)).toEqual(['condition_not_met', 'condition_not_met', 'condition_met']);
    expect(out.retrainEvents).toHaveLength(1);
    const ev = out.retrainEvents[0]!;
    expect(ev.drifted_features).toEqual(['a', 'b']);
    expect(ev.conditions).toEqual([
      { kind: 'drift', metric: 'features_at_or_above_critical', value: 2, threshold: 2, comparator: 'gte', window_start: T0, window_end: T0 + 3 * W },
    ]);
  });

  it('drift: one feature short, a lower severity, or an interrupted run does not hold', () => {
    const p = policy({ when: { drift: { min_features: 2, min_severity: 'critical', for_windows: 2 } } });
    const oneShort = { severities: { a: 'critical', b: 'warning' } };
    expect(run(p, [win(0, oneShort), win(1, oneShort)]).retrainEvents).toHaveLength(0);
    expect(run(p, [win(0, drifting), win(1, calm), win(2, drifting)]).retrainEvents).toHaveLength(0);
    // warning is enough when the policy says warning
    const pm = policy({ when: { drift: { min_features: 2, min_severity: 'warning', for_windows: 2 } } });
    expect(run(pm, [win(0, oneShort), win(1, oneShort)]).retrainEvents).toHaveLength(1);
  });

  it('drift: a gap between windows breaks the consecutive run', () => {
    const p = policy({ when: { drift: { min_features: 2, min_severity: 'critical', for_windows: 2 } } });
    const out = run(p, [win(0, drifting), win(2, drifting), win(3, drifting)]);
    expect(out.decisions.map((d) => d.conditions[0]!.streak)).toEqual([1, 1, 2]);
    expect(out.retrainEvents).toHaveLength(1);
    expect(out.retrainEvents[0]!.conditions[0]!.window_start).toBe(T0 + 2 * W);
  });

  it('drift: restricted feature list, and the prediction pseudo-feature only when asked', () => {
    const sev = { severities: { a: 'critical', __prediction__: 'critical' } };
    expect(run(policy({ when: { drift: { min_features: 2 } } }), [win(0, sev)]).retrainEvents).toHaveLength(0);
    expect(run(policy({ when: { drift: { min_features: 2, include_prediction: true } } }), [win(0, sev)]).retrainEvents).toHaveLength(1);
    expect(
      run(policy({ when: { drift: { min_features: 1, min_severity: 'critical', features: ['b', 'c'] } } }), [win(0, drifting)]).retrainEvents[0]!
        .drifted_features,
    ).toEqual(['b']);
    expect(run(policy({ when: { drift: { min_features: 1, features: ['b', 'c'] } } }), [win(0, drifting)]).retrainEvents[0]!.drifted_features).toEqual([
      'b',
      'c',
    ]);
  });

  it('drift: features drifted over the streak are all reported', () => {
    const p = policy({ when: { drift: { min_features: 1, for_windows: 2 } } });
    const out = run(p, [win(0, { severities: { a: 'critical' } }), win(1, { severities: { b: 'critical' } })]);
    expect(out.retrainEvents[0]!.drifted_features).toEqual(['a', 'b']);
  });

  it('performance: realized below a threshold, with a minimum of labeled samples', () => {
    const p = policy({ when: { performance: { metric: 'roc_auc', below: 0.8, min_samples: 50 } } });
    const out = run(p, [
      win(0, { performance: [{ metric: 'roc_auc', value: 0.7, nLabeled: 10 }] }), // too few labels
      win(1, { performance: [{ metric: 'roc_auc', value: 0.85, nLabeled: 100 }] }), // fine
      win(2, { performance: [{ metric: 'roc_auc', value: 0.7, kind: 'estimated', nLabeled: 100 }] }), // wrong kind
      win(3, { performance: [{ metric: 'roc_auc', value: null, nLabeled: 100 }] }), // no value
      win(4, { performance: [{ metric: 'roc_auc', value: 0.79, nLabeled: 100 }] }),
    ]);
    expect(out.decisions.map((d) => d.conditions[0]!.passed)).toEqual([false, false, false, false, true]);
    expect(out.decisions[0]!.conditions[0]!.note).toMatch(/10 samples < min_samples 50/);
    expect(out.retrainEvents[0]!.conditions[0]).toMatchObject({
      kind: 'performance',
      metric: 'realized.roc_auc',
      value: 0.79,
      threshold: 0.8,
      comparator: 'lt',
    });
  });

  it('performance: estimated (CBPE) counts scored samples; `above` is for loss metrics', () => {
    const est = policy({ when: { performance: { metric: 'accuracy', kind: 'estimated', below: 0.9, min_samples: 100 } } });
    expect(run(est, [win(0, { performance: [{ kind: 'estimated', value: 0.8, nLabeled: 0, nTotal: 500 }] })]).retrainEvents).toHaveLength(1);
    const loss = policy({ when: { performance: { metric: 'log_loss', above: 0.5 } } });
    expect(run(loss, [win(0, { performance: [{ metric: 'log_loss', value: 0.5 }] })]).retrainEvents).toHaveLength(0);
    const fired = run(loss, [win(0, { performance: [{ metric: 'log_loss', value: 0.6 }] })]);
    expect(fired.retrainEvents[0]!.conditions[0]).toMatchObject({ comparator: 'gt', value: 0.6, threshold: 0.5 });
  });

  it('kpi: relative and absolute drop against the written or a fixed baseline', () => {
    const rel = policy({ when: { kpi: { name: 'conv', drop: 0.1, mode: 'relative' } } });
    const k = (value: number | null, baseline: number | null, n = 100): KpiValue[] => [{ kpi: 'conv', value, baseline, n }];
    const out = run(rel, [win(0, { kpis: k(0.19, 0.2) }), win(1, { kpis: k(0.17, 0.2) })]);
    expect(out.decisions[0]!.conditions[0]!.value).toBeCloseTo(0.05, 12);
    expect(out.decisions[1]!.conditions[0]!.value).toBeCloseTo(0.15, 12);
    expect(out.retrainEvents).toHaveLength(1);
    expect(out.retrainEvents[0]!.conditions[0]!.metric).toBe('kpi.conv.relative_drop');

    const abs = policy({ when: { kpi: { name: 'conv', drop: 0.05, mode: 'absolute', baseline: 0.3 } } });
    const a = run(abs, [win(0, { kpis: k(0.26, 0.2) }), win(1, { kpis: k(0.24, null) })]);
    expect(a.decisions.map((d) => d.conditions[0]!.passed)).toEqual([false, true]);
    expect(a.decisions[1]!.conditions[0]!.value).toBeCloseTo(0.06, 12);

    const none = run(rel, [win(0, { kpis: k(0.1, null) }), win(1, { kpis: k(0.1, 0) }), win(2, { kpis: [] })]);
    expect(none.decisions.map((d) => d.conditions[0]!.note)).toEqual([
      'no baseline',
      'baseline is 0: a relative drop is undefined',
      'no value for this window',
    ]);
    // a KPI that rose is not a drop
    expect(run(rel, [win(0, { kpis: k(0.3, 0.2) })]).retrainEvents).toHaveLength(0);
  });

  it('schedule: fires once the cadence elapsed since the first window, then since the last retrain', () => {
    const p = policy({ when: { schedule: { every: '15m' } } }); // 3 windows
    const out = run(
      p,
      Array.from({ length: 8 }, (_, i) => win(i)),
    );
    // window i ends at (i+1)W: elapsed from T0 reaches 3W at i = 2; next from fire end 3W reaches 6W at i = 5
    expect(out.decisions.map((d) => d.decision)).toEqual([
      'suppressed',
      'suppressed',
      'fired',
      'suppressed',
      'suppressed',
      'fired',
      'suppressed',
      'suppressed',
    ]);
    expect(out.retrainEvents.map((e) => e.training_range_end)).toEqual([T0 + 3 * W, T0 + 6 * W]);
  });

  it('min_labels: counts labeled samples since the last retrain and resets when it fires', () => {
    const p = policy({ when: { min_labels: { count: 100 } } });
    const out = run(p, [win(0, { labeled: 60 }), win(1, { labeled: 60 }), win(2, { labeled: 60 }), win(3, { labeled: 60 })]);
    expect(out.decisions.map((d) => d.conditions[0]!.value)).toEqual([60, 120, 60, 120]);
    expect(out.retrainEvents).toHaveLength(2);
  });
});

describe('combination rules', () => {
  // Both on the close clock (CBPE is known when the window closes), so every window is one step;
  // realized performance combined with close-clock conditions is covered under 'late labels'.
  const driftLeaf = { drift: { min_features: 2, min_severity: 'critical' } };
  const perfLeaf = { performance: { metric: 'accuracy', kind: 'estimated', below: 0.8 } };
  const bad = [{ kind: 'estimated', value: 0.7 }];
  const good = [{ kind: 'estimated', value: 0.9 }];

  it('all_of needs every child; the event lists them all', () => {
    const p = policy({ when: { all_of: [driftLeaf, perfLeaf] } });
    const out = run(p, [win(0, { ...drifting, performance: good }), win(1, { ...calm, performance: bad }), win(2, { ...drifting, performance: bad })]);
    expect(out.decisions.map((d) => d.decision)).toEqual(['suppressed', 'suppressed', 'fired']);
    expect(out.retrainEvents[0]!.conditions.map((c) => c.kind)).toEqual(['drift', 'performance']);
  });

  it('any_of needs one child; the event lists only those that held', () => {
    const p = policy({ when: { any_of: [driftLeaf, perfLeaf] }, rearm_after_windows: 1 });
    const out = run(p, [
      win(0, { ...calm, performance: good }),
      win(1, { ...calm, performance: bad }),
      win(2, { ...calm, performance: good }),
      win(3, { ...drifting, performance: good }),
    ]);
    expect(out.decisions.map((d) => d.decision)).toEqual(['suppressed', 'fired', 'suppressed', 'fired']);
    expect(out.retrainEvents.map((e) => e.conditions.map((c) => c.kind))).toEqual([['performance'], ['drift']]);
    // No drift condition contributed: the window's own drifted features (summary) are reported.
    expect(out.retrainEvents[0]!.drifted_features).toEqual(['b']);
    expect(out.retrainEvents[1]!.drifted_features).toEqual(['a', 'b']);
  });

  it('nests: any_of[ all_of[drift, min_labels], kpi ]', () => {
    const p = policy({
      when: { any_of: [{ all_of: [driftLeaf, { min_labels: { count: 100 } }] }, { kpi: { name: 'conv', drop: 0.5 } }] },
    });
    const kpiOk: KpiValue[] = [{ kpi: 'conv', value: 1, baseline: 1, n: 10 }];
    const kpiBad: KpiValue[] = [{ kpi: 'conv', value: 0.4, baseline: 1, n: 10 }];
    // drift without enough labels: insufficient_samples; with them: fires on the all_of branch
    const a = run(p, [win(0, { ...drifting, labeled: 50, kpis: kpiOk }), win(1, { ...drifting, labeled: 60, kpis: kpiOk })]);
    expect(reasons(a.decisions)).toEqual(['insufficient_samples', 'condition_met']);
    expect(a.retrainEvents[0]!.conditions.map((c) => c.kind)).toEqual(['drift', 'min_labels']);
    // the KPI branch alone fires without labels
    const b = run(p, [win(0, { ...calm, kpis: kpiBad })]);
    expect(b.retrainEvents[0]!.conditions.map((c) => c.kind)).toEqual(['kpi']);
    // all_of inside all_of
    const q = policy({ when: { all_of: [{ all_of: [driftLeaf, perfLeaf] }, { any_of: [{ min_labels: { count: 1 } }] }] } });
    expect(run(q, [win(0, { ...drifting, performance: bad, labeled: 0 })]).decisions[0]!.reason).toBe('insufficient_samples');
    expect(run(q, [win(0, { ...drifting, performance: bad, labeled: 1 })]).retrainEvents).toHaveLength(1);
  });
});

describe('hysteresis and cooldown', () => {
  it('fires only after the condition held fire_after_windows windows', () => {
    const p = policy({ when: { drift: { min_features: 2 } }, fire_after_windows: 3 });
    const out = run(p, [win(0, drifting), win(1, drifting), win(2, drifting), win(3, drifting)]);
    expect(reasons(out.decisions)).toEqual(['pending_windows', 'pending_windows', 'condition_met', 'hysteresis']);
    const key = idempotencyKey('p', 'm', '1', T0);
    expect(out.retrainEvents[0]!.idempotency_key).toBe(key);
    // every decision of the episode carries the episode's key
    expect(out.decisions.map((d) => d.idempotencyKey)).toEqual([key, key, key, key]);
  });

  it('fires once per episode and re-arms only after rearm_after_windows clear windows', () => {
    const p = policy({ when: { drift: { min_features: 2 } }, rearm_after_windows: 2 });
    const seq = [drifting, drifting, calm, drifting, calm, calm, drifting, drifting];
    const out = run(
      p,
      seq.map((o, i) => win(i, o)),
    );
    expect(reasons(out.decisions)).toEqual([
      'condition_met',
      'hysteresis',
      'condition_not_met', // clear 1 of 2
      'hysteresis', // holds again before re-arming: still the first episode
      'condition_not_met',
      'condition_not_met', // clear 2 of 2: re-armed
      'condition_met', // a new episode
      'hysteresis',
    ]);
    expect(out.retrainEvents.map((e) => e.idempotency_key)).toEqual([idempotencyKey('p', 'm', '1', T0), idempotencyKey('p', 'm', '1', T0 + 6 * W)]);
    expect(out.decisions[3]!.idempotencyKey).toBe(idempotencyKey('p', 'm', '1', T0));
  });

  it('a flapping condition produces no event within the cooldown, then fires when it holds after it', () => {
    const p = policy({ when: { drift: { min_features: 2 } }, rearm_after_windows: 1, cooldown: '30m' }); // 6 windows
    const seq = Array.from({ length: 10 }, (_, i) => (i % 2 === 0 ? drifting : calm));
    const out = run(
      p,
      seq.map((o, i) => win(i, o)),
    );
    expect(out.decisions.map((d) => `${d.decision}/${d.reason}`)).toEqual([
      'fired/condition_met', // window 0 ends at 1W; cooldown until 7W
      'suppressed/condition_not_met',
      'suppressed/cooldown', // ends 3W
      'suppressed/condition_not_met',
      'suppressed/cooldown', // ends 5W
      'suppressed/condition_not_met',
      'fired/condition_met', // ends 7W: cooldown over
      'suppressed/condition_not_met',
      'suppressed/cooldown',
      'suppressed/condition_not_met',
    ]);
    expect(out.retrainEvents).toHaveLength(2);
    expect(out.decisions[2]!.detail.cooldownUntil).toBe(T0 + 7 * W);
  });

  it('an episode suppressed by the cooldown fires with its own key once the cooldown ends', () => {
    const p = policy({ when: { drift: { min_features: 2 } }, cooldown: '20m' }); // 4 windows
    const seq = [drifting, calm, drifting, drifting, drifting, drifting];
    const out = run(
      p,
      seq.map((o, i) => win(i, o)),
    );
    expect(reasons(out.decisions)).toEqual(['condition_met', 'condition_not_met', 'cooldown', 'cooldown', 'condition_met', 'hysteresis']);
    expect(out.retrainEvents[1]!.idempotency_key).toBe(idempotencyKey('p', 'm', '1', T0 + 2 * W));
  });
});

describe('alerts', () => {
  it('FIRING when a condition starts holding, RESOLVED with the same id when it clears', () => {
    const p = policy({
      when: { any_of: [{ drift: { min_features: 2, min_severity: 'critical', for_windows: 2 } }, { min_labels: { count: 1000, id: 'labels' } }] },
      alert_severity: 'CRITICAL',
    });
    const out = run(p, [win(0, drifting), win(1, drifting), win(2, drifting), win(3, calm)]);
    expect(out.alerts.map((a) => [a.status, a.rule, a.window_start, a.window_end])).toEqual([
      ['FIRING', 'p/any_of[0].drift', T0, T0 + 2 * W],
      ['RESOLVED', 'p/any_of[0].drift', T0 + 3 * W, T0 + 4 * W],
    ]);
    const id = alertId('p', 'm', '1', 'any_of[0].drift', T0);
    expect(out.alerts.map((a) => a.alert_id)).toEqual([id, id]);
    expect(out.alerts[0]).toMatchObject({ severity: 'CRITICAL', metric: 'features_at_or_above_critical', value: 2, threshold: 2, created_at: NOW });
    expect(out.alerts[0]!.message).toMatch(/a, b/);
  });

  it('raises alerts whether or not the retrain is suppressed', () => {
    const p = policy({ when: { drift: { min_features: 2 } }, cooldown: '1d' });
    const out = run(p, [win(0, drifting), win(1, calm), win(2, drifting)]);
    expect(out.retrainEvents).toHaveLength(1);
    expect(out.alerts.map((a) => a.status)).toEqual(['FIRING', 'RESOLVED', 'FIRING']);
  });
});

describe('state, determinism and idempotency', () => {
  const p = policy({ when: { drift: { min_features: 2, for_windows: 2 } }, rearm_after_windows: 2, cooldown: '10m' });
  const seq = [calm, drifting, drifting, drifting, calm, calm, drifting, drifting, calm, drifting, drifting].map((o, i) => win(i, o));

  it('window by window with the state carried over equals one batch (a restart resumes exactly)', () => {
    const batch = run(p, seq);
    let state: PolicyState = { policies: [p], triggers: {} };
    const decisions: Decision[] = [];
    const events = [];
    for (const w of seq) {
      // Through JSON, as the state is stored in retrain_decisions.detail and read back.
      const out = evaluate(JSON.parse(JSON.stringify(state)) as PolicyState, [w], NOW);
      state = { policies: [p], triggers: out.state.triggers };
      decisions.push(...out.decisions);
      events.push(...out.retrainEvents);
    }
    expect(decisions).toEqual(batch.decisions);
    expect(events).toEqual(batch.retrainEvents);
    // fires at windows 2, 7 and 10: window 9's first drifting window does not hold yet (for_windows 2),
    // so windows 8 and 9 count as clear and re-arm the policy.
    expect(batch.retrainEvents.map((e) => e.training_range_end)).toEqual([T0 + 3 * W, T0 + 8 * W, T0 + 11 * W]);
  });

  it('re-evaluating from an earlier state yields the same idempotency keys (crash between publish and record)', () => {
    const first = run(p, seq.slice(0, 4));
    const before = run(p, seq.slice(0, 2));
    const replay = evaluate(before.state, seq.slice(2, 4), NOW + 5000);
    expect(replay.retrainEvents.map((e) => e.idempotency_key)).toEqual(first.retrainEvents.map((e) => e.idempotency_key));
  });

  it('ignores windows at or before the high-water mark, and orders unsorted input', () => {
    const out = run(p, [seq[3]!, seq[1]!, seq[2]!]);
    expect(out.decisions.map((d) => d.windowStart)).toEqual([seq[1]!.windowStart, seq[2]!.windowStart, seq[3]!.windowStart]);
    const again = evaluate(out.state, [seq[2]!, seq[3]!], NOW);
    expect(again.decisions).toHaveLength(0);
  });

  it('keeps separate state per model version and per policy, with distinct keys', () => {
    const q = parsePolicies([{ id: 'q', model: 'm', when: { drift: { min_features: 1 } } }])[0]!;
    const out = run(
      [p, q],
      [
        win(0, { ...drifting, version: '1' }),
        win(0, { ...drifting, version: '2' }),
        win(1, { ...drifting, version: '1' }),
        win(1, { ...drifting, version: '2' }),
      ],
    );
    expect(out.retrainEvents.map((e) => `${e.policy_id}/${e.model_version}`).sort()).toEqual(['p/1', 'p/2', 'q/1', 'q/2']);
    expect(new Set(out.retrainEvents.map((e) => e.idempotency_key)).size).toBe(4);
    expect(Object.keys(out.state.triggers).sort()).toEqual(
      [stateKey('p', 'm', '1'), stateKey('p', 'm', '2'), stateKey('q', 'm', '1'), stateKey('q', 'm', '2')].sort(),
    );
    // decisions of different versions never share a key (retrain_decisions' sorting key has no version)
    const keys = out.decisions.map((d) => `${d.policyId}|${d.windowStart}|${d.decision}|${d.idempotencyKey}`);
    expect(new Set(keys).size).toBe(keys.length);
  });

  it('ignores other models and versions the policy does not list', () => {
    const v2only = parsePolicies([{ id: 'v', model: 'm', versions: ['2'], when: { drift: { min_features: 1 } } }])[0]!;
    expect(run(v2only, [win(0, { ...drifting, version: '1' }), win(0, { ...drifting, model: 'other', version: '2' })]).decisions).toHaveLength(0);
  });

  it('does not mutate its input state', () => {
    const s0: PolicyState = { policies: [p], triggers: {} };
    const s1 = run(p, seq.slice(0, 3), s0).state;
    const snapshot = JSON.stringify(s1);
    run(p, seq.slice(3), s1);
    expect(JSON.stringify(s1)).toBe(snapshot);
    expect(s0.triggers).toEqual({});
  });

  it('a reloaded policy keeps cooldown and episode state but resets leaves whose definition changed', () => {
    const p1 = policy({
      when: { any_of: [{ drift: { min_features: 2, min_severity: 'critical', id: 'd' } }, { schedule: { every: '30d', id: 's' } }] },
      cooldown: '1h',
    });
    const a = run(p1, [win(0, drifting)]);
    expect(a.retrainEvents).toHaveLength(1);
    const p2 = policy({
      when: { any_of: [{ drift: { min_features: 3, min_severity: 'critical', id: 'd' } }, { schedule: { every: '30d', id: 's' } }] },
      cooldown: '1h',
    });
    const b = evaluate({ policies: [p2], triggers: a.state.triggers }, [win(1, drifting)], NOW);
    // the drift leaf's incident is closed (its definition changed), the new definition does not hold
    expect(b.alerts.map((x) => [x.status, x.rule])).toEqual([['RESOLVED', 'p/d']]);
    expect(b.decisions[0]!.reason).toBe('condition_not_met');
    // the unchanged schedule leaf kept its state; the last retrain (cooldown, schedule anchor) is kept
    expect(b.state.triggers[stateKey('p', 'm', '1')]!.leaves.s!.hash).toBe(p1.leaves[1]!.hash);
    expect(b.state.triggers[stateKey('p', 'm', '1')]!.lastFiredWindowEnd).toBe(T0 + W);
    const c = evaluate({ policies: [p2], triggers: b.state.triggers }, [win(2, { severities: { a: 'critical', b: 'critical', c: 'critical' } })], NOW);
    expect(c.decisions[0]!.reason).toBe('cooldown');
  });

  it('records the state after each window in the decision detail', () => {
    const out = run(p, seq.slice(0, 3));
    const last = out.decisions[2]!;
    expect(last.detail.state).toEqual(out.state.triggers[stateKey('p', 'm', '1')]);
    expect(JSON.parse(JSON.stringify(last))).toEqual(last);
  });
});

describe('late labels: the labels clock', () => {
  const K = stateKey('p', 'm', '1');
  /** Window i as it reads while labels arrive: realized accuracy with n labels so far. */
  const acc = (i: number, value: number | null, n: number, o: WinOpts = {}) =>
    win(i, { final: false, labeled: n, performance: [{ metric: 'accuracy', value, nLabeled: n }], ...o });
  /** The same window re-read later: a label update of a window already closed. */
  const upd = (i: number, value: number | null, n: number, final = false) => acc(i, value, n, { labelsOnly: true, final });
  const lowAccuracy = policy({ when: { performance: { metric: 'accuracy', below: 0.7, min_samples: 100, for_windows: 2 } } });

  it('realized performance fires only once late labels are in, over consecutive windows in event-time order', () => {
    // Windows close with a handful of labels: a realized condition is not tested on them yet.
    const a = run(lowAccuracy, [acc(0, 0.4, 5), acc(1, 0.4, 5), acc(2, 0.4, 5), acc(3, 0.9, 5)]);
    expect(a.decisions).toEqual([]);
    expect(a.state.triggers[K]).toMatchObject({ lastWindowEnd: T0 + 4 * W, labelWindowEnd: null });

    // Labels arrive: window 0 reaches min_samples, window 1 not yet, window 2 has. Window 1 holds
    // window 2 back, so "2 consecutive windows" keeps its event-time meaning.
    const b = evaluate(a.state, [upd(0, 0.6, 150), upd(1, 0.6, 40), upd(2, 0.62, 150), upd(3, 0.9, 10)], NOW);
    expect(b.decisions.map((d) => [d.windowStart, d.detail.clock, d.reason, d.conditions[0]!.streak])).toEqual([[T0, 'labels', 'condition_not_met', 1]]);
    expect(b.decisions[0]!.conditions[0]).toMatchObject({ evaluated: true, value: 0.6, note: 'provisional: 150 labeled, labels still arriving' });
    expect(b.retrainEvents).toEqual([]);

    // Window 1's labels are in: two consecutive low windows, fired; window 2 is in the episode.
    const c = evaluate(b.state, [upd(1, 0.65, 120), upd(2, 0.62, 180), upd(3, 0.9, 10)], NOW);
    expect(reasons(c.decisions)).toEqual(['condition_met', 'hysteresis']);
    expect(c.retrainEvents).toHaveLength(1);
    const ev = c.retrainEvents[0]!;
    expect(ev.idempotency_key).toBe(idempotencyKey('p', 'm', '1', T0 + W, 'labels'));
    expect(ev.idempotency_key).not.toBe(idempotencyKey('p', 'm', '1', T0 + W));
    expect(ev.conditions).toEqual([
      { kind: 'performance', metric: 'realized.accuracy', value: 0.65, threshold: 0.7, comparator: 'lt', window_start: T0, window_end: T0 + 2 * W },
    ]);
    // The recommended range ends at the evidence; the cooldown runs from the newest window seen.
    expect(ev.training_range_end).toBe(T0 + 2 * W);
    expect(c.state.triggers[K]).toMatchObject({ lastFiredWindowEnd: T0 + 4 * W, labelWindowEnd: T0 + 3 * W, labelsFrom: T0 + 2 * W });
    // A suppressed label step keeps its own key: the episode's would collapse with the window's close row.
    expect(c.decisions[1]!.idempotencyKey).toMatch(/^dl-/);
    expect(c.decisions[1]!.detail.episodeKey).toBe(ev.idempotency_key);

    // Window 3 turns final without reaching min_samples: evaluated, and counted as not passing.
    const d = evaluate(c.state, [upd(3, 0.5, 60, true)], NOW);
    expect(d.decisions.map((x) => x.conditions[0]!.note)).toEqual(['60 samples < min_samples 100']);
    expect(d.retrainEvents).toEqual([]);
  });

  it('without min_samples a realized condition waits for the final value', () => {
    const p = policy({ when: { performance: { metric: 'accuracy', below: 0.7 } } });
    const a = run(p, [acc(0, 0.5, 5000)]);
    expect(a.decisions).toEqual([]);
    const b = evaluate(a.state, [upd(0, 0.5, 5000)], NOW);
    expect(b.decisions).toEqual([]);
    const c = evaluate(b.state, [upd(0, 0.8, 6000, true)], NOW);
    expect(c.decisions.map((x) => [x.reason, x.conditions[0]!.value, x.conditions[0]!.note])).toEqual([['condition_not_met', 0.8, null]]);
  });

  it('re-evaluation never double-fires: windows already evaluated on labels are not evaluated again', () => {
    const a = run(lowAccuracy, [acc(0, 0.4, 5), acc(1, 0.4, 5), acc(2, 0.4, 5)]);
    const updates = [upd(0, 0.6, 150), upd(1, 0.6, 150), upd(2, 0.6, 150)];
    const b = evaluate(a.state, updates, NOW);
    expect(b.retrainEvents).toHaveLength(1);
    // The same rows again, rewritten rows of evaluated windows, and their final versions: no decision.
    let state = b.state;
    for (const again of [updates, [upd(0, 0.1, 400), upd(1, 0.1, 400)], [upd(0, 0.2, 900, true), upd(1, 0.2, 900, true), upd(2, 0.2, 900, true)]]) {
      // Through JSON, as a restarted instance restores the state from retrain_decisions.
      const out = evaluate(JSON.parse(JSON.stringify(state)) as PolicyState, again, NOW + 1);
      expect(out.decisions).toEqual([]);
      expect(out.retrainEvents).toEqual([]);
      state = out.state;
    }
    // Re-evaluating from the state before the fire (a crash between publish and record) gives the same key.
    const replay = evaluate(JSON.parse(JSON.stringify(a.state)) as PolicyState, updates, NOW + 2);
    expect(replay.retrainEvents.map((e) => e.idempotency_key)).toEqual(b.retrainEvents.map((e) => e.idempotency_key));
    expect(replay.decisions.map((d) => d.reason)).toEqual(b.decisions.map((d) => d.reason));
  });

  it('a window closed with its labels already final is evaluated on both clocks in one poll', () => {
    const p = policy({ when: { any_of: [{ drift: { min_features: 2, id: 'd' } }, { performance: { metric: 'accuracy', below: 0.7, id: 'acc' } }] } });
    const out = run(p, [win(0, { ...calm, performance: [{ value: 0.5 }] })]);
    expect(out.decisions.map((d) => `${d.detail.clock}/${d.reason}`)).toEqual(['close/condition_not_met', 'labels/condition_met']);
    // At the close step the realized condition is not evaluated yet, and says so.
    expect(out.decisions[0]!.conditions.find((c) => c.id === 'acc')).toMatchObject({
      evaluated: false,
      holds: false,
      note: 'not evaluated yet: waits for the labels of its windows',
    });
    // At the label step the drift condition is carried from the close step.
    expect(out.decisions[1]!.conditions.find((c) => c.id === 'd')).toMatchObject({ evaluated: false, value: 1, windowEnd: T0 + W });
    // Two rows for the same window, with different keys: neither replaces the other in retrain_decisions.
    expect(new Set(out.decisions.map((d) => `${d.windowStart}|${d.decision}|${d.idempotencyKey}`)).size).toBe(2);
  });

  it('mixed clocks: realized evidence older than the last fire, or within its cooldown, never fires, even carried into a close step', () => {
    const p = policy({
      when: { any_of: [{ drift: { min_features: 2, id: 'd' } }, { performance: { metric: 'accuracy', below: 0.7, min_samples: 100, id: 'acc' } }] },
      cooldown: '10m', // 2 windows
      rearm_after_windows: 1,
    });
    // Drift fires at window 2's close; window 3 is clear again (re-armed). Cooldown until 3W + 2W.
    const a = run(p, [acc(0, null, 0, calm), acc(1, null, 0, calm), acc(2, null, 0, drifting), acc(3, null, 0, calm)]);
    expect(a.decisions.map((d) => `${d.detail.clock}/${d.reason}`)).toEqual([
      'close/condition_not_met',
      'close/condition_not_met',
      'close/condition_met',
      'close/condition_not_met',
    ]);
    expect(a.state.triggers[K]!.lastFiredWindowEnd).toBe(T0 + 3 * W);
    // A day later the labels show the degradation in windows 0-3: evidence the fired request covers.
    const b = evaluate(a.state, [upd(0, 0.5, 200), upd(1, 0.5, 200), upd(2, 0.5, 200), upd(3, 0.5, 200)], NOW);
    expect(b.decisions.map((d) => `${d.detail.clock}/${d.reason}`)).toEqual(Array(4).fill('labels/cooldown'));
    // Window 4 closes calm: the realized condition still holds (carried, evidence to 4W, in cooldown).
    const c = evaluate(b.state, [acc(4, null, 0, calm)], NOW);
    expect(c.decisions.map((d) => `${d.detail.clock}/${d.reason}`)).toEqual(['close/cooldown']);
    expect(c.retrainEvents).toEqual([]);
    // Window 4's own labels are low and past the cooldown: that fires, on the labels clock.
    const d = evaluate(c.state, [upd(4, 0.5, 200)], NOW);
    expect(d.decisions.map((x) => `${x.detail.clock}/${x.reason}`)).toEqual(['labels/condition_met']);
    expect(d.retrainEvents[0]!.conditions.map((x) => [x.metric, x.window_end])).toEqual([['realized.accuracy', T0 + 5 * W]]);
  });

  it('all_of(drift, realized): each condition keeps the status of its last evaluation', () => {
    const p = policy({
      when: { all_of: [{ drift: { min_features: 2, id: 'd' } }, { performance: { metric: 'accuracy', below: 0.7, min_samples: 100, id: 'acc' } }] },
    });
    // Drift holds from window 1 on; the labels are not in yet.
    const a = run(p, [acc(0, null, 0, calm), acc(1, null, 0, drifting), acc(2, null, 0, drifting)]);
    expect(reasons(a.decisions)).toEqual(['condition_not_met', 'condition_not_met', 'condition_not_met']);
    // Window 0's labels: fine. Window 1's: low, while drift still holds: fired on the labels of window 1.
    const b = evaluate(a.state, [upd(0, 0.9, 200), upd(1, 0.5, 200)], NOW);
    expect(b.decisions.map((d) => `${d.windowStart - T0}/${d.detail.clock}/${d.reason}`)).toEqual([`0/labels/condition_not_met`, `${W}/labels/condition_met`]);
    expect(b.retrainEvents[0]!.conditions.map((x) => [x.kind, x.window_start, x.window_end])).toEqual([
      ['drift', T0 + W, T0 + 3 * W], // carried: the drift run as of the newest close
      ['performance', T0 + W, T0 + 2 * W],
    ]);
    // drift's default min_severity is warning: c counts too
    expect(b.retrainEvents[0]!.drifted_features).toEqual(['a', 'b', 'c']);
  });

  it('min_labels counts labels that arrived after their windows closed (the adapter sums the current rows)', () => {
    const p = policy({ when: { min_labels: { count: 300 } } });
    const total = (s: TriggerState, labeled: number): LabelTotal => ({ policyId: 'p', modelName: 'm', modelVersion: '1', ...labelCountRange(s)!, labeled });
    // At close, windows have few labels.
    const a = run(p, [win(0, { labeled: 10 }), win(1, { labeled: 10 })]);
    expect(a.decisions.map((d) => d.conditions[0]!.value)).toEqual([10, 20]);
    // Later: 230 more labels arrived for windows 0 and 1; window 2 closes with 10.
    const b = evaluate(a.state, [win(2, { labeled: 10 })], NOW, { labelTotals: [total(a.state.triggers[K]!, 250)] });
    expect(b.decisions.map((d) => [d.reason, d.conditions[0]!.value])).toEqual([['insufficient_samples', 260]]);
    const c = evaluate(b.state, [win(3, { labeled: 5 })], NOW, { labelTotals: [total(b.state.triggers[K]!, 400)] });
    expect(c.decisions.map((d) => [d.reason, d.conditions[0]!.value])).toEqual([['condition_met', 405]]);
    // The retrain resets the count to the windows after window 3; a total for the old range is ignored.
    expect(c.state.triggers[K]).toMatchObject({ labelsFrom: T0 + 4 * W, labelsSinceRetrain: 0 });
    expect(labelCountRange(c.state.triggers[K]!)).toEqual({ from: T0 + 4 * W, through: T0 + 4 * W });
    const stale: LabelTotal = { policyId: 'p', modelName: 'm', modelVersion: '1', from: T0, through: T0 + 4 * W, labeled: 999 };
    const d = evaluate(c.state, [win(4, { labeled: 20 })], NOW, { labelTotals: [stale] });
    expect(d.decisions.map((x) => x.conditions[0]!.value)).toEqual([20]);
    // Counting only the labels present when each window closed, the same stream never gets there.
    const atClose = run(
      p,
      [0, 1, 2, 3, 4].map((i) => win(i, { labeled: [10, 10, 10, 5, 20][i] })),
    );
    expect(atClose.retrainEvents).toEqual([]);
  });

  it('min_labels after a fire on the labels clock counts the windows after the fired window', () => {
    const p = policy({ when: { all_of: [{ performance: { metric: 'accuracy', below: 0.7, min_samples: 100 } }, { min_labels: { count: 100 } }] } });
    const a = run(p, [acc(0, 0.5, 5), acc(1, 0.5, 5), acc(2, 0.5, 5), acc(3, 0.5, 5)]);
    expect(a.decisions).toEqual([]);
    const totals = [{ policyId: 'p', modelName: 'm', modelVersion: '1', ...labelCountRange(a.state.triggers[K]!)!, labeled: 150 + 30 + 20 + 10 }];
    const b = evaluate(a.state, [upd(0, 0.5, 150), upd(1, 0.9, 30), upd(2, 0.9, 20), upd(3, 0.9, 10)], NOW, { labelTotals: totals });
    expect(b.decisions.map((d) => [d.windowStart, d.reason])).toEqual([[T0, 'condition_met']]);
    expect(b.decisions[0]!.conditions[1]!.value).toBe(210);
    // Windows 1-3 were not in the training range that ended at window 0: their 60 labels count.
    expect(b.state.triggers[K]).toMatchObject({ labelsFrom: T0 + W, labelsSinceRetrain: 60, lastFiredWindowEnd: T0 + 4 * W });
  });

  it('a policy with no realized condition ignores label updates; states recorded before the labels clock resume', () => {
    const p = policy({ when: { drift: { min_features: 2 } } });
    const a = run(p, [win(0, drifting)]);
    expect(evaluate(a.state, [upd(0, 0.1, 900, true)], NOW).decisions).toEqual([]);
    // A state as recorded by the previous version (no seq, labels cursor, episode clock, leaf evidence).
    const { seq: _seq, labelWindowEnd: _l, episodeClock: _c, labelsFrom: _f, ...legacy } = a.state.triggers[K]!;
    const leaves = Object.fromEntries(Object.entries(legacy.leaves).map(([id, { last: _last, ...l }]) => [id, l]));
    const up = upgradeTriggerState({ ...legacy, leaves } as unknown as TriggerState);
    expect(up).toMatchObject({ seq: 0, labelWindowEnd: null, episodeClock: 'close', labelsFrom: T0 + W });
    const next = evaluate({ policies: [p], triggers: { [K]: up } }, [win(1, drifting)], NOW);
    expect(reasons(next.decisions)).toEqual(['hysteresis']);
  });
});
