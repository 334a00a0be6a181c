import { describe, expect, it } from 'vitest';
import type { OutcomeEvent, PredictionEvent } from '../../../lib/contracts/schemas.js';
import { mulberry32, randInt, type Rng } from '../../../lib/stats/random.js';
import { JoinCore, joinSettingsFor, type JoinInput, type JoinOutput, type JoinSettings } from '../../../stream-processors/label-joiner/core.js';
import { WATERMARK_KEY } from '../../../stream-processors/label-joiner/changelog.js';

// Event times are small integers (ms) chosen by each test; `now` (wall time) only matters for idleness.
const S: JoinSettings = {
  maxLabelDelayMs: 10_000,
  watermarkDelayMs: 1_000,
  idleTimeoutMs: 60_000,
  closedRetentionMs: 5_000,
  maxPending: 1000,
  maxOutcomes: 1000,
  maxClosed: 1000,
};

function prediction(id: string, t: number, over: Partial<PredictionEvent> = {}): JoinInput {
  return {
    type: 'prediction',
    event: {
      event_id: `p-${id}-${over.model_version ?? '1'}${over.is_shadow ? '-shadow' : ''}`,
      prediction_id: id,
      model_name: 'churn',
      model_version: '1',
      event_time: t,
      features: { tenure: 12.5, plan: 'pro', active: true, missing: null },
      score: 0.8,
      probabilities: { '0': 0.2, '1': 0.8 },
      predicted_label: '1',
      predicted_value: null,
      latency_ms: 2,
      segment: { region: 'eu' },
      is_shadow: false,
      fallback: null,
      ...over,
    },
  };
}

function outcome(id: string, t: number, over: Partial<OutcomeEvent> = {}): JoinInput {
  return {
    type: 'outcome',
    event: { event_id: `o-${id}`, prediction_id: id, model_name: 'churn', outcome_time: t, label: '1', target_value: null, business: { revenue: 10 }, ...over },
  };
}

function run(core: JoinCore, inputs: readonly JoinInput[], now = 0): JoinOutput[] {
  return inputs.flatMap((i) => core.step(i, now));
}

const emits = (out: readonly JoinOutput[]) => out.filter((o): o is Extract<JoinOutput, { type: 'emit' }> => o.type === 'emit');
const lates = (out: readonly JoinOutput[]) => out.filter((o): o is Extract<JoinOutput, { type: 'late_label' }> => o.type === 'late_label');
const summary = (out: readonly JoinOutput[]) =>
  out.map((o) =>
    o.type === 'emit'
      ? `${o.cause}:${o.record.prediction_id}/${o.record.model_version}${o.record.is_shadow ? 's' : ''}:${o.record.status}${o.record.outcome_event_id ? `:${o.record.outcome_event_id}` : ''}`
      : o.type === 'late_label'
        ? `late:${o.outcome.event_id}:${o.reason}`
        : o.type === 'duplicate_prediction'
          ? `dup:${o.eventId}:${o.redelivery ? 'redelivery' : 'new'}`
          : `redelivered:${o.eventId}`,
  );

describe('label-join core: matching', () => {
  it('joins an outcome with its earlier prediction and reports the label delay', () => {
    const core = new JoinCore(S, 0);
    expect(run(core, [prediction('a', 1_000)])).toEqual([]);
    const out = run(core, [outcome('a', 4_000, { label: '0', business: { revenue: 3 } })]);
    expect(out).toHaveLength(1);
    expect(out[0]).toMatchObject({
      type: 'emit',
      cause: 'joined',
      record: {
        prediction_id: 'a',
        model_name: 'churn',
        model_version: '1',
        prediction_time: 1_000,
        status: 'LABELED',
        label: '0',
        outcome_time: 4_000,
        label_delay_ms: 3_000,
        business: { revenue: 3 },
        outcome_event_id: 'o-a',
        score: 0.8,
        probabilities: { '0': 0.2, '1': 0.8 },
        features: { tenure: 12.5, plan: 'pro', active: true, missing: null },
        segment: { region: 'eu' },
      },
    });
    expect(core.stats()).toMatchObject({ pending: 0, closed: 1 });
  });

  it('buffers an outcome that arrives before its prediction, then joins it', () => {
    const core = new JoinCore(S, 0);
    expect(run(core, [outcome('a', 5_000)])).toEqual([]);
    expect(core.stats().outcomes).toBe(1);
    const out = run(core, [prediction('a', 1_000)]);
    expect(summary(out)).toEqual(['joined:a/1:LABELED:o-a']);
    expect(emits(out)[0]!.record.label_delay_ms).toBe(4_000);
  });

  it('labels every variant of the id and model (served and shadow), including one arriving after the outcome', () => {
    const core = new JoinCore(S, 0);
    const out1 = run(core, [prediction('a', 1_000), prediction('a', 1_000, { model_version: '2', is_shadow: true }), outcome('a', 3_000)]);
    expect(summary(out1).sort()).toEqual(['joined:a/1:LABELED:o-a', 'joined:a/2s:LABELED:o-a']);
    // A third variant (another shadow version) of the same id arrives after the outcome, on time.
    const out2 = run(core, [prediction('a', 1_000, { model_version: '3', is_shadow: true })]);
    expect(summary(out2)).toEqual(['joined:a/3s:LABELED:o-a']);
  });

  it('never labels a prediction of another model with the same id', () => {
    const core = new JoinCore(S, 0);
    const out = run(core, [prediction('a', 1_000, { model_name: 'fraud' }), outcome('a', 2_000)]);
    expect(emits(out)).toEqual([]);
    expect(core.stats()).toMatchObject({ pending: 1, outcomes: 1 });
  });
});

