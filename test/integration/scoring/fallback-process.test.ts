/**
 * The scoring service as a child process (node --import tsx services/scoring/main.ts) sharing the
 * real ClickHouse engine over HTTP (chdb-http): a corrupt model file triggers the fallback, flagged
 * and counted, and the service keeps running and serving.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEventCodec, type EventCodec } from '../../../lib/contracts/codec.js';
import { topicNames } from '../../../lib/contracts/topics.js';
import { createKafkaAdapter, type KafkaAdapter } from '../../../lib/runtime/kafka.js';
import { createModelRegistry, type ModelRegistry } from '../../../services/scoring/model-registry.js';
import { servedClickHouse, stackEnv, testConfig, testLogger, uniqueName, waitFor, type TestClickHouse } from '../../support/stack.js';
import { collect, featureEvents, produceFeatures, registerSample, type Collector } from './helpers.js';

const ns = uniqueName('it-scoring-fb');
const topics = topicNames(ns);
const cfg = testConfig({ DW_TOPIC_NAMESPACE: ns, KAFKA_TOPIC_PARTITIONS: '2' });
let tch: TestClickHouse & { url: string };
let modelDir: string;
let registry: ModelRegistry;
let kafka: KafkaAdapter;
let codec: EventCodec;
let child: ChildProcess;
let url = '';
let exitCode: number | null = null;
let out: Collector;
const logs: string[] = [];

beforeAll(async () => {
  tch = await servedClickHouse();
  modelDir = mkdtempSync(join(tmpdir(), 'dw-models-'));
  registry = createModelRegistry(tch.ch, { modelDir });
  await registerSample(registry, 'credit-risk', '1', 'champion');
  await registerSample(registry, 'credit-risk', '2');
  await registerSample(registry, 'delivery-eta', '1');
  kafka = createKafkaAdapter(cfg.settings, testLogger, 'scoring-fb-test');
  codec = createEventCodec(cfg.settings.SCHEMA_REGISTRY_URL, { maxPayloadBytes: 262144, maxFutureSkewMs: 3_600_000 }, topics);

  child = spawn(process.execPath, ['--import', 'tsx', 'services/scoring/main.ts'], {
    cwd: new URL('../../../', import.meta.url).pathname,
    env: {
      PATH: process.env.PATH,
      ...stackEnv(),
      CLICKHOUSE_URL: tch.url,
      MODEL_DIR: modelDir,
      DW_TOPIC_NAMESPACE: ns,
      KAFKA_TOPIC_PARTITIONS: '2',
      SCORING_CONSUMER_GROUP: uniqueName('scoring-fb'),
      SCORING_HTTP_PORT: '0',
      SCORING_MODEL_POLL_MS: '300',
      API_WRITE_TOKENS: 'w',
      LOG_LEVEL: 'info',
      TZ: 'UTC',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.on('exit', (code) => (exitCode = code));
  const onData = (b: Buffer) => {
    for (const line of b.toString('utf8').split('\n')) {
      if (!line) continue;
      logs.push(line);
      const m = /"url":"(http:\/\/[^"]+)"/.exec(line);
      if (m && line.includes('scoring HTTP listening')) url = m[1]!;
    }
  };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  await waitFor('scoring service ready', async () => url !== '' && (await fetch(`${url}/health/ready`)).status === 200, 60_000, 200).catch((err) => {
    throw new Error(`${(err as Error).message}\n${logs.slice(-20).join('\n')}`);
  });
  out = await collect(kafka, codec, topics);
}, 120_000);

afterAll(async () => {
  if (child && exitCode === null) {
    child.kill('SIGKILL');
  }
  await out?.stop();
  await kafka?.disconnect();
  await tch?.close();
  rmSync(modelDir, { recursive: true, force: true });
});

const served = (prefix: string) => out.predictions.filter((p) => p.value.event_id.startsWith(`${prefix}-`) && !p.value.is_shadow);
const W = { authorization: 'Bearer w', 'content-type': 'application/json' };

describe('scoring service process: fallbacks', () => {
  it('serves the champion before anything breaks', async () => {
    await produceFeatures(kafka, codec, topics, featureEvents('credit-risk', 100, 'ok', 41));
    await waitFor('100 predictions', async () => served('ok').length >= 100, 60_000);
    expect(served('ok').every((p) => p.value.model_version === '1' && p.value.fallback === null)).toBe(true);
  });

  it("falls back to the previous version when the promoted version's file is corrupt, flags and counts it, and keeps running", async () => {
    writeFileSync(join(modelDir, 'credit-risk/2/model.onnx'), Buffer.from('this is not an ONNX model'));
    const res = await fetch(`${url}/v1/models/credit-risk/promote`, { method: 'POST', headers: W, body: JSON.stringify({ version: '2' }) });
    expect(res.status).toBe(200);
    await produceFeatures(kafka, codec, topics, featureEvents('credit-risk', 100, 'fb', 42));
    await waitFor('100 fallback predictions', async () => served('fb').length >= 100, 60_000);
    expect(served('fb').every((p) => p.value.model_version === '1' && p.value.fallback === 'previous_version')).toBe(true);

    const sync = await fetch(`${url}/v1/predict`, {
      method: 'POST',
      headers: W,
      body: JSON.stringify({ model: 'credit-risk', instances: [{ features: { income: 50000, region: 'west' } }] }),
    });
    expect(sync.status).toBe(200);
    expect(((await sync.json()) as { predictions: unknown[] }).predictions[0]).toMatchObject({ model_version: '1', fallback: 'previous_version' });

    const metrics = await (await fetch(`${url}/metrics`)).text();
    expect(metrics).toMatch(/driftwatch_scoring_fallbacks_total\{model="credit-risk",reason="previous_version",component="scoring"\} 101/);
    expect(metrics).toMatch(/driftwatch_scoring_errors_total\{model="credit-risk",kind="load",component="scoring"\} [1-9]/);
    const state = (await (await fetch(`${url}/v1/models/credit-risk`)).json()) as { serving: { champion: unknown } };
    expect(state.serving.champion).toMatchObject({ version: '2', loaded: false, error: expect.stringMatching(/corrupt/) });
    expect(exitCode).toBeNull();
  });

  it('serves the default score for a model whose only version is corrupt, and dead-letters nothing', async () => {
    writeFileSync(join(modelDir, 'delivery-eta/1/model.onnx'), Buffer.from([0x08, 0x01, 0xff, 0xff]));
    await registry.promote('delivery-eta', '1', 'champion', { actor: 'test' });
    await produceFeatures(kafka, codec, topics, featureEvents('delivery-eta', 50, 'def', 43));
    await waitFor('50 default-score predictions', async () => served('def').length >= 50, 60_000);
    const meta = (await registry.getVersion('delivery-eta', '1')).metadata;
    for (const p of served('def'))
      expect(p.value).toMatchObject({ model_version: 'default', fallback: 'default_score', score: meta.default_score, predicted_value: meta.default_score });
    expect(out.deadLetters).toEqual([]);
    expect((await fetch(`${url}/health/live`)).status).toBe(200);
    expect(exitCode).toBeNull();
  });

  it('heals at once when the champion is rolled back to the healthy version; the process kept running throughout', async () => {
    // A rollback to the healthy version heals credit-risk at once.
    const rb = await fetch(`${url}/v1/models/credit-risk/rollback`, { method: 'POST', headers: W, body: JSON.stringify({ reason: 'corrupt v2' }) });
    expect(((await rb.json()) as { champion: string }).champion).toBe('1');
    await produceFeatures(kafka, codec, topics, featureEvents('credit-risk', 20, 'healed', 44));
    await waitFor('20 healthy predictions', async () => served('healed').length >= 20, 60_000);
    expect(served('healed').every((p) => p.value.model_version === '1' && p.value.fallback === null)).toBe(true);
    expect(exitCode).toBeNull();
  });

  it('stops cleanly on SIGTERM', async () => {
    child.kill('SIGTERM');
    await waitFor('exit', async () => exitCode !== null, 30_000, 100);
    expect(exitCode).toBe(0);
  });
});
