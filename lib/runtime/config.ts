/**
 * Configuration: one declarative table of settings, read once at startup, validated as a whole,
 * deep-frozen.
 *
 * Sources, highest precedence first: environment variables, then an optional YAML file named by
 * DW_CONFIG_FILE, then the defaults below. The YAML file holds the same keys as the environment
 * (e.g. `KAFKA_BROKERS: ...`) plus structured sections (`models:`, `kpis:`, `policies:` ...) that
 * the domain modules validate themselves (see `sections`).
 *
 * Every problem is collected before failing (kafkajs' misconfiguration checks fail fast on the first
 * problem; an operator fixing a deployment wants the whole list at once). Cross-field rules live in
 * CROSS_FIELD_RULES. `.env.example` must list every key; a test pins that.
 */
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { ConfigInvalidError } from './errors.js';

type Kind = 'string' | 'int' | 'number' | 'bool' | 'list' | 'url' | 'enum';

interface SettingSpec {
  readonly kind: Kind;
  readonly default?: string | number | boolean | readonly string[];
  readonly doc: string;
  readonly min?: number;
  readonly max?: number;
  readonly values?: readonly string[];
  /** Secrets are never echoed back in error messages or logs. */
  readonly secret?: boolean;
  readonly optional?: boolean;
}

/**
 * The settings table. Keys are the environment variable names. Order here is the order of
 * `.env.example`.
 */
