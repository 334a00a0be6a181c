/**
 * The data the Grafana tests query, produced by driftwatch's own processors, not written by hand:
 *
 *   simulator core (services/simulator)          feature + outcome events of the two sample models
 *   -> scoring service scorer (services/scoring)  real ONNX models from models/, real model registry
 *   -> label-joiner core (JoinCore)               predictions joined with delayed outcomes
 *   -> window-metrics processor                   the real adapter, consuming predictions and labeled
 *                                                 predictions from the real Kafka broker, writing the
 *                                                 migration-030 tables
 *   ingest core (planBatch)                       dead letters of malformed events
 *   -> retrain-trigger processor                  the real adapter (startRetrainTrigger), polling the
 *                                                 windows window-metrics wrote, publishing RetrainRequested
 *                                                 and Alert events on the real broker and writing the
 *                                                 retrain_events, alerts and retrain_decisions tables
 *   API lag poller (services/api/lib/lag.ts)      measureLag over every consumer group, as the API runs it
 *   prom-client registries (lib/runtime/metrics)  sampled into ops_metrics by the runtime's sampler
 *                                                 function (sampleRegistry, lib/grafana/ops-metrics.ts)
 *
 * Event time is simulated: 7 hours ending at the top of the current hour (T_end), in 10-minute windows. The reference
 * profiles are built by lib/reference from stationary rows scored by the same models.
 *
 * What happens (the alert tests rely on it):
 *   credit-risk   v1 champion and v2 shadow challenger, scored on the same events;
 *                 stationary, then from T_end-2h covariate drift (income x0.75, utilization +0.15),
 *                 a concept shift, and an upstream bug sending `age` as text in 30% of events.
 *   delivery-eta  stationary inputs throughout; its outcomes stop arriving from T_end-3h (label outage);
 *                 from T_end-15m its champion v2's file is corrupt on disk, so v1 serves as fallback.
 *   pipeline      from T_end-20m the label-joiner stalls (consumer lag grows, its offsets stop);
 *                 from T_end-8m the scoring process is starved of CPU (inference takes > 0.5 s);
 *                 from T_end-8m a producer sends malformed outcomes (dead letters), after a low
 *                 background rate; after T_end nothing is written at all.
 * Everything before T_end-3h is stationary for every model and every component. The API ('api') measures
 * the lag of every consumer group all along, as in production: healthy groups show the lag of the
 * records in flight at each poll, so a rule or panel that took the API's samples for the API's own
 * lag (it consumes nothing) would see a stalled 'api' on the stationary part.
 *
 * Where the ops counters come from:
 *   - window-metrics and retrain-trigger run their real adapters on the real broker: their counters
 *     are incremented by their own code, and the API measures their groups on the broker;
 *   - ingest, scoring and the label-joiner run as their cores, through 7 simulated hours in a few
 *     seconds and without a consumer group. Their adapters' batch handlers (the only code that
 *     increments events consumed/produced, e.g. services/scoring/stream.ts handleBatch) run only
 *     inside a live kafkajs consumer in wall-clock time, so the scenario increments those counters
 *     where the handlers do. Their consumer lag cannot be measured on the broker either (nothing
 *     commits for them), so the API's real poller reads it from a simulated log (SimulatedLog below:
 *     end offsets are the events the scenario produced, committed offsets what each core consumed).
 *     The scoring service's own metrics (latency, predictions, fallbacks, errors) come from the real
 *     scorer.
 *
 * Choices for a test-sized run (the production defaults are in docs/windows.md): 10-minute windows
 * with 100 predictions per window and model, drift tests with p-values (KS, chi-squared goodness of fit, threshold
 * 0.001, Benjamini-Hochberg) whose false-alarm rate does not grow at small windows, normalised Wasserstein
 * (threshold 0.3) on income so both kinds of method are charted, and a 2-hour label wait. The
 * retrain trigger evaluates the whole run at T_end with no settle delay (window-metrics has stopped
 * writing by then), so its decisions and events are stamped T_end; its two drift policies are below.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as ort from 'onnxruntime-node';
import { join as joinPath } from 'node:path';
import type { FeatureEvent, LabeledPrediction, PredictionEvent } from '../../../lib/contracts/schemas.js';
import { createEventCodec } from '../../../lib/contracts/codec.js';
import { topicNames } from '../../../lib/contracts/topics.js';
import { sampleRegistry } from '../../../lib/grafana/ops-metrics.js';
import { buildAndStoreReferenceProfile } from '../../../lib/reference/store.js';
import { openClickHouse, type ClickHouse } from '../../../lib/runtime/clickhouse/client.js';
import { migrate } from '../../../lib/runtime/clickhouse/migrations.js';
import { isDriftwatchError, type DriftwatchError } from '../../../lib/runtime/errors.js';
import { createKafkaAdapter, type KafkaAdapter, type OutboundRecord, type PartitionLag, type StreamRecord } from '../../../lib/runtime/kafka.js';
import { createMetrics, type Metrics } from '../../../lib/runtime/metrics.js';
import { createSimulatorState, tick } from '../../../services/simulator/core.js';
import type { Scenario } from '../../../services/simulator/scenario.js';
import { createModelRegistry } from '../../../services/scoring/model-registry.js';
import { createScorer } from '../../../services/scoring/scorer.js';
import { defaultLagGroups, measureLag, type LagGroup } from '../../../services/api/lib/lag.js';
import { generateRows } from '../../../services/scoring/sample-models/feature-space.js';
import { businessOutcome } from '../../../services/simulator/core.js';
import { JoinCore, joinSettingsFor, type JoinOutput } from '../../../stream-processors/label-joiner/core.js';
import { planBatch, type DecodeResult } from '../../../stream-processors/ingest/core.js';
import { parseMonitoringConfig } from '../../../stream-processors/window-metrics/config.js';
import { startWindowMetrics } from '../../../stream-processors/window-metrics/processor.js';
import { startRetrainTrigger } from '../../../stream-processors/retrain-trigger/trigger.js';
import { committedToEnd, testConfig, testLogger, uniqueName, waitFor } from '../../support/stack.js';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

export const MONITORING_YAML = `
monitoring:
  drift:
    numeric_method: ks
    categorical_method: chisquare_gof
    thresholds: { ks: 0.001, chisquare_gof: 0.001 }
    methods: { income: wasserstein }
    feature_thresholds: { income: 0.3 }
    correction: benjamini-hochberg
    min_window_rows: 30
  severity:
    warning: { drifted_count: 1 }
    critical: { drifted_count: 2 }
segments: [device]
kpis:
  - name: repayment_rate
    expression: 1 - business.defaulted
    aggregation: mean
    models: [credit-risk]
  - name: on_time_rate
    expression: 1 - business.late
    aggregation: mean
    models: [delivery-eta]
policies:
  - id: credit-risk-drift
    model: credit-risk
    when: { drift: { min_features: 2, min_severity: warning, for_windows: 2 } }
    cooldown: 6h
    alert_severity: CRITICAL
  - id: delivery-eta-drift
    model: delivery-eta
    when: { drift: { min_features: 2, min_severity: warning, for_windows: 2 } }
    cooldown: 6h
`;

export interface ScenarioData {
  readonly ch: ClickHouse;
  /** Simulated time: the run covers [startMs, endMs). */
  readonly startMs: number;
  readonly endMs: number;
  readonly driftStartMs: number;
  readonly labelOutageStartMs: number;
  readonly joinerStallStartMs: number;
  readonly starvationStartMs: number;
  readonly corruptChampionAtMs: number;
  readonly deadLetterSpikeStartMs: number;
  /** The consumer groups the API polls (services/api defaults for this namespace). */
  readonly consumerGroups: { readonly ingest: string; readonly labelJoiner: string; readonly windowMetrics: string; readonly scoring: string };
  /** RetrainRequested and Alert records the retrain trigger published, read back from the broker. */
  readonly published: { readonly retrainRequested: number; readonly alerts: number };
  readonly counts: Readonly<Record<string, number>>;
  close(): Promise<void>;
}

