/**
 * Clients that leave, and a server that shuts down: a disconnect stops its generation at once and
 * frees the sequence (the pool's free count returns to the total and the next request is served); a
 * request that leaves while queued never runs; shutdown lets in-flight streams finish within the grace
 * period and cancels them after it.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import OpenAI from "openai";
import {
  eventually,
  startLlmTestServer,
  writeTinyModel,
  type LlmTestServer,
  type TinyModel,
} from "../testing/llm-test-server.js";

const USER = [{ role: "user" as const, content: "Tell me a long story." }];
/** Long enough to run for seconds if nobody stopped it. */
const LONG = { model: "tiny", messages: USER, max_tokens: 1900, ignore_eos: true };

function body(extra: Record<string, unknown> = {}): string {
  return JSON.stringify({ ...LONG, ...extra });
}

describe("cancellation and shutdown", () => {
  let model: TinyModel;
  let server: LlmTestServer;
  let client: OpenAI;

  before(async () => {
    model = await writeTinyModel();
    server = await startLlmTestServer({ modelPath: model.path, parallel: 2, contextSize: 2048 });
    client = new OpenAI({ baseURL: server.baseURL, apiKey: "unused", maxRetries: 0 });
  });
  after(async () => {
    await server.close();
    await model.remove();
  });

  it("a streaming client that disconnects frees its sequence at once; the next request is served", async () => {
    const abort = new AbortController();
    const res = await fetch(`${server.baseURL}/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: body({ stream: true }),
      signal: abort.signal,
    });
    const reader = res.body!.getReader();
    await reader.read();
    await reader.read();
    assert.equal(server.provider.slots().free, 1);
    const left = performance.now();
    abort.abort();
    await eventually(() => server.provider.slots().free === 2, 2000);
    assert.ok(performance.now() - left < 2000);
    assert.deepEqual(server.provider.load(), { running: 0, waiting: 0 });

    const next = await client.chat.completions.create({ model: "tiny", messages: USER, max_tokens: 3 });
    assert.ok(next.choices[0]!.finish_reason);
  });

  it("a client waiting for a whole answer that disconnects stops it too", async () => {
    const abort = new AbortController();
    const pending = fetch(`${server.baseURL}/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: body(),
      signal: abort.signal,
    }).catch((error: unknown) => error);
    await eventually(() => server.provider.slots().free === 1);
    abort.abort();
    assert.ok((await pending) instanceof Error);
    await eventually(() => server.provider.slots().free === 2, 2000);
  });

  it("a queued request whose client leaves never runs", async () => {
    const aborts = [new AbortController(), new AbortController(), new AbortController()];
    const pending = aborts.map((a) =>
      fetch(`${server.baseURL}/chat/completions`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: body(),
        signal: a.signal,
      }).catch((error: unknown) => error),
    );
    await eventually(() => server.provider.load().waiting === 1 && server.provider.slots().free === 0);
    aborts[2]!.abort();
    await eventually(() => server.provider.load().waiting === 0);
    assert.equal(server.provider.load().running, 2);
    aborts[0]!.abort();
    aborts[1]!.abort();
    await Promise.all(pending);
    await eventually(() => server.provider.slots().free === 2, 2000);
  });

  it("shutdown lets a stream finish within the grace period, then refuses new work", async () => {
    const own = await startLlmTestServer({ modelPath: model.path, parallel: 1, contextSize: 256 });
    const ownClient = new OpenAI({ baseURL: own.baseURL, apiKey: "unused", maxRetries: 0 });
    const stream = await ownClient.chat.completions.create({
      model: "tiny",
      messages: USER,
      max_tokens: 40,
      stream: true,
      ignore_eos: true,
    } as OpenAI.ChatCompletionCreateParamsStreaming);
    const closing = own.serving.server.close({ graceMs: 10_000 });
    let finish: string | null = null;
    for await (const chunk of stream) finish = chunk.choices[0]?.finish_reason ?? finish;
    assert.equal(finish, "length");
    await closing;
    await assert.rejects(fetch(`${own.url}/health`));
  });

  it("shutdown past the grace period cancels a stream with an error event", async () => {
    const own = await startLlmTestServer({ modelPath: model.path, parallel: 1, contextSize: 2048 });
    const res = await fetch(`${own.baseURL}/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: body({ stream: true }),
    });
    const reader = res.body!.getReader() as ReadableStreamDefaultReader<Uint8Array>;
    await reader.read();
    const closing = own.serving.server.close({ graceMs: 100 });
    let text = "";
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      text += Buffer.from(value).toString();
    }
    await closing;
    assert.match(
      text,
      /data: \{"error":\{"message":"The server is shutting down[^\n]*"code":"shutting_down"\}\}\n\ndata: \[DONE\]\n\n$/,
    );
  });
});
