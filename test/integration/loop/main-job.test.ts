/**
 * Issue 11's main job on its normal path: the real launcher (`npm start` runs infra/run.sh, which
 * starts the local stack and then exactly this process) on the real Kafka broker and schema
 * registry, owning a fresh embedded ClickHouse directory that it serves over chdb-http. It must
 * start every component, print where to look, serve the status page and readiness, show drift rows
 * from the simulator's traffic through the API, and on SIGTERM stop every child and exit 0.
 *
 * Ports and names are private to this test (free ports, a unique topic namespace, temp data and
 * model directories), so it never collides with another test file or a running `npm start`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from './support.js';
import { uniqueName, waitFor } from '../../support/stack.js';
import { COMPONENTS } from '../../../services/launcher/components.js';

const ROOT = resolve(new URL('../../..', import.meta.url).pathname);

/** Pids of the launcher's direct children, from /proc (Linux): the supervised components. */
function childPids(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('main job (real launcher on the real stack)', () => {
  let launcher: ChildProcess;
  let out = '';
  let api = '';
  let started = 0;

  beforeAll(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dw-main-job-'));
    const [apiPort, chPort, scoringPort] = [await freePort(), await freePort(), await freePort()];
    api = `http://127.0.0.1:${apiPort}`;
    started = Date.now();
    launcher = spawn(process.execPath, ['--import', 'tsx', 'services/launcher/main.ts'], {
      cwd: ROOT,
      env: {
        ...process.env,
        TZ: 'UTC',
        DW_TOPIC_NAMESPACE: uniqueName('mainjob'),
        CLICKHOUSE_URL: '',
        CLICKHOUSE_DATA_DIR: join(dir, 'clickhouse'),
        CLICKHOUSE_HTTP_PORT: String(chPort),
        MODEL_DIR: join(dir, 'models'),
        API_PORT: String(apiPort),
        SCORING_HTTP_PORT: String(scoringPort),
        LOG_LEVEL: 'info',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    launcher.stdout!.on('data', (b: Buffer) => (out += b.toString()));
    launcher.stderr!.on('data', (b: Buffer) => (out += b.toString()));
  }, 30_000);

  afterAll(async () => {
    if (launcher && launcher.exitCode === null && launcher.signalCode === null) launcher.kill('SIGKILL');
  });

  it('starts every component, prints where to look, serves status and drift, and stops cleanly on SIGTERM', async () => {
    await waitFor('the launcher to print where to look', async () => out.includes('driftwatch is running. Where to look:') || undefined, 120_000, 250);
    const readyMs = Date.now() - started;
    for (const where of ['/status', '/docs', '/v1/drift?model=credit-risk', '/metrics', 'ClickHouse (HTTP)', 'docs/demo.md']) expect(out).toContain(where);
    for (const c of COMPONENTS) expect(out, `started ${c.name}`).toContain(`started ${c.name}`);
    const pids = childPids(launcher.pid!);
    expect(pids).toHaveLength(COMPONENTS.length);

    await waitFor(
      'readiness (Kafka, registry, ClickHouse)',
      async () => {
        const r = await fetch(`${api}/health/ready`).catch(() => undefined);
        return r?.status === 200 || undefined;
      },
      60_000,
      500,
    );
    const status = await fetch(`${api}/status`);
    expect(status.status).toBe(200);
    expect(status.headers.get('content-type')).toMatch(/text\/html/);

    // The simulator's traffic flows through scoring, ingest and window-metrics: drift rows appear.
    const drift = await waitFor(
      'drift rows for credit-risk through the API',
      async () => {
        const r = await fetch(`${api}/v1/drift?model=credit-risk`).catch(() => undefined);
        if (r?.status !== 200) return undefined;
        const body = (await r.json()) as { items?: Array<{ feature: string; method: string; score: number | null }> };
        return body.items && body.items.length > 0 ? body.items : undefined;
      },
      150_000,
      1_000,
    );
    const firstDriftMs = Date.now() - started;
    expect(drift[0]!.feature).toEqual(expect.any(String));
    expect(drift[0]!.method).toEqual(expect.any(String));
    console.log(`[main job] where-to-look printed after ${readyMs} ms; first drift rows via the API after ${firstDriftMs} ms`);

    const exited = new Promise<number | null>((res) => launcher.once('exit', (code) => res(code)));
    launcher.kill('SIGTERM');
    expect(await exited).toBe(0);
    for (const pid of pids) expect(alive(pid), `component pid ${pid} left running`).toBe(false);
  }, 330_000);
});
