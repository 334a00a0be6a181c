/**
 * bench/summary.ts renders bench/results/summary.md from every suite's result. The drift result is
 * built by the drift bench's own code on a tiny run; the stack suites' results by their result
 * builders (e2e) or in the shape their SuiteResult type fixes; a result in the old drift shape
 * (targets as an object, no metrics) must be reported, not crash the runner.
 */
import { describe, expect, it } from 'vitest';
import { machineInfo, metric, suiteResultProblems, type SuiteResult, type SuiteRun } from '../../bench/lib.js';
import { parseSuiteResult, renderSummary } from '../../bench/summary.js';
import { driftSuiteResult, runDriftBench, runDriftFeatures, runDriftSweep } from '../../bench/drift.bench.js';
import { e2eSuiteResult, lagStat, LAG_KINDS, type E2eOptions, type E2eRepeat, type LagKind, type LagStat } from '../../bench/e2e.bench.js';

const machine = { cores: 2, cpuModel: 'test cpu', memoryGiB: 8, node: 'v20.0.0', platform: 'linux test', at: '2026-01-01T00:00:00.000Z' };
const load = { start: [1, 1, 1] as const, end: [2, 2, 2] as const };
const fakeRun: Pick<SuiteRun, 'finish'> = { finish: (parts) => ({ ...parts, suite: 'x', machine, load }) };
const quiet = () => undefined;

/** The shape every stack suite writes (bench/ingest, join, window-metrics, scoring build it this way). */
function stackSuite(suite: string, metrics: SuiteResult['metrics'], targets: SuiteResult['targets'] = []): SuiteResult {
  return { suite, machine, load, command: `npx tsx bench/${suite}.bench.ts`, repeats: 3, quick: false, metrics, targets, notes: [`${suite} note`] };
}

function e2eRepeat(k: number): E2eRepeat {
  const stat = (x: number): LagStat => lagStat([x, x + 10, x + 20], 0);
  const lag = Object.fromEntries(LAG_KINDS.map((kind, i) => [kind, stat(100 * (i + 1) + k)])) as Record<LagKind, LagStat>;
  return {
    repeat: k,
    attempt: 1,
    namespace: `ns-${k}`,
    load,
    backlog: { predictions: 500_000, outcomes: 500_000, avgMessageBytes: 146, produceSeconds: 30, sizedFromRate: 12_000 },
    raw: [600_000 + k, 610_000, 590_000],
    sustained: {
      rate: 12_000 + 100 * k,
      seconds: 60.2,
      saturated: true,
      stages: { ingest: 14_000, joiner: 13_000, windowMetrics: 12_000 + 100 * k },
      slices: [11_500, 12_000, 12_500],
      startupSeconds: 6,
      drainSeconds: 90,
    },
    ratio: (12_000 + 100 * k) / 600_000,
    backlogCheck: { driftWindows: 25, performanceWindows: 25, expired: 0, lateLabels: {} },
    lag: {
      loadShare: 0.5,
      targetPredictionsPerSec: 3000,
      producedPredictionsPerSec: 2990,
      sampledPredictions: 3000,
      seconds: 60,
      pollMs: 100,
      observed: lag,
      stamped: lag,
      diagnostics: [],
    },
  };
}

const e2eOptions: E2eOptions = {
  quick: false,
  repeats: 3,
  sustainS: 60,
  warmupS: 10,
  lagS: 60,
  lagLoad: 0.5,
  maxEvents: 4_000_000,
  rawRepeats: 3,
  pollMs: 100,
};

