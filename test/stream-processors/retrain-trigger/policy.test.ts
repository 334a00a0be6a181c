import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { loadConfig } from '../../../lib/runtime/config.js';
import { PolicyInvalidError } from '../../../lib/runtime/errors.js';
import { policyClocks } from '../../../stream-processors/retrain-trigger/core.js';
import { SEVERITY_LEVEL as WM_SEVERITY } from '../../../stream-processors/window-metrics/config.js';
import {
  parseDuration,
  parsePolicies,
  policyApplies,
  severityLevel,
  SEVERITY_LEVELS,
  validatePolicy,
  type DriftLeaf,
  type KpiLeaf,
  type PerformanceLeaf,
} from '../../../stream-processors/retrain-trigger/policy.js';

function problemsOf(section: unknown): string[] {
  try {
    parsePolicies(section);
  } catch (err) {
    expect(err).toBeInstanceOf(PolicyInvalidError);
    expect((err as PolicyInvalidError).code).toBe('DW_POLICY_INVALID');
    return (err as PolicyInvalidError).details.problems as string[];
  }
  throw new Error('expected the policies to be rejected');
}

const FULL = `
policies:
  - id: churn-drift
    model: churn
    versions: ["3", "4"]
    when:
      any_of:
        - drift: { min_features: 2, min_severity: critical, for_windows: 3 }
        - performance: { metric: roc_auc, kind: estimated, below: 0.7, min_samples: 50 }
        - all_of:
            - kpi: { name: conversion_rate, drop: 0.1, mode: relative, id: conv }
            - min_labels: { count: 1000 }
        - schedule: { every: 7d }
    fire_after_windows: 2
    rearm_after_windows: 3
    cooldown: 6h
    training_lookback: 14d
    alert_severity: CRITICAL
  - id: fraud-loss
    model: fraud
    when:
      performance: { metric: log_loss, above: 0.5 }
`;

