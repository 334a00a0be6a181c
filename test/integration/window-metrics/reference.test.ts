/**
 * Reference profiles in ClickHouse: the CLI (as a child process, like an operator runs it), versioning,
 * and profiles from a stored time range of labeled or raw predictions.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toClickHouseTime } from '../../../lib/runtime/clickhouse/client.js';
import { buildAndStoreReferenceProfile, buildReferenceFromTimeRange, listProfiles, loadLatestProfile } from '../../../lib/reference/store.js';
import { servedClickHouse, stackEnv, type TestClickHouse } from '../../support/stack.js';
import { referenceRows } from '../../support/window-stream.js';
import { MONITORING_YAML } from './support.js';

describe('reference profiles (CLI, versioning, time ranges)', () => {
  let t: TestClickHouse & { url: string };
  const dir = mkdtempSync(join(tmpdir(), 'dw-ref-'));

  beforeAll(async () => {
    t = await servedClickHouse();
  });
  afterAll(async () => {
    await t?.close();
  });

  // Asynchronous spawn: the ClickHouse HTTP front the child talks to is served by this process.
  function cli(...args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
    writeFileSync(join(dir, 'cfg.yaml'), MONITORING_YAML);
    const child = spawn(process.execPath, ['--import', 'tsx', 'stream-processors/window-metrics/cli.ts', ...args], {
      env: {
        ...process.env,
        ...stackEnv(),
        CLICKHOUSE_URL: t.url,
        CLICKHOUSE_DATABASE: 'driftwatch',
        DW_CONFIG_FILE: join(dir, 'cfg.yaml'),
        LOG_LEVEL: 'silent',
      },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    return new Promise((resolve) => child.on('close', (status) => resolve({ status, stdout, stderr })));
  }

  it('builds versioned profiles from a CSV file through the CLI', async () => {
    const rows = referenceRows(7, 1500);
    const header = Object.keys(rows[0]!);
    const csv = [header.join(','), ...rows.map((r) => header.map((h) => String(r[h])).join(','))].join('\n');
    writeFileSync(join(dir, 'train.csv'), csv);
    const first = await cli('reference', 'build', '--model', 'credit', '--version', 'v1', '--file', join(dir, 'train.csv'));
    expect(first.status, first.stderr).toBe(0);
    const out = JSON.parse(first.stdout);
    expect(out).toMatchObject({
      model: 'credit',
      version: 'v1',
      profileVersion: 1,
      rowCount: 1500,
      task: 'binary',
      features: ['c1', 'x1', 'x2', 'x3', 'x4', 'x5'],
    });
    expect(out.calibration).toMatchObject({ reason: expect.any(String) });
    expect(out.kpiBaselines.conversion_rate).toBeGreaterThan(0);
    expect(out.source).toMatch(/^file:train\.csv sha256:[0-9a-f]{16}$/);
    const second = await cli('reference', 'build', '--model', 'credit', '--version', 'v1', '--file', join(dir, 'train.csv'));
    expect(JSON.parse(second.stdout).profileVersion).toBe(2);
    const list = JSON.parse((await cli('reference', 'list', '--model', 'credit')).stdout);
    expect(list.map((p: { profileVersion: number }) => p.profileVersion)).toEqual([2, 1]);
    const bad = await cli('reference', 'build', '--model', 'credit');
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/missing --version, --file/);
    writeFileSync(join(dir, 'broken.csv'), 'a,b\n1,2,3\n');
    const broken = await cli('reference', 'build', '--model', 'credit', '--version', 'v9', '--file', join(dir, 'broken.csv'));
    expect(broken.status).toBe(1);
    expect(broken.stderr).toMatch(/DW_REFERENCE_DATA_INVALID/);
  }, 120_000);

  it('builds a profile from a stored time range of labeled predictions, else raw predictions', async () => {
    const base = Math.floor(Date.now() / 1000) * 1000 - 86_400_000; // inside the raw-event TTL
    const rows = referenceRows(8, 400);
    await t.ch.client.insert({
      table: 'labeled_predictions',
      format: 'JSONEachRow',
      values: rows.map((r, i) => ({
        prediction_id: `p${i}`,
        model_name: 'range',
        model_version: 'v1',
        is_shadow: false,
        prediction_time: toClickHouseTime(base + i * 1000),
        status: 'LABELED',
        is_labeled: 1,
        score: r.score,
        probabilities: {},
        predicted_label: r.predicted_label,
        predicted_value: null,
        num_features: { x1: r.x1, x2: r.x2, x3: r.x3, x4: r.x4, x5: r.x5 },
        cat_features: { c1: r.c1 },
        bool_features: {},
        missing_features: [],
        segment: {},
        label: r.label,
        target_value: null,
        outcome_time: toClickHouseTime(base + i * 1000 + 500),
        label_delay_ms: 500,
        business: { converted: r['business.converted'] },
        outcome_event_id: `o${i}`,
        emitted_at: toClickHouseTime(base),
      })),
    });
    const built = await buildReferenceFromTimeRange(t.ch, { model: 'range', version: 'v1', from: base, to: base + 300_000 });
    expect(built).toMatchObject({ profileVersion: 1, rowCount: 300, task: 'binary' });
    expect(built.source).toMatch(/^labeled_predictions:/);
    const stored = await loadLatestProfile(t.ch, 'range', 'v1');
    expect(stored!.features.features.x1!.count).toBe(300);
    expect(stored!.calibration).not.toBeNull();

    await t.ch.client.insert({
      table: 'raw_predictions',
      format: 'JSONEachRow',
      values: rows.slice(0, 50).map((r, i) => ({
        event_id: `e${i}`,
        prediction_id: `q${i}`,
        model_name: 'range',
        model_version: 'v2',
        event_time: toClickHouseTime(base + i * 1000),
        num_features: { x1: r.x1 },
        cat_features: {},
        bool_features: {},
        missing_features: ['x2'],
        score: r.score,
        probabilities: {},
        predicted_label: null,
        predicted_value: null,
        latency_ms: null,
        segment: {},
        is_shadow: false,
        fallback: null,
        encoding: 'json',
        schema_id: null,
        source_topic: 't',
        source_partition: 0,
        source_offset: i,
        ingested_at: toClickHouseTime(base),
      })),
    });
    const raw = await buildReferenceFromTimeRange(t.ch, { model: 'range', version: 'v2', from: base, to: base + 3_600_000 });
    expect(raw).toMatchObject({ rowCount: 50, features: ['x1', 'x2'], calibration: null });
    expect(raw.source).toMatch(/^raw_predictions:/);
    await expect(buildReferenceFromTimeRange(t.ch, { model: 'range', version: 'v3', from: base, to: base + 1 })).rejects.toThrow(/no stored predictions/);
  });

  it('accepts rows from the API and lists profiles', async () => {
    const r = await buildAndStoreReferenceProfile(t.ch, {
      model: 'api',
      version: 'v1',
      rows: [
        { features: { a: 1 }, score: 0.2 },
        { a: 2, score: 0.7 },
      ],
    });
    expect(r).toMatchObject({ profileVersion: 1, rowCount: 2, features: ['a'], source: 'rows:2' });
    expect((await listProfiles(t.ch, 'api')).length).toBe(1);
    await expect(buildAndStoreReferenceProfile(t.ch, { model: 'api', version: 'v1' })).rejects.toThrow(/exactly one of rows, file or text/);
  });
});