describe('label-join core: event-time watermark and expiry', () => {
  it('uses the minimum of the two inputs: predictions read far ahead do not expire anything', () => {
    const core = new JoinCore(S, 0);
    run(core, [prediction('a', 0), prediction('b', 100_000)]);
    expect(core.stats().watermark).toBe(-Infinity);
    expect(core.stats().pending).toBe(2);
    // Outcomes catch up to 10_999: watermark = min(100_000, 10_999) - 1_000 = 9_999 < 0 + 10_000.
    expect(emits(run(core, [outcome('zz', 10_999)]))).toEqual([]);
    expect(core.stats().watermark).toBe(9_999);
    // At 11_000 the watermark reaches a's deadline (0 + max delay): a is emitted UNLABELED.
    const out = run(core, [outcome('zz2', 11_000)]);
    expect(summary(emits(out))).toEqual(['expired:a/1:UNLABELED']);
    expect(emits(out)[0]!.record).toMatchObject({ label: null, outcome_time: null, label_delay_ms: null, outcome_event_id: null, business: {} });
  });

  it('accepts an outcome at exactly the maximum label delay and routes one a millisecond later (over_max_delay)', () => {
    const core = new JoinCore(S, 0);
    expect(summary(run(core, [prediction('a', 0), outcome('a', 10_000)]))).toEqual(['joined:a/1:LABELED:o-a']);
    const out = run(core, [prediction('b', 1_000), outcome('b', 11_001)]);
    expect(lates(out)).toEqual([expect.objectContaining({ reason: 'over_max_delay', predictionTime: 1_000, modelVersion: '1' })]);
    // b stays pending and is emitted UNLABELED at its deadline.
    expect(core.stats().pending).toBe(1);
    const later = run(core, [prediction('c', 20_000), outcome('c', 20_000)]);
    expect(summary(emits(later))).toContain('expired:b/1:UNLABELED');
  });

  it('routes an outcome that arrives after its prediction expired to late_labels (after_expiry), not silently', () => {
    const core = new JoinCore(S, 0);
    // The watermark passes a's and b's deadline (10_000) but not their markers' (10_000 + retention 5_000).
    run(core, [prediction('a', 0), prediction('b', 0), prediction('x', 12_000), outcome('x', 12_000)]);
    expect(core.stats().pending).toBe(0);
    const out = run(core, [outcome('a', 9_000), outcome('b', 10_500), outcome('a', 9_500, { event_id: 'o-a-2' })]);
    expect(lates(out)).toEqual([
      expect.objectContaining({ reason: 'after_expiry', predictionTime: 0, modelVersion: '1', watermark: 11_000 }),
      expect.objectContaining({ reason: 'over_max_delay', predictionTime: 0 }),
      // a's first outcome is remembered: the second is a duplicate (first outcome wins).
      expect.objectContaining({ reason: 'duplicate', outcome: expect.objectContaining({ event_id: 'o-a-2' }) }),
    ]);
    expect(emits(out)).toEqual([]);
  });

  it('sends a buffered outcome whose prediction never came to late_labels once the watermark passes its time', () => {
    const core = new JoinCore(S, 0);
    run(core, [outcome('ghost', 5_000)]);
    expect(lates(run(core, [prediction('p', 5_999), outcome('p', 5_999)]))).toEqual([]);
    const out = run(core, [prediction('q', 6_000), outcome('q', 6_000)]);
    expect(lates(out)).toEqual([expect.objectContaining({ reason: 'no_prediction', predictionTime: null })]);
    // ghost is routed but remembered (as are p's and q's outcomes) for JOIN_CLOSED_RETENTION_MS.
    expect(core.stats().outcomes).toBe(3);
    run(core, [prediction('r', 11_000), outcome('r', 11_000)]);
    expect(core.stats().outcomes).toBe(3); // ghost (5_000 + 5_000) forgotten at watermark 10_000; p, q, r kept
  });

  it('routes an outcome already behind the watermark with no known prediction immediately (no_prediction)', () => {
    const core = new JoinCore(S, 0);
    run(core, [prediction('x', 50_000), outcome('x', 50_000)]);
    expect(lates(run(core, [outcome('old', 10_000)]))).toEqual([expect.objectContaining({ reason: 'no_prediction' })]);
  });

  it('lets an idle input stop holding the watermark back after JOIN_IDLE_TIMEOUT_MS of wall time', () => {
    const core = new JoinCore(S, 0);
    // Predictions only; outcomes never arrive on this partition.
    core.step(prediction('a', 0), 1_000);
    expect(emits(core.step(prediction('b', 50_000), 60_000))).toEqual([]); // outcomes silent for exactly the timeout: still active
    const out = core.step(prediction('c', 50_001), 60_001);
    expect(summary(emits(out))).toEqual(['expired:a/1:UNLABELED']);
    expect(core.stats().watermark).toBe(49_001);
    // tick() alone re-evaluates too (e.g. both inputs quiet): nothing new, the watermark never goes back.
    expect(core.tick(120_000)).toEqual([]);
    expect(core.stats().watermark).toBe(49_001);
  });
});

