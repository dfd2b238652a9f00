/**
 * The OpenAI-compatible upstream's wire, both ways: typed requests → the bodies we send (with the
 * upstream's model name), and what comes back → typed events (whole responses, stream chunks) and
 * errors. Upstream JSON is never trusted: every field is checked before it becomes an event, and an
 * answer we cannot read is an `UpstreamProtocolError`.
 *
 * Request bodies are built from the typed request, sending only what differs from OpenAI's defaults
 * (or what the client gave explicitly), so an upstream's own defaults (vLLM's generation config) still
 * apply; body fields we do not model (`chat_template_kwargs`, `guided_json`…) are passed through as the
 * client sent them. Tool-calling fields are not: their answers could not be carried back.
 */
import { SAMPLING_KEYS } from "../openai/sampling-params.js";
import type {
  ChatRequest,
  CompletionRequest,
  EmbeddingRequest,
  FinishReason,
  GenerationEvent,
  JsonObject,
  SamplingOptions,
  TokenUsage,
} from "../engine/llm-provider.js";

export type UpstreamEndpoint = "chat" | "completion" | "embedding";

export const ENDPOINT_PATHS: Readonly<Record<UpstreamEndpoint, string>> = {
  chat: "/chat/completions",
  completion: "/completions",
  embedding: "/embeddings",
};

/** An answer that does not follow OpenAI's format (bad JSON, bad framing, a stream cut short). */
export class UpstreamProtocolError extends Error {
  override readonly name = "UpstreamProtocolError";
}

/** An error reported inside a 200 stream (`data: {"error": …}`). */
export class UpstreamStreamError extends Error {
  override readonly name = "UpstreamStreamError";
  constructor(readonly body: WireErrorBody) {
    super(body.message);
  }
}

/** Keys that the typed request carries; everything else in `raw` is forwarded as it came. */
const MODELLED_KEYS = new Set<string>([
  ...SAMPLING_KEYS,
  "model",
  "messages",
  "prompt",
  "input",
  "echo",
  "stream",
  "stream_options",
  "max_completion_tokens",
  "dimensions",
  "encoding_format",
  // tool calling: refused or ignored at our edge, so not forwarded
  "tools",
  "tool_choice",
  "functions",
  "function_call",
  "parallel_tool_calls",
]);

function passThrough(raw: JsonObject): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(raw)) if (!MODELLED_KEYS.has(key)) out[key] = value;
  return out;
}

/** Sampling fields, each sent when it differs from OpenAI's default or the client gave it. */
function samplingFields(sampling: SamplingOptions, raw: JsonObject): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const put = (key: string, value: unknown, isDefault: boolean) => {
    if (!isDefault || (raw[key] !== undefined && raw[key] !== null)) out[key] = value;
  };
  if (sampling.maxTokens !== undefined) out.max_tokens = sampling.maxTokens;
  put("temperature", sampling.temperature, sampling.temperature === 1);
  put("top_p", sampling.topP, sampling.topP === 1);
  if (sampling.seed !== undefined) out.seed = sampling.seed;
  if (sampling.stop.length > 0) out.stop = [...sampling.stop];
  put("presence_penalty", sampling.presencePenalty, sampling.presencePenalty === 0);
  put("frequency_penalty", sampling.frequencyPenalty, sampling.frequencyPenalty === 0);
  if (sampling.logitBias.size > 0) {
    out.logit_bias = Object.fromEntries([...sampling.logitBias].map(([token, bias]) => [String(token), bias]));
  }
  const format = sampling.responseFormat;
  if (format.type === "json_object") out.response_format = { type: "json_object" };
  else if (format.type === "json_schema") {
    out.response_format = {
      type: "json_schema",
      json_schema: { name: format.name, schema: format.schema, strict: format.strict },
    };
  } else if (raw.response_format !== undefined && raw.response_format !== null) out.response_format = { type: "text" };
  if (sampling.topK !== undefined) out.top_k = sampling.topK;
  if (sampling.minP !== undefined) out.min_p = sampling.minP;
  if (sampling.repetitionPenalty !== undefined) out.repetition_penalty = sampling.repetitionPenalty;
  if (sampling.ignoreEos) out.ignore_eos = true;
  return out;
}

function streamFields(stream: boolean): Record<string, unknown> {
  return stream ? { stream: true, stream_options: { include_usage: true } } : {};
}

export function chatBody(request: ChatRequest, model: string, stream: boolean): string {
  return JSON.stringify({
    ...passThrough(request.raw),
    model,
    messages: request.messages.map((m) => ({ role: m.role, content: m.content })),
    ...(request.n === 1 ? {} : { n: request.n }),
    ...samplingFields(request.sampling, request.raw),
    ...streamFields(stream),
  });
}

