/**
 * Group commit: several consumed batches share one ClickHouse insert, and each batch's handler
 * resolves only once the insert holding its rows is durable (so the Kafka adapter commits its offset
 * only then).
 *
 * Why: kafkajs hands a fetch to the handler as one batch per partition, processed concurrently up to
 * `partitionsConsumedConcurrently` (kafkajs 2.2.4 src/consumer/fetcher.js + workerQueue.js: the next
 * fetch starts when every batch of the previous one is done). Inserting per partition batch would
 * write one small part per partition and table; ClickHouse wants few, large inserts.
 *
 * A pending group is flushed when
 *  - it holds at least `maxRows` rows, or
 *  - no other handler is still preparing rows (nothing more can join before the next fetch), or
 *  - `maxWaitMs` passed since its first submission (bounds latency if a handler is slow).
 * A failed flush rejects every handler in the group; the adapter retries each batch with backoff.
 */

export interface GroupCommitOptions<T> {
  readonly maxRows: number;
  readonly maxWaitMs: number;
  readonly size: (item: T) => number;
  readonly flush: (items: T[]) => Promise<void>;
}

export interface Ticket<T> {
  /** Hands this handler's rows over; resolves when they are durable. Call at most once. */
  submit(item: T): Promise<void>;
  /** Ends the ticket (idempotent); a handler that fails before submitting must still end it. */
  end(): void;
}

export interface GroupCommit<T> {
  /** Call when a handler starts preparing rows. */
  begin(): Ticket<T>;
  /** Handlers that have begun and not yet submitted or ended. */
  preparing(): number;
  /** Flushes whatever is pending now. */
  drain(): Promise<void>;
}

interface Pending<T> {
  items: T[];
  rows: number;
  done: Promise<void>;
  resolve: () => void;
  reject: (err: unknown) => void;
  timer: ReturnType<typeof setTimeout> | undefined;
}

export function createGroupCommit<T>(options: GroupCommitOptions<T>): GroupCommit<T> {
  let preparing = 0;
  let pending: Pending<T> | undefined;

  function newPending(): Pending<T> {
    let resolve!: () => void;
    let reject!: (err: unknown) => void;
    const done = new Promise<void>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    // A group whose every handler has already been rejected must not raise an unhandled rejection.
    done.catch(() => undefined);
    return { items: [], rows: 0, done, resolve, reject, timer: undefined };
  }

  function flushNow(): Promise<void> {
    const group = pending;
    if (!group) return Promise.resolve();
    pending = undefined;
    if (group.timer) clearTimeout(group.timer);
    options.flush(group.items).then(group.resolve, group.reject);
    return group.done;
  }

  function maybeFlush(): void {
    if (!pending) return;
    if (pending.rows >= options.maxRows || preparing === 0) void flushNow();
  }

  return {
    begin() {
      preparing++;
      let open = true;
      return {
        submit(item) {
          if (!open) throw new Error('ticket already submitted or ended');
          open = false;
          preparing--;
          pending ??= newPending();
          const group = pending;
          group.items.push(item);
          group.rows += options.size(item);
          group.timer ??= setTimeout(() => {
            if (pending === group) void flushNow();
          }, options.maxWaitMs);
          maybeFlush();
          return group.done;
        },
        end() {
          if (!open) return;
          open = false;
          preparing--;
          maybeFlush();
        },
      };
    },
    preparing: () => preparing,
    drain: () => flushNow(),
  };
}
