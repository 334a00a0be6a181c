/**
 * Shared helpers for benchmark suites: machine facts, load average, repeated measurement with median
 * and spread, progress lines on stderr, and the one JSON result shape (SuiteResult) every suite
 * writes to bench/results/<suite>.json and the runner (bench/run.ts) renders into summary.md.
 * Ratios are what the reports lead with: both sides are measured in the same run, on the same
 * machine, because absolute numbers on a shared 2-core machine drift from run to run.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem, platform, release } from 'node:os';

export interface MachineInfo {
  readonly cores: number;
  readonly cpuModel: string;
  readonly memoryGiB: number;
  readonly node: string;
  readonly platform: string;
  readonly at: string;
}

export function machineInfo(): MachineInfo {
  const c = cpus();
  return {
    cores: c.length,
    cpuModel: c[0]?.model ?? 'unknown',
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    platform: `${platform()} ${release()}`,
    at: new Date().toISOString(),
  };
}

/** 1-, 5- and 15-minute load averages (os.loadavg), rounded to 0.01: how contended the cores were. */
export type LoadAverage = readonly [number, number, number];

export function loadAverage(): LoadAverage {
  const [a = 0, b = 0, c = 0] = loadavg();
  const r = (x: number) => Math.round(x * 100) / 100;
  return [r(a), r(b), r(c)];
}

export interface Summary {
  readonly median: number;
  readonly min: number;
  readonly max: number;
  /** (max - min) / median, as a share. */
  readonly spread: number;
  readonly runs: readonly number[];
}

export function summarize(samples: readonly number[]): Summary {
  if (samples.length === 0) throw new RangeError('summarize: no samples');
  const s = [...samples].sort((a, b) => a - b);
  const mid = s.length >> 1;
  const median = s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
  return { median, min: s[0]!, max: s[s.length - 1]!, spread: median === 0 ? 0 : (s[s.length - 1]! - s[0]!) / Math.abs(median), runs: samples };
}

/** A metric as it appears in SuiteResult.metrics: the summary over repeats and its unit. */
export type Metric = Summary & { readonly unit: string };

export function metric(samples: readonly number[], unit: string): Metric {
  return { ...summarize(samples), unit };
}

/** Nearest-rank quantile of unsorted samples (NaN for none). */
export function quantile(samples: readonly number[], q: number): number {
  if (samples.length === 0) return NaN;
  const s = [...samples].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))]!;
}

export function progress(suite: string, message: string): void {
  process.stderr.write(`[bench:${suite}] ${new Date().toISOString().slice(11, 19)} ${message}\n`);
}

export interface TargetCheck {
  readonly name: string;
  readonly target: string;
  readonly value: number;
  readonly unit: string;
  readonly met: boolean;
}

export interface SuiteResult {
  readonly suite: string;
  readonly machine: MachineInfo;
  /** Load average when the suite started and when it finished. */
  readonly load: { readonly start: LoadAverage; readonly end: LoadAverage };
  readonly command: string;
  /** Repeats behind each metric's median (a metric may note fewer in its runs array). */
  readonly repeats: number;
  /** True for a --quick run: a smoke test of the harness, not figures to record. */
  readonly quick: boolean;
  readonly metrics: Readonly<Record<string, Metric>>;
  readonly targets: readonly TargetCheck[];
  readonly notes?: readonly string[];
}

/**
 * Everything that makes a parsed JSON value unusable as a SuiteResult, as readable problems (empty:
 * valid). The runner uses it to report a stale or foreign results file instead of crashing on it,
 * and writeSuiteResult to refuse writing one.
 */
