/**
 * The processor as a child process (stream-processors/window-metrics/main.ts), SIGKILLed mid-stream
 * and started again: its checkpointed partials are restored and every window counts every prediction
 * exactly once, also when the label-joiner's output is redelivered.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildAndStoreReferenceProfile } from '../../../lib/reference/store.js';
import { queryRows, servedClickHouse, stackEnv, waitFor, type TestClickHouse } from '../../support/stack.js';
import { generateStream, heartbeatLabeled, heartbeatPrediction, labeledInEmissionOrder, referenceRows } from '../../support/window-stream.js';
import { harness, TIMING, type Harness } from './support.js';

const WINDOW = 10_000;
const DELAY = 20_000;

describe('window-metrics child process: SIGKILL and restart', () => {
  let t: TestClickHouse & { url: string };
  let h: Harness;
  const children: ChildProcess[] = [];
  let stderr = '';
  const start = Math.floor((Date.now() - 3 * 3600_000) / WINDOW) * WINDOW;

  function spawnProcessor(): ChildProcess {
    const env = {
      ...process.env,
      ...stackEnv(),
      ...TIMING,
      DW_TOPIC_NAMESPACE: h.ns,
      DW_CONFIG_FILE: h.config().settings.DW_CONFIG_FILE!,
      CLICKHOUSE_URL: t.url,
      LOG_LEVEL: 'warn',
      DW_INSTANCE_ID: `child-${children.length}`,
      // The killed member's partitions move once its session times out: keep that short.
      KAFKA_SESSION_TIMEOUT_MS: '6000',
      KAFKA_HEARTBEAT_INTERVAL_MS: '1000',
    };
    const child = spawn(process.execPath, ['--import', 'tsx', 'stream-processors/window-metrics/main.ts'], { env, stdio: ['ignore', 'ignore', 'pipe'] });
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    children.push(child);
    return child;
  }

  beforeAll(async () => {
    t = await servedClickHouse();
    h = await harness('wm-restart');
    await buildAndStoreReferenceProfile(t.ch, { model: 'credit', version: 'v1', rows: referenceRows(11, 2000) });
  }, 60_000);

  afterAll(async () => {
    if (process.env.WM_CHILD_STDERR) process.stderr.write(stderr);
    for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
    await h?.close();
    await t?.close();
  });

  it('restores partial windows after a crash without losing or double counting events', async () => {
    const events = generateStream({
      seed: 17,
      model: 'credit',
      version: 'v1',
      start,
      windowMs: WINDOW,
      eventsPerWindow: 500,
      labelDelayMs: DELAY,
      phases: [{ name: 's', windows: 4 }],
      regions: ['north', 'south'],
    });
    const half = Math.floor(events.length * 0.55); // the cut falls inside window 2
    const labeled = labeledInEmissionOrder(events, DELAY);
    const cut = events[half]!.prediction.event_time;
    const progress = (l: (typeof labeled)[number]) => (l.status === 'LABELED' ? l.outcome_time! : l.prediction_time + DELAY);
    const firstLabeled = labeled.filter((l) => progress(l) < cut);
    const restLabeled = labeled.filter((l) => progress(l) >= cut);
    await h.produce(
      events.slice(0, half).map((e) => e.prediction),
      firstLabeled,
    );
    const first = spawnProcessor();
    const checkpointed = async (topic: string) => {
      const r = await queryRows<{ n: string }>(t.ch, `SELECT sum(n_rows) AS n FROM window_state FINAL WHERE kind = 'partial' AND topic = {t:String}`, {
        t: topic,
      });
      return Number(r[0]!.n);
    };
    await waitFor(
      'the first process checkpoints partial windows of both inputs',
      async () => (await checkpointed(h.topics.predictions)) === half && (await checkpointed(h.topics.labeledPredictions)) === firstLabeled.length,
      60_000,
      300,
    );
    first.kill('SIGKILL');
    await new Promise((r) => first.once('exit', r));
    // The label-joiner's output is at-least-once: a joiner that crashed after producing re-produces
    // its last records. Here, the last 300 records the killed processor had already checkpointed
    // come again (their identities must be restored from window_labeled_seen), and every 10th new
    // one comes twice in a row (deduplicated in memory); no window may count any of them twice.
    await h.produce(
      events.slice(half).map((e) => e.prediction),
      [...firstLabeled.slice(-300), ...restLabeled.flatMap((l, i) => (i % 10 === 0 ? [l, l] : [l]))],
    );
    await h.heartbeat(start + 10 * WINDOW, heartbeatPrediction, heartbeatLabeled);
    spawnProcessor();
    await waitFor(
      'final performance rows after the restart',
      async () => {
        const r = await queryRows<{ n: string }>(
          t.ch,
          `SELECT count() AS n FROM window_evaluations FINAL WHERE namespace = {ns:String} AND stage = 'performance_final'`,
          { ns: h.ns },
        );
        return Number(r[0]!.n) >= 4;
      },
      60_000,
      300,
    );
    const summary = await queryRows<{ n: string }>(t.ch, `SELECT n_events AS n FROM model_drift_summary FINAL WHERE segment = '' ORDER BY window_start`);
    expect(summary.map((r) => Number(r.n))).toEqual([500, 500, 500, 500]);
    const totals = await queryRows<{ n_total: string; n_labeled: string }>(
      t.ch,
      `SELECT n_total, n_labeled FROM performance_metrics FINAL WHERE segment = '' AND metric = 'label_coverage' AND is_final = 1 ORDER BY window_start`,
    );
    expect(totals.map((r) => Number(r.n_total))).toEqual([500, 500, 500, 500]);
    const labeledPerWindow = [0, 1, 2, 3].map((w) => events.filter((e) => e.window === w && e.labeled.status === 'LABELED').length);
    expect(totals.map((r) => Number(r.n_labeled))).toEqual(labeledPerWindow);
  }, 150_000);

  it('exits 78 with every problem listed when the monitoring configuration is invalid', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'dw-wm-bad-')), 'bad.yaml');
    writeFileSync(file, 'monitoring:\n  drift: { correction: holm }\nkpis:\n  - { name: x, expression: "1 +", aggregation: mean }\n');
    const child = spawn(process.execPath, ['--import', 'tsx', 'stream-processors/window-metrics/main.ts'], {
      env: { ...process.env, ...stackEnv(), DW_CONFIG_FILE: file, CLICKHOUSE_URL: t.url },
    });
    let err = '';
    child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    const code = await new Promise<number | null>((r) => child.on('close', r));
    expect(code).toBe(78);
    expect(err).toContain('monitoring.drift.correction');
    expect(err).toContain('kpis[0].expression');
  }, 60_000);
});
