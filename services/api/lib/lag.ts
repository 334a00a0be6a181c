/**
 * Consumer lag, measured from outside the consumers: for each configured group, the committed offset
 * against the log end offset of each partition (`kafka.consumerLag`), written on a timer to two
 * gauges: `driftwatch_consumer_lag{group,topic,partition}` (messages behind) and
 * `driftwatch_consumer_committed_offset{group,topic,partition}` (the committed offset itself, 0 before
 * the group's first commit), from which the `dw-consumer-stalled` alert rule tells a stalled group
 * (lag, offsets not moving) from a busy one (lag, offsets moving).
 *
 * Measuring from the API rather than inside each processor is deliberate: a stalled or crashed
 * processor exports nothing, which is exactly when its lag matters. It also means these samples,
 * once the ops sampler writes them to ops_metrics, carry component 'api' although they describe
 * other processes' groups: readers key on the `group` label (lib/grafana/ops-metrics.ts).
 *
 * API_LAG_GROUPS entries are `group:topic+topic`, where a topic is a topic key of
 * lib/contracts/topics.ts (resolved in DW_TOPIC_NAMESPACE, e.g. `predictions`) or a full topic name.
 * The topics must be listed because Kafka's OffsetFetch returns only the topics asked for.
 */
import { Gauge, type Registry } from 'prom-client';
import { OPS_METRICS } from '../../../lib/grafana/ops-metrics.js';
import { ConfigInvalidError } from '../../../lib/runtime/errors.js';
import type { KafkaAdapter } from '../../../lib/runtime/kafka.js';
import type { Metrics } from '../../../lib/runtime/metrics.js';
import { TOPIC_SUFFIXES, topicNames, type TopicKey } from '../../../lib/contracts/topics.js';

export interface LagGroup {
  readonly group: string;
  readonly topics: readonly string[];
}

const GROUP = /^[A-Za-z0-9._-]{1,249}$/;

export function parseLagGroups(entries: readonly string[], namespace: string): LagGroup[] {
  const names = topicNames(namespace);
  const problems: string[] = [];
  const out: LagGroup[] = [];
  for (const entry of entries) {
    const [group, topicList, ...rest] = entry.split(':');
    if (!group || !GROUP.test(group) || !topicList || rest.length > 0) {
      problems.push(`API_LAG_GROUPS: ${JSON.stringify(entry)} is not group:topic+topic`);
      continue;
    }
    const topics = topicList.split('+').map((t) => t.trim());
    if (topics.some((t) => !GROUP.test(t))) {
      problems.push(`API_LAG_GROUPS: ${JSON.stringify(entry)} names an invalid topic`);
      continue;
    }
    out.push({ group, topics: topics.map((t) => (t in TOPIC_SUFFIXES ? names[t as TopicKey] : t)) });
  }
  if (problems.length > 0) throw new ConfigInvalidError(problems);
  return out;
}

/**
 * The driftwatch consumer groups and their input topics, used when API_LAG_GROUPS is empty. They
 * mirror the processors' defaults: stream-processors/ingest/main.ts (`<ns>.ingest`, INGEST_TOPIC_KEYS
 * of ingest/core.ts), label-joiner/main.ts (`<ns>.label-joiner`), window-metrics/processor.ts
 * (`<ns>.window-metrics`, predictions + labeled predictions) and services/scoring (SCORING_CONSUMER_GROUP
 * on features). A test pins them against those modules.
 */
export function defaultLagGroups(namespace: string, scoringGroup: string): LagGroup[] {
  return parseLagGroups(
    [
      `${namespace}.ingest:features+predictions+outcomes`,
      `${namespace}.label-joiner:predictions+outcomes`,
      `${namespace}.window-metrics:predictions+labeledPredictions`,
      `${scoringGroup}:features`,
    ],
    namespace,
  );
}

type LagLabels = 'group' | 'topic' | 'partition';

/**
 * The committed-offset gauge of a registry, registered on first use. Only the lag poller sets it, so
 * it is defined here, next to its one writer, rather than in every process's registry
 * (lib/runtime/metrics.ts); a second poller on the same registry gets the same gauge.
 */
export function committedOffsetGauge(registry: Registry): Gauge<LagLabels> {
  const existing = registry.getSingleMetric(OPS_METRICS.consumerCommitted);
  if (existing) return existing as Gauge<LagLabels>;
  return new Gauge({
    name: OPS_METRICS.consumerCommitted,
    help: 'Committed offset of a consumer group per partition (0 before its first commit), measured by the API',
    labelNames: ['group', 'topic', 'partition'],
    registers: [registry],
  });
}

/** One measurement of every group; a group that fails does not stop the others. */
export async function measureLag(
  kafka: Pick<KafkaAdapter, 'consumerLag'>,
  groups: readonly LagGroup[],
  metrics: Metrics,
  onError: (group: string, err: unknown) => void,
): Promise<void> {
  const committed = committedOffsetGauge(metrics.registry);
  await Promise.all(
    groups.map(async ({ group, topics }) => {
      try {
        const lags = await kafka.consumerLag(group, topics);
        for (const l of lags) {
          const labels = { group, topic: l.topic, partition: String(l.partition) };
          metrics.consumerLag.set(labels, l.lag);
          committed.set(labels, l.committed);
        }
      } catch (err) {
        metrics.lagPollErrors.inc({ group });
        onError(group, err);
      }
    }),
  );
}

/** Polls every `intervalMs` (never overlapping measurements); returns a stopper. */
export function startLagPoller(
  kafka: Pick<KafkaAdapter, 'consumerLag'>,
  groups: readonly LagGroup[],
  metrics: Metrics,
  intervalMs: number,
  onError: (group: string, err: unknown) => void,
): () => Promise<void> {
  if (intervalMs <= 0 || groups.length === 0) return async () => undefined;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let current: Promise<void> = Promise.resolve();
  const tick = () => {
    current = measureLag(kafka, groups, metrics, onError).finally(() => {
      if (!stopped) timer = setTimeout(tick, intervalMs);
    });
  };
  tick();
  return async () => {
    stopped = true;
    clearTimeout(timer);
    await current;
  };
}
