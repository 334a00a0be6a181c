/**
 * Drift benchmark. Three parts, all written to bench/results/drift.json (bench/lib.ts SuiteResult;
 * the full figures of each part under `details`):
 *
 *   npx tsx bench/drift.bench.ts                     all parts: fixed size, rows axis, features axis
 *   npx tsx bench/drift.bench.ts --parts rows        only the named parts (fixed, rows, features)
 *   npx tsx bench/drift.bench.ts --quick             a short harness check (small sizes, 2 repeats)
 *   options: --sweep-max 1e6  --sweep-min 1e4  --sweep-repeats 3  --raw-max 1e7  --scipy-max 1e7
 *            --features-axis 12,60,240  --features-rows 1e6  --skip-scipy  --python python3
 *            --sweep (= --parts rows)  --fixed (= --parts fixed)
 *   (`npm run bench drift -- --parts rows --sweep-max 1e6` passes the same flags.)
 * One invocation writes one result file: the parts it did not run are absent from it.
 *
 * Fixed size: 50 numeric + 10 categorical features, 100k-row reference, 1M-row current window.
 * Measures, each repeated `repeats` times (median, min, max, spread):
 *  (a) evaluateDrift on a window summary (streaming path; target < 1 s) and the raw-sample path
 *      (exact methods run on the full 1M-value columns, as evaluateDriftOnSamples does after
 *      extracting columns; row objects are not materialised for 1M rows to keep memory sane);
 *  (b) per-event updateWindowSummary throughput in feature values/s (target >= 1M/s), measured before
 *      the raw-sample path so that path's garbage (1M-value sorted copies) does not tax it; wall-clock
 *      and per-CPU-second rates are both reported because the machine may be shared.
 * Data is generated column-wise into typed arrays from mulberry32 and streamed into the summary with
 * the columnar fast path.
 *
 * Scaling (issue #12): how the cost of one window grows with the work, on two axes that cross at
 * 12 features x 1e6 rows:
 *  - rows axis (`runDriftSweep`): n = 1e4, 1e5, 1e6, 1e7 rows of 10 numeric + 2 categorical
 *    features against one fixed 100k-row reference;
 *  - features axis (`runDriftFeatures`): F = 12, 60, 240 features (5/6 numeric, 1/6 categorical, as
 *    in the fixed run) at 1e6 rows each, every F with its own 100k-row reference; `--features-rows`
 *    takes a list, so `--features-rows 1e5,1e6` measures a features x rows grid.
 * Per point (n rows, F features):
 *  (a) building the window summary from the rows: per event (`updateWindowSummary`, what the
 *      window-metrics processor calls for every prediction) and columnar (`updateNumericColumn` /
 *      `updateCategoricalColumn`); both must give the same summary, which is checked;
 *  (b) `evaluateDrift` on that summary, with the processor's default config and with every method the
 *      scipy reference computes (KS, W1, PSI numeric; chi² GoF, chi² contingency, PSI, JS categorical);
 *  (c) the exact raw-sample path: the same methods via runMethod on the raw columns (skipped above
 *      --raw-max rows, and the output says so);
 *  (d) the scipy/numpy reference bench/reference/drift_scipy.py on the very same bytes (the columns are
 *      written to a temporary float64-LE / uint8 file), when `python3 -c "import scipy, numpy"` works;
 *      otherwise the result records scipy: "unavailable" and the reason. Statistics are compared
 *      (raw path: agree to 1e-9; summary path: KS D and W1 within the error bounds of docs/metrics.md,
 *      the count-based methods to 1e-9) and time is reported as driftwatch / scipy ratios.
 * Repeats per point follow the work n·F: at least 5 up to ~1e6 values, `--sweep-repeats` (default 3)
 * up to ~1e7, at most 2 beyond, so the largest points do not dominate the run; every point runs at
 * least twice in a full run, so each has a spread. Wall and CPU time (process.cpuUsage: all threads of
 * this process, GC helpers included) are both recorded because the 2-core machine is shared; the load
 * average is recorded per point. Scaling is reported as ns per feature value, the ratio between
 * consecutive points and the least-squares exponent b of t ≈ a·x^b on log-log axes (x = rows or
 * features; b ≈ 1 linear, ≈ 0 constant; n log n shows as slightly above 1).
 * Progress goes to stderr; the JSON result to stdout and the results file.
 */
import { spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { defaultMethodFor } from '../lib/stats/drift/defaults.js';
import { runMethod } from '../lib/stats/drift/registry.js';
import type { DriftResult, MethodId } from '../lib/stats/drift/types.js';
import { evaluateDrift, type DriftConfig } from '../lib/stats/profile/evaluate.js';
import { buildReferenceProfile } from '../lib/stats/profile/reference.js';
import { addRows, createWindowSummary, updateCategoricalColumn, updateNumericColumn, updateWindowSummary } from '../lib/stats/profile/summary.js';
import type { ReferenceProfile, Row, WindowSummary } from '../lib/stats/profile/types.js';
import { mulberry32, normalSampler } from '../lib/stats/random.js';
import {
  beginSuite,
  loadAverage,
  metric as metricOf,
  progress,
  summarize,
  writeSuiteResult,
  type LoadAverage,
  type Metric,
  type Summary,
  type SuiteResult,
  type SuiteRun,
  type TargetCheck,
} from './lib.js';

const SUITE = 'drift';
const defaultLog = (l: string) => progress(SUITE, l);

export interface DriftBenchOptions {
  readonly refRows?: number;
  readonly curRows?: number;
  readonly numeric?: number;
  readonly categorical?: number;
  readonly repeats?: number;
  /** Rows pushed through updateWindowSummary per repeat for the per-event rate. */
  readonly eventRows?: number;
  readonly seed?: number;
  readonly log?: (line: string) => void;
}

export interface DriftBenchResult {
  readonly config: Required<Omit<DriftBenchOptions, 'log'>>;
  readonly profileBuildMs: number;
  readonly summaryBuildMs: number;
  readonly summaryBuildValuesPerSec: number;
  readonly evaluateSummaryMs: Summary;
  readonly evaluateRawMs: Summary;
  readonly updateValuesPerSec: Summary;
  /** Same, per CPU second of this process (process.cpuUsage): robust to a contended machine. */
  readonly updateValuesPerCpuSec: Summary;
  /** Load average (os.loadavg) when this part started and ended, to judge contention. */
  readonly load: { readonly start: LoadAverage; readonly end: LoadAverage };
  readonly targets: { readonly summaryUnder1s: boolean; readonly updateAtLeast1M: boolean };
  readonly driftedFeatures: number;
}

const CATS = ['alpha', 'beta', 'gamma', 'delta', 'eps', 'zeta', 'eta', 'theta'];
const CAT_W = [0.3, 0.2, 0.15, 0.1, 0.1, 0.07, 0.05, 0.03];

function catCode(u: number, shift: boolean): number {
  let acc = 0;
  const w = shift ? [...CAT_W].reverse() : CAT_W;
  for (let k = 0; k < w.length; k++) {
    acc += w[k]!;
    if (u < acc) return k;
  }
  return w.length - 1;
}

/** Normal column N(feature % 7 + shiftSd·sd, sd), sd = 1 + feature % 3 (true/false = 0.5 sd / no shift). */
function numericColumn(seed: number, n: number, feature: number, drift: boolean | number): Float64Array {
  const nrm = normalSampler(mulberry32(seed));
  const out = new Float64Array(n);
  const mean = feature % 7;
  const sd = 1 + (feature % 3);
  const shift = (typeof drift === 'number' ? drift : drift ? 0.5 : 0) * sd;
  for (let i = 0; i < n; i++) out[i] = nrm(mean + shift, sd);
  return out;
}

function categoricalColumn(seed: number, n: number, drift: boolean): Uint8Array {
  const rng = mulberry32(seed);
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = catCode(rng(), drift);
  return out;
}

export async function runDriftBench(options: DriftBenchOptions = {}): Promise<DriftBenchResult> {
  const cfg = {
    refRows: options.refRows ?? 100_000,
    curRows: options.curRows ?? 1_000_000,
    numeric: options.numeric ?? 50,
    categorical: options.categorical ?? 10,
    repeats: options.repeats ?? 5,
    eventRows: options.eventRows ?? 100_000,
    seed: options.seed ?? 42,
  };
  const log = options.log ?? defaultLog;
  const loadStart = loadAverage();
  log(
    `fixed: ${cfg.numeric} numeric + ${cfg.categorical} categorical features, ${cfg.refRows}-row reference, ${cfg.curRows}-row window, ${cfg.repeats} repeats`,
  );
  const numNames = Array.from({ length: cfg.numeric }, (_, i) => `num_${String(i).padStart(2, '0')}`);
  const catNames = Array.from({ length: cfg.categorical }, (_, i) => `cat_${String(i).padStart(2, '0')}`);
  const driftNum = (i: number) => i % 10 === 0; // 5 of 50 numeric features drift
  const driftCat = (i: number) => i === 0;

  // --- reference -----------------------------------------------------------------------------
  log(`fixed: generating reference: ${cfg.refRows} rows x ${cfg.numeric + cfg.categorical} features`);
  const refNum = numNames.map((_, i) => numericColumn(cfg.seed * 1000 + i, cfg.refRows, i, false));
  const refCat = catNames.map((_, i) => categoricalColumn(cfg.seed * 2000 + i, cfg.refRows, false));
  const refRows: Row[] = new Array(cfg.refRows);
  for (let r = 0; r < cfg.refRows; r++) {
    const row: Record<string, number | string> = {};
    numNames.forEach((n, i) => (row[n] = refNum[i]![r]!));
    catNames.forEach((n, i) => (row[n] = CATS[refCat[i]![r]!]!));
    refRows[r] = row;
  }
  let t0 = performance.now();
  const profile = buildReferenceProfile(refRows);
  const profileBuildMs = performance.now() - t0;
  log(`fixed: profile built in ${profileBuildMs.toFixed(0)} ms`);
  refRows.length = 0;

  // --- current window, streamed column-wise into the summary ----------------------------------
  log(`fixed: generating + summarising current window: ${cfg.curRows} rows`);
  const summary = createWindowSummary(profile);
  const curNum: Float64Array[] = [];
  let summaryBuildMs = 0;
  numNames.forEach((name, i) => {
    const col = numericColumn(cfg.seed * 3000 + i, cfg.curRows, i, driftNum(i));
    curNum.push(col);
    const t = performance.now();
    updateNumericColumn(summary, name, col);
    summaryBuildMs += performance.now() - t;
  });
  const curCat: Uint8Array[] = [];
  catNames.forEach((name, i) => {
    const codes = categoricalColumn(cfg.seed * 4000 + i, cfg.curRows, driftCat(i));
    curCat.push(codes);
    const labels = Array.from(codes, (c) => CATS[c]!);
    const t = performance.now();
    updateCategoricalColumn(summary, name, labels);
    summaryBuildMs += performance.now() - t;
  });
  addRows(summary, cfg.curRows);
  const totalValues = cfg.curRows * (cfg.numeric + cfg.categorical);
  const summaryBuildValuesPerSec = totalValues / (summaryBuildMs / 1000);
  log(`fixed: summary built (columnar) in ${summaryBuildMs.toFixed(0)} ms = ${(summaryBuildValuesPerSec / 1e6).toFixed(2)} M values/s`);

  // --- (a) summary path ---------------------------------------------------------------------
  const evalRuns: number[] = [];
  let driftedFeatures = 0;
  for (let k = 0; k < cfg.repeats; k++) {
    t0 = performance.now();
    const report = evaluateDrift(profile, summary);
    evalRuns.push(performance.now() - t0);
    driftedFeatures = report.summary.nDrifted;
    log(`fixed: evaluateDrift (summary) run ${k + 1}/${cfg.repeats}: ${evalRuns[k]!.toFixed(1)} ms, drifted ${driftedFeatures}`);
  }

  // --- (b) per-event update rate --------------------------------------------------------------
  const nEvents = Math.min(cfg.eventRows, cfg.curRows);
  const events: Row[] = new Array(nEvents);
  for (let r = 0; r < nEvents; r++) {
    const row: Record<string, number | string> = {};
    numNames.forEach((n, i) => (row[n] = curNum[i]![r]!));
    catNames.forEach((n, i) => (row[n] = CATS[curCat[i]![r]!]!));
    events[r] = row;
  }
  const rateRuns: number[] = [];
  const cpuRateRuns: number[] = [];
  for (let k = 0; k < cfg.repeats; k++) {
    const s = createWindowSummary(profile);
    const c0 = process.cpuUsage();
    t0 = performance.now();
    for (let r = 0; r < nEvents; r++) updateWindowSummary(s, events[r]!);
    const secs = (performance.now() - t0) / 1000;
    const cpu = process.cpuUsage(c0);
    const values = nEvents * (cfg.numeric + cfg.categorical);
    rateRuns.push(values / secs);
    cpuRateRuns.push(values / ((cpu.user + cpu.system) / 1e6));
    log(
      `fixed: updateWindowSummary run ${k + 1}/${cfg.repeats}: ${(rateRuns[k]! / 1e6).toFixed(2)} M values/s wall, ${(cpuRateRuns[k]! / 1e6).toFixed(2)} M values/cpu-s`,
    );
  }

  // --- (a) raw-sample path ------------------------------------------------------------------
  const rawRuns: number[] = [];
  for (let k = 0; k < cfg.repeats; k++) {
    t0 = performance.now();
    numNames.forEach((name, i) => {
      const p = profile.features[name]!;
      const method = defaultMethodFor({ kind: 'numeric', nRef: p.count, distinct: p.distinct });
      runMethod(method, { type: 'samples', ref: refNum[i]!, cur: curNum[i]! });
    });
    catNames.forEach((name, i) => {
      const ref: Record<string, number> = {};
      const cur: Record<string, number> = {};
      for (const c of refCat[i]!) ref[CATS[c]!] = (ref[CATS[c]!] ?? 0) + 1;
      for (const c of curCat[i]!) cur[CATS[c]!] = (cur[CATS[c]!] ?? 0) + 1;
      runMethod('jensenshannon', { type: 'categorical', ref, cur });
      void name;
    });
    rawRuns.push(performance.now() - t0);
    log(`fixed: raw-sample path run ${k + 1}/${cfg.repeats}: ${rawRuns[k]!.toFixed(0)} ms`);
  }

  const evaluateSummaryMs = summarize(evalRuns);
  const updateValuesPerSec = summarize(rateRuns);
  return {
    config: cfg,
    profileBuildMs,
    summaryBuildMs,
    summaryBuildValuesPerSec,
    evaluateSummaryMs,
    evaluateRawMs: summarize(rawRuns),
    updateValuesPerSec,
    updateValuesPerCpuSec: summarize(cpuRateRuns),
    load: { start: loadStart, end: loadAverage() },
    targets: { summaryUnder1s: evaluateSummaryMs.median < 1000, updateAtLeast1M: updateValuesPerSec.median >= 1e6 },
    driftedFeatures,
  };
}

// ================================================================================================
// Scaling: rows axis and features axis (issue #12)
// ================================================================================================

export const SWEEP_SIZES = [10_000, 100_000, 1_000_000, 10_000_000] as const;
const SCIPY_SCRIPT = join(dirname(fileURLToPath(import.meta.url)), 'reference', 'drift_scipy.py');
/** Method groups timed on both sides (the Python script uses the same four names). */
const GROUPS = ['ks', 'wasserstein', 'psi', 'categorical'] as const;
type Group = (typeof GROUPS)[number];
const NUMERIC_METHODS = ['ks', 'wasserstein', 'psi'] as const;
const CATEGORICAL_METHODS = ['chisquare_gof', 'chisquare_contingency', 'psi', 'jensenshannon'] as const;
/** Exact paths must agree with scipy to |a − b| <= 1e-9 · max(1, |b|) (abs for p-values, rel for χ²). */
const AGREE_TOL = 1e-9;

interface ScalingBaseOptions {
  readonly refRows?: number;
  /** Base repeats per point (see repeatsFor). */
  readonly repeats?: number;
  /** Largest n (rows) for the exact raw-sample path (it sorts copies of every column per method). */
  readonly rawMax?: number;
  /** Largest n (rows) handed to the scipy reference. */
  readonly scipyMax?: number;
  /** false: do not look for Python at all (recorded as unavailable, reason "--skip-scipy"). */
  readonly scipy?: boolean;
  readonly python?: string;
  readonly seed?: number;
  /** Rows materialised as objects at a time for the per-event path (bounds memory at 1e7). */
  readonly chunkRows?: number;
  readonly log?: (line: string) => void;
}

export interface DriftSweepOptions extends ScalingBaseOptions {
  /** Current-window sizes (default 1e4, 1e5, 1e6, 1e7), filtered by sweepMin..sweepMax. */
  readonly sizes?: readonly number[];
  readonly sweepMin?: number;
  readonly sweepMax?: number;
  readonly numeric?: number;
  readonly categorical?: number;
}

export interface DriftFeaturesOptions extends ScalingBaseOptions {
  /** Feature counts (default 12, 60, 240); each splits 5/6 numeric, 1/6 categorical. */
  readonly features?: readonly number[];
  /** Window sizes in rows measured for every feature count (default 1e6). */
  readonly rows?: readonly number[];
  /** The rows axis's result: its points are reused where features, rows and settings match. */
  readonly reuse?: Pick<DriftSweepResult, 'config' | 'sizes' | 'scipy'>;
}

export interface TimedStat {
  readonly wallMs: Summary;
  readonly cpuMs: Summary;
  /** Median wall / CPU nanoseconds per current-window row. */
  readonly nsPerRowWall: number;
  readonly nsPerRowCpu: number;
}

export interface GroupedTimedStat extends TimedStat {
  /** Median over repeats of the time spent in each method group (ms). */
  readonly wallMsByGroup: Readonly<Record<Group, number>>;
  readonly cpuMsByGroup: Readonly<Record<Group, number>>;
}

export interface ScipyTimedStat extends GroupedTimedStat {
  /** File load inside the script (excluded from the timings) and the whole child process, start to exit. */
  readonly loadMs: number;
  readonly processWallMs: number;
}

export interface Agreement {
  readonly maxAbsDiff: number;
  readonly maxRelDiff: number;
  readonly worstFeature: string;
  /** How `ok` was judged. */
  readonly criterion: string;
  /** null: reported for information only (no bound exists, e.g. the KS p-value of a binned D). */
  readonly ok: boolean | null;
}

export interface PointResult {
  /** Rows in the current window. */
  readonly n: number;
  readonly features: { readonly numeric: number; readonly categorical: number; readonly total: number };
  readonly repeats: number;
  readonly loadAvg1m: { readonly start: number; readonly end: number };
  /** Resident set size after generating the columns (MiB). */
  readonly rssMiB: number;
  /** Set when the point was not measured again but taken from the named axis (same data, same seeds). */
  readonly reusedFrom?: string;
  readonly buildPerEvent: TimedStat & { readonly valuesPerCpuSec: number };
  readonly buildColumnar: TimedStat;
  /** Per-event and columnar builds produced byte-identical summaries (JSON). */
  readonly summariesIdentical: boolean;
  /** evaluateDrift with the processor's default config (W1 / JS, Benjamini-Hochberg). */
  readonly evaluateDefault: TimedStat;
  /** evaluateDrift once per method the scipy reference computes (4 configs). */
  readonly evaluateAllMethods: TimedStat;
  readonly raw: GroupedTimedStat | { readonly skipped: string };
  readonly scipy: ScipyTimedStat | { readonly skipped: string } | { readonly error: string } | 'unavailable';
  readonly ratios: {
    /** driftwatch / scipy, medians; > 1 means driftwatch is slower. */
    readonly rawVsScipy: { readonly wall: number; readonly cpu: number; readonly cpuByGroup: Readonly<Record<Group, number>> } | null;
    /** (per-event summary build + evaluateDrift for every method) / scipy: rows to statistics, streaming path. */
    readonly summaryPathVsScipy: { readonly wall: number; readonly cpu: number } | null;
    /** evaluateDrift for every method / scipy: what is left once the summary exists. */
    readonly evaluateVsScipy: { readonly wall: number; readonly cpu: number } | null;
  };
  readonly agreement: {
    readonly raw: Readonly<Record<string, Agreement>> | null;
    readonly summary: Readonly<Record<string, Agreement>> | null;
    readonly ok: boolean | null;
  };
}

export interface ScalingFit {
  /** Least-squares slope of ln t on ln x over the points measured (medians); x = rows or features. */
  readonly exponentWall: number | null;
  readonly exponentCpu: number | null;
  /** t(x_{k+1}) / t(x_k) on CPU time; 10 for linear growth over a decade of rows. */
  readonly cpuRatios: ReadonlyArray<{ readonly from: number; readonly to: number; readonly ratio: number }>;
}

type ScalingKey = 'buildPerEvent' | 'buildColumnar' | 'evaluateDefault' | 'evaluateAllMethods' | 'raw' | 'scipy';
type ScipyInfo = 'unavailable' | { readonly python: string; readonly scipy: string; readonly numpy: string };

interface ScalingBaseConfig {
  readonly refRows: number;
  readonly repeats: number;
  readonly rawMax: number;
  readonly scipyMax: number;
  readonly seed: number;
  readonly chunkRows: number;
  readonly data: string;
}

export interface DriftSweepResult {
  readonly config: ScalingBaseConfig & { readonly sizes: readonly number[]; readonly numeric: number; readonly categorical: number };
  readonly loadAvg: { readonly start: LoadAverage; readonly end: LoadAverage };
  readonly scipy: ScipyInfo;
  readonly scipyReason?: string;
  readonly sizes: readonly PointResult[];
  readonly scaling: Readonly<Record<ScalingKey, ScalingFit>>;
  readonly totalWallSeconds: number;
}

export interface DriftFeaturesResult {
  readonly config: ScalingBaseConfig & { readonly features: readonly number[]; readonly rows: readonly number[] };
  readonly loadAvg: { readonly start: LoadAverage; readonly end: LoadAverage };
  readonly scipy: ScipyInfo;
  readonly scipyReason?: string;
  readonly points: readonly PointResult[];
  /** Per window size (rows, as a string key): how cost grows with the number of features. */
  readonly scaling: Readonly<Record<string, Readonly<Record<ScalingKey, ScalingFit>>>>;
  readonly totalWallSeconds: number;
}

const DATA_DESCRIPTION =
  'numeric i: N(i % 7 + shift·sd, sd), sd = 1 + i % 3, shift 0.5 sd for i % 5 == 0, 0.01 sd for i == 3; ' +
  'categorical: 8 labels, weights 0.3..0.03 (cat_00 reversed in the window); mulberry32 + Box-Muller, no missing values';

interface Measured<T> {
  readonly value: T;
  readonly wallMs: number;
  readonly cpuMs: number;
}

function measure<T>(fn: () => T): Measured<T> {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const value = fn();
  const wallMs = performance.now() - t0;
  const c = process.cpuUsage(c0);
  return { value, wallMs, cpuMs: (c.user + c.system) / 1000 };
}

function timedStat(n: number, wall: readonly number[], cpu: readonly number[]): TimedStat {
  const w = summarize(wall);
  const c = summarize(cpu);
  return { wallMs: w, cpuMs: c, nsPerRowWall: (w.median * 1e6) / n, nsPerRowCpu: (c.median * 1e6) / n };
}

function medianOf(xs: readonly number[]): number {
  return summarize(xs).median;
}

function groupMedians(runs: ReadonlyArray<Readonly<Record<Group, number>>>): Record<Group, number> {
  const out = {} as Record<Group, number>;
  for (const g of GROUPS) out[g] = medianOf(runs.map((r) => r[g]));
  return out;
}

function emptyGroups(): Record<Group, number> {
  return { ks: 0, wasserstein: 0, psi: 0, categorical: 0 };
}

/** Slope of the least-squares line through (ln n, ln t). */
function logLogSlope(points: ReadonlyArray<readonly [number, number]>): number | null {
  const pts = points.filter(([n, t]) => n > 0 && t > 0);
  if (pts.length < 2) return null;
  const xs = pts.map(([n]) => Math.log(n));
  const ys = pts.map(([, t]) => Math.log(t));
  const mx = xs.reduce((a, b) => a + b, 0) / xs.length;
  const my = ys.reduce((a, b) => a + b, 0) / ys.length;
  let sxy = 0;
  let sxx = 0;
  for (let i = 0; i < xs.length; i++) {
    sxy += (xs[i]! - mx) * (ys[i]! - my);
    sxx += (xs[i]! - mx) ** 2;
  }
  return sxy / sxx;
}

function fit(points: ReadonlyArray<{ n: number; wall: number; cpu: number }>): ScalingFit {
  const cpuRatios: Array<{ from: number; to: number; ratio: number }> = [];
  for (let i = 1; i < points.length; i++) cpuRatios.push({ from: points[i - 1]!.n, to: points[i]!.n, ratio: points[i]!.cpu / points[i - 1]!.cpu });
  return {
    exponentWall: logLogSlope(points.map((p) => [p.n, p.wall] as const)),
    exponentCpu: logLogSlope(points.map((p) => [p.n, p.cpu] as const)),
    cpuRatios,
  };
}

/**
 * Repeats per point from its work (rows × features): small points are noisy and cheap, so they get at
 * least 5; up to ~1.2e7 values (1e6 rows of 12 features) the base count; beyond, at most 2 so the
 * largest points do not dominate the run, but still two so that each has a spread.
 */
function repeatsFor(n: number, features: number, r: number): number {
  const values = n * features;
  if (values < 1_200_000) return Math.max(r, 5);
  if (values <= 12_000_000) return r;
  return Math.min(r, 2);
}

interface Columns {
  readonly num: Float64Array[];
  readonly cat: Uint8Array[];
}

interface Names {
  readonly num: readonly string[];
  readonly cat: readonly string[];
}

/**
 * Shift (in reference sd) of numeric feature i in the current window: 0 and 5 move by 0.5 sd (clear
 * drift), 3 by 0.01 sd (detectable only at large n, so its KS p-value crosses the whole (0, 1) range
 * over the sweep and the p-value comparison is not just 0 vs 0), the rest are undrifted.
 */
function sweepShift(i: number): number {
  if (i % 5 === 0) return 0.5;
  if (i === 3) return 0.01;
  return 0;
}

function perEventBuild(profile: ReferenceProfile, names: Names, cur: Columns, n: number, chunkRows: number): Measured<WindowSummary> {
  // Row objects are built outside the timed region, a chunk at a time: the processor receives decoded
  // rows, so decoding is not the summary's cost, and 1e7 live row objects would need ~2 GiB of heap.
  const s = createWindowSummary(profile);
  const rows: Row[] = new Array(chunkRows);
  let wallMs = 0;
  let cpuMs = 0;
  for (let start = 0; start < n; start += chunkRows) {
    const m = Math.min(chunkRows, n - start);
    for (let r = 0; r < m; r++) {
      const row: Record<string, number | string> = {};
      for (let f = 0; f < names.num.length; f++) row[names.num[f]!] = cur.num[f]![start + r]!;
      for (let f = 0; f < names.cat.length; f++) row[names.cat[f]!] = CATS[cur.cat[f]![start + r]!]!;
      rows[r] = row;
    }
    const t = measure(() => {
      for (let r = 0; r < m; r++) updateWindowSummary(s, rows[r]!);
    });
    wallMs += t.wallMs;
    cpuMs += t.cpuMs;
  }
  return { value: s, wallMs, cpuMs };
}

function columnarBuild(profile: ReferenceProfile, names: Names, cur: Columns, n: number, chunkRows: number): Measured<WindowSummary> {
  const s = createWindowSummary(profile);
  let wallMs = 0;
  let cpuMs = 0;
  names.num.forEach((name, f) => {
    const t = measure(() => updateNumericColumn(s, name, cur.num[f]!));
    wallMs += t.wallMs;
    cpuMs += t.cpuMs;
  });
  // Category labels are materialised per chunk (untimed) for the same memory reason as the rows.
  const labels: string[] = new Array(chunkRows);
  names.cat.forEach((name, f) => {
    for (let start = 0; start < n; start += chunkRows) {
      const m = Math.min(chunkRows, n - start);
      labels.length = m;
      for (let r = 0; r < m; r++) labels[r] = CATS[cur.cat[f]![start + r]!]!;
      const t = measure(() => updateCategoricalColumn(s, name, labels));
      wallMs += t.wallMs;
      cpuMs += t.cpuMs;
    }
  });
  addRows(s, n);
  return { value: s, wallMs, cpuMs };
}

/** One evaluateDrift config per method of the scipy reference (numeric and categorical in pairs). */
function allMethodConfigs(names: Names): DriftConfig[] {
  return [
    { numericMethod: 'ks', categoricalMethod: 'chisquare_gof' },
    { numericMethod: 'wasserstein', categoricalMethod: 'chisquare_contingency' },
    { numericMethod: 'psi', categoricalMethod: 'psi' },
    { categoricalMethod: 'jensenshannon', features: names.cat },
  ];
}

/** The window-metrics processor's default drift config (stream-processors/window-metrics/config.ts). */
const PROCESSOR_DEFAULT: DriftConfig = { correction: 'benjamini-hochberg' };

type MethodResults = Map<string, Partial<Record<MethodId, DriftResult>>>;

function countCodes(codes: Uint8Array): Record<string, number> {
  const counts = new Float64Array(CATS.length);
  for (let i = 0; i < codes.length; i++) counts[codes[i]!]! += 1;
  const out: Record<string, number> = {};
  counts.forEach((c, k) => {
    if (c > 0) out[CATS[k]!] = c;
  });
  return out;
}

/**
 * Exact raw path: every method on the raw columns through runMethod, as evaluateDriftOnSamples does
 * after extracting columns. Categorical columns arrive as dictionary codes on both sides (TypeScript
 * and numpy count the same Uint8Array), so neither side pays for string handling the other skips.
 */
function rawPath(names: Names, ref: Columns, cur: Columns): { results: MethodResults; wall: Record<Group, number>; cpu: Record<Group, number> } {
  const results: MethodResults = new Map();
  const wall = emptyGroups();
  const cpu = emptyGroups();
  names.num.forEach((name, f) => {
    const per: Partial<Record<MethodId, DriftResult>> = {};
    for (const m of NUMERIC_METHODS) {
      const t = measure(() => runMethod(m, { type: 'samples', ref: ref.num[f]!, cur: cur.num[f]! }));
      per[m] = t.value;
      wall[m] += t.wallMs;
      cpu[m] += t.cpuMs;
    }
    results.set(name, per);
  });
  names.cat.forEach((name, f) => {
    const t = measure(() => {
      const r = countCodes(ref.cat[f]!);
      const c = countCodes(cur.cat[f]!);
      const per: Partial<Record<MethodId, DriftResult>> = {};
      for (const m of CATEGORICAL_METHODS) per[m] = runMethod(m, { type: 'categorical', ref: r, cur: c });
      return per;
    });
    results.set(name, t.value);
    wall.categorical += t.wallMs;
    cpu.categorical += t.cpuMs;
  });
  return { results, wall, cpu };
}

function summaryResults(profile: ReferenceProfile, summary: WindowSummary, names: Names): MethodResults {
  const results: MethodResults = new Map();
  for (const cfg of allMethodConfigs(names)) {
    for (const f of evaluateDrift(profile, summary, cfg).features) {
      const per = results.get(f.feature) ?? {};
      per[f.method] = f;
      results.set(f.feature, per);
    }
  }
  return results;
}

// ---- scipy reference -------------------------------------------------------------------------

interface ScipyOutput {
  readonly python: string;
  readonly scipy: string;
  readonly numpy: string;
  readonly loadSeconds: number;
  readonly repeats: ReadonlyArray<{
    readonly wallSeconds: number;
    readonly cpuSeconds: number;
    readonly wallByGroup: Readonly<Record<Group, number>>;
    readonly cpuByGroup: Readonly<Record<Group, number>>;
  }>;
  readonly results: Readonly<Record<string, Readonly<Record<string, Readonly<Record<string, number | null>>>>>>;
}

function probeScipy(python: string): { ok: true; versions: string } | { ok: false; reason: string } {
  const r = spawnSync(python, ['-c', 'import sys, scipy, numpy; print(sys.version.split()[0], scipy.__version__, numpy.__version__)'], { encoding: 'utf8' });
  if (r.error) return { ok: false, reason: `${python}: ${r.error.message}` };
  if (r.status !== 0) return { ok: false, reason: `${python} -c "import scipy, numpy" exited ${r.status}: ${(r.stderr ?? '').trim().split('\n').pop() ?? ''}` };
  return { ok: true, versions: r.stdout.trim() };
}

/** float64 columns as little-endian bytes (a view on little-endian hosts, a converted copy otherwise). */
function littleEndianBytes(a: Float64Array | Uint8Array): Buffer {
  if (a instanceof Uint8Array || os.endianness() === 'LE') return Buffer.from(a.buffer, a.byteOffset, a.byteLength);
  const b = Buffer.allocUnsafe(a.length * 8);
  for (let i = 0; i < a.length; i++) b.writeDoubleLE(a[i]!, i * 8);
  return b;
}

/** Writes the columns for the scipy reference; returns the manifest path and the data file (to remove after). */
function writeDataFile(dir: string, tag: string, n: number, names: Names, ref: Columns, cur: Columns, refRows: number): { manifest: string; file: string } {
  const file = join(dir, `drift-${tag}.bin`);
  const fd = openSync(file, 'w');
  let offset = 0;
  const put = (a: Float64Array | Uint8Array): number => {
    const at = offset;
    const buf = littleEndianBytes(a);
    for (let done = 0; done < buf.length;) done += writeSync(fd, buf, done, buf.length - done);
    offset += buf.length;
    return at;
  };
  try {
    const numeric = names.num.map((name, f) => ({ name, refOffset: put(ref.num[f]!), curOffset: put(cur.num[f]!) }));
    const categorical = names.cat.map((name, f) => ({ name, categories: CATS, refOffset: put(ref.cat[f]!), curOffset: put(cur.cat[f]!) }));
    const manifest = join(dir, `drift-${tag}.json`);
    writeFileSync(manifest, JSON.stringify({ file, nRef: refRows, nCur: n, numeric, categorical, numericDtype: 'float64-le', categoricalDtype: 'uint8' }));
    return { manifest, file };
  } finally {
    closeSync(fd);
  }
}

function runScipy(python: string, manifest: string, repeats: number): { out: ScipyOutput; processWallMs: number } {
  const t0 = performance.now();
  const r = spawnSync(python, [SCIPY_SCRIPT, manifest, '--repeats', String(repeats)], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    maxBuffer: 64 * 2 ** 20,
  });
  const processWallMs = performance.now() - t0;
  if (r.error) throw r.error;
  if (r.status !== 0) throw new Error(`drift_scipy.py exited with ${r.status ?? r.signal}`);
  return { out: JSON.parse(r.stdout) as ScipyOutput, processWallMs };
}

