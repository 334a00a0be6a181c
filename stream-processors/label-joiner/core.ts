/**
 * The label-joiner's pure core: one partition's keyed, event-time join of PredictionEvents with
 * OutcomeEvents (their delayed labels). No I/O, no clock: every call gets the wall time `now` it may
 * use (only for input idleness), and event time comes from the events. docs/join-semantics.md
 * explains the rules with a timeline; this header is the summary the code is checked against.
 *
 * Matching. An outcome (prediction_id k, model_name m, outcome_time tO) labels every prediction
 * with prediction_id k and model_name m (each version, served and shadow: the scorer gives a
 * champion and its shadow challenger the same prediction_id, services/scoring/core.ts) whose event
 * time tP satisfies tO - tP <= JOIN_MAX_LABEL_DELAY_MS. A prediction is identified by its variant
 * (k, m, model_version, is_shadow); a second prediction of the same variant is a duplicate (the first
 * wins). Each prediction is emitted exactly once: LABELED by the first outcome that matches it, or
 * UNLABELED when the watermark passes tP + JOIN_MAX_LABEL_DELAY_MS. Later outcomes never change an
 * emitted prediction; they are routed to `late_labels` with a reason (first outcome wins; the
 * others are kept there as duplicates/corrections), so no outcome is dropped silently.
 *
 * Watermark (event time). Each input's watermark is the highest event time it delivered minus
 * JOIN_WATERMARK_DELAY_MS (the disorder the join tolerates); the join's watermark is the minimum of
 * the two, as for any two-input operator in Flink (and as Kafka Streams gets by processing the
 * record with the smallest timestamp of a task's partitions first). The minimum keeps the outcome
 * of the join independent of how the consumer happens to interleave the two topics: reading
 * predictions far ahead cannot expire predictions whose outcomes are still unread. An input that has
 * delivered nothing for JOIN_IDLE_TIMEOUT_MS of wall time stops holding the watermark back (Flink's
 * `withIdleness`), so a partition without labels still expires its predictions. The watermark
 * never goes back.
 *
 * Buffering. An outcome that arrives before its prediction waits until the watermark passes its
 * outcome time (by then every on-time prediction at or before it has arrived), then goes to
 * late_labels as `no_prediction`. Every outcome that no longer waits (it labeled something, or was
 * routed) is remembered until the watermark passes its time + JOIN_CLOSED_RETENTION_MS: a shadow
 * prediction of the same id arriving a little later is labeled by it too, and a second outcome is a
 * `duplicate` whatever the timing of the first. All state is
 * bounded: pending predictions, buffered outcomes and closed markers each have a cap per partition;
 * past it the oldest leaves first (pending: emitted UNLABELED early; outcome: late_labels
 * `orphan_evicted`; marker: forgotten).
 *
 * Durability. The adapter mirrors the state in a changelog (changelog.ts) and restores it with
 * `restoreRecord`/`finishRestore`. The watermark record carries the input positions (`setPosition`):
 * the records before them are in the state, so after a restart their re-delivery is skipped; key
 * changes logged after the last watermark record (a flush that never finished) are rolled back.
 * Independently of that, a prediction or outcome that arrives twice (a producer retry) changes
 * nothing: a prediction finds its own variant (pending or closed), an outcome finds its event id in
 * the remembered outcome or in the LABELED marker it produced. Closed predictions and used outcomes
 * are remembered JOIN_CLOSED_RETENTION_MS of event time for this.
 *
 * State changes are tracked per key: `changes()` lists the current changelog value of every key
 * touched since `clearChanges()`, plus the watermark record.
 */
import { LABEL_STATUS, type LabeledPrediction, type OutcomeEvent, type PredictionEvent } from '../../lib/contracts/schemas.js';
import { formatKeyRecord, formatWatermark, OUTCOME_USE, parseKeyRecord, parseWatermark, WATERMARK_KEY, type OutcomeUse, type SlotRecord } from './changelog.js';
import { DeadlineHeap } from './heap.js';
import { decodeOutcome, decodePending, encodeOutcome, encodePending, pickPending, type PendingFields } from './payload.js';

export interface JoinSettings {
  /** Event time a prediction waits for its outcome. */
  readonly maxLabelDelayMs: number;
  /** Disorder tolerated per input: input watermark = max event time - this. */
  readonly watermarkDelayMs: number;
  /** Wall time after which a silent input stops holding the watermark back. */
  readonly idleTimeoutMs: number;
  /** Event time a closed prediction is remembered after it closed. */
  readonly closedRetentionMs: number;
  /** Caps for this partition's state. */
  readonly maxPending: number;
  readonly maxOutcomes: number;
  readonly maxClosed: number;
}

