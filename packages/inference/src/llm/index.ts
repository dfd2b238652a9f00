export { LlmError, type LlmErrorOptions, type LlmErrorType } from "./errors.js";
export type {
  ChatMessage,
  ChatRequest,
  CompletionRequest,
  EmbeddingRequest,
  EmbeddingResult,
  FinishReason,
  GenerationEvent,
  GenerationStream,
  JsonObject,
  LlmModelCard,
  LlmProvider,
  PromptInput,
  ProviderLoad,
  ResponseFormat,
  SamplingOptions,
  TokenUsage,
} from "./engine/llm-provider.js";
export { LlamaCppProvider, DEFAULT_TOP_K, type LlamaCppProviderOptions } from "./llama/llama-provider.js";
export { ModelRouter, type RoutedModel } from "./server/model-router.js";
export { buildLlmApp, DEFAULT_LLM_BODY_LIMIT, type LlmAppOptions } from "./server/llm-app.js";
export { IGNORED_PARAMS_HEADER } from "./server/llm-routes.js";
export {
  startLlmServer,
  DEFAULT_SHUTDOWN_GRACE_MS,
  type RunningLlmServer,
  type StartLlmServerOptions,
} from "./server/llm-server.js";
export {
  loadLlmServeConfig,
  parseModelSource,
  LlmServeConfigError,
  DEFAULT_LLM_PORT,
  DEFAULT_LLM_PARALLEL,
  DEFAULT_LLM_QUEUE_CAPACITY,
  type LlmServeConfig,
  type LlmServeFlags,
  type LlmModelSource,
  type RoutingFile,
} from "./llm-serve-config.js";
export {
  buildRoutingConfig,
  parseUpstreamFlag,
  parseDurationMs,
  RoutingConfigError,
  FAILURE_KINDS,
  DEFAULT_RETRIES,
  DEFAULT_HEALTH,
  DEFAULT_UPSTREAM_TIMEOUT_MS,
  type RoutingConfig,
  type RoutingFlags,
  type ModelRouteConfig,
  type UpstreamTargetConfig,
  type RetryPolicy,
  type HealthPolicy,
  type UpstreamFailureKind,
} from "./upstream/routing-config.js";
export {
  UpstreamProvider,
  type UpstreamProviderOptions,
  type RouteRecord,
  type RouteLog,
} from "./upstream/upstream-provider.js";
export { FallbackProvider, type FallbackProviderOptions, type FallbackStep } from "./upstream/fallback-provider.js";
export { UpstreamMetrics } from "./upstream/upstream-metrics.js";
export { UpstreamRouteError } from "./upstream/upstream-errors.js";
export { openLlama, serveLlm, type LlmServing, type OpenLlamaOptions, type ServeLlmOptions } from "./serve-llm.js";
export {
  makeTestModel,
  isTestModelShapeName,
  TEST_MODEL_SHAPES,
  type MakeTestModelOptions,
  type TestModelInfo,
  type TestModelShape,
  type TestModelShapeName,
} from "./gguf/test-model.js";
export { writeGguf, type GgufTensorSource, type WriteGgufOptions, type WrittenGguf } from "./gguf/gguf-writer.js";
export { readGgufHeader, GgufFormatError, type GgufHeader } from "./gguf/gguf-reader.js";
export { GgmlType, GgufValueType, gguf, type GgufValue, type GgufTensorInfo } from "./gguf/gguf-format.js";
export { readBundledVocabulary, readBundledVocabularyFile } from "./gguf/bundled-vocabulary.js";
export {
  runLoadTest,
  DEFAULT_LOAD_REQUESTS,
  DEFAULT_MAX_TOKENS,
  DEFAULT_PROMPT_TOKENS,
  type LoadTestOptions,
  type LoadProgress,
} from "./loadtest/run-load-test.js";
export {
  formatLoadTestReport,
  type LoadTestSummary,
  type Distribution,
  type RequestSample,
  type TimelinePoint,
  type WarmupSummary,
} from "./loadtest/load-report.js";
export {
  parseAssertions,
  checkAssertions,
  LoadTestUsageError,
  ASSERTABLE_METRICS,
  type Assertion,
  type AssertionResult,
} from "./loadtest/assertions.js";
export { HdrHistogram, type HdrHistogramOptions, type HistogramBin } from "./loadtest/hdr-histogram.js";
export { parseScenario, ScenarioError, type Scenario, type RequestTemplate } from "./loadtest/scenario.js";
export {
  renderLoadTestHtml,
  loadTestResults,
  formatMs,
  type LoadTestResults,
  type ReportAssertion,
} from "./loadtest/load-html-report.js";
export { RateLimiter, DEFAULT_RATE_WINDOW_MS, type RateLimits, type RateDecision } from "./keys/rate-limiter.js";
export { UsageLedger, type KeyUsage, type UsageTotals } from "./keys/usage-ledger.js";
export { LlmAccess, type LlmAccessOptions } from "./server/llm-access.js";
export { VllmMetrics } from "./server/vllm-metrics.js";
export { readGgufModelInfo, readGgufFileHeader } from "./registry/gguf-info.js";
export { resolveGguf, isModelUri, type ResolvedGguf, type ResolveGgufOptions } from "./registry/resolve-gguf.js";
export {
  logGgufModelRun,
  ggufParams,
  type LogGgufModelRunOptions,
  type LoggedGgufModel,
} from "./registry/log-gguf-model.js";
