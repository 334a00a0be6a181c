/**
 * Shared by the label-joiner integration tests: a seeded dataset with every join case, its
 * production to a namespace, the expected result computed by the pure core (an oracle that knows
 * nothing about Kafka), child processes running `stream-processors/label-joiner/main.ts`, and the
 * query-visible result read back from ClickHouse.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { EventCodec } from '../../../lib/contracts/codec.js';
import type { OutcomeEvent, PredictionEvent } from '../../../lib/contracts/schemas.js';
import type { TopicNames } from '../../../lib/contracts/topics.js';
import { openClickHouse, type ClickHouse } from '../../../lib/runtime/clickhouse/client.js';
import { migrate } from '../../../lib/runtime/clickhouse/migrations.js';
import type { KafkaAdapter, OutboundRecord } from '../../../lib/runtime/kafka.js';
import { mulberry32, randInt } from '../../../lib/stats/random.js';
import { eventHash, JoinCore, joinSettingsFor, type JoinInput, type JoinOutput } from '../../../stream-processors/label-joiner/core.js';
import { stackEnv, testConfig } from '../../support/stack.js';

export const PARTITIONS = 4;

/** Join settings of these tests (event time compressed: predictions 200 ms apart). */
export const JOIN_ENV = {
  JOIN_MAX_LABEL_DELAY_MS: '600000',
  JOIN_WATERMARK_DELAY_MS: '30000',
  JOIN_CLOSED_RETENTION_MS: '600000',
  JOIN_IDLE_TIMEOUT_MS: '60000',
} as const;

export type Encoding = 'avro' | 'json';

export interface DataRecord {
  readonly topic: 'predictions' | 'outcomes';
  readonly partition: number;
  readonly key: string;
  readonly event: PredictionEvent | OutcomeEvent;
  readonly encoding: Encoding;
  /** Raw bytes instead of the encoded event (a poison record). */
  readonly raw?: Buffer;
}

export interface Dataset {
  /** In production order, per phase (each stream in event-time order within the disorder bound). */
  readonly phases: readonly DataRecord[][];
  /** Predictions/outcomes that are expected in the tables (everything minus poison). */
  readonly poisonCount: number;
}

export function partitionOf(id: string): number {
  return eventHash(id) % PARTITIONS;
}

/**
 * `n` predictions 200 ms apart from t0, with: shadow variants (every 10th), duplicate predictions
 * (every 25th) and redeliveries (every 30th), outcomes for ~75% (delays up to 12 min, so some are
 * over the 10 min maximum; some at delay 0, read before their prediction), corrections (5%),
 * outcomes without a prediction (2%), and 2 poison records. Split into `phases` by time; the last
 * phase ends with one sentinel prediction and outcome per partition far enough ahead to push every
 * partition's watermark past every deadline.
 */
