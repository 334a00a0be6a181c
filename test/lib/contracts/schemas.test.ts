import { describe, expect, expectTypeOf, it } from 'vitest';
import { avroTypeOf } from '../../../lib/contracts/codec.js';
import {
  ALERT_SEVERITY,
  AlertSchema,
  FeatureEventSchema,
  LABEL_STATUS,
  LabeledPredictionSchema,
  OutcomeEventSchema,
  PredictionEventSchema,
  RetrainRequestedSchema,
  type FeatureEvent,
  type FeatureValue,
  type LabeledPrediction,
  type OutcomeEvent,
  type PredictionEvent,
} from '../../../lib/contracts/schemas.js';

const ALL = [FeatureEventSchema, PredictionEventSchema, OutcomeEventSchema, LabeledPredictionSchema, RetrainRequestedSchema, AlertSchema];

type Field = { name: string; type: unknown; default?: unknown; doc?: string };

/**
 * Every named type (record, enum) reachable from a schema, nested ones included (TriggerCondition,
 * LabelStatus ...), with its path, so a field added deep inside a schema is checked too.
 */
function namedTypes(type: unknown, path: string): { path: string; type: { type: string; name: string; doc?: string; fields?: readonly Field[] } }[] {
  if (Array.isArray(type)) return type.flatMap((t, i) => namedTypes(t, `${path}|${i}`));
  if (type === null || typeof type !== 'object') return [];
  const t = type as { type: string; name?: string; fields?: readonly Field[]; items?: unknown; values?: unknown };
  if (t.type === 'array') return namedTypes(t.items, `${path}[]`);
  if (t.type === 'map') return namedTypes(t.values, `${path}{}`);
  if (t.type !== 'record' && t.type !== 'enum') return [];
  const self = { path: path || t.name!, type: t as { type: string; name: string; doc?: string; fields?: readonly Field[] } };
  return [self, ...(t.fields ?? []).flatMap((f) => namedTypes(f.type, `${self.path}.${f.name}`))];
}

/** A deep copy without any `doc` attribute. */
function withoutDocs(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(withoutDocs);
  if (v === null || typeof v !== 'object') return v;
  return Object.fromEntries(
    Object.entries(v)
      .filter(([k]) => k !== 'doc')
      .map(([k, x]) => [k, withoutDocs(x)]),
  );
}

describe('event schemas', () => {
  it('are valid Avro (avsc parses them, defaults included)', () => {
    for (const s of ALL) expect(() => avroTypeOf(s)).not.toThrow();
  });

  it('document every record, enum and field of every schema, nested ones included', () => {
    const undocumented: string[] = [];
    for (const s of ALL) {
      expect(s.doc.length, s.name).toBeGreaterThan(10);
      for (const { path, type } of namedTypes(s, '')) {
        if ((type.doc ?? '').trim() === '') undocumented.push(`${path} (${type.type} ${type.name})`);
        for (const f of type.fields ?? []) if ((f.doc ?? '').trim() === '') undocumented.push(`${path}.${f.name}`);
      }
    }
    expect(undocumented).toEqual([]);
  });

  it('walk nested types in the documentation check (TriggerCondition and the enums are reached)', () => {
    // Guards the check above: if namedTypes stopped descending, it would pass vacuously.
    const names = ALL.flatMap((s) => namedTypes(s, '').map((n) => n.type.name));
    expect(names).toEqual(expect.arrayContaining(['TriggerCondition', 'LabelStatus', 'AlertSeverity', 'AlertStatus']));
  });

  it('keep docs out of the Avro identity: the Parsing Canonical Form and fingerprint ignore them', () => {
    // Why doc-only edits are safe to ship: the registry's compatibility check, avsc's resolver choice
    // (codec.ts readAvro: reader.equals(writer)) and any fingerprint use the canonical form, which
    // the Avro spec strips of `doc`. (The local Apicurio even answers a doc-only change with the
    // existing schema ids: it matches registrations by canonical content.)
    for (const s of ALL) {
      const bare = avroTypeOf(withoutDocs(s) as typeof s);
      const documented = avroTypeOf(s);
      expect(documented.fingerprint('sha256').toString('hex'), s.name).toBe(bare.fingerprint('sha256').toString('hex'));
      expect(documented.equals(bare), s.name).toBe(true);
    }
  });

  it('give every optional (nullable) field the default null, so adding one stays backward compatible', () => {
    for (const s of ALL) {
      for (const f of s.fields as readonly Field[]) {
        if (Array.isArray(f.type) && f.type[0] === 'null') expect('default' in f && f.default === null, `${s.name}.${f.name}`).toBe(true);
      }
    }
  });

  it('carry every event id, dedup key and event time the pipeline relies on', () => {
    const names = (s: { fields: readonly { name: string }[] }) => s.fields.map((f) => f.name);
    expect(names(PredictionEventSchema)).toEqual(expect.arrayContaining(['event_id', 'prediction_id', 'event_time', 'features']));
    expect(names(OutcomeEventSchema)).toEqual(expect.arrayContaining(['event_id', 'prediction_id', 'outcome_time']));
    expect(names(FeatureEventSchema)).toEqual(expect.arrayContaining(['event_id', 'entity_id', 'event_time', 'features']));
  });

  it('take enum symbols from the as-const objects', () => {
    const status = LabeledPredictionSchema.fields.find((f) => f.name === 'status')!.type as { symbols: readonly string[] };
    expect(status.symbols).toEqual(Object.values(LABEL_STATUS));
    const severity = AlertSchema.fields.find((f) => f.name === 'severity')!.type as { symbols: readonly string[] };
    expect(severity.symbols).toEqual(Object.values(ALERT_SEVERITY));
  });

  it('round-trip an event with numeric, categorical, boolean and missing feature values through Avro', () => {
    const event: PredictionEvent = {
      event_id: 'e',
      prediction_id: 'p',
      model_name: 'm',
      model_version: '1',
      event_time: 1_700_000_000_123,
      features: { x: 1.25, c: 'red', b: false, gone: null },
      score: null,
      probabilities: {},
      predicted_label: null,
      predicted_value: 3.5,
      latency_ms: null,
      segment: { country: 'FR' },
      is_shadow: false,
      fallback: null,
    };
    const type = avroTypeOf(PredictionEventSchema);
    expect({ ...type.fromBuffer(type.toBuffer(event)) }).toEqual(event);
  });
});

describe('TypeScript types derived from the schemas', () => {
  // Checked at compile time: `npx tsc -p .` fails if a derived type drifts from its schema.
  it('match the Avro types field by field', () => {
    expectTypeOf<FeatureValue>().toEqualTypeOf<null | number | string | boolean>();
    expectTypeOf<PredictionEvent['features']>().toEqualTypeOf<Record<string, FeatureValue>>();
    expectTypeOf<PredictionEvent['event_time']>().toEqualTypeOf<number>();
    expectTypeOf<PredictionEvent['score']>().toEqualTypeOf<number | null>();
    expectTypeOf<PredictionEvent['is_shadow']>().toEqualTypeOf<boolean>();
    expectTypeOf<OutcomeEvent['business']>().toEqualTypeOf<Record<string, number>>();
    expectTypeOf<FeatureEvent['prediction_id']>().toEqualTypeOf<string | null>();
    expectTypeOf<LabeledPrediction['status']>().toEqualTypeOf<'LABELED' | 'UNLABELED'>();
  });
});
