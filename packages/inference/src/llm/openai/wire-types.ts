/**
 * The response bodies the server writes, field for field as OpenAI's API returns them (what the
 * `openai` clients parse). Requests are not typed here: they are parsed from `unknown` by the
 * `*-request.ts` modules.
 */

export interface WireUsage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
}

export interface WireEmbeddingUsage {
  prompt_tokens: number;
  total_tokens: number;
}

export type WireFinishReason = "stop" | "length" | "tool_calls";

/** A tool call in a whole response: `arguments` is JSON text. */
export interface WireToolCall {
  id: string;
  type: "function";
  function: { name: string; arguments: string };
}

/** A tool call's piece in a stream chunk: the first carries `id`, `type` and the name; the rest, arguments. */
export interface WireToolCallDelta {
  index: number;
  id?: string;
  type?: "function";
  function: { name?: string; arguments: string };
}

export interface WireChatCompletion {
  id: string;
  object: "chat.completion";
  created: number;
  model: string;
  choices: {
    index: number;
    message: { role: "assistant"; content: string | null; refusal: null; tool_calls?: WireToolCall[] };
    logprobs: null;
    finish_reason: WireFinishReason;
  }[];
  usage: WireUsage;
}

export interface WireChatCompletionChunk {
  id: string;
  object: "chat.completion.chunk";
  created: number;
  model: string;
  choices: {
    index: number;
    delta: { role?: "assistant"; content?: string; tool_calls?: WireToolCallDelta[] };
    logprobs: null;
    finish_reason: WireFinishReason | null;
  }[];
  /** Present (null, or the totals on the last chunk) only with `stream_options.include_usage`. */
  usage?: WireUsage | null;
}

export interface WireCompletion {
  id: string;
  object: "text_completion";
  created: number;
  model: string;
  choices: { text: string; index: number; logprobs: null; finish_reason: WireFinishReason | null }[];
  usage?: WireUsage | null;
}

export interface WireEmbeddingList {
  object: "list";
  data: { object: "embedding"; index: number; embedding: number[] | string }[];
  model: string;
  usage: WireEmbeddingUsage;
}

export interface WireModel {
  id: string;
  object: "model";
  created: number;
  owned_by: string;
}

export interface WireModelList {
  object: "list";
  data: WireModel[];
}
