/**
 * The scorer: which model versions serve each model, and scoring of a micro-batch with shadow
 * scoring and fallbacks. Shared by the stream loop and the HTTP routes.
 *
 * Per model it keeps a slot {champion, challenger?, previous?} of loaded versions. Semantics
 * (docs/scoring.md):
 *  - Hot swap: `refresh()` (polled every SCORING_MODEL_POLL_MS, or called by the promote/rollback
 *    routes) reads the roles from the registry, loads any new version *before* swapping, then
 *    replaces the slot object in one assignment. A micro-batch reads the slot once when it starts,
 *    so each batch is scored by exactly one champion: nothing is dropped or scored twice, and the
 *    switch happens between batches. The retired session is released when its last batch is done.
 *  - Shadow: when a challenger is assigned, every event is also scored by it; those predictions have
 *    is_shadow = true and never carry a fallback (a failing challenger just produces no shadow rows).
 *  - Fallback: if the champion failed to load, or fails to infer a batch, the configured chain is
 *    tried in order: `previous_version` (the champion below it on the promotion stack, loaded on
 *    first need) then `default_score` (config models.<name>.default_score, else the metadata's
 *    default_score). The prediction says which in `fallback`, and carries the version that produced
 *    it (`default` for the default score). If the chain is exhausted the events fail with the
 *    original non-retriable error (dead-lettered by the stream; 500 on HTTP). A failed load is
 *    retried with backoff on later polls; nothing here throws out of the process.
 *  - Retriable failures (ClickHouse down while a model is first looked up) propagate so the stream
 *    retries the batch without committing.
 */
import type { FeatureEvent, PredictionEvent } from '../../lib/contracts/schemas.js';
import { ModelNotFoundError, isDriftwatchError, isRetriable, type DriftwatchError } from '../../lib/runtime/errors.js';
import type { Logger } from '../../lib/runtime/logger.js';
import type { Metrics } from '../../lib/runtime/metrics.js';
import { DEFAULT_SCORE_VERSION, buildPrediction, groupByModel, type FallbackStrategy, type ModelServingConfig } from './core.js';
import type { ModelRegistry, ModelVersionInfo } from './model-registry.js';
import { loadModel, type LoadedModel } from './model-session.js';
import { EMPTY_ASSIGNMENT, type Assignment } from './promotions.js';
import { checkFeatureTypes, defaultOutput, type FeatureMap, type ModelOutput } from './tensor-codec.js';

export interface ScorerOptions {
  readonly registry: ModelRegistry;
  readonly logger: Logger;
  readonly metrics?: Metrics;
  readonly fallback: readonly FallbackStrategy[];
  readonly models?: ReadonlyMap<string, ModelServingConfig>;
  readonly intraOpThreads?: number;
  /** How long an unknown model name is remembered as unknown (bounds registry look-ups from bad events). */
  readonly negativeCacheMs?: number;
  readonly now?: () => number;
}

export type ScoreOutcome =
  { readonly predictions: readonly PredictionEvent[]; readonly error?: undefined } | { readonly error: DriftwatchError; readonly predictions?: undefined };

export interface VersionState {
  readonly version: string;
  readonly loaded: boolean;
  readonly error: string | null;
}

export interface ModelState {
  readonly name: string;
  readonly assignment: Assignment;
  readonly champion: VersionState;
  readonly challenger: VersionState | null;
  readonly previous: VersionState | null;
}

interface VersionSlot {
  readonly version: string;
  info?: ModelVersionInfo;
  model?: LoadedModel;
  error?: DriftwatchError;
  retryAt: number;
  attempts: number;
  loading?: Promise<void>;
}

interface ModelSlot {
  readonly name: string;
  readonly assignment: Assignment;
  readonly champion: VersionSlot;
  readonly challenger?: VersionSlot;
  previous?: VersionSlot;
}

interface Served {
  readonly outputs: readonly ModelOutput[];
  readonly version: string;
  readonly fallback: FallbackStrategy | null;
  readonly latencyMs: number;
}

const MAX_RETRY_MS = 60_000;

