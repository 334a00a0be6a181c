/**
 * Window state: partial summaries per (input partition, window, model, version) — the unit of state
 * that is checkpointed to ClickHouse and merged across partitions at evaluation time.
 *
 * Pure core: `applyPrediction` / `applyLabeled` fold one decoded event into a partition's state
 * (mutating it in place: they run once per event, and the partition state is owned by exactly one
 * consumer); `mergePredictionPartials` / `mergeLabeledPartials` are pure. Every accumulator is exactly
 * mergeable (counts, sorted maps, exact sums), so the merge of any split of a window's events equals
 * the summary of all of them.
 *
 * Drift is measured on champion predictions only: shadow predictions (is_shadow) are not served, and a
 * challenger has its own version and reference profile. Shadow predictions still count for label
 * coverage and get their own CBPE and realized-performance rows (is_shadow = 1).
 */
import type { LabeledPrediction, PredictionEvent } from '../../lib/contracts/schemas.js';
import { calibrate } from '../../lib/performance/calibration.js';
import { addCbpe, createCbpeSummary, mergeCbpe, type CbpeSummary } from '../../lib/performance/cbpe.js';
import { addClassification, createClassificationSummary, mergeClassification, type ClassificationSummary } from '../../lib/performance/classification.js';
import { addKpi, createKpiAccumulator, kpiAppliesTo, mergeKpi, type KpiAccumulator } from '../../lib/performance/kpi/kpi.js';
import { addToLogHistogram, createLogHistogram, mergeLogHistograms, type LogHistogram } from '../../lib/performance/log-histogram.js';
import { addRegression, createRegressionSummary, mergeRegression, type RegressionSummary } from '../../lib/performance/regression.js';
import { PREDICTION_FEATURE, type ProfileEntry } from '../../lib/reference/types.js';
import { createWindowSummary, mergeWindowSummaries, updateWindowSummary } from '../../lib/stats/profile/summary.js';
import type { Row, WindowSummary } from '../../lib/stats/profile/types.js';
import { performanceFor, type MonitoringConfig } from './config.js';
import { closeTime, windowStartOf, type Source, type WindowTiming } from './windows.js';

/** PredictionEvents of this model only advance the partition watermark (idle producers can send them). */
export const HEARTBEAT_MODEL = '__heartbeat__';

/** Per-feature presence and type counts, kept when a version has no reference profile (data quality still reported). */
export interface QualitySummary {
  rows: number;
  /** feature -> [present non-null, null, number, string, boolean] */
  features: Record<string, [number, number, number, number, number]>;
}

export interface PredictionSegment {
  champion: number;
  shadow: number;
  drift: WindowSummary | null;
  prediction: WindowSummary | null;
  quality: QualitySummary | null;
  /** [champion, shadow] */
  cbpe: [CbpeSummary | null, CbpeSummary | null];
  kpis: Record<string, KpiAccumulator>;
}

export interface PredictionPartial {
  readonly source: 'predictions';
  readonly model: string;
  readonly version: string;
  readonly windowStart: number;
  /** reference_profiles.profile_version the summaries were built with; 0 = none existed. */
  readonly profileVersion: number;
  segments: Record<string, PredictionSegment>;
}

export interface PerformanceAccumulator {
  /** LabeledPrediction events (LABELED + UNLABELED). */
  total: number;
  labeled: number;
  classification: ClassificationSummary;
  regression: RegressionSummary;
  delay: LogHistogram;
}

export interface LabeledSegment {
  /** [champion, shadow] */
  perf: [PerformanceAccumulator | null, PerformanceAccumulator | null];
  kpis: Record<string, KpiAccumulator>;
}

export interface LabeledPartial {
  readonly source: 'labeled';
  readonly model: string;
  readonly version: string;
  readonly windowStart: number;
  segments: Record<string, LabeledSegment>;
}

export type Partial = PredictionPartial | LabeledPartial;

