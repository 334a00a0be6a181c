/**
 * Retrain-trigger core: `evaluate(policyState, windowResults, now, context) -> {state, decisions,
 * retrainEvents, alerts}`. Pure: no I/O and no clock (`now` only stamps decided_at / created_at), so
 * every condition, combination rule, hysteresis and cooldown is tested with plain arrays
 * (test/stream-processors/retrain-trigger/core.test.ts).
 *
 * Two clocks. Labels arrive long after predictions (JOIN_MAX_LABEL_DELAY_MS, a day by default), so a
 * window's realized performance is not known when the window closes; the window-metrics processor
 * rewrites it as labels arrive and marks it final after the label delay (docs/windows.md,
 * "Finality"). Each condition is therefore tested on the clock on which its evidence is complete:
 *
 *  - the **close** clock: drift, estimated performance (CBPE), KPIs and schedule are tested on a
 *    window when it closes (its summary row settled), once per window, in window order;
 *  - the **labels** clock: realized performance is tested on a window once its labels are in —
 *    the metric's n_labeled reached the condition's `min_samples`, or the window's realized rows are
 *    final — once per window, in window order (a window not ready yet holds the later ones back, so
 *    `for_windows` counts consecutive windows in event time);
 *  - `min_labels` has no clock of its own: it is re-checked at every step against the labeled
 *    samples, as they are now, of the windows since the last retrain (late labels included; the
 *    adapter sums them, `LabelTotal`).
 *
 * Per (policy, model, version) the core takes *steps*: one per window on each clock the policy uses
 * (a policy with only realized-performance conditions takes no close steps; one without any takes no
 * label steps). Each step records exactly one audited decision:
 *
 *  1. The leaves of the step's clock run their test on the window (drift: k features at or above a
 *     severity; performance below/above a threshold; KPI drop against its baseline; schedule cadence;
 *     labeled samples since the last retrain). A leaf *holds* once its test passed `for_windows`
 *     consecutive windows of its clock. A gap (a window that does not start where the clock's
 *     previous one ended) breaks streaks. The leaves of the other clock keep the status of their last
 *     evaluation ("carried", `evaluated: false` in the audit).
 *  2. A leaf that starts holding raises an Alert FIRING; one that stops holding raises RESOLVED with
 *     the same alert_id (the incident id), so `alerts FINAL WHERE status = 'FIRING'` lists open ones.
 *  3. The tree (all_of / any_of, nested) decides whether the policy's condition holds now.
 *  4. The episode state machine decides, counting steps:
 *       holds, not armed (fired this episode, not re-armed)       -> suppressed / hysteresis
 *       holds, armed, fewer than fire_after_windows steps          -> suppressed / pending_windows
 *       holds, armed, within cooldown of the last event            -> suppressed / cooldown
 *       holds, armed, otherwise                                    -> fired / condition_met
 *       does not hold, but would if min_labels leaves held (armed) -> suppressed / insufficient_samples
 *       does not hold                                              -> suppressed / condition_not_met
 *     An episode starts at the first step of a run of holding steps while armed; its idempotency
 *     key is a hash of (policy, model, version, episode start window, and the clock of that step when
 *     it is the labels clock), so re-evaluating the same windows after a crash yields the same key.
 *     After firing, the policy is disarmed until the condition has been clear for
 *     `rearm_after_windows` consecutive steps.
 *
 * Time in cooldown and schedule is event time (window bounds), not wall time. A label step looks at
 * a window older than the close clock's; the cooldown therefore runs from the newest window the
 * policy had seen when it fired (its close cursor), and it applies to the evidence: a condition
 * whose evidence window ends within the cooldown, or at or before that point (the retrain already
 * requested covers it), cannot make the policy fire, also when carried into a later step.
 */
import { createHash } from 'node:crypto';
import { ALERT_STATUS, type Alert, type RetrainRequested } from '../../lib/contracts/schemas.js';
import { policyApplies, type Condition, type Leaf, type Policy } from './policy.js';

/** The prediction distribution's pseudo-feature in drift_metrics (migration 030). */
export const PREDICTION_FEATURE = '__prediction__';

// ---- inputs --------------------------------------------------------------------------------------

export interface FeatureDrift {
  readonly feature: string;
  readonly severity: string;
  readonly severityLevel: number;
  readonly drift: boolean;
  readonly score: number | null;
  readonly threshold: number;
  readonly method: string;
}

export interface DriftSummary {
  readonly nFeatures: number;
  readonly nDrifted: number;
  readonly driftedFeatures: readonly string[];
  readonly severity: string;
  readonly severityLevel: number;
  readonly datasetDrift: boolean;
  readonly predictionDrift: boolean;
  readonly profileStatus: string;
}

export interface PerformanceValue {
  readonly metric: string;
  readonly kind: string;
  readonly value: number | null;
  readonly nLabeled: number;
  readonly nTotal: number;
}

export interface KpiValue {
  readonly kpi: string;
  readonly value: number | null;
  readonly baseline: number | null;
  readonly n: number;
}

/**
 * Everything the window-metrics processor concluded about one model version in one window, as it
 * reads now. A window is passed again on later polls while its labels are still arriving, with
 * `labelsOnly` set: only its realized performance was read.
 */
