/**
 * Micro-batching across concurrent callers: items submitted by several callers (the stream's
 * per-partition batch handlers) are coalesced into batches of at most `maxSize`, flushed when full
 * or when the oldest waiting item has waited `maxWaitMs` (SCORING_BATCH_MAX_SIZE /
 * SCORING_BATCH_MAX_WAIT_MS). One batch is processed at a time; items arriving meanwhile form the
 * next batch, so under load batches grow toward `maxSize` by themselves (the dynamic batching of
 * inference servers such as Triton).
 *
 * A caller's promise resolves with its own results, in order, once all of its items are processed,
 * which is what lets the stream commit offsets only after its predictions are produced. If a batch
 * fails, every caller with an item in it is rejected and that caller's remaining items are dropped
 * from the queue (the stream retries its whole Kafka batch).
 */

interface Submission<O> {
  readonly results: O[];
  remaining: number;
  failed: boolean;
  resolve(results: O[]): void;
  reject(err: unknown): void;
}

interface Entry<I, O> {
  readonly item: I;
  readonly sub: Submission<O>;
  readonly index: number;
  readonly at: number;
}

export interface MicroBatcherOptions<I, O> {
  readonly maxSize: number;
  readonly maxWaitMs: number;
  /** Must return one result per item, in order. */
  readonly process: (items: I[]) => Promise<O[]>;
  readonly now?: () => number;
}

export interface MicroBatcher<I, O> {
  submit(items: readonly I[]): Promise<O[]>;
  /** Items waiting (not yet in a running batch). */
  pending(): number;
  /** Resolves when the queue is empty and no batch runs. */
  drain(): Promise<void>;
}

export function createMicroBatcher<I, O>(opts: MicroBatcherOptions<I, O>): MicroBatcher<I, O> {
  if (!(opts.maxSize >= 1)) throw new RangeError('maxSize must be >= 1');
  const now = opts.now ?? Date.now;
  let queue: Entry<I, O>[] = [];
  let running = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let idleWaiters: Array<() => void> = [];

  function schedule(): void {
    if (running || queue.length === 0) {
      if (!running && queue.length === 0) {
        const w = idleWaiters;
        idleWaiters = [];
        for (const fn of w) fn();
      }
      return;
    }
    if (queue.length >= opts.maxSize) {
      if (timer) clearTimeout(timer);
      timer = undefined;
      void flush();
      return;
    }
    if (timer) return;
    const wait = Math.max(0, queue[0]!.at + opts.maxWaitMs - now());
    timer = setTimeout(() => {
      timer = undefined;
      void flush();
    }, wait);
  }

  async function flush(): Promise<void> {
    if (running || queue.length === 0) return;
    running = true;
    const batch = queue.slice(0, opts.maxSize);
    queue = queue.slice(batch.length);
    try {
      const out = await opts.process(batch.map((e) => e.item));
      if (out.length !== batch.length) throw new Error(`micro-batch processor returned ${out.length} results for ${batch.length} items`);
      batch.forEach((e, k) => {
        if (e.sub.failed) return;
        e.sub.results[e.index] = out[k]!;
        if (--e.sub.remaining === 0) e.sub.resolve(e.sub.results);
      });
    } catch (err) {
      const failed = new Set<Submission<O>>();
      for (const e of batch) if (!e.sub.failed) failed.add(e.sub);
      for (const s of failed) {
        s.failed = true;
        s.reject(err);
      }
      queue = queue.filter((e) => !e.sub.failed);
    } finally {
      running = false;
      schedule();
    }
  }

  return {
    submit(items) {
      if (items.length === 0) return Promise.resolve([]);
      return new Promise<O[]>((resolve, reject) => {
        const sub: Submission<O> = { results: new Array(items.length), remaining: items.length, failed: false, resolve, reject };
        const at = now();
        items.forEach((item, index) => queue.push({ item, sub, index, at }));
        schedule();
      });
    },
    pending: () => queue.length,
    drain() {
      if (!running && queue.length === 0) return Promise.resolve();
      return new Promise<void>((r) => idleWaiters.push(r));
    },
  };
}
