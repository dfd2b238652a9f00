/**
 * The embedded engine: one GGUF model in llama.cpp (through node-llama-cpp), one context with
 * `parallel` sequences, and a bounded queue in front of them. Concurrent requests decode together:
 * node-llama-cpp gathers the pending tokens of every active sequence into one batch per step
 * (continuous batching: a request joins or leaves between steps, never waiting for a whole batch).
 *
 * Everything that can be refused is refused before a stream starts: prompts longer than the context
 * (never truncated: no context shift ever happens), `max_tokens` that do not fit, token ids outside the
 * vocabulary (llama.cpp would abort the process on them), schemas the grammar compiler cannot take, and
 * requests past the queue's capacity (503 with Retry-After).
 */
import { randomInt } from "node:crypto";
import type {
  ChatWrapper,
  Llama,
  LlamaContext,
  LlamaContextSequence,
  LlamaGrammar,
  LlamaGrammarEvaluationState,
  LlamaModel,
  Token,
  TokenBias,
} from "node-llama-cpp";
import { contextLengthExceeded, invalidRequest, overloaded, shuttingDown } from "../errors.js";
import type {
  ChatRequest,
  CompletionRequest,
  EmbeddingRequest,
  EmbeddingResult,
  GenerationStream,
  LlmModelCard,
  LlmProvider,
  PromptInput,
  ProviderLoad,
  SamplingOptions,
} from "../engine/llm-provider.js";
import { renderChatPrompt } from "./chat-prompt.js";
import { gatherBatches, queuedSequences } from "./batch-gathering.js";
import { EmbeddingEngine } from "./embedding-engine.js";
import type { ChoiceSampling } from "./generate-choice.js";
import { runGeneration, type PreparedChoice } from "./run-generation.js";
import { GrammarCache } from "./grammars.js";
import { toolCallSchema } from "./tool-grammar.js";
import { loadNodeLlamaCpp, type NodeLlamaCpp } from "./node-llama-cpp.js";
import { SlotPool } from "./slot-pool.js";

export interface LlamaCppProviderOptions {
  llama: Llama;
  /** The model's name in the API (`model` in requests, `id` in /v1/models). */
  name: string;
  modelPath: string;
  /** Sequences decoding in parallel (default 4). */
  parallel?: number;
  /** Tokens per sequence, prompt and completion together (default: the model's, at most 4096). */
  contextSize?: number;
  /** Threads for evaluation (default: node-llama-cpp's, the machine's math cores). */
  threads?: number;
  /** Tokens per llama.cpp batch (default 512). */
  batchSize?: number;
  /** Map the GGUF file instead of reading it into memory (default false; see `open`). */
  mmap?: boolean;
  /** Generations that may wait for a sequence; beyond it: 503 (default 64). */
  queueCapacity?: number;
}

/** Sampling defaults where OpenAI names none: top-k as llama.cpp's server (a full-vocabulary sort per token costs milliseconds). */
export const DEFAULT_TOP_K = 40;
export const DEFAULT_PARALLEL = 4;
export const DEFAULT_QUEUE_CAPACITY = 64;
export const MAX_DEFAULT_CONTEXT = 4096;
/** The longest a decode step waits for generating sequences to queue their tokens (batch-gathering.ts). */
export const BATCH_GATHER_MAX_WAIT_MS = 5;

export class LlamaCppProvider implements LlmProvider {
  readonly kind = "llama.cpp";
  private readonly pool: SlotPool<LlamaContextSequence>;
  private readonly grammars: GrammarCache;
  private readonly embeddings: EmbeddingEngine;
  private readonly shutdown = new AbortController();
  private readonly running = new Set<Promise<void>>();
  private readonly created = Math.floor(Date.now() / 1000);
  private readonly vocabularySize: number;
  private closed = false;

  private constructor(
    private readonly lib: NodeLlamaCpp,
    private readonly options: LlamaCppProviderOptions,
    private readonly model: LlamaModel,
    private readonly context: LlamaContext,
    private readonly chatWrapper: ChatWrapper,
  ) {
    const sequences: LlamaContextSequence[] = [];
    for (let i = 0; i < context.totalSequences; i++) sequences.push(context.getSequence());
    this.pool = new SlotPool(sequences, options.queueCapacity ?? DEFAULT_QUEUE_CAPACITY);
    this.grammars = new GrammarCache(options.llama);
    this.embeddings = new EmbeddingEngine({
      model,
      contextSize: context.contextSize,
      ...(options.threads === undefined ? {} : { threads: options.threads }),
    });
    this.vocabularySize = model.fileInfo.metadata.tokenizer?.ggml?.tokens?.length ?? 0;
  }

