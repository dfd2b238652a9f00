/**
 * Dynamic batching with admission control, one batcher per served model version.
 *
 * Requests queue in arrival order. A batch is dispatched when a predictor slot is free
 * (`maxConcurrentBatches`, default 1: onnxruntime-node and JS predictors run on the main thread, so more
 * would only interleave) and either the queued rows reach `maxBatchSize`, or the oldest request has waited
 * `maxWaitMicros`. With the default wait of 0, an idle model runs a request at once, and requests that
 * arrive while a batch runs are merged into the next one — batching under load without added latency.
 * Waits of 1 ms or more use a timer; shorter ones re-check once per event-loop turn (`setImmediate`).
 *
 * A batch takes consecutive requests with the same merge key (same parameters; for tensors the same
 * inner shape) up to `maxBatchSize` rows; a request larger than that runs alone. The merged result is
 * split back by rows, in order. If a merged call fails, each of its requests is retried alone, so an
 * error reaches only the request that causes it.
 *
 * Admission: at most `queueCapacity` requests wait; past that `submit` rejects at once with a 503
 * `InferenceError` carrying `Retry-After`, so latency stays bounded instead of growing with the queue.
 */
import { InferenceError, overloaded } from "../errors.js";
import type { InputBatch, PredictParams, PredictionBatch } from "../predictors/predictor.js";
import { mergeBatches, mergeKey, sliceRows } from "./merge.js";

export interface BatcherOptions {
  /** Most rows per predictor call (default 64). A single larger request still runs, alone. */
  maxBatchSize?: number;
  /** How long the oldest queued request may wait for others, in microseconds (default 0). */
  maxWaitMicros?: number;
  /** Most requests waiting (not yet running); beyond it requests get 503 (default 1024). */
  queueCapacity?: number;
  /** Predictor calls in flight at once (default 1). */
  maxConcurrentBatches?: number;
  /** Whether requests may be merged at all (false: one request per call). Default true. */
  mergeable?: boolean;
  /** `Retry-After` seconds for rejected requests (default 1). */
  retryAfterSeconds?: number;
}

/** Runs one (merged) batch: the predictor's `predict`. */
/** `requests`: how many requests were merged into `batch` (1 when it is one request's). */
export type BatchRunner = (
  batch: InputBatch,
  params: PredictParams | undefined,
  requests: number,
) => Promise<PredictionBatch>;

export interface BatcherHooks {
  /** Called once per predictor call with its rows and the number of requests merged into it. */
  onBatch?(rows: number, requests: number): void;
}

interface Pending {
  batch: InputBatch;
  params: PredictParams | undefined;
  key: string;
  /** performance.now() at submit, when waits are used. */
  at: number;
  resolve: (p: PredictionBatch) => void;
  reject: (e: unknown) => void;
}

export class Batcher {
  private readonly maxBatchSize: number;
  private readonly maxWaitMs: number;
  private readonly capacity: number;
  private readonly maxConcurrent: number;
  private readonly mergeable: boolean;
  private readonly retryAfter: number;
  /** A queue as an array with a moving head (amortised O(1) shift). */
  private queue: Pending[] = [];
  private head = 0;
  private queuedRows = 0;
  private running = 0;
  private timer: NodeJS.Timeout | undefined;
  private immediate: NodeJS.Immediate | undefined;
  private closed = false;
  private idleWaiters: (() => void)[] = [];

  constructor(
    private readonly name: string,
    private readonly run: BatchRunner,
    options: BatcherOptions = {},
    private readonly hooks: BatcherHooks = {},
  ) {
    this.maxBatchSize = Math.max(1, options.maxBatchSize ?? 64);
    this.maxWaitMs = Math.max(0, options.maxWaitMicros ?? 0) / 1000;
    this.capacity = Math.max(0, options.queueCapacity ?? 1024);
    this.maxConcurrent = Math.max(1, options.maxConcurrentBatches ?? 1);
    this.mergeable = options.mergeable ?? true;
    this.retryAfter = options.retryAfterSeconds ?? 1;
  }

  /** Requests waiting to run. */
  get depth(): number {
    return this.queue.length - this.head;
  }

  /** Predictor calls in flight. */
  get inFlight(): number {
    return this.running;
  }

