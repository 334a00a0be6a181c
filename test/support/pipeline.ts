/**
 * A real driftwatch pipeline for end-to-end, reliability and dashboard tests: the real components
 * (services/launcher/components.ts) as child processes, on the real Kafka broker and schema
 * registry, sharing one real ClickHouse engine served from this test process (chdb-http), in a
 * private topic namespace. Components can be SIGKILLed, restarted and scaled out.
 *
 * Child output goes to .local/test-logs/<namespace>/<component>-<n>.log (read it when a test fails).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { COMPONENTS } from '../../services/launcher/components.js';
import { createKafkaAdapter, type KafkaAdapter } from '../../lib/runtime/kafka.js';
import { createEventCodec, type EventCodec } from '../../lib/contracts/codec.js';
import { topicNames, type TopicNames } from '../../lib/contracts/topics.js';
import { servedClickHouse, stackEnv, testConfig, testLogger, uniqueName, type TestClickHouse } from './stack.js';
import type { ChdbHttpServer } from '../../lib/runtime/clickhouse/chdb-http-server.js';

const ROOT = resolve(new URL('../..', import.meta.url).pathname);

export interface RunningComponent {
  readonly name: string;
  readonly instance: number;
  readonly child: ChildProcess;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  readonly logFile: string;
}

export interface Pipeline {
  readonly namespace: string;
  readonly topics: TopicNames;
  readonly clickhouse: TestClickHouse & { url: string; server: ChdbHttpServer };
  readonly kafka: KafkaAdapter;
  readonly codec: EventCodec;
  readonly env: Readonly<Record<string, string>>;
  readonly logDir: string;
  /** Starts one more instance of a component (instances of one component share a consumer group). */
  start(name: string, extraEnv?: Record<string, string>): RunningComponent;
  running(name?: string): RunningComponent[];
  kill(component: RunningComponent, signal?: NodeJS.Signals): Promise<void>;
  stop(): Promise<void>;
}

export interface PipelineOptions {
  /** Components to start now, by name from services/launcher/components.ts. */
  readonly components?: readonly string[];
  /** Environment for every component (window sizes, label delay, config file ...). */
  readonly env?: Readonly<Record<string, string>>;
  readonly namespace?: string;
}

export async function startPipeline(options: PipelineOptions = {}): Promise<Pipeline> {
  const namespace = options.namespace ?? uniqueName('pl');
  const topics = topicNames(namespace);
  const clickhouse = await servedClickHouse();
  const env: Record<string, string> = {
    ...stackEnv(),
    CLICKHOUSE_URL: clickhouse.url,
    DW_TOPIC_NAMESPACE: namespace,
    LOG_LEVEL: process.env.TEST_COMPONENT_LOG_LEVEL ?? 'info',
    MODEL_DIR: join(clickhouse.dir, 'models'),
    TZ: 'UTC',
    ...options.env,
  };
  const cfg = testConfig(env);
  const kafka = createKafkaAdapter(cfg.settings, testLogger, `pipeline-${namespace}`);
  await kafka.ensureTopics(topics);
  const codec = createEventCodec(
    cfg.settings.SCHEMA_REGISTRY_URL,
    { maxPayloadBytes: cfg.settings.MAX_PAYLOAD_BYTES, maxFutureSkewMs: cfg.settings.MAX_FUTURE_SKEW_MS },
    topics,
  );
  await codec.registerAll();
  const logDir = join(ROOT, '.local/test-logs', namespace);
  mkdirSync(logDir, { recursive: true });
  const components: RunningComponent[] = [];
  const counters = new Map<string, number>();

  function start(name: string, extraEnv: Record<string, string> = {}): RunningComponent {
    const spec = COMPONENTS.find((c) => c.name === name);
    if (!spec) throw new Error(`unknown component ${name}; known: ${COMPONENTS.map((c) => c.name).join(', ')}`);
    const instance = (counters.get(name) ?? 0) + 1;
    counters.set(name, instance);
    const logFile = join(logDir, `${name}-${instance}.log`);
    const out = createWriteStream(logFile, { flags: 'a' });
    const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, spec.entry)], {
      cwd: ROOT,
      env: { ...process.env, ...env, ...spec.env, DW_INSTANCE_ID: `${name}-${instance}`, ...extraEnv },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout!.pipe(out, { end: false });
    child.stderr!.pipe(out, { end: false });
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) =>
      child.once('exit', (code, signal) => {
        out.end();
        r({ code, signal });
      }),
    );
    const rc = { name, instance, child, exited, logFile };
    components.push(rc);
    return rc;
  }

  async function kill(c: RunningComponent, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    if (c.child.exitCode === null && c.child.signalCode === null) c.child.kill(signal);
    const timer = signal === 'SIGKILL' ? undefined : setTimeout(() => c.child.kill('SIGKILL'), 20_000);
    await c.exited;
    if (timer) clearTimeout(timer);
  }

  for (const name of options.components ?? []) start(name);

  return {
    namespace,
    topics,
    clickhouse,
    kafka,
    codec,
    env,
    logDir,
    start,
    running: (name) => components.filter((c) => (name === undefined || c.name === name) && c.child.exitCode === null && c.child.signalCode === null),
    kill,
    async stop() {
      await Promise.all(components.map((c) => kill(c, 'SIGTERM')));
      await kafka.disconnect();
      await clickhouse.close();
    },
  };
}
