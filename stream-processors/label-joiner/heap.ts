/**
 * A binary min-heap of (deadline, item) pairs: the join's expiry queues.
 *
 * Deadlines live in a Float64Array beside the item array (struct of arrays), so a queued entry costs
 * 16 bytes (one double, one pointer) instead of a {deadline, item} object per entry; at a million
 * pending predictions that difference is tens of megabytes.
 *
 * Removal is lazy: the join never deletes from the middle of a heap. An item whose state moved on
 * (a pending prediction that got its label) stays queued until it surfaces, and the caller then
 * checks whether it is still current. `compact` drops stale items in O(n) when they pile up.
 */
export class DeadlineHeap<T> {
  private deadlines: Float64Array;
  private items: (T | undefined)[];
  private n = 0;

  constructor(initialCapacity = 1024) {
    this.deadlines = new Float64Array(Math.max(16, initialCapacity));
    this.items = new Array<T | undefined>(this.deadlines.length);
  }

  get size(): number {
    return this.n;
  }

  /** The smallest deadline, or +Infinity when empty. */
  peekDeadline(): number {
    return this.n === 0 ? Infinity : this.deadlines[0]!;
  }

  peek(): T | undefined {
    return this.n === 0 ? undefined : this.items[0];
  }

  push(deadline: number, item: T): void {
    if (this.n === this.deadlines.length) this.grow();
    let i = this.n++;
    // Sift up.
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const pd = this.deadlines[parent]!;
      if (pd <= deadline) break;
      this.deadlines[i] = pd;
      this.items[i] = this.items[parent];
      i = parent;
    }
    this.deadlines[i] = deadline;
    this.items[i] = item;
  }

  pop(): T | undefined {
    if (this.n === 0) return undefined;
    const top = this.items[0];
    const last = --this.n;
    const d = this.deadlines[last]!;
    const item = this.items[last];
    this.items[last] = undefined;
    if (last > 0) this.siftDown(0, d, item);
    return top;
  }

  /** Keeps only the entries `keep` accepts, then re-heapifies (Floyd, O(n)). */
  compact(keep: (item: T, deadline: number) => boolean): void {
    let w = 0;
    for (let r = 0; r < this.n; r++) {
      const item = this.items[r] as T;
      if (keep(item, this.deadlines[r]!)) {
        this.deadlines[w] = this.deadlines[r]!;
        this.items[w] = item;
        w++;
      }
    }
    for (let i = w; i < this.n; i++) this.items[i] = undefined;
    this.n = w;
    for (let i = (w >> 1) - 1; i >= 0; i--) this.siftDown(i, this.deadlines[i]!, this.items[i]);
    // Give memory back after a large drain (e.g. a partition whose backlog was just expired).
    if (this.deadlines.length > 4096 && this.n < this.deadlines.length / 4) this.resize(Math.max(1024, this.n * 2));
  }

  clear(): void {
    this.n = 0;
    this.resize(1024);
  }

  private siftDown(start: number, d: number, item: T | undefined): void {
    let i = start;
    const n = this.n;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      const c = r < n && this.deadlines[r]! < this.deadlines[l]! ? r : l;
      if (this.deadlines[c]! >= d) break;
      this.deadlines[i] = this.deadlines[c]!;
      this.items[i] = this.items[c];
      i = c;
    }
    this.deadlines[i] = d;
    this.items[i] = item;
  }

  private grow(): void {
    this.resize(this.deadlines.length * 2);
  }

  private resize(capacity: number): void {
    const d = new Float64Array(capacity);
    d.set(this.deadlines.subarray(0, this.n));
    this.deadlines = d;
    const items = new Array<T | undefined>(capacity);
    for (let i = 0; i < this.n; i++) items[i] = this.items[i];
    this.items = items;
  }
}