// ---- agreement ------------------------------------------------------------------------------

interface Pair {
  readonly feature: string;
  readonly ours: number | null;
  readonly theirs: number | null;
  /** Allowed one-sided interval for theirs − ours when a proven bound exists: [lo, hi]. */
  readonly bound?: readonly [number, number];
}

function agreement(pairs: readonly Pair[], criterion: 'exact' | 'bound' | 'info'): Agreement {
  let maxAbsDiff = 0;
  let maxRelDiff = 0;
  let worstFeature = '';
  let ok = true;
  for (const p of pairs) {
    if (p.ours === null || p.theirs === null) {
      if (p.ours !== p.theirs) {
        ok = false;
        worstFeature = p.feature;
        maxAbsDiff = Infinity;
      }
      continue;
    }
    const d = p.ours - p.theirs;
    const abs = Math.abs(d);
    const rel = p.theirs === 0 ? (abs === 0 ? 0 : Infinity) : abs / Math.abs(p.theirs);
    if (abs > maxAbsDiff || worstFeature === '') {
      worstFeature = p.feature;
      maxAbsDiff = abs;
    }
    maxRelDiff = Math.max(maxRelDiff, rel);
    const slack = AGREE_TOL * Math.max(1, Math.abs(p.theirs));
    if (criterion === 'exact' && abs > slack) ok = false;
    if (criterion === 'bound' && p.bound) {
      const diff = p.theirs - p.ours;
      if (diff < p.bound[0] - slack || diff > p.bound[1] + slack) ok = false;
    }
  }
  const text = {
    exact: `|ours − scipy| <= ${AGREE_TOL}·max(1, |scipy|)`,
    bound: 'scipy − ours within the documented error bound (docs/metrics.md, "Exactness on summaries")',
    info: 'information only: no bound (the KS p-value on a summary is computed from the binned D)',
  }[criterion];
  return { maxAbsDiff, maxRelDiff, worstFeature, criterion: text, ok: criterion === 'info' ? null : ok };
}