export interface PartitionState {
  readonly topic: string;
  readonly partition: number;
  readonly source: Source;
  /** Last offset folded into the state (-1: none). Records at or below it are skipped on replay. */
  throughOffset: number;
  /** Largest progress time seen (-Infinity: none). */
  watermark: number;
  lateEvents: number;
  /** Open partials by partialKey. */
  partials: Map<string, Partial>;
  /** Labeled source only: identities folded into each open partial (by partialKey), for dedup. */
  seen: Map<string, Set<string>>;
  /** Identities added since the last checkpoint (the adapter persists them, then clears this). */
  seenAdded: Array<{ key: string; identity: string; offset: number }>;
}

export interface StepEnv {
  readonly timing: WindowTiming;
  readonly config: MonitoringConfig;
  /** The profile new partials of (model, version) are built with (the newest one loaded). */
  profileFor(model: string, version: string): ProfileEntry | null;
}

export type StepResult =
  | { readonly kind: 'added'; readonly key: string }
  | { readonly kind: 'late' }
  | { readonly kind: 'heartbeat' }
  /** A labeled prediction the partial already holds (a redelivery of the joiner's output). */
  | { readonly kind: 'duplicate' };

export function partialKey(model: string, version: string, windowStart: number): string {
  return `${model}\u0000${version}\u0000${windowStart}`;
}

export function createPartitionState(
  topic: string,
  partition: number,
  source: Source,
  restored?: { throughOffset: number; watermark: number; lateEvents: number },
): PartitionState {
  return {
    topic,
    partition,
    source,
    throughOffset: restored?.throughOffset ?? -1,
    watermark: restored?.watermark ?? -Infinity,
    lateEvents: restored?.lateEvents ?? 0,
    partials: new Map(),
    seen: new Map(),
    seenAdded: [],
  };
}

/** Segment keys of an event: '' (everyone) plus 'key=value' for each configured key it carries. */
export function segmentKeys(segment: Readonly<Record<string, string>> | undefined, keys: readonly string[]): string[] {
  const out = [''];
  if (!segment) return out;
  for (const k of keys) {
    const v = segment[k];
    if (typeof v === 'string' && v !== '') out.push(`${k}=${v.length > 128 ? v.slice(0, 128) : v}`);
  }
  return out;
}

/** The value drift compares for '__prediction__': the score, else the predicted value, else the predicted label. */
export function predictionValue(ev: { score?: number | null; predicted_value?: number | null; predicted_label?: string | null }): number | string | null {
  return ev.score ?? ev.predicted_value ?? ev.predicted_label ?? null;
}

/** Positive-class probability of a classification event. */
export function positiveScore(ev: { score?: number | null; probabilities?: Readonly<Record<string, number>> }, positiveLabel: string): number | null {
  if (ev.score !== null && ev.score !== undefined) return ev.score;
  const p = ev.probabilities?.[positiveLabel];
  return p === undefined ? null : p;
}

function createPredictionSegment(profile: ProfileEntry | null): PredictionSegment {
  return {
    champion: 0,
    shadow: 0,
    drift: profile ? createWindowSummary(profile.features) : null,
    prediction: profile?.prediction ? createWindowSummary(profile.prediction) : null,
    quality: profile ? null : { rows: 0, features: {} },
    cbpe: [null, null],
    kpis: {},
  };
}

function updateQuality(q: QualitySummary, features: Readonly<Record<string, unknown>>): void {
  q.rows++;
  for (const key in features) {
    const v = features[key];
    let f = q.features[key];
    if (!f) {
      f = [0, 0, 0, 0, 0];
      q.features[key] = f;
    }
    if (v === null || v === undefined || (typeof v === 'number' && !Number.isFinite(v))) f[1]++;
    else {
      f[0]++;
      if (typeof v === 'number') f[2]++;
      else if (typeof v === 'string') f[3]++;
      else if (typeof v === 'boolean') f[4]++;
    }
  }
}

function acceptOrLate(state: PartitionState, windowStart: number, progress: number, t: WindowTiming): boolean {
  if (closeTime(state.source, windowStart, t) <= state.watermark) {
    state.lateEvents++;
    return false;
  }
  if (progress > state.watermark) state.watermark = progress;
  return true;
}

/**
 * Folds one PredictionEvent into the partition state. `profileFor` decides the profile of a partial
 * created now; an existing partial keeps the profile it was created with (summaries of different
 * profiles do not merge).
 */