export interface WindowResult {
  readonly modelName: string;
  readonly modelVersion: string;
  readonly windowStart: number;
  readonly windowEnd: number;
  readonly drift: DriftSummary | null;
  readonly features: readonly FeatureDrift[];
  readonly performance: readonly PerformanceValue[];
  readonly kpis: readonly KpiValue[];
  /** Labeled samples of the window so far (max n_labeled over realized performance rows). */
  readonly labeledCount: number;
  /** The window's realized performance is final (performance_metrics.is_final): no label can still change it. */
  readonly labelsFinal: boolean;
  /**
   * Only the realized performance of a window the close clock has already seen was read (a label
   * update); such a result never closes a window.
   */
  readonly labelsOnly: boolean;
}

/**
 * min_labels input, summed by the adapter over the current performance rows: the labeled samples of
 * the model version's windows starting at or after `from` and ending at or before `through`. The core
 * uses it only when both bounds match the trigger state it evaluates (`labelCountRange`).
 */
export interface LabelTotal {
  readonly policyId: string;
  readonly modelName: string;
  readonly modelVersion: string;
  readonly from: number;
  readonly through: number;
  readonly labeled: number;
}

export interface EvaluationContext {
  readonly labelTotals?: readonly LabelTotal[];
}

// ---- clocks --------------------------------------------------------------------------------------

export const CLOCK = { CLOSE: 'close', LABELS: 'labels' } as const;
export type Clock = (typeof CLOCK)[keyof typeof CLOCK];

/** The clock a leaf is tested on; null for min_labels, which is re-checked at every step. */
export function leafClock(leaf: Leaf): Clock | null {
  if (leaf.kind === 'min_labels') return null;
  if (leaf.kind === 'performance' && leaf.perfKind === 'realized') return CLOCK.LABELS;
  return CLOCK.CLOSE;
}

/** The clocks a policy takes steps on. A policy made only of min_labels conditions steps on close. */
export function policyClocks(policy: Policy): { readonly close: boolean; readonly labels: boolean } {
  const clocks = policy.leaves.map(leafClock);
  const labels = clocks.includes(CLOCK.LABELS);
  return { close: clocks.includes(CLOCK.CLOSE) || !labels, labels };
}

/**
 * Whether a window's labels are in for every realized-performance condition of the policy: the
 * window's realized rows are final, or the condition sets `min_samples` and the metric's n_labeled
 * reached it. Without `min_samples` a condition waits for the final value.
 */
export function labelsReady(policy: Policy, w: WindowResult): boolean {
  if (w.labelsFinal) return true;
  return policy.leaves.every((leaf) => {
    if (leaf.kind !== 'performance' || leaf.perfKind !== 'realized') return true;
    if (leaf.minSamples <= 0) return false;
    const row = w.performance.find((p) => p.metric === leaf.metric && p.kind === 'realized');
    return row !== undefined && row.nLabeled >= leaf.minSamples;
  });
}

// ---- state ---------------------------------------------------------------------------------------

/** A leaf's last evaluation, carried into the steps of the other clock. */
export interface LeafEvidence {
  readonly metric: string;
  readonly value: number | null;
  readonly threshold: number | null;
  readonly comparator: Comparator;
  readonly passed: boolean;
  readonly windowStart: number;
  readonly windowEnd: number;
  readonly note: string | null;
}

export interface LeafState {
  readonly hash: string;
  readonly streak: number;
  /** window_start of the first window of the current streak. */
  readonly streakStart: number | null;
  readonly holding: boolean;
  /** window_start identifying the open alert incident (while holding). */
  readonly incidentStart: number | null;
  /** Drift leaves: features at/above the severity over the current streak. */
  readonly features: readonly string[];
  readonly last: LeafEvidence | null;
}

export interface TriggerState {
  readonly policyId: string;
  readonly modelName: string;
  readonly modelVersion: string;
  readonly policyHash: string;
  /** Steps taken; orders the recorded decisions (the latest one carries the state to resume from). */
  readonly seq: number;
  readonly firstWindowStart: number | null;
  readonly lastWindowStart: number | null;
  /** Close cursor (high-water mark): windows ending at or before it were closed. */
  readonly lastWindowEnd: number | null;
  /** Labels cursor: windows ending at or before it had their realized performance evaluated. */
  readonly labelWindowEnd: number | null;
  readonly leaves: Readonly<Record<string, LeafState>>;
  /** Consecutive steps the whole condition held. */
  readonly holdStreak: number;
  /** window_start of the window of the first step of the current run of holding steps. */
  readonly episodeStart: number | null;
  /** The clock of that step (part of the idempotency key when it is the labels clock). */
  readonly episodeClock: Clock | null;
  /** Consecutive steps the whole condition was clear. */
  readonly clearStreak: number;
  /** false after firing, until the condition was clear for rearm_after_windows steps. */
  readonly armed: boolean;
  /** The close cursor when the policy last fired: cooldown and schedule run from here. */
  readonly lastFiredWindowEnd: number | null;
  readonly lastFiredKey: string | null;
  /** min_labels counts the windows starting at or after this (the last retrain's window end). */
  readonly labelsFrom: number | null;
  /** Labeled samples of those windows at the last step (or window close). */
  readonly labelsSinceRetrain: number;
}

