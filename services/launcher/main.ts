/**
 * The main job (`npm start` -> infra/run.sh -> this file).
 *
 * 1. Validates the configuration (exit 78 with every problem listed).
 * 2. Without CLICKHOUSE_URL, owns the embedded ClickHouse data directory and serves it over the
 *    ClickHouse HTTP protocol (chdb-http), because libchdb allows one process per data directory and
 *    every component below is its own process.
 * 3. Applies migrations, creates the topics and registers the schemas once, then registers the
 *    sample models in `models/` as champions with their reference profiles (bootstrap.ts) unless the
 *    registry already has them.
 * 4. Starts every component as a supervised child process (logs in .local/logs/<name>.log), restarting
 *    a crashed one with exponential backoff, and prints where to look.
 * 5. On SIGINT/SIGTERM, stops the children (SIGTERM, then SIGKILL after a grace period) and closes
 *    ClickHouse last.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createRuntime, runMain } from '../../lib/runtime/process.js';
import { writeThroughLogger } from '../../lib/runtime/logger.js';
import { startChdbHttp } from '../../lib/runtime/clickhouse/chdb-http-server.js';
import { openClickHouse } from '../../lib/runtime/clickhouse/client.js';
import { migrate } from '../../lib/runtime/clickhouse/migrations.js';
import { createEventCodec } from '../../lib/contracts/codec.js';
import { topicNames } from '../../lib/contracts/topics.js';
import { parseMonitoringConfig, performanceFor } from '../../stream-processors/window-metrics/config.js';
import { bootstrapSampleModels } from './bootstrap.js';
import { COMPONENTS, type ComponentSpec } from './components.js';

const ROOT = resolve(new URL('../..', import.meta.url).pathname);

/**
 * The demo's defaults (docs/demo.md): the configuration file with compressed-time windows, policies
 * and KPIs, and the simulator's scenario and clock. Each applies only when the environment does not
 * set it, to the launcher and to every child.
 */
const DEMO_DEFAULTS: Readonly<Record<string, string>> = {
  DW_CONFIG_FILE: join(ROOT, 'config/driftwatch.yaml'),
  SIM_SCENARIO: join(ROOT, 'config/demo-scenario.yaml'),
  SIM_SPEED: '60',
  SIM_RATE: '200',
  SIM_LOOKBACK: '12h',
  // config/driftwatch.yaml's window size: the first demo window is a whole one (services/simulator/core.ts).
  SIM_ALIGN: '15m',
};

interface Supervised {
  spec: ComponentSpec;
  child?: ChildProcess;
  restarts: number;
  stopping: boolean;
}

