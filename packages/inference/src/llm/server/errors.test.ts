/**
 * Bad input, over a real server: every case is answered in OpenAI's error format with the right status
 * (never a 500), and the server goes on serving. Token ids outside the vocabulary are among them: handed
 * to llama.cpp they would abort the process.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import OpenAI, { APIError } from "openai";
import {
  eventually,
  startLlmTestServer,
  writeTinyModel,
  type LlmTestServer,
  type TinyModel,
} from "../testing/llm-test-server.js";

const USER = [{ role: "user" as const, content: "Hello" }];

interface Expected {
  status: number;
  param?: string | null;
  code?: string | null;
  type?: string;
  message?: RegExp;
}

async function rejects(promise: Promise<unknown>, expected: Expected): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof APIError, `expected an APIError, got ${String(error)}`);
    assert.equal(error.status, expected.status, error.message);
    assert.equal(error.type, expected.type ?? "invalid_request_error");
    if (expected.param !== undefined) assert.equal(error.param, expected.param);
    if (expected.code !== undefined) assert.equal(error.code, expected.code);
    if (expected.message) assert.match(error.message, expected.message);
    return true;
  });
}

describe("bad input gets OpenAI's error format and the right status", () => {
  let model: TinyModel;
  let server: LlmTestServer;
  let client: OpenAI;

  const post = async (path: string, body: string, contentType = "application/json") => {
    const res = await fetch(`${server.baseURL}${path}`, {
      method: "POST",
      headers: { "content-type": contentType },
      body,
    });
    return { status: res.status, headers: res.headers, body: (await res.json()) as { error: Record<string, unknown> } };
  };

  before(async () => {
    model = await writeTinyModel();
    server = await startLlmTestServer({ modelPath: model.path, parallel: 1, contextSize: 256, queueCapacity: 0 });
    client = new OpenAI({ baseURL: server.baseURL, apiKey: "unused", maxRetries: 0 });
  });
  after(async () => {
    await server.close();
    await model.remove();
  });

  it("unknown model: 404 model_not_found on every endpoint", async () => {
    const expected = { status: 404, param: "model", code: "model_not_found", message: /'gpt-nope' does not exist/ };
    await rejects(client.chat.completions.create({ model: "gpt-nope", messages: USER }), expected);
    await rejects(client.completions.create({ model: "gpt-nope", prompt: "x" }), expected);
    await rejects(client.embeddings.create({ model: "gpt-nope", input: "x" }), expected);
    await rejects(client.models.retrieve("gpt-nope"), expected);
  });

  it("malformed messages: 400 naming the field", async () => {
    const create = (messages: unknown) =>
      client.chat.completions.create({
        model: "tiny",
        messages,
      } as unknown as OpenAI.ChatCompletionCreateParamsNonStreaming);
    await rejects(create(undefined), { status: 400, param: "messages", code: "missing_required_parameter" });
    await rejects(create([]), { status: 400, param: "messages", code: "empty_array" });
    await rejects(create("hello"), { status: 400, param: "messages", code: "invalid_type" });
    await rejects(create([42]), { status: 400, param: "messages[0]", code: "invalid_type" });
    await rejects(create([{ content: "x" }]), { status: 400, param: "messages[0].role" });
    await rejects(create([{ role: "wizard", content: "x" }]), {
      status: 400,
      param: "messages[0].role",
      code: "invalid_value",
    });
    await rejects(create([{ role: "user" }]), { status: 400, param: "messages[0].content" });
    await rejects(create([{ role: "user", content: 7 }]), {
      status: 400,
      param: "messages[0].content",
      code: "invalid_type",
    });
    await rejects(create([{ role: "user", content: [{ type: "image_url", image_url: { url: "http://x" } }] }]), {
      status: 400,
      param: "messages[0].content[0].type",
    });
    // a tool result must answer an earlier call (tool-calls.test.ts covers tool calling)
    await rejects(create([{ role: "tool", content: "x", tool_call_id: "a" }]), {
      status: 400,
      param: "messages[0].tool_call_id",
    });
  });

  it("n and max_tokens out of range: 400", async () => {
    const base = { model: "tiny", messages: USER };
    await rejects(client.chat.completions.create({ ...base, n: 0 }), {
      status: 400,
      param: "n",
      code: "integer_below_min_value",
    });
    await rejects(client.chat.completions.create({ ...base, n: 17 }), {
      status: 400,
      param: "n",
      code: "integer_above_max_value",
    });
    await rejects(client.chat.completions.create({ ...base, max_tokens: 0 }), {
      status: 400,
      param: "max_tokens",
      code: "integer_below_min_value",
    });
    await rejects(client.chat.completions.create({ ...base, max_tokens: 1.5 }), {
      status: 400,
      param: "max_tokens",
      code: "invalid_type",
    });
    await rejects(client.chat.completions.create({ ...base, max_completion_tokens: -3 }), {
      status: 400,
      param: "max_completion_tokens",
    });
    // more than the context holds: refused, not cut short
    await rejects(client.chat.completions.create({ ...base, max_tokens: 100_000 }), {
      status: 400,
      param: "messages",
      code: "context_length_exceeded",
      message: /maximum context length is 256 tokens/,
    });
    await rejects(client.completions.create({ model: "tiny", prompt: "x", n: 99 }), { status: 400, param: "n" });
  });

  it("other parameters out of range: 400", async () => {
    const base = { model: "tiny", messages: USER };
    await rejects(client.chat.completions.create({ ...base, temperature: 3 }), { status: 400, param: "temperature" });
    await rejects(client.chat.completions.create({ ...base, top_p: -0.5 }), { status: 400, param: "top_p" });
    await rejects(client.chat.completions.create({ ...base, presence_penalty: 2.5 }), {
      status: 400,
      param: "presence_penalty",
    });
    await rejects(client.chat.completions.create({ ...base, stop: ["a", "b", "c", "d", "e"] }), {
      status: 400,
      param: "stop",
      code: "array_above_max_length",
    });
    await rejects(client.chat.completions.create({ ...base, logit_bias: { "12": 101 } }), {
      status: 400,
      param: "logit_bias",
    });
    await rejects(client.chat.completions.create({ ...base, stream_options: { include_usage: true } }), {
      status: 400,
      param: "stream_options",
    });
    await rejects(
      client.chat.completions.create({
        ...base,
        response_format: { type: "xml" },
      } as unknown as OpenAI.ChatCompletionCreateParamsNonStreaming),
      { status: 400, param: "response_format.type" },
    );
  });

  it("a prompt longer than the context: 400 context_length_exceeded, never truncated", async () => {
    const long = "dragon ".repeat(400);
    await rejects(client.chat.completions.create({ model: "tiny", messages: [{ role: "user", content: long }] }), {
      status: 400,
      param: "messages",
      code: "context_length_exceeded",
      message: /maximum context length is 256 tokens\. However, your prompt has \d+ tokens/,
    });
    await rejects(client.completions.create({ model: "tiny", prompt: ["ok", long] }), {
      status: 400,
      param: "prompt[1]",
      code: "context_length_exceeded",
    });
    await rejects(client.embeddings.create({ model: "tiny", input: long }), {
      status: 400,
      param: "input",
      code: "context_length_exceeded",
    });
  });

  it("token ids outside the vocabulary: 400, and the process lives", async () => {
    await rejects(client.completions.create({ model: "tiny", prompt: [1, 2, 10_000_000] }), {
      status: 400,
      param: "prompt",
    });
    await rejects(client.embeddings.create({ model: "tiny", input: [[5], [5, 999_999_999]] }), {
      status: 400,
      param: "input[1]",
    });
    await rejects(client.chat.completions.create({ model: "tiny", messages: USER, logit_bias: { "999999999": 5 } }), {
      status: 400,
      param: "logit_bias",
    });
  });

  it("a JSON schema the grammar compiler cannot take: 400 invalid_json_schema", async () => {
    const withSchema = (schema: Record<string, unknown>) =>
      client.chat.completions.create({
        model: "tiny",
        messages: USER,
        response_format: { type: "json_schema", json_schema: { name: "s", schema } },
      });
    const expected = { status: 400, param: "response_format.json_schema.schema", code: "invalid_json_schema" };
    await rejects(withSchema({ type: "wizard" }), { ...expected, message: /unknown type 'wizard'/ });
    await rejects(withSchema({ type: "string", pattern: "^a+$" }), { ...expected, message: /#\/pattern/ });
    await rejects(withSchema({ type: "object", properties: { a: { $ref: "#/$defs/missing" } } }), expected);
    await rejects(withSchema({ type: "object", properties: { n: { type: "integer", minimum: 3 } } }), {
      ...expected,
      message: /#\/properties\/n\/minimum/,
    });
    await rejects(withSchema({ oneOf: 3 }), expected);
  });

  it("bodies that are not JSON objects, unknown paths: OpenAI-format 400 and 404", async () => {
    const bad = await post("/chat/completions", "{not json");
    assert.equal(bad.status, 400);
    assert.equal(bad.body.error.type, "invalid_request_error");
    assert.equal(bad.body.error.code, "invalid_json");
    const array = await post("/chat/completions", "[1,2]");
    assert.equal(array.status, 400);
    const empty = await post("/embeddings", "");
    assert.equal(empty.status, 400);
    const form = await post("/chat/completions", "model=tiny", "application/x-www-form-urlencoded");
    assert.equal(form.status, 400);
    const unknown = await post("/engines/davinci/completions", "{}");
    assert.equal(unknown.status, 404);
    assert.deepEqual(unknown.body, {
      error: {
        message: "Invalid URL (POST /v1/engines/davinci/completions)",
        type: "invalid_request_error",
        param: null,
        code: null,
      },
    });
  });

  it("past capacity: 503 with Retry-After; the queue frees when the client leaves", async () => {
    const busy = new AbortController();
    const running = await client.chat.completions.create(
      {
        model: "tiny",
        messages: USER,
        max_tokens: 200,
        stream: true,
        ignore_eos: true,
      } as OpenAI.ChatCompletionCreateParamsStreaming,
      { signal: busy.signal },
    );
    const reader = running[Symbol.asyncIterator]();
    await reader.next();
    const res = await fetch(`${server.baseURL}/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: "tiny", messages: USER, max_tokens: 1 }),
    });
    assert.equal(res.status, 503);
    assert.equal(res.headers.get("retry-after"), "1");
    const body = (await res.json()) as { error: { type: string; code: string } };
    assert.equal(body.error.type, "server_error");
    assert.equal(body.error.code, "overloaded");
    busy.abort();
    await reader.return?.();
    await eventually(() => server.provider.slots().free === 1);
  });

  it("keeps serving everyone else", async () => {
    const res = await client.chat.completions.create({
      model: "tiny",
      messages: USER,
      max_tokens: 3,
      ignore_eos: true,
    } as OpenAI.ChatCompletionCreateParamsNonStreaming);
    assert.equal(res.usage!.completion_tokens, 3);
    const health = await fetch(`${server.url}/health`);
    assert.equal(health.status, 200);
  });
});