  /** Loads the model and creates the context (the only I/O). */
  static async open(options: LlamaCppProviderOptions): Promise<LlamaCppProvider> {
    const lib = await loadNodeLlamaCpp();
    // weights in the process's own memory, not mapped from the file: with glibc's hugetlb tunable they
    // then sit on transparent huge pages, and a decode that streams every weight per token misses the TLB
    // less (docs/llm-serving.md, "Engine settings")
    const model = await options.llama.loadModel({ modelPath: options.modelPath, useMmap: options.mmap ?? false });
    try {
      const contextSize = options.contextSize ?? Math.min(model.trainContextSize, MAX_DEFAULT_CONTEXT);
      // the provider (and its slot pool) exists only once the context does; the schedule asks it late
      const late: { provider?: LlamaCppProvider; context?: LlamaContext } = {};
      const context = await model.createContext({
        sequences: options.parallel ?? DEFAULT_PARALLEL,
        contextSize,
        ...(options.threads === undefined ? {} : { threads: options.threads }),
        ...(options.batchSize === undefined ? {} : { batchSize: options.batchSize }),
        batching: {
          dispatchSchedule: gatherBatches({
            queued: () => (late.context === undefined ? undefined : queuedSequences(late.context)),
            active: () => late.provider?.pool.running ?? 0,
            maxWaitMs: BATCH_GATHER_MAX_WAIT_MS,
          }),
        },
        failedCreationRemedy: false,
      });
      late.context = context;
      late.provider = new LlamaCppProvider(lib, options, model, context, lib.resolveChatWrapper(model));
      return late.provider;
    } catch (error) {
      await model.dispose();
      throw error;
    }
  }

  get contextSize(): number {
    return this.context.contextSize;
  }

  /** Sequences in all, and free now. */
  slots(): { total: number; free: number } {
    return { total: this.pool.size, free: this.pool.free };
  }

  models(): readonly LlmModelCard[] {
    return [{ id: this.options.name, created: this.created, ownedBy: "slipway", contextLength: this.contextSize }];
  }

  load(): ProviderLoad {
    return { running: this.pool.running, waiting: this.pool.waiting };
  }

  /** The model's tokens for `text` (no special-token parsing), for clients and tests that count or bias tokens. */
  tokenize(text: string): Token[] {
    return this.model.tokenize(text);
  }

  async chat(request: ChatRequest, signal: AbortSignal): Promise<GenerationStream> {
    this.ensureOpen();
    const tools = request.tools;
    const prompt = renderChatPrompt(this.model, this.chatWrapper, request.messages, tools?.tools);
    const maxTokens = this.completionBudget(prompt.tokens.length, request.sampling, "messages");
    // a forced tool call (required, or a named function) is grammar-constrained; it wins over response_format
    const callSchema = tools && toolCallSchema(tools.tools, tools.choice);
    const grammar = callSchema
      ? await this.grammars.resolveSchema(callSchema, "tools")
      : await this.grammars.resolve(request.sampling.responseFormat);
    const stopTexts = [...request.sampling.stop, ...prompt.stopTexts, ...(grammar?.stopTexts ?? [])];
    const choices: PreparedChoice[] = [];
    for (let i = 0; i < request.n; i++) {
      choices.push({
        prompt: prompt.tokens,
        maxTokens,
        sampling: this.choiceSampling(request.sampling, i),
        grammarState: this.grammarState(grammar?.grammar),
        stopTokens: prompt.stopTokens,
        stopTexts,
        trimTrailingWhitespace: grammar?.trimTrailingWhitespace ?? false,
        echo: "",
      });
    }
    const stream = this.start(choices, prompt.tokens.length, signal);
    if (!tools || tools.choice.type === "none") return stream;
    return Object.assign(stream, { toolCalls: callSchema ? ("forced" as const) : ("auto" as const) });
  }

  async complete(request: CompletionRequest, signal: AbortSignal): Promise<GenerationStream> {
    this.ensureOpen();
    const prompts = request.prompts.map((p, i) =>
      this.promptTokens(p, request.prompts.length === 1 ? "prompt" : `prompt[${i}]`),
    );
    const budgets = prompts.map((tokens, i) =>
      this.completionBudget(tokens.length, request.sampling, request.prompts.length === 1 ? "prompt" : `prompt[${i}]`),
    );
    const grammar = await this.grammars.resolve(request.sampling.responseFormat);
    const stopTexts = [...request.sampling.stop, ...(grammar?.stopTexts ?? [])];
    const choices: PreparedChoice[] = [];
    for (const [p, tokens] of prompts.entries()) {
      const echo = request.echo ? this.model.detokenize(tokens) : "";
      for (let j = 0; j < request.n; j++) {
        choices.push({
          prompt: tokens,
          maxTokens: budgets[p]!,
          sampling: this.choiceSampling(request.sampling, choices.length),
          grammarState: this.grammarState(grammar?.grammar),
          stopTokens: new Set(),
          stopTexts,
          trimTrailingWhitespace: grammar?.trimTrailingWhitespace ?? false,
          echo,
        });
      }
    }
    const promptTokens = prompts.reduce((sum, t) => sum + t.length, 0);
    return this.start(choices, promptTokens, signal);
  }

