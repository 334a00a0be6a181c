// Prints, at the very end of `npm test`, what each pass ran and which tests failed, with the first
// lines of each failure. Why: CI keeps only the tail of a run's output, and the reliability pass
// (minutes of scenario logs) used to push the first pass's failure list out of it, so a red CI run
// could not tell which test failed. The input is vitest's own JSON reporter output
// (`--reporter=json --outputFile.json=…`, Jest-compatible shape: testResults[].assertionResults[]).
import { existsSync, readFileSync } from 'node:fs';

interface Assertion {
  fullName: string;
  status: string;
  failureMessages?: string[];
}
interface FileResult {
  name: string;
  status: string;
  message?: string;
  assertionResults: Assertion[];
}
interface Report {
  numTotalTestSuites: number;
  numTotalTests: number;
  numFailedTests: number;
  numPassedTests: number;
  numPendingTests: number;
  startTime: number;
  testResults: FileResult[];
}

const MESSAGE_LINES = 12;

/** One pass's recap as lines of text; exported for its unit test. */
export function recapLines(pass: string, report: Report, root: string): string[] {
  const files = report.testResults.length;
  const failedFiles = report.testResults.filter((f) => f.status === 'failed');
  const lines = [
    `[test] ${pass}: ${files} files, ${report.numTotalTests} tests: ${report.numPassedTests} passed, ` +
      `${report.numFailedTests} failed, ${report.numPendingTests} not run (skipped)`,
  ];
  for (const file of failedFiles) {
    const rel = file.name.startsWith(root) ? file.name.slice(root.length + 1) : file.name;
    const failed = file.assertionResults.filter((a) => a.status === 'failed');
    // A file can fail with no failed test (an error in a hook or at import): its message says why.
    if (failed.length === 0) {
      lines.push(`  FAIL ${rel}`, ...indent(file.message ?? '(no message)'));
    }
    for (const a of failed) {
      lines.push(`  FAIL ${rel} > ${a.fullName}`, ...indent((a.failureMessages ?? []).join('\n')));
    }
  }
  return lines;
}

function indent(message: string): string[] {
  const all = message.split('\n').filter((l) => l.trim() !== '');
  const shown = all.slice(0, MESSAGE_LINES).map((l) => `      ${l}`);
  if (all.length > MESSAGE_LINES) shown.push(`      … ${all.length - MESSAGE_LINES} more lines above in the log`);
  return shown;
}

function main(): void {
  const root = process.cwd();
  const args = process.argv.slice(2);
  for (let i = 0; i + 1 < args.length; i += 2) {
    const [pass, path] = [args[i] as string, args[i + 1] as string];
    if (!existsSync(path)) {
      // vitest writes no report when it dies before running (a config or global-setup error).
      console.log(`[test] ${pass}: no report at ${path} (vitest stopped before reporting; see above)`);
      continue;
    }
    const report = JSON.parse(readFileSync(path, 'utf8')) as Report;
    for (const line of recapLines(pass, report, root)) console.log(line);
  }
}

// Imported by its unit test (vitest sets VITEST), run as a script by infra/test.sh.
if (!process.env.VITEST) main();