describe('bench summary', () => {
  it("renders the drift suite's own result with its metrics, targets and notes", async () => {
    const fixed = await runDriftBench({ refRows: 2000, curRows: 4000, numeric: 3, categorical: 1, repeats: 2, eventRows: 1000, log: quiet });
    const rows = runDriftSweep({ sizes: [1000, 2000], refRows: 2000, repeats: 1, scipy: false, log: quiet });
    const features = runDriftFeatures({ features: [6, 12], rows: [2000], refRows: 2000, repeats: 1, scipy: false, log: quiet, reuse: rows.result });
    // 12 features × 2000 rows is the rows axis's point (same data and settings): taken, not measured again.
    expect(features.result.points.map((p) => [p.features.total, p.reusedFrom ?? null])).toEqual([
      [6, null],
      [12, 'rows axis'],
    ]);
    const result = driftSuiteResult(fakeRun, { fixed, rows: rows.result, features: features.result }, 'npx tsx bench/drift.bench.ts --quick', true);
    // Round trip through JSON, as the runner reads the file.
    const text = JSON.stringify({ ...result, suite: 'drift' });
    expect(suiteResultProblems(JSON.parse(text))).toEqual([]);
    expect(Array.isArray(result.targets)).toBe(true);
    expect(result.targets.map((t) => t.name)).toEqual(
      expect.arrayContaining(['per-event updateWindowSummary', 'per-event and columnar builds give identical summaries']),
    );
    // The features axis shows up per feature count, so growth with features × rows is readable.
    expect(Object.keys(result.metrics)).toEqual(
      expect.arrayContaining(['features n=2000 f=6 per-event build', 'features n=2000 f=12 per-event build', 'rows n=1e3 f=12 per-event build']),
    );
    const md = renderSummary({ machine, files: [{ name: 'drift', file: 'bench/results/drift.json', text }], ran: ['drift'], failed: [] });
    expect(md).toContain('## drift');
    expect(md).toContain('quick run');
    expect(md).toMatch(/\| features n=2000 f=6 per-event build \| [\d.]+ \| [\d.]+ \| [\d.]+ \| [\d.]+% \| 5 \| ms CPU \|/);
    expect(md).toMatch(
      /\| features n=2000 f=12 per-event build \| [\d.]+ \| [\d.]+ \| [\d.]+ \| [\d.]+% \| 5 \| ms CPU; the rows axis point, not measured again \|/,
    );
    expect(md).toContain('target per-event and columnar builds give identical summaries (0 points differ): 0 points — **met**');
    expect(md).toContain('load average 1 / 1 / 1 at the start, 2 / 2 / 2 at the end');
  });

  it('renders the e2e result with medians over repeats, spreads and its targets', () => {
    const result = e2eSuiteResult(fakeRun, e2eOptions, [e2eRepeat(1), e2eRepeat(2), e2eRepeat(3)], [], 11_000, 'npx tsx bench/e2e.bench.ts');
    expect(suiteResultProblems(JSON.parse(JSON.stringify(result)))).toEqual([]);
    expect(result.metrics['sustained through the pipeline']).toMatchObject({ median: 12_200, min: 12_100, max: 12_300, runs: [12_100, 12_200, 12_300] });
    expect(result.metrics['raw kafkajs consume']!.runs).toHaveLength(9);
    expect(result.metrics['lag prediction produced → raw_predictions row p50']!.median).toBe(112);
    expect(result.targets.every((t) => t.met)).toBe(true);
    const md = renderSummary({
      machine,
      files: [{ name: 'e2e', file: 'bench/results/e2e.json', text: JSON.stringify({ ...result, suite: 'e2e' }) }],
      ran: ['e2e'],
      failed: [],
    });
    expect(md).toContain('| sustained through the pipeline | 12200 | 12100 | 12300 | 1.6% | 3 | input events/s (predictions + outcomes) |');
    expect(md).toContain(
      'target full pipeline saturated for the whole sustain period in every repeat (>= 58.5 s (the 60 s period less one 1 s sample and its jitter)): 60.20 s — **met**',
    );
  });

  it('marks an e2e repeat that ran out of backlog as a target not met', () => {
    const short = { ...e2eRepeat(1), sustained: { ...e2eRepeat(1).sustained, seconds: 41, saturated: false } };
    const result = e2eSuiteResult(fakeRun, e2eOptions, [short, e2eRepeat(2)], [], null, 'cmd');
    const t = result.targets.find((x) => x.name.startsWith('full pipeline saturated'))!;
    expect(t).toMatchObject({ value: 41, met: false });
  });

  it('renders every stack suite shape next to each other, and says which came from an earlier run', () => {
    const suites = {
      ingest: stackSuite('ingest', { raw_consume_rate: metric([100, 120, 110], 'events/s') }, [
        { name: 'ingest / raw', target: '>= 0.5', value: 0.1, unit: 'x', met: false },
      ]),
      join: stackSuite('join', { core_events_per_sec: metric([1, 2, 3], 'events/s') }),
      'window-metrics': stackSuite('window-metrics', { ratio_to_raw: metric([0.1, 0.11, 0.12], 'x') }),
      scoring: stackSuite('scoring', { stream_vs_raw: metric([0.01, 0.02, 0.03], 'ratio') }),
    };
    const files = Object.entries(suites).map(([name, r]) => ({ name, file: `bench/results/${name}.json`, text: JSON.stringify(r) }));
    const md = renderSummary({ machine: machineInfo(), files, ran: ['ingest'], failed: ['scoring'] });
    for (const name of Object.keys(suites)) expect(md).toContain(`## ${name}`);
    expect(md).toContain('| raw_consume_rate | 110 | 100 | 120 | 18.2% | 3 | events/s |');
    expect(md).toContain('target ingest / raw (>= 0.5): 0.100 x — **NOT met**');
    expect(md).toContain('**failed: scoring**');
    // join was not run now: its section says the figures are older.
    expect(md.split('## join')[1]!.split('##')[0]).toContain('(from an earlier run)');
    expect(md.split('## ingest')[1]!.split('##')[0]).not.toContain('(from an earlier run)');
  });

  it('reports a results file in the old drift shape instead of crashing', () => {
    // What bench/drift.bench.ts wrote before: targets as an object, no metrics map, no load.
    const legacy = JSON.stringify({ machine: { cpus: 2 }, evaluateSummaryMs: { median: 100 }, targets: { summaryUnder1s: true, updateAtLeast1M: true } });
    const parsed = parseSuiteResult(legacy);
    expect(parsed.ok).toBe(false);
    expect(parsed.ok ? [] : parsed.problems).toEqual(
      expect.arrayContaining(['targets: expected an array of target checks, got object', 'metrics: expected an object of name -> summary']),
    );
    const md = renderSummary({
      machine,
      files: [
        { name: 'drift', file: 'bench/results/drift.json', text: legacy },
        { name: 'join', file: 'bench/results/join.json', text: 'not json' },
        { name: 'e2e', file: 'bench/results/e2e.json', text: null },
      ],
      ran: ['drift'],
      failed: [],
    });
    expect(md).toContain('`bench/results/drift.json` is not a suite result this runner can read');
    expect(md).toContain('rerun `npm run bench drift`');
    expect(md).toContain('`bench/results/join.json` is not a suite result this runner can read (not JSON');
    expect(md).not.toContain('## e2e');
  });
});
