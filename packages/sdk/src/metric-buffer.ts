/**
 * Buffered metric logging: metrics wait in memory and go out as `runs/log-batch` when `flushSize`
 * are waiting, `flushIntervalMs` after the first unflushed one, or on an explicit flush. Batches
 * are sent one at a time, in order. A background flush that fails is kept and thrown by the next
 * call, with the metrics the server did not take, so nothing is dropped silently.
 */
import type { Metric } from "@slipway/protocol";
import { LOG_BATCH_LIMITS, splitIntoBatches } from "./batching.js";

export interface MetricBufferPolicy {
  /** Flush when this many metrics wait. At most 1000 (MLflow's per-batch limit). Default 1000. */
  flushSize: number;
  /** Flush this long after the first unflushed metric. Default 1000 ms. */
  flushIntervalMs: number;
}

export const DEFAULT_METRIC_BUFFER_POLICY: Readonly<MetricBufferPolicy> = {
  flushSize: 1000,
  flushIntervalMs: 1000,
};

/** Metrics that could not be logged; `cause` is the error of the (first) failed batch. */
export class MetricFlushError extends Error {
  readonly metrics: Metric[];

  constructor(cause: unknown, metrics: Metric[]) {
    const reason = cause instanceof Error ? cause.message : String(cause);
    super(`${metrics.length} metric(s) were not logged: ${reason}`, { cause });
    this.name = "MetricFlushError";
    this.metrics = metrics;
  }
}

export class MetricBuffer {
  private readonly send: (metrics: Metric[]) => Promise<void>;
  private readonly policy: MetricBufferPolicy;
  private buffered: Metric[] = [];
  private timer: NodeJS.Timeout | undefined;
  private chain: Promise<void> = Promise.resolve();
  private inFlight = 0;
  private failure: MetricFlushError | undefined;

  constructor(send: (metrics: Metric[]) => Promise<void>, policy: Partial<MetricBufferPolicy> = {}) {
    this.send = send;
    const merged = { ...DEFAULT_METRIC_BUFFER_POLICY, ...policy };
    this.policy = {
      flushSize: Math.max(1, Math.min(LOG_BATCH_LIMITS.metrics, Math.floor(merged.flushSize))),
      flushIntervalMs: Math.max(0, merged.flushIntervalMs),
    };
  }

  /** Metrics waiting to be sent, not counting those in flight. */
  get size(): number {
    return this.buffered.length;
  }

  /** Metrics waiting or being sent. */
  get pending(): number {
    return this.buffered.length + this.inFlight;
  }

  /** Throws (once) the failure of an earlier background flush, if any. */
  throwIfFailed(): void {
    const failure = this.failure;
    if (failure) {
      this.failure = undefined;
      throw failure;
    }
  }

  /**
   * Buffers metrics, synchronously and in order. Resolves at once, or, when the buffer reaches
   * `flushSize`, after that flush (backpressure), rejecting if it failed.
   */
  async add(...metrics: Metric[]): Promise<void> {
    this.throwIfFailed();
    for (const metric of metrics) this.buffered.push(metric);
    if (this.buffered.length >= this.policy.flushSize) {
      await this.flushBuffered();
      this.throwIfFailed();
    } else if (this.buffered.length > 0 && !this.timer) {
      this.timer = setTimeout(() => {
        this.timer = undefined;
        void this.flushBuffered();
      }, this.policy.flushIntervalMs);
      this.timer.unref();
    }
  }

  /** Sends everything buffered and waits for every batch in flight; throws any failure. */
  async flush(): Promise<void> {
    await this.flushBuffered();
    this.throwIfFailed();
  }

  /** Stops the timer without sending (the buffered metrics stay; `flush()` still sends them). */
  stopTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** Queues the buffered metrics behind earlier batches; resolves when they are all settled. Never rejects. */
  private flushBuffered(): Promise<void> {
    this.stopTimer();
    const taken = this.buffered;
    this.buffered = [];
    for (let offset = 0; offset < taken.length; offset += this.policy.flushSize) {
      const slice = taken.slice(offset, offset + this.policy.flushSize);
      for (const batch of splitIntoBatches({ metrics: slice })) this.enqueue(batch.metrics);
    }
    return this.chain;
  }

  private enqueue(metrics: Metric[]): void {
    this.inFlight += metrics.length;
    this.chain = this.chain.then(async () => {
      try {
        await this.send(metrics);
      } catch (error) {
        this.recordFailure(error, metrics);
      } finally {
        this.inFlight -= metrics.length;
      }
    });
  }

  private recordFailure(error: unknown, metrics: Metric[]): void {
    if (this.failure) {
      this.failure = new MetricFlushError(this.failure.cause, [...this.failure.metrics, ...metrics]);
    } else {
      this.failure = new MetricFlushError(error, metrics);
    }
  }
}
