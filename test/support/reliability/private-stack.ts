/**
 * A private Kafka broker and schema registry for the scenarios that restart or stop them (the
 * shared stack on 19092/18081 serves every other test and must never be touched). It is the same
 * infra/local-stack.sh on a temporary DW_LOCAL_DIR and free ports; the fetched Kafka classpath and
 * registry assembly are symlinked from the repository's .local/ (which `npm test` fetches first), so
 * nothing is downloaded again.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { freePort } from './harness.js';

const run = promisify(execFile);
const ROOT = resolve(new URL('../../..', import.meta.url).pathname);
const SCRIPT = join(ROOT, 'infra/local-stack.sh');

export interface PrivateStack {
  readonly dir: string;
  /** KAFKA_BROKERS and SCHEMA_REGISTRY_URL of this stack, for a pipeline's env. */
  readonly env: { KAFKA_BROKERS: string; SCHEMA_REGISTRY_URL: string };
  /** Runs a local-stack.sh command on this stack (restart-kafka, stop-registry, start-registry ...); returns its wall time. */
  command(cmd: 'start' | 'stop' | 'restart-kafka' | 'stop-kafka' | 'start-kafka' | 'stop-registry' | 'start-registry' | 'status'): Promise<number>;
  stop(): Promise<void>;
}

export async function startPrivateStack(): Promise<PrivateStack> {
  const source = { kafka: join(ROOT, '.local/kafka/lib'), registry: join(ROOT, '.local/schema-registry/app') };
  for (const [what, dir] of Object.entries(source)) {
    if (!existsSync(join(dir, '.complete'))) throw new Error(`${what} is not fetched at ${dir}: run \`bash infra/local-stack.sh fetch\` (npm test does)`);
  }
  const dir = mkdtempSync(join(tmpdir(), 'dw-private-stack-'));
  mkdirSync(join(dir, 'kafka'), { recursive: true });
  mkdirSync(join(dir, 'schema-registry'), { recursive: true });
  symlinkSync(source.kafka, join(dir, 'kafka/lib'));
  symlinkSync(source.registry, join(dir, 'schema-registry/app'));
  const ports = { kafka: await freePort(), controller: await freePort(), registry: await freePort(), management: await freePort() };
  const env = {
    ...process.env,
    DW_LOCAL_DIR: dir,
    DW_KAFKA_PORT: String(ports.kafka),
    DW_KAFKA_CONTROLLER_PORT: String(ports.controller),
    DW_REGISTRY_PORT: String(ports.registry),
    DW_REGISTRY_MANAGEMENT_PORT: String(ports.management),
  };
  const command: PrivateStack['command'] = async (cmd) => {
    const began = Date.now();
    try {
      await run('bash', [SCRIPT, cmd], { env, maxBuffer: 16 * 1024 * 1024 });
    } catch (err) {
      const e = err as { stderr?: string; message: string };
      throw new Error(`local-stack.sh ${cmd} on the private stack failed: ${e.message}\n${e.stderr ?? ''}`);
    }
    return Date.now() - began;
  };
  await command('start');
  return {
    dir,
    env: { KAFKA_BROKERS: `127.0.0.1:${ports.kafka}`, SCHEMA_REGISTRY_URL: `http://127.0.0.1:${ports.registry}/apis/ccompat/v7` },
    command,
    async stop() {
      await command('stop').catch(() => undefined);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
