/**
 * A pool of prediction threads (worker threads), each holding the model loaded once. `run` hands a block
 * to the thread with the fewest blocks outstanding and resolves with its result; the block's bytes are
 * transferred, not copied. A thread that fails to load fails `start` (the others are stopped); a thread
 * that dies later fails its outstanding blocks and every later `run`, since a job cannot go on without
 * knowing what happened to its rows. `close` lets each thread release its model; `terminate` (an
 * interrupted job) stops them at once, mid-block.
 */
import { Worker } from "node:worker_threads";
import type { PredictorSignature } from "../predictors/predictor.js";
import { PredictorLoadError } from "../predictors/predictor.js";
import { BatchError } from "./batch-error.js";
import type { BlockResult, InputBlock, InputPlan, OutputPlan } from "./block.js";
import type { FromThread, ThreadInit, ToThread } from "./thread-messages.js";

const ENTRY = new URL("./predict-thread.js", import.meta.url);

export interface PredictionThreadsOptions extends ThreadInit {
  /** Number of threads (≥ 1). */
  readonly threads: number;
  /** Stops the threads still loading the model; `start` then rejects with the signal's reason. */
  readonly signal?: AbortSignal;
}

interface Pending {
  resolve(result: BlockResult): void;
  reject(error: Error): void;
}

class PredictionThread {
  readonly pending = new Map<number, Pending>();
  private closedWaiter: (() => void) | undefined;
  failure: Error | undefined;

  private constructor(readonly worker: Worker) {}

  static start(
    init: ThreadInit,
    signal?: AbortSignal,
  ): Promise<{ thread: PredictionThread; signature: PredictorSignature }> {
    const worker = new Worker(ENTRY, { workerData: init });
    const thread = new PredictionThread(worker);
    // interrupted while loading: the thread is stopped, and its exit rejects below
    const onAbort = () => void worker.terminate();
    signal?.addEventListener("abort", onAbort, { once: true });
    return new Promise((resolve, reject) => {
      const onStartError = (error: Error) => {
        signal?.removeEventListener("abort", onAbort);
        reject(error);
      };
      const onStartExit = (code: number) => {
        signal?.removeEventListener("abort", onAbort);
        reject(new Error(`a prediction thread stopped (exit code ${code}) while loading the model`));
      };
      worker.once("error", onStartError);
      worker.once("exit", onStartExit);
      worker.once("message", (message: FromThread) => {
        signal?.removeEventListener("abort", onAbort);
        worker.off("error", onStartError);
        worker.off("exit", onStartExit);
        if (message.type === "ready") {
          thread.listen();
          resolve({ thread, signature: message.signature });
        } else if (message.type === "load-failed") {
          reject(new PredictorLoadError(message.message));
        } else {
          reject(new Error(`a prediction thread answered '${message.type}' before it was ready`));
        }
      });
    });
  }

  private listen(): void {
    this.worker.on("message", (message: FromThread) => {
      if (message.type === "result" || message.type === "error") {
        const pending = this.pending.get(message.id);
        if (!pending) return;
        this.pending.delete(message.id);
        if (message.type === "result") pending.resolve(message.result);
        else pending.reject(message.batch ? new BatchError(message.message) : new Error(message.message));
      } else if (message.type === "closed") {
        this.closedWaiter?.();
      }
    });
    const fail = (error: Error) => {
      this.failure ??= error;
      for (const p of this.pending.values()) p.reject(this.failure);
      this.pending.clear();
      this.closedWaiter?.();
    };
    this.worker.on("error", fail);
    this.worker.on("exit", (code) => fail(new Error(`a prediction thread stopped unexpectedly (exit code ${code})`)));
  }

  post(message: ToThread, transfer: ArrayBuffer[] = []): void {
    this.worker.postMessage(message, transfer);
  }

  /** Asks the thread to release the model, then ends it. */
  async close(): Promise<void> {
    if (this.failure === undefined) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 5000);
        this.closedWaiter = () => {
          clearTimeout(timer);
          resolve();
        };
        this.post({ type: "close" });
      });
    }
    this.failure ??= new Error("the prediction threads are closed");
    await this.worker.terminate();
  }

  /** Stops the thread at once (mid-block); its outstanding blocks fail. */
  async terminate(): Promise<void> {
    this.failure ??= new Error("the prediction threads were stopped");
    for (const p of this.pending.values()) p.reject(this.failure);
    this.pending.clear();
    this.closedWaiter?.();
    await this.worker.terminate();
  }
}

export class PredictionThreads {
  private nextId = 0;

  private constructor(
    private readonly threads: PredictionThread[],
    /** The signature the model serves, as its predictor reads it. */
    readonly signature: PredictorSignature,
  ) {}

  /** Starts the threads and waits until each has loaded the model. */
  static async start(options: PredictionThreadsOptions): Promise<PredictionThreads> {
    // the signal is not part of what the threads are given (it cannot be cloned)
    const { threads: count, signal, ...init } = options;
    if (!Number.isInteger(count) || count < 1) throw new BatchError(`threads must be a whole number ≥ 1, not ${count}`);
    signal?.throwIfAborted();
    const started = await Promise.allSettled(Array.from({ length: count }, () => PredictionThread.start(init, signal)));
    const ok = started.filter((s) => s.status === "fulfilled").map((s) => s.value);
    if (signal?.aborted) {
      await Promise.allSettled(ok.map((s) => s.thread.terminate()));
      throw signal.reason;
    }
    const failed = started.find((s): s is PromiseRejectedResult => s.status === "rejected");
    if (failed) {
      await Promise.allSettled(ok.map((s) => s.thread.close()));
      throw failed.reason;
    }
    return new PredictionThreads(
      ok.map((s) => s.thread),
      ok[0]!.signature,
    );
  }

  get size(): number {
    return this.threads.length;
  }

  /** Predicts one block on the least busy thread. */
  run(block: InputBlock, input: InputPlan, output: OutputPlan): Promise<BlockResult> {
    let thread = this.threads[0]!;
    for (const t of this.threads) if (t.pending.size < thread.pending.size) thread = t;
    const broken = this.threads.find((t) => t.failure !== undefined);
    if (broken) return Promise.reject(broken.failure!);
    const id = this.nextId++;
    return new Promise<BlockResult>((resolve, reject) => {
      thread.pending.set(id, { resolve, reject });
      const transfer = block.kind === "text" ? [block.bytes.buffer as ArrayBuffer] : [];
      thread.post({ type: "block", id, block, input, output }, transfer);
    });
  }

  async close(): Promise<void> {
    await Promise.allSettled(this.threads.map((t) => t.close()));
  }

  /** Stops every thread at once, without waiting for the blocks they are on. */
  async terminate(): Promise<void> {
    await Promise.allSettled(this.threads.map((t) => t.terminate()));
  }
}
