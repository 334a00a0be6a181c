import { describe, expect, it } from 'vitest';
import { evaluate, stateKey, type WindowResult } from '../../../stream-processors/retrain-trigger/core.js';
import { parsePolicies } from '../../../stream-processors/retrain-trigger/policy.js';
import { selectWindows, versionKey } from '../../../stream-processors/retrain-trigger/window-source.js';

const T0 = Date.UTC(2025, 0, 1);
const W = 60_000;
const HORIZON = T0 - 1;

function win(model: string, version: string, i: number): WindowResult {
  return {
    modelName: model,
    modelVersion: version,
    windowStart: T0 + i * W,
    windowEnd: T0 + (i + 1) * W,
    drift: null,
    features: [],
    performance: [],
    kpis: [],
    labeledCount: 0,
    labelsFinal: false,
    labelsOnly: false,
  };
}

describe('selectWindows', () => {
  const policies = parsePolicies([
    { id: 'all', model: 'm', when: { min_labels: { count: 1 } } },
    { id: 'v2', model: 'm', versions: ['2'], when: { min_labels: { count: 1 } } },
    { id: 'only3', model: 'n', versions: ['3'], when: { min_labels: { count: 1 } } },
  ]);

  it('bounds each known version by the lowest mark of the policies that apply to it', () => {
    // 'all' has evaluated v1 up to window 4 and v2 up to window 2; 'v2' has evaluated v2 up to window 1
    let triggers = evaluate(
      { policies: [policies[0]!], triggers: {} },
      [0, 1, 2, 3, 4].map((i) => win('m', '1', i)).concat([0, 1, 2].map((i) => win('m', '2', i))),
      T0,
    ).state.triggers;
    triggers = {
      ...triggers,
      ...evaluate(
        { policies: [policies[1]!], triggers: {} },
        [0, 1].map((i) => win('m', '2', i)),
        T0,
      ).state.triggers,
    };
    const sel = selectWindows(policies, triggers, ['m'], HORIZON);
    expect(sel.models).toEqual(['m']);
    expect(sel.anyVersionModels).toEqual(['m']);
    expect(sel.allowedVersions).toEqual([versionKey('m', '2')]);
    const since = Object.fromEntries(sel.knownVersions.map((k, i) => [k, sel.knownSince[i]]));
    expect(since).toEqual({ [versionKey('m', '1')]: T0 + 5 * W, [versionKey('m', '2')]: T0 + 2 * W });
  });

  it('starts a policy that has no state for a known version at the horizon', () => {
    const triggers = evaluate(
      { policies: [policies[0]!], triggers: {} },
      [0, 1, 2].map((i) => win('m', '2', i)),
      T0,
    ).state.triggers;
    expect(triggers[stateKey('all', 'm', '2')]).toBeDefined();
    const sel = selectWindows(policies, triggers, ['m'], HORIZON);
    expect(sel.knownSince).toEqual([HORIZON]); // policy 'v2' has not evaluated anything yet
  });

  it('reads only the listed versions of models without an any-version policy', () => {
    const sel = selectWindows(policies, {}, ['n'], HORIZON);
    expect(sel.anyVersionModels).toEqual([]);
    expect(sel.allowedVersions).toEqual([versionKey('n', '3')]);
    expect(sel.knownVersions).toEqual([]);
    expect(sel.horizon).toBe(HORIZON);
  });

  it('asks for the late labels of the windows after each labels cursor, and for min_labels sums per policy', () => {
    const ps = parsePolicies([
      { id: 'acc', model: 'm', when: { performance: { metric: 'roc_auc', below: 0.7, min_samples: 10 } } },
      { id: 'labels', model: 'm', when: { all_of: [{ drift: { min_features: 1 } }, { min_labels: { count: 100 } }] } },
      { id: 'cbpe', model: 'n', when: { performance: { metric: 'f1', kind: 'estimated', below: 0.7 } } },
    ]);
    // Both policies closed windows 0-4 of m v1; the labels of windows 0 and 1 were evaluated.
    const closed = [0, 1, 2, 3, 4].map((i) => ({ ...win('m', '1', i), labelsFinal: i < 2 }));
    let triggers = evaluate({ policies: ps, triggers: {} }, closed, T0).state.triggers;
    expect(triggers[stateKey('acc', 'm', '1')]).toMatchObject({ lastWindowEnd: T0 + 5 * W, labelWindowEnd: T0 + 2 * W });
    // m v2 was closed by 'labels' only (no labels cursor for 'acc' there yet).
    triggers = { ...triggers, ...evaluate({ policies: [ps[1]!], triggers: {} }, [win('m', '2', 0)], T0).state.triggers };
    const sel = selectWindows(ps, triggers, ['m', 'n'], HORIZON);
    expect(sel.labelVersions).toEqual([versionKey('m', '1')]);
    expect(sel.labelSince).toEqual([T0 + 2 * W]);
    expect(sel.labelThrough).toEqual([T0 + 5 * W]);
    // Only realized metrics are re-read; CBPE is final when the window closes.
    expect(sel.labelMetrics).toEqual(['label_coverage', 'roc_auc']);
    expect(sel.labelCounts).toEqual([
      { policyId: 'labels', modelName: 'm', modelVersion: '1', from: T0, through: T0 + 5 * W },
      { policyId: 'labels', modelName: 'm', modelVersion: '2', from: T0, through: T0 + W },
    ]);
  });

  it('keys are unambiguous where a plain concatenation is not', () => {
    expect(versionKey('ab', 'c')).not.toBe(versionKey('a', 'bc'));
    expect(versionKey('modèle', '1')).toBe('7:modèle1'); // length in bytes, as ClickHouse length()
  });
});
