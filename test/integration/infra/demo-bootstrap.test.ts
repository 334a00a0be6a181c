/**
 * infra/demo-bootstrap.ts, the one-shot of docker-compose.yml's `demo` profile (compose cannot run
 * here, so the process is run as compose would, with the compose services' settings pointed at the
 * local stack): it exits 0 with the topics created, the schemas registered and the sample models
 * registered as champions with reference profiles, and a second run changes nothing.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { topicNames } from '../../../lib/contracts/topics.js';
import { openClickHouse } from '../../../lib/runtime/clickhouse/client.js';
import { createKafkaAdapter } from '../../../lib/runtime/kafka.js';
import { listProfiles } from '../../../lib/reference/store.js';
import { createModelRegistry } from '../../../services/scoring/model-registry.js';
import { stackEnv, testConfig, testLogger, uniqueName } from '../../support/stack.js';

const run = promisify(execFile);
const ENTRY = fileURLToPath(new URL('../../../infra/demo-bootstrap.ts', import.meta.url));
const CONFIG_FILE = fileURLToPath(new URL('../../../config/driftwatch.yaml', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'dw-demo-bootstrap-'));
const ns = uniqueName('it-demo');
const env = {
  PATH: process.env.PATH ?? '',
  HOME: process.env.HOME ?? '',
  TZ: 'UTC',
  ...stackEnv(),
  DW_TOPIC_NAMESPACE: ns,
  DW_CONFIG_FILE: CONFIG_FILE,
  CLICKHOUSE_DATA_DIR: join(dir, 'clickhouse'),
  MODEL_DIR: join(dir, 'models'),
  OPS_SAMPLE_INTERVAL_MS: '0',
  LOG_LEVEL: 'info',
};

afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The run's final log line ('demo ready ...'), parsed. */
async function bootstrap(): Promise<{ registered: string[]; profiled: string[] }> {
  const { stdout } = await run(process.execPath, ['--import', 'tsx', ENTRY], { env, timeout: 180_000, maxBuffer: 16 * 1024 * 1024 });
  const ready = stdout
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as { msg: string; registered?: string[]; profiled?: string[] })
    .find((l) => l.msg.startsWith('demo ready'));
  expect(ready, stdout).toBeDefined();
  return { registered: ready!.registered!, profiled: ready!.profiled! };
}

describe('infra/demo-bootstrap.ts', () => {
  it('prepares topics, schemas and the sample models, exits 0, and is idempotent', async () => {
    // execFile rejects on a non-zero exit, so each await also asserts exit 0.
    expect(await bootstrap()).toEqual({ registered: ['credit-risk@1', 'delivery-eta@1'], profiled: ['credit-risk@1', 'delivery-eta@1'] });
    expect(await bootstrap()).toEqual({ registered: [], profiled: [] });

    const kafka = createKafkaAdapter(testConfig().settings, testLogger, 'demo-bootstrap-test');
    try {
      const topics = topicNames(ns);
      expect(await kafka.checkCoPartitioned([topics.features, topics.predictions, topics.outcomes])).toBe(testConfig().settings.KAFKA_TOPIC_PARTITIONS);
    } finally {
      await kafka.disconnect();
    }
    // Each subject directly: the registry's /subjects listing is paginated (1 000 per page), and the
    // local registry keeps every earlier run's subjects.
    for (const subject of [`${topicNames(ns).features}-value`, `${topicNames(ns).predictions}-value`]) {
      const r = await fetch(`${stackEnv().SCHEMA_REGISTRY_URL}/subjects/${subject}/versions`);
      expect(r.status, subject).toBe(200);
      expect(((await r.json()) as number[]).length, subject).toBeGreaterThan(0);
    }

    // The child has exited, so this process may open its embedded ClickHouse directory.
    const ch = await openClickHouse(testConfig({ CLICKHOUSE_DATA_DIR: env.CLICKHOUSE_DATA_DIR }).settings);
    try {
      const registry = createModelRegistry(ch, { modelDir: env.MODEL_DIR });
      for (const model of ['credit-risk', 'delivery-eta']) {
        expect((await registry.assignment(model)).champion, model).toBe('1');
        expect((await listProfiles(ch, model)).map((p) => p.version)).toEqual(['1']);
      }
      expect(readdirSync(env.MODEL_DIR).sort()).toEqual(['credit-risk', 'delivery-eta']);
    } finally {
      await ch.close();
    }
  }, 400_000);
});