describe('parsePolicies', () => {
  it('parses every condition kind, nested combinations and the policy settings', () => {
    const [p, q] = parsePolicies((parseYaml(FULL) as { policies: unknown }).policies);
    expect(p!.id).toBe('churn-drift');
    expect(p!.versions).toEqual(['3', '4']);
    expect(p!.fireAfterWindows).toBe(2);
    expect(p!.rearmAfterWindows).toBe(3);
    expect(p!.cooldownMs).toBe(6 * 3_600_000);
    expect(p!.trainingLookbackMs).toBe(14 * 86_400_000);
    expect(p!.when.kind).toBe('any_of');
    expect(p!.leaves.map((l) => l.id)).toEqual(['any_of[0].drift', 'any_of[1].performance', 'conv', 'any_of[2].all_of[1].min_labels', 'any_of[3].schedule']);
    const drift = p!.leaves[0] as DriftLeaf;
    expect([drift.minFeatures, drift.minSeverity, drift.minSeverityName, drift.forWindows]).toEqual([2, 2, 'critical', 3]);
    const perf = p!.leaves[1] as PerformanceLeaf;
    expect([perf.metric, perf.perfKind, perf.below, perf.above, perf.minSamples]).toEqual(['roc_auc', 'estimated', 0.7, null, 50]);
    const kpi = p!.leaves[2] as KpiLeaf;
    expect([kpi.kpi, kpi.drop, kpi.mode, kpi.baseline]).toEqual(['conversion_rate', 0.1, 'relative', null]);
    expect(p!.leaves.every((l) => l.alertSeverity === 'CRITICAL')).toBe(true);
    expect(q!.leaves).toHaveLength(1);
    expect(q!.when.kind).toBe('performance');
    expect(q!.when.id).toBe('performance');
    // defaults
    expect([q!.fireAfterWindows, q!.rearmAfterWindows, q!.cooldownMs, q!.trainingLookbackMs, q!.alertSeverity]).toEqual([1, 1, 0, 30 * 86_400_000, 'WARNING']);
    expect((q!.leaves[0] as PerformanceLeaf).perfKind).toBe('realized');
    expect(Object.isFrozen(p) && Object.isFrozen(p!.leaves[0])).toBe(true);
  });

  it('treats an absent section as no policies', () => {
    expect(parsePolicies(undefined)).toEqual([]);
    expect(parsePolicies(null)).toEqual([]);
  });

  it('lists every problem at once, each with its path', () => {
    const problems = problemsOf([
      {
        id: 'bad id!',
        model: '',
        cooldwon: '1h',
        cooldown: 'soon',
        fire_after_windows: 0,
        rearm_after_windows: 1.5,
        alert_severity: 'LOUD',
        when: {
          all_of: [
            { drift: { min_features: 0, min_severity: 'extreme', for_windows: -1 } },
            { performance: { metric: 'wow', below: 0.5, above: 0.9 } },
            { kpi: { drop: -1, mode: 'percent' } },
            { schedule: {} },
            { min_labels: { count: 'many' } },
            { any_of: [] },
            { drift: {}, kpi: { name: 'x', drop: 1 } },
            { when: {} },
          ],
        },
      },
      { id: 'p2', model: 'm' },
    ]);
    const text = problems.join('\n');
    const expected = [
      /policies\[0\]\.cooldwon: unknown key/,
      /policies\[0\]\.id: expected a name matching/,
      /policies\[0\]\.model: expected a non-empty string/,
      /policies\[0\]\.cooldown: expected a duration/,
      /policies\[0\]\.fire_after_windows: expected an integer >= 1, got 0/,
      /policies\[0\]\.rearm_after_windows: expected an integer >= 1, got 1.5/,
      /policies\[0\]\.alert_severity: expected one of INFO, WARNING, CRITICAL/,
      /policies\[0\]\.when\.all_of\[0\]\.drift\.min_features: expected an integer >= 1, got 0/,
      /policies\[0\]\.when\.all_of\[0\]\.drift\.min_severity: expected a severity/,
      /policies\[0\]\.when\.all_of\[0\]\.drift\.for_windows: expected an integer >= 1, got -1/,
      /policies\[0\]\.when\.all_of\[1\]\.performance\.metric: expected one of accuracy/,
      /policies\[0\]\.when\.all_of\[1\]\.performance: give exactly one of below .* or above/,
      /policies\[0\]\.when\.all_of\[2\]\.kpi\.drop: expected a positive finite number, got -1/,
      /policies\[0\]\.when\.all_of\[2\]\.kpi\.mode: expected one of relative, absolute/,
      /policies\[0\]\.when\.all_of\[2\]\.kpi\.name: expected a non-empty string, got nothing/,
      /policies\[0\]\.when\.all_of\[3\]\.schedule\.every: required/,
      /policies\[0\]\.when\.all_of\[4\]\.min_labels\.count: expected an integer >= 1/,
      /policies\[0\]\.when\.all_of\[5\]\.any_of: expected a non-empty list/,
      /policies\[0\]\.when\.all_of\[6\]: exactly one condition per list item, got drift and kpi/,
      /policies\[0\]\.when\.all_of\[7\]\.when: unknown condition/,
      /policies\[1\]\.when: required/,
    ];
    for (const re of expected) expect(text).toMatch(re);
    expect(problems).toHaveLength(expected.length);
  });

  it('rejects duplicate policy ids, duplicate condition ids and a non-list section', () => {
    const leaf = { min_labels: { count: 1, id: 'same' } };
    const problems = problemsOf([
      { id: 'a', model: 'm', when: { any_of: [leaf, leaf] } },
      { id: 'a', model: 'm', when: { schedule: { every: '1d' } } },
    ]);
    expect(problems.join('\n')).toMatch(/policies\[0\]\.when: two conditions share the id "same"/);
    expect(problems.join('\n')).toMatch(/policies\[1\]\.id: "a" is already the id of policies\[0\]/);
    expect(problemsOf({ id: 'x' }).join()).toMatch(/expected a list/);
  });

  it('rejects for_windows where it means nothing', () => {
    expect(problemsOf([{ id: 'a', model: 'm', when: { min_labels: { count: 5, for_windows: 2 } } }]).join()).toMatch(
      /for_windows: not applicable to min_labels/,
    );
  });

  it('accepts a severity level number and names its level', () => {
    const [p, q] = parsePolicies([
      { id: 'a', model: 'm', when: { drift: { min_severity: 2 } } },
      { id: 'b', model: 'm', when: { drift: {} } },
    ]);
    expect((p!.leaves[0] as DriftLeaf).minSeverity).toBe(2);
    expect((p!.leaves[0] as DriftLeaf).minSeverityName).toBe('critical');
    // default: any drifted feature (warning or worse)
    expect([(q!.leaves[0] as DriftLeaf).minSeverity, (q!.leaves[0] as DriftLeaf).minFeatures]).toEqual([1, 1]);
  });

  it('changes a leaf hash only when the leaf changes', () => {
    const base = { id: 'a', model: 'm', when: { all_of: [{ drift: { min_features: 2 } }, { min_labels: { count: 10 } }] } };
    const [p1] = parsePolicies([base]);
    const [p2] = parsePolicies([{ ...base, when: { all_of: [{ drift: { min_features: 3 } }, { min_labels: { count: 10 } }] } }]);
    expect(p1!.leaves[0]!.hash).not.toBe(p2!.leaves[0]!.hash);
    expect(p1!.leaves[1]!.hash).toBe(p2!.leaves[1]!.hash);
    expect(p1!.hash).not.toBe(p2!.hash);
  });
});

