/**
 * Needs the real ClickHouse engine (served by chdb-http) and a real process: the runtime writes the
 * process's Prometheus metrics into ops_metrics, which the Pipeline operations dashboard reads.
 */
import { spawn } from 'node:child_process';
import { writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { servedClickHouse, queryRows, stackEnv, waitFor } from '../../support/stack.js';

let s: Awaited<ReturnType<typeof servedClickHouse>>;
beforeAll(async () => {
  s = await servedClickHouse();
});
afterAll(async () => {
  await s?.close();
});

describe('ops_metrics sampler', () => {
  it('writes a process metrics sample to ClickHouse periodically and on shutdown', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dw-ops-'));
    const script = join(dir, 'proc.mts');
    const root = new URL('../../../', import.meta.url).pathname;
    writeFileSync(
      script,
      `import { createRuntime } from '${root}lib/runtime/process.ts';
       const rt = createRuntime('ops-test');
       await rt.clickhouse();
       rt.metrics.eventsConsumed.inc({ topic: 't1' }, 42);
       rt.metrics.joinPending.set(7);
       setInterval(() => undefined, 1000);`,
    );
    const child = spawn(process.execPath, ['--import', 'tsx', script], {
      env: { ...process.env, ...stackEnv(), CLICKHOUSE_URL: s.url, OPS_SAMPLE_INTERVAL_MS: '300', LOG_LEVEL: 'silent' },
      stdio: 'ignore',
    });
    const rows = await waitFor(
      'sampled rows',
      async () => {
        const r = await queryRows<{ metric: string; value: number; topic: string }>(
          s.ch,
          "SELECT metric, value, labels['topic'] AS topic FROM ops_metrics WHERE component = 'ops-test' AND metric IN ('driftwatch_events_consumed_total', 'driftwatch_join_pending_predictions') ORDER BY ts DESC LIMIT 2 BY metric",
        );
        return r.length === 2 ? r : undefined;
      },
      30_000,
    );
    expect(rows).toEqual(
      expect.arrayContaining([
        { metric: 'driftwatch_events_consumed_total', value: 42, topic: 't1' },
        { metric: 'driftwatch_join_pending_predictions', value: 7, topic: '' },
      ]),
    );
    const before = (await queryRows<{ n: number }>(s.ch, "SELECT count() AS n FROM ops_metrics WHERE component = 'ops-test'"))[0]!.n;
    child.kill('SIGTERM');
    const exit = await new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    expect(exit).toBe(0);
    const after = (await queryRows<{ n: number }>(s.ch, "SELECT count() AS n FROM ops_metrics WHERE component = 'ops-test'"))[0]!.n;
    expect(after).toBeGreaterThan(before);
  });
});