describe('label-join core: duplicates', () => {
  it('keeps the first of two predictions of one variant and tells a redelivery from a different event', () => {
    const core = new JoinCore(S, 0);
    const out = run(core, [prediction('a', 0), prediction('a', 0, { event_id: 'other', score: 0.1 }), prediction('a', 0)]);
    expect(summary(out)).toEqual(['dup:other:new', 'dup:p-a-1:redelivery']);
    const joined = emits(run(core, [outcome('a', 1_000)]));
    expect(joined).toHaveLength(1);
    expect(joined[0]!.record.score).toBe(0.8); // the first one won
    // Still a duplicate after the prediction closed.
    expect(summary(run(core, [prediction('a', 0, { event_id: 'third' })]))).toEqual(['dup:third:new']);
    expect(core.stats().pending).toBe(0);
  });

  it('first outcome wins: a second outcome is a duplicate in late_labels; a redelivered one changes nothing', () => {
    const core = new JoinCore(S, 0);
    const out = run(core, [
      prediction('a', 0),
      outcome('a', 1_000, { label: '1' }),
      outcome('a', 2_000, { event_id: 'o-a-correction', label: '0' }),
      outcome('a', 1_000),
    ]);
    expect(summary(out)).toEqual(['joined:a/1:LABELED:o-a', 'late:o-a-correction:duplicate', 'redelivered:o-a']);
    expect(lates(out)[0]).toMatchObject({ predictionTime: 0, modelVersion: '1', outcome: { label: '0' } });
    // After the buffered outcome aged out (watermark 2_000 > 1_000), the LABELED marker (kept until
    // 1_000 + retention 5_000) still recognises both.
    run(core, [prediction('x', 3_000), outcome('x', 3_000)]);
    expect(core.stats().outcomes).toBe(2); // a's first outcome (the correction is not remembered: a first one is), x's
    expect(summary(run(core, [outcome('a', 1_000), outcome('a', 2_000, { event_id: 'o-a-2', label: '0' })]))).toEqual([
      'redelivered:o-a',
      'late:o-a-2:duplicate',
    ]);
  });

  it('first outcome wins among outcomes buffered before the prediction', () => {
    const core = new JoinCore(S, 0);
    const out = run(core, [outcome('a', 1_000, { label: 'first' }), outcome('a', 1_500, { event_id: 'o-a-2', label: 'second' }), prediction('a', 0)]);
    expect(summary(out)).toEqual(['late:o-a-2:duplicate', 'joined:a/1:LABELED:o-a']);
    expect(emits(out)[0]!.record.label).toBe('first');
  });
});

