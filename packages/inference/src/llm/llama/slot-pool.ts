/**
 * The engine's parallel slots (context sequences) and the bounded queue in front of them. A job takes a
 * free slot at once or waits in FIFO order; admission is all-or-nothing per request (a request with
 * `n` choices needs `n` jobs), and a request that would make more than `queueCapacity` jobs wait is
 * refused, so overload is answered at once (503 + Retry-After) instead of by timeouts. A waiting job
 * whose client leaves is removed from the queue; a slot is handed straight to the next waiter when
 * released.
 */

export class SlotPoolClosedError extends Error {
  override readonly name = "SlotPoolClosedError";
}

interface Waiter<T> {
  resolve(slot: T): void;
  reject(error: unknown): void;
  cleanup(): void;
}

export class SlotPool<T> {
  private readonly idle: T[];
  private readonly queue: Waiter<T>[] = [];
  private readonly total: number;
  private closed = false;

  constructor(
    slots: readonly T[],
    private readonly queueCapacity: number,
  ) {
    if (slots.length === 0) throw new RangeError("SlotPool needs at least one slot");
    if (!Number.isInteger(queueCapacity) || queueCapacity < 0) throw new RangeError("queueCapacity must be >= 0");
    this.idle = [...slots];
    this.total = slots.length;
  }

  get size(): number {
    return this.total;
  }

  get free(): number {
    return this.idle.length;
  }

  get running(): number {
    return this.total - this.idle.length;
  }

  get waiting(): number {
    return this.queue.length;
  }

  /** Whether `count` more jobs fit: free slots take some, the queue the rest. */
  canAdmit(count: number): boolean {
    if (this.closed) return false;
    return this.queue.length + Math.max(0, count - this.idle.length) <= this.queueCapacity;
  }

  /**
   * A slot for one job: at once when one is free (`prefer` scores the free slots, highest wins), else
   * when one is released. Rejects with the signal's reason if it aborts while waiting.
   */
  acquire(signal: AbortSignal, prefer?: (slot: T) => number): Promise<T> {
    if (this.closed) return Promise.reject(new SlotPoolClosedError("the engine is closed"));
    if (signal.aborted) return Promise.reject(abortError(signal));
    if (this.idle.length > 0) return Promise.resolve(this.takeIdle(prefer));
    return new Promise<T>((resolve, reject) => {
      const onAbort = () => {
        const at = this.queue.indexOf(waiter);
        if (at !== -1) this.queue.splice(at, 1);
        reject(abortError(signal));
      };
      const waiter: Waiter<T> = {
        resolve,
        reject,
        cleanup: () => signal.removeEventListener("abort", onAbort),
      };
      signal.addEventListener("abort", onAbort, { once: true });
      this.queue.push(waiter);
    });
  }

  release(slot: T): void {
    const next = this.queue.shift();
    if (next) {
      next.cleanup();
      next.resolve(slot);
    } else {
      this.idle.push(slot);
    }
  }

  /** Refuses new jobs and fails the waiting ones; running jobs keep their slots until released. */
  close(): void {
    this.closed = true;
    for (const waiter of this.queue.splice(0)) {
      waiter.cleanup();
      waiter.reject(new SlotPoolClosedError("the engine is shutting down"));
    }
  }

  private takeIdle(prefer: ((slot: T) => number) | undefined): T {
    let best = this.idle.length - 1;
    if (prefer) {
      let bestScore = -Infinity;
      for (let i = 0; i < this.idle.length; i++) {
        const score = prefer(this.idle[i]!);
        if (score > bestScore) {
          bestScore = score;
          best = i;
        }
      }
    }
    return this.idle.splice(best, 1)[0]!;
  }
}

function abortError(signal: AbortSignal): Error {
  return signal.reason instanceof Error ? signal.reason : new Error("the job was cancelled while waiting");
}
