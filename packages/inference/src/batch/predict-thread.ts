/**
 * A prediction thread's entry point (run by `prediction-threads.ts` in a worker thread): it loads the
 * model package named in `workerData` once, says `ready` with the model's signature, then answers each
 * block with its result, until `close`.
 */
import { parentPort, workerData } from "node:worker_threads";
import { BatchError } from "./batch-error.js";
import { BlockPredictor } from "./block-predictor.js";
import type { FromThread, ThreadInit, ToThread } from "./thread-messages.js";

const port = parentPort;
if (!port) throw new Error("predict-thread.js runs in a worker thread");

function send(message: FromThread, transfer: ArrayBuffer[] = []): void {
  port!.postMessage(message, transfer);
}

let predictor: BlockPredictor;
try {
  predictor = await BlockPredictor.load(workerData as ThreadInit);
  send({ type: "ready", signature: predictor.signature });
} catch (error) {
  send({ type: "load-failed", message: error instanceof Error ? error.message : String(error) });
  port.close();
  process.exit(0);
}

port.on("message", (message: ToThread) => {
  if (message.type === "close") {
    predictor.close().then(
      () => send({ type: "closed" }),
      () => send({ type: "closed" }),
    );
    return;
  }
  const { id, block, input, output } = message;
  predictor.process(block, input, output).then(
    (result) => {
      const transfer = result.output.kind === "text" ? [result.output.bytes.buffer as ArrayBuffer] : [];
      send({ type: "result", id, result }, transfer);
    },
    (error: unknown) => {
      const batch = error instanceof BatchError;
      const message = error instanceof Error ? (batch ? error.message : (error.stack ?? error.message)) : String(error);
      send({ type: "error", id, message, batch });
    },
  );
});