export type TriggerStates = Readonly<Record<string, TriggerState>>;

export interface PolicyState {
  readonly policies: readonly Policy[];
  readonly triggers: TriggerStates;
}

// ---- outputs -------------------------------------------------------------------------------------

export const DECISION = { FIRED: 'fired', SUPPRESSED: 'suppressed' } as const;
export type DecisionKind = (typeof DECISION)[keyof typeof DECISION];

export const DECISION_REASONS = ['condition_met', 'condition_not_met', 'insufficient_samples', 'pending_windows', 'hysteresis', 'cooldown'] as const;
export type DecisionReason = (typeof DECISION_REASONS)[number];

export type Comparator = 'gte' | 'lte' | 'gt' | 'lt';

/** One leaf's result at one step, with its evidence. */
export interface LeafEvaluation {
  readonly id: string;
  readonly kind: Leaf['kind'];
  /** The leaf's clock (null: min_labels, tested at every step). */
  readonly clock: Clock | null;
  /** Tested at this step; false: carried from its last evaluation on its own clock (evidence span below). */
  readonly evaluated: boolean;
  readonly metric: string;
  readonly value: number | null;
  readonly threshold: number | null;
  readonly comparator: Comparator;
  /** The test passed (on this window, or at its last evaluation when carried). */
  readonly passed: boolean;
  readonly streak: number;
  /** The leaf holds (passed for_windows consecutive windows). */
  readonly holds: boolean;
  /** Evidence span: first window of the streak (or this window) to this window's end. */
  readonly windowStart: number;
  readonly windowEnd: number;
  readonly features: readonly string[];
  readonly note: string | null;
}

export interface Decision {
  readonly decidedAt: number;
  readonly policyId: string;
  readonly modelName: string;
  readonly modelVersion: string;
  readonly windowStart: number;
  readonly windowEnd: number;
  readonly decision: DecisionKind;
  readonly reason: DecisionReason;
  /**
   * fired: the RetrainRequested key. Otherwise, at a close step, the key of the episode the window
   * belongs to (the key its event would carry, or did carry for `hysteresis`), or the decision's own
   * key outside an episode; at a label step, always the step's own key (`dl-…`; the episode's key is
   * in detail.episodeKey), so it never collapses with the close step of the same window in
   * retrain_decisions. Never empty, so decisions of two versions never collapse either.
   */
  readonly idempotencyKey: string;
  readonly conditions: readonly LeafEvaluation[];
  readonly detail: DecisionDetail;
}

export interface DecisionDetail {
  /** The clock of this step: `close` (the window closed) or `labels` (its labels were in). */
  readonly clock: Clock;
  readonly policyHash: string;
  /** The episode's idempotency key (for hysteresis: the key of the event that fired), or null. */
  readonly episodeKey: string | null;
  readonly held: boolean;
  readonly heldIgnoringSamples: boolean;
  readonly episodeStart: number | null;
  readonly holdStreak: number;
  readonly clearStreak: number;
  readonly armed: boolean;
  readonly cooldownUntil: number | null;
  readonly labelsSinceRetrain: number;
  /** The trigger state after this window: what a restarted instance resumes from. */
  readonly state: TriggerState;
}

export interface EvaluationResult {
  readonly state: PolicyState;
  readonly decisions: readonly Decision[];
  readonly retrainEvents: readonly RetrainRequested[];
  readonly alerts: readonly Alert[];
}

// ---- keys ----------------------------------------------------------------------------------------

function hash(parts: readonly (string | number)[]): string {
  return createHash('sha256').update(parts.map(String).join('\u0000')).digest('hex').slice(0, 32);
}

export function stateKey(policyId: string, model: string, version: string): string {
  return `${policyId}\u0000${model}\u0000${version}`;
}

/**
 * Idempotency key of a retrain episode: deterministic from policy, model, version, episode start
 * window, and the clock of the episode's first step when it is `labels` (an episode starting at the
 * label step of a window is not the one that started at its close; close keys are unchanged from
 * before the labels clock existed).
 */
export function idempotencyKey(policyId: string, model: string, version: string, episodeStart: number, clock: Clock = CLOCK.CLOSE): string {
  return `rt-${hash(clock === CLOCK.CLOSE ? ['retrain', policyId, model, version, episodeStart] : ['retrain', policyId, model, version, episodeStart, clock])}`;
}

/** Key of a decision outside any episode (close: one per window), or of a suppressed label step. */
export function decisionKey(policyId: string, model: string, version: string, windowStart: number, clock: Clock = CLOCK.CLOSE): string {
  return clock === CLOCK.CLOSE
    ? `dk-${hash(['decision', policyId, model, version, windowStart])}`
    : `dl-${hash(['decision', policyId, model, version, windowStart, clock])}`;
}

/** Alert incident id: FIRING and its RESOLVED share it. */
export function alertId(policyId: string, model: string, version: string, leafId: string, incidentStart: number): string {
  return `al-${hash(['alert', policyId, model, version, leafId, incidentStart])}`;
}