export interface JoinSettingsSource {
  readonly JOIN_MAX_LABEL_DELAY_MS: number;
  readonly JOIN_WATERMARK_DELAY_MS: number;
  readonly JOIN_IDLE_TIMEOUT_MS: number;
  readonly JOIN_CLOSED_RETENTION_MS: number;
  readonly JOIN_MAX_PENDING: number;
  readonly JOIN_MAX_ORPHANS: number;
  readonly JOIN_MAX_CLOSED: number;
}

/**
 * Per-partition settings. The caps are per instance in the configuration and split evenly over the
 * input partitions, so which predictions expire early depends on the data alone, not on how many
 * partitions an instance happens to hold.
 */
export function joinSettingsFor(s: JoinSettingsSource, partitions: number): JoinSettings {
  const share = (n: number) => Math.max(1, Math.ceil(n / Math.max(1, partitions)));
  return {
    maxLabelDelayMs: s.JOIN_MAX_LABEL_DELAY_MS,
    watermarkDelayMs: s.JOIN_WATERMARK_DELAY_MS,
    idleTimeoutMs: s.JOIN_IDLE_TIMEOUT_MS,
    closedRetentionMs: s.JOIN_CLOSED_RETENTION_MS,
    maxPending: share(s.JOIN_MAX_PENDING),
    maxOutcomes: share(s.JOIN_MAX_ORPHANS),
    maxClosed: share(s.JOIN_MAX_CLOSED),
  };
}

export const LATE_REASON = {
  /** The prediction had already been emitted UNLABELED (the outcome came after the watermark passed its deadline). */
  AFTER_EXPIRY: 'after_expiry',
  /** outcome_time - prediction time exceeds JOIN_MAX_LABEL_DELAY_MS. */
  OVER_MAX_DELAY: 'over_max_delay',
  /** Another outcome already labeled the prediction (first outcome wins; this may be a correction). */
  DUPLICATE: 'duplicate',
  /** No prediction with this id and model arrived before the watermark passed the outcome time. */
  NO_PREDICTION: 'no_prediction',
  /** The outcome buffer was full; the oldest waiting outcome made room. */
  ORPHAN_EVICTED: 'orphan_evicted',
} as const;
export type LateReason = (typeof LATE_REASON)[keyof typeof LATE_REASON];

export type JoinInput = { readonly type: 'prediction'; readonly event: PredictionEvent } | { readonly type: 'outcome'; readonly event: OutcomeEvent };

export type EmitCause = 'joined' | 'expired' | 'evicted';

export type JoinOutput =
  | { readonly type: 'emit'; readonly cause: EmitCause; readonly record: LabeledPrediction }
  | {
      readonly type: 'late_label';
      readonly reason: LateReason;
      readonly outcome: OutcomeEvent;
      /** Event time of the prediction it refers to, when the join knows it. */
      readonly predictionTime: number | null;
      readonly modelVersion: string | null;
      /** The partition watermark when it was routed (null: none yet). */
      readonly watermark: number | null;
    }
  | { readonly type: 'duplicate_prediction'; readonly predictionId: string; readonly eventId: string; readonly redelivery: boolean }
  | { readonly type: 'redelivered_outcome'; readonly predictionId: string; readonly eventId: string };

export interface ChangelogChange {
  readonly key: string;
  /** JSON value, or null for a tombstone. */
  readonly value: string | null;
}

export interface JoinStats {
  readonly pending: number;
  /** Buffered outcomes: those waiting for their prediction plus the used ones remembered. */
  readonly outcomes: number;
  /** Of those, the outcomes still waiting for their prediction (what flow control watches). */
  readonly waitingOutcomes: number;
  readonly closed: number;
  readonly keys: number;
  /** Estimated heap bytes held (see BYTES_* below). */
  readonly bytes: number;
  readonly watermark: number;
  readonly maxPredictionTime: number;
  readonly maxOutcomeTime: number;
}

// ---- internals ---------------------------------------------------------------------------------

const PENDING = 0;
const LABELED = 1;
const UNLABELED = 2;
const OUTCOME = 3;
const REMOVED = 4;
type SlotKind = typeof PENDING | typeof LABELED | typeof UNLABELED | typeof OUTCOME | typeof REMOVED;

/** A prediction variant, or (version '' and shadow false, id ending in NUL*) an outcome's model. */
interface Variant {
  readonly id: string;
  readonly model: string;
  readonly version: string;
  readonly shadow: boolean;
}

/**
 * One thing held for a prediction_id; the slots of one id form a singly linked list (almost always
 * of length one). A slot changes in place (PENDING -> LABELED/UNLABELED -> REMOVED); heap entries
 * that refer to a slot in an older state are recognised as stale by its kind.
 */
class Slot {
  constructor(
    public kind: SlotKind,
    public readonly key: string,
    public readonly v: Variant,
    /** Prediction: event_time. Outcome: outcome_time. */
    public readonly time: number,
    /** Marker: when it is forgotten. Pending: time + max delay. Outcome: time while waiting, then time + closed retention. */
    public deadline: number,
    /** PENDING: compact payload. LABELED: the labeling outcome's event_id. UNLABELED: ''. OUTCOME: compact outcome. */
    public data: string,
    /** Prediction: hash of its event_id. OUTCOME: its OutcomeUse. */
    public tag: number,
    public next: Slot | null,
  ) {}
}