describe('label-join core: bounded state', () => {
  it('emits the oldest pending prediction UNLABELED early when the pending cap is reached', () => {
    const core = new JoinCore({ ...S, maxPending: 3 }, 0);
    expect(run(core, [prediction('a', 3), prediction('b', 1), prediction('c', 2)])).toEqual([]);
    const out = run(core, [prediction('d', 4)]);
    expect(summary(out)).toEqual(['evicted:b/1:UNLABELED']);
    expect(core.stats().pending).toBe(3);
  });

  it('routes the oldest buffered outcome to late_labels (orphan_evicted) when the outcome cap is reached', () => {
    const core = new JoinCore({ ...S, maxOutcomes: 2 }, 0);
    const out = run(core, [outcome('a', 3_000), outcome('b', 1_000), outcome('c', 2_000)]);
    expect(summary(out)).toEqual(['late:o-b:orphan_evicted']);
  });

  it('at the outcome cap forgets remembered (used) outcomes before it evicts one that still waits', () => {
    const core = new JoinCore({ ...S, maxOutcomes: 2 }, 0);
    // a's outcome labels a and stays remembered (used) until 1_000 + closed retention.
    expect(summary(run(core, [prediction('a', 500), outcome('a', 1_000)]))).toEqual(['joined:a/1:LABELED:o-a']);
    expect(core.stats()).toMatchObject({ outcomes: 1, waitingOutcomes: 0 });
    // Two outcomes ahead of their predictions: the cap (2) is passed; a's remembered outcome leaves,
    // nothing goes to late_labels, and both waiting outcomes label their predictions when they come.
    expect(run(core, [outcome('b', 2_000), outcome('c', 3_000)])).toEqual([]);
    expect(core.stats()).toMatchObject({ outcomes: 2, waitingOutcomes: 2 });
    expect(summary(run(core, [prediction('b', 1_900), prediction('c', 2_900)]))).toEqual(['joined:b/1:LABELED:o-b', 'joined:c/1:LABELED:o-c']);
    expect(core.stats()).toMatchObject({ outcomes: 2, waitingOutcomes: 0 });
    // With only waiting outcomes left, the oldest of them is evicted and routed, as before.
    expect(summary(run(core, [outcome('d', 5_000), outcome('e', 4_000), outcome('f', 6_000)]))).toEqual(['late:o-e:orphan_evicted']);
  });

  it('forgets the oldest closed markers past the closed cap, and after the retention', () => {
    const core = new JoinCore({ ...S, maxClosed: 1 }, 0);
    run(core, [prediction('a', 0), outcome('a', 100), prediction('b', 10), outcome('b', 200), prediction('x', 2_000), outcome('x', 2_000)]);
    expect(core.stats()).toMatchObject({ closed: 1, outcomes: 3 }); // x's marker; a's, b's, x's outcomes (remembered)
    run(core, [prediction('y', 6_101), outcome('y', 6_101)]); // watermark 5_101 passes a's outcome (100 + 5_000)
    expect(core.stats().outcomes).toBe(3); // b's, x's, y's
    // a's marker is gone, so a late duplicate of a is no longer recognised (it becomes pending again).
    expect(run(core, [prediction('a', 0, { event_id: 'late-dup' })])).toEqual([]);
    expect(core.stats().pending).toBe(1);

    const c2 = new JoinCore(S, 0);
    run(c2, [prediction('a', 0), outcome('a', 1_000)]);
    // Marker deadline = max(0, 1_000) + retention 5_000; the watermark passes it at input time 7_000.
    run(c2, [prediction('x', 6_999), outcome('x', 6_999)]);
    expect(c2.stats().keys).toBe(2);
    run(c2, [prediction('y', 7_000), outcome('y', 7_000)]);
    expect(summary(run(c2, [outcome('a', 1_000)]))).toEqual(['late:o-a:no_prediction']);
  });

  it('accounts memory: bytes grow with pending predictions and shrink when they are emitted', () => {
    const core = new JoinCore({ ...S, closedRetentionMs: 0 }, 0);
    const empty = core.stats().bytes;
    run(
      core,
      Array.from({ length: 100 }, (_, i) => prediction(`id-${i}`, i)),
    );
    const full = core.stats();
    expect(full.pending).toBe(100);
    expect(full.bytes).toBeGreaterThan(empty + 100 * 200);
    run(core, [prediction('late', 50_000), outcome('late', 50_000)]);
    const after = core.stats();
    expect(after.pending).toBe(0);
    expect(after.bytes).toBeLessThan(full.bytes / 10);
  });

  it('splits the per-instance caps evenly over the partitions', () => {
    const s = joinSettingsFor(
      {
        JOIN_MAX_LABEL_DELAY_MS: 5,
        JOIN_WATERMARK_DELAY_MS: 1,
        JOIN_IDLE_TIMEOUT_MS: 2,
        JOIN_CLOSED_RETENTION_MS: 3,
        JOIN_MAX_PENDING: 10,
        JOIN_MAX_ORPHANS: 7,
        JOIN_MAX_CLOSED: 1,
      },
      4,
    );
    expect(s).toEqual({ maxLabelDelayMs: 5, watermarkDelayMs: 1, idleTimeoutMs: 2, closedRetentionMs: 3, maxPending: 3, maxOutcomes: 2, maxClosed: 1 });
  });
});