export function completionBody(request: CompletionRequest, model: string, stream: boolean): string {
  const prompts = request.prompts.map((p) => (typeof p === "string" ? p : [...p]));
  return JSON.stringify({
    ...passThrough(request.raw),
    model,
    prompt: prompts.length === 1 ? prompts[0] : prompts,
    ...(request.n === 1 ? {} : { n: request.n }),
    ...(request.echo ? { echo: true } : {}),
    ...samplingFields(request.sampling, request.raw),
    ...streamFields(stream),
  });
}

/** Always `float`: every OpenAI-compatible server speaks it (not all speak `base64`); our edge re-encodes. */
export function embeddingBody(request: EmbeddingRequest, model: string): string {
  const inputs = request.inputs.map((p) => (typeof p === "string" ? p : [...p]));
  return JSON.stringify({
    ...passThrough(request.raw),
    model,
    input: inputs.length === 1 ? inputs[0] : inputs,
    encoding_format: "float",
    ...(request.dimensions === undefined ? {} : { dimensions: request.dimensions }),
  });
}

// ---------------------------------------------------------------------------------------------------
// answers

function isObject(value: unknown): value is Readonly<Record<string, unknown>> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

export function parseJson(text: string, what: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new UpstreamProtocolError(`${what} is not JSON: ${JSON.stringify(text.slice(0, 120))}`);
  }
}

/** OpenAI's finish reasons beyond ours (`content_filter`, `tool_calls`, `eos`…) all mean the text ended. */
function finishReason(value: unknown): FinishReason | undefined {
  if (typeof value !== "string" || value === "") return undefined;
  return value === "length" ? "length" : "stop";
}

function usageOf(value: unknown): TokenUsage | undefined {
  if (!isObject(value)) return undefined;
  const prompt = value.prompt_tokens;
  const completion = value.completion_tokens;
  if (typeof prompt !== "number" || !Number.isFinite(prompt)) return undefined;
  return { promptTokens: prompt, completionTokens: typeof completion === "number" ? completion : 0 };
}

function choiceIndex(choice: Readonly<Record<string, unknown>>, position: number, choices: number): number {
  const index = choice.index ?? position;
  if (typeof index !== "number" || !Number.isInteger(index) || index < 0 || index >= choices) {
    throw new UpstreamProtocolError(`choice index ${JSON.stringify(index)} is outside 0…${choices - 1}`);
  }
  return index;
}

function textOf(kind: "chat" | "completion", choice: Readonly<Record<string, unknown>>, whole: boolean): unknown {
  if (kind === "completion") return choice.text;
  const holder = whole ? choice.message : choice.delta;
  return isObject(holder) ? holder.content : undefined;
}

/** A whole (non-streaming) chat or text completion → its events, usage last. */
export function eventsOfResponse(
  kind: "chat" | "completion",
  body: unknown,
  choices: number,
): { events: GenerationEvent[]; usage: TokenUsage } {
  if (!isObject(body) || !Array.isArray(body.choices)) {
    throw new UpstreamProtocolError("the response has no 'choices' list");
  }
  const texts: string[] = Array.from({ length: choices }, () => "");
  const finishes: FinishReason[] = Array.from({ length: choices }, () => "stop");
  for (const [position, choice] of (body.choices as unknown[]).entries()) {
    if (!isObject(choice)) throw new UpstreamProtocolError(`choices[${position}] is not an object`);
    const index = choiceIndex(choice, position, choices);
    const text = textOf(kind, choice, true);
    if (typeof text === "string") texts[index] = text;
    finishes[index] = finishReason(choice.finish_reason) ?? "stop";
  }
  const events: GenerationEvent[] = [];
  for (let choice = 0; choice < choices; choice++) {
    if (texts[choice] !== "") events.push({ type: "text", choice, text: texts[choice]! });
    events.push({ type: "finish", choice, reason: finishes[choice]! });
  }
  const usage = usageOf(body.usage) ?? { promptTokens: 0, completionTokens: 0 };
  events.push({ type: "usage", usage });
  return { events, usage };
}

/**
 * Stream chunks → events, one chunk at a time. Usage is held back and given by `finish()` last (some
 * servers repeat it on every chunk); choices the upstream never finished are finished there.
 */
export class ChunkDecoder {
  private readonly finished: boolean[];
  private usage: TokenUsage | undefined;
  private textChunks = 0;

  constructor(
    private readonly kind: "chat" | "completion",
    readonly choices: number,
  ) {
    this.finished = Array.from({ length: choices }, () => false);
  }