export function joinDataset(seed: number, n: number, t0: number, phases = 1): Dataset {
  const rng = mulberry32(seed);
  const preds: { t: number; r: DataRecord }[] = [];
  const outs: { t: number; r: DataRecord }[] = [];
  const enc = (): Encoding => (rng() < 0.2 ? 'json' : 'avro');
  const jitter = () => randInt(rng, 5_000); // well below the 30 s watermark delay
  for (let i = 0; i < n; i++) {
    const id = `pred-${seed}-${i}`;
    const p = partitionOf(id);
    const t = t0 + i * 200;
    const model = i % 3 === 0 ? 'fraud' : 'churn';
    const pe = (over: Partial<PredictionEvent> = {}): PredictionEvent => ({
      event_id: `pe-${id}`,
      prediction_id: id,
      model_name: model,
      model_version: 'v1',
      event_time: t,
      features: { amount: Math.round(rng() * 10_000) / 100, country: rng() < 0.5 ? 'fr' : 'de', vip: rng() < 0.1, missing: null },
      score: Math.round(rng() * 1000) / 1000,
      probabilities: {},
      predicted_label: rng() < 0.5 ? '1' : '0',
      predicted_value: null,
      latency_ms: 1,
      segment: { region: rng() < 0.5 ? 'eu' : 'us' },
      is_shadow: false,
      fallback: null,
      ...over,
    });
    const base = pe();
    preds.push({ t: t + jitter(), r: { topic: 'predictions', partition: p, key: id, event: base, encoding: enc() } });
    if (i % 10 === 0)
      preds.push({
        t: t + jitter(),
        r: { topic: 'predictions', partition: p, key: id, event: pe({ event_id: `pe-${id}-shadow`, model_version: 'v2', is_shadow: true }), encoding: enc() },
      });
    if (i % 25 === 0)
      preds.push({ t: t + jitter(), r: { topic: 'predictions', partition: p, key: id, event: pe({ event_id: `pe-${id}-dup`, score: 0.5 }), encoding: enc() } });
    if (i % 30 === 0) preds.push({ t: t + jitter(), r: { topic: 'predictions', partition: p, key: id, event: base, encoding: enc() } });
    const u = rng();
    const oe = (over: Partial<OutcomeEvent> & { outcome_time: number }): OutcomeEvent => ({
      event_id: `oe-${id}`,
      prediction_id: id,
      model_name: model,
      label: rng() < 0.5 ? '1' : '0',
      target_value: null,
      business: { revenue: Math.round(rng() * 100) },
      ...over,
    });
    if (u < 0.75) {
      const delay = u < 0.05 ? 0 : randInt(rng, 720_000);
      const ot = t + delay;
      outs.push({ t: ot + jitter(), r: { topic: 'outcomes', partition: p, key: id, event: oe({ outcome_time: ot }), encoding: enc() } });
      if (i % 20 === 0)
        outs.push({
          t: ot + 5_000 + jitter(),
          r: {
            topic: 'outcomes',
            partition: p,
            key: id,
            event: oe({ event_id: `oe-${id}-corr`, outcome_time: ot + 5_000, label: 'corrected' }),
            encoding: enc(),
          },
        });
    } else if (u < 0.77) {
      const ghost = `ghost-${seed}-${i}`;
      outs.push({
        t: t + jitter(),
        r: {
          topic: 'outcomes',
          partition: partitionOf(ghost),
          key: ghost,
          event: oe({ event_id: `oe-${ghost}`, prediction_id: ghost, outcome_time: t }),
          encoding: enc(),
        },
      });
    }
  }
  const order = <T extends { t: number }>(xs: T[]) => xs.sort((a, b) => a.t - b.t);
  order(preds);
  order(outs);
  const tEnd = t0 + n * 200;
  const cut = (k: number) => t0 + Math.round(((tEnd - t0) * k) / phases);
  const result: DataRecord[][] = [];
  for (let k = 0; k < phases; k++) {
    const inPhase = (x: { t: number }) => x.t >= (k === 0 ? -Infinity : cut(k)) && x.t < (k === phases - 1 ? Infinity : cut(k + 1));
    result.push([...preds.filter(inPhase).map((x) => x.r), ...outs.filter(inPhase).map((x) => x.r)]);
  }
  // Poison: undecodable bytes, and a valid prediction whose key is not its prediction_id.
  const poison: DataRecord[] = [
    { topic: 'predictions', partition: 0, key: 'poison-bytes', event: preds[0]!.r.event, encoding: 'avro', raw: Buffer.from([0x07, 1, 2, 3]) },
    {
      topic: 'predictions',
      partition: 1,
      key: 'not-the-id',
      event: { ...(preds[1]!.r.event as PredictionEvent), event_id: 'pe-miskeyed', prediction_id: 'miskeyed' },
      encoding: 'json',
    },
  ];
  result[0]!.splice(Math.floor(result[0]!.length / 3), 0, ...poison);
  // Sentinels: past the last outcome (t + 12 min) + the 10 min delay + the 30 s watermark delay.
  const sentinel = tEnd + 25 * 60_000;
  for (let p = 0; p < PARTITIONS; p++) {
    const id = `zz-sentinel-${seed}-${p}`;
    result[phases - 1]!.push({
      topic: 'predictions',
      partition: p,
      key: id,
      event: { ...(preds[0]!.r.event as PredictionEvent), event_id: `pe-${id}`, prediction_id: id, event_time: sentinel },
      encoding: 'avro',
    });
    result[phases - 1]!.push({
      topic: 'outcomes',
      partition: p,
      key: id,
      event: { event_id: `oe-${id}`, prediction_id: id, model_name: 'churn', outcome_time: sentinel, label: '1', target_value: null, business: {} },
      encoding: 'avro',
    });
  }
  return { phases: result, poisonCount: poison.length };
}