runMain('launcher', async () => {
  const demo = Object.fromEntries(Object.entries(DEMO_DEFAULTS).filter(([k]) => !process.env[k]));
  const rt = createRuntime('launcher', demo);
  const s = rt.config.settings;
  const log = rt.logger;
  const only = process.argv.slice(2).filter((a) => !a.startsWith('-'));
  const logDir = resolve(ROOT, '.local/logs');
  mkdirSync(logDir, { recursive: true });

  let clickhouseUrl = s.CLICKHOUSE_URL;
  if (!clickhouseUrl) {
    const server = await startChdbHttp({
      dataDir: s.CLICKHOUSE_DATA_DIR,
      host: '127.0.0.1',
      port: s.CLICKHOUSE_HTTP_PORT,
      database: s.CLICKHOUSE_DATABASE,
    }).catch((err: Error) => {
      throw new Error(
        `cannot serve the embedded ClickHouse on 127.0.0.1:${s.CLICKHOUSE_HTTP_PORT} (${err.message}); is another launcher running? set CLICKHOUSE_HTTP_PORT`,
      );
    });
    clickhouseUrl = server.url;
    rt.onShutdown(() => server.close());
    log.info({ url: clickhouseUrl, dataDir: s.CLICKHOUSE_DATA_DIR }, 'embedded ClickHouse served over HTTP (chdb-http)');
  }
  const ch = await openClickHouse({ ...s, CLICKHOUSE_URL: clickhouseUrl });
  const report = await migrate(ch, s);
  await ch.close();
  const topics = topicNames(s.DW_TOPIC_NAMESPACE);
  const kafka = rt.kafka();
  await kafka.ensureTopics(topics);
  await createEventCodec(s.SCHEMA_REGISTRY_URL, { maxPayloadBytes: s.MAX_PAYLOAD_BYTES, maxFutureSkewMs: s.MAX_FUTURE_SKEW_MS }, topics, {
    requestTimeoutMs: s.SCHEMA_REGISTRY_TIMEOUT_MS,
  }).registerAll();
  log.info({ migrations: report.applied, namespace: s.DW_TOPIC_NAMESPACE }, 'topics, schemas and tables ready');
  const monitoring = parseMonitoringConfig(rt.config.sections);
  const boot = await openClickHouse({ ...s, CLICKHOUSE_URL: clickhouseUrl });
  try {
    const r = await bootstrapSampleModels(boot, {
      sourceDir: join(ROOT, 'models'),
      modelDir: s.MODEL_DIR,
      logger: log,
      kpis: monitoring.kpis,
      performanceFor: (m) => performanceFor(monitoring, m),
    });
    log.info({ ...r, config: s.DW_CONFIG_FILE }, 'sample models ready');
  } finally {
    await boot.close();
  }

  const supervised: Supervised[] = [];
  const childEnv = { ...demo, ...process.env, CLICKHOUSE_URL: clickhouseUrl, TZ: 'UTC' };
  for (const spec of COMPONENTS) {
    if (only.length > 0 && !only.includes(spec.name)) continue;
    if (!existsSync(join(ROOT, spec.entry))) {
      log.warn({ component: spec.name, entry: spec.entry }, 'component entry missing; not started');
      continue;
    }
    const sup: Supervised = { spec, restarts: 0, stopping: false };
    supervised.push(sup);
    start(sup);
  }

  function start(sup: Supervised): void {
    const out = createWriteStream(join(logDir, `${sup.spec.name}.log`), { flags: 'a' });
    const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, sup.spec.entry)], {
      cwd: ROOT,
      env: { ...childEnv, ...sup.spec.env, DW_INSTANCE_ID: `${sup.spec.name}-1` },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout!.pipe(out, { end: false });
    child.stderr!.pipe(out, { end: false });
    sup.child = child;
    log.info({ component: sup.spec.name, pid: child.pid, log: `.local/logs/${sup.spec.name}.log` }, `started ${sup.spec.name}: ${sup.spec.description}`);
    child.once('exit', (code, signal) => {
      out.end();
      if (sup.stopping) return;
      sup.restarts += 1;
      const delay = Math.min(30_000, 500 * 2 ** Math.min(sup.restarts, 6));
      log.error({ component: sup.spec.name, code, signal, restarts: sup.restarts, delay }, `${sup.spec.name} exited; restarting (see its log)`);
      setTimeout(() => !sup.stopping && start(sup), delay);
    });
  }

  rt.onShutdown(async () => {
    await Promise.all(
      supervised.map(
        (sup) =>
          new Promise<void>((done) => {
            sup.stopping = true;
            const c = sup.child;
            if (!c || c.exitCode !== null || c.signalCode !== null) return done();
            const kill = setTimeout(() => c.kill('SIGKILL'), 15_000);
            c.once('exit', () => (clearTimeout(kill), done()));
            c.kill('SIGTERM');
          }),
      ),
    );
  });

  const api = `http://${s.API_HOST}:${s.API_PORT}`;
  writeThroughLogger(
    log,
    [
      '',
      'driftwatch is running. Where to look:',
      `  status page        ${api}/status`,
      `  API + OpenAPI      ${api}/docs`,
      `  drift (JSON)       ${api}/v1/drift?model=credit-risk`,
      `  Prometheus         ${api}/metrics`,
      `  ClickHouse (HTTP)  ${clickhouseUrl}  (database ${s.CLICKHOUSE_DATABASE})`,
      `  model registry     ${api}/v1/models   retrain events ${api}/v1/retrains   alerts ${api}/v1/alerts`,
      `  configuration      ${s.DW_CONFIG_FILE ?? '(none)'}`,
      `  component logs     .local/logs/<component>.log  (the loop: .local/logs/retrain-worker.log)`,
      '  what to expect     docs/demo.md',
      '  stop               Ctrl-C',
      '',
    ].join('\n'),
  );
  await new Promise(() => undefined);
});