describe('severity scale', () => {
  it('is the scale the window-metrics processor writes', () => {
    expect(SEVERITY_LEVELS).toEqual({ none: WM_SEVERITY.none, warning: WM_SEVERITY.warning, critical: WM_SEVERITY.critical });
    expect(severityLevel('unknown')).toBe(WM_SEVERITY.unknown);
    expect(severityLevel('CRITICAL')).toBe(2);
    expect(problemsOf([{ id: 'a', model: 'm', when: { drift: { min_severity: 'high' } } }]).join()).toMatch(
      /min_severity: expected a severity \(none, warning, critical\)/,
    );
  });
});

describe('validatePolicy (the API validator)', () => {
  it('returns problems without the list prefix, or nothing when valid', () => {
    expect(validatePolicy({ id: 'a', model: 'm', when: { schedule: { every: '1d' } } })).toEqual([]);
    const problems = validatePolicy({ id: 'a', model: 'm', when: { schedule: { every: 'often' } } });
    expect(problems).toEqual([expect.stringMatching(/^when\.schedule\.every: expected a positive duration/)]);
  });
});

describe('parseDuration', () => {
  it('reads units and plain milliseconds', () => {
    expect(parseDuration('500ms')).toBe(500);
    expect(parseDuration('30s')).toBe(30_000);
    expect(parseDuration('15m')).toBe(900_000);
    expect(parseDuration('1.5h')).toBe(5_400_000);
    expect(parseDuration('7d')).toBe(604_800_000);
    expect(parseDuration('2w')).toBe(1_209_600_000);
    expect(parseDuration(1234)).toBe(1234);
    expect(parseDuration('1234')).toBe(1234);
    expect(parseDuration('-1h')).toBeNull();
    expect(parseDuration('1y')).toBeNull();
    expect(parseDuration(-5)).toBeNull();
  });
});

describe('policyApplies', () => {
  it('matches the model and, when listed, the version', () => {
    const [all, some] = parsePolicies([
      { id: 'a', model: 'm', when: { schedule: { every: '1d' } } },
      { id: 'b', model: 'm', versions: ['2'], when: { schedule: { every: '1d' } } },
    ]);
    expect(policyApplies(all!, 'm', '1')).toBe(true);
    expect(policyApplies(all!, 'other', '1')).toBe(false);
    expect(policyApplies(some!, 'm', '1')).toBe(false);
    expect(policyApplies(some!, 'm', '2')).toBe(true);
  });
});

describe('the shipped configuration (config/driftwatch.yaml)', () => {
  it('parses, and its policies step on the clocks their conditions need', () => {
    const file = new URL('../../../config/driftwatch.yaml', import.meta.url).pathname;
    const policies = parsePolicies(loadConfig({ DW_CONFIG_FILE: file }).sections.policies);
    expect(Object.fromEntries(policies.map((p) => [p.id, policyClocks(p)]))).toEqual({
      // drift on close, realized accuracy once its labels are in
      'credit-risk-drift': { close: true, labels: true },
      'delivery-eta-drift': { close: true, labels: false },
    });
  });
});