export async function produce(kafka: KafkaAdapter, codec: EventCodec, topics: TopicNames, records: readonly DataRecord[]): Promise<void> {
  const producer = await kafka.producer();
  const out: OutboundRecord[] = [];
  for (const r of records) {
    const topic = topics[r.topic];
    const value = r.raw ?? (r.encoding === 'json' ? Buffer.from(JSON.stringify(r.event)) : await codec.encode(topic, r.event));
    out.push({ topic, key: r.key, value, partition: r.partition });
  }
  for (let i = 0; i < out.length; i += 500) await producer.send(out.slice(i, i + 500));
  await producer.disconnect();
}

/** The visible result a correct run must produce: labeled rows by identity, late labels by outcome id. */
export interface Visible {
  readonly labeled: Map<string, string>;
  readonly late: Map<string, string>;
}

const labeledKey = (r: { model_name: string; model_version: string; is_shadow: boolean; prediction_id: string }) =>
  `${r.model_name}|${r.model_version}|${r.is_shadow ? 1 : 0}|${r.prediction_id}`;
const labeledValue = (r: { status: string; outcome_event_id: string | null; label: string | null; label_delay_ms: number | null; score: number | null }) =>
  `${r.status}|${r.outcome_event_id}|${r.label}|${r.label_delay_ms}|${r.score}`;

/** Runs the pure core per partition over the dataset (poison excluded), the way the processor should. */
export function oracle(d: Dataset): Visible {
  const cfg = testConfig({ ...JOIN_ENV });
  const settings = joinSettingsFor(cfg.settings, PARTITIONS);
  const labeled = new Map<string, string>();
  const late = new Map<string, string>();
  const all = d.phases.flat().filter((r) => !r.raw && r.key === r.event.prediction_id);
  for (let p = 0; p < PARTITIONS; p++) {
    const core = new JoinCore(settings, 0);
    const inputs: JoinInput[] = all
      .filter((r) => r.partition === p)
      .map((r) =>
        r.topic === 'predictions' ? { type: 'prediction', event: r.event as PredictionEvent } : { type: 'outcome', event: r.event as OutcomeEvent },
      );
    // Stable merge: predictions and outcomes each keep their production order.
    const outputs: JoinOutput[] = inputs.flatMap((i) => core.step(i, 0));
    for (const o of outputs) {
      if (o.type === 'emit') {
        const prev = labeled.get(labeledKey(o.record));
        if (!prev?.startsWith('LABELED')) labeled.set(labeledKey(o.record), labeledValue(o.record));
      } else if (o.type === 'late_label') late.set(o.outcome.event_id, o.reason);
    }
  }
  return { labeled, late };
}

export async function openDatabase(url: string, database: string): Promise<ClickHouse> {
  const cfg = testConfig({ CLICKHOUSE_URL: url, CLICKHOUSE_DATABASE: database });
  const ch = await openClickHouse(cfg.settings);
  await migrate(ch, cfg.settings);
  return ch;
}

