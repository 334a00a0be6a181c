/**
 * The reference retrain worker's adapter: one RetrainRequested event -> one new champion version.
 *
 *   1. data       labeled predictions of the model in the event's training range (labeled_predictions
 *                 FINAL, served rows), after waiting for delayed labels (RETRAIN_WORKER_MIN_LABEL_COVERAGE
 *                 of the range's served predictions, at most RETRAIN_WORKER_LABEL_WAIT_MS)
 *   2. trained    services/scoring/train.ts on the serving version's inputs, task and classes
 *   3. registered onnx-export.ts -> model registry (next integer version, not yet promoted)
 *   4. profiled   reference profile of the new version from its training rows scored by the new model
 *   5. promoted   champion; every scorer hot-swaps on its next poll (SCORING_MODEL_POLL_MS)
 *
 * Each step is logged and written to `retrain_runs` (migration 049) under the event's
 * idempotency_key. The profile is stored BEFORE the promotion, so the first window the new version
 * serves already has its reference (window-metrics loads a version's profile when it first sees it).
 *
 * Idempotency: a key with a `promoted` row is skipped (a redelivered event never trains twice); a
 * key whose earlier delivery registered a version but died before promoting resumes from that version
 * (found through `retrain_runs`, or through the version's metadata `training.idempotency_key` when the
 * crash fell between registering and recording), so no second version is trained either.
 */
import { hostname } from 'node:os';
import type { RetrainRequested } from '../../lib/contracts/schemas.js';
import { toClickHouseError, toClickHouseTime, type ClickHouse } from '../../lib/runtime/clickhouse/client.js';
import { TrainingFailedError, isDriftwatchError } from '../../lib/runtime/errors.js';
import type { Logger } from '../../lib/runtime/logger.js';
import type { Settings } from '../../lib/runtime/config.js';
import { buildAndStoreReferenceProfile, listProfiles } from '../../lib/reference/store.js';
import type { KpiDefinition } from '../../lib/performance/kpi/kpi.js';
import type { ClassificationOptions } from '../../lib/performance/classification.js';
import type { ModelRegistry } from '../scoring/model-registry.js';
import { exportLinearModel } from '../scoring/onnx-export.js';
import {
  labelsReady,
  linearSpecFromMetadata,
  referenceRows,
  runState,
  shapeOf,
  toTrainingRow,
  trainVersion,
  type RunRow,
  type RunStep,
  type StoredLabeledRow,
} from './core.js';
import type { LinearModelSpec } from '../scoring/linear-model.js';

export interface RetrainWorkerDeps {
  readonly ch: ClickHouse;
  readonly registry: ModelRegistry;
  readonly logger: Logger;
  readonly settings: Pick<
    Settings,
    'RETRAIN_WORKER_MIN_ROWS' | 'RETRAIN_WORKER_MAX_ROWS' | 'RETRAIN_WORKER_MIN_LABEL_COVERAGE' | 'RETRAIN_WORKER_LABEL_WAIT_MS'
  >;
  /** KPI definitions and performance settings of the monitoring config, so the new profile's baselines match what window-metrics computes. */
  readonly kpis?: readonly KpiDefinition[];
  readonly performanceFor?: (model: string) => Partial<ClassificationOptions>;
  readonly worker?: string;
  readonly now?: () => number;
  /** How often the label wait re-counts (default 1000 ms). */
  readonly pollMs?: number;
}

export interface RunResult {
  readonly outcome: 'promoted' | 'already_done';
  readonly version: string;
  readonly durationMs: number;
}

