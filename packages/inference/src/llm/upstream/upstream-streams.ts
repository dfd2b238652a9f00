/**
 * Generation streams over an upstream's answer: a whole answer already turned into events, and the SSE
 * body of a streaming answer read event by event (framing in `SseDecoder`, chunks in `ChunkDecoder`).
 */
import type { IncomingMessage } from "node:http";
import type { GenerationEvent, GenerationStream } from "../engine/llm-provider.js";
import { SseDecoder } from "./sse-decoder.js";
import { ClientGone } from "./upstream-errors.js";
import { UpstreamProtocolError, type ChunkDecoder } from "./upstream-wire.js";

/** A whole answer as a stream; a client that left ends it with an error, like a live stream. */
export function bufferedStream(
  events: readonly GenerationEvent[],
  choices: number,
  promptTokens: number,
  signal: AbortSignal,
): GenerationStream {
  return {
    choices,
    promptTokens,
    async *[Symbol.asyncIterator]() {
      for (const event of events) {
        if (signal.aborted) throw new ClientGone();
        yield await Promise.resolve(event);
      }
    },
  };
}

/** Typed events from an upstream's SSE body, pulled one at a time. */
export class SseReader {
  private readonly body: AsyncIterator<Buffer>;
  private readonly sse = new SseDecoder();
  private readonly queue: GenerationEvent[] = [];
  private sawDone = false;
  private ended = false;

  constructor(
    private readonly res: IncomingMessage,
    private readonly decoder: ChunkDecoder,
    private readonly onActivity: () => void,
  ) {
    this.body = (res as AsyncIterable<Buffer>)[Symbol.asyncIterator]();
  }

  get choices(): number {
    return this.decoder.choices;
  }

  get promptTokens(): number {
    return this.decoder.promptTokens;
  }

  async next(): Promise<GenerationEvent | undefined> {
    while (this.queue.length === 0) {
      if (this.sawDone || this.ended) return undefined;
      const result: IteratorResult<Buffer, unknown> = await this.body.next();
      this.onActivity();
      if (result.done === true) {
        this.ended = true;
        this.take(this.sse.end());
        if (!this.sawDone) {
          // some servers end without [DONE]: fine once every choice has finished, cut short otherwise
          if (!this.decoder.allFinished) throw new UpstreamProtocolError("the stream ended without 'data: [DONE]'");
          this.queue.push(...this.decoder.finish());
        }
      } else {
        this.take(this.sse.push(result.value));
      }
    }
    return this.queue.shift();
  }

  /** Stops reading: after `[DONE]` the rest of the body is drained (the socket stays reusable), else the socket is closed. */
  close(): void {
    if (this.res.complete) return;
    if (this.sawDone) this.res.resume();
    else this.res.destroy();
  }

  private take(events: readonly { data: string }[]): void {
    for (const { data } of events) {
      if (this.sawDone) return;
      if (data === "[DONE]") {
        this.sawDone = true;
        this.queue.push(...this.decoder.finish());
      } else {
        this.queue.push(...this.decoder.events(data));
      }
    }
  }
}