export function applyPrediction(
  state: PartitionState,
  ev: PredictionEvent,
  env: StepEnv,
  profileByVersion: (model: string, version: string, pv: number) => ProfileEntry | null,
): StepResult {
  const t = ev.event_time;
  const ws = windowStartOf(t, env.timing.sizeMs);
  if (ev.model_name === HEARTBEAT_MODEL) {
    if (t > state.watermark) state.watermark = t;
    return { kind: 'heartbeat' };
  }
  if (!acceptOrLate(state, ws, t, env.timing)) return { kind: 'late' };
  const key = partialKey(ev.model_name, ev.model_version, ws);
  let p = state.partials.get(key) as PredictionPartial | undefined;
  if (!p) {
    const prof = env.profileFor(ev.model_name, ev.model_version);
    p = { source: 'predictions', model: ev.model_name, version: ev.model_version, windowStart: ws, profileVersion: prof?.profileVersion ?? 0, segments: {} };
    state.partials.set(key, p);
  }
  const profile = p.profileVersion > 0 ? profileByVersion(p.model, p.version, p.profileVersion) : null;
  const cfg = env.config;
  const perf = performanceFor(cfg, ev.model_name);
  const shadow = ev.is_shadow === true;
  const features = ev.features ?? {};
  const predRow: Row | null = profile?.prediction ? { [PREDICTION_FEATURE]: predictionValue(ev) } : null;
  let cbpeP: number | null = null;
  let predictedPositive = false;
  if (profile && profile.task === 'binary') {
    const s = positiveScore(ev, perf.positiveLabel);
    if (s !== null && Number.isFinite(s)) {
      cbpeP = calibrate(profile.calibration, s);
      predictedPositive =
        ev.predicted_label !== null && ev.predicted_label !== undefined ? ev.predicted_label === perf.positiveLabel : s >= perf.decisionThreshold;
    }
  }
  for (const sk of segmentKeys(ev.segment, cfg.segments.keys)) {
    let seg = p.segments[sk];
    if (!seg) {
      seg = createPredictionSegment(profile);
      p.segments[sk] = seg;
    }
    if (shadow) seg.shadow++;
    else {
      seg.champion++;
      if (seg.drift) updateWindowSummary(seg.drift, features as Row);
      if (seg.prediction && predRow) updateWindowSummary(seg.prediction, predRow);
      if (seg.quality) updateQuality(seg.quality, features);
      for (const k of cfg.kpis) {
        if (k.source !== 'predictions' || !kpiAppliesTo(k, ev.model_name)) continue;
        addKpi(seg.kpis[k.name] ?? (seg.kpis[k.name] = createKpiAccumulator()), k, ev as unknown as Record<string, unknown>);
      }
    }
    if (cbpeP !== null) {
      const i = shadow ? 1 : 0;
      addCbpe(seg.cbpe[i] ?? (seg.cbpe[i] = createCbpeSummary()), cbpeP, predictedPositive);
    }
  }
  return { kind: 'added', key };
}

/**
 * Progress time of a labeled prediction (see docs/windows.md, "Watermarks and lateness").
 *
 * The label-joiner stamps every record with its partition watermark at emission (`join_watermark`),
 * and that is the progress time: the joiner's watermark never goes back, and a prediction it has not
 * emitted yet is still pending, i.e. its deadline prediction_time + JOIN_MAX_LABEL_DELAY_MS is past
 * that watermark, so its window cannot be closed by it. Deriving progress from the record's own
 * times instead (outcome_time when LABELED) ran ahead of expirations still to come whenever the
 * joiner's outcomes input was ahead of its predictions input, and counted them late.
 *
 * Records without the stamp (another producer, the joiner's very first records): the earliest time
 * the joiner could have emitted them.
 */
export function labeledProgressTime(ev: LabeledPrediction, t: WindowTiming): number {
  if (ev.join_watermark !== null && ev.join_watermark !== undefined) return ev.join_watermark;
  if (ev.status === 'LABELED') return Math.max(ev.prediction_time, ev.outcome_time ?? ev.prediction_time);
  return ev.prediction_time + t.labelDelayMs;
}