// ---- changelog, restore, replays, interleavings ------------------------------------------------

/** What the query-visible tables end up holding: ReplacingMergeTree semantics of migration 020. */
interface Visible {
  labeled: Map<string, string>;
  late: Map<string, string>;
  conflicts: string[];
}

function visible(outputs: readonly JoinOutput[]): Visible {
  const labeled = new Map<string, string>();
  const late = new Map<string, string>();
  const conflicts: string[] = [];
  for (const o of outputs) {
    if (o.type === 'emit') {
      const r = o.record;
      const key = `${r.model_name}|${r.model_version}|${r.is_shadow}|${r.prediction_id}`;
      const value = `${r.status}|${r.outcome_event_id}|${r.label}|${r.label_delay_ms}`;
      const prev = labeled.get(key);
      if (prev !== undefined && prev !== value) conflicts.push(`${key}: ${prev} then ${value}`);
      // is_labeled is the version column: LABELED wins.
      if (prev === undefined || !prev.startsWith('LABELED')) labeled.set(key, value);
    } else if (o.type === 'late_label') {
      late.set(o.outcome.event_id, o.reason);
    }
  }
  return { labeled, late, conflicts };
}

interface Dataset {
  predictions: JoinInput[];
  outcomes: JoinInput[];
}

/**
 * Seeded streams within the join's disorder tolerance: each stream is in event-time order up to
 * jitter below the watermark delay. Includes shadow variants, duplicates, redeliveries, outcomes
 * before predictions, over-max-delay outcomes, outcomes without predictions, corrections.
 */
function dataset(rng: Rng, n: number): Dataset {
  const preds: { t: number; i: JoinInput }[] = [];
  const outs: { t: number; i: JoinInput }[] = [];
  for (let k = 0; k < n; k++) {
    const id = `id-${k}`;
    const t = 10_000 + k * 300;
    preds.push({ t: t + randInt(rng, 900), i: prediction(id, t) });
    if (k % 7 === 0) preds.push({ t: t + randInt(rng, 900), i: prediction(id, t, { model_version: '2', is_shadow: true }) });
    if (k % 11 === 0) preds.push({ t: t + randInt(rng, 900), i: prediction(id, t) }); // redelivery
    if (k % 13 === 0) preds.push({ t: t + randInt(rng, 900), i: prediction(id, t, { event_id: `dup-${id}` }) });
    const r = rng();
    if (r < 0.7) {
      const delay = r < 0.1 ? randInt(rng, 500) : randInt(rng, 12_000); // some over the 10 s maximum
      outs.push({ t: t + delay + randInt(rng, 900), i: outcome(id, t + delay, { label: String(k % 2) }) });
      if (k % 9 === 0) outs.push({ t: t + delay + 2_000, i: outcome(id, t + delay + 1_500, { event_id: `corr-${id}`, label: 'x' }) });
      if (k % 10 === 0) outs.push({ t: t + delay + randInt(rng, 900), i: outcome(id, t + delay, { label: String(k % 2) }) }); // redelivery
    } else if (r < 0.75) outs.push({ t: t + randInt(rng, 900), i: outcome(`ghost-${k}`, t) });
  }
  // Sentinels far ahead push the watermark past every deadline.
  const end = 10_000 + n * 300 + 60_000;
  preds.push({ t: end, i: prediction('sentinel', end) });
  outs.push({ t: end, i: outcome('sentinel', end) });
  const order = <T extends { t: number }>(xs: T[]) => xs.sort((a, b) => a.t - b.t);
  return { predictions: order(preds).map((x) => x.i), outcomes: order(outs).map((x) => x.i) };
}