/**
 * Heap-size model behind the pending-bytes gauge, calibrated with bench/join.bench.ts (Node 20, x64,
 * no pointer compression): at 1 000 000 pending predictions of the benchmark's shape the heap grew
 * by 598 bytes each, of which 236 were payload and 36 the key's characters. The rest is split
 * between the Slot (object, two boxed doubles, the payload string's header) and the key (its string
 * header and its Map entry); the heap entry is a double and a pointer.
 */
export const BYTES_PER_SLOT = 200;
export const BYTES_PER_KEY = 110;
export const BYTES_PER_HEAP_ENTRY = 16;

/** FNV-1a (32 bit) of a string, folded to 30 bits so it stays a V8 small integer in a Slot. */
export function eventHash(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0) & 0x3fffffff;
}

const MAX_INTERNED_VARIANTS = 10_000;

export class JoinCore {
  readonly settings: JoinSettings;
  private readonly slots = new Map<string, Slot>();
  private readonly pendingQ = new DeadlineHeap<Slot>();
  /** Outcomes waiting for their prediction, by outcome time. */
  private readonly outcomeQ = new DeadlineHeap<Slot>();
  /** Outcomes that labeled something or were routed, remembered until time + closed retention. */
  private readonly usedQ = new DeadlineHeap<Slot>();
  private readonly closedQ = new DeadlineHeap<Slot>();
  private readonly variants = new Map<string, Variant>();
  private readonly dirty = new Set<string>();
  private watermarkDirty = false;
  private pendingCount = 0;
  private outcomeCount = 0;
  private waitingCount = 0;
  private closedCount = 0;
  private payloadBytes = 0;
  private keyBytes = 0;
  private maxPred = -Infinity;
  private maxOut = -Infinity;
  private wm = -Infinity;
  private lastPredWall: number;
  private lastOutWall: number;
  /** Next input offset to apply, per input stream (set by the adapter, persisted with the watermark). */
  private readonly positions = new Map<string, number>();
  /** During restore: keys changed after the last watermark record, with their chain at that record. */
  private readonly unfinished = new Map<string, Slot | null>();

  constructor(settings: JoinSettings, now: number) {
    this.settings = settings;
    // Both inputs count as active from the start: a fresh or restored partition waits for both
    // before its watermark moves (or for the idle timeout).
    this.lastPredWall = now;
    this.lastOutWall = now;
  }

  // ---- processing ------------------------------------------------------------------------------

  /** Applies one event; returns what it caused (emissions, late labels, duplicates) in order. */
  step(input: JoinInput, now: number): JoinOutput[] {
    const out: JoinOutput[] = [];
    if (input.type === 'prediction') {
      this.lastPredWall = now;
      const t = input.event.event_time;
      if (t > this.maxPred) {
        this.maxPred = t;
        this.watermarkDirty = true;
      }
      this.onPrediction(input.event, out);
    } else {
      this.lastOutWall = now;
      const t = input.event.outcome_time;
      if (t > this.maxOut) {
        this.maxOut = t;
        this.watermarkDirty = true;
      }
      this.onOutcome(input.event, out);
    }
    this.advance(now, out);
    return out;
  }

  /** Re-evaluates the watermark without an event (e.g. after an input went idle). */
  tick(now: number): JoinOutput[] {
    const out: JoinOutput[] = [];
    this.advance(now, out);
    return out;
  }

  private onPrediction(ev: PredictionEvent, out: JoinOutput[]): void {
    const key = ev.prediction_id;
    const v = this.variant(ev.model_name, ev.model_version, ev.is_shadow);
    const h = eventHash(ev.event_id);
    const head = this.slots.get(key);
    let buffered: Slot | null = null;
    for (let s = head ?? null; s; s = s.next) {
      if (s.kind === OUTCOME) {
        // A routed outcome already went to late_labels: it labels nothing any more.
        if (!buffered && s.v.model === v.model && s.tag !== OUTCOME_USE.ROUTED) buffered = s;
      } else if (s.v.id === v.id) {
        out.push({ type: 'duplicate_prediction', predictionId: key, eventId: ev.event_id, redelivery: s.tag === h });
        return;
      }
    }
    const t = ev.event_time;
    const fields = pickPending(ev);
    if (buffered) {
      const outcome = decodeOutcome(buffered.data);
      if (this.matches(t, outcome.outcome_time)) {
        out.push({ type: 'emit', cause: 'joined', record: labeledRecord(key, v, t, fields, outcome, this.stamp(t)) });
        if (buffered.tag !== OUTCOME_USE.USED) this.setOutcomeUse(buffered, OUTCOME_USE.USED);
        this.addSlot(new Slot(LABELED, key, v, t, Math.max(t, outcome.outcome_time) + this.settings.closedRetentionMs, outcome.event_id, h, null));
        return;
      }
      if (buffered.tag === OUTCOME_USE.WAITING) {
        // The outcome's prediction is too old for it: it will never label anything.
        out.push(this.late(LATE_REASON.OVER_MAX_DELAY, outcome, t, v.version));
        this.setOutcomeUse(buffered, OUTCOME_USE.ROUTED);
      }
    }
    this.addSlot(new Slot(PENDING, key, v, t, t + this.settings.maxLabelDelayMs, encodePending(fields), h, null));
  }