export const SETTINGS = {
  // --- process --------------------------------------------------------------------------------
  LOG_LEVEL: { kind: 'enum', values: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], default: 'info', doc: 'pino log level' },
  DW_INSTANCE_ID: { kind: 'string', optional: true, doc: 'Name of this process instance in logs and consumer client ids (default: hostname-pid)' },
  OPS_SAMPLE_INTERVAL_MS: {
    kind: 'int',
    min: 0,
    max: 3_600_000,
    default: 10_000,
    doc: 'How often each process writes its Prometheus metrics into ClickHouse ops_metrics for the Pipeline operations dashboard (0 = off)',
  },
  METRICS_PORT: { kind: 'int', min: 0, max: 65535, default: 0, doc: 'Port of the per-process Prometheus /metrics listener for processors (0 = disabled)' },
  METRICS_HOST: {
    kind: 'string',
    default: '127.0.0.1',
    doc: "Listen address of the processors' /metrics listener (0.0.0.0 in containers, so Prometheus in another container can scrape it)",
  },
  // --- kafka ----------------------------------------------------------------------------------
  KAFKA_BROKERS: { kind: 'list', default: ['127.0.0.1:19092'], doc: 'Comma-separated Kafka bootstrap brokers' },
  KAFKA_CLIENT_ID: { kind: 'string', default: 'driftwatch', doc: 'Kafka client id prefix' },
  DW_TOPIC_NAMESPACE: { kind: 'string', default: 'driftwatch', doc: 'Topic name prefix: topics are <namespace>.<name>.v1 (e.g. driftwatch.predictions.v1)' },
  KAFKA_TOPIC_PARTITIONS: { kind: 'int', min: 1, max: 1024, default: 4, doc: 'Partitions for topics driftwatch creates (input topics must be co-partitioned)' },
  KAFKA_REPLICATION_FACTOR: { kind: 'int', min: 1, max: 7, default: 1, doc: 'Replication factor for topics driftwatch creates' },
  KAFKA_SESSION_TIMEOUT_MS: { kind: 'int', min: 3000, default: 30000, doc: 'Consumer group session timeout' },
  KAFKA_HEARTBEAT_INTERVAL_MS: { kind: 'int', min: 100, default: 3000, doc: 'Consumer heartbeat interval; must be below the session timeout' },
  SCHEMA_REGISTRY_URL: { kind: 'url', default: 'http://127.0.0.1:18081/apis/ccompat/v7', doc: 'Confluent-compatible schema registry base URL' },
  SCHEMA_REGISTRY_TIMEOUT_MS: {
    kind: 'int',
    min: 100,
    default: 10_000,
    doc: 'Timeout of one schema registry request; a timed-out lookup is retried with backoff like an outage',
  },
  // --- clickhouse -----------------------------------------------------------------------------
  CLICKHOUSE_URL: { kind: 'url', optional: true, doc: 'ClickHouse HTTP URL. Unset: embedded engine (chdb) on CLICKHOUSE_DATA_DIR' },
  CLICKHOUSE_USER: { kind: 'string', default: 'default', doc: 'ClickHouse user (server mode)' },
  CLICKHOUSE_PASSWORD: { kind: 'string', default: '', secret: true, doc: 'ClickHouse password (server mode)' },
  CLICKHOUSE_DATABASE: { kind: 'string', default: 'driftwatch', doc: 'Database holding driftwatch tables' },
  CLICKHOUSE_HTTP_PORT: {
    kind: 'int',
    min: 0,
    max: 65535,
    default: 18123,
    doc: 'Port where the launcher serves the embedded engine over the ClickHouse HTTP protocol (chdb-http) to the other processes',
  },
  CLICKHOUSE_DATA_DIR: { kind: 'string', default: '.local/clickhouse', doc: 'Data directory of the embedded engine (one process per directory)' },
  RAW_EVENTS_TTL_DAYS: { kind: 'int', min: 1, max: 3650, default: 30, doc: 'TTL of raw event tables' },
  METRICS_TTL_DAYS: { kind: 'int', min: 1, max: 3650, default: 400, doc: 'TTL of windowed metric tables' },
  // --- ingest ---------------------------------------------------------------------------------
  INGEST_BATCH_MAX_ROWS: { kind: 'int', min: 1, max: 1_000_000, default: 5000, doc: 'Rows per ClickHouse insert batch' },
  INGEST_BATCH_MAX_WAIT_MS: { kind: 'int', min: 1, max: 600_000, default: 500, doc: 'Longest a partial batch waits before it is flushed' },
  MAX_PAYLOAD_BYTES: { kind: 'int', min: 64, max: 16_777_216, default: 262144, doc: 'Events larger than this are dead-lettered (DW_PAYLOAD_TOO_LARGE)' },
  MAX_FUTURE_SKEW_MS: { kind: 'int', min: 0, default: 3_600_000, doc: 'Events timestamped further than this in the future are dead-lettered' },
  RETRY_INITIAL_MS: { kind: 'int', min: 1, default: 200, doc: 'First backoff after a retriable failure' },
  RETRY_MAX_MS: { kind: 'int', min: 1, default: 10_000, doc: 'Backoff ceiling for retriable failures' },
  // --- join -----------------------------------------------------------------------------------
  JOIN_MAX_LABEL_DELAY_MS: { kind: 'int', min: 1, default: 86_400_000, doc: 'Event-time wait for an outcome before a prediction is emitted as unlabeled' },
  JOIN_WATERMARK_DELAY_MS: { kind: 'int', min: 0, default: 60_000, doc: 'Watermark = max event time seen - this delay' },
  // ~600 B of heap each (docs/benchmarks.md, "Join"): the default holds ~860 MiB of pending state,
  // inside the 1 GiB heap target of issue 4 (2M would be ~1.1 GiB).
  JOIN_MAX_PENDING: {
    kind: 'int',
    min: 1,
    default: 1_500_000,
    doc: "Upper bound on pending predictions per instance, split evenly over the input partitions; beyond a partition's share the oldest expire early (UNLABELED). About 600 bytes of heap each (the default is ~860 MiB)",
  },
  JOIN_MAX_ORPHANS: {
    kind: 'int',
    min: 1,
    default: 500_000,
    doc: 'Upper bound on buffered outcomes (waiting for their prediction, or remembered after use) per instance, split over the partitions; beyond it remembered ones are forgotten first, then the oldest waiting ones go to late_labels as orphan_evicted',
  },
  JOIN_CLOSED_RETENTION_MS: {
    kind: 'int',
    min: 0,
    default: 600_000,
    doc: 'Event time a joined or expired prediction is remembered (dedup of redelivered events, after_expiry classification of late outcomes)',
  },
  JOIN_MAX_CLOSED: {
    kind: 'int',
    min: 1,
    default: 2_000_000,
    doc: 'Upper bound on remembered closed predictions per instance, split over the partitions; beyond it the oldest are forgotten',
  },
  JOIN_IDLE_TIMEOUT_MS: {
    kind: 'int',
    min: 1,
    default: 60_000,
    doc: 'Wall time after which an input (predictions or outcomes) without new records stops holding back the join watermark',
  },
  // --- windows --------------------------------------------------------------------------------
  WINDOW_SIZE_MS: { kind: 'int', min: 1000, default: 300_000, doc: 'Tumbling event-time window size' },
  WINDOW_ALLOWED_LATENESS_MS: { kind: 'int', min: 0, default: 60_000, doc: 'Events later than watermark + this are counted as late, not added' },
  WINDOW_EVAL_INTERVAL_MS: {
    kind: 'int',
    min: 50,
    max: 600_000,
    default: 1000,
    doc: 'How often window-metrics looks for windows whose watermark passed (and re-evaluates provisional performance)',
  },
  WINDOW_PROFILE_REFRESH_MS: {
    kind: 'int',
    min: 0,
    default: 30_000,
    doc: 'How often window-metrics reloads reference profiles (a new profile applies to windows opened after it is loaded)',
  },
  WINDOW_FETCH_MAX_BYTES: {
    kind: 'int',
    min: 65_536,
    max: 268_435_456,
    default: 4_194_304,
    doc: 'window-metrics: bytes fetched per partition per batch (larger batches amortise the state checkpoint)',
  },
  // --- api ------------------------------------------------------------------------------------
  API_HOST: { kind: 'string', default: '127.0.0.1', doc: 'API listen address' },
  API_PORT: { kind: 'int', min: 0, max: 65535, default: 8080, doc: 'API listen port' },
  API_WRITE_TOKENS: { kind: 'list', default: [], secret: true, doc: 'Bearer tokens accepted for write endpoints (comma-separated). Empty: writes are refused' },
  API_READ_TOKENS: { kind: 'list', default: [], secret: true, doc: 'Bearer tokens for read endpoints; empty = reads are open' },
  API_BODY_LIMIT_BYTES: { kind: 'int', min: 1024, default: 10_485_760, doc: 'Largest request body; larger gets 413' },
  API_READY_TIMEOUT_MS: {
    kind: 'int',
    min: 100,
    max: 60_000,
    default: 2000,
    doc: 'Time each readiness dependency check (Kafka, registry, ClickHouse) may take before it counts as down',
  },
  API_LAG_GROUPS: {
    kind: 'list',
    default: [],
    doc: "Consumer groups whose lag the API measures, as group:topic+topic (topic = a topic key such as predictions, or a full name), comma-separated. Empty: the driftwatch processors' own groups in DW_TOPIC_NAMESPACE",
  },
  API_LAG_POLL_MS: { kind: 'int', min: 0, max: 3_600_000, default: 15_000, doc: 'How often the API refreshes the consumer lag gauge (0 = never)' },
  API_QUERY_MAX_LIMIT: { kind: 'int', min: 1, max: 100_000, default: 1000, doc: 'Largest page size a query endpoint returns (limit above it is a 400)' },
  API_REFERENCE_MAX_ROWS: { kind: 'int', min: 1, max: 10_000_000, default: 1_000_000, doc: 'Largest dataset (rows) a reference-profile upload may hold' },
  // --- scoring --------------------------------------------------------------------------------
  MODEL_DIR: { kind: 'string', default: '.local/models', doc: 'Where the model registry stores ONNX files and metadata' },
  SCORING_BATCH_MAX_SIZE: { kind: 'int', min: 1, max: 100_000, default: 256, doc: 'Largest micro-batch scored in one onnxruntime run' },
  SCORING_BATCH_MAX_WAIT_MS: { kind: 'int', min: 0, max: 60_000, default: 10, doc: 'Longest a partial micro-batch waits' },
  SCORING_HTTP_HOST: { kind: 'string', default: '127.0.0.1', doc: 'Scoring service HTTP listen address (POST /v1/predict, model registry routes, /metrics)' },
  SCORING_HTTP_PORT: { kind: 'int', min: 0, max: 65535, default: 8090, doc: 'Scoring service HTTP listen port (0 = any free port)' },
  SCORING_HTTP_MAX_INSTANCES: { kind: 'int', min: 1, max: 100_000, default: 1000, doc: 'Most instances one POST /v1/predict request may carry' },
  SCORING_HTTP_PUBLISH: { kind: 'bool', default: true, doc: 'Publish synchronous (HTTP) predictions to the predictions topic so they are monitored too' },
  SCORING_CONSUMER_GROUP: { kind: 'string', optional: true, doc: 'Consumer group of the scoring stream on the features topic (default <namespace>.scoring)' },
  SCORING_MODEL_POLL_MS: {
    kind: 'int',
    min: 100,
    max: 3_600_000,
    default: 2000,
    doc: 'How often the scorer polls ClickHouse for champion/challenger changes (hot swap)',
  },
  SCORING_FALLBACK: {
    kind: 'list',
    default: ['previous_version', 'default_score'],
    doc: 'Fallback chain when a champion fails to load or infer: previous_version, default_score (per model: models.<name>.fallback)',
  },
  SCORING_ORT_THREADS: { kind: 'int', min: 1, max: 64, default: 1, doc: 'onnxruntime intra-op threads per model session' },
  // --- retrain trigger ------------------------------------------------------------------------
  RETRAIN_POLL_INTERVAL_MS: {
    kind: 'int',
    min: 100,
    max: 3_600_000,
    default: 5000,
    doc: 'How often the retrain trigger polls ClickHouse for newly finalised windows',
  },
  RETRAIN_SETTLE_MS: {
    kind: 'int',
    min: 0,
    max: 3_600_000,
    default: 10_000,
    doc: 'A window is evaluated once its drift summary is this old (lets the window-metrics processor finish writing all its rows)',
  },
  RETRAIN_BACKFILL_MS: { kind: 'int', min: 0, default: 86_400_000, doc: 'How far back a policy without recorded decisions starts evaluating windows' },
  RETRAIN_POLICY_RELOAD_MS: {
    kind: 'int',
    min: 0,
    max: 3_600_000,
    default: 5000,
    doc: 'How often the retrain trigger checks DW_CONFIG_FILE and the policies stored through the API for changes (0 = the file only on SIGHUP, the API on every poll)',
  },
  RETRAIN_MAX_WINDOWS_PER_POLL: {
    kind: 'int',
    min: 1,
    max: 100_000,
    default: 1000,
    doc: 'Most windows the retrain trigger evaluates per poll (a backlog is worked off over several polls)',
  },
  RETRAIN_CONSUMER_GROUP: {
    kind: 'string',
    optional: true,
    doc: 'Consumer group of the example retrain consumer (services/retrain-consumer-example; default <namespace>.retrain-consumer-example)',
  },
  // --- retrain worker -------------------------------------------------------------------------
  RETRAIN_WORKER_CONSUMER_GROUP: {
    kind: 'string',
    optional: true,
    doc: 'Consumer group of the reference retrain worker (services/retrain-worker; default <namespace>.retrain-worker)',
  },
  RETRAIN_WORKER_MIN_ROWS: {
    kind: 'int',
    min: 10,
    max: 10_000_000,
    default: 500,
    doc: 'Fewest labeled rows in the training range the retrain worker trains on (fewer after RETRAIN_WORKER_LABEL_WAIT_MS: the run fails, DW_TRAINING_FAILED)',
  },
  RETRAIN_WORKER_MAX_ROWS: {
    kind: 'int',
    min: 10,
    max: 10_000_000,
    default: 200_000,
    doc: 'Most labeled rows the retrain worker reads (the newest in the training range)',
  },
  RETRAIN_WORKER_MIN_LABEL_COVERAGE: {
    kind: 'number',
    min: 0,
    max: 1,
    default: 0.8,
    doc: "The retrain worker waits until this share of the training range's predictions is labeled (delayed labels), or RETRAIN_WORKER_LABEL_WAIT_MS",
  },
  RETRAIN_WORKER_LABEL_WAIT_MS: {
    kind: 'int',
    min: 0,
    max: 86_400_000,
    default: 600_000,
    doc: 'Longest wall time the retrain worker waits for delayed labels in the training range before training on what is there',
  },
  // --- structured file ------------------------------------------------------------------------
  DW_CONFIG_FILE: { kind: 'string', optional: true, doc: 'Optional YAML file with these keys and structured sections (models, kpis, segments, policies)' },
} as const satisfies Record<string, SettingSpec>;