const PER_MINUTE = 20; // both models: 10 predictions per minute each, 100 per 10-minute window

/**
 * Offsets of the topics the in-memory cores consume, for the API's lag poller: one partition per topic
 * (KAFKA_TOPIC_PARTITIONS=1), end offset = events the scenario appended, committed offset per group =
 * events that group's core consumed. Answers `consumerLag` as the Kafka adapter does (committed 0
 * before a group's first commit, lag = end - committed).
 */
class SimulatedLog {
  private readonly ends = new Map<string, number>();
  private readonly committed = new Map<string, number>();
  constructor(private readonly groups: ReadonlyMap<string, readonly string[]>) {}
  has(group: string): boolean {
    return this.groups.has(group);
  }
  append(topic: string, n: number): void {
    this.ends.set(topic, (this.ends.get(topic) ?? 0) + n);
  }
  /** The group's core has consumed everything appended so far, and commits. */
  commit(group: string): void {
    for (const topic of this.groups.get(group)!) this.committed.set(`${group}\u0000${topic}`, this.ends.get(topic) ?? 0);
  }
  consumerLag(group: string, topics: readonly string[]): PartitionLag[] {
    return topics.map((topic) => {
      const high = this.ends.get(topic) ?? 0;
      const committed = this.committed.get(`${group}\u0000${topic}`) ?? 0;
      return { topic, partition: 0, committed, high, lag: Math.max(0, high - committed) };
    });
  }
}