  private onOutcome(ev: OutcomeEvent, out: JoinOutput[]): void {
    const key = ev.prediction_id;
    const model = ev.model_name;
    const t = ev.outcome_time;
    const head = this.slots.get(key);
    let bufferedSame: Slot | null = null;
    let labeledMarker: Slot | null = null;
    let unlabeledMarker: Slot | null = null;
    let unmatchedPending: Slot | null = null;
    let labeled = 0;
    for (let s = head ?? null; s; s = s.next) {
      if (s.v.model !== model) continue;
      if (s.kind === LABELED && s.data === ev.event_id) {
        out.push({ type: 'redelivered_outcome', predictionId: key, eventId: ev.event_id });
        return;
      }
      if (s.kind === OUTCOME) {
        if (decodeOutcome(s.data).event_id === ev.event_id) {
          out.push({ type: 'redelivered_outcome', predictionId: key, eventId: ev.event_id });
          return;
        }
        bufferedSame ??= s;
      } else if (s.kind === LABELED) labeledMarker ??= s;
      else if (s.kind === UNLABELED) unlabeledMarker ??= s;
    }
    for (let s = head ?? null; s; s = s.next) {
      if (s.kind !== PENDING || s.v.model !== model) continue;
      if (this.matches(s.time, t)) {
        out.push({ type: 'emit', cause: 'joined', record: labeledRecord(key, s.v, s.time, decodePending(s.data), ev, this.stamp(s.time)) });
        this.closePending(s, LABELED, Math.max(s.time, t) + this.settings.closedRetentionMs, ev.event_id);
        labeled++;
      } else unmatchedPending ??= s;
    }
    if (labeled > 0) {
      // Remembered, for predictions of the same id still on their way (a shadow variant), for
      // redeliveries and to make later outcomes duplicates; not when a first outcome is already
      // remembered (first wins).
      if (!bufferedSame) this.remember(key, model, ev, OUTCOME_USE.USED);
      return;
    }
    if (bufferedSame || labeledMarker) {
      // A first outcome for this prediction is known (it labeled it, waits for it, or was itself
      // routed): this one is a duplicate or a correction, whatever its own timing.
      const ref = labeledMarker ?? unmatchedPending;
      out.push(this.late(LATE_REASON.DUPLICATE, ev, ref?.time ?? null, ref?.v.version ?? null));
    } else if (unlabeledMarker) {
      const delay = t - unlabeledMarker.time;
      out.push(
        this.late(
          delay > this.settings.maxLabelDelayMs ? LATE_REASON.OVER_MAX_DELAY : LATE_REASON.AFTER_EXPIRY,
          ev,
          unlabeledMarker.time,
          unlabeledMarker.v.version,
        ),
      );
      // Remembered like any first outcome: a second one is then a duplicate whether or not the
      // prediction had expired when the first arrived.
      this.remember(key, model, ev, OUTCOME_USE.ROUTED);
    } else if (unmatchedPending) {
      out.push(this.late(LATE_REASON.OVER_MAX_DELAY, ev, unmatchedPending.time, unmatchedPending.v.version));
      // Remembered as routed, so that a second outcome is a duplicate here too, exactly as when this
      // one had arrived before the prediction and waited for it.
      this.remember(key, model, ev, OUTCOME_USE.ROUTED);
    } else if (t <= this.wm) {
      // Already past the point where it would have stopped waiting.
      out.push(this.late(LATE_REASON.NO_PREDICTION, ev, null, null));
      this.remember(key, model, ev, OUTCOME_USE.ROUTED);
    } else {
      this.addSlot(new Slot(OUTCOME, key, this.outcomeVariant(model), t, t, encodeOutcome(ev), OUTCOME_USE.WAITING, null));
    }
  }

  /** Keeps an outcome that no longer waits until the watermark passes its time + the closed retention. */
  private remember(key: string, model: string, ev: OutcomeEvent, use: OutcomeUse): void {
    const deadline = ev.outcome_time + this.settings.closedRetentionMs;
    if (deadline > this.wm) this.addSlot(new Slot(OUTCOME, key, this.outcomeVariant(model), ev.outcome_time, deadline, encodeOutcome(ev), use, null));
  }

  private matches(predictionTime: number, outcomeTime: number): boolean {
    return outcomeTime - predictionTime <= this.settings.maxLabelDelayMs;
  }

