/**
 * What the inference logger and the LLM server's trace exporter share: items that must reach another server
 * without ever slowing or failing the request that produced them.
 *
 * The request path only calls `offer`: synchronous, never throwing, it appends to a bounded buffer, or drops the
 * items and counts them when they do not fit. Everything else happens off the request path:
 *
 * - batches of up to `maxBatch` items go to `send`, at most `concurrency` at a time. With a `flushIntervalMs`, a
 *   batch goes as soon as it is full, and whatever waits goes at every interval; without one, items go as soon as
 *   they wait. Sends start from `setImmediate`, never from `offer` itself;
 * - `send` does its own retries and answers with the batch's outcome, which is counted (`onCount`) per item;
 * - each kind of failure is reported once (`report`); the counters carry the rest.
 *
 * `close()` stops taking items and sends what waits within a deadline (SIGTERM), then aborts the sends (their
 * `signal`) and drops and counts the rest. Timers are unref'd: nothing keeps the process alive but that deadline.
 */

export type SendOutcome = "sent" | "dropped_buffer_full" | "dropped_send_failed" | "dropped_rejected";
export const SEND_OUTCOMES: readonly SendOutcome[] = [
  "sent",
  "dropped_buffer_full",
  "dropped_send_failed",
  "dropped_rejected",
];

const DEFAULT_CLOSE_TIMEOUT_MS = 5000;
/** Most distinct failure kinds reported (each once); the counters carry everything. */
const MAX_REPORTED_KINDS = 64;

export interface BoundedSenderOptions<T> {
  /** Names the items in report lines: `"records"`, `"traces"`. */
  readonly items: string;
  /** Starts every report line: `"inference log"`, `"traces"`. */
  readonly prefix: string;
  /** Most items waiting; beyond it offered items are dropped and counted. */
  readonly maxBuffer: number;
  /** Most items per `send`. */
  readonly maxBatch: number;
  /** Sends in flight at once. */
  readonly concurrency: number;
  /** Send partial batches at this interval only (after `start()`); without it, items go as soon as they wait. */
  readonly flushIntervalMs?: number;
  /**
   * Sends one batch, retrying as it sees fit, and answers with its outcome (never `dropped_buffer_full`). `signal`
   * aborts at the close deadline. A rejection counts as `dropped_send_failed`.
   */
  readonly send: (batch: T[], signal: AbortSignal) => Promise<Exclude<SendOutcome, "dropped_buffer_full">>;
  /** Told of every counted outcome (metrics). */
  readonly onCount?: (outcome: SendOutcome, n: number) => void;
  /** One line per kind of failure (default: standard error). */
  readonly onReport?: (line: string) => void;
}

export type SenderStats = Record<SendOutcome, number> & { buffered: number };

export class BoundedSender<T> {
  private readonly options: BoundedSenderOptions<T>;
  private readonly totals: Record<SendOutcome, number> = {
    sent: 0,
    dropped_buffer_full: 0,
    dropped_send_failed: 0,
    dropped_rejected: 0,
  };
  private buffer: T[] = [];
  private inFlight = 0;
  private scheduled = false;
  private flushDue = false;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  private closing: Promise<void> | undefined;
  private idle: (() => void) | undefined;
  /** Aborted at the close deadline: ends the sends in flight and their backoff. */
  private readonly abort = new AbortController();
  private readonly reported = new Set<string>();

  constructor(options: BoundedSenderOptions<T>) {
    positive("maxBuffer", options.maxBuffer);
    positive("maxBatch", options.maxBatch);
    positive("concurrency", options.concurrency);
    if (options.flushIntervalMs !== undefined) positive("flushIntervalMs", options.flushIntervalMs);
    this.options = options;
  }

  /** Items waiting. */
  get buffered(): number {
    return this.buffer.length;
  }

  /** Starts the periodic flush (with `flushIntervalMs`). Items offered before are kept and sent then. */
  start(): void {
    if (this.options.flushIntervalMs === undefined || this.timer !== undefined || this.closed) return;
    this.timer = setInterval(() => {
      if (this.buffer.length === 0) return;
      this.flushDue = true;
      this.pump();
    }, this.options.flushIntervalMs);
    this.timer.unref();
  }

