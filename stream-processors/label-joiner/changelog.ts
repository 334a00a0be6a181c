/**
 * The label-joiner's changelog record formats (pure).
 *
 * Like a Kafka Streams state store's changelog, the topic `<ns>.label-joiner-state.v1` is compacted,
 * has the input topics' partition count, and is written to the same partition number as the input
 * that changed the state; its key is the prediction_id. Compaction keeps the latest value per key,
 * so restoring a partition = reading it to the end and keeping the last value of every key.
 *
 * Value of a prediction_id key: JSON `{"v":1,"s":[slot, ...]}`, everything the join holds for that id:
 *   {"k":"P", t, h, m, r, x, p}   pending prediction: time, event-id hash, model, version, shadow,
 *                                 and the fields a LabeledPrediction needs (p)
 *   {"k":"L", t, d, h, m, r, x, e} closed LABELED (e = the outcome event id that labeled it), kept until d
 *   {"k":"U", t, d, h, m, r, x}    closed UNLABELED (expired or evicted), kept until d
 *   {"k":"O", t, u, o}             a buffered outcome (u: 0 waiting, 1 used, 2 routed to late_labels)
 * A null value (tombstone) = nothing held for that id.
 * Key WATERMARK_KEY: `{"v":1,"mp","mo","w","o"}` the partition's event-time progress (null = none
 * yet) and, per input stream, the next input offset whose effects are not in the state yet. It is
 * written after the key changes of a batch are acknowledged, so when it says "applied up to N",
 * every change up to N is in the log.
 *
 * JSON rather than Avro: a changelog outlives the code that wrote it, and JSON read back through
 * the contract's defaults survives the contract's BACKWARD evolution (new optional fields).
 */
import type { OutcomeEvent } from '../../lib/contracts/schemas.js';
import { JoinStateCorruptError } from '../../lib/runtime/errors.js';
import type { PendingFields } from './payload.js';

export const CHANGELOG_FORMAT = 1 as const;

/** Cannot collide with a prediction_id: ids are producer strings and this one starts with NUL. */
export const WATERMARK_KEY = '\u0000watermark';

export const OUTCOME_USE = { WAITING: 0, USED: 1, ROUTED: 2 } as const;
export type OutcomeUse = (typeof OUTCOME_USE)[keyof typeof OUTCOME_USE];

interface VariantFields {
  /** model_name */
  readonly m: string;
  /** model_version */
  readonly r: string;
  /** is_shadow */
  readonly x: boolean;
}

export type SlotRecord =
  | ({ readonly k: 'P'; readonly t: number; readonly h: number; readonly p: PendingFields } & VariantFields)
  | ({ readonly k: 'L'; readonly t: number; readonly d: number; readonly h: number; readonly e: string } & VariantFields)
  | ({ readonly k: 'U'; readonly t: number; readonly d: number; readonly h: number } & VariantFields)
  | { readonly k: 'O'; readonly t: number; readonly u: OutcomeUse; readonly o: OutcomeEvent };

export interface KeyRecord {
  readonly v: typeof CHANGELOG_FORMAT;
  readonly s: readonly SlotRecord[];
}

export interface WatermarkRecord {
  /** Highest prediction event time seen (null: none). */
  readonly mp: number | null;
  /** Highest outcome time seen (null: none). */
  readonly mo: number | null;
  /** The partition's join watermark (null: -infinity). */
  readonly w: number | null;
  /** Next input offset applied to the state, per input stream (the records before it are in it). */
  readonly o: Readonly<Record<string, number>>;
}

export function formatKeyRecord(slots: readonly SlotRecord[]): string {
  return JSON.stringify({ v: CHANGELOG_FORMAT, s: slots });
}

export function formatWatermark(w: WatermarkRecord): string {
  return JSON.stringify({ v: CHANGELOG_FORMAT, ...w });
}

const finite = (x: unknown): x is number => typeof x === 'number' && Number.isFinite(x);
const finiteOrNull = (x: unknown): x is number | null => x === null || finite(x);

function corrupt(key: string, why: string): JoinStateCorruptError {
  return new JoinStateCorruptError(`label-joiner changelog record for key ${JSON.stringify(key)} is unreadable: ${why}`, { key });
}

function parseJson(key: string, text: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw corrupt(key, `not JSON (${(err as Error).message})`);
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw corrupt(key, 'not an object');
  const obj = parsed as Record<string, unknown>;
  if (obj.v !== CHANGELOG_FORMAT) throw corrupt(key, `format version ${JSON.stringify(obj.v)} is not ${CHANGELOG_FORMAT}`);
  return obj;
}

function checkVariant(key: string, s: Record<string, unknown>): void {
  if (typeof s.m !== 'string' || typeof s.r !== 'string' || typeof s.x !== 'boolean') throw corrupt(key, 'slot without model, version or shadow flag');
  if (!finite(s.h)) throw corrupt(key, 'slot without event hash');
}

/** Parses and checks a key's value. Throws JoinStateCorruptError (never guesses). */
export function parseKeyRecord(key: string, text: string): KeyRecord {
  const obj = parseJson(key, text);
  if (!Array.isArray(obj.s)) throw corrupt(key, 'no slot list');
  for (const raw of obj.s as unknown[]) {
    if (!raw || typeof raw !== 'object') throw corrupt(key, 'slot is not an object');
    const s = raw as Record<string, unknown>;
    if (!finite(s.t)) throw corrupt(key, 'slot without time');
    switch (s.k) {
      case 'P':
        checkVariant(key, s);
        if (!s.p || typeof s.p !== 'object' || !(s.p as Record<string, unknown>).features) throw corrupt(key, 'pending slot without prediction fields');
        break;
      case 'L':
        checkVariant(key, s);
        if (!finite(s.d) || typeof s.e !== 'string') throw corrupt(key, 'labeled slot without deadline or outcome id');
        break;
      case 'U':
        checkVariant(key, s);
        if (!finite(s.d)) throw corrupt(key, 'unlabeled slot without deadline');
        break;
      case 'O':
        if (s.u !== 0 && s.u !== 1 && s.u !== 2) throw corrupt(key, 'outcome slot without use flag');
        if (!s.o || typeof s.o !== 'object' || typeof (s.o as Record<string, unknown>).event_id !== 'string')
          throw corrupt(key, 'outcome slot without outcome');
        break;
      default:
        throw corrupt(key, `unknown slot kind ${JSON.stringify(s.k)}`);
    }
  }
  return obj as unknown as KeyRecord;
}

export function parseWatermark(text: string): WatermarkRecord {
  const obj = parseJson(WATERMARK_KEY, text);
  if (!finiteOrNull(obj.mp) || !finiteOrNull(obj.mo) || !finiteOrNull(obj.w)) throw corrupt(WATERMARK_KEY, 'watermark fields must be numbers or null');
  const o = obj.o ?? {};
  if (typeof o !== 'object' || Array.isArray(o) || !Object.values(o as object).every((x) => Number.isSafeInteger(x) && (x as number) >= 0)) {
    throw corrupt(WATERMARK_KEY, 'input positions must be non-negative integers');
  }
  return { mp: obj.mp, mo: obj.mo, w: obj.w, o: o as Record<string, number> };
}