  private late(reason: LateReason, outcome: OutcomeEvent, predictionTime: number | null, modelVersion: string | null): JoinOutput {
    return { type: 'late_label', reason, outcome, predictionTime, modelVersion, watermark: Number.isFinite(this.wm) ? this.wm : null };
  }

  /**
   * The progress stamp of an emitted record (LabeledPrediction.join_watermark): the watermark, but
   * never past the prediction's own deadline. Every record emitted later belongs to a prediction
   * that was still pending, i.e. whose deadline is past the watermark, and the expirations one
   * watermark advance releases come out in deadline order: so no record this joiner emits later can
   * fall in a window that a consumer closes by the stamps it has seen (docs/windows.md).
   */
  private stamp(predictionTime: number): number {
    return Math.min(this.wm, predictionTime + this.settings.maxLabelDelayMs);
  }

  /** Moves the watermark, then expires and evicts what it and the caps require. */
  private advance(now: number, out: JoinOutput[]): void {
    const s = this.settings;
    const predActive = now - this.lastPredWall <= s.idleTimeoutMs;
    const outActive = now - this.lastOutWall <= s.idleTimeoutMs;
    let candidate = -Infinity;
    if (predActive && outActive) candidate = Math.min(this.maxPred, this.maxOut) - s.watermarkDelayMs;
    else if (predActive) candidate = this.maxPred - s.watermarkDelayMs;
    else if (outActive) candidate = this.maxOut - s.watermarkDelayMs;
    if (candidate > this.wm) {
      this.wm = candidate;
      this.watermarkDirty = true;
    }
    const w = this.wm;
    while (this.pendingQ.peekDeadline() <= w) {
      const slot = this.pendingQ.pop()!;
      if (slot.kind === PENDING) this.expirePending(slot, 'expired', out);
    }
    while (this.outcomeQ.peekDeadline() <= w) {
      const due = this.outcomeQ.peekDeadline();
      const slot = this.outcomeQ.pop()!;
      if (!isWaitingEntry(slot, due)) continue; // stale entry
      // Every on-time prediction at or before its time has arrived: none will come. Remembered
      // from here on in usedQ (removed below once its retention has passed too).
      out.push(this.late(LATE_REASON.NO_PREDICTION, decodeOutcome(slot.data), null, null));
      this.setOutcomeUse(slot, OUTCOME_USE.ROUTED);
    }
    while (this.usedQ.peekDeadline() <= w) {
      const due = this.usedQ.peekDeadline();
      const slot = this.usedQ.pop()!;
      if (isUsedEntry(slot, due)) this.removeSlot(slot);
    }
    while (this.closedQ.peekDeadline() <= w) {
      const slot = this.closedQ.pop()!;
      if (slot.kind === LABELED || slot.kind === UNLABELED) this.removeSlot(slot);
    }
    // Caps: the oldest deadline leaves first.
    while (this.pendingCount > s.maxPending) {
      const slot = this.pendingQ.pop()!;
      if (slot.kind === PENDING) this.expirePending(slot, 'evicted', out);
    }
    // Outcomes: the remembered (used) ones leave first, since forgetting one only weakens duplicate
    // detection (the LABELED marker it produced still holds its event id); a waiting one leaves only
    // when none is left, and goes to late_labels as `orphan_evicted`, so its label is not lost silently.
    while (this.outcomeCount > s.maxOutcomes) {
      if (this.outcomeCount > this.waitingCount) {
        const due = this.usedQ.peekDeadline();
        const slot = this.usedQ.pop()!;
        if (isUsedEntry(slot, due)) this.removeSlot(slot);
      } else {
        const due = this.outcomeQ.peekDeadline();
        const slot = this.outcomeQ.pop()!;
        if (isWaitingEntry(slot, due)) this.dropOutcome(slot, LATE_REASON.ORPHAN_EVICTED, out);
      }
    }
    while (this.closedCount > s.maxClosed) {
      const slot = this.closedQ.pop()!;
      if (slot.kind === LABELED || slot.kind === UNLABELED) this.removeSlot(slot);
    }
    this.compactQueues();
  }

  private expirePending(slot: Slot, cause: 'expired' | 'evicted', out: JoinOutput[]): void {
    out.push({ type: 'emit', cause, record: labeledRecord(slot.key, slot.v, slot.time, decodePending(slot.data), null, this.stamp(slot.time)) });
    this.closePending(slot, UNLABELED, slot.time + this.settings.maxLabelDelayMs + this.settings.closedRetentionMs, '');
  }

  private dropOutcome(slot: Slot, reason: LateReason, out: JoinOutput[]): void {
    if (slot.tag === OUTCOME_USE.WAITING) out.push(this.late(reason, decodeOutcome(slot.data), null, null));
    this.removeSlot(slot);
  }

  // ---- state bookkeeping -----------------------------------------------------------------------

