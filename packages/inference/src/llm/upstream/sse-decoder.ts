/**
 * Server-sent events from bytes, incrementally: feed the body's chunks as they arrive, get each
 * complete event's `data` (its `data:` lines joined with `\n`). Handles `\n`, `\r\n` and `\r` line
 * ends, UTF-8 characters split across chunks, comments (`:` lines, used as keep-alives) and events
 * split anywhere. Field names other than `data` and `event` are ignored, as OpenAI's clients do.
 */
import { StringDecoder } from "node:string_decoder";

export interface SseEvent {
  /** The `event:` field, when the server gave one (OpenAI-compatible servers rarely do). */
  readonly event: string | undefined;
  readonly data: string;
}

export class SseDecoder {
  private readonly text = new StringDecoder("utf8");
  private buffer = "";
  private data: string[] = [];
  private event: string | undefined;
  /** A `\r` ended the last chunk: a `\n` starting the next one belongs to it. */
  private pendingCr = false;

  /** The events completed by this chunk. */
  push(chunk: Buffer | string): SseEvent[] {
    let incoming = typeof chunk === "string" ? chunk : this.text.write(chunk);
    if (this.pendingCr && incoming.startsWith("\n")) incoming = incoming.slice(1);
    this.pendingCr = false;
    this.buffer += incoming;
    const events: SseEvent[] = [];
    let start = 0;
    for (;;) {
      const lf = this.buffer.indexOf("\n", start);
      const cr = this.buffer.indexOf("\r", start);
      const end = lf === -1 ? cr : cr === -1 ? lf : Math.min(lf, cr);
      if (end === -1) break;
      const line = this.buffer.slice(start, end);
      if (this.buffer[end] === "\r") {
        if (end + 1 === this.buffer.length) this.pendingCr = true;
        start = this.buffer[end + 1] === "\n" ? end + 2 : end + 1;
      } else {
        start = end + 1;
      }
      const event = this.line(line);
      if (event) events.push(event);
    }
    this.buffer = this.buffer.slice(start);
    return events;
  }

  /** At the end of the body: an event not closed by a blank line is dispatched too. */
  end(): SseEvent[] {
    const rest = this.buffer + this.text.end();
    this.buffer = "";
    const events = rest === "" ? [] : this.push(`${rest}\n`);
    const last = this.line("");
    return last ? [...events, last] : events;
  }

  private line(line: string): SseEvent | undefined {
    if (line === "") {
      if (this.data.length === 0) {
        this.event = undefined;
        return undefined;
      }
      const event = { event: this.event, data: this.data.join("\n") };
      this.data = [];
      this.event = undefined;
      return event;
    }
    if (line.startsWith(":")) return undefined;
    const colon = line.indexOf(":");
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? "" : line.slice(colon + 1);
    if (value.startsWith(" ")) value = value.slice(1);
    if (field === "data") this.data.push(value);
    else if (field === "event") this.event = value;
    return undefined;
  }
}
