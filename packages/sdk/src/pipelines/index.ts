export * from "./definition.js";
export * from "./trigger.js";
export * from "./errors.js";
export { canonicalJson, findNonJson, type JsonValue } from "./json-value.js";
export { topologicalOrder } from "./dag.js";
export { codeDigest, stepCacheKey, type CacheKeyInput } from "./cache-key.js";
export { OUTPUTS_ARTIFACT, PIPELINE_ARTIFACT, PIPELINE_TAGS, STEP_LOG_ARTIFACT } from "./tags.js";
export { findCachedStep, readOutputs, type CachedStep, type CacheLookup } from "./step-cache.js";
export {
  backoffDelay,
  executeStep,
  type ExecuteStepOptions,
  type StepExecution,
  type StepStatus,
} from "./step-execution.js";
export * from "./executor.js";
export * from "./cancellation.js";
export * from "./runner.js";
export * from "./pipeline-runs.js";