/**
 * Identity of a labeled prediction inside its partial (which fixes model, version and window): the
 * key the label-joiner's output is deduplicated on, as labeled_predictions is in ClickHouse.
 */
export function labeledIdentity(ev: Pick<LabeledPrediction, 'is_shadow' | 'prediction_id'>): string {
  return `${ev.is_shadow === true ? 1 : 0}\u0000${ev.prediction_id}`;
}

function createPerf(): PerformanceAccumulator {
  return { total: 0, labeled: 0, classification: createClassificationSummary(), regression: createRegressionSummary(), delay: createLogHistogram() };
}

/**
 * Folds one LabeledPrediction into the partition state (window of its prediction_time).
 *
 * The joiner's output topic is at-least-once: a joiner that crashed after producing and before
 * checkpointing produces the same records again. A record whose identity (labeledIdentity) the
 * partial already holds is a redelivery and is not folded in twice; the first copy wins, as the
 * joiner emits a prediction once per identity (LABELED or UNLABELED, never both).
 */
export function applyLabeled(state: PartitionState, ev: LabeledPrediction, env: StepEnv, offset = -1): StepResult {
  if (ev.model_name === HEARTBEAT_MODEL) {
    const pt = labeledProgressTime(ev, env.timing);
    if (pt > state.watermark) state.watermark = pt;
    return { kind: 'heartbeat' };
  }
  const ws = windowStartOf(ev.prediction_time, env.timing.sizeMs);
  const key = partialKey(ev.model_name, ev.model_version, ws);
  const identity = labeledIdentity(ev);
  if (state.seen.get(key)?.has(identity)) return { kind: 'duplicate' };
  if (!acceptOrLate(state, ws, labeledProgressTime(ev, env.timing), env.timing)) return { kind: 'late' };
  let p = state.partials.get(key) as LabeledPartial | undefined;
  if (!p) {
    p = { source: 'labeled', model: ev.model_name, version: ev.model_version, windowStart: ws, segments: {} };
    state.partials.set(key, p);
  }
  let seen = state.seen.get(key);
  if (!seen) {
    seen = new Set();
    state.seen.set(key, seen);
  }
  seen.add(identity);
  state.seenAdded.push({ key, identity, offset });
  const cfg = env.config;
  const perf = performanceFor(cfg, ev.model_name);
  const shadow = ev.is_shadow === true;
  const labeled = ev.status === 'LABELED';
  const delay = labeled
    ? (ev.label_delay_ms ?? (ev.outcome_time !== null && ev.outcome_time !== undefined ? ev.outcome_time - ev.prediction_time : null))
    : null;
  const score = positiveScore(ev, perf.positiveLabel);
  const predicted = ev.predicted_value ?? ev.score ?? null;
  for (const sk of segmentKeys(ev.segment, cfg.segments.keys)) {
    let seg = p.segments[sk];
    if (!seg) {
      seg = { perf: [null, null], kpis: {} };
      p.segments[sk] = seg;
    }
    const i = shadow ? 1 : 0;
    const acc = seg.perf[i] ?? (seg.perf[i] = createPerf());
    acc.total++;
    if (labeled) {
      acc.labeled++;
      if (delay !== null) addToLogHistogram(acc.delay, delay);
      if (ev.label !== null && ev.label !== undefined) {
        addClassification(acc.classification, { label: ev.label, predictedLabel: ev.predicted_label ?? null, score }, perf);
      }
      if (ev.target_value !== null && ev.target_value !== undefined && predicted !== null) addRegression(acc.regression, ev.target_value, predicted);
    }
    if (!shadow) {
      for (const k of cfg.kpis) {
        if (k.source !== 'labeled' || !kpiAppliesTo(k, ev.model_name)) continue;
        addKpi(seg.kpis[k.name] ?? (seg.kpis[k.name] = createKpiAccumulator()), k, ev as unknown as Record<string, unknown>);
      }
    }
  }
  return { kind: 'added', key };
}

/**
 * Forgets the partials (and their dedup identities) of windows closed in this partition: they can no
 * longer change, and their checkpoint is durable.
 */
