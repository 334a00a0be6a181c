/**
 * infra/local-stack.sh without starting a broker: a port already in use is a clear, coded error
 * (DW_INFRA_START_FAILED, exit 2) and never a hang, and stop/status trust a pid file only while its
 * pid still runs this stack's program.
 *
 * Isolation from the shared local stack (the one the integration tests use, on the default ports,
 * with its pid files in <repo>/.local/): every run here gets its own DW_LOCAL_DIR in a temp
 * directory, so the script's data and pid files are there, and every DW_*_PORT is an ephemeral port
 * this test picked. The script is never run without both.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import setup from '../support/global-setup.js';

const SCRIPT = fileURLToPath(new URL('../../infra/local-stack.sh', import.meta.url));
const SHARED_LOCAL = resolve(fileURLToPath(new URL('../../.local', import.meta.url)));
/** The script must finish well within this; a hang fails the test instead of stalling the run. */
const EXIT_WITHIN_MS = 15_000;

let dir: string;
const held: Server[] = [];
const children: ChildProcess[] = [];

/** A listening socket on 127.0.0.1 (port 0: the kernel picks a free ephemeral port). */
async function holdPort(): Promise<number> {
  const server = createServer((socket) => socket.destroy());
  await new Promise<void>((ok, fail) => server.once('error', fail).listen(0, '127.0.0.1', () => ok()));
  held.push(server);
  return (server.address() as { port: number }).port;
}

/** A port that was free a moment ago (bound, then released). */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((ok, fail) => server.once('error', fail).listen(0, '127.0.0.1', () => ok()));
  const { port } = server.address() as { port: number };
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

interface Run {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly ms: number;
}

function runScript(args: string[], ports: Record<string, number>): Promise<Run> {
  for (const k of ['DW_KAFKA_PORT', 'DW_KAFKA_CONTROLLER_PORT', 'DW_REGISTRY_PORT', 'DW_REGISTRY_MANAGEMENT_PORT']) {
    // Every port explicit: a default would be the shared stack's.
    if (!ports[k]) throw new Error(`runScript needs ${k}`);
  }
  expect(resolve(dir)).not.toBe(SHARED_LOCAL);
  const started = Date.now();
  return new Promise((done, fail) => {
    const child = spawn('bash', [SCRIPT, ...args], {
      env: {
        PATH: process.env.PATH ?? '',
        HOME: process.env.HOME ?? '',
        DW_LOCAL_DIR: dir,
        DW_READY_TIMEOUT_S: '5',
        ...Object.fromEntries(Object.entries(ports).map(([k, v]) => [k, String(v)])),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString('utf8')));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      fail(new Error(`local-stack.sh ${args.join(' ')} still running after ${EXIT_WITHIN_MS} ms (a hang); stderr: ${stderr}`));
    }, EXIT_WITHIN_MS);
    child.once('close', (code) => {
      clearTimeout(timer);
      done({ code, stdout, stderr, ms: Date.now() - started });
    });
  });
}

/** Marks both downloads present in `dir`, as a previous `fetch` would, so `start` goes straight to its port checks. */
function markFetched(): void {
  mkdirSync(join(dir, 'kafka/lib'), { recursive: true });
  writeFileSync(join(dir, 'kafka/lib/.complete'), '');
  mkdirSync(join(dir, 'schema-registry/app'), { recursive: true });
  writeFileSync(join(dir, 'schema-registry/app/.complete'), '');
}

/** A long-lived child whose command line carries `args` (what the pid checks look at). */
function impostor(...args: string[]): ChildProcess {
  const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)', '--', ...args], { stdio: 'ignore' });
  children.push(child);
  return child;
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

async function ports(): Promise<Record<string, number>> {
  return {
    DW_KAFKA_PORT: await freePort(),
    DW_KAFKA_CONTROLLER_PORT: await freePort(),
    DW_REGISTRY_PORT: await freePort(),
    DW_REGISTRY_MANAGEMENT_PORT: await freePort(),
  };
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'dw-local-stack-'));
});