export type SettingKey = keyof typeof SETTINGS;

type ValueOf<S extends SettingSpec> = S['kind'] extends 'int' | 'number'
  ? number
  : S['kind'] extends 'bool'
    ? boolean
    : S['kind'] extends 'list'
      ? readonly string[]
      : string;

export type Settings = {
  readonly [K in SettingKey]: (typeof SETTINGS)[K] extends { optional: true } ? ValueOf<(typeof SETTINGS)[K]> | undefined : ValueOf<(typeof SETTINGS)[K]>;
};

export interface Config {
  readonly settings: Settings;
  /** Structured YAML sections other than the flat keys, validated by their owning modules. */
  readonly sections: Readonly<Record<string, unknown>>;
}

/** Cross-field rules: each returns a problem or null. */
const CROSS_FIELD_RULES: ReadonlyArray<(s: Settings) => string | null> = [
  (s) =>
    s.KAFKA_HEARTBEAT_INTERVAL_MS >= s.KAFKA_SESSION_TIMEOUT_MS
      ? `KAFKA_HEARTBEAT_INTERVAL_MS (${s.KAFKA_HEARTBEAT_INTERVAL_MS}) must be below KAFKA_SESSION_TIMEOUT_MS (${s.KAFKA_SESSION_TIMEOUT_MS})`
      : null,
  (s) =>
    s.JOIN_MAX_LABEL_DELAY_MS < s.JOIN_WATERMARK_DELAY_MS
      ? `JOIN_MAX_LABEL_DELAY_MS (${s.JOIN_MAX_LABEL_DELAY_MS}) must not be shorter than JOIN_WATERMARK_DELAY_MS (${s.JOIN_WATERMARK_DELAY_MS})`
      : null,
  (s) => (s.RETRY_INITIAL_MS > s.RETRY_MAX_MS ? `RETRY_INITIAL_MS (${s.RETRY_INITIAL_MS}) must not exceed RETRY_MAX_MS (${s.RETRY_MAX_MS})` : null),
  (s) =>
    s.WINDOW_ALLOWED_LATENESS_MS > s.WINDOW_SIZE_MS * 1000
      ? `WINDOW_ALLOWED_LATENESS_MS (${s.WINDOW_ALLOWED_LATENESS_MS}) is more than 1000 windows; state would grow without bound`
      : null,
];

