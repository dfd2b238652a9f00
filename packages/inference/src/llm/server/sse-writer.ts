/**
 * Server-sent events on a raw HTTP response, framed as OpenAI frames them: `data: <json>\n\n` per event
 * and `data: [DONE]\n\n` at the end. Writes respect backpressure (a slow reader slows its own
 * generation instead of growing a buffer) and stop quietly once the client is gone.
 */
import type { ServerResponse } from "node:http";

export class SseWriter {
  private gone = false;

  constructor(private readonly response: ServerResponse) {
    response.once("close", () => (this.gone = true));
  }

  /** True once the client has disconnected. */
  get closed(): boolean {
    return this.gone || this.response.destroyed;
  }

  /** Sends the status and headers (call once, before the first event). */
  open(headers: Record<string, string>): void {
    this.response.writeHead(200, {
      "content-type": "text/event-stream; charset=utf-8",
      "cache-control": "no-cache",
      connection: "keep-alive",
      "x-accel-buffering": "no",
      ...headers,
    });
    this.response.flushHeaders();
  }

  async data(value: unknown): Promise<void> {
    await this.write(`data: ${JSON.stringify(value)}\n\n`);
  }

  async done(): Promise<void> {
    await this.write("data: [DONE]\n\n");
    if (!this.closed) this.response.end();
  }

  private async write(frame: string): Promise<void> {
    if (this.closed) return;
    if (this.response.write(frame)) return;
    await new Promise<void>((resolve) => {
      const finish = () => {
        this.response.off("drain", finish);
        this.response.off("close", finish);
        resolve();
      };
      this.response.on("drain", finish);
      this.response.on("close", finish);
    });
  }
}
