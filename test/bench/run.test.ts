/**
 * bench/run.ts argument handling: suite names first, suite flags (with their values) passed through
 * unchanged, whether npm dropped the `--` or it was given to tsx directly.
 */
import { describe, expect, it } from 'vitest';
import { parseRunnerArgs, SUITES } from '../../bench/run.js';

const all = Object.keys(SUITES);

describe('bench runner arguments', () => {
  it('passes flags after a literal -- to the chosen suites (npx tsx bench/run.ts drift -- --quick)', () => {
    expect(parseRunnerArgs(['drift', '--', '--quick'])).toEqual({ suites: ['drift'], passThrough: ['--quick'], unknown: [] });
  });

  it('passes flags and their values when npm has dropped the -- (npm run bench drift -- --sweep-max 1e6)', () => {
    expect(parseRunnerArgs(['drift', '--parts', 'rows', '--sweep-max', '1e6'])).toEqual({
      suites: ['drift'],
      passThrough: ['--parts', 'rows', '--sweep-max', '1e6'],
      unknown: [],
    });
  });

  it('runs every suite when none is named', () => {
    expect(parseRunnerArgs(['--quick'])).toEqual({ suites: all, passThrough: ['--quick'], unknown: [] });
    expect(parseRunnerArgs([])).toEqual({ suites: all, passThrough: [], unknown: [] });
  });

  it('takes several suites', () => {
    expect(parseRunnerArgs(['e2e', 'join', '--', '--repeats', '5']).suites).toEqual(['e2e', 'join']);
  });

  it('reports a misspelt suite instead of running it or passing it on', () => {
    expect(parseRunnerArgs(['drfit', '--quick']).unknown).toEqual(['drfit']);
    expect(parseRunnerArgs(['drift', 'e2ee', '--', '--quick']).unknown).toEqual(['e2ee']);
  });
});