export function initialTriggerState(policy: Policy, model: string, version: string): TriggerState {
  return {
    policyId: policy.id,
    modelName: model,
    modelVersion: version,
    policyHash: policy.hash,
    seq: 0,
    firstWindowStart: null,
    lastWindowStart: null,
    lastWindowEnd: null,
    labelWindowEnd: null,
    leaves: {},
    holdStreak: 0,
    episodeStart: null,
    episodeClock: null,
    clearStreak: 0,
    armed: true,
    lastFiredWindowEnd: null,
    lastFiredKey: null,
    labelsFrom: null,
    labelsSinceRetrain: 0,
  };
}

/**
 * A state recorded before the labels clock existed, completed with that clock's fields: no label
 * step taken yet, episodes started on close, min_labels counting from the last fire.
 */
export function upgradeTriggerState(s: TriggerState): TriggerState {
  const old = s as Partial<TriggerState> & Pick<TriggerState, 'episodeStart' | 'lastFiredWindowEnd' | 'leaves'>;
  return {
    ...s,
    seq: old.seq ?? 0,
    labelWindowEnd: old.labelWindowEnd ?? null,
    episodeClock: old.episodeClock ?? (s.episodeStart === null ? null : CLOCK.CLOSE),
    labelsFrom: old.labelsFrom !== undefined ? old.labelsFrom : s.lastFiredWindowEnd,
    leaves: Object.fromEntries(Object.entries(s.leaves).map(([id, l]) => [id, { ...l, last: (l as Partial<LeafState>).last ?? null }])),
  };
}

/** The windows min_labels counts for this state (what the adapter sums), or null before any window. */
export function labelCountRange(s: TriggerState): { from: number; through: number } | null {
  const from = s.labelsFrom ?? s.firstWindowStart;
  return from === null || s.lastWindowEnd === null ? null : { from, through: s.lastWindowEnd };
}

// ---- leaf tests ----------------------------------------------------------------------------------

interface LeafTest {
  readonly metric: string;
  readonly value: number | null;
  readonly threshold: number | null;
  readonly comparator: Comparator;
  readonly passed: boolean;
  readonly features: readonly string[];
  readonly note: string | null;
}

/** What a leaf measures, independent of any window (for leaves not evaluated yet). */
function leafMeasure(leaf: Leaf): Pick<LeafTest, 'metric' | 'threshold' | 'comparator'> {
  switch (leaf.kind) {
    case 'drift':
      return { metric: `features_at_or_above_${leaf.minSeverityName}`, threshold: leaf.minFeatures, comparator: 'gte' };
    case 'performance':
      return { metric: `${leaf.perfKind}.${leaf.metric}`, threshold: leaf.below ?? leaf.above, comparator: leaf.below !== null ? 'lt' : 'gt' };
    case 'kpi':
      return { metric: `kpi.${leaf.kpi}.${leaf.mode}_drop`, threshold: leaf.drop, comparator: 'gte' };
    case 'schedule':
      return { metric: 'ms_since_last_retrain', threshold: leaf.everyMs, comparator: 'gte' };
    case 'min_labels':
      return { metric: 'labeled_since_last_retrain', threshold: leaf.count, comparator: 'gte' };
  }
}

function testLeaf(leaf: Leaf, w: WindowResult, st: { anchor: number; labels: number }): LeafTest {
  const m = leafMeasure(leaf);
  switch (leaf.kind) {
    case 'drift': {
      const wanted = leaf.features ? new Set(leaf.features) : null;
      const hits = w.features
        .filter((f) => (f.feature !== PREDICTION_FEATURE || leaf.includePrediction) && (!wanted || wanted.has(f.feature)))
        // Level 0 ("none") as a threshold would count every feature; require the drift flag then.
        .filter((f) => f.severityLevel >= leaf.minSeverity && (leaf.minSeverity > 0 || f.drift))
        .map((f) => f.feature)
        .sort();
      return {
        ...m,
        value: hits.length,
        passed: hits.length >= leaf.minFeatures,
        features: hits,
        note: w.features.length === 0 ? 'no per-feature drift rows for this window' : null,
      };
    }
    case 'performance': {
      const row = w.performance.find((p) => p.metric === leaf.metric && p.kind === leaf.perfKind);
      const n = row ? (leaf.perfKind === 'realized' ? row.nLabeled : row.nTotal) : 0;
      if (!row || row.value === null) return { ...m, value: null, passed: false, features: [], note: 'no value for this window' };
      if (n < leaf.minSamples) return { ...m, value: row.value, passed: false, features: [], note: `${n} samples < min_samples ${leaf.minSamples}` };
      const passed = leaf.below !== null ? row.value < leaf.below : row.value > leaf.above!;
      // A realized value read before the window is final (min_samples reached) can still move.
      const note = leaf.perfKind === 'realized' && !w.labelsFinal ? `provisional: ${n} labeled, labels still arriving` : null;
      return { ...m, value: row.value, passed, features: [], note };
    }
    case 'kpi': {
      const row = w.kpis.find((k) => k.kpi === leaf.kpi);
      const base = { ...m, features: [] };
      const baseline = leaf.baseline ?? row?.baseline ?? null;
      if (!row || row.value === null) return { ...base, value: null, passed: false, note: 'no value for this window' };
      if (baseline === null) return { ...base, value: null, passed: false, note: 'no baseline' };
      if (row.n < leaf.minSamples) return { ...base, value: null, passed: false, note: `${row.n} samples < min_samples ${leaf.minSamples}` };
      if (leaf.mode === 'relative' && baseline === 0) return { ...base, value: null, passed: false, note: 'baseline is 0: a relative drop is undefined' };
      // A drop is positive when the KPI fell below its baseline (higher KPI = better).
      const drop = leaf.mode === 'absolute' ? baseline - row.value : (baseline - row.value) / Math.abs(baseline);
      return { ...base, value: drop, passed: drop >= leaf.drop, note: null };
    }
    case 'schedule': {
      const elapsed = w.windowEnd - st.anchor;
      return { ...m, value: elapsed, passed: elapsed >= leaf.everyMs, features: [], note: null };
    }
    case 'min_labels':
      return { ...m, value: st.labels, passed: st.labels >= leaf.count, features: [], note: null };
  }
}