  private variant(model: string, version: string, shadow: boolean): Variant {
    const id = `${model}\u0000${version}\u0000${shadow ? 1 : 0}`;
    return this.intern(id, model, version, shadow);
  }

  private outcomeVariant(model: string): Variant {
    return this.intern(`${model}\u0000*`, model, '', false);
  }

  private intern(id: string, model: string, version: string, shadow: boolean): Variant {
    let v = this.variants.get(id);
    if (!v) {
      v = { id, model, version, shadow };
      if (this.variants.size < MAX_INTERNED_VARIANTS) this.variants.set(id, v);
    }
    return v;
  }

  private addSlot(slot: Slot): void {
    const head = this.slots.get(slot.key);
    if (head) {
      let last = head;
      while (last.next) last = last.next;
      last.next = slot;
    } else {
      this.slots.set(slot.key, slot);
      this.keyBytes += BYTES_PER_KEY + slot.key.length;
    }
    this.payloadBytes += slot.data.length;
    this.enqueue(slot);
    if (slot.kind === PENDING) this.pendingCount++;
    else if (slot.kind === OUTCOME) {
      this.outcomeCount++;
      if (slot.tag === OUTCOME_USE.WAITING) this.waitingCount++;
    } else this.closedCount++;
    this.dirty.add(slot.key);
  }

  private enqueue(slot: Slot): void {
    if (slot.kind === PENDING) this.pendingQ.push(slot.deadline, slot);
    else if (slot.kind === OUTCOME) (slot.tag === OUTCOME_USE.WAITING ? this.outcomeQ : this.usedQ).push(slot.deadline, slot);
    else this.closedQ.push(slot.deadline, slot);
  }

  private closePending(slot: Slot, kind: typeof LABELED | typeof UNLABELED, deadline: number, data: string): void {
    this.payloadBytes += data.length - slot.data.length;
    slot.kind = kind;
    slot.deadline = deadline;
    slot.data = data;
    this.pendingCount--;
    this.closedCount++;
    this.closedQ.push(deadline, slot);
    this.dirty.add(slot.key);
  }

  /**
   * An outcome that stops waiting (it labeled something, or went to late_labels) is remembered until
   * the watermark passes its time + the closed retention; its earlier queue entry becomes stale.
   */
  private setOutcomeUse(slot: Slot, use: OutcomeUse): void {
    if (slot.tag === OUTCOME_USE.WAITING && use !== OUTCOME_USE.WAITING) this.waitingCount--;
    const moved = slot.tag === OUTCOME_USE.WAITING;
    slot.tag = use;
    const deadline = slot.time + this.settings.closedRetentionMs;
    if (moved || deadline !== slot.deadline) {
      slot.deadline = deadline;
      this.usedQ.push(deadline, slot);
    }
    this.dirty.add(slot.key);
  }

  private removeSlot(slot: Slot): void {
    const head = this.slots.get(slot.key);
    if (head === slot) {
      if (slot.next) this.slots.set(slot.key, slot.next);
      else {
        this.slots.delete(slot.key);
        this.keyBytes -= BYTES_PER_KEY + slot.key.length;
      }
    } else {
      for (let s = head ?? null; s; s = s.next) {
        if (s.next === slot) {
          s.next = slot.next;
          break;
        }
      }
    }
    if (slot.kind === PENDING) this.pendingCount--;
    else if (slot.kind === OUTCOME) {
      this.outcomeCount--;
      if (slot.tag === OUTCOME_USE.WAITING) this.waitingCount--;
    } else this.closedCount--;
    this.payloadBytes -= slot.data.length;
    slot.kind = REMOVED;
    slot.next = null;
    this.dirty.add(slot.key);
  }

  /** Drops queue entries of slots that moved on, once they outnumber the live ones. */
  private compactQueues(): void {
    if (this.pendingQ.size > 2 * this.pendingCount + 4096) this.pendingQ.compact((s) => s.kind === PENDING);
    if (this.outcomeQ.size > 2 * this.waitingCount + 4096) this.outcomeQ.compact(isWaitingEntry);
    if (this.usedQ.size > 2 * (this.outcomeCount - this.waitingCount) + 4096) this.usedQ.compact(isUsedEntry);
    if (this.closedQ.size > 2 * this.closedCount + 4096) this.closedQ.compact((s) => s.kind === LABELED || s.kind === UNLABELED);
  }

  // ---- changelog -------------------------------------------------------------------------------

  /** Current changelog values of every key changed since the last `clearChanges()`, then the watermark record. */
  changes(): ChangelogChange[] {
    const out: ChangelogChange[] = [];
    for (const key of this.dirty) out.push({ key, value: this.valueOf(key) });
    // The watermark record comes last and closes every flush: restore treats key changes after the
    // last one as unfinished (see restoreRecord).
    if (this.watermarkDirty || out.length > 0) out.push({ key: WATERMARK_KEY, value: this.watermarkValue() });
    return out;
  }

