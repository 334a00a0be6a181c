/**
 * The status page in a real browser (Debian's headless Chromium through playwright-core) against the
 * real API process, on data the real loop produced (test/integration/loop/support.ts): drift per
 * feature, performance, KPIs, alerts and the retrain event must be on the page, matching ClickHouse.
 * A screenshot goes to .local/status-page.png.
 *
 * Chromium is required: without /usr/bin/chromium (apt-get install -y chromium) this test FAILS, it
 * does not skip.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type BrowserContext } from 'playwright-core';
import { MODEL, startLoop, type Loop } from '../loop/support.js';
import { waitFor } from '../../support/stack.js';

const CHROMIUM = '/usr/bin/chromium';
const ROOT = resolve(new URL('../../..', import.meta.url).pathname);
const SCREENSHOT = join(ROOT, '.local/status-page.png');

describe('status page in headless Chromium (real API, real loop data)', () => {
  let loop: Loop;
  let browser: BrowserContext | undefined;
  let profileDir = '';

  beforeAll(async () => {
    loop = await startLoop({ api: true });
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    if (profileDir) rmSync(profileDir, { recursive: true, force: true });
    await loop?.stop();
  }, 60_000);

  it('shows drift per feature, performance, KPIs, alerts and the retrain event from real data', async () => {
    expect(existsSync(CHROMIUM), `${CHROMIUM} is missing: apt-get install -y chromium`).toBe(true);
    // Wait for the loop: the retrain event, the promotion, and KPI rows with a baseline.
    const key = await waitFor(
      'the retrain event and its promotion',
      async () => {
        const r = await loop.rows<{ key: string }>(
          `SELECT e.idempotency_key AS key FROM retrain_events AS e FINAL
             INNER JOIN (SELECT idempotency_key FROM retrain_runs FINAL WHERE step = 'promoted') AS r ON r.idempotency_key = e.idempotency_key
             WHERE e.model_name = {m:String}`,
          { m: MODEL },
        );
        return r[0]?.key;
      },
      180_000,
      500,
    );
    await waitFor(
      'v2 drift, performance and KPI rows',
      async () => {
        const r = await loop.rows<{ d: string; p: string; k: string }>(
          `SELECT (SELECT count() FROM drift_metrics FINAL WHERE model_name = {m:String} AND model_version = '2' AND segment = '') AS d,
                    (SELECT count() FROM performance_metrics FINAL WHERE model_name = {m:String} AND model_version = '2' AND segment = '' AND kind = 'realized' AND n_labeled > 0) AS p,
                    (SELECT count() FROM kpi_metrics FINAL WHERE model_name = {m:String} AND model_version = '2' AND segment = '' AND value IS NOT NULL) AS k`,
          { m: MODEL },
        );
        return Number(r[0]!.d) > 0 && Number(r[0]!.p) > 0 && Number(r[0]!.k) > 0;
      },
      // v2's first window must close and its labels arrive; on a loaded 2-core machine that took >90 s.
      240_000,
      500,
    );

    profileDir = mkdtempSync(join(tmpdir(), 'dw-chromium-'));
    // A fresh profile directory per run; playwright passes it to Chromium as --user-data-dir.
    browser = await chromium.launchPersistentContext(profileDir, {
      executablePath: CHROMIUM,
      viewport: { width: 1280, height: 900 },
      headless: true,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
    const page = await browser.newPage();
    const consoleErrors: string[] = [];
    // Chromium's own favicon request is not the page's doing; every other failed response is an error.
    page.on('response', (r) => r.status() >= 400 && !r.url().endsWith('/favicon.ico') && consoleErrors.push(`${r.status()} ${r.url()}`));
    page.on('pageerror', (e) => consoleErrors.push(e.message));
    await page.goto(`${loop.apiUrl}/status`);
    await page.waitForSelector('#dw-status[data-state="ready"]', { timeout: 30_000 });

    const section = page.locator(`section.dw-model[data-model="${MODEL}"]`);
    await expect(section.locator('h2').textContent()).resolves.toContain('champion 2');

    // Drift per feature: every credit-risk input has a row, and the page's verdicts equal ClickHouse's latest window.
    const drift = section.locator('table[data-panel="drift"] tr[data-feature]');
    const features = await drift.evaluateAll((rows) => rows.map((r) => [r.getAttribute('data-feature'), r.getAttribute('data-drift')]));
    const shown = new Map(features as [string, string][]);
    for (const f of ['income', 'age', 'debt_ratio', 'credit_lines', 'utilization', 'region', 'device']) expect(shown.has(f), `drift row for ${f}`).toBe(true);
    // Each verdict on the page is the one stored for that feature and the window the page names.
    for (const [feature, verdict] of shown) {
      const windowText = await section.locator(`table[data-panel="drift"] tr[data-feature="${feature}"] td[data-col="window_start"]`).textContent();
      const stored = await loop.rows<{ drift: number }>(
        `SELECT drift FROM drift_metrics FINAL WHERE model_name = {m:String} AND segment = '' AND feature = {f:String} AND window_start = parseDateTime64BestEffort({w:String}, 3, 'UTC')`,
        { m: MODEL, f: feature, w: windowText ?? '' },
      );
      expect(
        stored.map((r) => String(Boolean(Number(r.drift)))),
        `stored drift of ${feature} in ${windowText}`,
      ).toContain(verdict);
    }

    // Performance, KPIs, alerts, retrain events: real rows, not the empty placeholder.
    const perf = await section
      .locator('table[data-panel="performance"] tr[data-metric]')
      .evaluateAll((rows) => rows.map((r) => `${r.getAttribute('data-metric')}/${r.getAttribute('data-kind')}`));
    expect(perf).toEqual(expect.arrayContaining(['accuracy/realized', 'roc_auc/realized', 'label_coverage/realized', 'accuracy/estimated']));
    const kpis = await section.locator('table[data-panel="kpis"] tr[data-kpi]').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-kpi')));
    expect(kpis).toEqual(expect.arrayContaining(['default_rate', 'approval_rate', 'revenue_per_loan']));
    const alerts = await section.locator('table[data-panel="alerts"] tr[data-alert-id]').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-status')));
    expect(alerts).toContain('FIRING');
    const retrains = await section
      .locator('table[data-panel="retrains"] tr[data-retrain-key]')
      .evaluateAll((rows) => rows.map((r) => r.getAttribute('data-retrain-key')));
    expect(retrains).toEqual([key]);
    await expect(section.locator('table[data-panel="retrains"]').textContent()).resolves.toContain('credit-risk-drift');
    expect(await section.locator('td[data-empty]').count(), 'no empty panel').toBe(0);
    mkdirSync(join(ROOT, '.local'), { recursive: true });
    await page.screenshot({ path: SCREENSHOT, fullPage: true });
    expect(existsSync(SCREENSHOT)).toBe(true);
    expect(consoleErrors).toEqual([]);
  }, 540_000);
});