function holds(node: Condition, leafHolds: ReadonlyMap<string, boolean>): boolean {
  if (node.kind === 'all_of') return node.children.every((c) => holds(c, leafHolds));
  if (node.kind === 'any_of') return node.children.some((c) => holds(c, leafHolds));
  return leafHolds.get(node.id) ?? false;
}

/** The leaves that make a holding node hold: all children of all_of, the holding ones of any_of. */
function contributing(node: Condition, leafHolds: ReadonlyMap<string, boolean>): string[] {
  if (!holds(node, leafHolds)) return [];
  if (node.kind === 'all_of' || node.kind === 'any_of') return node.children.flatMap((c) => contributing(c, leafHolds));
  return [node.id];
}

function union(a: readonly string[], b: readonly string[]): string[] {
  return [...new Set([...a, ...b])].sort();
}

function describeLeaf(e: LeafEvaluation): string {
  const op = { gte: '>=', lte: '<=', gt: '>', lt: '<' }[e.comparator];
  const v = e.value === null ? 'n/a' : Number.isInteger(e.value) ? String(e.value) : e.value.toPrecision(4);
  return `${e.id}: ${e.metric} ${v} ${op} ${e.threshold}${e.streak > 1 ? ` for ${e.streak} windows` : ''}`;
}

// ---- evaluation ----------------------------------------------------------------------------------

interface Step {
  readonly state: TriggerState;
  readonly decision: Decision;
  readonly event: RetrainRequested | null;
  readonly alerts: Alert[];
}

interface StepInput {
  readonly clock: Clock;
  /** Labeled samples since the last retrain, as known at this step. */
  readonly labels: number;
  /** Labeled samples of the windows the close clock has seen that start at or after `end`. */
  readonly labelsAfter: (end: number) => number;
}

const iso = (t: number) => new Date(t).toISOString();

/** The evaluation of a leaf that is not tested at this step: its status as of its last evaluation. */
function carried(leaf: Leaf, ls: LeafState | undefined, w: WindowResult): LeafEvaluation {
  const clock = leafClock(leaf);
  const last = ls?.last ?? null;
  const m = leafMeasure(leaf);
  return {
    id: leaf.id,
    kind: leaf.kind,
    clock,
    evaluated: false,
    metric: last?.metric ?? m.metric,
    value: last?.value ?? null,
    threshold: last?.threshold ?? m.threshold,
    comparator: last?.comparator ?? m.comparator,
    passed: last?.passed ?? false,
    streak: ls?.streak ?? 0,
    holds: ls?.holding ?? false,
    windowStart: last?.windowStart ?? w.windowStart,
    windowEnd: last?.windowEnd ?? w.windowEnd,
    features: ls?.features ?? [],
    note: last
      ? last.note
      : clock === CLOCK.LABELS
        ? 'not evaluated yet: waits for the labels of its windows'
        : 'not evaluated yet: waits for a window to close',
  };
}