  /**
   * Records that every input record of `stream` before offset `next` has been applied. It is written
   * with the watermark record, after the key changes, so a restored partition knows which
   * re-delivered records its state already contains and skips them.
   */
  setPosition(stream: string, next: number): void {
    if (this.positions.get(stream) !== next) {
      this.positions.set(stream, next);
      this.watermarkDirty = true;
    }
  }

  /** The next offset of `stream` to apply (0: nothing applied). */
  position(stream: string): number {
    return this.positions.get(stream) ?? 0;
  }

  clearChanges(): void {
    this.dirty.clear();
    this.watermarkDirty = false;
  }

  private watermarkValue(): string {
    return formatWatermark({ mp: finiteOrNull(this.maxPred), mo: finiteOrNull(this.maxOut), w: finiteOrNull(this.wm), o: Object.fromEntries(this.positions) });
  }

  /** The changelog value of one key (null: nothing held). */
  valueOf(key: string): string | null {
    const head = this.slots.get(key);
    if (!head) return null;
    const records: SlotRecord[] = [];
    for (let s: Slot | null = head; s; s = s.next) records.push(toRecord(s));
    return formatKeyRecord(records);
  }

  /** Every key and the watermark, as changelog values (a full snapshot; tests and tools). */
  snapshot(): ChangelogChange[] {
    const out: ChangelogChange[] = [];
    for (const key of this.slots.keys()) out.push({ key, value: this.valueOf(key) });
    out.push({ key: WATERMARK_KEY, value: this.watermarkValue() });
    return out;
  }

  /**
   * Restore, step 1: applies one changelog record, in log order (a later value of a key replaces
   * the earlier one; null removes it). Only for a core that has not processed anything yet.
   *
   * Changes logged after the last watermark record belong to a flush that never finished (the
   * watermark record, with the input positions, is written last): their batch was not committed
   * and will be re-delivered. They are rolled back to the key's value at that watermark record,
   * like an aborted transaction, so the state matches the positions exactly; `finishRestore`
   * marks the rolled-back keys changed, so the next flush writes them again and the log agrees.
   */
  restoreRecord(key: string, value: string | null): void {
    if (key === WATERMARK_KEY) {
      if (value === null) return;
      const w = parseWatermark(value);
      this.maxPred = w.mp ?? -Infinity;
      this.maxOut = w.mo ?? -Infinity;
      this.wm = w.w ?? -Infinity;
      this.positions.clear();
      for (const [stream, next] of Object.entries(w.o)) this.positions.set(stream, next);
      this.unfinished.clear();
      return;
    }
    if (!this.unfinished.has(key)) this.unfinished.set(key, this.slots.get(key) ?? null);
    let head: Slot | null = null;
    if (value !== null) {
      let prev: Slot | null = null;
      for (const r of parseKeyRecord(key, value).s) {
        const slot = this.fromRecord(key, r);
        if (prev) prev.next = slot;
        else head = slot;
        prev = slot;
      }
    }
    this.setChain(key, head);
  }

  /**
   * Restore, step 2: rolls back an unfinished flush, rebuilds the expiry queues, then applies the
   * current settings (a lowered cap or delay takes effect here). What that emits is returned, to be
   * written like any output; the rolled-back keys are reported by the next `changes()`.
   */
  finishRestore(now: number): JoinOutput[] {
    const rolledBack = [...this.unfinished.keys()];
    for (const [key, head] of this.unfinished) this.setChain(key, head);
    this.unfinished.clear();
    for (const head of this.slots.values()) for (let s: Slot | null = head; s; s = s.next) this.enqueue(s);
    this.lastPredWall = now;
    this.lastOutWall = now;
    this.dirty.clear();
    for (const key of rolledBack) this.dirty.add(key);
    this.watermarkDirty = rolledBack.length > 0;
    const out: JoinOutput[] = [];
    this.advance(now, out);
    return out;
  }

  /** Replaces the chain of a key during restore, keeping the counters right. */
  private setChain(key: string, head: Slot | null): void {
    const old = this.slots.get(key);
    if (old === head) return;
    if (old) {
      for (let s: Slot | null = old; s; s = s.next) this.count(s, -1);
      this.slots.delete(key);
      this.keyBytes -= BYTES_PER_KEY + key.length;
    }
    if (head) {
      this.slots.set(key, head);
      this.keyBytes += BYTES_PER_KEY + key.length;
      for (let s: Slot | null = head; s; s = s.next) this.count(s, 1);
    }
  }

  private count(s: Slot, sign: 1 | -1): void {
    if (s.kind === PENDING) this.pendingCount += sign;
    else if (s.kind === OUTCOME) {
      this.outcomeCount += sign;
      if (s.tag === OUTCOME_USE.WAITING) this.waitingCount += sign;
    } else this.closedCount += sign;
    this.payloadBytes += sign * s.data.length;
  }