  /** Prompt tokens, once the upstream told them. */
  get promptTokens(): number {
    return this.usage?.promptTokens ?? 0;
  }

  /** True once every choice has its finish. */
  get allFinished(): boolean {
    return this.finished.every(Boolean);
  }

  /** The events of one `data:` payload (not `[DONE]`). */
  events(data: string): GenerationEvent[] {
    const chunk = parseJson(data, "a stream event");
    if (!isObject(chunk)) throw new UpstreamProtocolError("a stream event is not a JSON object");
    if (chunk.error !== undefined && chunk.error !== null) throw new UpstreamStreamError(errorBody(chunk, "stream"));
    const usage = usageOf(chunk.usage);
    if (usage) this.usage = usage;
    const list = chunk.choices;
    if (list === undefined || list === null) return [];
    if (!Array.isArray(list)) throw new UpstreamProtocolError("'choices' of a stream event is not a list");
    const out: GenerationEvent[] = [];
    for (const [position, choice] of (list as unknown[]).entries()) {
      if (!isObject(choice)) throw new UpstreamProtocolError(`choices[${position}] is not an object`);
      const index = choiceIndex(choice, position, this.choices);
      const text = textOf(this.kind, choice, false);
      if (typeof text === "string" && text !== "") {
        this.textChunks++;
        out.push({ type: "text", choice: index, text });
      }
      const reason = finishReason(choice.finish_reason);
      if (reason && !this.finished[index]) {
        this.finished[index] = true;
        out.push({ type: "finish", choice: index, reason });
      }
    }
    return out;
  }

  /** At `[DONE]`: finishes for choices left open, then usage (counted from chunks when the upstream gave none). */
  finish(): GenerationEvent[] {
    const out: GenerationEvent[] = [];
    for (let choice = 0; choice < this.choices; choice++) {
      if (!this.finished[choice]) out.push({ type: "finish", choice, reason: "stop" });
    }
    out.push({ type: "usage", usage: this.usage ?? { promptTokens: 0, completionTokens: this.textChunks } });
    return out;
  }
}

export interface WireErrorBody {
  message: string;
  type: string | null;
  param: string | null;
  code: string | null;
}

/** OpenAI's `{"error": {…}}` (or vLLM's / TGI's variants) → its fields; text that is not one → a message. */
export function errorBody(body: unknown, fallback: string): WireErrorBody {
  const str = (v: unknown): string | null => (typeof v === "string" && v !== "" ? v : null);
  if (isObject(body)) {
    const inner = isObject(body.error) ? body.error : body;
    const message = str(inner.message) ?? str(body.error) ?? str(body.detail) ?? str(body.message);
    if (message !== null) {
      const code = inner.code;
      return {
        message,
        type: str(inner.type),
        param: str(inner.param),
        code: typeof code === "number" ? String(code) : str(code),
      };
    }
  }
  return { message: fallback, type: null, param: null, code: null };
}

/** The vectors of an embeddings answer, in input order. */
export function vectorsOfEmbeddings(body: unknown, inputs: number): { vectors: Float32Array[]; promptTokens: number } {
  if (!isObject(body) || !Array.isArray(body.data)) throw new UpstreamProtocolError("the response has no 'data' list");
  const vectors: (Float32Array | undefined)[] = Array.from({ length: inputs }, () => undefined);
  for (const [position, item] of (body.data as unknown[]).entries()) {
    if (!isObject(item)) throw new UpstreamProtocolError(`data[${position}] is not an object`);
    const index = item.index ?? position;
    if (typeof index !== "number" || !Number.isInteger(index) || index < 0 || index >= inputs) {
      throw new UpstreamProtocolError(`data[${position}].index is outside 0…${inputs - 1}`);
    }
    const embedding = item.embedding;
    if (Array.isArray(embedding) && embedding.every((x) => typeof x === "number")) {
      vectors[index] = Float32Array.from(embedding);
    } else if (typeof embedding === "string") {
      const bytes = Buffer.from(embedding, "base64");
      vectors[index] = new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
    } else {
      throw new UpstreamProtocolError(`data[${position}].embedding is not a list of numbers`);
    }
  }
  const missing = vectors.findIndex((v) => v === undefined);
  if (missing !== -1) throw new UpstreamProtocolError(`no embedding for input ${missing}`);
  return { vectors: vectors as Float32Array[], promptTokens: usageOf(body.usage)?.promptTokens ?? 0 };
}

/** Model ids of a `/models` answer (empty when it is not one). */
export function modelIds(body: unknown): string[] {
  if (!isObject(body) || !Array.isArray(body.data)) return [];
  return (body.data as unknown[]).flatMap((m) => (isObject(m) && typeof m.id === "string" ? [m.id] : []));
}