function step(policy: Policy, prev: TriggerState, w: WindowResult, now: number, input: StepInput): Step {
  const { clock, labels } = input;
  const onClose = clock === CLOCK.CLOSE;
  const cursor = onClose ? prev.lastWindowEnd : prev.labelWindowEnd;
  const gap = cursor !== null && w.windowStart > cursor;
  const firstWindowStart = prev.firstWindowStart ?? w.windowStart;
  const anchor = prev.lastFiredWindowEnd ?? firstWindowStart;
  const alerts: Alert[] = [];
  const alertBase = { model_name: w.modelName, model_version: w.modelVersion, window_start: w.windowStart, window_end: w.windowEnd, created_at: now };

  // 1. leaves
  const leafStates: Record<string, LeafState> = {};
  const evaluations: LeafEvaluation[] = [];
  const leafHolds = new Map<string, boolean>();
  for (const leaf of policy.leaves) {
    let ls: LeafState | undefined = prev.leaves[leaf.id];
    if (ls && ls.hash !== leaf.hash) {
      // The leaf's definition changed on reload: its streak no longer means anything. Close its
      // incident so no alert stays FIRING forever.
      if (ls.holding && ls.incidentStart !== null) {
        alerts.push({
          ...alertBase,
          alert_id: alertId(policy.id, w.modelName, w.modelVersion, leaf.id, ls.incidentStart),
          rule: `${policy.id}/${leaf.id}`,
          severity: leaf.alertSeverity,
          status: ALERT_STATUS.RESOLVED,
          metric: leaf.kind,
          value: null,
          threshold: null,
          message: `${policy.id}/${leaf.id} on ${w.modelName} v${w.modelVersion}: condition redefined by a policy reload; incident closed`,
        });
      }
      ls = undefined;
    }
    const lc = leafClock(leaf);
    if (lc !== null && lc !== clock) {
      // Another clock's leaf: its status stands until its own clock evaluates it again.
      const e = carried(leaf, ls, w);
      if (ls) leafStates[leaf.id] = ls;
      evaluations.push(e);
      leafHolds.set(leaf.id, e.holds);
      continue;
    }
    const t = testLeaf(leaf, w, { anchor, labels });
    const before = ls && !gap ? ls : { streak: 0, streakStart: null, features: [] as readonly string[] };
    const streak = t.passed ? before.streak + 1 : 0;
    const streakStart = t.passed ? (before.streak === 0 ? w.windowStart : before.streakStart) : null;
    const features = t.passed ? (before.streak === 0 ? [...t.features] : union(before.features, t.features)) : [];
    const isHolding = streak >= leaf.forWindows;
    const wasHolding = ls?.holding ?? false;
    let incidentStart = ls?.incidentStart ?? null;
    const evaluation: LeafEvaluation = {
      id: leaf.id,
      kind: leaf.kind,
      clock: lc,
      evaluated: true,
      metric: t.metric,
      value: t.value,
      threshold: t.threshold,
      comparator: t.comparator,
      passed: t.passed,
      streak,
      holds: isHolding,
      windowStart: streakStart ?? w.windowStart,
      windowEnd: w.windowEnd,
      features,
      note: t.note,
    };
    if (isHolding && !wasHolding) {
      incidentStart = streakStart ?? w.windowStart;
      alerts.push({
        ...alertBase,
        window_start: evaluation.windowStart,
        alert_id: alertId(policy.id, w.modelName, w.modelVersion, leaf.id, incidentStart),
        rule: `${policy.id}/${leaf.id}`,
        severity: leaf.alertSeverity,
        status: ALERT_STATUS.FIRING,
        metric: t.metric,
        value: t.value,
        threshold: t.threshold,
        message: `${policy.id} on ${w.modelName} v${w.modelVersion}: ${describeLeaf(evaluation)}${features.length ? ` (${features.join(', ')})` : ''}`,
      });
    } else if (!isHolding && wasHolding) {
      alerts.push({
        ...alertBase,
        alert_id: alertId(policy.id, w.modelName, w.modelVersion, leaf.id, incidentStart ?? w.windowStart),
        rule: `${policy.id}/${leaf.id}`,
        severity: leaf.alertSeverity,
        status: ALERT_STATUS.RESOLVED,
        metric: t.metric,
        value: t.value,
        threshold: t.threshold,
        message: `${policy.id} on ${w.modelName} v${w.modelVersion}: ${leaf.id} cleared (${t.metric} = ${t.value ?? 'n/a'})`,
      });
      incidentStart = null;
    }
    leafStates[leaf.id] = {
      hash: leaf.hash,
      streak,
      streakStart,
      holding: isHolding,
      incidentStart: isHolding ? incidentStart : null,
      features,
      last: {
        metric: t.metric,
        value: t.value,
        threshold: t.threshold,
        comparator: t.comparator,
        passed: t.passed,
        windowStart: evaluation.windowStart,
        windowEnd: evaluation.windowEnd,
        note: t.note,
      },
    };
    evaluations.push(evaluation);
    leafHolds.set(leaf.id, isHolding);
  }

  // 2. the tree, and the same tree with min_labels leaves assumed satisfied
  const held = holds(policy.when, leafHolds);
  const ignoringSamples = new Map(leafHolds);
  for (const leaf of policy.leaves) if (leaf.kind === 'min_labels') ignoringSamples.set(leaf.id, true);
  const heldIgnoringSamples = holds(policy.when, ignoringSamples);

  // 3. episode state machine
  let holdStreak = gap ? 0 : prev.holdStreak;
  let episodeStart = gap ? null : prev.episodeStart;
  let episodeClock = gap ? null : prev.episodeClock;
  let clearStreak = prev.clearStreak;
  let armed = prev.armed;
  if (held) {
    holdStreak += 1;
    if (holdStreak === 1) {
      episodeStart = w.windowStart;
      episodeClock = clock;
    }
    clearStreak = 0;
  } else {
    holdStreak = 0;
    episodeStart = null;
    episodeClock = null;
    clearStreak += 1;
    if (!armed && clearStreak >= policy.rearmAfterWindows) armed = true;
  }
  // Cooldown applies to the evidence: a condition whose evidence ends within the cooldown, or at or
  // before the last fire (a label step looks back; that retrain request already covers it), cannot
  // make the policy fire, whether tested now or carried into a step of the other clock. For a
  // close-clock policy this is the step's own window, as before.
  const cooldownUntil = prev.lastFiredWindowEnd === null ? null : prev.lastFiredWindowEnd + policy.cooldownMs;
  const cools = (end: number) => prev.lastFiredWindowEnd !== null && (end < cooldownUntil! || end <= prev.lastFiredWindowEnd);
  const freshHolds = new Map(evaluations.map((e) => [e.id, e.holds && (e.kind === 'min_labels' || !cools(e.windowEnd))]));
  const heldFresh = holds(policy.when, freshHolds);
  const episodeKey = episodeStart !== null ? idempotencyKey(policy.id, w.modelName, w.modelVersion, episodeStart, episodeClock ?? CLOCK.CLOSE) : null;

  let decision: DecisionKind = DECISION.SUPPRESSED;
  let reason: DecisionReason;
  let key = episodeKey ?? decisionKey(policy.id, w.modelName, w.modelVersion, w.windowStart);
  let detailKey = episodeKey;
  if (held && !armed) {
    reason = 'hysteresis';
    key = prev.lastFiredKey ?? key;
    detailKey = prev.lastFiredKey ?? episodeKey;
  } else if (held && holdStreak < policy.fireAfterWindows) reason = 'pending_windows';
  else if (held && !heldFresh) reason = 'cooldown';
  else if (held) {
    decision = DECISION.FIRED;
    reason = 'condition_met';
  } else reason = heldIgnoringSamples && armed ? 'insufficient_samples' : 'condition_not_met';

  const fired = decision === DECISION.FIRED;
  // A suppressed label step has its own key: with the episode's, it would replace the close step of
  // the same window in retrain_decisions (same window_start, decision and key).
  if (!onClose && !fired) key = decisionKey(policy.id, w.modelName, w.modelVersion, w.windowStart, CLOCK.LABELS);
  const closeCursor = onClose ? w.windowEnd : (prev.lastWindowEnd ?? w.windowEnd);
  const state: TriggerState = {
    policyId: policy.id,
    modelName: w.modelName,
    modelVersion: w.modelVersion,
    policyHash: policy.hash,
    seq: prev.seq + 1,
    firstWindowStart,
    lastWindowStart: onClose ? w.windowStart : prev.lastWindowStart,
    lastWindowEnd: closeCursor,
    labelWindowEnd: onClose ? prev.labelWindowEnd : w.windowEnd,
    leaves: leafStates,
    holdStreak,
    episodeStart,
    episodeClock,
    clearStreak,
    armed: fired ? false : armed,
    // Event time of the fire is the newest window seen then, not the (older) window a label step looks at.
    lastFiredWindowEnd: fired ? Math.max(closeCursor, w.windowEnd) : prev.lastFiredWindowEnd,
    lastFiredKey: fired ? key : prev.lastFiredKey,
    // The retrain's training range ends at this window: min_labels counts the windows after it.
    labelsFrom: fired ? w.windowEnd : prev.labelsFrom,
    labelsSinceRetrain: fired ? input.labelsAfter(w.windowEnd) : labels,
  };

  let event: RetrainRequested | null = null;
  if (fired) {
    const used = new Set(contributing(policy.when, freshHolds));
    const evidence = evaluations.filter((e) => used.has(e.id));
    const driftEvidence = evidence.filter((e) => e.kind === 'drift');
    const drifted =
      driftEvidence.length > 0 ? driftEvidence.reduce<string[]>((acc, e) => union(acc, e.features), []) : [...(w.drift?.driftedFeatures ?? [])].sort();
    const on = onClose ? '' : ` on the labels of the window ending ${iso(w.windowEnd)}`;
    event = {
      idempotency_key: key,
      policy_id: policy.id,
      model_name: w.modelName,
      model_version: w.modelVersion,
      created_at: now,
      conditions: evidence.map((e) => ({
        kind: e.kind,
        metric: e.metric,
        value: e.value,
        threshold: e.threshold,
        comparator: e.comparator,
        window_start: e.windowStart,
        window_end: e.windowEnd,
      })),
      drifted_features: drifted,
      training_range_start: w.windowEnd - policy.trainingLookbackMs,
      training_range_end: w.windowEnd,
      reason: `policy ${policy.id} fired for ${w.modelName} v${w.modelVersion}${on} (episode from ${iso(episodeStart!)}): ${evidence.map(describeLeaf).join('; ')}`,
    };
  }

  const detail: DecisionDetail = {
    clock,
    policyHash: policy.hash,
    episodeKey: detailKey,
    held,
    heldIgnoringSamples,
    episodeStart,
    holdStreak,
    clearStreak,
    armed: state.armed,
    cooldownUntil: state.lastFiredWindowEnd === null ? null : state.lastFiredWindowEnd + policy.cooldownMs,
    labelsSinceRetrain: state.labelsSinceRetrain,
    state,
  };
  return {
    state,
    event,
    alerts,
    decision: {
      decidedAt: now,
      policyId: policy.id,
      modelName: w.modelName,
      modelVersion: w.modelVersion,
      windowStart: w.windowStart,
      windowEnd: w.windowEnd,
      decision,
      reason,
      idempotencyKey: key,
      conditions: evaluations,
      detail,
    },
  };
}