/** One random interleaving of the two streams, each kept in its own order. */
function interleave(rng: Rng, d: Dataset): JoinInput[] {
  const out: JoinInput[] = [];
  let i = 0;
  let j = 0;
  while (i < d.predictions.length || j < d.outcomes.length) {
    // Runs of up to 200 records from one side, like consumer batches of one topic-partition.
    const run = 1 + randInt(rng, 200);
    const fromP = j >= d.outcomes.length || (i < d.predictions.length && rng() < 0.5);
    for (let r = 0; r < run; r++) {
      if (fromP && i < d.predictions.length) out.push(d.predictions[i++]!);
      else if (!fromP && j < d.outcomes.length) out.push(d.outcomes[j++]!);
    }
  }
  return out;
}

/**
 * A changelog partition as Kafka keeps it: records in append order; compaction keeps the latest
 * record of each key, in place, and never touches the active segment (here: nothing after the last
 * watermark record, which is where an unfinished flush leaves its records).
 */
class ChangelogSim {
  records: { key: string; value: string | null }[] = [];
  /** Appends a flush's changes; `limit` cuts it short like a crash in the middle of the write. */
  absorb(core: JoinCore, limit = Infinity): void {
    this.records.push(...core.changes().slice(0, limit));
    core.clearChanges();
  }
  compact(): void {
    let lastW = -1;
    this.records.forEach((r, i) => (r.key === WATERMARK_KEY ? (lastW = i) : undefined));
    const head = this.records.slice(0, lastW + 1);
    const latest = new Map(head.map((r, i) => [r.key, i]));
    this.records = [...head.filter((r, i) => latest.get(r.key) === i), ...this.records.slice(lastW + 1)];
  }
  get values(): Map<string, string | null> {
    return new Map(this.records.map((r) => [r.key, r.value]));
  }
  restore(settings: JoinSettings, now: number): { core: JoinCore; outputs: JoinOutput[] } {
    const core = new JoinCore(settings, now);
    for (const r of this.records) core.restoreRecord(r.key, r.value);
    return { core, outputs: core.finishRestore(now) };
  }
}

