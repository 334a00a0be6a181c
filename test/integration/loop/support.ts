/**
 * The closed loop on the real stack, in compressed time, for the loop and status-page tests: every
 * component as a child process (test/support/pipeline.ts) on the real Kafka broker, schema registry
 * and ClickHouse engine, the demo configuration (config/driftwatch.yaml), the sample model
 * registered with its reference (services/launcher/bootstrap.ts), and the simulator running a
 * one-model scenario: one stationary hour of event time, then covariate + concept drift.
 *
 * Clock: SIM_SPEED 120, so a 15-minute window closes every 7.5 wall seconds and the drift starts
 * 30 wall seconds after the simulator starts.
 */
import { mkdtempSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { startPipeline, type Pipeline } from '../../support/pipeline.js';
import { queryRows, testLogger, uniqueName } from '../../support/stack.js';
import { bootstrapSampleModels } from '../../../services/launcher/bootstrap.js';
import { loadConfig } from '../../../lib/runtime/config.js';
import { parseMonitoringConfig, performanceFor } from '../../../stream-processors/window-metrics/config.js';

const ROOT = resolve(new URL('../../..', import.meta.url).pathname);
export const CONFIG_FILE = join(ROOT, 'config/driftwatch.yaml');
export const MODEL = 'credit-risk';
export const SPEED = 120;
export const STATIONARY_MS = 3_600_000;

const SCENARIO = `name: loop-test
models: [credit-risk]
phases:
  - name: stationary
    duration: 1h
  - name: recession
    duration: 1000h
    drift:
      credit-risk: { incomeFactor: 0.6, utilizationShift: 0.25, conceptShift: -2 }
labelDelay: { kind: exponential, mean: 10m }
missingLabelRate: 0.05
`;

export async function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const srv = createServer();
    srv.once('error', rej);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => res(port));
    });
  });
}

export interface Loop {
  readonly pipeline: Pipeline;
  readonly apiUrl?: string;
  /** When the simulator switched to the drifted phase: wall time of its log line and simulated event time (waits for it). */
  switchedAt(): Promise<{ wall: number; sim: number }>;
  rows<T = Record<string, unknown>>(sql: string, params?: Record<string, unknown>): Promise<T[]>;
  stop(): Promise<void>;
}

export async function startLoop(o: { api?: boolean; env?: Record<string, string> } = {}): Promise<Loop> {
  const dir = mkdtempSync(join(tmpdir(), 'dw-loop-'));
  const scenarioFile = join(dir, 'scenario.yaml');
  writeFileSync(scenarioFile, SCENARIO);
  const apiPort = o.api ? await freePort() : 0;
  const namespace = uniqueName('loop');
  const pipeline = await startPipeline({
    namespace,
    env: {
      // SCORING_CONSUMER_GROUP defaults to one name for every namespace: concurrent pipelines would
      // share (and keep rebalancing) one scoring group.
      SCORING_CONSUMER_GROUP: `${namespace}.scoring`,
      DW_CONFIG_FILE: CONFIG_FILE,
      SIM_SCENARIO: scenarioFile,
      SIM_SPEED: String(SPEED),
      SIM_RATE: '200',
      SIM_LOOKBACK: '6h',
      // Start event time on a window boundary (config/driftwatch.yaml: 15-minute windows), so the
      // stationary windows before the switch are whole ones and the no-false-alarm check holds for each.
      SIM_ALIGN: '15m',
      // Event time (x 1/120 on the wall): unlabeled after 1 h = 30 wall seconds.
      JOIN_MAX_LABEL_DELAY_MS: '3600000',
      RETRAIN_WORKER_LABEL_WAIT_MS: '60000',
      SCORING_HTTP_PORT: '0',
      API_PORT: String(apiPort),
      API_LAG_POLL_MS: '0',
      ...o.env,
    },
  });
  const cfg = loadConfig({ DW_CONFIG_FILE: CONFIG_FILE });
  const monitoring = parseMonitoringConfig(cfg.sections);
  await bootstrapSampleModels(pipeline.clickhouse.ch, {
    sourceDir: join(ROOT, 'models'),
    modelDir: pipeline.env.MODEL_DIR!,
    logger: testLogger,
    models: [MODEL],
    kpis: monitoring.kpis,
    performanceFor: (m) => performanceFor(monitoring, m),
  });
  const names = ['ingest', 'label-joiner', 'window-metrics', 'retrain-trigger', 'scoring', 'retrain-worker', ...(o.api ? ['api'] : []), 'simulator'];
  for (const n of names) pipeline.start(n);
  const simLog = pipeline.running('simulator')[0]!.logFile;

  return {
    pipeline,
    ...(o.api ? { apiUrl: `http://127.0.0.1:${apiPort}` } : {}),
    async switchedAt() {
      for (let i = 0; i < 600; i++) {
        if (existsSync(simLog)) {
          for (const line of readFileSync(simLog, 'utf8').split('\n')) {
            if (!line.includes('"phase":"recession"')) continue;
            const l = JSON.parse(line) as { time: string; simTime: string };
            return { wall: Date.parse(l.time), sim: Date.parse(l.simTime) };
          }
        }
        await new Promise((r) => setTimeout(r, 250));
      }
      throw new Error(`the simulator never switched phase (see ${simLog})`);
    },
    rows: (sql, params = {}) => queryRows(pipeline.clickhouse.ch, sql, params),
    stop: () => pipeline.stop(),
  };
}

/** ClickHouse DateTime64 text (UTC) -> epoch ms. */
export const chTime = (s: string): number => Date.parse(`${s.replace(' ', 'T')}Z`);
