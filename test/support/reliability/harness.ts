/**
 * One reliability run: the real pipeline (test/support/pipeline.ts: the components as child processes
 * on the real Kafka broker and schema registry, one chdb-http-served ClickHouse), a monitoring config
 * and reference profile, the workload, and what the scenarios need to watch processes: free ports
 * for /metrics and the API, RSS from /proc, Prometheus gauges.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildAndStoreReferenceProfile } from '../../../lib/reference/store.js';
import type { Config } from '../../../lib/runtime/config.js';
import type { OutboundRecord, Producer } from '../../../lib/runtime/kafka.js';
import { mulberry32, randInt } from '../../../lib/stats/random.js';
import { startPipeline, type Pipeline, type PipelineOptions, type RunningComponent } from '../pipeline.js';
import { testConfig, waitFor } from '../stack.js';
import { referenceRows } from '../window-stream.js';
import { joinOracle, windowOracle, type JoinExpectation, type WindowTables } from './oracle.js';
import { joinCounts, rawComplete, windowsComplete } from './verify.js';
import { EVENT_TIME_ENV, FAST_RECOVERY_ENV, MODEL, VERSION, encodeRecords, producePaced, sendAll, type Workload } from './workload.js';

export const MONITORING_YAML = `
monitoring:
  drift:
    correction: benjamini-hochberg
    min_window_rows: 30
  severity:
    warning: { drifted_count: 1 }
    critical: { drifted_share: 0.5 }
segments: [region]
kpis:
  - name: conversion_rate
    expression: business.converted
    aggregation: mean
  - name: fallback_rate
    expression: fallback != null
    aggregation: rate
`;

/** Progress lines on stderr with DW_RELIABILITY_TRACE=1 (where a slow or stuck run spends its time). */
export function trace(msg: string): void {
  if (process.env.DW_RELIABILITY_TRACE === '1') process.stderr.write(`[reliability ${new Date().toISOString()}] ${msg}\n`);
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

export interface ReliabilityRun {
  readonly pipeline: Pipeline;
  /** The configuration every component runs with (for the oracles). */
  readonly config: Config;
  readonly configFile: string;
  /** Starts an instance with its own /metrics port (and API port); returns it with the ports. */
  start(name: string, extraEnv?: Record<string, string>): Promise<RunningComponent & { metricsPort: number }>;
  producer(): Promise<Producer>;
  stop(): Promise<void>;
}

const metricsPorts = new WeakMap<RunningComponent, number>();

export function metricsPortOf(c: RunningComponent): number | undefined {
  return metricsPorts.get(c);
}

export async function startRun(
  options: { env?: Record<string, string>; yaml?: string; pipeline?: Omit<PipelineOptions, 'env' | 'components'> } = {},
): Promise<ReliabilityRun> {
  const dir = mkdtempSync(join(tmpdir(), 'dw-rel-cfg-'));
  const configFile = join(dir, 'driftwatch.yaml');
  writeFileSync(configFile, MONITORING_YAML + (options.yaml ?? ''));
  const env = {
    ...EVENT_TIME_ENV,
    ...FAST_RECOVERY_ENV,
    DW_CONFIG_FILE: configFile,
    LOG_LEVEL: process.env.TEST_COMPONENT_LOG_LEVEL ?? 'info',
    ...options.env,
  };
  trace('starting pipeline');
  const pipeline = await startPipeline({ ...options.pipeline, env, components: [] });
  trace(`pipeline ${pipeline.namespace} up; storing the reference profile`);
  await buildAndStoreReferenceProfile(pipeline.clickhouse.ch, { model: MODEL, version: VERSION, rows: referenceRows(11, 3000) });
  const config = testConfig({
    ...env,
    CLICKHOUSE_URL: pipeline.clickhouse.url,
    ...(options.env?.KAFKA_BROKERS ? { KAFKA_BROKERS: options.env.KAFKA_BROKERS } : {}),
  });
  const producers: Producer[] = [];
  return {
    pipeline,
    config,
    configFile,
    async start(name, extraEnv = {}) {
      const metricsPort = await freePort();
      const more: Record<string, string> = { METRICS_PORT: String(metricsPort), ...extraEnv };
      if (name === 'api') more.API_PORT = String(await freePort());
      const c = pipeline.start(name, more);
      metricsPorts.set(c, metricsPort);
      return Object.assign(c, { metricsPort });
    },
    async producer() {
      const p = await pipeline.kafka.producer();
      producers.push(p);
      return p;
    },
    async stop() {
      for (const p of producers) await p.disconnect().catch(() => undefined);
      await pipeline.stop();
    },
  };
}

export interface Expectations {
  readonly join: JoinExpectation;
  readonly windows: WindowTables;
}

export async function expectationsFor(run: ReliabilityRun, w: Workload): Promise<Expectations> {
  const join = joinOracle(w, run.config);
  return { join, windows: await windowOracle(w, join, run.config, run.pipeline.clickhouse.ch) };
}

/**
 * Waits until the join has emitted every data prediction, sends the closing sentinels (./workload.ts
 * explains why they wait), then waits until raw tables, the join and the final window rows are
 * complete. Returns the wall time it took.
 */
export async function waitForCompletion(
  run: ReliabilityRun,
  w: Workload,
  e: Expectations,
  timeoutMs: number,
  describe: () => string = () => '',
): Promise<number> {
  const began = Date.now();
  const left = () => Math.max(1000, timeoutMs - (Date.now() - began));
  const ch = run.pipeline.clickhouse.ch;
  const closerIds = new Set(w.closers.map((r) => r.key));
  const beforeClosers = [...e.join.labeled.keys()].filter((k) => !closerIds.has(k.split('|')[3]!)).length;
  try {
    trace('waiting for the join to emit every data prediction');
    await waitFor('the join to emit every data prediction', async () => (await joinCounts(ch)).labeled >= beforeClosers, left(), 500);
    await sendAll(await run.producer(), await encodeRecords(run.pipeline.codec, run.pipeline.topics, w.closers));
    trace('closers sent');
    await waitFor('raw tables to hold every produced event', () => rawComplete(ch, w), left(), 500);
    await waitFor(
      'the join to emit every prediction',
      async () => {
        const c = await joinCounts(ch);
        return c.labeled >= e.join.labeled.size && c.late >= e.join.late.size;
      },
      left(),
      500,
    );
    trace('raw and join complete');
    await waitFor('every window row, final', () => windowsComplete(ch, run.pipeline.namespace, e.windows), left(), 500);
  } catch (err) {
    throw new Error(`${(err as Error).message}\n${describe()}`);
  }
  return Date.now() - began;
}

/** The log line each component writes once it runs. */
export const READY: Record<string, RegExp> = {
  ingest: /"msg":"ingest started"/,
  'label-joiner': /"msg":"label-joiner started"/,
  'window-metrics': /"msg":"window-metrics running"/,
  'retrain-trigger': /"msg":"retrain trigger started"/,
  api: /"msg":"api listening"/,
  scoring: /"msg":"scoring service started"/,
  'retrain-worker': /"msg":"subscribed to retrain events"/,
};

/** Wall time from `since` until the instance logged that it is running; null if it died first (killed again). */
export async function readyAfter(c: RunningComponent, since: number, re: RegExp, timeoutMs = 120_000): Promise<number | null> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      if (re.test(readFileSync(c.logFile, 'utf8'))) return Date.now() - since;
    } catch {
      /* not written yet */
    }
    if (c.child.exitCode !== null || c.child.signalCode !== null) return null;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${c.name}-${c.instance} not ready ${timeoutMs} ms after its restart\n${logTail(c)}`);
}

/** VmRSS of a process in bytes (Linux /proc), or null when it has exited. */
export function rssBytes(pid: number | undefined): number | null {
  if (pid === undefined) return null;
  try {
    const m = /VmRSS:\s+(\d+)\s+kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : null;
  } catch {
    return null;
  }
}

/** One Prometheus sample (sum over label sets matching `labels`) from a component's /metrics. */
export async function scrapeGauge(port: number, name: string, labels: Record<string, string> = {}): Promise<number | null> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  let sum: number | null = null;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const m = /^([a-z_]+)(\{[^}]*\})?\s+(\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const lbl = m[2] ?? '';
    if (Object.entries(labels).some(([k, v]) => !lbl.includes(`${k}="${v}"`))) continue;
    sum = (sum ?? 0) + Number(m[3]);
  }
  return sum;
}

/** Last lines of a component's log (for failure messages). */
export function logTail(c: RunningComponent, lines = 15): string {
  try {
    const text = readFileSync(c.logFile, 'utf8').trim().split('\n');
    return `--- ${c.name}-${c.instance} (${c.logFile})\n${text.slice(-lines).join('\n')}`;
  } catch {
    return `--- ${c.name}-${c.instance}: no log`;
  }
}

export interface KillRun {
  /** `<victim>@<step>` per kill, in order. */
  readonly killedAt: readonly string[];
  /** Per kill: wall time from the kill to the restarted instance logging that it runs (null: killed again first). */
  readonly recoveries: Promise<{ victim: string; ms: number | null }>[];
}

/**
 * Produces `records` paced over `steps` and SIGKILLs victims between steps, restarting each at once.
 * The plan is seeded: every victim once (in order), then seeded picks, at seeded steps.
 */
export async function produceWithKills(
  run: ReliabilityRun,
  records: readonly OutboundRecord[],
  o: { seed: number; kills: number; steps: number; durationMs: number; victims: readonly string[] },
): Promise<KillRun> {
  const rng = mulberry32(o.seed);
  const plan: { step: number; victim: string }[] = [];
  for (let k = 0; k < o.kills; k++)
    plan.push({ step: 1 + randInt(rng, o.steps - 2), victim: k < o.victims.length ? o.victims[k]! : o.victims[randInt(rng, o.victims.length)]! });
  plan.sort((a, b) => a.step - b.step);
  const killedAt: string[] = [];
  const recoveries: Promise<{ victim: string; ms: number | null }>[] = [];
  await producePaced(await run.producer(), records, {
    steps: o.steps,
    durationMs: o.durationMs,
    onStep: async (step) => {
      for (const k of plan.filter((p) => p.step === step)) {
        const victim = run.pipeline.running(k.victim)[0];
        if (!victim) continue;
        const at = Date.now();
        await run.pipeline.kill(victim, 'SIGKILL');
        killedAt.push(`${k.victim}@${step}`);
        const next = await run.start(k.victim);
        recoveries.push(readyAfter(next, at, READY[k.victim]!).then((ms) => ({ victim: k.victim, ms })));
      }
    },
  });
  return { killedAt, recoveries };
}