function parseValue(key: string, spec: SettingSpec, raw: unknown, problems: string[]): unknown {
  const shown = spec.secret ? '<redacted>' : JSON.stringify(raw);
  const text = typeof raw === 'string' ? raw.trim() : raw;
  switch (spec.kind) {
    case 'int':
    case 'number': {
      const n = typeof text === 'number' ? text : typeof text === 'string' && text !== '' ? Number(text) : NaN;
      if (!Number.isFinite(n) || (spec.kind === 'int' && !Number.isInteger(n))) {
        problems.push(`${key}: expected ${spec.kind === 'int' ? 'an integer' : 'a number'}, got ${shown}`);
        return undefined;
      }
      if (spec.min !== undefined && n < spec.min) problems.push(`${key}: ${n} is below the minimum ${spec.min}`);
      if (spec.max !== undefined && n > spec.max) problems.push(`${key}: ${n} is above the maximum ${spec.max}`);
      return n;
    }
    case 'bool': {
      if (typeof text === 'boolean') return text;
      if (text === 'true' || text === '1') return true;
      if (text === 'false' || text === '0') return false;
      problems.push(`${key}: expected true/false, got ${shown}`);
      return undefined;
    }
    case 'list': {
      if (Array.isArray(text)) return Object.freeze(text.map(String));
      if (typeof text !== 'string') {
        problems.push(`${key}: expected a comma-separated list, got ${shown}`);
        return undefined;
      }
      return Object.freeze(
        text
          .split(',')
          .map((x) => x.trim())
          .filter((x) => x.length > 0),
      );
    }
    case 'url': {
      try {
        const u = new URL(String(text));
        if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error('protocol');
        return String(text).replace(/\/+$/, '');
      } catch {
        problems.push(`${key}: expected an http(s) URL, got ${shown}`);
        return undefined;
      }
    }
    case 'enum': {
      if (!spec.values?.includes(String(text))) {
        problems.push(`${key}: expected one of ${spec.values?.join(', ')}, got ${shown}`);
        return undefined;
      }
      return String(text);
    }
    default:
      return String(text);
  }
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value as object)) deepFreeze(v);
  }
  return value;
}

