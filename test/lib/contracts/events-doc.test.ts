/**
 * Keeps docs/events.md true: every example event in it is valid under its contract (the same checks
 * ingest applies to a JSON event), and every event schema has an example.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseJsonEvent, validateEvent } from '../../../lib/contracts/codec.js';
import {
  AlertSchema,
  FeatureEventSchema,
  LabeledPredictionSchema,
  OutcomeEventSchema,
  PredictionEventSchema,
  RetrainRequestedSchema,
} from '../../../lib/contracts/schemas.js';
import { TOPIC_SPECS } from '../../../lib/contracts/topics.js';

const doc = readFileSync(new URL('../../../docs/events.md', import.meta.url), 'utf8');
const SCHEMAS = [FeatureEventSchema, PredictionEventSchema, OutcomeEventSchema, LabeledPredictionSchema, RetrainRequestedSchema, AlertSchema];
const examples = [...doc.matchAll(/```json (\w+)\n([\s\S]*?)\n```/g)].map((m) => ({ name: m[1]!, text: m[2]! }));

describe('docs/events.md', () => {
  it('has one example per event schema', () => {
    expect(examples.map((e) => e.name).sort()).toEqual(SCHEMAS.map((s) => s.name).sort());
  });

  it.each(examples.map((e) => [e.name, e.text] as const))('%s example follows its contract', (name, text) => {
    const schema = SCHEMAS.find((s) => s.name === name)!;
    const value = parseJsonEvent(schema, Buffer.from(text));
    expect(() => validateEvent(schema, value, Date.UTC(2030, 0, 1), { maxPayloadBytes: 262144, maxFutureSkewMs: 0 })).not.toThrow();
  });

  it('names every topic with its message key', () => {
    for (const spec of Object.values(TOPIC_SPECS)) {
      if (!spec.schema) continue;
      expect(doc, spec.key).toMatch(
        new RegExp(`\\|\\s*\\[${spec.schema.name}\\]\\(#[a-z]+\\)\\s*\\|\\s*\`driftwatch\\.[a-z-]+\\.v1\`\\s*\\|\\s*\`${spec.messageKey}\`\\s*\\|`),
      );
    }
  });
});
