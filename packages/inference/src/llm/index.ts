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
} from "./llm-serve-config.js";
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
