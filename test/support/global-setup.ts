/**
 * Runs once per `vitest run`. Integration tests need the real Kafka broker and schema registry; when
 * any integration test is selected and they are not reachable, the whole run fails with the reason.
 * There is deliberately no "skip if unavailable" path: CI must never pass quietly without Kafka.
 * The failure carries DW_INFRA_START_FAILED, the code infra/local-stack.sh prints when it cannot
 * start the stack (docs/errors.md), so both ends of "the stack is not there" read the same.
 */
import { connect } from 'node:net';
import { InfraStartError } from '../../lib/runtime/errors.js';
import { stackEnv } from './stack.js';

function portOpen(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host, port });
    s.setTimeout(2000);
    s.once('connect', () => (s.destroy(), resolve(true)));
    s.once('error', () => resolve(false));
    s.once('timeout', () => (s.destroy(), resolve(false)));
  });
}

export default async function setup({ config }: { config: { include?: string[] } }): Promise<void> {
  const argv = process.argv.join(' ');
  const unitOnly =
    process.env.DW_UNIT_ONLY === '1' ||
    (/test\/lib|test\/stream-processors|test\/services|test\/dashboards|test\/alert-rules|test\/infra|test\/bench|test\/compose/.test(argv) &&
      !/integration/.test(argv));
  void config;
  if (unitOnly) return;
  const env = stackEnv();
  const [host, port] = env.KAFKA_BROKERS.split(',')[0]!.split(':');
  const problems: string[] = [];
  if (!(await portOpen(host!, Number(port)))) problems.push(`Kafka is not reachable at ${env.KAFKA_BROKERS}`);
  try {
    const r = await fetch(`${env.SCHEMA_REGISTRY_URL}/subjects`);
    if (!r.ok) problems.push(`schema registry at ${env.SCHEMA_REGISTRY_URL} answered ${r.status}`);
  } catch (err) {
    problems.push(`schema registry is not reachable at ${env.SCHEMA_REGISTRY_URL}: ${(err as Error).message}`);
  }
  if (problems.length > 0) {
    throw new InfraStartError(
      `${InfraStartError.code}: integration tests need the local stack: ${problems.join('; ')}.\n` +
        `Run the README's test command (npm test), which starts it, or start it with: bash infra/local-stack.sh start ` +
        `(its own DW_INFRA_START_FAILED message says why it cannot start).`,
      { problems },
    );
  }
}