const num = (x: unknown): number | null => (typeof x === 'number' && Number.isFinite(x) ? x : null);

function compare(ours: MethodResults, scipy: ScipyOutput['results'], names: Names, summary: boolean): Record<string, Agreement> {
  const get = (feature: string, m: MethodId) => ours.get(feature)?.[m];
  const py = (feature: string, m: string, k: string) => num(scipy[feature]?.[m]?.[k]);
  const out: Record<string, Agreement> = {};
  // Numeric features.
  const ksD: Pair[] = [];
  const ksP: Pair[] = [];
  const w1: Pair[] = [];
  const wScore: Pair[] = [];
  const psiN: Pair[] = [];
  for (const f of names.num) {
    const ks = get(f, 'ks');
    const w = get(f, 'wasserstein');
    const dBound = num(ks?.extras.dErrorBound) ?? 0;
    // KS on a summary: D_binned <= D_exact <= D_binned + dErrorBound.
    ksD.push({ feature: f, ours: ks?.score ?? null, theirs: py(f, 'ks', 'statistic'), bound: [0, dBound] });
    ksP.push({ feature: f, ours: ks?.pValue ?? null, theirs: py(f, 'ks', 'pvalue') });
    const wb = num(w?.extras.w1ErrorBound) ?? 0;
    const sb = num(w?.extras.scoreErrorBound) ?? 0;
    // W1 on a summary: |W1_binned − W1_exact| <= w1ErrorBound (and the normed score likewise).
    w1.push({ feature: f, ours: num(w?.extras.w1), theirs: py(f, 'wasserstein', 'w1'), bound: [-wb, wb] });
    wScore.push({ feature: f, ours: w?.score ?? null, theirs: py(f, 'wasserstein', 'score'), bound: [-sb, sb] });
    psiN.push({ feature: f, ours: get(f, 'psi')?.score ?? null, theirs: py(f, 'psi', 'score') });
  }
  out['ks.statistic'] = agreement(ksD, summary ? 'bound' : 'exact');
  out['ks.pvalue'] = agreement(ksP, summary ? 'info' : 'exact');
  out['wasserstein.w1'] = agreement(w1, summary ? 'bound' : 'exact');
  out['wasserstein.score'] = agreement(wScore, summary ? 'bound' : 'exact');
  out['psi.numeric'] = agreement(psiN, 'exact');
  // Categorical features: count-based, exact on both paths.
  const cat = (m: MethodId, key: string, pyName: string = m) =>
    agreement(
      names.cat.map((f) => ({ feature: f, ours: key === 'pvalue' ? (get(f, m)?.pValue ?? null) : (get(f, m)?.score ?? null), theirs: py(f, pyName, key) })),
      'exact',
    );
  out['chisquare_gof.statistic'] = cat('chisquare_gof', 'statistic');
  out['chisquare_gof.pvalue'] = cat('chisquare_gof', 'pvalue');
  out['chisquare_contingency.statistic'] = cat('chisquare_contingency', 'statistic');
  out['chisquare_contingency.pvalue'] = cat('chisquare_contingency', 'pvalue');
  out['psi.categorical'] = cat('psi', 'score');
  out['jensenshannon.distance'] = cat('jensenshannon', 'score');
  return out;
}

