import { mkdtempSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import type { PolicyInvalidError } from '../../../lib/runtime/errors.js';
import type { Policy } from '../../../stream-processors/retrain-trigger/policy.js';
import { readPolicyFile, watchPolicyFile, type PolicyWatch } from '../../../stream-processors/retrain-trigger/policy-watch.js';

const policy = (id: string, count = 10) => ({ id, model: 'm', when: { min_labels: { count } } });

let dir: string;
let file: string;
let watch: PolicyWatch | undefined;
const write = (doc: unknown) => writeFileSync(file, typeof doc === 'string' ? doc : stringify(doc));

async function until(what: string, fn: () => boolean, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!fn()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

function start(intervalMs: number, initial: readonly Policy[]) {
  const seen = { reloads: [] as (readonly Policy[])[], invalid: [] as PolicyInvalidError[], errors: [] as Error[] };
  watch = watchPolicyFile({
    file,
    intervalMs,
    initial,
    onReload: (p) => seen.reloads.push(p),
    onInvalid: (e) => seen.invalid.push(e),
    onError: (e) => seen.errors.push(e),
  });
  return seen;
}

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'dw-pw-'));
  file = join(dir, 'driftwatch.yaml');
});
afterEach(() => {
  watch?.stop();
  watch = undefined;
  rmSync(dir, { recursive: true, force: true });
});

describe('policy reload without restart', () => {
  it('applies an edited file on the next poll (mtime changed)', async () => {
    write({ policies: [policy('a')] });
    const seen = start(30, await readPolicyFile(file));
    await new Promise((r) => setTimeout(r, 100));
    expect(seen.reloads).toHaveLength(0); // the first read finds the policies in force
    write({ policies: [policy('a'), policy('b')] });
    await until('the reload', () => seen.reloads.length === 1);
    expect(seen.reloads[0]!.map((p) => p.id)).toEqual(['a', 'b']);
  });

  it('re-reads on SIGHUP even without polling', async () => {
    write({ policies: [policy('a')] });
    const seen = start(0, await readPolicyFile(file));
    write({ policies: [policy('a', 99)] });
    await new Promise((r) => setTimeout(r, 100));
    expect(seen.reloads).toHaveLength(0);
    process.kill(process.pid, 'SIGHUP');
    await until('the SIGHUP reload', () => seen.reloads.length === 1);
    expect(seen.reloads[0]![0]!.leaves[0]).toMatchObject({ kind: 'min_labels', count: 99 });
  });

  it('rejects an invalid edit with every problem and keeps the policies in force', async () => {
    write({ policies: [policy('a')] });
    const seen = start(0, await readPolicyFile(file));
    write({ policies: [{ id: 'a', model: '', when: { min_labels: { count: 0 } } }] });
    expect(await watch!.check()).toBe('invalid');
    expect(seen.invalid[0]!.details.problems).toEqual([
      expect.stringMatching(/policies\[0\]\.model: expected a non-empty string/),
      expect.stringMatching(/policies\[0\]\.when\.min_labels\.count: expected an integer >= 1/),
    ]);
    write('policies: [ {id: a, model: m');
    expect(await watch!.check()).toBe('invalid');
    expect(seen.invalid[1]!.message).toMatch(/not valid YAML/);
    expect(seen.reloads).toHaveLength(0);
    // fixing the file applies it
    write({ policies: [policy('a', 5)] });
    expect(await watch!.check()).toBe('applied');
  });

  it('ignores edits of other sections and survives a missing file', async () => {
    write({ policies: [policy('a')] });
    const seen = start(0, await readPolicyFile(file));
    write({ policies: [policy('a')], kpis: [{ name: 'x' }], LOG_LEVEL: 'debug' });
    expect(await watch!.check()).toBe('unchanged');
    unlinkSync(file);
    expect(await watch!.check()).toBe('unreadable');
    expect(seen.errors).toHaveLength(1);
    expect(seen.reloads).toHaveLength(0);
  });
});