/**
 * Builds the configuration from an environment map (never reads process.env itself; `env.ts` does,
 * once). Throws ConfigInvalidError listing every problem.
 */
export function loadConfig(env: Readonly<Record<string, string | undefined>>): Config {
  const problems: string[] = [];
  let fileValues: Record<string, unknown> = {};
  const file = env.DW_CONFIG_FILE?.trim();
  if (file) {
    try {
      const parsed: unknown = parseYaml(readFileSync(file, 'utf8'));
      if (parsed !== null && parsed !== undefined && (typeof parsed !== 'object' || Array.isArray(parsed))) {
        problems.push(`DW_CONFIG_FILE: ${file} must hold a YAML mapping`);
      } else fileValues = (parsed ?? {}) as Record<string, unknown>;
    } catch (err) {
      problems.push(`DW_CONFIG_FILE: cannot read ${file}: ${(err as Error).message}`);
    }
  }

  const settings: Record<string, unknown> = {};
  const sections: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(fileValues)) {
    if (!(key in SETTINGS)) {
      if (/^[A-Z0-9_]+$/.test(key)) problems.push(`${key}: unknown setting in ${file}`);
      else sections[key] = value;
    }
  }
  for (const [key, spec] of Object.entries(SETTINGS) as [string, SettingSpec][]) {
    const fromEnv = env[key];
    const raw = fromEnv !== undefined && fromEnv !== '' ? fromEnv : fileValues[key];
    if (raw === undefined || raw === null || raw === '') {
      if (spec.default !== undefined) settings[key] = spec.default;
      else if (!spec.optional) problems.push(`${key}: required`);
      continue;
    }
    settings[key] = parseValue(key, spec, raw, problems);
  }
  if (problems.length === 0) {
    for (const rule of CROSS_FIELD_RULES) {
      const p = rule(settings as Settings);
      if (p) problems.push(p);
    }
  }
  if (problems.length > 0) throw new ConfigInvalidError(problems);
  return deepFreeze({ settings: settings as Settings, sections });
}