export interface Scorer {
  scoreEvents(events: readonly FeatureEvent[], options?: { strict?: boolean }): Promise<ScoreOutcome[]>;
  /** Re-reads roles from the registry and hot-swaps changed versions (all known models, or one). */
  refresh(name?: string): Promise<void>;
  startPolling(intervalMs: number): void;
  state(): ModelState[];
  close(): Promise<void>;
}

export function createScorer(opts: ScorerOptions): Scorer {
  const { registry, logger, metrics } = opts;
  const now = opts.now ?? Date.now;
  const threads = opts.intraOpThreads ?? 1;
  const negativeMs = opts.negativeCacheMs ?? 2000;
  const slots = new Map<string, ModelSlot>();
  const initializing = new Map<string, Promise<ModelSlot>>();
  const unknown = new Map<string, { until: number; error: DriftwatchError }>();
  let refreshChain: Promise<void> = Promise.resolve();
  let timer: ReturnType<typeof setInterval> | undefined;
  let closed = false;

  const servingConfig = (name: string): ModelServingConfig => opts.models?.get(name) ?? { fallback: opts.fallback };

  /** Loads a version into its slot; non-retriable failures are recorded on the slot, retriable ones thrown. */
  async function load(name: string, slot: VersionSlot): Promise<void> {
    if (slot.loading) return slot.loading;
    slot.loading = (async () => {
      try {
        slot.info ??= await registry.getVersion(name, slot.version);
        const bytes = await registry.readModelFile(slot.info);
        slot.model = await loadModel(name, slot.version, bytes, slot.info.metadata, { intraOpThreads: threads });
        slot.error = undefined;
        slot.attempts = 0;
        logger.info({ model: name, version: slot.version }, 'model version loaded');
      } catch (err) {
        if (isRetriable(err)) throw err;
        slot.error = err as DriftwatchError;
        slot.attempts += 1;
        slot.retryAt = now() + Math.min(MAX_RETRY_MS, 1000 * 2 ** (slot.attempts - 1));
        metrics?.scoringErrors.inc({ model: name, kind: 'load' });
        logger.error(
          { model: name, version: slot.version, err: slot.error.toJSON?.() ?? String(err), retryInMs: slot.retryAt - now() },
          'model version failed to load',
        );
      } finally {
        slot.loading = undefined;
      }
    })();
    return slot.loading;
  }

  const newVersionSlot = (version: string): VersionSlot => ({ version, retryAt: 0, attempts: 0 });

  async function slotFor(name: string): Promise<ModelSlot> {
    const existing = slots.get(name);
    if (existing) return existing;
    const neg = unknown.get(name);
    if (neg && neg.until > now()) throw neg.error;
    let p = initializing.get(name);
    if (!p) {
      p = (async () => {
        const assignment = await registry.assignment(name);
        if (!assignment.champion) {
          const error = new ModelNotFoundError(`model ${JSON.stringify(name)} has no champion in the registry (register and promote a version first)`, {
            model: name,
          });
          unknown.set(name, { until: now() + negativeMs, error });
          throw error;
        }
        const slot: ModelSlot = {
          name,
          assignment,
          champion: newVersionSlot(assignment.champion),
          ...(assignment.challenger ? { challenger: newVersionSlot(assignment.challenger) } : {}),
        };
        await load(name, slot.champion);
        if (slot.challenger) await load(name, slot.challenger);
        slots.set(name, slot);
        return slot;
      })().finally(() => initializing.delete(name));
      initializing.set(name, p);
    }
    return p;
  }

  async function run(model: LoadedModel, rows: readonly FeatureMap[], role: 'champion' | 'challenger' | 'fallback') {
    model.acquire();
    try {
      const res = await model.score(rows);
      metrics?.scoringLatency.observe({ model: model.name, version: model.version, role }, res.latencyMs / 1000);
      for (const [reason, n] of Object.entries(res.imputed)) if (n > 0) metrics?.scoringImputed.inc({ model: model.name, reason }, n);
      return res;
    } finally {
      model.release();
    }
  }

  async function previousOf(slot: ModelSlot): Promise<VersionSlot | undefined> {
    const version = slot.assignment.previousChampion;
    if (!version) return undefined;
    if (!slot.previous || slot.previous.version !== version) {
      const stale = slot.previous;
      slot.previous = newVersionSlot(version);
      if (stale && stale !== slot.champion && stale !== slot.challenger) stale.model?.retire();
    }
    const prev = slot.previous;
    if (!prev.model && (!prev.error || prev.retryAt <= now())) await load(slot.name, prev);
    return prev;
  }

  async function serve(slot: ModelSlot, rows: readonly FeatureMap[]): Promise<Served> {
    const champ = slot.champion;
    let failure: DriftwatchError | undefined = champ.error;
    if (champ.model) {
      try {
        const r = await run(champ.model, rows, 'champion');
        return { outputs: r.outputs, version: champ.version, fallback: null, latencyMs: r.latencyMs };
      } catch (err) {
        if (!isDriftwatchError(err) || err.retriable) throw err;
        failure = err;
        metrics?.scoringErrors.inc({ model: slot.name, kind: 'inference' });
        logger.warn({ model: slot.name, version: champ.version, err: err.toJSON() }, 'champion failed to infer; trying the fallback chain');
      }
    }
    failure ??= new ModelNotFoundError(`model ${slot.name}@${champ.version} is not loaded`);
    for (const strategy of servingConfig(slot.name).fallback) {
      if (strategy === 'previous_version') {
        const prev = await previousOf(slot);
        if (!prev?.model) continue;
        try {
          const r = await run(prev.model, rows, 'fallback');
          metrics?.scoringFallbacks.inc({ model: slot.name, reason: 'previous_version' }, rows.length);
          return { outputs: r.outputs, version: prev.version, fallback: 'previous_version', latencyMs: r.latencyMs };
        } catch (err) {
          if (!isDriftwatchError(err) || err.retriable) throw err;
          metrics?.scoringErrors.inc({ model: slot.name, kind: 'inference' });
        }
      } else {
        const meta = champ.info?.metadata ?? slot.previous?.info?.metadata;
        const score = servingConfig(slot.name).defaultScore ?? meta?.default_score;
        if (score === undefined || !meta) continue;
        const out = defaultOutput(meta, score);
        metrics?.scoringFallbacks.inc({ model: slot.name, reason: 'default_score' }, rows.length);
        return { outputs: rows.map(() => out), version: DEFAULT_SCORE_VERSION, fallback: 'default_score', latencyMs: 0 };
      }
    }
    throw failure;
  }

  async function shadow(
    slot: ModelSlot,
    rows: readonly FeatureMap[],
  ): Promise<{ outputs: readonly ModelOutput[]; version: string; latencyMs: number } | undefined> {
    const ch = slot.challenger;
    if (!ch?.model) return undefined;
    try {
      const r = await run(ch.model, rows, 'challenger');
      return { outputs: r.outputs, version: ch.version, latencyMs: r.latencyMs };
    } catch (err) {
      if (!isDriftwatchError(err) || err.retriable) throw err;
      metrics?.scoringErrors.inc({ model: slot.name, kind: 'shadow_inference' });
      logger.warn({ model: slot.name, version: ch.version, err: err.toJSON() }, 'challenger failed to infer; no shadow predictions for this batch');
      return undefined;
    }
  }

  /** Replaces a model's slot after loading what changed; retires sessions no longer used. */
  async function reconcile(name: string, assignment: Assignment): Promise<void> {
    const old = slots.get(name);
    if (!old || !assignment.champion) return;
    const known = new Map<string, VersionSlot>();
    for (const s of [old.champion, old.challenger, old.previous]) if (s) known.set(s.version, s);
    const pick = async (version: string): Promise<VersionSlot> => {
      const s = known.get(version) ?? newVersionSlot(version);
      if (!s.model && (!s.error || s.retryAt <= now())) await load(name, s);
      return s;
    };
    const champion = await pick(assignment.champion);
    const challenger = assignment.challenger ? await pick(assignment.challenger) : undefined;
    const prevVersion = assignment.previousChampion;
    const previous = prevVersion ? known.get(prevVersion) : undefined;
    const unchanged =
      champion === old.champion && challenger === old.challenger && previous === old.previous && old.assignment.previousChampion === prevVersion;
    if (unchanged) return;
    const next: ModelSlot = { name, assignment, champion, ...(challenger ? { challenger } : {}), ...(previous ? { previous } : {}) };
    slots.set(name, next);
    if (champion.version !== old.champion.version) {
      metrics?.modelSwaps.inc({ model: name, role: 'champion' });
      logger.info({ model: name, from: old.champion.version, to: champion.version, loaded: Boolean(champion.model) }, 'champion swapped');
    }
    if (challenger?.version !== old.challenger?.version) {
      metrics?.modelSwaps.inc({ model: name, role: 'challenger' });
      logger.info({ model: name, from: old.challenger?.version ?? null, to: challenger?.version ?? null }, 'challenger changed');
    }
    const keep = new Set([next.champion, next.challenger, next.previous]);
    for (const s of known.values()) if (!keep.has(s)) s.model?.retire();
  }

  async function doRefresh(name?: string): Promise<void> {
    const names = name ? (slots.has(name) ? [name] : []) : [...slots.keys()];
    if (name) unknown.delete(name);
    if (names.length === 0) return;
    const roles = await registry.assignments(names);
    for (const n of names) {
      try {
        await reconcile(n, roles.get(n) ?? EMPTY_ASSIGNMENT);
      } catch (err) {
        logger.warn({ model: n, err: isDriftwatchError(err) ? err.toJSON() : String(err) }, 'model refresh failed; keeping the current versions');
      }
    }
  }

  const versionState = (s: VersionSlot | undefined): VersionState | null =>
    s ? { version: s.version, loaded: Boolean(s.model), error: s.error?.message ?? null } : null;

  return {
    async scoreEvents(events, options = {}) {
      const results: ScoreOutcome[] = new Array(events.length);
      for (const [name, idx] of groupByModel(events)) {
        let slot: ModelSlot;
        try {
          slot = await slotFor(name);
        } catch (err) {
          if (!isDriftwatchError(err) || err.retriable) throw err;
          for (const i of idx) results[i] = { error: err };
          continue;
        }
        const group = idx.map((i) => events[i]!);
        const rows = group.map((e) => e.features);
        const meta = slot.champion.info?.metadata;
        if (options.strict && meta) checkFeatureTypes(meta, rows);
        let served: Served;
        try {
          served = await serve(slot, rows);
        } catch (err) {
          if (!isDriftwatchError(err) || err.retriable) throw err;
          for (const i of idx) results[i] = { error: err };
          continue;
        }
        const sh = await shadow(slot, rows);
        metrics?.scoringPredictions.inc({ model: name, version: served.version, role: 'served' }, group.length);
        if (sh) metrics?.scoringPredictions.inc({ model: name, version: sh.version, role: 'shadow' }, group.length);
        group.forEach((e, k) => {
          const predictions = [
            buildPrediction(e, served.outputs[k]!, {
              modelName: name,
              version: served.version,
              isShadow: false,
              fallback: served.fallback,
              latencyMs: served.latencyMs,
            }),
          ];
          if (sh)
            predictions.push(
              buildPrediction(e, sh.outputs[k]!, { modelName: name, version: sh.version, isShadow: true, fallback: null, latencyMs: sh.latencyMs }),
            );
          results[idx[k]!] = { predictions };
        });
      }
      return results;
    },

    refresh(name) {
      // Serialised: a poll and a promote route never reconcile the same slot concurrently.
      const next = refreshChain.then(() => doRefresh(name));
      refreshChain = next.catch(() => undefined);
      return next;
    },

    startPolling(intervalMs) {
      if (timer || closed) return;
      timer = setInterval(() => {
        this.refresh().catch((err) =>
          logger.warn({ err: isDriftwatchError(err) ? err.toJSON() : String(err) }, 'model poll failed; retrying on the next poll'),
        );
      }, intervalMs);
      timer.unref();
    },

    state() {
      return [...slots.values()].map((s) => ({
        name: s.name,
        assignment: s.assignment,
        champion: versionState(s.champion)!,
        challenger: versionState(s.challenger),
        previous: versionState(s.previous),
      }));
    },

    async close() {
      closed = true;
      if (timer) clearInterval(timer);
      await refreshChain;
      for (const s of slots.values()) for (const v of [s.champion, s.challenger, s.previous]) v?.model?.retire();
      slots.clear();
    },
  };
}
