/**
 * The messages between a batch job and its prediction threads (`prediction-threads.ts` ↔
 * `predict-thread.ts`). All are structured-cloned; block and output bytes are transferred.
 */
import type { MLmodel } from "@slipway/ml";
import type { PredictorSignature } from "../predictors/predictor.js";
import type { BlockResult, InputBlock, InputPlan, OutputPlan } from "./block.js";

/** `workerData` of a prediction thread. */
export interface ThreadInit {
  readonly dir: string;
  readonly mlmodel: MLmodel;
  readonly onnxThreads?: number;
}

export type ToThread =
  | {
      readonly type: "block";
      readonly id: number;
      readonly block: InputBlock;
      readonly input: InputPlan;
      readonly output: OutputPlan;
    }
  | { readonly type: "close" };

export type FromThread =
  | { readonly type: "ready"; readonly signature: PredictorSignature }
  | { readonly type: "load-failed"; readonly message: string }
  | { readonly type: "result"; readonly id: number; readonly result: BlockResult }
  /** `batch`: a `BatchError` (a problem the user can fix), else an internal error with its stack. */
  | { readonly type: "error"; readonly id: number; readonly message: string; readonly batch: boolean }
  | { readonly type: "closed" };
