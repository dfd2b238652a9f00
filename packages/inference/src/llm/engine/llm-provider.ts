/**
 * The contract between the OpenAI-compatible edge and whatever generates text: the embedded llama.cpp
 * engine, and (later) OpenAI-compatible upstreams (vLLM, TGI, Ollama, llama.cpp's server).
 *
 * Requests arrive parsed and defaulted (never raw JSON); a generation comes back as a stream of typed
 * events that the edge turns into OpenAI's JSON or SSE chunks, once. Transforms that every provider
 * shares (metrics, usage accounting, logging) wrap the event stream, not a provider.
 *
 * Errors are `LlmError`s: `chat` / `complete` reject before the stream starts (bad input, prompt too
 * long, queue full), so the edge can still answer with the right status; a stream that fails later
 * throws from its iterator. Cancelling is the `signal` (tied to the client's connection) or leaving the
 * iteration early: either stops generation at the next token and frees what it held.
 */

/** A JSON object as parsed from a request (values are plain JSON). */
export type JsonObject = { readonly [key: string]: unknown };

export type ResponseFormat =
  | { readonly type: "text" }
  | { readonly type: "json_object" }
  | { readonly type: "json_schema"; readonly name: string; readonly schema: JsonObject; readonly strict: boolean };

/** OpenAI's sampling parameters, validated, with OpenAI's defaults applied, plus common extras. */
export interface SamplingOptions {
  /** Most tokens to generate per choice; `undefined`: as many as the context holds. */
  readonly maxTokens: number | undefined;
  /** 0 (greedy) to 2; default 1. */
  readonly temperature: number;
  /** (0, 1]; default 1. */
  readonly topP: number;
  /** Sampler seed; the same seed, prompt and parameters give the same text. */
  readonly seed: number | undefined;
  /** Up to 4 strings; the text stops before the first that appears (not included). */
  readonly stop: readonly string[];
  /** -2 to 2, OpenAI's additive penalties over the tokens generated so far. */
  readonly presencePenalty: number;
  readonly frequencyPenalty: number;
  /** Token id → bias added to its logit (-100 to 100). */
  readonly logitBias: ReadonlyMap<number, number>;
  readonly responseFormat: ResponseFormat;
  /** Extras (vLLM / llama.cpp names): `top_k` (0: off; absent: the engine's default), `min_p`, `repetition_penalty`, `ignore_eos`. */
  readonly topK: number | undefined;
  readonly minP: number | undefined;
  readonly repetitionPenalty: number | undefined;
  readonly ignoreEos: boolean;
}

export interface ChatMessage {
  /** OpenAI's `developer` role arrives as `system`. */
  readonly role: "system" | "user" | "assistant" | "tool";
  readonly content: string;
  /** An assistant message's earlier tool calls (`tool_calls`). */
  readonly toolCalls?: readonly ToolCall[];
  /** A `tool` message: the call it answers (`tool_call_id`). */
  readonly toolCallId?: string;
}

/** One function call the model made: `arguments` is JSON text, as OpenAI carries it. */
export interface ToolCall {
  readonly id: string;
  readonly name: string;
  readonly arguments: string;
}

/** A function the model may call (`tools[i].function`); `parameters` has been checked for the grammar. */
export interface ToolDefinition {
  readonly name: string;
  readonly description: string | undefined;
  readonly parameters: JsonObject;
}

/**
 * `tool_choice`: `none` (answer in text), `auto` (the model decides), `required` (some tool), or one
 * named function.
 */
export type ToolChoice =
  | { readonly type: "none" }
  | { readonly type: "auto" }
  | { readonly type: "required" }
  | { readonly type: "function"; readonly name: string };

export interface ToolSettings {
  readonly tools: readonly ToolDefinition[];
  readonly choice: ToolChoice;
}

export interface ChatRequest {
  readonly model: string;
  readonly messages: readonly ChatMessage[];
  /** Choices to generate (1–16). */
  readonly n: number;
  readonly sampling: SamplingOptions;
  /** The body as the client sent it, for providers that forward requests (unknown fields included). */
  readonly raw: JsonObject;
  /** `tools` and `tool_choice`, when the request has tools. */
  readonly tools?: ToolSettings;
}

/** One prompt: text, or token ids of the model's vocabulary. */
export type PromptInput = string | readonly number[];

export interface CompletionRequest {
  readonly model: string;
  /** One or more prompts; choice `i * n + j` is the `j`-th completion of prompt `i`. */
  readonly prompts: readonly PromptInput[];
  readonly n: number;
  /** Put the prompt's text before each completion. */
  readonly echo: boolean;
  readonly sampling: SamplingOptions;
  readonly raw: JsonObject;
}

export interface EmbeddingRequest {
  readonly model: string;
  readonly inputs: readonly PromptInput[];
  /** Size of the vectors asked for; `undefined`: the model's own. */
  readonly dimensions: number | undefined;
  readonly raw: JsonObject;
}

export interface EmbeddingResult {
  /** One unit-length vector per input, in order. */
  readonly vectors: readonly Float32Array[];
  readonly promptTokens: number;
}

export type FinishReason = "stop" | "length";

export interface TokenUsage {
  /** Tokens of all prompts, each counted once however many choices it has. */
  readonly promptTokens: number;
  /** Tokens generated, over all choices. */
  readonly completionTokens: number;
}

/**
 * What a generation produces, in order: per choice, `text` events then one `finish`; choices of one
 * request interleave; one `usage` event ends the stream.
 */
export type GenerationEvent =
  | { readonly type: "text"; readonly choice: number; readonly text: string }
  | { readonly type: "finish"; readonly choice: number; readonly reason: FinishReason }
  | { readonly type: "usage"; readonly usage: TokenUsage };

export interface GenerationStream extends AsyncIterable<GenerationEvent> {
  /** Number of choices the stream carries (indices 0 … choices − 1). */
  readonly choices: number;
  /** Prompt tokens, known once the request is accepted. */
  readonly promptTokens: number;
  /**
   * Set by providers that do tool calling when the choices' text may be a tool call
   * (`{"name": …, "arguments": …}`, see `openai/tool-calls.ts`): `forced` (a grammar made it one) or
   * `auto` (a call only if the text is one). Absent: the text is the answer.
   */
  readonly toolCalls?: "forced" | "auto";
}

export interface LlmModelCard {
  readonly id: string;
  /** Unix seconds. */
  readonly created: number;
  readonly ownedBy: string;
  /** Tokens a request may use (prompt and completion), when known. */
  readonly contextLength?: number;
}

export interface ProviderLoad {
  /** Generations (choices) running now. */
  readonly running: number;
  /** Generations admitted and waiting for a slot. */
  readonly waiting: number;
}

export interface LlmProvider {
  /** What serves the requests, for logs and `/health`: `llama.cpp`, `upstream`... */
  readonly kind: string;
  /** The models it answers for (one card per model name). */
  models(): readonly LlmModelCard[];
  chat(request: ChatRequest, signal: AbortSignal): Promise<GenerationStream>;
  complete(request: CompletionRequest, signal: AbortSignal): Promise<GenerationStream>;
  embed(request: EmbeddingRequest, signal: AbortSignal): Promise<EmbeddingResult>;
  load(): ProviderLoad;
  /** Stops admitting, cancels what runs, frees the engine. */
  close(): Promise<void>;
}
