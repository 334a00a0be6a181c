/**
 * Simulator: feature and outcome traffic for the sample models, with drift scenarios.
 *
 *   node --import tsx services/simulator/main.ts [--scenario covariate|stationary|prior|concept|broken|file.yaml]
 *        [--rate 200] [--speed 60] [--lookback 6h] [--align 15m] [--seed 42] [--duration 10m] [--encoding avro|json]
 *
 * Features go to `<ns>.features.v1` (the scoring service turns them into predictions), outcomes to
 * `<ns>.outcomes.v1` keyed by prediction_id once their simulated delay has passed. Event time starts
 * `--lookback` in the past and runs `--speed` times faster than the wall clock, so hours of traffic
 * and label delay fit into minutes; it never runs ahead of the real clock. `--align` moves that start
 * back to a multiple of a duration (the window size), so the first window is a whole one.
 * Flags can also come from the environment (SIM_SCENARIO, SIM_RATE, SIM_SPEED, SIM_LOOKBACK, SIM_ALIGN,
 * SIM_SEED, SIM_DURATION, SIM_ENCODING), which is how the launcher configures it.
 */
import { parseArgs } from 'node:util';
import { createEventCodec } from '../../lib/contracts/codec.js';
import { topicNames } from '../../lib/contracts/topics.js';
import { createRuntime, runMain } from '../../lib/runtime/process.js';
import { createSimulatorState, simulatedNow, simulationStart, tick } from './core.js';
import { loadScenario, parseDuration } from './scenario.js';

const env = process.env;
const { values } = parseArgs({
  options: {
    scenario: { type: 'string', default: env.SIM_SCENARIO ?? 'covariate' },
    rate: { type: 'string', default: env.SIM_RATE ?? '200' },
    speed: { type: 'string', default: env.SIM_SPEED ?? '60' },
    lookback: { type: 'string', default: env.SIM_LOOKBACK ?? '6h' },
    align: { type: 'string', default: env.SIM_ALIGN ?? '' },
    seed: { type: 'string', default: env.SIM_SEED ?? '42' },
    duration: { type: 'string', default: env.SIM_DURATION ?? '' },
    encoding: { type: 'string', default: env.SIM_ENCODING ?? 'avro' },
  },
});

runMain('simulator', async () => {
  const rt = createRuntime('simulator');
  const s = rt.config.settings;
  const problems: string[] = [];
  const requestedLookbackMs = parseDuration(values.lookback, '--lookback', problems);
  const alignMs = values.align ? parseDuration(values.align, '--align', problems) : undefined;
  const durationMs = values.duration ? parseDuration(values.duration, '--duration', problems) : Infinity;
  const rate = Number(values.rate);
  const speed = Number(values.speed);
  if (!(rate > 0)) problems.push('--rate: events per wall second, > 0');
  if (!(speed >= 1)) problems.push('--speed: simulated seconds per wall second, >= 1');
  if (values.encoding !== 'avro' && values.encoding !== 'json') problems.push('--encoding: avro or json');
  if (problems.length > 0) throw new Error(`simulator: ${problems.join('; ')}`);
  const scenario = loadScenario(values.scenario!);
  const topics = topicNames(s.DW_TOPIC_NAMESPACE);
  const codec = createEventCodec(s.SCHEMA_REGISTRY_URL, { maxPayloadBytes: s.MAX_PAYLOAD_BYTES, maxFutureSkewMs: s.MAX_FUTURE_SKEW_MS }, topics, {
    requestTimeoutMs: s.SCHEMA_REGISTRY_TIMEOUT_MS,
  });
  await codec.registerAll();
  const producer = await rt.kafka().producer();
  rt.onShutdown(() => producer.disconnect());

  const wallStart = Date.now();
  const simStart = simulationStart(wallStart, requestedLookbackMs, alignMs);
  const lookbackMs = wallStart - simStart;
  const state = createSimulatorState(scenario, Number(values.seed), simStart);
  let simCursor = simStart;
  let lastPhase = '';
  let carry = 0;
  const TICK_MS = 100;
  rt.logger.info(
    { scenario: scenario.name, phases: scenario.phases.map((p) => p.name), rate, speed, lookbackMs, simStart: new Date(simStart).toISOString() },
    'simulator started',
  );

  for (;;) {
    const wallNow = Date.now();
    if (wallNow - wallStart >= durationMs) break;
    const simNow = simulatedNow(wallStart, wallNow, lookbackMs, speed);
    if (simNow > simCursor) {
      carry += (rate * TICK_MS) / 1000;
      const count = Math.floor(carry);
      carry -= count;
      const out = tick(state, simCursor, simNow, count);
      simCursor = simNow;
      if (out.phase !== lastPhase) {
        rt.logger.info({ phase: out.phase, simTime: new Date(simNow).toISOString() }, `scenario phase: ${out.phase}`);
        lastPhase = out.phase;
      }
      const encode = async (topic: string, v: object) => (values.encoding === 'json' ? Buffer.from(JSON.stringify(v)) : codec.encode(topic, v));
      const records = [
        ...(await Promise.all(out.features.map(async (f) => ({ topic: topics.features, key: f.entity_id, value: await encode(topics.features, f) })))),
        ...(await Promise.all(out.outcomes.map(async (o) => ({ topic: topics.outcomes, key: o.prediction_id, value: await encode(topics.outcomes, o) })))),
      ];
      await producer.send(records);
      rt.metrics.eventsProduced.inc({ topic: topics.features }, out.features.length);
      rt.metrics.eventsProduced.inc({ topic: topics.outcomes }, out.outcomes.length);
    }
    const spent = Date.now() - wallNow;
    await new Promise((r) => setTimeout(r, Math.max(0, TICK_MS - spent)));
  }
  rt.logger.info({ emitted: state.emitted }, 'simulator finished');
  await rt.shutdown(0);
});
