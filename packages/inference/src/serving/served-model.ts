/**
 * One model version being served: its predictor, the checks compiled from its signature, and its batcher.
 * The request path is `predict(raw, params)`: check and convert the input (400 on a mismatch), check the
 * parameters, queue for the batcher (503 past capacity), and resolve with this request's rows of the
 * prediction. Knows nothing of HTTP: protocol adapters decode requests into `RawInput` and encode the
 * `PredictionBatch` they get back.
 */
import { Batcher, type BatcherOptions } from "../batching/batcher.js";
import { compileBatchBuilder, type BatchBuilder } from "../input/build-batch.js";
import { compileParams, type ParamsChecker } from "../input/params.js";
import type { RawInput } from "../input/raw-input.js";
import type {
  InputBatch,
  PredictParams,
  PredictionBatch,
  Predictor,
  PredictorSignature,
} from "../predictors/predictor.js";

/** Observers of a model's traffic (metrics); called on the request path, so they must be cheap. */
export interface ModelHooks {
  /** Once per predictor call: rows in it and the number of requests merged into it. */
  onBatch?(model: ServedModel, rows: number, requests: number): void;
  /** Once per predictor call, with the whole (merged) prediction and the seconds it took. */
  onPrediction?(model: ServedModel, prediction: PredictionBatch, seconds: number): void;
}

export interface ServedModelOptions {
  /** The name clients use (`/v2/models/{name}`). */
  name: string;
  /** The registry version, when the model came from the registry. */
  version?: string;
  /** Where it was loaded from (`models:/spam@champion`). */
  source?: string;
  predictor: Predictor;
  batching?: BatcherOptions;
  hooks?: ModelHooks;
}

export type ModelState = "loading" | "ready" | "draining" | "closed";

export class ServedModel {
  readonly name: string;
  readonly version: string | undefined;
  readonly source: string | undefined;
  readonly predictor: Predictor;
  readonly signature: PredictorSignature;
  private readonly buildBatch: BatchBuilder;
  private readonly checkParams: ParamsChecker;
  private readonly batcher: Batcher;
  private current: ModelState = "loading";

  constructor(options: ServedModelOptions) {
    this.name = options.name;
    this.version = options.version;
    this.source = options.source;
    this.predictor = options.predictor;
    this.signature = options.predictor.signature;
    this.buildBatch = compileBatchBuilder(this.signature);
    this.checkParams = compileParams(this.signature.params);
    const hooks = options.hooks ?? {};
    const predictor = this.predictor;
    const run = hooks.onPrediction
      ? async (batch: InputBatch, params: PredictParams | undefined, requests: number) => {
          const started = performance.now();
          const prediction = await predictor.predict(batch, params, { requests });
          hooks.onPrediction!(this, prediction, (performance.now() - started) / 1000);
          return prediction;
        }
      : (batch: InputBatch, params: PredictParams | undefined, requests: number) =>
          predictor.predict(batch, params, { requests });
    this.batcher = new Batcher(
      this.name,
      run,
      { ...options.batching, mergeable: (options.batching?.mergeable ?? true) && this.predictor.batchable },
      hooks.onBatch ? { onBatch: (rows, requests) => hooks.onBatch!(this, rows, requests) } : {},
    );
  }

  get state(): ModelState {
    return this.current;
  }

  get ready(): boolean {
    return this.current === "ready";
  }

  /** Requests waiting in the admission queue. */
  get queueDepth(): number {
    return this.batcher.depth;
  }

  /** Warms the predictor up and marks the model ready. A failure leaves it not ready and is thrown. */
  async start(): Promise<void> {
    await this.predictor.warmup();
    this.current = "ready";
  }

  /**
   * Checks, converts and predicts one request's input. Rejects with a 400 `InferenceError` for input
   * that does not fit, a 503 one when the queue is full or the model is closing.
   */
  async predict(raw: RawInput, params?: unknown): Promise<PredictionBatch> {
    const batch = this.buildBatch(raw);
    const checked = params === undefined ? undefined : this.checkParams(params);
    return this.batcher.submit(batch, checked, checked === undefined ? "" : JSON.stringify(checked));
  }

  /**
   * `predict`, also handing back the request's canonical batch (checked and converted), which the
   * inference log records row by row. The batch is the request's own: nothing mutates it afterwards.
   */
  async predictWithInput(raw: RawInput, params?: unknown): Promise<{ input: InputBatch; prediction: PredictionBatch }> {
    const input = this.buildBatch(raw);
    const checked = params === undefined ? undefined : this.checkParams(params);
    const prediction = await this.batcher.submit(input, checked, checked === undefined ? "" : JSON.stringify(checked));
    return { input, prediction };
  }

  /** Stops taking requests, lets queued and running ones finish, then releases the predictor. */
  async close(): Promise<void> {
    if (this.current === "closed") return;
    this.current = "draining";
    this.batcher.close();
    await this.batcher.drained();
    this.current = "closed";
    await this.predictor.close();
  }
}