  async embed(request: EmbeddingRequest, signal: AbortSignal): Promise<EmbeddingResult> {
    this.ensureOpen();
    const size = this.model.embeddingVectorSize;
    if (request.dimensions !== undefined && request.dimensions !== size) {
      throw invalidRequest(
        `This model's embeddings have ${size} dimensions; 'dimensions' must be ${size} or absent, got ${request.dimensions}.`,
        "dimensions",
        "invalid_value",
      );
    }
    const inputs = request.inputs.map((input, i) =>
      this.promptTokens(input, request.inputs.length === 1 ? "input" : `input[${i}]`, false),
    );
    for (const [i, tokens] of inputs.entries()) {
      if (tokens.length > this.contextSize) {
        throw invalidRequest(
          `This model's maximum context length is ${this.contextSize} tokens, but input ${i} has ${tokens.length} tokens. ` +
            "Please shorten the input.",
          request.inputs.length === 1 ? "input" : `input[${i}]`,
          "context_length_exceeded",
        );
      }
    }
    return this.embeddings.embed(inputs, AbortSignal.any([signal, this.shutdown.signal]));
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.pool.close();
    this.shutdown.abort(shuttingDown());
    await Promise.allSettled([...this.running]);
    await this.embeddings.close();
    await this.context.dispose();
    await this.model.dispose();
  }

  private ensureOpen(): void {
    if (this.closed) throw shuttingDown();
  }

  private start(choices: PreparedChoice[], promptTokens: number, signal: AbortSignal): GenerationStream {
    if (!this.pool.canAdmit(choices.length)) {
      throw overloaded(this.options.name, 1);
    }
    const { stream, done } = runGeneration({
      pool: this.pool,
      choices,
      promptTokens,
      signal: AbortSignal.any([signal, this.shutdown.signal]),
    });
    this.running.add(done);
    void done.finally(() => this.running.delete(done));
    return stream;
  }

  /** Tokens a completion may use: the request's `max_tokens`, or what the context leaves; 400 when it does not fit. */
  private completionBudget(promptTokens: number, sampling: SamplingOptions, param: string): number {
    const contextLength = this.contextSize;
    if (promptTokens >= contextLength) {
      throw contextLengthExceeded({ contextLength, promptTokens, maxTokens: undefined, param });
    }
    if (sampling.maxTokens === undefined) return contextLength - promptTokens;
    if (promptTokens + sampling.maxTokens > contextLength) {
      throw contextLengthExceeded({ contextLength, promptTokens, maxTokens: sampling.maxTokens, param });
    }
    return sampling.maxTokens;
  }

  private promptTokens(input: PromptInput, param: string, addBos = true): Token[] {
    if (typeof input !== "string") {
      for (const [i, token] of input.entries()) {
        if (token >= this.vocabularySize) {
          throw invalidRequest(
            `Invalid '${param}[${i}]': token id ${token} is outside the vocabulary (0 to ${this.vocabularySize - 1}).`,
            param,
            "invalid_value",
          );
        }
      }
      return [...input] as Token[];
    }
    const tokens = this.model.tokenize(input);
    const bos = this.model.tokens.bos;
    if (addBos && this.model.tokens.shouldPrependBosToken && bos !== null && tokens[0] !== bos) tokens.unshift(bos);
    if (tokens.length === 0) {
      throw invalidRequest(`Invalid '${param}': the prompt is empty.`, param, "invalid_value");
    }
    return tokens;
  }

  private grammarState(grammar: LlamaGrammar | undefined): (() => LlamaGrammarEvaluationState) | undefined {
    if (!grammar) return undefined;
    return () => new this.lib.LlamaGrammarEvaluationState({ model: this.model, grammar });
  }

  private choiceSampling(sampling: SamplingOptions, choice: number): ChoiceSampling {
    let tokenBias: TokenBias | undefined;
    if (sampling.logitBias.size > 0) {
      tokenBias = new this.lib.TokenBias(this.model.tokenizer);
      for (const [token, bias] of sampling.logitBias) {
        if (token >= this.vocabularySize) {
          throw invalidRequest(
            `Invalid 'logit_bias': token id ${token} is outside the vocabulary (0 to ${this.vocabularySize - 1}).`,
            "logit_bias",
            "invalid_value",
          );
        }
        tokenBias.set(token as Token, bias <= -100 ? "never" : { logit: bias });
      }
    }
    return {
      temperature: sampling.temperature,
      topP: sampling.topP,
      topK: sampling.topK ?? DEFAULT_TOP_K,
      minP: sampling.minP ?? 0,
      // explicit per choice: node-llama-cpp's own default (the current second) would make n > 1 choices equal
      seed: sampling.seed === undefined ? randomInt(2 ** 32 - 1) : (sampling.seed + choice) >>> 0,
      presencePenalty: sampling.presencePenalty,
      frequencyPenalty: sampling.frequencyPenalty,
      repetitionPenalty: sampling.repetitionPenalty,
      tokenBias,
      ignoreEos: sampling.ignoreEos,
    };
  }
}
