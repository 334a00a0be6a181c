/**
 * Retrain policies through the API. The policy language (condition trees of drift / performance /
 * kpi / schedule / min_labels leaves, hysteresis, cooldown) belongs to the retrain-trigger processor:
 * `validatePolicy` of stream-processors/retrain-trigger/policy.ts is the semantic validator (it also
 * rejects unknown keys at every depth), injected as `ApiDeps.validatePolicy`.
 *
 * The JSON schema below is the API's first layer: the closed set of top-level keys of that language
 * (POLICY_KEYS there, minus `id`, which is the URL's name) with their types and bounds. The condition
 * tree (`when`) is recursive; its shape is left to the validator, but its depth is bounded here
 * first, because a recursive reader on a 10 MB body of nested `any_of` would exhaust the stack.
 */
import { InvalidRequestError } from '../../../lib/runtime/errors.js';
import { nameSchema } from '../routes/schemas.js';

const duration = {
  anyOf: [
    { type: 'string', maxLength: 32, pattern: '^\\s*\\d+(\\.\\d+)?\\s*(ms|s|m|h|d|w)?\\s*$' },
    { type: 'integer', minimum: 0, maximum: 3_153_600_000_000 },
  ],
  description: 'Duration: 500ms, 30s, 15m, 6h, 7d, 2w, or milliseconds',
} as const;

export const retrainPolicySchema = {
  type: 'object',
  additionalProperties: false,
  required: ['model', 'when'],
  description: 'A retrain policy (docs/retrain.md); `id` is the name in the URL',
  properties: {
    description: { type: 'string', maxLength: 1000 },
    model: nameSchema,
    versions: { type: 'array', minItems: 1, maxItems: 100, uniqueItems: true, items: nameSchema },
    when: { type: 'object', minProperties: 1, maxProperties: 1, additionalProperties: true, description: 'Condition tree: all_of / any_of / a leaf' },
    fire_after_windows: { type: 'integer', minimum: 1, maximum: 10_000 },
    rearm_after_windows: { type: 'integer', minimum: 1, maximum: 10_000 },
    cooldown: duration,
    training_lookback: duration,
    alert_severity: { type: 'string', maxLength: 16 },
  },
} as const;

export const MAX_POLICY_DEPTH = 24;

/** Nesting depth of a JSON value (scalars 0). Iterative, so it cannot itself overflow the stack. */
export function jsonDepth(value: unknown): number {
  let max = 0;
  const stack: Array<[unknown, number]> = [[value, 0]];
  while (stack.length > 0) {
    const [v, d] = stack.pop()!;
    if (v === null || typeof v !== 'object') continue;
    max = Math.max(max, d + 1);
    for (const child of Object.values(v)) stack.push([child, d + 1]);
  }
  return max;
}

/** The policy object the retrain-trigger language expects: the URL name becomes its `id`. */
export function policyWithId(name: string, body: unknown): Record<string, unknown> {
  if (jsonDepth(body) > MAX_POLICY_DEPTH) throw new InvalidRequestError(`the policy nests deeper than ${MAX_POLICY_DEPTH} levels`);
  return { id: name, ...(body as Record<string, unknown>) };
}
