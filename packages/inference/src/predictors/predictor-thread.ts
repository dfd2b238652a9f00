/**
 * A prediction thread of the model server (run by `threaded-predictor.ts` in a worker thread): it loads
 * the model package named in `workerData` with the built-in predictors, warms it up, says `ready`, then
 * answers each batch, until `close`.
 */
import type { MLmodel } from "@slipway/ml";
import { parentPort, workerData } from "node:worker_threads";
import { builtinPredictors } from "./builtin.js";
import {
  PredictorError,
  type InputBatch,
  type PredictionBatch,
  type PredictParams,
  type Predictor,
} from "./predictor.js";

export interface PredictorThreadInit {
  readonly dir: string;
  readonly mlmodel: MLmodel;
}

export type ToPredictorThread =
  | { readonly type: "predict"; readonly id: number; readonly batch: InputBatch; readonly params?: PredictParams }
  | { readonly type: "close" };

export type FromPredictorThread =
  | { readonly type: "ready" }
  | { readonly type: "load-failed"; readonly message: string }
  | { readonly type: "result"; readonly id: number; readonly result: PredictionBatch }
  /** `predictor`: a `PredictorError` (the request's fault: 400), else an internal error with its stack. */
  | { readonly type: "error"; readonly id: number; readonly message: string; readonly predictor: boolean }
  | { readonly type: "closed" };

const port = parentPort;
if (!port) throw new Error("predictor-thread.js runs in a worker thread");
const send = (message: FromPredictorThread): void => port.postMessage(message);

let predictor: Predictor;
try {
  const init = workerData as PredictorThreadInit;
  predictor = await builtinPredictors().load(init.dir, init.mlmodel);
  await predictor.warmup();
  send({ type: "ready" });
} catch (error) {
  send({ type: "load-failed", message: error instanceof Error ? error.message : String(error) });
  port.close();
  process.exit(0);
}

port.on("message", (message: ToPredictorThread) => {
  if (message.type === "close") {
    const closed = () => send({ type: "closed" });
    predictor.close().then(closed, closed);
    return;
  }
  const { id } = message;
  predictor.predict(message.batch, message.params).then(
    (result) => send({ type: "result", id, result }),
    (error: unknown) => {
      const known = error instanceof PredictorError;
      const text = error instanceof Error ? (known ? error.message : (error.stack ?? error.message)) : String(error);
      send({ type: "error", id, message: text, predictor: known });
    },
  );
});
