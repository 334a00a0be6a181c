/**
 * `npm run bench [suite …] [-- suite flags]`: runs the named benchmark suites (default: all), each
 * as its own process (a clean heap, and `--expose-gc` for the memory figures), then writes
 * bench/results/summary.md from the JSON each suite left in bench/results/<suite>.json.
 *
 *   npm run bench drift -- --quick             (npm drops the `--`: the runner sees `drift --quick`)
 *   npx tsx bench/run.ts drift -- --quick      (the same, called directly)
 *   npm run bench e2e -- --repeats 5
 *
 * Leading arguments that name suites select them; everything from the first other argument (or
 * after a literal `--`) is passed to every selected suite unchanged, values included.
 *
 * Suites that need Kafka and the schema registry expect the local stack to be running; the runner
 * starts it (`bash infra/local-stack.sh start`, which leaves a running stack alone) if it is not.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { resolve } from 'node:path';
import { machineInfo } from './lib.js';
import { renderSummary } from './summary.js';

export const SUITES: Readonly<Record<string, { file: string; needsStack: boolean; doc: string }>> = {
  drift: {
    file: 'bench/drift.bench.ts',
    needsStack: false,
    doc: 'drift evaluation: summary path vs raw-sample path, update rate, scaling 1e4..1e7 rows and 12..240 features, scipy ratio',
  },
  join: { file: 'bench/join.bench.ts', needsStack: true, doc: 'label join: core joins/s, end to end through Kafka, memory per pending prediction' },
  ingest: { file: 'bench/ingest.bench.ts', needsStack: true, doc: 'ingest events/s vs raw kafkajs consume' },
  'window-metrics': {
    file: 'bench/window-metrics.bench.ts',
    needsStack: true,
    doc: 'windowed processor events/s vs raw consume; window close to rows visible',
  },
  scoring: { file: 'bench/scoring.bench.ts', needsStack: true, doc: 'scoring throughput and latency vs raw onnxruntime' },
  e2e: {
    file: 'bench/e2e.bench.ts',
    needsStack: true,
    doc: 'end to end: ingest + join + windowed metrics + ClickHouse sustained >= 60 s vs raw consume; produce-to-queryable lag',
  },
};

export interface RunnerArgs {
  readonly suites: readonly string[];
  readonly passThrough: readonly string[];
  readonly unknown: readonly string[];
}

export function parseRunnerArgs(argv: readonly string[], known: readonly string[] = Object.keys(SUITES)): RunnerArgs {
  const dash = argv.indexOf('--');
  const head = dash >= 0 ? argv.slice(0, dash) : argv;
  let k = 0;
  while (k < head.length && !head[k]!.startsWith('-') && known.includes(head[k]!)) k++;
  const suites = head.slice(0, k);
  // Before an explicit `--`, a bare word that is not a suite is a typo of one, not a suite flag.
  const rest = head.slice(k);
  const unknown = dash >= 0 ? rest : rest.length > 0 && !rest[0]!.startsWith('-') ? [rest[0]!] : [];
  const passThrough = dash >= 0 ? argv.slice(dash + 1) : unknown.length > 0 ? [] : rest;
  return { suites: suites.length > 0 ? suites : [...known], passThrough, unknown };
}

function main(): void {
  const args = parseRunnerArgs(process.argv.slice(2));
  if (args.unknown.length > 0) {
    process.stderr.write(`unknown suite(s): ${args.unknown.join(', ')}; known: ${Object.keys(SUITES).join(', ')}\n`);
    process.exit(64);
  }
  if (args.suites.some((n) => SUITES[n]!.needsStack)) {
    const r = spawnSync('bash', ['infra/local-stack.sh', 'start'], { stdio: 'inherit' });
    if (r.status !== 0) process.exit(r.status ?? 1);
  }
  const failed: string[] = [];
  for (const name of args.suites) {
    const suite = SUITES[name]!;
    process.stderr.write(`\n=== bench ${name}: ${suite.doc}${args.passThrough.length ? ` (flags: ${args.passThrough.join(' ')})` : ''}\n`);
    const r = spawnSync(process.execPath, ['--expose-gc', '--max-old-space-size=8192', '--import', 'tsx', suite.file, ...args.passThrough], {
      stdio: 'inherit',
      env: { ...process.env, TZ: 'UTC' },
    });
    if (r.status !== 0) failed.push(name);
  }
  const files = Object.keys(SUITES).map((name) => {
    const file = `bench/results/${name}.json`;
    return { name, file, text: existsSync(file) ? readFileSync(file, 'utf8') : null };
  });
  writeFileSync('bench/results/summary.md', renderSummary({ machine: machineInfo(), files, ran: args.suites, failed }));
  process.stderr.write(`\nwrote bench/results/summary.md${failed.length ? `; failed suites: ${failed.join(', ')}` : ''}\n`);
  process.exit(failed.length > 0 ? 1 : 0);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) main();