interface Advance {
  readonly state: TriggerState;
  readonly steps: readonly Step[];
}

/**
 * One policy over one model version's windows (in window order): close steps for the windows after
 * the close cursor, label steps for the windows after the labels cursor whose labels are in, in
 * window order and interleaved as event time dictates (a window closed and final in the same poll
 * gets its close step, then its label step).
 */
function advance(policy: Policy, prev: TriggerState, windows: readonly WindowResult[], now: number, total: LabelTotal | undefined): Advance {
  const clocks = policyClocks(policy);
  let s = prev;
  const range = labelCountRange(s);
  // The adapter's sum over the current rows includes labels that arrived after the windows closed;
  // without it (or for another range), the count as of the last step stands.
  let labels = total && range && total.from === range.from && total.through === range.through ? total.labeled : s.labelsSinceRetrain;
  const labelsAfter = (end: number) =>
    windows.filter((x) => x.windowStart >= end && s.lastWindowEnd !== null && x.windowEnd <= s.lastWindowEnd).reduce((n, x) => n + x.labeledCount, 0);
  const steps: Step[] = [];
  const take = (w: WindowResult, clock: Clock) => {
    const out = step(policy, s, w, now, { clock, labels, labelsAfter });
    s = out.state;
    labels = s.labelsSinceRetrain;
    steps.push(out);
  };
  let labelsBlocked = false;
  for (const w of windows) {
    if (!w.labelsOnly && (s.lastWindowEnd === null || w.windowEnd > s.lastWindowEnd)) {
      labels += w.labeledCount;
      if (clocks.close) take(w, CLOCK.CLOSE);
      else
        s = {
          ...s,
          firstWindowStart: s.firstWindowStart ?? w.windowStart,
          lastWindowStart: w.windowStart,
          lastWindowEnd: w.windowEnd,
          labelsSinceRetrain: labels,
        };
    }
    // The labels clock walks the windows the close clock has seen, in order; the first window whose
    // labels are not in yet stops it until a later poll.
    if (!clocks.labels || labelsBlocked || s.lastWindowEnd === null || w.windowEnd > s.lastWindowEnd) continue;
    if (s.labelWindowEnd !== null && w.windowEnd <= s.labelWindowEnd) continue;
    if (labelsReady(policy, w)) take(w, CLOCK.LABELS);
    else labelsBlocked = true;
  }
  if (!clocks.labels && s.labelWindowEnd !== null) s = { ...s, labelWindowEnd: null };
  return { state: s, steps };
}