export interface RetrainWorker {
  /** Handles one event; `heartbeat` keeps the consumer's membership during the label wait. */
  handle(event: RetrainRequested, heartbeat?: () => Promise<void>): Promise<RunResult>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function createRetrainWorker(d: RetrainWorkerDeps): RetrainWorker {
  const now = d.now ?? Date.now;
  const worker = d.worker ?? `${hostname()}-${process.pid}`;
  const pollMs = d.pollMs ?? 1000;
  const s = d.settings;

  async function query<T>(sql: string, params: Record<string, unknown>): Promise<T[]> {
    try {
      const rs = await d.ch.client.query({ query: sql, query_params: params, format: 'JSONEachRow' });
      return await rs.json<T>();
    } catch (err) {
      throw isDriftwatchError(err) ? err : toClickHouseError(err);
    }
  }

  async function record(event: RetrainRequested, step: RunStep, newVersion: string, detail: Record<string, unknown>): Promise<void> {
    const at = now();
    try {
      await d.ch.client.insert({
        table: 'retrain_runs',
        format: 'JSONEachRow',
        values: [
          {
            idempotency_key: event.idempotency_key,
            step,
            at: toClickHouseTime(at),
            model_name: event.model_name,
            source_version: event.model_version,
            new_version: newVersion,
            policy_id: event.policy_id,
            worker,
            detail: JSON.stringify(detail),
          },
        ],
      });
    } catch (err) {
      throw toClickHouseError(err);
    }
    d.logger.info(
      { idempotency_key: event.idempotency_key, model: event.model_name, step, new_version: newVersion || undefined, ...detail },
      `retrain ${event.model_name}: ${step}`,
    );
  }

  /** A version an earlier delivery registered for this key (crash between register and record). */
  async function versionOfKey(model: string, key: string): Promise<string | null> {
    const rows = await query<{ v: string }>(
      `SELECT model_version AS v FROM model_versions FINAL
       WHERE model_name = {m:String} AND JSONExtractString(metadata, 'training', 'idempotency_key') = {k:String} LIMIT 1`,
      { m: model, k: key },
    );
    return rows[0]?.v ?? null;
  }

  async function counts(event: RetrainRequested): Promise<{ labeled: number; predictions: number }> {
    const params = { m: event.model_name, from: event.training_range_start, to: event.training_range_end };
    const [lab] = await query<{ n: string }>(
      `SELECT count() AS n FROM labeled_predictions FINAL
       WHERE model_name = {m:String} AND NOT is_shadow AND status = 'LABELED'
         AND prediction_time >= fromUnixTimestamp64Milli({from:Int64}, 'UTC') AND prediction_time < fromUnixTimestamp64Milli({to:Int64}, 'UTC')`,
      params,
    );
    const [pred] = await query<{ n: string }>(
      `SELECT uniqExact(prediction_id) AS n FROM raw_predictions
       WHERE model_name = {m:String} AND NOT is_shadow
         AND event_time >= fromUnixTimestamp64Milli({from:Int64}, 'UTC') AND event_time < fromUnixTimestamp64Milli({to:Int64}, 'UTC')`,
      params,
    );
    return { labeled: Number(lab?.n ?? 0), predictions: Number(pred?.n ?? 0) };
  }

  async function waitForLabels(
    event: RetrainRequested,
    heartbeat?: () => Promise<void>,
  ): Promise<{ labeled: number; predictions: number; coverage: number; waitedMs: number }> {
    const started = now();
    for (;;) {
      const c = await counts(event);
      const waitedMs = now() - started;
      const decision = labelsReady(c.labeled, c.predictions, {
        minRows: s.RETRAIN_WORKER_MIN_ROWS,
        minCoverage: s.RETRAIN_WORKER_MIN_LABEL_COVERAGE,
        waitedMs,
        maxWaitMs: s.RETRAIN_WORKER_LABEL_WAIT_MS,
      });
      if (decision.ready) return { ...c, coverage: decision.coverage, waitedMs };
      d.logger.debug(
        { idempotency_key: event.idempotency_key, ...c, coverage: decision.coverage, waitedMs },
        'waiting for delayed labels in the training range',
      );
      await heartbeat?.().catch(() => undefined);
      await sleep(pollMs);
    }
  }

  async function readRows(event: RetrainRequested): Promise<StoredLabeledRow[]> {
    return query<StoredLabeledRow>(
      `SELECT num_features, cat_features, bool_features, missing_features, segment, label, target_value, business
       FROM labeled_predictions FINAL
       WHERE model_name = {m:String} AND NOT is_shadow AND status = 'LABELED'
         AND prediction_time >= fromUnixTimestamp64Milli({from:Int64}, 'UTC') AND prediction_time < fromUnixTimestamp64Milli({to:Int64}, 'UTC')
       ORDER BY prediction_time DESC, prediction_id LIMIT {limit:UInt64}`,
      { m: event.model_name, from: event.training_range_start, to: event.training_range_end, limit: s.RETRAIN_WORKER_MAX_ROWS },
    );
  }

  return {
    async handle(event, heartbeat) {
      const t0 = now();
      const key = event.idempotency_key;
      const model = event.model_name;
      const runs = await query<RunRow>('SELECT step, new_version FROM retrain_runs FINAL WHERE model_name = {m:String} AND idempotency_key = {k:String}', {
        m: model,
        k: key,
      });
      const state = runState(runs);
      if (state.done) {
        d.logger.info({ idempotency_key: key, model, version: state.registeredVersion }, 'retrain already done for this idempotency key; skipped');
        return { outcome: 'already_done', version: state.registeredVersion!, durationMs: now() - t0 };
      }
      const range = { from: new Date(event.training_range_start).toISOString(), to: new Date(event.training_range_end).toISOString() };
      await record(event, 'started', '', {
        policy_id: event.policy_id,
        training_range: range,
        drifted_features: event.drifted_features,
        reason: event.reason,
        event_created_at: new Date(event.created_at).toISOString(),
        resumed_version: state.registeredVersion,
      });
      try {
        const source = await d.registry.getVersion(model, event.model_version);
        const shape = shapeOf(source.metadata);
        const waited = await waitForLabels(event, heartbeat);
        const stored = await readRows(event);
        const rows = stored.map(toTrainingRow);
        await record(event, 'data', '', { ...waited, rows: rows.length, table: 'labeled_predictions', training_range: range });

        let version = state.registeredVersion ?? (await versionOfKey(model, key));
        let spec: LinearModelSpec;
        if (version === null) {
          const trainStart = now();
          const trained = trainVersion(shape, rows, s.RETRAIN_WORKER_MIN_ROWS);
          spec = trained.spec;
          await record(event, 'trained', '', {
            task: shape.task,
            train_rows: trained.trainRows,
            iterations: trained.report.iterations,
            converged: trained.report.converged,
            train_loss: trained.report.loss,
            holdout: trained.holdout,
            train_ms: now() - trainStart,
          });
          const exported = exportLinearModel(trained.spec, {
            name: model,
            description: `Retrained by the driftwatch retrain worker from ${model} v${event.model_version} on labeled data ${range.from} .. ${range.to} (policy ${event.policy_id}).`,
            ...(source.metadata.default_score !== undefined ? { defaultScore: source.metadata.default_score } : {}),
            training: {
              trainer:
                shape.task === 'classification'
                  ? 'driftwatch train.ts logistic regression (gradient descent)'
                  : 'driftwatch train.ts linear regression (normal equations)',
              idempotency_key: key,
              policy_id: event.policy_id,
              retrained_from: event.model_version,
              data: { table: 'labeled_predictions', from: range.from, to: range.to, rows: rows.length, train_rows: trained.trainRows },
              iterations: trained.report.iterations,
              converged: trained.report.converged,
              holdout: trained.holdout,
            },
          });
          const reg = await d.registry.register(model, { onnx: exported.onnx, metadata: exported.metadata, actor: 'retrain-worker', reason: `retrain ${key}` });
          version = reg.version.version;
          await record(event, 'registered', version, { sha256: reg.version.sha256, path: reg.version.path });
        } else {
          // An earlier delivery trained and registered this version: resume with it, never train twice.
          const registered = await d.registry.getVersion(model, version);
          const fromMetadata = linearSpecFromMetadata(registered.metadata);
          if (!fromMetadata)
            throw new TrainingFailedError(`${model}@${version}: registered for ${key} but its metadata has no linear coefficients to resume from`);
          spec = fromMetadata;
          await record(event, 'registered', version, { resumed: true });
        }

        const profiles = await listProfiles(d.ch, model);
        const sourceTag = `retrain:${key}`;
        const existing = profiles.find((p) => p.version === version && p.source.startsWith(sourceTag));
        if (existing) await record(event, 'profiled', version, { profile_version: existing.profileVersion, resumed: true });
        else {
          // The profile is fitted on the rows the new version's training saw (the same rows the
          // registered model was fitted on when resuming: the range and its labels are stored).
          const built = await buildAndStoreReferenceProfile(d.ch, {
            model,
            version,
            rows: referenceRows(spec, rows),
            source: `${sourceTag} labeled_predictions ${range.from}/${range.to}`,
            ...(d.kpis ? { kpis: d.kpis } : {}),
            ...(d.performanceFor ? { performance: d.performanceFor(model) } : {}),
            now: now(),
          });
          await record(event, 'profiled', version, { profile_version: built.profileVersion, rows: built.rowCount, kpi_baselines: built.kpiBaselines });
        }

        const assignment = await d.registry.promote(model, version, 'champion', {
          actor: 'retrain-worker',
          reason: `retrain ${key}: ${event.reason}`.slice(0, 1000),
        });
        const durationMs = now() - t0;
        await record(event, 'promoted', version, {
          champion: assignment.champion,
          previous_champion: assignment.previousChampion,
          duration_ms: durationMs,
          since_event_ms: now() - event.created_at,
        });
        return { outcome: 'promoted', version, durationMs };
      } catch (err) {
        // Non-retriable failures are recorded (the event is then dead-lettered by the subscription);
        // retriable ones (ClickHouse down) are retried by the subscription with the same key.
        if (isDriftwatchError(err) && !err.retriable) await record(event, 'failed', '', { code: err.code, message: err.message }).catch(() => undefined);
        throw err;
      }
    },
  };
}
