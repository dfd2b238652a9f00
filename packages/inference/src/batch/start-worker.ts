/**
 * Starting a distributed batch-prediction worker (`bullmq/batch-worker.ts`) with BullMQ and ioredis
 * loaded only then, so that importing `@slipway/inference` to serve models or predict locally loads
 * neither.
 */
import type { BatchWorkerOptions } from "./bullmq/batch-worker.js";

export type { BatchWorkerOptions } from "./bullmq/batch-worker.js";

/** A started worker: `close(force?)` finishes the chunks in progress (unless `force`) and stops. */
export interface RunningBatchWorker {
  close(force?: boolean): Promise<void>;
}

export async function startBatchWorker(options: BatchWorkerOptions): Promise<RunningBatchWorker> {
  const { BatchWorker } = await import("./bullmq/batch-worker.js");
  return BatchWorker.start(options);
}
