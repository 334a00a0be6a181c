/**
 * The API as a real process (services/api/main.ts via createRuntime('api')): it starts against the
 * real stack (ClickHouse shared over chdb-http), serves readiness, queries and metrics over HTTP,
 * measures the configured consumer group's lag, and exits 0 on SIGTERM after closing the server.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKafkaAdapter, type KafkaAdapter } from '../../../lib/runtime/kafka.js';
import { topicNames } from '../../../lib/contracts/topics.js';
import { servedClickHouse, stackEnv, testConfig, testLogger, uniqueName, waitFor, type TestClickHouse } from '../../support/stack.js';
import { parsePrometheusText } from '../../services/api/support/prom-text.js';
import { seedMonitoring } from '../../services/api/support/seed.js';

const ns = uniqueName('apimain');
let ch: TestClickHouse & { url: string };
let kafka: KafkaAdapter;
let child: ChildProcess | undefined;
let modelDir: string;
let output = '';

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

beforeAll(async () => {
  ch = await servedClickHouse();
  await seedMonitoring(ch.ch);
  kafka = createKafkaAdapter(testConfig({ KAFKA_TOPIC_PARTITIONS: '1' }).settings, testLogger, `api-main-${process.pid}`);
  await kafka.ensureTopics(topicNames(ns));
  modelDir = mkdtempSync(join(tmpdir(), 'dw-api-main-'));
});
afterAll(async () => {
  if (child && child.exitCode === null) child.kill('SIGKILL');
  await kafka?.disconnect();
  await ch?.close();
  rmSync(modelDir, { recursive: true, force: true });
});

describe('api process', () => {
  it('starts, serves, measures lag and shuts down gracefully on SIGTERM', async () => {
    const port = await freePort();
    child = spawn(process.execPath, ['--import', 'tsx', 'services/api/main.ts'], {
      cwd: new URL('../../../', import.meta.url).pathname,
      env: {
        ...process.env,
        ...stackEnv(),
        CLICKHOUSE_URL: ch.url,
        DW_TOPIC_NAMESPACE: ns,
        API_PORT: String(port),
        API_WRITE_TOKENS: 'main-test-token',
        API_LAG_GROUPS: `${ns}.nobody:predictions`,
        API_LAG_POLL_MS: '500',
        MODEL_DIR: modelDir,
        LOG_LEVEL: 'info',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout!.on('data', (d) => (output += String(d)));
    child.stderr!.on('data', (d) => (output += String(d)));
    const base = `http://127.0.0.1:${port}`;
    await waitFor('api ready', async () => (await fetch(`${base}/health/ready`).catch(() => undefined))?.status === 200, 45_000);

    const drift = (await (await fetch(`${base}/v1/drift?model=credit-risk&feature=income&limit=3`)).json()) as { items: unknown[]; next_cursor: string };
    expect(drift.items).toHaveLength(3);
    expect(drift.next_cursor).toEqual(expect.any(String));
    expect((await fetch(`${base}/v1/monitors/m`, { method: 'PUT', body: '{}', headers: { 'content-type': 'application/json' } })).status).toBe(401);

    // The lag poller measured the group (no commits yet: lag 0 on an empty topic, one series per partition).
    const lag = await waitFor(
      'lag gauge',
      async () => {
        const m = parsePrometheusText(await (await fetch(`${base}/metrics`)).text());
        const s = m.get('driftwatch_consumer_lag')?.samples.filter((x) => x.labels.group === `${ns}.nobody`) ?? [];
        return s.length > 0 ? s : undefined;
      },
      20_000,
    );
    expect(lag).toEqual([
      expect.objectContaining({ labels: { component: 'api', group: `${ns}.nobody`, topic: `${ns}.predictions.v1`, partition: '0' }, value: 0 }),
    ]);

    const exited = new Promise<number | null>((resolve) => child!.once('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(output).toMatch(/api listening/);
    expect(output).toMatch(/shutting down/);
    expect(output).not.toContain('main-test-token');
  });
});
