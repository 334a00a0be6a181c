/**
 * bench/results/summary.md from the suites' JSON results (bench/lib.ts SuiteResult). Pure: the
 * runner reads the files and writes the text. A file that is missing, unreadable or not a
 * SuiteResult (a stale shape from an older harness, a foreign file) gets a line saying so instead
 * of failing the whole summary: the suites that did run must still be reported.
 */
import { suiteResultProblems, type MachineInfo, type SuiteResult } from './lib.js';

export interface SuiteFile {
  readonly name: string;
  readonly file: string;
  /** The file's text, or null when it does not exist. */
  readonly text: string | null;
}

export interface SummaryInput {
  readonly machine: MachineInfo;
  readonly files: readonly SuiteFile[];
  /** Suites this runner invocation ran, and those of them that failed. */
  readonly ran: readonly string[];
  readonly failed: readonly string[];
}

export function fmt(x: number | null): string {
  if (x === null || !Number.isFinite(x)) return String(x);
  const a = Math.abs(x);
  return a >= 100 ? x.toFixed(0) : a >= 1 ? x.toFixed(2) : a === 0 ? '0' : x.toPrecision(3);
}

/** Parses one results file: the result, or why it cannot be used. */
export function parseSuiteResult(text: string): { ok: true; result: SuiteResult } | { ok: false; problems: string[] } {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    return { ok: false, problems: [`not JSON: ${(err as Error).message}`] };
  }
  const problems = suiteResultProblems(data);
  return problems.length === 0 ? { ok: true, result: data as SuiteResult } : { ok: false, problems };
}

const cell = (s: string) => s.replaceAll('|', '\\|').replaceAll('\n', ' ');

export function renderSummary(input: SummaryInput): string {
  const m = input.machine;
  const lines = [
    '# Benchmark summary',
    '',
    `Written ${m.at} on ${m.cores} cores (${m.cpuModel}), ${m.memoryGiB} GiB, Node ${m.node}, ${m.platform}.`,
    `This run: ${input.ran.length > 0 ? input.ran.join(', ') : 'no suites'}${input.failed.length > 0 ? `; **failed: ${input.failed.join(', ')}**` : ''}.`,
    '',
  ];
  for (const f of input.files) {
    if (f.text === null) continue;
    lines.push(`## ${f.name}`, '');
    const parsed = parseSuiteResult(f.text);
    if (!parsed.ok) {
      lines.push(`\`${f.file}\` is not a suite result this runner can read (${parsed.problems.join('; ')}); rerun \`npm run bench ${f.name}\`.`, '');
      continue;
    }
    const r = parsed.result;
    const stale = input.ran.includes(f.name) ? '' : ' (from an earlier run)';
    lines.push(
      `Command: \`${cell(r.command)}\`${r.quick ? ' — **quick run: a harness check, not figures to record**' : ''}`,
      '',
      `Measured ${r.machine.at}${stale} on ${r.machine.cores} cores (${r.machine.cpuModel}), ${r.machine.memoryGiB} GiB, Node ${r.machine.node}; ` +
        `load average ${r.load.start.join(' / ')} at the start, ${r.load.end.join(' / ')} at the end; ${r.repeats} repeat(s).`,
      '',
    );
    const metrics = Object.entries(r.metrics);
    if (metrics.length > 0) {
      lines.push('| metric | median | min | max | spread | runs | unit |', '|---|---|---|---|---|---|---|');
      for (const [k, v] of metrics)
        lines.push(`| ${cell(k)} | ${fmt(v.median)} | ${fmt(v.min)} | ${fmt(v.max)} | ${(v.spread * 100).toFixed(1)}% | ${v.runs.length} | ${cell(v.unit)} |`);
      lines.push('');
    } else lines.push('No metrics recorded.', '');
    for (const t of r.targets) lines.push(`- target ${t.name} (${t.target}): ${fmt(t.value)} ${t.unit} — **${t.met ? 'met' : 'NOT met'}**`);
    if (r.targets.length > 0) lines.push('');
    for (const n of r.notes ?? []) lines.push(`- ${n}`);
    if ((r.notes ?? []).length > 0) lines.push('');
  }
  return `${lines.join('\n')}\n`;
}
