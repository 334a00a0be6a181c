/**
 * infra/test-recap.ts: the end-of-run recap `npm test` prints from vitest's JSON reports, so the
 * tail of a CI log always names what failed, whichever pass it was in.
 */
import { describe, expect, it } from 'vitest';
import { recapLines } from '../../infra/test-recap.js';

const ROOT = '/repo';

function report(testResults: Parameters<typeof recapLines>[1]['testResults']) {
  const all = testResults.flatMap((f) => f.assertionResults);
  return {
    numTotalTestSuites: testResults.length,
    numTotalTests: all.length,
    numFailedTests: all.filter((a) => a.status === 'failed').length,
    numPassedTests: all.filter((a) => a.status === 'passed').length,
    numPendingTests: all.filter((a) => ['pending', 'skipped'].includes(a.status)).length,
    startTime: 0,
    testResults,
  };
}

describe('recapLines', () => {
  it('counts a green pass and lists nothing else', () => {
    const lines = recapLines(
      'first pass',
      report([{ name: `${ROOT}/test/a.test.ts`, status: 'passed', assertionResults: [{ fullName: 'a works', status: 'passed' }] }]),
      ROOT,
    );
    expect(lines).toEqual(['[test] first pass: 1 files, 1 tests: 1 passed, 0 failed, 0 not run (skipped)']);
  });

  it('names each failed test by its path relative to the repo, with the first lines of its message', () => {
    const message = ['AssertionError: expected 3 to be 4', ...Array.from({ length: 20 }, (_, i) => `    at frame ${i}`)].join('\n');
    const lines = recapLines(
      'reliability pass',
      report([
        {
          name: `${ROOT}/test/loop/closed-loop.test.ts`,
          status: 'failed',
          assertionResults: [
            { fullName: 'loop > v2 drifts', status: 'failed', failureMessages: [message] },
            { fullName: 'loop > v1 stays', status: 'passed' },
          ],
        },
      ]),
      ROOT,
    );
    expect(lines[0]).toBe('[test] reliability pass: 1 files, 2 tests: 1 passed, 1 failed, 0 not run (skipped)');
    expect(lines[1]).toBe('  FAIL test/loop/closed-loop.test.ts > loop > v2 drifts');
    expect(lines[2]).toBe('      AssertionError: expected 3 to be 4');
    // 12 message lines are shown, then a pointer to the rest.
    expect(lines).toHaveLength(2 + 12 + 1);
    expect(lines.at(-1)).toBe('      … 9 more lines above in the log');
  });

  it('reports a file that failed outside any test (a hook or import error) with its message', () => {
    const lines = recapLines(
      'first pass',
      report([{ name: `${ROOT}/test/b.test.ts`, status: 'failed', message: 'Hook timed out in 120000ms', assertionResults: [] }]),
      ROOT,
    );
    expect(lines.slice(1)).toEqual(['  FAIL test/b.test.ts', '      Hook timed out in 120000ms']);
  });
});