export function evictClosed(state: PartitionState, t: WindowTiming): number {
  const keys = closedPartialKeys(state, t);
  for (const k of keys) {
    state.partials.delete(k);
    state.seen.delete(k);
  }
  return keys.length;
}

/** Partials of windows closed in this partition: they can no longer change and may leave memory once checkpointed. */
export function closedPartialKeys(state: PartitionState, t: WindowTiming): string[] {
  const out: string[] = [];
  for (const [k, p] of state.partials) if (closeTime(state.source, p.windowStart, t) <= state.watermark) out.push(k);
  return out;
}

// ---- merging ------------------------------------------------------------------------------------

const mergeNullable = <T>(a: T | null, b: T | null, f: (x: T, y: T) => T): T | null => (a === null ? b : b === null ? a : f(a, b));

function mergeKpis(a: Record<string, KpiAccumulator>, b: Record<string, KpiAccumulator>): Record<string, KpiAccumulator> {
  const out: Record<string, KpiAccumulator> = {};
  for (const k of [...new Set([...Object.keys(a), ...Object.keys(b)])].sort()) out[k] = mergeNullable(a[k] ?? null, b[k] ?? null, mergeKpi)!;
  return out;
}

export function mergeQuality(a: QualitySummary, b: QualitySummary): QualitySummary {
  const features: QualitySummary['features'] = {};
  for (const k of [...new Set([...Object.keys(a.features), ...Object.keys(b.features)])].sort()) {
    const x = a.features[k] ?? [0, 0, 0, 0, 0];
    const y = b.features[k] ?? [0, 0, 0, 0, 0];
    features[k] = [x[0] + y[0], x[1] + y[1], x[2] + y[2], x[3] + y[3], x[4] + y[4]];
  }
  return { rows: a.rows + b.rows, features };
}

/** Merges two segment states built with the same profile (drift summaries must share the profile). */
export function mergePredictionSegments(a: PredictionSegment, b: PredictionSegment): PredictionSegment {
  return {
    champion: a.champion + b.champion,
    shadow: a.shadow + b.shadow,
    drift: mergeNullable(a.drift, b.drift, mergeWindowSummaries),
    prediction: mergeNullable(a.prediction, b.prediction, mergeWindowSummaries),
    quality: mergeNullable(a.quality, b.quality, mergeQuality),
    cbpe: [mergeNullable(a.cbpe[0], b.cbpe[0], mergeCbpe), mergeNullable(a.cbpe[1], b.cbpe[1], mergeCbpe)],
    kpis: mergeKpis(a.kpis, b.kpis),
  };
}

function mergePerf(a: PerformanceAccumulator, b: PerformanceAccumulator): PerformanceAccumulator {
  return {
    total: a.total + b.total,
    labeled: a.labeled + b.labeled,
    classification: mergeClassification(a.classification, b.classification),
    regression: mergeRegression(a.regression, b.regression),
    delay: mergeLogHistograms(a.delay, b.delay),
  };
}

export function mergeLabeledSegments(a: LabeledSegment, b: LabeledSegment): LabeledSegment {
  return { perf: [mergeNullable(a.perf[0], b.perf[0], mergePerf), mergeNullable(a.perf[1], b.perf[1], mergePerf)], kpis: mergeKpis(a.kpis, b.kpis) };
}

function mergeSegmentMaps<S>(maps: ReadonlyArray<Record<string, S>>, merge: (a: S, b: S) => S): Record<string, S> {
  const out: Record<string, S> = {};
  const keys = [...new Set(maps.flatMap((m) => Object.keys(m)))].sort();
  for (const k of keys) {
    let acc: S | undefined;
    for (const m of maps) {
      const s = m[k];
      if (s === undefined) continue;
      acc = acc === undefined ? s : merge(acc, s);
    }
    out[k] = acc!;
  }
  return out;
}

export interface MergedPredictions {
  /** The profile version the drift rows use: the one covering the most champion rows (ties: newest); 0 = none. */
  readonly profileVersion: number;
  /** 'ok' | 'no_reference' | 'mixed_profiles' (some partials used another profile and are left out of drift). */
  readonly profileStatus: 'ok' | 'no_reference' | 'mixed_profiles';
  readonly segments: Record<string, PredictionSegment>;
  /** Champion / shadow counts per segment over every partial, whatever its profile. */
  readonly counts: Record<string, [number, number]>;
}