afterEach(async () => {
  await Promise.all(held.splice(0).map((s) => new Promise<void>((r) => s.close(() => r()))));
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  for (const f of readdirSync(dir)) rmSync(join(dir, f), { recursive: true, force: true });
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('local-stack.sh: a port already in use', () => {
  it.each(['DW_KAFKA_PORT', 'DW_KAFKA_CONTROLLER_PORT'])('start fails at once with DW_INFRA_START_FAILED naming %s, exit 2', async (key) => {
    markFetched();
    const p = { ...(await ports()), [key]: await holdPort() };
    const r = await runScript(['start'], p);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toContain(`DW_INFRA_START_FAILED: port ${p[key]} is already in use by another process; set DW_KAFKA_PORT / DW_KAFKA_CONTROLLER_PORT`);
    expect(r.ms).toBeLessThan(EXIT_WITHIN_MS);
    // Nothing was launched: no pid file, no broker config written for a broker that never ran.
    expect(existsSync(join(dir, 'kafka/kafka.pid'))).toBe(false);
    expect(existsSync(join(dir, 'kafka/server.properties'))).toBe(false);
  });

  it('start-registry fails at once with DW_INFRA_START_FAILED naming the registry port, exit 2', async () => {
    markFetched();
    const p = { ...(await ports()), DW_REGISTRY_PORT: await holdPort() };
    const r = await runScript(['start-registry'], p);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toContain(`DW_INFRA_START_FAILED: port ${p.DW_REGISTRY_PORT} is already in use by another process; set DW_REGISTRY_PORT`);
    expect(existsSync(join(dir, 'schema-registry/registry.pid'))).toBe(false);
  });

  it('start-registry names a management port in use too', async () => {
    markFetched();
    const p = { ...(await ports()), DW_REGISTRY_MANAGEMENT_PORT: await holdPort() };
    const r = await runScript(['start-registry'], p);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toContain(
      `DW_INFRA_START_FAILED: port ${p.DW_REGISTRY_MANAGEMENT_PORT} (registry management) is already in use; set DW_REGISTRY_MANAGEMENT_PORT`,
    );
  });

  it('env reports the overridden ports, so tests and tools follow them', async () => {
    const p = await ports();
    const r = await runScript(['env'], p);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`KAFKA_BROKERS=127.0.0.1:${p.DW_KAFKA_PORT}\nSCHEMA_REGISTRY_URL=http://127.0.0.1:${p.DW_REGISTRY_PORT}/apis/ccompat/v7\n`);
  });
});

describe('local-stack.sh: pid files are checked against the running program', () => {
  it('stop does not signal a recycled pid (another program), and drops the stale pid files', async () => {
    const other = impostor('not-a-broker');
    mkdirSync(join(dir, 'kafka'), { recursive: true });
    mkdirSync(join(dir, 'schema-registry'), { recursive: true });
    writeFileSync(join(dir, 'kafka/kafka.pid'), `${other.pid}\n`);
    writeFileSync(join(dir, 'schema-registry/registry.pid'), `${other.pid}\n`);
    const p = await ports();
    const status = await runScript(['status'], p);
    expect(status.stdout).toMatch(/^kafka 127\.0\.0\.1:\d+: down$/m);
    expect(status.stdout).toMatch(/^schema-registry .*: down$/m);
    const r = await runScript(['stop'], p);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).not.toContain('stopping');
    expect(r.stderr).toContain(`stale pid file ${join(dir, 'kafka/kafka.pid')}: pid ${other.pid} is gone or is another program; not signalled`);
    await new Promise((res) => setTimeout(res, 300));
    expect(alive(other.pid!)).toBe(true);
    expect(existsSync(join(dir, 'kafka/kafka.pid'))).toBe(false);
    expect(existsSync(join(dir, 'schema-registry/registry.pid'))).toBe(false);
  });

  it("does not signal another stack's broker or registry (same main class, another DW_LOCAL_DIR)", async () => {
    const otherKafka = impostor('kafka.Kafka', '/elsewhere/.local/kafka/server.properties');
    const otherRegistry = impostor('-Dapicurio.datasource.url=jdbc:h2:file:/elsewhere/.local/schema-registry/data/registry', '-jar', 'quarkus-run.jar');
    mkdirSync(join(dir, 'kafka'), { recursive: true });
    mkdirSync(join(dir, 'schema-registry'), { recursive: true });
    writeFileSync(join(dir, 'kafka/kafka.pid'), `${otherKafka.pid}\n`);
    writeFileSync(join(dir, 'schema-registry/registry.pid'), `${otherRegistry.pid}\n`);
    const r = await runScript(['stop'], await ports());
    expect(r.code, r.stderr).toBe(0);
    await new Promise((res) => setTimeout(res, 300));
    expect(alive(otherKafka.pid!)).toBe(true);
    expect(alive(otherRegistry.pid!)).toBe(true);
  });

  it("stops the processes whose command line is this stack's (the check is not a blanket refusal)", async () => {
    const kafka = impostor('kafka.Kafka', join(dir, 'kafka/server.properties'));
    const registry = impostor(
      `-Dapicurio.datasource.url=jdbc:h2:file:${join(dir, 'schema-registry/data/registry')};DB_CLOSE_ON_EXIT=FALSE`,
      '-jar',
      'quarkus-run.jar',
    );
    mkdirSync(join(dir, 'kafka'), { recursive: true });
    mkdirSync(join(dir, 'schema-registry'), { recursive: true });
    writeFileSync(join(dir, 'kafka/kafka.pid'), `${kafka.pid}\n`);
    writeFileSync(join(dir, 'schema-registry/registry.pid'), `${registry.pid}\n`);
    const p = await ports();
    expect((await runScript(['status'], p)).stdout).toMatch(/^schema-registry .*: up \(pid \d+\)$/m);
    const exited = Promise.all([kafka, registry].map((c) => new Promise((res) => c.once('exit', res))));
    const r = await runScript(['stop'], p);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain(`stopping kafka (pid ${kafka.pid})`);
    expect(r.stderr).toContain(`stopping schema registry (pid ${registry.pid})`);
    await exited;
    expect(alive(kafka.pid!)).toBe(false);
    expect(alive(registry.pid!)).toBe(false);
  });
});