/**
 * Evaluates window results against the policies. Windows may come in any order and mix models; each
 * (policy, model, version) sees its windows in window_end order. A window ending after the close
 * cursor closes (close step); one at or before it is a label update, evaluated on the labels clock
 * once its labels are in and never again after that.
 */
export function evaluate(policyState: PolicyState, windowResults: readonly WindowResult[], now: number, context: EvaluationContext = {}): EvaluationResult {
  const triggers: Record<string, TriggerState> = { ...policyState.triggers };
  const decisions: Decision[] = [];
  const retrainEvents: RetrainRequested[] = [];
  const alerts: Alert[] = [];
  // One result per (model, version, window): a full read wins over a labels-only one.
  const byVersion = new Map<string, Map<number, WindowResult>>();
  for (const w of windowResults) {
    const vk = `${w.modelName}\u0000${w.modelVersion}`;
    const ws = byVersion.get(vk) ?? new Map<number, WindowResult>();
    byVersion.set(vk, ws);
    const seen = ws.get(w.windowStart);
    if (!seen || (seen.labelsOnly && !w.labelsOnly)) ws.set(w.windowStart, w);
  }
  const groups = [...byVersion.values()]
    .map((ws) => [...ws.values()].sort((a, b) => a.windowEnd - b.windowEnd || a.windowStart - b.windowStart))
    .sort((a, b) => a[0]!.modelName.localeCompare(b[0]!.modelName) || a[0]!.modelVersion.localeCompare(b[0]!.modelVersion));
  const policies = [...policyState.policies].sort((a, b) => a.id.localeCompare(b.id));
  for (const windows of groups) {
    const { modelName, modelVersion } = windows[0]!;
    for (const policy of policies) {
      if (!policyApplies(policy, modelName, modelVersion)) continue;
      const key = stateKey(policy.id, modelName, modelVersion);
      const prev = triggers[key] ?? initialTriggerState(policy, modelName, modelVersion);
      const total = context.labelTotals?.find((t) => t.policyId === policy.id && t.modelName === modelName && t.modelVersion === modelVersion);
      const out = advance(policy, prev, windows, now, total);
      if (out.state !== prev) triggers[key] = out.state;
      for (const st of out.steps) {
        decisions.push(st.decision);
        if (st.event) retrainEvents.push(st.event);
        alerts.push(...st.alerts);
      }
    }
  }
  return { state: { policies: policyState.policies, triggers }, decisions, retrainEvents, alerts };
}