export function countsOf(p: PredictionPartial): Record<string, [number, number]> {
  const out: Record<string, [number, number]> = {};
  for (const k of Object.keys(p.segments).sort()) out[k] = [p.segments[k]!.champion, p.segments[k]!.shadow];
  return out;
}

export function mergeCounts(list: ReadonlyArray<Record<string, [number, number]>>): Record<string, [number, number]> {
  const out: Record<string, [number, number]> = {};
  for (const k of [...new Set(list.flatMap((c) => Object.keys(c)))].sort()) {
    let c = 0;
    let s = 0;
    for (const m of list) {
      c += m[k]?.[0] ?? 0;
      s += m[k]?.[1] ?? 0;
    }
    out[k] = [c, s];
  }
  return out;
}

/** Merges a window's prediction partials from every partition. Pure and independent of input order. */
export function mergePredictionPartials(partials: readonly PredictionPartial[]): MergedPredictions {
  const rowsByVersion = new Map<number, number>();
  for (const p of partials) {
    let rows = 0;
    for (const s of Object.values(p.segments)) rows += s.champion + s.shadow;
    rowsByVersion.set(p.profileVersion, (rowsByVersion.get(p.profileVersion) ?? 0) + rows);
  }
  let chosen = 0;
  let best = -1;
  for (const [v, rows] of [...rowsByVersion].sort((a, b) => a[0] - b[0])) {
    if (rows >= best) {
      chosen = v;
      best = rows;
    }
  }
  const used = partials.filter((p) => p.profileVersion === chosen);
  const status = chosen === 0 ? 'no_reference' : used.length === partials.length ? 'ok' : 'mixed_profiles';
  return {
    profileVersion: chosen,
    profileStatus: status,
    segments: mergeSegmentMaps(
      used.map((p) => p.segments),
      mergePredictionSegments,
    ),
    counts: mergeCounts(partials.map(countsOf)),
  };
}

export function mergeLabeledPartials(partials: readonly LabeledPartial[]): Record<string, LabeledSegment> {
  return mergeSegmentMaps(
    partials.map((p) => p.segments),
    mergeLabeledSegments,
  );
}

/**
 * Caps the number of values per segment key: the `maxValues` largest (by `size`, ties by name) keep
 * their own rows, the rest merge into 'key=__other__'. Applied at evaluation on the merged window, so
 * the choice is the same whatever the partition split.
 */
export function capSegments<S>(
  segments: Record<string, S>,
  maxValues: number,
  size: (s: S) => number,
  merge: (a: S, b: S) => S,
): { segments: Record<string, S>; otherOf: Map<string, string> } {
  const byKey = new Map<string, string[]>();
  for (const sk of Object.keys(segments)) {
    if (sk === '') continue;
    const k = sk.slice(0, sk.indexOf('='));
    const list = byKey.get(k) ?? [];
    list.push(sk);
    byKey.set(k, list);
  }
  const out: Record<string, S> = {};
  const otherOf = new Map<string, string>();
  if (segments[''] !== undefined) out[''] = segments['']!;
  for (const [k, list] of [...byKey].sort((a, b) => (a[0] < b[0] ? -1 : 1))) {
    list.sort((a, b) => size(segments[b]!) - size(segments[a]!) || (a < b ? -1 : a > b ? 1 : 0));
    const keep = list.slice(0, maxValues);
    const rest = list.slice(maxValues).sort();
    for (const sk of keep) out[sk] = segments[sk]!;
    if (rest.length > 0) {
      const other = `${k}=__other__`;
      let acc: S = segments[rest[0]!] as S;
      for (const sk of rest.slice(1)) acc = merge(acc, segments[sk] as S);
      for (const sk of rest) otherOf.set(sk, other);
      const prev: S | undefined = out[other];
      out[other] = prev === undefined ? acc : merge(prev, acc);
    }
  }
  const sorted: Record<string, S> = {};
  for (const k of Object.keys(out).sort()) sorted[k] = out[k]!;
  return { segments: sorted, otherOf };
}
