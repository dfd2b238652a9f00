/**
 * A plain-JavaScript predictor whose big batches run on prediction threads (worker threads, each with
 * the model loaded once) instead of the server's event loop.
 *
 * Why: while the event loop computes a batch, nothing reads the sockets. Clients uploading big bodies
 * (32 emails, ~90 KB) then fill the kernel's receive windows, and TCP's recovery from that (zero windows,
 * loss probes) costs some requests hundreds of milliseconds: a bare `node:http` server showed a p99 of
 * 1.2 s for a p50 of 100 ms at 32 connections, and 0.25 s with the same work on a thread (docs/serving.md,
 * "Prediction threads"). Batches of small requests stay on the calling thread, where they cost less than the hop.
 *
 * A thread that fails to start fails `start`; one that dies later fails the batches it held (500s for
 * those requests) and the predictor goes on without it, on the calling thread if none is left.
 */
import type { MLmodel } from "@slipway/ml";
import { Worker } from "node:worker_threads";
import type { FromPredictorThread, PredictorThreadInit, ToPredictorThread } from "./predictor-thread.js";
import {
  PredictorError,
  PredictorLoadError,
  type InputBatch,
  type PredictionBatch,
  type PredictContext,
  type PredictParams,
  type Predictor,
  type PredictorSignature,
} from "./predictor.js";

const ENTRY = new URL("./predictor-thread.js", import.meta.url);

/** Batches with fewer rows per request run on the calling thread. */
export const DEFAULT_THREAD_MIN_ROWS = 8;

export interface ThreadedPredictorOptions {
  /** Prediction threads (≥ 1). */
  readonly threads: number;
  readonly minRows?: number;
}

interface Pending {
  resolve(result: PredictionBatch): void;
  reject(error: Error): void;
}

class PredictionThread {
  readonly pending = new Map<number, Pending>();
  private closed: (() => void) | undefined;
  dead = false;

  private constructor(private readonly worker: Worker) {}

  static start(init: PredictorThreadInit): Promise<PredictionThread> {
    const worker = new Worker(ENTRY, { workerData: init });
    const thread = new PredictionThread(worker);
    return new Promise((resolve, reject) => {
      const onStartError = (error: Error) => reject(new PredictorLoadError(`prediction thread: ${error.message}`));
      worker.once("error", onStartError);
      worker.on("message", (message: FromPredictorThread) => {
        switch (message.type) {
          case "ready":
            worker.off("error", onStartError);
            worker.on("error", (error) => thread.fail(error));
            worker.once("exit", (code) => thread.fail(new Error(`the prediction thread exited (code ${code})`)));
            worker.unref();
            resolve(thread);
            return;
          case "load-failed":
            reject(new PredictorLoadError(`prediction thread: ${message.message}`));
            return;
          case "result":
            thread.settle(message.id)?.resolve(message.result);
            return;
          case "error":
            thread
              .settle(message.id)
              ?.reject(message.predictor ? new PredictorError(message.message) : new Error(message.message));
            return;
          case "closed":
            thread.closed?.();
            return;
        }
      });
    });
  }

  run(id: number, batch: InputBatch, params: PredictParams | undefined): Promise<PredictionBatch> {
    return new Promise((resolve, reject) => {
      // an idle thread does not keep the process alive; one with work does
      if (this.pending.size === 0) this.worker.ref();
      this.pending.set(id, { resolve, reject });
      const message: ToPredictorThread = { type: "predict", id, batch, ...(params ? { params } : {}) };
      this.worker.postMessage(message);
    });
  }

  async close(): Promise<void> {
    if (this.dead) return;
    this.dead = true;
    const closed = new Promise<void>((resolve) => (this.closed = resolve));
    this.worker.ref();
    this.worker.postMessage({ type: "close" } satisfies ToPredictorThread);
    const timeout = new Promise<void>((resolve) => setTimeout(resolve, 5000).unref());
    await Promise.race([closed, timeout]);
    await this.worker.terminate();
  }

  private settle(id: number): Pending | undefined {
    const pending = this.pending.get(id);
    this.pending.delete(id);
    if (this.pending.size === 0) this.worker.unref();
    return pending;
  }

  private fail(error: Error): void {
    if (this.dead) return;
    this.dead = true;
    for (const pending of this.pending.values()) pending.reject(error);
    this.pending.clear();
  }
}

export class ThreadedPredictor implements Predictor {
  readonly kind: string;
  readonly platform: string;
  readonly signature: PredictorSignature;
  readonly labelOutput?: string;
  readonly batchable: boolean;
  readonly blocking = true;
  private nextId = 0;
  /** Batches sent to a thread so far. */
  threadedBatches = 0;

  private constructor(
    private readonly inner: Predictor,
    private readonly threads: readonly PredictionThread[],
    private readonly minRows: number,
  ) {
    this.kind = inner.kind;
    this.platform = inner.platform;
    this.signature = inner.signature;
    if (inner.labelOutput !== undefined) this.labelOutput = inner.labelOutput;
    this.batchable = inner.batchable;
  }

  /** Starts the threads, each loading the package in `dir`; `inner` (loaded here) keeps the small batches. */
  static async start(
    inner: Predictor,
    dir: string,
    mlmodel: MLmodel,
    options: ThreadedPredictorOptions,
  ): Promise<ThreadedPredictor> {
    if (!Number.isInteger(options.threads) || options.threads < 1) {
      throw new RangeError(`prediction threads must be a positive integer, not ${options.threads}`);
    }
    const started = await Promise.allSettled(
      Array.from({ length: options.threads }, () => PredictionThread.start({ dir, mlmodel })),
    );
    const threads = started.flatMap((s) => (s.status === "fulfilled" ? [s.value] : []));
    const failed = started.find((s): s is PromiseRejectedResult => s.status === "rejected");
    if (failed) {
      await Promise.all(threads.map((t) => t.close()));
      throw failed.reason instanceof Error ? failed.reason : new Error(String(failed.reason));
    }
    return new ThreadedPredictor(inner, threads, options.minRows ?? DEFAULT_THREAD_MIN_ROWS);
  }

  /** Threads still running. */
  get liveThreads(): number {
    return this.threads.filter((t) => !t.dead).length;
  }

  /**
   * Batches whose requests carry `minRows` rows or more each, on average, go to a thread: those arrive as
   * big bodies, the ones that fill receive windows while the loop computes. Merged one-row requests stay
   * on the calling thread, whatever the batch's size: their bodies are small and the hop would cost more.
   */
  predict(batch: InputBatch, params?: PredictParams, context?: PredictContext): Promise<PredictionBatch> {
    if (batch.rows / Math.max(1, context?.requests ?? 1) >= this.minRows) {
      let best: PredictionThread | undefined;
      for (const thread of this.threads) {
        if (!thread.dead && (best === undefined || thread.pending.size < best.pending.size)) best = thread;
      }
      if (best) {
        this.threadedBatches++;
        return best.run(this.nextId++, batch, params);
      }
    }
    return this.inner.predict(batch, params);
  }

  warmup(): Promise<void> {
    return this.inner.warmup();
  }

  async close(): Promise<void> {
    await Promise.all(this.threads.map((t) => t.close()));
    await this.inner.close();
  }
}
