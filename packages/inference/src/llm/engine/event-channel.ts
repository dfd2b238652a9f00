/**
 * A single-consumer async queue: producers (one per choice of a generation) push events, the consumer
 * iterates. Leaving the iteration early (`break`, `return()`) calls `onCancel` once, so producers stop at
 * their next token; an error given to `fail` is thrown to the consumer after the events already pushed.
 */

export class EventChannel<T> implements AsyncIterable<T> {
  private readonly queue: T[] = [];
  private waiter: { resolve: (r: IteratorResult<T>) => void; reject: (e: unknown) => void } | undefined;
  private ended = false;
  private failure: { error: unknown } | undefined;
  private cancelled = false;
  private iterating = false;

  constructor(private readonly onCancel: () => void = () => {}) {}

  /** True once the consumer has left (or `cancel` was called): producers should stop. */
  get isCancelled(): boolean {
    return this.cancelled;
  }

  push(value: T): void {
    if (this.ended || this.cancelled) return;
    if (this.waiter) {
      const { resolve } = this.waiter;
      this.waiter = undefined;
      resolve({ value, done: false });
    } else {
      this.queue.push(value);
    }
  }

  end(): void {
    if (this.ended) return;
    this.ended = true;
    this.wake();
  }

  fail(error: unknown): void {
    if (this.ended) return;
    this.failure = { error };
    this.ended = true;
    this.wake();
  }

  cancel(): void {
    if (this.cancelled) return;
    this.cancelled = true;
    this.queue.length = 0;
    this.onCancel();
    this.ended = true;
    this.wake();
  }

  [Symbol.asyncIterator](): AsyncIterator<T> {
    if (this.iterating) throw new Error("EventChannel: only one consumer may iterate");
    this.iterating = true;
    return {
      next: () => {
        const value = this.queue.shift();
        if (value !== undefined) return Promise.resolve({ value, done: false });
        if (this.ended) {
          if (this.failure && !this.cancelled) {
            const { error } = this.failure;
            this.failure = undefined;
            return Promise.reject(error instanceof Error ? error : new Error(String(error)));
          }
          return Promise.resolve({ value: undefined, done: true });
        }
        return new Promise<IteratorResult<T>>((resolve, reject) => (this.waiter = { resolve, reject }));
      },
      return: () => {
        if (!this.ended || this.queue.length > 0) this.cancel();
        return Promise.resolve({ value: undefined, done: true });
      },
    };
  }

  private wake(): void {
    if (!this.waiter || this.queue.length > 0) return;
    const { resolve, reject } = this.waiter;
    this.waiter = undefined;
    if (this.failure && !this.cancelled) {
      const { error } = this.failure;
      this.failure = undefined;
      reject(error instanceof Error ? error : new Error(String(error)));
    } else {
      resolve({ value: undefined, done: true });
    }
  }
}