  private fromRecord(key: string, r: SlotRecord): Slot {
    switch (r.k) {
      case 'P':
        return new Slot(PENDING, key, this.variant(r.m, r.r, r.x), r.t, r.t + this.settings.maxLabelDelayMs, encodePending(r.p), r.h, null);
      case 'L':
        return new Slot(LABELED, key, this.variant(r.m, r.r, r.x), r.t, r.d, r.e, r.h, null);
      case 'U':
        return new Slot(UNLABELED, key, this.variant(r.m, r.r, r.x), r.t, r.d, '', r.h, null);
      case 'O':
        return new Slot(
          OUTCOME,
          key,
          this.outcomeVariant(r.o.model_name),
          r.t,
          r.u === OUTCOME_USE.WAITING ? r.t : r.t + this.settings.closedRetentionMs,
          encodeOutcome(withOutcomeDefaults(r.o)),
          r.u,
          null,
        );
    }
  }

  // ---- introspection ---------------------------------------------------------------------------

  /** Whether an input delivered nothing for `idleTimeoutMs` of wall time (the rule `advance` uses). */
  inputIdle(stream: 'predictions' | 'outcomes', now: number): boolean {
    const last = stream === 'predictions' ? this.lastPredWall : this.lastOutWall;
    return now - last > this.settings.idleTimeoutMs;
  }

  stats(): JoinStats {
    const slots = this.pendingCount + this.outcomeCount + this.closedCount;
    return {
      pending: this.pendingCount,
      outcomes: this.outcomeCount,
      waitingOutcomes: this.waitingCount,
      closed: this.closedCount,
      keys: this.slots.size,
      bytes:
        slots * BYTES_PER_SLOT +
        this.payloadBytes +
        this.keyBytes +
        (this.pendingQ.size + this.outcomeQ.size + this.usedQ.size + this.closedQ.size) * BYTES_PER_HEAP_ENTRY,
      watermark: this.wm,
      maxPredictionTime: this.maxPred,
      maxOutcomeTime: this.maxOut,
    };
  }
}

/** A queue entry is live while its slot is still an outcome in that state with that deadline. */
function isWaitingEntry(s: Slot, due: number): boolean {
  return s.kind === OUTCOME && s.tag === OUTCOME_USE.WAITING && s.deadline === due;
}

function isUsedEntry(s: Slot, due: number): boolean {
  return s.kind === OUTCOME && s.tag !== OUTCOME_USE.WAITING && s.deadline === due;
}

function finiteOrNull(x: number): number | null {
  return Number.isFinite(x) ? x : null;
}

function toRecord(s: Slot): SlotRecord {
  switch (s.kind) {
    case PENDING:
      return { k: 'P', t: s.time, h: s.tag, m: s.v.model, r: s.v.version, x: s.v.shadow, p: decodePending(s.data) };
    case LABELED:
      return { k: 'L', t: s.time, d: s.deadline, h: s.tag, m: s.v.model, r: s.v.version, x: s.v.shadow, e: s.data };
    case UNLABELED:
      return { k: 'U', t: s.time, d: s.deadline, h: s.tag, m: s.v.model, r: s.v.version, x: s.v.shadow };
    case OUTCOME:
      return { k: 'O', t: s.time, u: s.tag as OutcomeUse, o: decodeOutcome(s.data) };
    default:
      throw new Error(`slot of kind ${s.kind} has no changelog form`);
  }
}

/** Outcomes written by an older contract version lack newer optional fields; fill their defaults. */
function withOutcomeDefaults(o: OutcomeEvent): OutcomeEvent {
  return { ...o, label: o.label ?? null, target_value: o.target_value ?? null, business: o.business ?? {} };
}

/** The LabeledPrediction for a prediction, joined with `outcome` or (null) UNLABELED. */
export function labeledRecord(
  predictionId: string,
  v: Pick<Variant, 'model' | 'version' | 'shadow'>,
  predictionTime: number,
  p: PendingFields,
  outcome: OutcomeEvent | null,
  watermark: number,
): LabeledPrediction {
  return {
    prediction_id: predictionId,
    model_name: v.model,
    model_version: v.version,
    prediction_time: predictionTime,
    features: p.features,
    score: p.score ?? null,
    probabilities: p.probabilities ?? {},
    predicted_label: p.predicted_label ?? null,
    predicted_value: p.predicted_value ?? null,
    segment: p.segment ?? {},
    is_shadow: v.shadow,
    status: outcome ? LABEL_STATUS.LABELED : LABEL_STATUS.UNLABELED,
    label: outcome?.label ?? null,
    target_value: outcome?.target_value ?? null,
    outcome_time: outcome ? outcome.outcome_time : null,
    label_delay_ms: outcome ? outcome.outcome_time - predictionTime : null,
    business: outcome?.business ?? {},
    outcome_event_id: outcome?.event_id ?? null,
    join_watermark: Number.isFinite(watermark) ? watermark : null,
  };
}
