export * from "./batch-error.js";
export * from "./data-format.js";
export type {
  InputPlan,
  OutputPlan,
  OnError,
  ProbabilitiesLayout,
  RowError,
  BlockResult,
  InputBlock,
} from "./block.js";
export { inspectInput, type InputInfo } from "./input-info.js";
export { readBlocks, type InputRange, type TextRange, type RowRange } from "./input-blocks.js";
export { errorsPathFor } from "./errors-file.js";
export { Progress, formatDuration, type ProgressStream, type ProgressOptions } from "./progress.js";
export { PredictionThreads } from "./prediction-threads.js";
export { executeLocal } from "./local-executor.js";
export * from "./batch-prediction.js";
export * from "./start-worker.js";
export { readyWithin, redisSettings, showRedisUrl, type RedisSettings } from "./bullmq/redis-connection.js";