describe('label-join core: determinism, changelog and replays', () => {
  const settings: JoinSettings = { ...S, closedRetentionMs: 20_000 };

  it.each([7, 8, 9])('gives the same visible result for any interleaving of the two inputs within the disorder bound (data seed %i)', (dataSeed) => {
    const d = dataset(mulberry32(dataSeed), 400);
    const reference = visible(run(new JoinCore(settings, 0), interleave(mulberry32(1), d)));
    expect(reference.conflicts).toEqual([]);
    const kinds = new Set([...reference.late.values()]);
    expect(kinds).toEqual(new Set(['duplicate', 'over_max_delay', 'no_prediction']));
    expect([...reference.labeled.values()].some((v) => v.startsWith('UNLABELED'))).toBe(true);
    expect([...reference.labeled.keys()].some((k) => k.includes('|2|true|'))).toBe(true);
    for (let seed = 2; seed < 12; seed++) {
      const other = visible(run(new JoinCore(settings, 0), interleave(mulberry32(seed), d)));
      expect(other.conflicts).toEqual([]);
      expect(other.labeled).toEqual(reference.labeled);
      expect(other.late).toEqual(reference.late);
    }
  });

  it('restores from its compacted changelog and continues exactly like an uninterrupted run', () => {
    const d = dataset(mulberry32(11), 300);
    const inputs = interleave(mulberry32(3), d);
    const whole = run(new JoinCore(settings, 0), inputs);

    const log = new ChangelogSim();
    const first = new JoinCore(settings, 0);
    const cut = Math.floor(inputs.length / 2);
    const before: JoinOutput[] = [];
    for (const i of inputs.slice(0, cut)) {
      before.push(...first.step(i, 0));
      log.absorb(first);
    }
    expect(log.values.get(WATERMARK_KEY)).toBeTruthy();
    const { core: restored, outputs: atRestore } = log.restore(settings, 0);
    expect(atRestore).toEqual([]);
    expect(restored.stats()).toMatchObject({
      pending: first.stats().pending,
      outcomes: first.stats().outcomes,
      closed: first.stats().closed,
      watermark: first.stats().watermark,
    });
    const asMap = (c: JoinCore) => new Map(c.snapshot().map((x) => [x.key, x.value]));
    expect(asMap(restored)).toEqual(asMap(first));
    const after = run(restored, inputs.slice(cut));
    // Same outputs; the order among equal deadlines may differ (the queues are rebuilt).
    expect(summary([...before, ...after]).sort()).toEqual(summary(whole).sort());
  });

  /**
   * A consumer of the two input streams, as the adapter runs it: batches of one stream, outputs
   * written, changelog written (key changes, then the watermark record with the input positions),
   * offsets committed. Crashes strike (a) after the changelog was written but before the commit,
   * and (b) in the middle of the changelog write (only some key changes, no watermark record). After
   * a crash the partition is restored from the compacted log and the inputs are re-delivered from
   * the committed offsets; records below the restored positions are skipped, the rest are applied.
   */
  function consume(d: Dataset, settings: JoinSettings, rng: Rng, crashes: boolean): JoinOutput[] {
    const streams = { predictions: d.predictions, outcomes: d.outcomes };
    type Stream = keyof typeof streams;
    const log = new ChangelogSim();
    const all: JoinOutput[] = [];
    let core = new JoinCore(settings, 0);
    const pos: Record<Stream, number> = { predictions: 0, outcomes: 0 };
    const committed: Record<Stream, number> = { predictions: 0, outcomes: 0 };
    const restart = () => {
      const restored = log.restore(settings, 0);
      core = restored.core;
      all.push(...restored.outputs);
      pos.predictions = committed.predictions;
      pos.outcomes = committed.outcomes;
    };
    while (pos.predictions < streams.predictions.length || pos.outcomes < streams.outcomes.length) {
      const s: Stream = pos.outcomes >= streams.outcomes.length || (pos.predictions < streams.predictions.length && rng() < 0.5) ? 'predictions' : 'outcomes';
      const end = Math.min(streams[s].length, pos[s] + 1 + randInt(rng, 150));
      for (let off = Math.max(pos[s], core.position(s)); off < end; off++) all.push(...core.step(streams[s][off]!, 0));
      core.setPosition(s, Math.max(end, core.position(s)));
      pos[s] = end;
      const r = crashes ? rng() : 1;
      if (r < 0.15) {
        // (b) crash while writing the changelog: the write stops somewhere before the watermark record.
        log.absorb(core, randInt(rng, core.changes().length));
        restart();
        continue;
      }
      log.absorb(core);
      if (rng() < 0.2) log.compact();
      if (r < 0.35)
        restart(); // (a) crash before the commit
      else committed[s] = end;
    }
    return all;
  }

  it('gives the visible result of an uninterrupted run after crashes before the commit and in the middle of a changelog write', () => {
    const d = dataset(mulberry32(5), 300);
    // A short marker retention: recovery must not depend on it.
    const s = { ...settings, closedRetentionMs: 2_000 };
    const reference = consume(d, s, mulberry32(1), false);
    const ref = visible(reference);
    expect(ref.conflicts).toEqual([]);
    for (let trial = 0; trial < 10; trial++) {
      const outs = consume(d, s, mulberry32(100 + trial), true);
      const v = visible(outs);
      expect(v.conflicts).toEqual([]);
      expect(v.labeled).toEqual(ref.labeled);
      expect(v.late).toEqual(ref.late);
      // A crash re-emits only what its unfinished flush had emitted: identical rows, nothing else.
      const rows = (o: JoinOutput[]) => new Set(summary(o.filter((x) => x.type === 'emit' || x.type === 'late_label')));
      expect(rows(outs)).toEqual(rows(reference));
    }
  });

  it('skips re-delivered records its restored state already holds: no output is repeated after a crash before the commit', () => {
    const core = new JoinCore(S, 0);
    const log = new ChangelogSim();
    const inputs = [prediction('a', 0), prediction('b', 0), outcome('a', 500)];
    const first = [...core.step(inputs[0]!, 0), ...core.step(inputs[1]!, 0)];
    core.setPosition('predictions', 2);
    first.push(...core.step(inputs[2]!, 0));
    core.setPosition('outcomes', 1);
    log.absorb(core);
    expect(summary(first)).toEqual(['joined:a/1:LABELED:o-a']);
    const { core: restored } = log.restore(S, 0);
    expect(restored.position('predictions')).toBe(2);
    expect(restored.position('outcomes')).toBe(1);
    expect(restored.position('other')).toBe(0);
  });

  it('rolls back changes logged after the last watermark record (an unfinished flush) and writes them again', () => {
    const log = new ChangelogSim();
    const core = new JoinCore(S, 0);
    run(core, [prediction('a', 0)]);
    core.setPosition('predictions', 1);
    log.absorb(core);
    run(core, [outcome('a', 500), prediction('b', 100)]);
    core.setPosition('outcomes', 1);
    core.setPosition('predictions', 2);
    log.absorb(core, 2); // a's and b's changes made it, the watermark record did not
    expect(log.records.map((r) => r.key)).toEqual(['a', WATERMARK_KEY, 'a', 'b']);
    const { core: restored } = log.restore(S, 0);
    expect(restored.stats()).toMatchObject({ pending: 1, closed: 0, keys: 1 }); // a pending again, b unknown
    expect(restored.position('outcomes')).toBe(0);
    const again = restored.changes();
    expect(again.map((c) => c.key).sort()).toEqual(['a', 'b', WATERMARK_KEY].sort());
    expect(again.find((c) => c.key === 'b')!.value).toBeNull();
    expect(JSON.parse(again.find((c) => c.key === 'a')!.value!).s[0].k).toBe('P');
    // Re-delivered, the outcome labels a exactly as before.
    expect(summary(restored.step(outcome('a', 500), 0))).toEqual(['joined:a/1:LABELED:o-a']);
  });

  it('refuses an unreadable changelog record with DW_JOIN_STATE_CORRUPT', () => {
    const core = new JoinCore(S, 0);
    expect(() => core.restoreRecord('a', '{"v":1,"s":[{"k":"Z","t":1}]}')).toThrow(expect.objectContaining({ code: 'DW_JOIN_STATE_CORRUPT' }));
    expect(() => core.restoreRecord('a', 'not json')).toThrow(expect.objectContaining({ code: 'DW_JOIN_STATE_CORRUPT' }));
    expect(() => core.restoreRecord(WATERMARK_KEY, '{"v":2}')).toThrow(expect.objectContaining({ code: 'DW_JOIN_STATE_CORRUPT' }));
  });

  it('applies a lowered maximum delay to restored pending predictions', () => {
    const log = new ChangelogSim();
    const core = new JoinCore(S, 0);
    run(core, [prediction('a', 0), prediction('x', 8_000), outcome('x', 8_000)]);
    log.absorb(core);
    const { outputs } = log.restore({ ...S, maxLabelDelayMs: 5_000 }, 0);
    expect(summary(outputs)).toEqual(['expired:a/1:UNLABELED']);
  });
});

