/**
 * The retrain-trigger adapter: polls ClickHouse for finalised windows and for the late labels of
 * windows already seen (window-source.ts), runs the pure core, publishes RetrainRequested and Alert
 * events, and records every decision.
 *
 * Delivery guarantee (docs/retrain-events.md, "Guarantees"):
 *
 *  - Publish, then record. For each poll: evaluate -> publish the new events (acks=all, idempotent
 *    producer) -> insert retrain_events and alerts -> insert retrain_decisions (which carry the trigger
 *    state and so are the progress marker) -> only then advance the in-memory state.
 *  - A crash between publish and record re-evaluates the same windows after restart (the state is
 *    restored from the last recorded decision). The core is deterministic, so the event gets the same
 *    idempotency key (for a label step, provided the late labels that arrived meanwhile leave its
 *    decision unchanged: provisional realized rows are read as they are now, docs/retrain-events.md
 *    "Guarantees"); before publishing, the trigger checks the keys already on the retrain topic
 *    (read once per owned partition at startup or takeover, then kept up to date) and does not
 *    publish a key twice. It only records it.
 *  - Several instances share the models through a consumer group on the retrain topic: an instance
 *    owns the models whose key (model_name) hashes to a partition assigned to it, and it publishes
 *    to that partition. When ownership moves, the new owner reads that partition's keys and restores
 *    the state from ClickHouse before it evaluates anything.
 *  - Result: exactly one RetrainRequested per episode on the topic across crashes and restarts of a
 *    single instance, and in steady state across several. During a rebalance an old owner that has
 *    not yet seen its revocation may publish a copy with the *same* idempotency key; retrain_events
 *    (ReplacingMergeTree on (model_name, idempotency_key)) collapses it, and consumers dedup on the
 *    key (subscribeRetrainEvents does). Alerts are at-least-once with a stable alert_id.
 */
import { createEventCodec, type EventCodec } from '../../lib/contracts/codec.js';
import type { Alert, RetrainRequested } from '../../lib/contracts/schemas.js';
import { topicNames, type TopicNames } from '../../lib/contracts/topics.js';
import type { ClickHouse } from '../../lib/runtime/clickhouse/client.js';
import { isDriftwatchError, isRetriable, type PolicyInvalidError } from '../../lib/runtime/errors.js';
import type { KafkaAdapter, OutboundRecord, Producer, RunningConsumer, StreamRecord } from '../../lib/runtime/kafka.js';
import { untilAvailable, type Runtime } from '../../lib/runtime/process.js';
import { evaluate, type TriggerStates, type WindowResult } from './core.js';
import { partitionForKey } from './partition.js';
import { parsePolicies, type Policy } from './policy.js';
import { loadApiPolicies, mergePolicySources } from './api-policies.js';
import { policySetHash, watchPolicyFile, type PolicyWatch } from './policy-watch.js';
import { recordEvaluation, restoreTriggerStates } from './records.js';
import { fetchLabelTotals, fetchWindowResults, selectWindows } from './window-source.js';

export const COMPONENT = 'retrain-trigger';

/** Header carrying the idempotency key on retrain records, so keys are known without decoding. */
export const IDEMPOTENCY_HEADER = 'dw-idempotency-key';

/** The consumer group through which trigger instances share the models of a namespace. */
export function ownershipGroup(namespace: string): string {
  return `${namespace}.retrain-trigger`;
}

export type TriggerRuntime = Pick<Runtime, 'config' | 'logger' | 'metrics' | 'clickhouse' | 'kafka' | 'instanceId'>;

export interface RetrainTriggerOptions {
  /** Wall clock (decided_at, created_at, the settle check). */
  readonly now?: () => number;
  /** Policies to start with; default: the `policies:` section of the startup configuration. */
  readonly policies?: readonly Policy[];
  /** Also apply the policies written through the API (table api_config); default true. */
  readonly apiPolicies?: boolean;
  /** Watch DW_CONFIG_FILE for policy changes and SIGHUP (default true when the file is set). */
  readonly watchPolicies?: boolean;
  /** Run the poll loop (default true). Tests may drive `pollOnce()` themselves. */
  readonly loop?: boolean;
}

export interface PollReport {
  readonly owned: readonly number[];
  /** Windows newly closed (read from model_drift_summary). */
  readonly windows: number;
  /** Windows re-read for their late labels (the labels clock). */
  readonly labelWindows: number;
  readonly decisions: number;
  readonly published: number;
  readonly alreadyPublished: number;
  readonly alerts: number;
}