function busyWait(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until) {
    // A noisy neighbour: the scoring process gets no CPU.
  }
}

/**
 * The scoring incident: while `on`, every onnxruntime session.run of this process first loses 520 ms
 * of CPU (a busy wait on the thread that called it), as a starved process would. Installed once on
 * the shared InferenceSession prototype, so the scorer's real sessions, its real latency timer and its
 * real metrics carry the incident.
 */
const starveInference = { on: false };
{
  const proto = (ort.InferenceSession as unknown as { prototype: { run: (...args: unknown[]) => Promise<unknown>; __dwStarve?: true } }).prototype;
  if (!proto.__dwStarve) {
    const run = proto.run;
    proto.run = function (this: unknown, ...args: unknown[]) {
      if (starveInference.on) busyWait(520);
      return run.apply(this, args);
    };
    proto.__dwStarve = true;
  }
}

export async function buildScenario(): Promise<ScenarioData> {
  const t00 = Date.now();
  const lap = (what: string) => process.env.DW_GRAFANA_PROFILE && console.log(what, Date.now() - t00);
  const endMs = Math.floor(Date.now() / HOUR) * HOUR;
  const startMs = endMs - 7 * HOUR;
  const driftStartMs = endMs - 2 * HOUR;
  const labelOutageStartMs = endMs - 3 * HOUR;
  const joinerStallStartMs = endMs - 20 * MINUTE;
  const starvationStartMs = endMs - 8 * MINUTE;
  const corruptChampionAtMs = endMs - 15 * MINUTE;
  const deadLetterSpikeStartMs = endMs - 8 * MINUTE;

  const dir = mkdtempSync(joinPath(tmpdir(), 'dw-grafana-'));
  const cfgFile = joinPath(dir, 'driftwatch.yaml');
  writeFileSync(cfgFile, MONITORING_YAML);
  const ns = uniqueName('grafana');
  const config = testConfig({
    DW_TOPIC_NAMESPACE: ns,
    DW_CONFIG_FILE: cfgFile,
    CLICKHOUSE_DATA_DIR: joinPath(dir, 'clickhouse'),
    MODEL_DIR: joinPath(dir, 'models'),
    KAFKA_TOPIC_PARTITIONS: '1',
    WINDOW_SIZE_MS: '600000',
    WINDOW_ALLOWED_LATENESS_MS: '60000',
    JOIN_MAX_LABEL_DELAY_MS: String(2 * HOUR),
    JOIN_WATERMARK_DELAY_MS: '60000',
    WINDOW_EVAL_INTERVAL_MS: '200',
    RETRAIN_SETTLE_MS: '0',
  });
  const s = config.settings;
  const ch = await openClickHouse(s);
  await migrate(ch, s);
  const monitoring = parseMonitoringConfig(config.sections);

  // ---- models: the sample ONNX models, registered and promoted in simulated time ------------------
  let clock = startMs - HOUR;
  const registry = createModelRegistry(ch, { modelDir: s.MODEL_DIR, now: () => clock++ });
  const register = async (name: string, version: string, from = version, promoteTo: 'champion' | 'challenger' = 'champion') => {
    const dirOf = joinPath(new URL('../../../models', import.meta.url).pathname, name, from);
    await registry.register(name, {
      onnx: readFileSync(joinPath(dirOf, 'model.onnx')),
      metadata: JSON.parse(readFileSync(joinPath(dirOf, 'metadata.json'), 'utf8')),
      version,
      promoteTo,
      actor: 'scenario',
      reason: `${promoteTo} deployment`,
    });
  };
  await register('credit-risk', '1');
  // credit-risk v2 runs as a shadow challenger: every event is scored by both versions.
  await register('credit-risk', '2', '2', 'challenger');
  await register('delivery-eta', '1');

  const metrics: Record<string, Metrics> = {
    ingest: createMetrics('ingest'),
    'label-joiner': createMetrics('label-joiner'),
    scoring: createMetrics('scoring'),
    'window-metrics': createMetrics('window-metrics'),
    'retrain-trigger': createMetrics('retrain-trigger'),
    api: createMetrics('api'),
  };
  const scorer = createScorer({ registry, logger: testLogger, metrics: metrics.scoring!, fallback: ['previous_version', 'default_score'], now: () => clock });

  // ---- reference profiles: stationary rows scored by the champions -------------------------------
  for (const [i, model] of ['credit-risk', 'delivery-eta'].entries()) {
    const rows = generateRows(model, 9000 + i, 5000);
    const events: FeatureEvent[] = rows.map((r, k) => ({
      event_id: `ref-${model}-${k}`,
      model_name: model,
      entity_id: `e${k}`,
      prediction_id: `ref-${model}-${k}`,
      event_time: startMs - HOUR,
      features: r.features,
      segment: r.segment,
    }));
    const scored = await scorer.scoreEvents(events);
    // One profile per version (the champion's, and the shadow challenger's from its own scores).
    for (const version of model === 'credit-risk' ? ['1', '2'] : ['1']) {
      const refRows = scored.map((o, k) => {
        const p = o.predictions!.find((x) => x.model_version === version)!;
        return {
          features: rows[k]!.features,
          segment: rows[k]!.segment,
          score: p.score,
          probabilities: p.probabilities,
          predicted_label: p.predicted_label,
          predicted_value: p.predicted_value,
          label: rows[k]!.label ?? null,
          target_value: rows[k]!.target ?? null,
          business: businessOutcome(model, rows[k]!),
        };
      });
      await buildAndStoreReferenceProfile(ch, { model, version, rows: refRows, kpis: monitoring.kpis, source: 'scenario-reference', now: startMs - HOUR });
    }
  }

  lap('references');
  const topics = topicNames(ns);
  // The broker: window-metrics and the retrain trigger consume from it for real, and the API measures
  // their groups on it while the stream runs (nothing is produced there before the stream has run, so
  // their lag stays 0 until they run, at the end).
  const kafka = createKafkaAdapter(s, testLogger, `${ns}-scenario`);
  await kafka.ensureTopics(topics);

  // ---- the event stream --------------------------------------------------------------------------
  const scenario: Scenario = {
    name: 'grafana-drift',
    models: ['credit-risk', 'delivery-eta'],
    phases: [
      { name: 'stationary', durationMs: driftStartMs - startMs },
      { name: 'drift', durationMs: 1000 * HOUR, drift: { 'credit-risk': { incomeFactor: 0.75, utilizationShift: 0.15, conceptShift: 2 } } },
    ],
    labelDelay: { kind: 'lognormal', medianMs: 20 * MINUTE, sigma: 0.8 },
    missingLabelRate: 0.05,
  };
  const sim = createSimulatorState(scenario, 42, startMs);
  const joiner = new JoinCore(joinSettingsFor(s, 1), startMs);
  const predictions: PredictionEvent[] = [];
  const labeled: LabeledPrediction[] = [];
  const deadLetterRows: Array<Record<string, unknown>> = [];
  const opsRows: Array<Record<string, unknown>> = [];
  const counts: Record<string, number> = { features: 0, predictions: 0, outcomes: 0, labeled: 0, deadLetters: 0, fallbacks: 0 };
  const codec = createEventCodec(s.SCHEMA_REGISTRY_URL, { maxPayloadBytes: s.MAX_PAYLOAD_BYTES, maxFutureSkewMs: s.MAX_FUTURE_SKEW_MS }, topics);
  let offsets = 0;
  let corrupted = false;
  const m = metrics;

  // The groups the API polls, exactly as services/api/main.ts builds them when API_LAG_GROUPS is empty.
  const lagGroups: LagGroup[] = defaultLagGroups(ns, s.SCORING_CONSUMER_GROUP ?? `${ns}.scoring`);
  const groupOf = (name: string) => lagGroups.find((g) => g.group === name)!;
  const consumerGroups = {
    ingest: `${ns}.ingest`,
    labelJoiner: `${ns}.label-joiner`,
    windowMetrics: `${ns}.window-metrics`,
    scoring: s.SCORING_CONSUMER_GROUP ?? `${ns}.scoring`,
  };
  const log = new SimulatedLog(new Map([consumerGroups.ingest, consumerGroups.labelJoiner, consumerGroups.scoring].map((g) => [g, groupOf(g).topics])));
  const lagSource: Pick<KafkaAdapter, 'consumerLag'> = {
    consumerLag: async (group, groupTopics) => (log.has(group) ? log.consumerLag(group, groupTopics) : kafka.consumerLag(group, groupTopics)),
  };
  const pollLag = async () => {
    // The API's poller (services/api/lib/lag.ts measureLag): every group, into the API's registry.
    await measureLag(lagSource, lagGroups, m.api!, (group, err) => {
      throw new Error(`lag of ${group}: ${(err as Error).message}`);
    });
    // ingest and the label-joiner also report their own group's lag (their main.ts, every 15 s).
    for (const [component, group] of [
      ['ingest', consumerGroups.ingest],
      ['label-joiner', consumerGroups.labelJoiner],
    ] as const) {
      for (const l of await lagSource.consumerLag(group, groupOf(group).topics))
        m[component]!.consumerLag.set({ group, topic: l.topic, partition: String(l.partition) }, l.lag);
    }
  };
  /** One ops sample of a component, as the runtime's sampler takes it (lib/runtime/process.ts). */
  const sample = async (component: string, atMs: number) => {
    for (const r of await sampleRegistry(m[component]!.registry, { component, instance: `${component}-1`, atMs }))
      opsRows.push(r as unknown as Record<string, unknown>);
  };

  // Counters below stand in for the batch handlers of the processors run as cores (see the header):
  // each increment is where that processor's adapter makes it.
  const joinOutputs = (outs: JoinOutput[]) => {
    for (const o of outs) {
      if (o.type === 'emit') {
        labeled.push(o.record);
        m['label-joiner']!.joinOutcomes.inc({ kind: o.record.status === 'LABELED' ? 'labeled' : 'unlabeled' });
        m['label-joiner']!.eventsProduced.inc({ topic: topics.labeledPredictions });
      } else if (o.type === 'late_label') m['label-joiner']!.joinOutcomes.inc({ kind: 'late_label' });
      else if (o.type === 'duplicate_prediction') m['label-joiner']!.joinOutcomes.inc({ kind: 'duplicate_prediction' });
      else m['label-joiner']!.joinOutcomes.inc({ kind: 'duplicate_outcome' });
    }
  };

  const deadLetter = async (topic: string, bytes: Buffer, at: number) => {
    const record: StreamRecord = { topic, partition: 0, offset: String(offsets++), key: null, value: bytes, headers: {}, timestamp: at };
    log.append(topic, 1);
    let result: DecodeResult;
    try {
      const decoded = await codec.decode(topic, bytes, at);
      result = { ok: true, record, kind: 'outcomes', decoded };
    } catch (err) {
      if (!isDriftwatchError(err)) throw err;
      result = { ok: false, record, error: err as DriftwatchError };
    }
    const plan = planBatch([result], at);
    for (const r of plan.rows.dead_letter_events) deadLetterRows.push(r as unknown as Record<string, unknown>);
    for (const d of plan.deadLetters) m.ingest!.deadLetters.inc({ code: d.error.code, topic });
    m.ingest!.eventsConsumed.inc({ topic });
  };

  for (let t = startMs; t < endMs; t += MINUTE) {
    clock = t;
    if (t === corruptChampionAtMs && !corrupted) {
      // A new delivery-eta version is promoted, then its file is corrupted on disk: loads fail the
      // sha256 check and the previous version serves as fallback.
      await register('delivery-eta', '2', '1');
      const info = await registry.getVersion('delivery-eta', '2');
      writeFileSync(joinPath(s.MODEL_DIR, info.path), Buffer.from('not an onnx model'));
      await scorer.refresh('delivery-eta');
      corrupted = true;
    }
    const out = tick(sim, t, t + MINUTE, PER_MINUTE);
    const features = out.features.map((f) =>
      // The upstream bug of the drift phase: age arrives as text in ~30% of credit-risk events.
      t >= driftStartMs && f.model_name === 'credit-risk' && sim.rng() < 0.3 && typeof f.features.age === 'number'
        ? { ...f, features: { ...f.features, age: String(f.features.age) } }
        : f,
    );
    counts.features! += features.length;
    log.append(topics.features, features.length);
    m.scoring!.eventsConsumed.inc({ topic: topics.features }, features.length);
    m.ingest!.eventsConsumed.inc({ topic: topics.features }, features.length);
    // One scoring call per model, as the stream's micro-batches are per model. The CPU-starvation
    // incident is injected inside onnxruntime's session.run (see starveInference): the scorer starts
    // its latency clock before it calls run and stops it after run resolves, so every starved call
    // is measured slow, for every model and every code path (champion, fallback, shadow). Starving
    // the event loop from outside raced with the scorer's own awaits and missed calls on an idle machine.
    starveInference.on = t >= starvationStartMs;
    const preds: PredictionEvent[] = [];
    for (const model of scenario.models) {
      const batch = features.filter((f) => f.model_name === model);
      const scoring = scorer.scoreEvents(batch);
      for (const o of await scoring) preds.push(...(o.predictions ?? []));
    }
    counts.fallbacks! += preds.filter((p) => p.fallback).length;
    predictions.push(...preds);
    counts.predictions! += preds.length;
    log.append(topics.predictions, preds.length);
    m.scoring!.eventsProduced.inc({ topic: topics.predictions }, preds.length);
    m.ingest!.eventsConsumed.inc({ topic: topics.predictions }, preds.length);

    const outcomes = out.outcomes.filter((o) => !(o.model_name === 'delivery-eta' && o.outcome_time >= labelOutageStartMs));
    counts.outcomes! += outcomes.length;
    log.append(topics.outcomes, outcomes.length);
    m.ingest!.eventsConsumed.inc({ topic: topics.outcomes }, outcomes.length);

    // The label-joiner: inputs in event-time order; once it stalls it consumes (and commits) nothing.
    const joinerStalled = t >= joinerStallStartMs;
    if (!joinerStalled) {
      const inputs = [
        ...preds.map((event) => ({ type: 'prediction' as const, event })),
        ...outcomes.map((event) => ({ type: 'outcome' as const, event })),
      ].sort(
        (a, b) => (a.type === 'prediction' ? a.event.event_time : a.event.outcome_time) - (b.type === 'prediction' ? b.event.event_time : b.event.outcome_time),
      );
      for (const input of inputs) joinOutputs(joiner.step(input, t));
      joinOutputs(joiner.tick(t + MINUTE));
      m['label-joiner']!.eventsConsumed.inc({ topic: topics.predictions }, preds.length);
      m['label-joiner']!.eventsConsumed.inc({ topic: topics.outcomes }, outcomes.length);
    }
    const st = joiner.stats();
    m['label-joiner']!.joinPending.set(st.pending);
    m['label-joiner']!.joinPendingBytes.set(st.bytes);

    // Malformed outcomes: one every 30 minutes, then a burst at the end.
    if (t % (30 * MINUTE) === 0) await deadLetter(topics.outcomes, Buffer.from('{"prediction_id": "x", "outcome_time": '), t + 1000);
    if (t >= deadLetterSpikeStartMs) for (let k = 0; k < 8; k++) await deadLetter(topics.outcomes, Buffer.from(`{"broken": ${k}`), t + 1000 + k);

    // The lag poll lands after this minute's events were appended and before the consumers commit
    // them, as a poll between two commits of a busy consumer does: every healthy group shows the
    // events in flight, the stalled joiner its whole backlog.
    await pollLag();
    // Every component running through the stream samples its registry once a simulated minute.
    for (const component of ['ingest', 'label-joiner', 'scoring', 'api']) await sample(component, t + MINUTE - 1);
    log.commit(consumerGroups.ingest);
    log.commit(consumerGroups.scoring);
    if (!joinerStalled) log.commit(consumerGroups.labelJoiner);
  }
  counts.labeled = labeled.length;
  counts.deadLetters = deadLetterRows.length;
  counts.joinerBacklog = log.consumerLag(consumerGroups.labelJoiner, groupOf(consumerGroups.labelJoiner).topics).reduce((n, l) => n + l.lag, 0);

  lap('stream');
  // ---- window-metrics: the real processor, fed through the real Kafka broker ---------------------
  await codec.registerAll();
  const producer = await kafka.producer();
  const send = async (records: OutboundRecord[]) => {
    for (let i = 0; i < records.length; i += 1000) await producer.send(records.slice(i, i + 1000));
  };
  await send(predictions.map((p) => ({ topic: topics.predictions, key: p.prediction_id, value: Buffer.from(JSON.stringify(p)) })));
  await send(labeled.map((l) => ({ topic: topics.labeledPredictions, key: l.prediction_id, value: Buffer.from(JSON.stringify(l)) })));
  // The window-metrics registry, sampled before and after the processor ran. Its counters are its own
  // (processor.ts counts what it consumes). prom-client creates a labelled series on its first
  // increment, so before the processor ran the consumed series would not exist and the first sample
  // after it would count as the series' start (no increase, as in Prometheus); the series are created
  // at their true value then, 0.
  const wm = m['window-metrics']!;
  for (const topic of [topics.predictions, topics.labeledPredictions]) wm.eventsConsumed.inc({ topic }, 0);
  await sample('window-metrics', endMs - 2 * MINUTE);
  lap('produced');
  const proc = await startWindowMetrics({ config, logger: testLogger, instanceId: 'grafana-wm', metrics: wm, clickhouse: ch, kafka, codec, now: () => endMs });
  let published = { retrainRequested: 0, alerts: 0 };
  try {
    try {
      const group = consumerGroups.windowMetrics;
      await waitFor(
        'window-metrics to consume every event',
        async () => committedToEnd(kafka, group, [topics.predictions, topics.labeledPredictions]),
        90_000,
        500,
      );
      lap('consumed');
      const last = endMs - 2 * s.WINDOW_SIZE_MS;
      await waitFor(
        'every window closed by T_end',
        async () => {
          await proc.evaluateNow();
          const rs = await ch.client.query({ query: 'SELECT toUnixTimestamp64Milli(max(window_start)) AS w FROM model_drift_summary', format: 'JSONEachRow' });
          const [r] = await rs.json<{ w: string }>();
          return Number(r?.w ?? 0) >= last;
        },
        60_000,
        500,
      );
      await proc.evaluateNow();
    } finally {
      await proc.stop();
    }
    await sample('window-metrics', endMs - MINUTE);
    lap('evaluated');

    // ---- retrain-trigger: the real processor, at T_end, over every window of the run --------------
    const trigger = await startRetrainTrigger(
      { config, logger: testLogger, metrics: m['retrain-trigger']!, instanceId: 'grafana-rt', clickhouse: async () => ch, kafka: () => kafka },
      { now: () => endMs, loop: false, watchPolicies: false },
    );
    try {
      await trigger.ready;
      // A backlog is worked off over several polls (RETRAIN_MAX_WINDOWS_PER_POLL); the first ran in `ready`.
      for (let polls = 0; (await trigger.pollOnce()).windows > 0; polls++) if (polls > 100) throw new Error('retrain trigger: backlog not worked off');
    } finally {
      await trigger.stop();
    }
    published = {
      retrainRequested: await kafka.readToEnd(topics.retrainRequested, 'all', () => undefined),
      alerts: await kafka.readToEnd(topics.alerts, 'all', () => undefined),
    };
    // The processors that ran at the end, and a last lag poll of every group, sampled at T_end.
    await pollLag();
    for (const component of ['retrain-trigger', 'api']) await sample(component, endMs);
    lap('triggered');
  } finally {
    await producer.disconnect();
    await kafka.disconnect();
  }

  await ch.client.insert({ table: 'dead_letter_events', values: deadLetterRows, format: 'JSONEachRow' });
  // The runtime's sampler inserts each sample as it takes it; here the rows are inserted in a few
  // large batches, the same rows, because thousands of small inserts would dominate the run's time.
  for (let i = 0; i < opsRows.length; i += 20_000)
    await ch.client.insert({ table: 'ops_metrics', values: opsRows.slice(i, i + 20_000), format: 'JSONEachRow' });
  await scorer.close();
  lap('inserted');

  return {
    ch,
    startMs,
    endMs,
    driftStartMs,
    labelOutageStartMs,
    joinerStallStartMs,
    starvationStartMs,
    corruptChampionAtMs,
    deadLetterSpikeStartMs,
    consumerGroups,
    published,
    counts,
    async close() {
      await ch.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
