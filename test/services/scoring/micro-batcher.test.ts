import { describe, expect, it } from 'vitest';
import { createMicroBatcher } from '../../../services/scoring/micro-batcher.js';

const tick = (ms = 0) => new Promise((r) => setTimeout(r, ms));

describe('createMicroBatcher', () => {
  it('coalesces concurrent submissions into one batch and returns each caller its own results in order', async () => {
    const batches: number[][] = [];
    const b = createMicroBatcher<number, number>({ maxSize: 100, maxWaitMs: 20, process: async (xs) => (batches.push(xs), xs.map((x) => x * 10)) });
    const [r1, r2] = await Promise.all([b.submit([1, 2]), b.submit([3])]);
    expect(r1).toEqual([10, 20]);
    expect(r2).toEqual([30]);
    expect(batches).toEqual([[1, 2, 3]]);
  });

  it('flushes as soon as maxSize items wait, and splits a large submission into batches of maxSize', async () => {
    const batches: number[][] = [];
    const b = createMicroBatcher<number, number>({ maxSize: 3, maxWaitMs: 200, process: async (xs) => (batches.push(xs), xs) });
    const done = b.submit([1, 2, 3, 4, 5, 6, 7]);
    await tick(50);
    // Both full batches went at once; the partial one (7) still waits for maxWaitMs.
    expect(batches).toEqual([
      [1, 2, 3],
      [4, 5, 6],
    ]);
    expect(await done).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(batches[2]).toEqual([7]);
  });

  it('flushes a partial batch after maxWaitMs', async () => {
    const flushedAt: number[] = [];
    const b = createMicroBatcher<number, number>({ maxSize: 100, maxWaitMs: 50, process: async (xs) => (flushedAt.push(Date.now()), xs) });
    const t0 = Date.now();
    await b.submit([1]);
    expect(flushedAt[0]! - t0).toBeGreaterThanOrEqual(45);
    expect(flushedAt[0]! - t0).toBeLessThan(1000);
  });

  it('runs one batch at a time; items arriving meanwhile form the next batch', async () => {
    const batches: number[][] = [];
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const b = createMicroBatcher<number, number>({
      maxSize: 10,
      maxWaitMs: 0,
      process: async (xs) => {
        batches.push(xs);
        if (batches.length === 1) await gate;
        return xs;
      },
    });
    const p1 = b.submit([1]);
    await tick(5);
    const p2 = b.submit([2]);
    const p3 = b.submit([3]);
    await tick(5);
    expect(batches).toEqual([[1]]);
    release();
    await Promise.all([p1, p2, p3]);
    expect(batches).toEqual([[1], [2, 3]]);
  });

  it('rejects every submitter in a failed batch, drops their queued items, and keeps serving others', async () => {
    const seen: number[][] = [];
    const b = createMicroBatcher<number, number>({
      maxSize: 2,
      maxWaitMs: 0,
      process: async (xs) => {
        seen.push(xs);
        if (xs.includes(-1)) throw new Error('boom');
        return xs;
      },
    });
    const bad = b.submit([-1, 5, 6]); // first batch [-1, 5] fails; 6 must not be processed afterwards
    const good = b.submit([7]);
    await expect(bad).rejects.toThrow('boom');
    expect(await good).toEqual([7]);
    expect(seen.flat()).not.toContain(6);
    await b.drain();
    expect(b.pending()).toBe(0);
  });

  it('rejects a processor that returns the wrong number of results', async () => {
    const b = createMicroBatcher<number, number>({ maxSize: 5, maxWaitMs: 0, process: async () => [1] });
    await expect(b.submit([1, 2])).rejects.toThrow(/returned 1 results for 2 items/);
  });
});
