import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createGroupCommit } from '../../../stream-processors/ingest/group-commit.js';

function setup(maxRows = 100, maxWaitMs = 1000) {
  const flushed: number[][] = [];
  let fail: Error | undefined;
  const gc = createGroupCommit<number[]>({
    maxRows,
    maxWaitMs,
    size: (x) => x.length,
    flush: async (items) => {
      if (fail) throw fail;
      flushed.push(items.flat());
    },
  });
  return { gc, flushed, failWith: (e: Error | undefined) => (fail = e) };
}

const settled = async <T>(p: Promise<T>) =>
  p.then(
    () => 'resolved',
    (e: Error) => `rejected: ${e.message}`,
  );

describe('group commit', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('flushes at once when no other handler is preparing rows', async () => {
    const { gc, flushed } = setup();
    const t = gc.begin();
    await t.submit([1, 2]);
    expect(flushed).toEqual([[1, 2]]);
  });

  it('groups the batches of concurrent handlers into one flush, resolving each only after it', async () => {
    const { gc, flushed } = setup();
    const a = gc.begin();
    const b = gc.begin();
    const c = gc.begin();
    const pa = a.submit([1]);
    const pb = b.submit([2, 3]);
    let aDone = false;
    void pa.then(() => (aDone = true));
    await Promise.resolve();
    expect(flushed).toEqual([]);
    expect(aDone).toBe(false); // a's rows are not durable yet, so its offsets must not be committed
    const pc = c.submit([4]);
    await Promise.all([pa, pb, pc]);
    expect(flushed).toEqual([[1, 2, 3, 4]]);
  });

  it('flushes when a handler ends without submitting (it failed) and the rest are waiting', async () => {
    const { gc, flushed } = setup();
    const a = gc.begin();
    const b = gc.begin();
    const pa = a.submit([1]);
    b.end();
    await pa;
    expect(flushed).toEqual([[1]]);
    b.end(); // idempotent
    expect(gc.preparing()).toBe(0);
  });

  it('flushes as soon as maxRows is reached, even while others are still preparing', async () => {
    const { gc, flushed } = setup(3);
    const a = gc.begin();
    const b = gc.begin();
    gc.begin(); // still preparing
    void a.submit([1, 2]);
    expect(flushed).toEqual([]);
    await b.submit([3]);
    expect(flushed).toEqual([[1, 2, 3]]);
  });

  it('flushes a partial group after maxWaitMs when another handler never submits', async () => {
    const { gc, flushed } = setup(100, 500);
    const a = gc.begin();
    gc.begin();
    const pa = a.submit([7]);
    await vi.advanceTimersByTimeAsync(499);
    expect(flushed).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    await pa;
    expect(flushed).toEqual([[7]]);
  });

  it('rejects every handler of a failed flush, and later groups still flush', async () => {
    const { gc, flushed, failWith } = setup();
    failWith(new Error('ClickHouse down'));
    const a = gc.begin();
    const b = gc.begin();
    const pa = a.submit([1]);
    const pb = b.submit([2]);
    expect(await settled(pa)).toBe('rejected: ClickHouse down');
    expect(await settled(pb)).toBe('rejected: ClickHouse down');
    failWith(undefined);
    await gc.begin().submit([3]);
    expect(flushed).toEqual([[3]]);
  });

  it('refuses a second submit on one ticket', () => {
    const { gc } = setup();
    const t = gc.begin();
    void t.submit([1]);
    expect(() => t.submit([2])).toThrow(/already/);
  });

  it('drain flushes what is pending', async () => {
    const { gc, flushed } = setup();
    const a = gc.begin();
    gc.begin();
    const pa = a.submit([5]);
    await gc.drain();
    await pa;
    expect(flushed).toEqual([[5]]);
  });
});
