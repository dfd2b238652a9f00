/**
 * Generation events → OpenAI's response bodies, for chat and text completions alike: whole responses
 * (events collected) and stream chunks (one or more per event). The first chunk of each chat choice
 * carries `role: "assistant"` and empty content; a finish carries an empty delta and the reason; with
 * `include_usage` every chunk has `usage: null` and one last chunk, with no choices, has the totals.
 */
import type { FinishReason, GenerationEvent, GenerationStream, TokenUsage } from "../engine/llm-provider.js";
import { decodeToolChoice, type ToolCallMode } from "./tool-calls.js";
import type { WireChatCompletion, WireChatCompletionChunk, WireCompletion, WireUsage } from "./wire-types.js";

/** How a chat stream's text may carry tool calls (`tool-calls.ts`), and the request's tool names. */
export interface ToolOutput {
  readonly mode: ToolCallMode;
  readonly names: ReadonlySet<string>;
}

export type GenerationKind = "chat" | "completion";

export interface ResponseIdentity {
  /** `chatcmpl-…` or `cmpl-…`, shared by every chunk of a stream. */
  id: string;
  created: number;
  model: string;
}

export function wireUsage(usage: TokenUsage): WireUsage {
  return {
    prompt_tokens: usage.promptTokens,
    completion_tokens: usage.completionTokens,
    total_tokens: usage.promptTokens + usage.completionTokens,
  };
}

interface CollectedChoice {
  text: string;
  finish: FinishReason;
}

/** Drains a stream into texts, finish reasons and usage. */
export async function collectGeneration(
  stream: GenerationStream,
): Promise<{ choices: CollectedChoice[]; usage: TokenUsage }> {
  const texts: string[][] = Array.from({ length: stream.choices }, () => []);
  const finishes: FinishReason[] = Array.from({ length: stream.choices }, () => "stop");
  let usage: TokenUsage = { promptTokens: stream.promptTokens, completionTokens: 0 };
  for await (const event of stream) {
    if (event.type === "text") texts[event.choice]!.push(event.text);
    else if (event.type === "finish") finishes[event.choice] = event.reason;
    else usage = event.usage;
  }
  return { choices: texts.map((parts, i) => ({ text: parts.join(""), finish: finishes[i]! })), usage };
}

export function chatCompletion(
  identity: ResponseIdentity,
  collected: { choices: CollectedChoice[]; usage: TokenUsage },
  tools?: ToolOutput,
): WireChatCompletion {
  return {
    id: identity.id,
    object: "chat.completion",
    created: identity.created,
    model: identity.model,
    choices: collected.choices.map((c, index): WireChatCompletion["choices"][number] => {
      if (!tools) {
        return {
          index,
          message: { role: "assistant", content: c.text, refusal: null },
          logprobs: null,
          finish_reason: c.finish,
        };
      }
      const decoded = decodeToolChoice(tools.mode, tools.names, c.text, c.finish);
      return {
        index,
        message: {
          role: "assistant",
          content: decoded.content,
          refusal: null,
          ...(decoded.toolCalls.length === 0 ? {} : { tool_calls: decoded.toolCalls }),
        },
        logprobs: null,
        finish_reason: decoded.finish,
      };
    }),
    usage: wireUsage(collected.usage),
  };
}

export function textCompletion(
  identity: ResponseIdentity,
  collected: { choices: CollectedChoice[]; usage: TokenUsage },
): WireCompletion {
  return {
    id: identity.id,
    object: "text_completion",
    created: identity.created,
    model: identity.model,
    choices: collected.choices.map((c, index) => ({ text: c.text, index, logprobs: null, finish_reason: c.finish })),
    usage: wireUsage(collected.usage),
  };
}

/** Turns events into stream chunks for one response (chat or completion). */
export class ChunkWriter {
  constructor(
    private readonly kind: GenerationKind,
    private readonly identity: ResponseIdentity,
    private readonly includeUsage: boolean,
  ) {}

  /** Chunks that open the stream: the assistant role of each chat choice (none for completions). */
  opening(choices: number): (WireChatCompletionChunk | WireCompletion)[] {
    if (this.kind !== "chat") return [];
    const out: WireChatCompletionChunk[] = [];
    for (let index = 0; index < choices; index++) {
      out.push(this.chat({ index, delta: { role: "assistant", content: "" }, logprobs: null, finish_reason: null }));
    }
    return out;
  }

  /** The chunk for one event, or undefined (usage without include_usage). */
  chunk(event: GenerationEvent): WireChatCompletionChunk | WireCompletion | undefined {
    switch (event.type) {
      case "text":
        return this.kind === "chat"
          ? this.chat({ index: event.choice, delta: { content: event.text }, logprobs: null, finish_reason: null })
          : this.completion({ text: event.text, index: event.choice, logprobs: null, finish_reason: null });
      case "finish":
        return this.kind === "chat"
          ? this.chat({ index: event.choice, delta: {}, logprobs: null, finish_reason: event.reason })
          : this.completion({ text: "", index: event.choice, logprobs: null, finish_reason: event.reason });
      case "usage": {
        if (!this.includeUsage) return undefined;
        const base = { id: this.identity.id, created: this.identity.created, model: this.identity.model };
        const usage = wireUsage(event.usage);
        return this.kind === "chat"
          ? { ...base, object: "chat.completion.chunk", choices: [], usage }
          : { ...base, object: "text_completion", choices: [], usage };
      }
    }
  }

  /** A chat chunk with one choice (for writers that build their own deltas, e.g. tool calls). */
  chat(choice: WireChatCompletionChunk["choices"][number]): WireChatCompletionChunk {
    return {
      id: this.identity.id,
      object: "chat.completion.chunk",
      created: this.identity.created,
      model: this.identity.model,
      choices: [choice],
      ...(this.includeUsage ? { usage: null } : {}),
    };
  }

  private completion(choice: WireCompletion["choices"][number]): WireCompletion {
    return {
      id: this.identity.id,
      object: "text_completion",
      created: this.identity.created,
      model: this.identity.model,
      choices: [choice],
      ...(this.includeUsage ? { usage: null } : {}),
    };
  }
}
