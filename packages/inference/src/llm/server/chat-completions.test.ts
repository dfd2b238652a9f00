/**
 * `/v1/chat/completions` against a real server on the tiny random-weight model, with the `openai`
 * client. Nothing here depends on what the model says: checks are on shapes, counts, framing,
 * determinism (same seed, same text) and constraints (stop sequences, grammars).
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import OpenAI from "openai";
import { IGNORED_PARAMS_HEADER } from "./llm-routes.js";
import { startLlmTestServer, writeTinyModel, type LlmTestServer, type TinyModel } from "../testing/llm-test-server.js";

/** Extras the typed client does not know; sent as they are. */
const IGNORE_EOS = { ignore_eos: true } as const;
const USER = [{ role: "user" as const, content: "Tell me a story about a dragon." }];

describe("POST /v1/chat/completions", () => {
  let model: TinyModel;
  let server: LlmTestServer;
  let client: OpenAI;

  before(async () => {
    model = await writeTinyModel();
    server = await startLlmTestServer({ modelPath: model.path, parallel: 2 });
    client = new OpenAI({ baseURL: server.baseURL, apiKey: "unused", maxRetries: 0 });
  });
  after(async () => {
    await server.close();
    await model.remove();
  });

  it("answers in OpenAI's shape, with usage that adds up", async () => {
    const res = await client.chat.completions.create({
      model: "tiny",
      messages: [{ role: "system", content: "Be brief." }, ...USER],
      max_tokens: 12,
      ...IGNORE_EOS,
    });
    assert.match(res.id, /^chatcmpl-/);
    assert.equal(res.object, "chat.completion");
    assert.equal(res.model, "tiny");
    assert.ok(Number.isInteger(res.created));
    assert.equal(res.choices.length, 1);
    const [choice] = res.choices;
    assert.equal(choice!.index, 0);
    assert.equal(choice!.message.role, "assistant");
    assert.equal(typeof choice!.message.content, "string");
    assert.equal(choice!.finish_reason, "length");
    assert.equal(res.usage!.completion_tokens, 12);
    assert.ok(res.usage!.prompt_tokens > 10);
    assert.equal(res.usage!.total_tokens, res.usage!.prompt_tokens + res.usage!.completion_tokens);
  });

  it("takes max_completion_tokens, developer messages and text content parts", async () => {
    const res = await client.chat.completions.create({
      model: "tiny",
      messages: [
        { role: "developer", content: "Be brief." },
        {
          role: "user",
          content: [
            { type: "text", text: "Hello" },
            { type: "text", text: "there" },
          ],
        },
        { role: "assistant", content: "Hi!" },
        { role: "user", content: "Again" },
      ],
      max_completion_tokens: 5,
      ...IGNORE_EOS,
    });
    assert.equal(res.usage!.completion_tokens, 5);
    assert.equal(res.choices[0]!.finish_reason, "length");
  });

  it("streams chunks framed as OpenAI frames them, with a final usage chunk", async () => {
    const stream = await client.chat.completions.create({
      model: "tiny",
      messages: USER,
      max_tokens: 8,
      stream: true,
      stream_options: { include_usage: true },
      ...IGNORE_EOS,
    });
    const chunks = [];
    for await (const chunk of stream) chunks.push(chunk);
    assert.ok(chunks.length >= 3);
    const ids = new Set(chunks.map((c) => c.id));
    assert.equal(ids.size, 1);
    assert.equal(new Set(chunks.map((c) => c.created)).size, 1);
    for (const c of chunks) assert.equal(c.object, "chat.completion.chunk");
    assert.deepEqual(chunks[0]!.choices[0]!.delta, { role: "assistant", content: "" });
    const last = chunks.at(-1)!;
    assert.deepEqual(last.choices, []);
    assert.equal(last.usage!.completion_tokens, 8);
    assert.equal(last.usage!.total_tokens, last.usage!.prompt_tokens + 8);
    for (const c of chunks.slice(0, -1)) assert.equal(c.usage, null);
    const finish = chunks.at(-2)!.choices[0]!;
    assert.deepEqual(finish.delta, {});
    assert.equal(finish.finish_reason, "length");
  });

  it("writes the SSE bytes exactly: data lines, blank-line separated, data: [DONE] last", async () => {
    const res = await fetch(`${server.baseURL}/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: "tiny", messages: USER, max_tokens: 3, stream: true, ignore_eos: true }),
    });
    assert.equal(res.status, 200);
    assert.match(res.headers.get("content-type") ?? "", /^text\/event-stream/);
    assert.ok(res.headers.get("x-request-id"));
    const text = await res.text();
    assert.ok(text.endsWith("data: [DONE]\n\n"));
    const events = text.split("\n\n").filter((e) => e !== "");
    for (const event of events) assert.match(event, /^data: /);
    const payloads = events.slice(0, -1).map((e) => JSON.parse(e.slice(6)) as Record<string, unknown>);
    // without include_usage, chunks carry no usage field at all
    for (const p of payloads) assert.equal("usage" in p, false);
    type Delta = { choices: { delta: { role?: string; content?: string }; finish_reason: string | null }[] };
    const deltas = payloads as unknown as Delta[];
    assert.deepEqual(deltas[0]!.choices[0]!.delta, { role: "assistant", content: "" });
    assert.equal(deltas.at(-1)!.choices[0]!.finish_reason, "length");
    // one content chunk per token that completed some text: at most 3
    const middle = deltas.slice(1, -1);
    assert.ok(middle.length <= 3);
    for (const d of middle) assert.ok((d.choices[0]!.delta.content ?? "") !== "");
  });

  it("gives n choices, each with its own index and finish", async () => {
    const res = await client.chat.completions.create({
      model: "tiny",
      messages: USER,
      max_tokens: 4,
      n: 3,
      ...IGNORE_EOS,
    });
    assert.deepEqual(
      res.choices.map((c) => c.index),
      [0, 1, 2],
    );
    for (const c of res.choices) assert.equal(c.finish_reason, "length");
    assert.equal(res.usage!.completion_tokens, 12);

    const stream = await client.chat.completions.create({
      model: "tiny",
      messages: USER,
      max_tokens: 4,
      n: 2,
      stream: true,
      ...IGNORE_EOS,
    });
    const finished = new Set<number>();
    for await (const chunk of stream) {
      for (const c of chunk.choices) if (c.finish_reason) finished.add(c.index);
    }
    assert.deepEqual([...finished].sort(), [0, 1]);
  });

  it("repeats itself for the same seed at temperature > 0, streamed or not, and varies with the seed", async () => {
    const request = { model: "tiny", messages: USER, max_tokens: 24, temperature: 0.9, seed: 42, ...IGNORE_EOS };
    const first = (await client.chat.completions.create(request)).choices[0]!.message.content;
    const again = (await client.chat.completions.create(request)).choices[0]!.message.content;
    assert.equal(again, first);
    const stream = await client.chat.completions.create({ ...request, stream: true });
    let streamed = "";
    for await (const chunk of stream) streamed += chunk.choices[0]?.delta.content ?? "";
    assert.equal(streamed, first);
    const other = (await client.chat.completions.create({ ...request, seed: 43 })).choices[0]!.message.content;
    assert.notEqual(other, first);
  });

  it("stops before the first stop sequence, streamed or not", async () => {
    const request = { model: "tiny", messages: USER, max_tokens: 40, temperature: 0.9, seed: 7, ...IGNORE_EOS };
    const full = (await client.chat.completions.create(request)).choices[0]!.message.content!;
    assert.ok(full.length >= 8, `need some text to cut, got ${JSON.stringify(full)}`);
    const stop = full.slice(Math.floor(full.length / 2), Math.floor(full.length / 2) + 2);
    const expected = full.slice(0, full.indexOf(stop));

    const cut = await client.chat.completions.create({ ...request, stop: ["never-in-this-text-\u0001", stop] });
    assert.equal(cut.choices[0]!.message.content, expected);
    assert.equal(cut.choices[0]!.finish_reason, "stop");

    const stream = await client.chat.completions.create({ ...request, stop, stream: true });
    let streamed = "";
    let reason: string | null = null;
    for await (const chunk of stream) {
      streamed += chunk.choices[0]?.delta.content ?? "";
      reason = chunk.choices[0]?.finish_reason ?? reason;
    }
    assert.equal(streamed, expected);
    assert.equal(reason, "stop");
  });

  it("json_object output parses as a JSON object", async () => {
    // favour the closing tokens: a random model then closes what the grammar lets it open
    const bias = Object.fromEntries(
      ['"', "}", "]"].flatMap((t) => server.provider.tokenize(t)).map((id) => [String(id), 100]),
    );
    const res = await client.chat.completions.create({
      model: "tiny",
      messages: USER,
      max_tokens: 64,
      seed: 3,
      logit_bias: bias,
      response_format: { type: "json_object" },
    });
    const content = res.choices[0]!.message.content!;
    assert.equal(res.choices[0]!.finish_reason, "stop", content);
    const value: unknown = JSON.parse(content);
    assert.equal(typeof value, "object");
    assert.ok(value !== null && !Array.isArray(value));
  });

  it("json_schema output parses and matches the schema", async () => {
    const schema = {
      type: "object",
      properties: {
        name: { type: "string", maxLength: 8 },
        ok: { type: "boolean" },
        size: { enum: ["s", "m", "l"] },
        tags: { type: "array", items: { enum: ["a", "b"] }, maxItems: 2 },
      },
      required: ["name", "ok", "size", "tags"],
      additionalProperties: false,
    };
    for (const seed of [1, 2]) {
      const res = await client.chat.completions.create({
        model: "tiny",
        messages: USER,
        max_tokens: 120,
        seed,
        temperature: 1,
        response_format: { type: "json_schema", json_schema: { name: "card", schema, strict: true } },
      });
      const content = res.choices[0]!.message.content!;
      assert.equal(res.choices[0]!.finish_reason, "stop", content);
      const value = JSON.parse(content) as { name: unknown; ok: unknown; size: unknown; tags: unknown };
      assert.deepEqual(Object.keys(value).sort(), ["name", "ok", "size", "tags"]);
      assert.equal(typeof value.name, "string");
      assert.ok((value.name as string).length <= 8);
      assert.equal(typeof value.ok, "boolean");
      assert.ok(["s", "m", "l"].includes(value.size as string));
      assert.ok(Array.isArray(value.tags) && value.tags.length <= 2);
      for (const tag of value.tags as unknown[]) assert.ok(tag === "a" || tag === "b");
    }
  });

  it("accepts parameters it does not act on and names them in a header", async () => {
    const res = await fetch(`${server.baseURL}/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        model: "tiny",
        messages: USER,
        max_tokens: 1,
        logprobs: true,
        store: false,
        metadata: { a: "b" },
      }),
    });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get(IGNORED_PARAMS_HEADER), "logprobs,store,metadata");
  });
});