  /**
   * Queues `items`, all or none: dropped and counted when closed (`dropped_send_failed`) or when the buffer cannot
   * take them all (`dropped_buffer_full`). Never throws, never waits. Answers whether they were queued.
   */
  offer(items: readonly T[]): boolean {
    const n = items.length;
    if (this.closed) {
      this.count("dropped_send_failed", n);
      return false;
    }
    if (this.buffer.length + n > this.options.maxBuffer) {
      this.count("dropped_buffer_full", n);
      return false;
    }
    for (const item of items) this.buffer.push(item);
    if (this.due()) this.schedule();
    return true;
  }

  private count(outcome: SendOutcome, n: number): void {
    if (n === 0) return;
    this.totals[outcome] += n;
    this.options.onCount?.(outcome, n);
  }

  /** Reports `line` unless a failure of this `kind` was reported already. Never throws. */
  report(kind: string, line: string): void {
    if (this.reported.has(kind) || this.reported.size >= MAX_REPORTED_KINDS) return;
    this.reported.add(kind);
    try {
      (this.options.onReport ?? ((l: string) => process.stderr.write(`${l}\n`)))(line);
    } catch {
      // reporting must not break sending
    }
  }

  stats(): SenderStats {
    return { ...this.totals, buffered: this.buffer.length };
  }

  /** Stops taking items and sends those waiting, giving up at the deadline (default 5 s). Never rejects. */
  close(timeoutMs = DEFAULT_CLOSE_TIMEOUT_MS): Promise<void> {
    this.closing ??= this.shutdown(timeoutMs);
    return this.closing;
  }

  private async shutdown(timeoutMs: number): Promise<void> {
    this.closed = true;
    clearInterval(this.timer);
    // not unref'd: it bounds the flush, and keeps the process alive until the flush ends
    const deadline = setTimeout(() => this.abort.abort(), timeoutMs);
    try {
      this.pump();
      while (this.inFlight > 0 || (this.buffer.length > 0 && !this.abort.signal.aborted)) {
        await new Promise<void>((resolve) => {
          this.idle = resolve;
          // the abort ends the sends; wake up to see
          this.abort.signal.addEventListener("abort", () => resolve(), { once: true });
        });
      }
    } finally {
      clearTimeout(deadline);
      this.abort.abort();
      const n = this.buffer.length;
      if (n > 0) {
        this.buffer = [];
        this.count("dropped_send_failed", n);
        this.report(
          "close",
          `${this.options.prefix}: ${n} ${this.options.items} were still unsent at the close deadline; dropped`,
        );
      }
    }
  }

  /** Whether a batch should go now: a full one, or any when flushing, closing, or sending at once. */
  private due(): boolean {
    const n = this.buffer.length;
    if (n === 0) return false;
    return n >= this.options.maxBatch || this.flushDue || this.closed || this.options.flushIntervalMs === undefined;
  }

  /** Sends start soon, never from the request path. */
  private schedule(): void {
    if (this.scheduled || this.inFlight >= this.options.concurrency) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.pump();
    }).unref();
  }

  private pump(): void {
    while (this.inFlight < this.options.concurrency && !this.abort.signal.aborted && this.due()) {
      const batch = this.take();
      this.inFlight++;
      void this.sendBatch(batch).finally(() => {
        this.inFlight--;
        this.pump();
        if (this.inFlight === 0) this.idle?.();
      });
    }
  }

  private take(): T[] {
    if (this.buffer.length <= this.options.maxBatch) {
      // everything that waited goes: the flush is done
      this.flushDue = false;
      const all = this.buffer;
      this.buffer = [];
      return all;
    }
    return this.buffer.splice(0, this.options.maxBatch);
  }

  private async sendBatch(batch: T[]): Promise<void> {
    let outcome: SendOutcome;
    try {
      outcome = await this.options.send(batch, this.abort.signal);
    } catch (error) {
      outcome = "dropped_send_failed";
      this.report(
        `send threw ${messageOf(error).slice(0, 80)}`,
        `${this.options.prefix}: sending ${this.options.items} failed: ${messageOf(error)}; such ${this.options.items} are dropped and counted (outcome="dropped_send_failed"), this is reported once`,
      );
    }
    this.count(outcome, batch.length);
  }
}

export function positive(name: string, value: number): number {
  if (!Number.isInteger(value) || value < 1) throw new RangeError(`${name} must be a positive integer, got ${value}`);
  return value;
}

export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