export async function readVisible(ch: ClickHouse): Promise<Visible & { rawLabeledRows: number }> {
  const rows = await (
    await ch.client.query({
      query:
        'SELECT prediction_id, model_name, model_version, is_shadow, status, outcome_event_id, label, label_delay_ms, score FROM labeled_predictions FINAL',
      format: 'JSONEachRow',
    })
  ).json<{
    prediction_id: string;
    model_name: string;
    model_version: string;
    is_shadow: boolean;
    status: string;
    outcome_event_id: string | null;
    label: string | null;
    label_delay_ms: number | null;
    score: number | null;
  }>();
  const labeled = new Map<string, string>();
  for (const r of rows) {
    const k = labeledKey(r);
    if (labeled.has(k)) throw new Error(`labeled_predictions FINAL holds ${k} twice`);
    labeled.set(k, labeledValue({ ...r, label_delay_ms: r.label_delay_ms === null ? null : Number(r.label_delay_ms) }));
  }
  const lateRows = await (
    await ch.client.query({ query: 'SELECT outcome_event_id, reason FROM late_labels FINAL', format: 'JSONEachRow' })
  ).json<{ outcome_event_id: string; reason: string }>();
  const late = new Map<string, string>();
  for (const r of lateRows) {
    if (late.has(r.outcome_event_id)) throw new Error(`late_labels FINAL holds ${r.outcome_event_id} twice`);
    late.set(r.outcome_event_id, r.reason);
  }
  const raw = await (await ch.client.query({ query: 'SELECT count() AS n FROM labeled_predictions', format: 'JSONEachRow' })).json<{ n: number }>();
  return { labeled, late, rawLabeledRows: Number(raw[0]!.n) };
}

export async function countVisible(ch: ClickHouse): Promise<{ labeled: number; late: number }> {
  const [a] = await (
    await ch.client.query({
      query: 'SELECT (SELECT count() FROM labeled_predictions FINAL) AS labeled, (SELECT count() FROM late_labels FINAL) AS late',
      format: 'JSONEachRow',
    })
  ).json<{ labeled: number; late: number }>();
  return { labeled: Number(a!.labeled), late: Number(a!.late) };
}

// ---- child processes -----------------------------------------------------------------------------

const MAIN = fileURLToPath(new URL('../../../stream-processors/label-joiner/main.ts', import.meta.url));

export interface JoinerProcess {
  readonly name: string;
  readonly child: ChildProcess;
  /** Parsed pino log lines (stdout). */
  readonly logs: Record<string, unknown>[];
  readonly stderr: string[];
  readonly exited: Promise<number | null>;
  logged(msg: string): Record<string, unknown>[];
}

export function spawnJoiner(name: string, env: Record<string, string>): JoinerProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN], {
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '',
      TZ: 'UTC',
      ...stackEnv(),
      LOG_LEVEL: 'debug',
      METRICS_PORT: '0',
      DW_INSTANCE_ID: name,
      KAFKA_SESSION_TIMEOUT_MS: '6000',
      KAFKA_HEARTBEAT_INTERVAL_MS: '500',
      RETRY_INITIAL_MS: '100',
      RETRY_MAX_MS: '1000',
      ...JOIN_ENV,
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: Record<string, unknown>[] = [];
  const stderr: string[] = [];
  let buf = '';
  child.stdout!.on('data', (chunk: Buffer) => {
    buf += chunk.toString('utf8');
    let i;
    while ((i = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 1);
      try {
        logs.push(JSON.parse(line) as Record<string, unknown>);
      } catch {
        stderr.push(line);
      }
    }
  });
  child.stderr!.on('data', (chunk: Buffer) => stderr.push(chunk.toString('utf8')));
  // 'close' (not 'exit'): it fires after the child's stdout is drained, so no log line is missed.
  const exited = new Promise<number | null>((r) => child.once('close', (code) => r(code)));
  return { name, child, logs, stderr, exited, logged: (msg) => logs.filter((l) => l.msg === msg) };
}

export function describeProcess(p: JoinerProcess): string {
  const interesting = p.logs.filter((l) => (l.level as number) >= 40 || /restor|dropped|started|assigned|crash|fail|batch|written/.test(String(l.msg)));
  return `${p.name}: ${interesting.map((l) => JSON.stringify(l)).join('\n')}\nstderr: ${p.stderr.join('').slice(-3000)}`;
}