// ---- the sweep ------------------------------------------------------------------------------

const fmtMs = (ms: number): string => (ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${ms.toFixed(ms >= 10 ? 0 : 2)} ms`);
const fmtRatio = (x: number | null | undefined): string => (x === null || x === undefined ? '—' : `${x.toFixed(2)}×`);

// ---- one point (n rows × F features) ---------------------------------------------------------

/** What every point of one reference needs: the feature names, the reference columns and profile. */
interface AxisContext {
  readonly names: Names;
  readonly ref: Columns;
  readonly profile: ReferenceProfile;
}

interface PointEnv {
  readonly cfg: ScalingBaseConfig;
  readonly scipyInfo: ScipyInfo;
  readonly python: string;
  readonly tmp: string;
  readonly log: (line: string) => void;
}

/** Feature names for F features: 5/6 numeric (rounded), the rest categorical, as the fixed run's 50 + 10. */
function featureSplit(total: number): { numeric: number; categorical: number } {
  if (!Number.isInteger(total) || total < 2) throw new RangeError(`feature count must be an integer >= 2, got ${total}`);
  const numeric = Math.min(total - 1, Math.max(1, Math.round((total * 5) / 6)));
  return { numeric, categorical: total - numeric };
}

function buildAxisContext(numeric: number, categorical: number, refRows: number, seed: number): AxisContext {
  const names: Names = {
    num: Array.from({ length: numeric }, (_, i) => `num_${String(i).padStart(2, '0')}`),
    cat: Array.from({ length: categorical }, (_, i) => `cat_${String(i).padStart(2, '0')}`),
  };
  // Seeds depend on the feature index only: feature i has the same data whatever F is, and the
  // rows axis's 12-feature point is the features axis's first point.
  const ref: Columns = {
    num: names.num.map((_, i) => numericColumn(seed * 5000 + i, refRows, i, 0)),
    cat: names.cat.map((_, i) => categoricalColumn(seed * 7000 + i, refRows, false)),
  };
  const refRowObjects: Row[] = new Array(refRows);
  for (let r = 0; r < refRows; r++) {
    const row: Record<string, number | string> = {};
    names.num.forEach((n, i) => (row[n] = ref.num[i]![r]!));
    names.cat.forEach((n, i) => (row[n] = CATS[ref.cat[i]![r]!]!));
    refRowObjects[r] = row;
  }
  const profile = buildReferenceProfile(refRowObjects);
  return { names, ref, profile };
}

function probe(options: ScalingBaseOptions, log: (l: string) => void): { info: ScipyInfo; reason?: string; python: string } {
  const python = options.python ?? 'python3';
  if (options.scipy === false) return { info: 'unavailable', reason: '--skip-scipy', python };
  const p = probeScipy(python);
  if (!p.ok) {
    log(`scipy reference UNAVAILABLE (${p.reason}); no scipy timings or ratios will be recorded`);
    return { info: 'unavailable', reason: p.reason, python };
  }
  const [py, sp, np] = p.versions.split(' ');
  log(`scipy reference available (python ${py}, scipy ${sp}, numpy ${np}): ${SCIPY_SCRIPT}`);
  return { info: { python: py ?? '?', scipy: sp ?? '?', numpy: np ?? '?' }, python };
}

/** The first measured point of the process gets one untimed warm-up pass, so JIT compilation is not billed to it. */
let warmedUp = false;

/**
 * Runs `run` `warm` untimed times, then `repeats` timed times: the wall and CPU ms of the timed runs,
 * and the last run's value (every run computes the same value; the last one is kept).
 */
function timedRepeats<T>(
  repeats: number,
  warm: number,
  run: () => Measured<T>,
  onRun: (k: number, t: Measured<T>) => void,
): { value: T | null; wall: number[]; cpu: number[] } {
  const wall: number[] = [];
  const cpu: number[] = [];
  let value: T | null = null;
  for (let k = 0; k < repeats + warm; k++) {
    const t = run();
    value = t.value;
    if (k < warm) continue;
    wall.push(t.wallMs);
    cpu.push(t.cpuMs);
    onRun(k + 1 - warm, t);
  }
  return { value, wall, cpu };
}

function measurePoint(env: PointEnv, ctx: AxisContext, n: number, label: string): { point: PointResult; failed: boolean } {
  const { cfg, log } = env;
  const { names, ref, profile } = ctx;
  const F = names.num.length + names.cat.length;
  const repeats = repeatsFor(n, F, cfg.repeats);
  const load0 = os.loadavg()[0] ?? 0;
  let failed = false;
  log(`${label}: generating ${names.num.length} Float64 + ${names.cat.length} code columns of ${n} rows (load ${load0.toFixed(2)}, ${repeats} repeat(s))`);
  // Same seeds at every size: each window is a prefix of the next one's data.
  const cur: Columns = {
    num: names.num.map((_, i) => numericColumn(cfg.seed * 6000 + i, n, i, sweepShift(i))),
    cat: names.cat.map((_, i) => categoricalColumn(cfg.seed * 8000 + i, n, i === 0)),
  };
  const rssMiB = Math.round(process.memoryUsage().rss / 2 ** 20);
  const warm = warmedUp ? 0 : 1;
  warmedUp = true;

  // (a) summary build, per event and columnar
  const perEvent = timedRepeats(
    repeats,
    warm,
    () => perEventBuild(profile, names, cur, n, cfg.chunkRows),
    (k, t) => log(`${label}: per-event build ${k}/${repeats}: ${fmtMs(t.wallMs)} wall, ${fmtMs(t.cpuMs)} cpu`),
  );
  const summary: WindowSummary | null = perEvent.value;
  const { wall: evW, cpu: evC } = perEvent;
  const columnar = timedRepeats(
    repeats,
    warm,
    () => columnarBuild(profile, names, cur, n, cfg.chunkRows),
    (k, t) => log(`${label}: columnar build ${k}/${repeats}: ${fmtMs(t.wallMs)} wall, ${fmtMs(t.cpuMs)} cpu`),
  );
  let colSummary: WindowSummary | null = columnar.value;
  const { wall: colW, cpu: colC } = columnar;
  const summariesIdentical = JSON.stringify(summary) === JSON.stringify(colSummary);
  if (!summariesIdentical) {
    failed = true;
    log(`${label}: ERROR per-event and columnar summaries differ`);
  }
  colSummary = null;

  // (b) evaluateDrift on the summary
  const evalRepeats = Math.max(5, repeats);
  const defW: number[] = [];
  const defC: number[] = [];
  const allW: number[] = [];
  const allC: number[] = [];
  let ourSummaryResults: MethodResults = new Map();
  for (let k = 0; k < evalRepeats + warm; k++) {
    const d = measure(() => evaluateDrift(profile, summary!, PROCESSOR_DEFAULT));
    const a = measure(() => summaryResults(profile, summary!, names));
    ourSummaryResults = a.value;
    if (k < warm) continue;
    defW.push(d.wallMs);
    defC.push(d.cpuMs);
    allW.push(a.wallMs);
    allC.push(a.cpuMs);
  }
  log(`${label}: evaluateDrift default ${fmtMs(medianOf(defW))}, all methods ${fmtMs(medianOf(allW))} (median of ${evalRepeats})`);

  // (c) exact raw-sample path
  let raw: PointResult['raw'];
  let ourRawResults: MethodResults | null = null;
  if (n > cfg.rawMax) {
    raw = { skipped: `n > --raw-max ${cfg.rawMax}` };
    log(`${label}: raw exact path SKIPPED (n > --raw-max ${cfg.rawMax})`);
  } else {
    const w: number[] = [];
    const c: number[] = [];
    const wg: Array<Record<Group, number>> = [];
    const cg: Array<Record<Group, number>> = [];
    for (let k = 0; k < repeats + warm; k++) {
      const t = measure(() => rawPath(names, ref, cur));
      ourRawResults = t.value.results;
      if (k < warm) continue;
      w.push(t.wallMs);
      c.push(t.cpuMs);
      wg.push(t.value.wall);
      cg.push(t.value.cpu);
      log(`${label}: raw exact path ${k + 1 - warm}/${repeats}: ${fmtMs(t.wallMs)} wall, ${fmtMs(t.cpuMs)} cpu`);
    }
    raw = { ...timedStat(n, w, c), wallMsByGroup: groupMedians(wg), cpuMsByGroup: groupMedians(cg) };
  }

  // (d) scipy reference on the same bytes
  let scipy: PointResult['scipy'] = 'unavailable';
  let scipyOut: ScipyOutput | null = null;
  if (env.scipyInfo !== 'unavailable') {
    if (n > cfg.scipyMax) {
      scipy = { skipped: `n > --scipy-max ${cfg.scipyMax}` };
      log(`${label}: scipy reference SKIPPED (n > --scipy-max ${cfg.scipyMax})`);
    } else {
      const tw = measure(() => writeDataFile(env.tmp, `${n}-f${F}`, n, names, ref, cur, cfg.refRows));
      log(`${label}: wrote data for scipy in ${fmtMs(tw.wallMs)}; running ${SCIPY_SCRIPT} (${repeats} repeat(s))`);
      try {
        const r = runScipy(env.python, tw.value.manifest, repeats);
        scipyOut = r.out;
        const w = r.out.repeats.map((x) => x.wallSeconds * 1000);
        const c = r.out.repeats.map((x) => x.cpuSeconds * 1000);
        const toMs = (g: Readonly<Record<Group, number>>) => Object.fromEntries(GROUPS.map((k) => [k, (g[k] ?? 0) * 1000])) as Record<Group, number>;
        scipy = {
          ...timedStat(n, w, c),
          wallMsByGroup: groupMedians(r.out.repeats.map((x) => toMs(x.wallByGroup))),
          cpuMsByGroup: groupMedians(r.out.repeats.map((x) => toMs(x.cpuByGroup))),
          loadMs: r.out.loadSeconds * 1000,
          processWallMs: r.processWallMs,
        };
      } catch (e) {
        failed = true;
        scipy = { error: (e as Error).message };
        log(`${label}: scipy reference FAILED: ${(e as Error).message}`);
      } finally {
        rmSync(tw.value.file, { force: true });
        rmSync(tw.value.manifest, { force: true });
      }
    }
  }

  const buildPerEvent = { ...timedStat(n, evW, evC), valuesPerCpuSec: (n * F) / (medianOf(evC) / 1000) };
  const evaluateAllMethods = timedStat(n, allW, allC);
  const scipyOk = typeof scipy === 'object' && 'wallMs' in scipy ? scipy : null;
  const rawOk = 'wallMs' in raw ? raw : null;
  const ratios: PointResult['ratios'] = {
    rawVsScipy:
      scipyOk && rawOk
        ? {
            wall: rawOk.wallMs.median / scipyOk.wallMs.median,
            cpu: rawOk.cpuMs.median / scipyOk.cpuMs.median,
            cpuByGroup: Object.fromEntries(GROUPS.map((g) => [g, rawOk.cpuMsByGroup[g] / scipyOk.cpuMsByGroup[g]])) as Record<Group, number>,
          }
        : null,
    summaryPathVsScipy: scipyOk
      ? {
          wall: (buildPerEvent.wallMs.median + evaluateAllMethods.wallMs.median) / scipyOk.wallMs.median,
          cpu: (buildPerEvent.cpuMs.median + evaluateAllMethods.cpuMs.median) / scipyOk.cpuMs.median,
        }
      : null,
    evaluateVsScipy: scipyOk
      ? { wall: evaluateAllMethods.wallMs.median / scipyOk.wallMs.median, cpu: evaluateAllMethods.cpuMs.median / scipyOk.cpuMs.median }
      : null,
  };
  const rawAgreement = scipyOut && ourRawResults ? compare(ourRawResults, scipyOut.results, names, false) : null;
  const summaryAgreement = scipyOut ? compare(ourSummaryResults, scipyOut.results, names, true) : null;
  const verdicts = [...Object.values(rawAgreement ?? {}), ...Object.values(summaryAgreement ?? {})].map((a) => a.ok).filter((x) => x !== null);
  const agreeOk = verdicts.length === 0 ? null : verdicts.every(Boolean);
  if (agreeOk === false) failed = true;
  if (scipyOut) {
    const bad = [
      ...Object.entries(rawAgreement ?? {})
        .filter(([, a]) => a.ok === false)
        .map(([k]) => `raw ${k}`),
      ...Object.entries(summaryAgreement ?? {})
        .filter(([, a]) => a.ok === false)
        .map(([k]) => `summary ${k}`),
    ];
    const rawMax = rawAgreement ? Math.max(...Object.values(rawAgreement).map((a) => a.maxAbsDiff)) : null;
    log(
      `${label}: agreement with scipy: ${agreeOk ? 'OK' : `DISAGREE (${bad.join(', ')})`}` +
        (rawMax !== null ? `; raw path max |diff| ${rawMax.toExponential(2)}` : '') +
        `; summary KS D max |diff| ${summaryAgreement!['ks.statistic']!.maxAbsDiff.toExponential(2)}, W1 score ${summaryAgreement!['wasserstein.score']!.maxAbsDiff.toExponential(2)}`,
    );
    log(
      `${label}: ratios driftwatch/scipy: raw ${fmtRatio(ratios.rawVsScipy?.wall)} wall, ${fmtRatio(ratios.rawVsScipy?.cpu)} cpu; ` +
        `summary path (build + evaluate) ${fmtRatio(ratios.summaryPathVsScipy?.wall)} wall, ${fmtRatio(ratios.summaryPathVsScipy?.cpu)} cpu`,
    );
  }
  return {
    failed,
    point: {
      n,
      features: { numeric: names.num.length, categorical: names.cat.length, total: F },
      repeats,
      loadAvg1m: { start: load0, end: os.loadavg()[0] ?? 0 },
      rssMiB,
      buildPerEvent,
      buildColumnar: timedStat(n, colW, colC),
      summariesIdentical,
      evaluateDefault: timedStat(n, defW, defC),
      evaluateAllMethods,
      raw,
      scipy,
      ratios,
      agreement: { raw: rawAgreement, summary: summaryAgreement, ok: agreeOk },
    },
  };
}

function scalingOf(points: readonly PointResult[], x: (p: PointResult) => number): Record<ScalingKey, ScalingFit> {
  const pointsOf = (pick: (r: PointResult) => TimedStat | null) =>
    points.flatMap((r) => {
      const t = pick(r);
      return t ? [{ n: x(r), wall: t.wallMs.median, cpu: t.cpuMs.median }] : [];
    });
  return {
    buildPerEvent: fit(pointsOf((r) => r.buildPerEvent)),
    buildColumnar: fit(pointsOf((r) => r.buildColumnar)),
    evaluateDefault: fit(pointsOf((r) => r.evaluateDefault)),
    evaluateAllMethods: fit(pointsOf((r) => r.evaluateAllMethods)),
    raw: fit(pointsOf((r) => ('wallMs' in r.raw ? r.raw : null))),
    scipy: fit(pointsOf((r) => (typeof r.scipy === 'object' && 'wallMs' in r.scipy ? r.scipy : null))),
  };
}

/** Closing table on stderr: CPU time leads because the machine is shared. */
function logTable(log: (l: string) => void, title: string, points: readonly PointResult[], scaling: Readonly<Record<string, ScalingFit>>, axis: string): void {
  log(`${title} (median CPU time; wall in brackets; ns per feature value on CPU time):`);
  const w = 26;
  const h = (s: string) => s.padEnd(w);
  log(`       n |   F | ${h('per-event build')} | ${h('columnar build')} | evaluate (all)  | ${h('raw exact')} | ${h('scipy')} | raw/scipy cpu | agree`);
  for (const r of points) {
    const values = r.n * r.features.total;
    const cell = (t: TimedStat | null) =>
      t ? `${fmtMs(t.cpuMs.median)} [${fmtMs(t.wallMs.median)}] ${((t.cpuMs.median * 1e6) / values).toFixed(0)}ns`.padEnd(w) : 'skipped'.padEnd(w);
    const sc = typeof r.scipy === 'object' && 'wallMs' in r.scipy ? r.scipy : null;
    log(
      `${String(r.n).padStart(8)} | ${String(r.features.total).padStart(3)} | ${cell(r.buildPerEvent)} | ${cell(r.buildColumnar)} | ${`${fmtMs(r.evaluateAllMethods.cpuMs.median)}`.padEnd(15)} | ${cell('wallMs' in r.raw ? r.raw : null)} | ${sc ? cell(sc) : (r.scipy === 'unavailable' ? 'unavailable' : 'skipped').padEnd(w)} | ${fmtRatio(r.ratios.rawVsScipy?.cpu).padEnd(13)} | ${r.agreement.ok === null ? '—' : r.agreement.ok ? 'ok' : 'NO'}`,
    );
  }
  for (const [k, f] of Object.entries(scaling)) {
    if (f.exponentCpu === null) continue;
    log(
      `${axis} scaling ${k}: exponent ${f.exponentCpu.toFixed(2)} (cpu), ${f.exponentWall?.toFixed(2)} (wall); per step ${f.cpuRatios.map((x) => x.ratio.toFixed(1)).join(', ')}`,
    );
  }
}

function baseConfig(options: ScalingBaseOptions): ScalingBaseConfig {
  return {
    refRows: options.refRows ?? 100_000,
    repeats: options.repeats ?? 3,
    rawMax: options.rawMax ?? 10_000_000,
    scipyMax: options.scipyMax ?? 10_000_000,
    seed: options.seed ?? 42,
    chunkRows: options.chunkRows ?? 8192,
    data: DATA_DESCRIPTION,
  };
}

// ---- rows axis --------------------------------------------------------------------------------

export function runDriftSweep(options: DriftSweepOptions = {}): { result: DriftSweepResult; failed: boolean } {
  const started = performance.now();
  const min = options.sweepMin ?? 0;
  const max = options.sweepMax ?? Infinity;
  const sizes = (options.sizes ?? SWEEP_SIZES).filter((n) => n >= min && n <= max);
  const cfg = { ...baseConfig(options), sizes, numeric: options.numeric ?? 10, categorical: options.categorical ?? 2 };
  const log = options.log ?? defaultLog;
  const loadStart = loadAverage();
  log(`rows axis: sizes ${sizes.join(', ')}; ${cfg.numeric} numeric + ${cfg.categorical} categorical features; reference ${cfg.refRows} rows`);
  const scipy = probe(options, log);
  const ctx = buildAxisContext(cfg.numeric, cfg.categorical, cfg.refRows, cfg.seed);
  log(`rows axis: reference profile built (${cfg.refRows} rows)`);
  const tmp = mkdtempSync(join(os.tmpdir(), 'driftwatch-drift-bench-'));
  const env: PointEnv = { cfg, scipyInfo: scipy.info, python: scipy.python, tmp, log };
  const points: PointResult[] = [];
  let failed = false;
  try {
    for (const n of sizes) {
      const r = measurePoint(env, ctx, n, `rows n=${n}`);
      points.push(r.point);
      failed ||= r.failed;
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  const scaling = scalingOf(points, (p) => p.n);
  logTable(log, 'rows axis results', points, scaling, 'rows');
  if (scipy.info === 'unavailable') log(`scipy: unavailable (${scipy.reason})`);
  return {
    failed,
    result: {
      config: cfg,
      loadAvg: { start: loadStart, end: loadAverage() },
      scipy: scipy.info,
      ...(scipy.reason !== undefined ? { scipyReason: scipy.reason } : {}),
      sizes: points,
      scaling,
      totalWallSeconds: (performance.now() - started) / 1000,
    },
  };
}

// ---- features axis ----------------------------------------------------------------------------

export const FEATURE_COUNTS = [12, 60, 240] as const;

/**
 * The rows axis's points, when they were measured with the same reference, repeats policy, limits
 * and scipy availability as this axis would use: the same data then gives the same measurement.
 */
function reusable(reuse: DriftFeaturesOptions['reuse'], cfg: ScalingBaseConfig, scipy: ScipyInfo): readonly PointResult[] | undefined {
  if (!reuse) return undefined;
  const keys = ['refRows', 'repeats', 'rawMax', 'scipyMax', 'seed', 'chunkRows'] as const;
  if (keys.some((k) => reuse.config[k] !== cfg[k]) || JSON.stringify(reuse.scipy) !== JSON.stringify(scipy)) return undefined;
  return reuse.sizes;
}

export function runDriftFeatures(options: DriftFeaturesOptions = {}): { result: DriftFeaturesResult; failed: boolean } {
  const started = performance.now();
  const features = [...(options.features ?? FEATURE_COUNTS)].sort((a, b) => a - b);
  const rows = [...(options.rows ?? [1_000_000])].sort((a, b) => a - b);
  const cfg = { ...baseConfig(options), features, rows };
  const log = options.log ?? defaultLog;
  const loadStart = loadAverage();
  log(`features axis: ${features.join(', ')} features at ${rows.join(', ')} rows; reference ${cfg.refRows} rows per feature count`);
  const scipy = probe(options, log);
  const tmp = mkdtempSync(join(os.tmpdir(), 'driftwatch-drift-bench-'));
  const env: PointEnv = { cfg, scipyInfo: scipy.info, python: scipy.python, tmp, log };
  const points: PointResult[] = [];
  let failed = false;
  try {
    for (const total of features) {
      const split = featureSplit(total);
      let ctx: AxisContext | null = null;
      for (const n of rows) {
        const same = reusable(options.reuse, cfg, scipy.info)?.find(
          (p) => p.n === n && p.features.numeric === split.numeric && p.features.categorical === split.categorical && p.reusedFrom === undefined,
        );
        if (same) {
          log(`features F=${total} n=${n}: same data as the rows axis point, reused (not measured twice)`);
          points.push({ ...same, reusedFrom: 'rows axis' });
          continue;
        }
        if (!ctx) {
          log(`features F=${total}: building the reference (${split.numeric} numeric + ${split.categorical} categorical, ${cfg.refRows} rows)`);
          ctx = buildAxisContext(split.numeric, split.categorical, cfg.refRows, cfg.seed);
        }
        const r = measurePoint(env, ctx, n, `features F=${total} n=${n}`);
        points.push(r.point);
        failed ||= r.failed;
      }
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  const scaling: Record<string, Record<ScalingKey, ScalingFit>> = {};
  for (const n of rows) {
    const at = points.filter((p) => p.n === n);
    scaling[String(n)] = scalingOf(at, (p) => p.features.total);
    logTable(log, `features axis results at n=${n}`, at, scaling[String(n)]!, `features (n=${n})`);
  }
  return {
    failed,
    result: {
      config: cfg,
      loadAvg: { start: loadStart, end: loadAverage() },
      scipy: scipy.info,
      ...(scipy.reason !== undefined ? { scipyReason: scipy.reason } : {}),
      points,
      scaling,
      totalWallSeconds: (performance.now() - started) / 1000,
    },
  };
}

// ---- suite result -----------------------------------------------------------------------------

export interface DriftParts {
  readonly fixed?: DriftBenchResult;
  readonly rows?: DriftSweepResult;
  readonly features?: DriftFeaturesResult;
}

export type DriftSuiteResult = SuiteResult & { readonly details: DriftParts };

/** 1e6 for powers of ten, the plain number otherwise: compact metric names. */
function fmtCount(n: number): string {
  const e = Math.log10(n);
  return Number.isInteger(e) && e >= 3 ? `1e${e}` : String(n);
}

/** Per-repeat ratios a[k] / b[k] (the repeats of both sides ran at the same point, in the same run). */
function pairedRatios(a: readonly number[], b: readonly number[]): number[] {
  const k = Math.min(a.length, b.length);
  return Array.from({ length: k }, (_, i) => a[i]! / b[i]!);
}

function pointMetrics(prefix: string, p: PointResult, into: Record<string, Metric>): void {
  const values = p.n * p.features.total;
  const cpu = (t: TimedStat) => t.cpuMs.runs;
  // A point taken from the other axis is listed again so each axis reads on its own; its unit says so.
  const metric = (runs: readonly number[], unit: string) => metricOf(runs, p.reusedFrom ? `${unit}; the ${p.reusedFrom} point, not measured again` : unit);
  into[`${prefix} per-event build`] = metric(cpu(p.buildPerEvent), 'ms CPU');
  into[`${prefix} per-event build per value`] = metric(
    cpu(p.buildPerEvent).map((ms) => (ms * 1e6) / values),
    'ns CPU / feature value',
  );
  into[`${prefix} columnar build`] = metric(cpu(p.buildColumnar), 'ms CPU');
  into[`${prefix} evaluateDrift default`] = metric(cpu(p.evaluateDefault), 'ms CPU');
  into[`${prefix} evaluateDrift all methods`] = metric(cpu(p.evaluateAllMethods), 'ms CPU');
  if ('wallMs' in p.raw) into[`${prefix} raw exact path`] = metric(cpu(p.raw), 'ms CPU');
  if (typeof p.scipy === 'object' && 'wallMs' in p.scipy) {
    const sc = cpu(p.scipy);
    into[`${prefix} scipy reference`] = metric(sc, 'ms CPU');
    if ('wallMs' in p.raw) into[`${prefix} raw / scipy`] = metric(pairedRatios(cpu(p.raw), sc), 'x (CPU; < 1: driftwatch faster)');
    const evalMedian = p.evaluateAllMethods.cpuMs.median;
    into[`${prefix} summary path / scipy`] = metric(
      pairedRatios(
        cpu(p.buildPerEvent).map((b) => b + evalMedian),
        sc,
      ),
      'x (CPU; per-event build + evaluate all methods)',
    );
  }
}

function scalingMetrics(prefix: string, unit: string, scaling: Readonly<Record<string, ScalingFit>>, into: Record<string, Metric>): void {
  for (const [k, f] of Object.entries(scaling)) if (f.exponentCpu !== null) into[`${prefix} exponent ${k}`] = metricOf([f.exponentCpu], unit);
}

/**
 * The SuiteResult of whichever parts ran: the headline figures as metrics (medians over repeats
 * with min, max and spread), the issue targets as checks, and the full parts under `details`.
 */
export function driftSuiteResult(run: Pick<SuiteRun, 'finish'>, parts: DriftParts, command: string, quick: boolean): DriftSuiteResult {
  const metrics: Record<string, Metric> = {};
  const targets: TargetCheck[] = [];
  const notes: string[] = [];
  const f = parts.fixed;
  if (f) {
    const shape = `${f.config.numeric} num + ${f.config.categorical} cat, ${fmtCount(f.config.curRows)} rows`;
    metrics[`fixed evaluateDrift on the summary (${shape})`] = { ...f.evaluateSummaryMs, unit: 'ms wall' };
    metrics[`fixed raw-sample path (${shape})`] = { ...f.evaluateRawMs, unit: 'ms wall' };
    metrics['fixed per-event updateWindowSummary'] = { ...f.updateValuesPerSec, unit: 'feature values/s wall' };
    metrics['fixed per-event updateWindowSummary per CPU second'] = { ...f.updateValuesPerCpuSec, unit: 'feature values/CPU s' };
    targets.push(
      {
        name: `evaluateDrift on a window summary (${shape})`,
        target: '< 1000 ms',
        value: f.evaluateSummaryMs.median,
        unit: 'ms',
        met: f.targets.summaryUnder1s,
      },
      {
        name: 'per-event updateWindowSummary',
        target: '>= 1e6 feature values/s',
        value: f.updateValuesPerSec.median,
        unit: 'values/s',
        met: f.targets.updateAtLeast1M,
      },
    );
    notes.push(`fixed: load average ${f.load.start.join(' / ')} at the start, ${f.load.end.join(' / ')} at the end of this part`);
  }
  const scaled: PointResult[] = [];
  const r = parts.rows;
  if (r) {
    for (const p of r.sizes) pointMetrics(`rows n=${fmtCount(p.n)} f=${p.features.total}`, p, metrics);
    scalingMetrics('rows', 'b in t ∝ rows^b (CPU)', r.scaling, metrics);
    scaled.push(...r.sizes);
    notes.push(
      `rows axis: load average ${r.loadAvg.start.join(' / ')} at the start, ${r.loadAvg.end.join(' / ')} at the end; scipy ${r.scipy === 'unavailable' ? `unavailable (${r.scipyReason})` : `${r.scipy.scipy} on Python ${r.scipy.python}`}`,
    );
  }
  const fa = parts.features;
  if (fa) {
    for (const p of fa.points) pointMetrics(`features n=${fmtCount(p.n)} f=${p.features.total}`, p, metrics);
    for (const [n, s] of Object.entries(fa.scaling)) scalingMetrics(`features n=${fmtCount(Number(n))}`, 'b in t ∝ features^b (CPU)', s, metrics);
    scaled.push(...fa.points.filter((p) => !p.reusedFrom));
    const reused = fa.points.filter((p) => p.reusedFrom).map((p) => `n=${fmtCount(p.n)} f=${p.features.total}`);
    notes.push(
      `features axis: ${fa.config.features.join(', ')} features at ${fa.config.rows.map(fmtCount).join(', ')} rows; load average ${fa.loadAvg.start.join(' / ')} at the start, ${fa.loadAvg.end.join(' / ')} at the end` +
        (reused.length > 0 ? `; ${reused.join(', ')} taken from the rows axis (same data and settings)` : ''),
    );
  }
  if (scaled.length > 0) {
    const differ = scaled.filter((p) => !p.summariesIdentical).length;
    targets.push({
      name: 'per-event and columnar builds give identical summaries',
      target: '0 points differ',
      value: differ,
      unit: 'points',
      met: differ === 0,
    });
    const judged = scaled.filter((p) => p.agreement.ok !== null);
    if (judged.length > 0) {
      const bad = judged.filter((p) => p.agreement.ok === false).length;
      targets.push({
        name: 'statistics agree with scipy (raw: 1e-9; summary: documented error bounds)',
        target: '0 points disagree',
        value: bad,
        unit: 'points',
        met: bad === 0,
      });
    }
  }
  const repeats = Math.max(f?.config.repeats ?? 0, ...scaled.map((p) => p.repeats));
  return run.finish({ command, repeats, quick, metrics, targets, notes, details: parts });
}

// ---- CLI --------------------------------------------------------------------------------------

/** Accepts 1e6, 1000000, 1_000_000. */
function parseCount(flag: string, s: string | undefined): number | undefined {
  if (s === undefined) return undefined;
  const x = Number(s.replaceAll('_', ''));
  if (!Number.isFinite(x) || x <= 0 || !Number.isInteger(x)) throw new RangeError(`${flag}: expected a positive integer such as 1e6, got '${s}'`);
  return x;
}

function parseCounts(flag: string, s: string | undefined): number[] | undefined {
  return s === undefined ? undefined : s.split(',').map((x) => parseCount(flag, x.trim())!);
}

const PARTS = ['fixed', 'rows', 'features'] as const;

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { values } = parseArgs({
    options: {
      parts: { type: 'string' },
      sweep: { type: 'boolean' },
      fixed: { type: 'boolean' },
      quick: { type: 'boolean' },
      'sweep-max': { type: 'string' },
      'sweep-min': { type: 'string' },
      'sweep-repeats': { type: 'string' },
      'raw-max': { type: 'string' },
      'scipy-max': { type: 'string' },
      'features-axis': { type: 'string' },
      'features-rows': { type: 'string' },
      'skip-scipy': { type: 'boolean' },
      python: { type: 'string' },
    },
  });
  const chosen = new Set<string>(values.parts?.split(',').map((s) => s.trim()) ?? []);
  if (values.sweep) chosen.add('rows');
  if (values.fixed) chosen.add('fixed');
  const unknownPart = [...chosen].filter((p) => !(PARTS as readonly string[]).includes(p));
  if (unknownPart.length > 0) throw new Error(`--parts: unknown part(s) ${unknownPart.join(', ')}; known: ${PARTS.join(', ')}`);
  const want = (p: (typeof PARTS)[number]) => chosen.size === 0 || chosen.has(p);
  const quick = values.quick === true;
  const run = beginSuite(SUITE);
  const scaling = {
    repeats: parseCount('--sweep-repeats', values['sweep-repeats']) ?? (quick ? 2 : undefined),
    rawMax: parseCount('--raw-max', values['raw-max']),
    scipyMax: parseCount('--scipy-max', values['scipy-max']),
    scipy: values['skip-scipy'] !== true,
    python: values.python,
  };
  const parts: { fixed?: DriftBenchResult; rows?: DriftSweepResult; features?: DriftFeaturesResult } = {};
  let failed = false;
  if (want('fixed')) parts.fixed = await runDriftBench(quick ? { refRows: 20_000, curRows: 100_000, repeats: 2, eventRows: 20_000 } : {});
  if (want('rows')) {
    const r = runDriftSweep({
      ...scaling,
      sweepMax: parseCount('--sweep-max', values['sweep-max']) ?? (quick ? 100_000 : undefined),
      sweepMin: parseCount('--sweep-min', values['sweep-min']),
    });
    parts.rows = r.result;
    failed ||= r.failed;
  }
  if (want('features')) {
    const r = runDriftFeatures({
      ...scaling,
      features: parseCounts('--features-axis', values['features-axis']) ?? (quick ? [12, 60] : undefined),
      rows: parseCounts('--features-rows', values['features-rows']) ?? (quick ? [100_000] : undefined),
      ...(parts.rows ? { reuse: parts.rows } : {}),
    });
    parts.features = r.result;
    failed ||= r.failed;
  }
  const result = driftSuiteResult(run, parts, ['npx tsx bench/drift.bench.ts', ...process.argv.slice(2)].join(' '), quick);
  run.log(`wrote ${writeSuiteResult(result)}`);
  for (const t of result.targets) run.log(`target ${t.name} (${t.target}): ${t.value.toPrecision(4)} ${t.unit} — ${t.met ? 'met' : 'NOT met'}`);
  process.stdout.write(`${JSON.stringify({ metrics: result.metrics, targets: result.targets }, null, 2)}\n`);
  // A disagreement with scipy or between the two builds is a failed run, after the figures are written.
  if (failed) process.exitCode = 1;
}