/** Redacted view for startup logs. */
export function describeSettings(s: Settings): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, spec] of Object.entries(SETTINGS) as [SettingKey, SettingSpec][]) {
    out[key] = spec.secret ? (s[key] === '' || (Array.isArray(s[key]) && (s[key] as string[]).length === 0) ? '' : '<redacted>') : s[key];
  }
  return out;
}

/** `.env.example` content: every key, its meaning and default (scripts/gen-env-example.ts writes it). */
export function renderEnvExample(): string {
  const lines = [
    '# driftwatch configuration. Generated from lib/runtime/config.ts by scripts/gen-env-example.ts; do not edit by hand.',
    '# Every key is optional unless marked required; the value shown is the default.',
    '',
  ];
  for (const [key, spec] of Object.entries(SETTINGS) as [string, SettingSpec][]) {
    lines.push(`# ${spec.doc}${spec.kind === 'enum' ? ` (one of: ${spec.values?.join(', ')})` : ''}`);
    const def = spec.default === undefined ? '' : Array.isArray(spec.default) ? spec.default.join(',') : String(spec.default);
    lines.push(`${spec.default === undefined || (Array.isArray(spec.default) && spec.default.length === 0) ? '# ' : ''}${key}=${def}`);
  }
  return `${lines.join('\n')}\n`;
}