describe('the test setup when the stack is not there', () => {
  it('fails the run with DW_INFRA_START_FAILED and what is unreachable (never a skip)', async () => {
    const saved = { KAFKA_BROKERS: process.env.KAFKA_BROKERS, SCHEMA_REGISTRY_URL: process.env.SCHEMA_REGISTRY_URL, DW_UNIT_ONLY: process.env.DW_UNIT_ONLY };
    const kafkaPort = await freePort();
    const registryPort = await freePort();
    process.env.KAFKA_BROKERS = `127.0.0.1:${kafkaPort}`;
    process.env.SCHEMA_REGISTRY_URL = `http://127.0.0.1:${registryPort}/apis/ccompat/v7`;
    process.env.DW_UNIT_ONLY = '0';
    try {
      const failure = setup({ config: {} });
      await expect(failure).rejects.toMatchObject({ code: 'DW_INFRA_START_FAILED', retriable: false });
      await expect(failure).rejects.toThrow(
        new RegExp(
          `^DW_INFRA_START_FAILED: integration tests need the local stack: Kafka is not reachable at 127\\.0\\.0\\.1:${kafkaPort}; schema registry is not reachable at http://127\\.0\\.0\\.1:${registryPort}/`,
        ),
      );
    } finally {
      for (const [k, v] of Object.entries(saved)) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
    }
  });
});