describe('label-join core: the timeline of docs/join-semantics.md', () => {
  it('produces exactly the rows the document shows', () => {
    const m = 60_000;
    const at = (mm: number, ss = 0) => mm * m + ss * 1000; // minutes after 10:00
    const core = new JoinCore(
      { maxLabelDelayMs: 10 * m, watermarkDelayMs: m, idleTimeoutMs: 3_600_000, closedRetentionMs: 10 * m, maxPending: 100, maxOutcomes: 100, maxClosed: 100 },
      0,
    );
    const rows: [string, JoinInput, string[], number][] = [
      ['1', prediction('A', at(0)), [], -Infinity],
      ['2', prediction('A', at(0), { model_version: '2', is_shadow: true }), [], -Infinity],
      ['3', outcome('C', at(1)), [], at(-1)],
      ['4', prediction('B', at(0, 40)), [], at(0, -20)],
      ['5', prediction('C', at(0)), ['joined:C/1:LABELED:o-C'], at(0, -20)],
      ['6', outcome('A', at(4)), ['joined:A/1:LABELED:o-A', 'joined:A/2s:LABELED:o-A'], at(0, -20)],
      ['7', outcome('A', at(5), { event_id: 'o-A-2' }), ['late:o-A-2:duplicate'], at(0, -20)],
      ['8', outcome('A', at(4)), ['redelivered:o-A'], at(0, -20)],
      ['9', outcome('G', at(5)), [], at(0, -20)],
      ['10a', prediction('E', at(14)), [], at(4)],
      ['10b', outcome('E', at(14)), ['joined:E/1:LABELED:o-E', 'expired:B/1:UNLABELED', 'late:o-G:no_prediction'], at(13)],
      ['11', outcome('B', at(10, 30)), ['late:o-B:after_expiry'], at(13)],
      ['12', prediction('A', at(0), { event_id: 'A-again' }), ['dup:A-again:new'], at(13)],
      ['13', prediction('D', at(20)), [], at(13)],
      ['14', outcome('D', at(31)), ['late:o-D:over_max_delay'], at(19)],
    ];
    for (const [row, input, expected, watermark] of rows) {
      expect({ row, out: summary(core.step(input, 0)) }).toEqual({ row, out: expected });
      expect({ row, watermark: core.stats().watermark }).toEqual({ row, watermark });
    }
    expect(core.stats().pending).toBe(1); // D, emitted UNLABELED once W >= 10:30
    expect(summary(run(core, [prediction('F', at(32)), outcome('F', at(32))]))).toContain('expired:D/1:UNLABELED');
  });
});
