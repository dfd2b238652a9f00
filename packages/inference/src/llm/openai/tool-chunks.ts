/**
 * Stream chunks for a chat whose choices may be tool calls: text events go through each choice's
 * `ToolCallDecoder`, and its deltas become OpenAI's chunks — `content` deltas for text, and for a call
 * `tool_calls: [{index: 0, id, type: "function", function: {name, arguments: ""}}]` followed by
 * `tool_calls: [{index: 0, function: {arguments: "…"}}]` pieces; the finish chunk carries
 * `finish_reason: "tool_calls"` when a call completed. Usage chunks are as without tools.
 */
import type { GenerationEvent } from "../engine/llm-provider.js";
import type { ChunkWriter, ToolOutput } from "./generation-responses.js";
import { ToolCallDecoder, type ToolDelta } from "./tool-calls.js";
import type { WireChatCompletionChunk, WireCompletion } from "./wire-types.js";

export class ToolChunkWriter {
  private readonly decoders = new Map<number, ToolCallDecoder>();

  constructor(
    private readonly chunks: ChunkWriter,
    private readonly tools: ToolOutput,
  ) {}

  /** The chunks for one event (none, one or several). */
  chunk(event: GenerationEvent): (WireChatCompletionChunk | WireCompletion)[] {
    switch (event.type) {
      case "text":
        return this.deltas(event.choice, this.decoder(event.choice).push(event.text));
      case "finish": {
        const end = this.decoder(event.choice).finish(event.reason);
        return [
          ...this.deltas(event.choice, end.deltas),
          this.chunks.chat({ index: event.choice, delta: {}, logprobs: null, finish_reason: end.reason }),
        ];
      }
      case "usage": {
        const chunk = this.chunks.chunk(event);
        return chunk ? [chunk] : [];
      }
    }
  }

  private decoder(choice: number): ToolCallDecoder {
    let decoder = this.decoders.get(choice);
    if (!decoder) {
      decoder = new ToolCallDecoder(this.tools.mode, this.tools.names);
      this.decoders.set(choice, decoder);
    }
    return decoder;
  }

  private deltas(index: number, deltas: readonly ToolDelta[]): WireChatCompletionChunk[] {
    return deltas.map((d) => {
      const delta: WireChatCompletionChunk["choices"][number]["delta"] =
        d.kind === "content"
          ? { content: d.text }
          : d.kind === "call"
            ? { tool_calls: [{ index: 0, id: d.id, type: "function", function: { name: d.name, arguments: "" } }] }
            : { tool_calls: [{ index: 0, function: { arguments: d.text } }] };
      return this.chunks.chat({ index, delta, logprobs: null, finish_reason: null });
    });
  }
}