export function suiteResultProblems(x: unknown): string[] {
  const problems: string[] = [];
  if (typeof x !== 'object' || x === null || Array.isArray(x)) return ['not a JSON object'];
  const r = x as Record<string, unknown>;
  const isNum = (v: unknown) => typeof v === 'number' && !Number.isNaN(v);
  if (typeof r.suite !== 'string' || r.suite === '') problems.push('suite: expected a name');
  if (typeof r.command !== 'string') problems.push('command: expected a string');
  if (!isNum(r.repeats)) problems.push('repeats: expected a number');
  if (typeof r.quick !== 'boolean') problems.push('quick: expected a boolean');
  const m = r.machine as Record<string, unknown> | undefined;
  if (typeof m !== 'object' || m === null || !isNum(m.cores) || typeof m.node !== 'string' || typeof m.at !== 'string')
    problems.push('machine: expected { cores, cpuModel, memoryGiB, node, platform, at }');
  const load = r.load as Record<string, unknown> | undefined;
  const isLoad = (v: unknown) => Array.isArray(v) && v.length === 3 && v.every(isNum);
  if (typeof load !== 'object' || load === null || !isLoad(load.start) || !isLoad(load.end))
    problems.push('load: expected { start: [1m, 5m, 15m], end: [...] }');
  if (typeof r.metrics !== 'object' || r.metrics === null || Array.isArray(r.metrics)) problems.push('metrics: expected an object of name -> summary');
  else
    for (const [k, v] of Object.entries(r.metrics as Record<string, unknown>)) {
      const s = v as Record<string, unknown> | null;
      if (
        typeof s !== 'object' ||
        s === null ||
        !['median', 'min', 'max', 'spread'].every((f) => typeof s[f] === 'number') ||
        typeof s.unit !== 'string' ||
        !Array.isArray(s.runs)
      )
        problems.push(`metrics.${k}: expected { median, min, max, spread, runs, unit }`);
    }
  if (!Array.isArray(r.targets)) problems.push(`targets: expected an array of target checks, got ${r.targets === null ? 'null' : typeof r.targets}`);
  else
    r.targets.forEach((t: unknown, i) => {
      const c = t as Record<string, unknown> | null;
      if (
        typeof c !== 'object' ||
        c === null ||
        typeof c.name !== 'string' ||
        typeof c.target !== 'string' ||
        typeof c.value !== 'number' ||
        typeof c.unit !== 'string' ||
        typeof c.met !== 'boolean'
      )
        problems.push(`targets[${i}]: expected { name, target, value, unit, met }`);
    });
  if (r.notes !== undefined && !(Array.isArray(r.notes) && r.notes.every((n) => typeof n === 'string'))) problems.push('notes: expected an array of strings');
  return problems;
}

export function writeSuiteResult(result: SuiteResult): string {
  // JSON.stringify turns NaN and Infinity into null: check what will actually be read back.
  const text = `${JSON.stringify(result, null, 2)}\n`;
  const problems = suiteResultProblems(JSON.parse(text));
  if (problems.length > 0) throw new Error(`bench result for ${result.suite} is not a SuiteResult: ${problems.join('; ')}`);
  const dir = new URL('./results/', import.meta.url);
  mkdirSync(dir, { recursive: true });
  const file = new URL(`${result.suite}.json`, dir);
  writeFileSync(file, text);
  return file.pathname;
}

/** What a suite knows before it measures anything: its name, the machine and the load at start. */
export interface SuiteRun {
  readonly suite: string;
  readonly machine: MachineInfo;
  readonly loadStart: LoadAverage;
  log(message: string): void;
  /** Completes the result with the machine and the load at start and now, and logs the end load. */
  finish<T extends Omit<SuiteResult, 'suite' | 'machine' | 'load'>>(parts: T): T & Pick<SuiteResult, 'suite' | 'machine' | 'load'>;
}

/** Starts a suite: prints the machine and the load average (progress on stderr) and keeps them for the result. */
export function beginSuite(suite: string): SuiteRun {
  const machine = machineInfo();
  const loadStart = loadAverage();
  const log = (m: string) => progress(suite, m);
  log(
    `machine: ${machine.cores} cores (${machine.cpuModel}), ${machine.memoryGiB} GiB, node ${machine.node}, ${machine.platform}; load average ${loadStart.join(' / ')}`,
  );
  return {
    suite,
    machine,
    loadStart,
    log,
    finish(parts) {
      const end = loadAverage();
      log(`load average at the end ${end.join(' / ')} (start ${loadStart.join(' / ')})`);
      return { ...parts, suite, machine, load: { start: loadStart, end } };
    },
  };
}