  /** Queues one request's batch and resolves with its rows of the prediction. */
  submit(batch: InputBatch, params?: PredictParams, paramsKey = ""): Promise<PredictionBatch> {
    if (this.closed) {
      return Promise.reject(
        new InferenceError("TEMPORARILY_UNAVAILABLE", `Model '${this.name}' is shutting down`, {
          retryAfterSeconds: this.retryAfter,
        }),
      );
    }
    // idle and no wait: run at once, skipping the queue
    if (this.running < this.maxConcurrent && this.depth === 0 && this.maxWaitMs === 0) {
      return this.runSingle(batch, params);
    }
    if (this.depth >= this.capacity) return Promise.reject(overloaded(this.name, this.capacity, this.retryAfter));
    return new Promise<PredictionBatch>((resolve, reject) => {
      this.queue.push({
        batch,
        params,
        key: this.mergeable ? `${paramsKey}#${mergeKey(batch)}` : "",
        at: this.maxWaitMs > 0 ? performance.now() : 0,
        resolve,
        reject,
      });
      this.queuedRows += batch.rows;
      this.schedule();
    });
  }

  /** Stops taking requests; those queued and running still finish. */
  close(): void {
    this.closed = true;
  }

  /** Resolves when nothing is queued or running. */
  drained(): Promise<void> {
    if (this.depth === 0 && this.running === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private async runSingle(batch: InputBatch, params: PredictParams | undefined): Promise<PredictionBatch> {
    this.running++;
    try {
      this.hooks.onBatch?.(batch.rows, 1);
      return await this.run(batch, params, 1);
    } finally {
      this.running--;
      this.afterRun();
    }
  }

  private schedule(): void {
    while (this.running < this.maxConcurrent && this.depth > 0) {
      if (this.maxWaitMs > 0 && this.queuedRows < this.maxBatchSize && this.mergeable) {
        const waited = performance.now() - this.queue[this.head]!.at;
        const remaining = this.maxWaitMs - waited;
        if (remaining > 0) {
          this.wakeAfter(remaining);
          return;
        }
      }
      this.dispatch();
    }
  }

  private wakeAfter(remainingMs: number): void {
    if (this.timer || this.immediate) return;
    if (remainingMs >= 1) {
      this.timer = setTimeout(() => {
        this.timer = undefined;
        this.schedule();
      }, Math.floor(remainingMs));
    } else {
      this.immediate = setImmediate(() => {
        this.immediate = undefined;
        this.schedule();
      });
    }
  }

  /** Takes the next batch off the queue and runs it. */
  private dispatch(): void {
    const first = this.queue[this.head]!;
    const items = [first];
    let rows = first.batch.rows;
    let i = this.head + 1;
    if (this.mergeable) {
      while (i < this.queue.length) {
        const next = this.queue[i]!;
        if (next.key !== first.key || rows + next.batch.rows > this.maxBatchSize) break;
        items.push(next);
        rows += next.batch.rows;
        i++;
      }
    }
    this.head = i;
    this.queuedRows -= rows;
    if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
    this.running++;
    void this.runBatch(items, rows).finally(() => {
      this.running--;
      this.afterRun();
    });
  }

  private async runBatch(items: Pending[], rows: number): Promise<void> {
    this.hooks.onBatch?.(rows, items.length);
    if (items.length === 1) {
      const item = items[0]!;
      try {
        item.resolve(await this.run(item.batch, item.params, 1));
      } catch (error) {
        item.reject(error);
      }
      return;
    }
    let prediction: PredictionBatch;
    try {
      prediction = await this.run(mergeBatches(items.map((p) => p.batch)), items[0]!.params, items.length);
    } catch {
      // isolate the failure: each request alone, so only the one that causes it fails
      for (const item of items) {
        try {
          item.resolve(await this.run(item.batch, item.params, 1));
        } catch (error) {
          item.reject(error);
        }
      }
      return;
    }
    let offset = 0;
    for (const item of items) {
      try {
        item.resolve(sliceRows(prediction, offset, item.batch.rows));
      } catch (error) {
        item.reject(error);
      }
      offset += item.batch.rows;
    }
  }

  private afterRun(): void {
    if (this.depth > 0) this.schedule();
    if (this.depth === 0 && this.running === 0 && this.idleWaiters.length > 0) {
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const w of waiters) w();
    }
  }
}
