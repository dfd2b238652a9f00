/**
 * A generation stream → the HTTP response: one JSON body (events collected), or server-sent events
 * written as they come. Errors before the stream exists are the route's (normal JSON errors with their
 * status); an error after the SSE headers went out is sent as a last `data: {"error": …}` event before
 * `[DONE]`, since the status can no longer change. A client that left is not written to.
 */
import type { FastifyReply } from "fastify";
import { toLlmError } from "../errors.js";
import type { GenerationStream } from "../engine/llm-provider.js";
import {
  ChunkWriter,
  chatCompletion,
  collectGeneration,
  textCompletion,
  type GenerationKind,
  type ResponseIdentity,
  type ToolOutput,
} from "../openai/generation-responses.js";
import { ToolChunkWriter } from "../openai/tool-chunks.js";
import { SseWriter } from "./sse-writer.js";

export interface ServeGenerationOptions {
  reply: FastifyReply;
  kind: GenerationKind;
  identity: ResponseIdentity;
  stream: GenerationStream;
  streaming: boolean;
  includeUsage: boolean;
  /** Extra response headers (request id, ignored parameters). */
  headers: Record<string, string>;
  /** Chat choices may be tool calls (the provider marked its stream). */
  tools?: ToolOutput;
}

export async function serveGeneration(options: ServeGenerationOptions): Promise<void> {
  const { reply, kind, identity, stream } = options;
  if (!options.streaming) {
    const collected = await collectGeneration(stream);
    const body =
      kind === "chat" ? chatCompletion(identity, collected, options.tools) : textCompletion(identity, collected);
    await reply.headers(options.headers).type("application/json").send(JSON.stringify(body));
    return;
  }

  reply.hijack();
  const sse = new SseWriter(reply.raw);
  sse.open(options.headers);
  const chunks = new ChunkWriter(kind, identity, options.includeUsage);
  const toolChunks = options.tools && new ToolChunkWriter(chunks, options.tools);
  try {
    for (const chunk of chunks.opening(stream.choices)) await sse.data(chunk);
    for await (const event of stream) {
      if (toolChunks) {
        for (const chunk of toolChunks.chunk(event)) await sse.data(chunk);
      } else {
        const chunk = chunks.chunk(event);
        if (chunk) await sse.data(chunk);
      }
      if (sse.closed) break;
    }
  } catch (error) {
    if (sse.closed) return;
    const { error: mapped, internal } = toLlmError(error);
    if (internal) reply.log.error({ err: error }, "generation failed mid-stream");
    await sse.data(mapped.toJSON());
  }
  await sse.done();
}