export interface RetrainTrigger {
  /** Resolves once this instance joined the ownership group and synced its first assignment. */
  readonly ready: Promise<void>;
  pollOnce(): Promise<PollReport>;
  /** Re-reads the policy file now (as SIGHUP does). */
  reloadPolicies(): Promise<string>;
  policies(): readonly Policy[];
  owned(): readonly number[];
  stop(): Promise<void>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function startRetrainTrigger(runtime: TriggerRuntime, options: RetrainTriggerOptions = {}): Promise<RetrainTrigger> {
  const { logger, metrics } = runtime;
  const s = runtime.config.settings;
  const now = options.now ?? Date.now;
  // Two sources (./api-policies.ts): the configuration file's `policies:` section and the policies
  // written through the API; `policies` is their merge, the set in force.
  let filePolicies: readonly Policy[] = options.policies ?? parsePolicies(runtime.config.sections.policies);
  let apiPolicies: readonly Policy[] = [];
  let policies: readonly Policy[] = filePolicies;
  if (policies.length === 0)
    logger.warn({ file: s.DW_CONFIG_FILE ?? null }, 'no retrain policies in the configuration file; the trigger idles until a reload or the API adds some');

  const topics: TopicNames = topicNames(s.DW_TOPIC_NAMESPACE);
  const ch: ClickHouse = await untilAvailable(runtime, 'ClickHouse', () => runtime.clickhouse());
  const kafka: KafkaAdapter = runtime.kafka();
  await untilAvailable(runtime, 'Kafka', () => kafka.ensureTopics(topics));
  const codec: EventCodec = createEventCodec(s.SCHEMA_REGISTRY_URL, { maxPayloadBytes: s.MAX_PAYLOAD_BYTES, maxFutureSkewMs: s.MAX_FUTURE_SKEW_MS }, topics, {
    requestTimeoutMs: s.SCHEMA_REGISTRY_TIMEOUT_MS,
  });
  await untilAvailable(runtime, 'schema registration', () => codec.registerAll());
  const partitions = await untilAvailable(runtime, 'partition count', () => kafka.partitionCount(topics.retrainRequested));
  const producer: Producer = await untilAvailable(runtime, 'producer', () => kafka.producer());

  const publishedKeys = new Set<string>();
  // Alerts published by this process whose record step has not completed yet: when a poll is
  // retried (ClickHouse failed after publishing), its alerts are not published a second time.
  const publishedAlerts = new Set<string>();
  const alertKey = (a: Alert) => `${a.alert_id}:${a.status}`;
  const noteKeys = async (records: readonly StreamRecord[]) => {
    for (const r of records) {
      const k = r.headers[IDEMPOTENCY_HEADER];
      if (k) publishedKeys.add(k);
      else {
        // Published without the header (not by a trigger): decode to learn its key.
        try {
          const d = await codec.decode<RetrainRequested>(topics.retrainRequested, r.value, now());
          publishedKeys.add(d.value.idempotency_key);
        } catch (err) {
          if (isRetriable(err)) throw err;
          // Not a RetrainRequested at all; nothing to remember.
        }
      }
    }
  };

  const consumer: RunningConsumer = await untilAvailable(runtime, 'ownership consumer', () =>
    kafka.runConsumer({
      groupId: ownershipGroup(s.DW_TOPIC_NAMESPACE),
      topics: [topics.retrainRequested],
      component: COMPONENT,
      deadLetterTopic: topics.deadLetter,
      fromBeginning: false,
      async handleBatch(records) {
        await noteKeys(records);
        return { deadLetters: [] };
      },
    }),
  );

  let triggers: TriggerStates = {};
  let ownedNow: number[] = [];
  let synced: Set<number> | null = null;
  let needsRestore = true;

  const modelsOwned = (owned: ReadonlySet<number>) => [...new Set(policies.map((p) => p.model))].filter((m) => owned.has(partitionForKey(m, partitions)));

  async function syncOwnership(): Promise<Set<number>> {
    const owned = new Set(
      consumer
        .assigned()
        .filter((tp) => tp.topic === topics.retrainRequested)
        .map((tp) => tp.partition),
    );
    const changed = synced === null || owned.size !== synced.size || [...owned].some((p) => !synced!.has(p));
    if (!changed && !needsRestore) return owned;
    const gained = [...owned].filter((p) => !synced?.has(p));
    if (gained.length > 0) {
      // Keys already on the topic for these partitions: a previous owner (or this process before a
      // crash) may have published an event it did not get to record.
      const scanned: StreamRecord[] = [];
      await kafka.readToEnd(topics.retrainRequested, gained, (r) => scanned.push(r));
      await noteKeys(scanned);
    }
    const models = modelsOwned(owned);
    // ClickHouse holds the truth: in-memory state is never ahead of the recorded decisions.
    triggers = await restoreTriggerStates(
      ch,
      policies.map((p) => p.id),
      models,
    );
    synced = owned;
    needsRestore = false;
    ownedNow = [...owned].sort((a, b) => a - b);
    logger.info({ owned: ownedNow, partitions, models, restored: Object.keys(triggers).length, knownKeys: publishedKeys.size }, 'ownership synced');
    return owned;
  }

  function toRecords(events: readonly RetrainRequested[], alerts: readonly Alert[]) {
    return Promise.all([
      ...events.map(async (e): Promise<OutboundRecord> => ({
        topic: topics.retrainRequested,
        key: e.model_name,
        partition: partitionForKey(e.model_name, partitions),
        value: await codec.encode(topics.retrainRequested, e),
        headers: { [IDEMPOTENCY_HEADER]: e.idempotency_key },
      })),
      ...alerts.map(async (a): Promise<OutboundRecord> => ({
        topic: topics.alerts,
        key: a.model_name,
        value: await codec.encode(topics.alerts, a),
        headers: { 'dw-alert-id': a.alert_id },
      })),
    ]);
  }

  let apiCheckedAt = -Infinity;
  let apiProblems = '';
  /** Re-reads the API's policies at most every RETRAIN_POLICY_RELOAD_MS (always on the first poll). */
  async function refreshApiPolicies(): Promise<void> {
    if (options.apiPolicies === false) return;
    const at = now();
    if (at - apiCheckedAt < s.RETRAIN_POLICY_RELOAD_MS) return;
    const loaded = await loadApiPolicies(ch);
    apiCheckedAt = at;
    const problems = loaded.problems.join('\n');
    if (problems !== apiProblems && problems !== '') {
      metrics.policyReloads.inc({ result: 'invalid' });
      logger.error({ problems: loaded.problems }, 'stored API retrain policies are invalid; they are left out');
    }
    apiProblems = problems;
    apiPolicies = loaded.policies;
    recomputePolicies();
  }

  async function poll(): Promise<PollReport> {
    const owned = await syncOwnership();
    await refreshApiPolicies();
    const empty = { owned: ownedNow, windows: 0, labelWindows: 0, decisions: 0, published: 0, alreadyPublished: 0, alerts: 0 };
    const models = modelsOwned(owned);
    if (models.length === 0) return empty;
    const at = now();
    const selection = selectWindows(policies, triggers, models, at - s.RETRAIN_BACKFILL_MS);
    const [windows, labelTotals] = await Promise.all([
      fetchWindowResults(ch, { selection, settledBefore: at - s.RETRAIN_SETTLE_MS, limit: s.RETRAIN_MAX_WINDOWS_PER_POLL }),
      fetchLabelTotals(ch, selection.labelCounts),
    ]);
    if (windows.length === 0) return empty;
    const closed = windows.filter((w: WindowResult) => !w.labelsOnly).length;
    const out = evaluate({ policies, triggers }, windows, at, { labelTotals });
    const fresh = out.retrainEvents.filter((e) => !publishedKeys.has(e.idempotency_key));
    const already = out.retrainEvents.length - fresh.length;
    if (already > 0) {
      logger.warn(
        { keys: out.retrainEvents.filter((e) => publishedKeys.has(e.idempotency_key)).map((e) => e.idempotency_key) },
        'retrain event already on the topic (published before a crash or by a previous owner); recording it without publishing again',
      );
    }
    const freshAlerts = out.alerts.filter((a) => !publishedAlerts.has(alertKey(a)));
    const records = await toRecords(fresh, freshAlerts);
    await producer.send(records);
    for (const e of fresh) publishedKeys.add(e.idempotency_key);
    for (const a of freshAlerts) publishedAlerts.add(alertKey(a));
    metrics.eventsProduced.inc({ topic: topics.retrainRequested }, fresh.length);
    metrics.eventsProduced.inc({ topic: topics.alerts }, freshAlerts.length);
    await recordEvaluation(ch, out);
    for (const a of out.alerts) publishedAlerts.delete(alertKey(a));
    triggers = out.state.triggers;
    for (const d of out.decisions) metrics.retrainDecisions.inc({ policy: d.policyId, decision: d.decision, reason: d.reason });
    for (const e of fresh) {
      logger.info(
        { idempotency_key: e.idempotency_key, policy: e.policy_id, model: e.model_name, version: e.model_version, drifted_features: e.drifted_features },
        'retrain requested',
      );
    }
    return {
      owned: ownedNow,
      windows: closed,
      labelWindows: windows.length - closed,
      decisions: out.decisions.length,
      published: fresh.length,
      alreadyPublished: already,
      alerts: out.alerts.length,
    };
  }

  // One poll at a time, whether from the loop or from pollOnce().
  let chain: Promise<unknown> = Promise.resolve();
  const pollOnce = (): Promise<PollReport> => {
    const next = chain.then(poll, poll);
    chain = next.catch(() => undefined);
    return next;
  };

  let watch: PolicyWatch | undefined;
  const applyPolicies = (next: readonly Policy[]) => {
    policies = next;
    needsRestore = true; // a policy or model may be new to this instance: restore its state
    metrics.policyReloads.inc({ result: 'applied' });
    const fromApi = new Set(apiPolicies.map((p) => p.id));
    logger.info(
      { policies: next.map((p) => ({ id: p.id, model: p.model, hash: p.hash, source: fromApi.has(p.id) ? 'api' : 'file' })) },
      'retrain policies reloaded',
    );
  };
  function recomputePolicies(): void {
    const next = mergePolicySources(filePolicies, apiPolicies);
    if (policySetHash(next) !== policySetHash(policies)) applyPolicies(next);
  }
  if (s.DW_CONFIG_FILE && options.watchPolicies !== false) {
    watch = watchPolicyFile({
      file: s.DW_CONFIG_FILE,
      intervalMs: s.RETRAIN_POLICY_RELOAD_MS,
      initial: policies,
      onReload: (next) => {
        filePolicies = next;
        recomputePolicies();
      },
      onInvalid: (err: PolicyInvalidError) => {
        metrics.policyReloads.inc({ result: 'invalid' });
        logger.error({ problems: err.details.problems }, 'retrain policy file is invalid; keeping the policies in force');
      },
      onError: (err) => logger.warn({ err: err.message }, 'cannot read the policy file; will retry'),
    });
  }

  let stopped = false;
  let loopDone: Promise<void> = Promise.resolve();
  const ready = consumer.joined.then(async () => {
    await pollOnce().catch(() => undefined);
  });
  if (options.loop !== false) {
    loopDone = (async () => {
      await consumer.joined;
      let failures = 0;
      while (!stopped) {
        let delay = s.RETRAIN_POLL_INTERVAL_MS;
        try {
          const report = await pollOnce();
          failures = 0;
          // Work a backlog off without waiting a full interval.
          if (report.windows >= s.RETRAIN_MAX_WINDOWS_PER_POLL) delay = 0;
        } catch (err) {
          failures += 1;
          delay = Math.min(s.RETRY_INITIAL_MS * 2 ** (failures - 1), s.RETRY_MAX_MS);
          const code = isDriftwatchError(err) ? err.code : 'UNKNOWN';
          metrics.retries.inc({ code });
          logger[isRetriable(err) ? 'warn' : 'error'](
            { err: isDriftwatchError(err) ? err.toJSON() : { message: (err as Error)?.message, stack: (err as Error)?.stack }, failures, delay },
            'retrain poll failed; nothing was recorded for these windows, retrying',
          );
        }
        const until = Date.now() + delay;
        while (!stopped && Date.now() < until) await sleep(Math.min(200, until - Date.now()));
      }
    })();
  }

  logger.info(
    { topic: topics.retrainRequested, partitions, group: ownershipGroup(s.DW_TOPIC_NAMESPACE), policies: policies.map((p) => p.id) },
    'retrain trigger started',
  );

  return {
    ready,
    pollOnce,
    reloadPolicies: async () => (watch ? watch.check(true) : 'unchanged'),
    policies: () => policies,
    owned: () => ownedNow,
    async stop() {
      stopped = true;
      watch?.stop();
      await loopDone.catch(() => undefined);
      await chain.catch(() => undefined);
      await consumer.stop().catch(() => undefined);
      await producer.disconnect().catch(() => undefined);
    },
  };
}
