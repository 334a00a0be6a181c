import { describe, expect, it } from 'vitest';
import { mergePolicySources, parseApiPolicies } from '../../../stream-processors/retrain-trigger/api-policies.js';
import { parsePolicies } from '../../../stream-processors/retrain-trigger/policy.js';

const policy = (id: string, model = 'churn', cooldown = '30m') => ({ id, model, when: { drift: { min_features: 1 } }, cooldown });

describe('retrain policies from the API', () => {
  it('parses stored bodies and leaves out (with a reason) those that no longer validate', () => {
    const r = parseApiPolicies([
      { name: 'ok', body: JSON.stringify(policy('ok')) },
      { name: 'bad-json', body: '{' },
      { name: 'bad-policy', body: JSON.stringify({ id: 'bad-policy', model: 'churn', when: { nope: 1 } }) },
      { name: 'renamed', body: JSON.stringify(policy('other')) },
    ]);
    expect(r.policies.map((p) => p.id)).toEqual(['ok']);
    expect(r.problems).toHaveLength(3);
    expect(r.problems[0]).toMatch(/^api policy bad-json: /);
    expect(r.problems[1]).toMatch(/^api policy bad-policy: .*when/);
    expect(r.problems[2]).toContain('its id is "other"');
  });

  it('merges: an API policy replaces the file policy of its id in place, others follow by id', () => {
    const file = parsePolicies([policy('b'), policy('a')]);
    const api = parsePolicies([policy('z'), policy('a', 'churn', '2h'), policy('c')]);
    const merged = mergePolicySources(file, api);
    expect(merged.map((p) => p.id)).toEqual(['b', 'a', 'c', 'z']);
    expect(merged.find((p) => p.id === 'a')!.cooldownMs).toBe(2 * 3_600_000);
    expect(mergePolicySources(file, [])).toEqual(file);
  });
});
