import { describe, expect, it } from 'vitest';
import { mulberry32, randInt } from '../../../lib/stats/random.js';
import { DeadlineHeap } from '../../../stream-processors/label-joiner/heap.js';

describe('DeadlineHeap', () => {
  it('pops in deadline order across growth, interleaved pushes and pops', () => {
    const rng = mulberry32(42);
    const heap = new DeadlineHeap<number>(16);
    const model: number[] = [];
    for (let i = 0; i < 5000; i++) {
      if (model.length > 0 && rng() < 0.4) {
        model.sort((a, b) => a - b);
        const expected = model.shift()!;
        expect(heap.peekDeadline()).toBe(expected);
        expect(heap.pop()).toBe(expected);
      } else {
        const d = randInt(rng, 1000);
        heap.push(d, d);
        model.push(d);
      }
      expect(heap.size).toBe(model.length);
    }
    model.sort((a, b) => a - b);
    const rest: number[] = [];
    while (heap.size > 0) rest.push(heap.pop()!);
    expect(rest).toEqual(model);
  });

  it('reports +Infinity and undefined when empty', () => {
    const heap = new DeadlineHeap<string>();
    expect(heap.peekDeadline()).toBe(Infinity);
    expect(heap.peek()).toBeUndefined();
    expect(heap.pop()).toBeUndefined();
  });

  it('compacts away entries the predicate rejects (it sees the entry deadline) and stays a heap', () => {
    const heap = new DeadlineHeap<{ id: number; live: boolean; at: number }>(16);
    const items = Array.from({ length: 10_000 }, (_, id) => ({ id, live: id % 3 === 0, at: (id * 7919) % 10_000 }));
    for (const it of items) heap.push(it.at, it);
    // A second, stale entry for some items (their deadline moved).
    for (const it of items.slice(0, 100)) heap.push(it.at + 50_000, it);
    heap.compact((it, d) => it.live && d === it.at);
    const live = items
      .filter((i) => i.live)
      .map((i) => i.at)
      .sort((a, b) => a - b);
    expect(heap.size).toBe(live.length);
    const out: number[] = [];
    while (heap.size > 0) {
      const d = heap.peekDeadline();
      expect(heap.pop()!.at).toBe(d);
      out.push(d);
    }
    expect(out).toEqual(live);
  });
});
