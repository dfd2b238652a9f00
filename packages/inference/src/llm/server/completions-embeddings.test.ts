/**
 * `/v1/completions` and `/v1/embeddings` against a real server on the tiny random-weight model, with
 * the `openai` client (which asks for base64 embeddings by default and decodes them itself).
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import OpenAI from "openai";
import { startLlmTestServer, writeTinyModel, type LlmTestServer, type TinyModel } from "../testing/llm-test-server.js";

const IGNORE_EOS = { ignore_eos: true } as const;

describe("POST /v1/completions and /v1/embeddings", () => {
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

  it("completes a prompt in OpenAI's shape", async () => {
    const res = await client.completions.create({
      model: "tiny",
      prompt: "Once upon a time",
      max_tokens: 6,
      ...IGNORE_EOS,
    });
    assert.match(res.id, /^cmpl-/);
    assert.equal(res.object, "text_completion");
    assert.equal(res.model, "tiny");
    assert.equal(res.choices.length, 1);
    assert.equal(res.choices[0]!.index, 0);
    assert.equal(typeof res.choices[0]!.text, "string");
    assert.equal(res.choices[0]!.logprobs, null);
    assert.equal(res.choices[0]!.finish_reason, "length");
    assert.equal(res.usage!.completion_tokens, 6);
    assert.equal(res.usage!.prompt_tokens, server.provider.tokenize("Once upon a time").length);
  });

  it("streams text_completion chunks with a final usage chunk", async () => {
    const stream = await client.completions.create({
      model: "tiny",
      prompt: "Once upon a time",
      max_tokens: 5,
      stream: true,
      stream_options: { include_usage: true },
      ...IGNORE_EOS,
    });
    const chunks = [];
    for await (const chunk of stream) chunks.push(chunk);
    for (const c of chunks) assert.equal(c.object, "text_completion");
    assert.equal(new Set(chunks.map((c) => c.id)).size, 1);
    const last = chunks.at(-1)!;
    assert.deepEqual(last.choices, []);
    assert.equal(last.usage!.completion_tokens, 5);
    const finish = chunks.at(-2)!.choices[0]!;
    assert.equal(finish.text, "");
    assert.equal(finish.finish_reason, "length");
    for (const c of chunks.slice(0, -1)) assert.equal(c.usage, null);
  });

  it("takes several prompts and n: choice i * n + j is prompt i's j-th", async () => {
    const res = await client.completions.create({
      model: "tiny",
      prompt: ["A", "B c"],
      n: 2,
      max_tokens: 3,
      ...IGNORE_EOS,
    });
    assert.deepEqual(
      res.choices.map((c) => c.index),
      [0, 1, 2, 3],
    );
    assert.equal(res.usage!.completion_tokens, 12);
    assert.equal(
      res.usage!.prompt_tokens,
      server.provider.tokenize("A").length + server.provider.tokenize("B c").length,
    );
  });

  it("takes token ids as the prompt, and echoes the prompt when asked", async () => {
    const tokens = server.provider.tokenize("Hello world");
    const res = await client.completions.create({
      model: "tiny",
      prompt: tokens,
      max_tokens: 2,
      echo: true,
      ...IGNORE_EOS,
    });
    assert.equal(res.usage!.prompt_tokens, tokens.length);
    assert.ok(res.choices[0]!.text.startsWith("Hello world"), res.choices[0]!.text);
  });

  it("cuts completions at a stop sequence", async () => {
    const request = { model: "tiny", prompt: "Once", max_tokens: 30, temperature: 0.9, seed: 5, ...IGNORE_EOS };
    const full = (await client.completions.create(request)).choices[0]!.text;
    assert.ok(full.length >= 6);
    const stop = full.slice(3, 5);
    const cut = await client.completions.create({ ...request, stop });
    assert.equal(cut.choices[0]!.text, full.slice(0, full.indexOf(stop)));
    assert.equal(cut.choices[0]!.finish_reason, "stop");
  });

  it("embeds text as unit vectors, the same with float and base64 encoding", async () => {
    const inputs = ["the cat sat", "on the mat", "the cat sat"];
    const float = await client.embeddings.create({ model: "tiny", input: inputs, encoding_format: "float" });
    assert.equal(float.object, "list");
    assert.equal(float.model, "tiny");
    assert.deepEqual(
      float.data.map((d) => [d.object, d.index]),
      [
        ["embedding", 0],
        ["embedding", 1],
        ["embedding", 2],
      ],
    );
    for (const d of float.data) {
      assert.equal(d.embedding.length, 64);
      const norm = Math.hypot(...d.embedding);
      assert.ok(Math.abs(norm - 1) < 1e-5, `norm ${norm}`);
    }
    assert.deepEqual(float.data[2]!.embedding, float.data[0]!.embedding);
    assert.notDeepEqual(float.data[1]!.embedding, float.data[0]!.embedding);
    const expectedTokens = inputs.reduce((n, t) => n + server.provider.tokenize(t).length, 0);
    assert.deepEqual(float.usage, { prompt_tokens: expectedTokens, total_tokens: expectedTokens });

    // the client's default: it asks for base64 and decodes little-endian float32
    const decoded = await client.embeddings.create({ model: "tiny", input: inputs });
    assert.deepEqual(
      decoded.data.map((d) => d.embedding),
      float.data.map((d) => d.embedding),
    );
  });

  it("sends base64 as a string of little-endian float32 bytes", async () => {
    const res = await fetch(`${server.baseURL}/embeddings`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: "tiny", input: "the cat sat", encoding_format: "base64" }),
    });
    const body = (await res.json()) as { data: { embedding: unknown }[] };
    assert.equal(typeof body.data[0]!.embedding, "string");
    const bytes = Buffer.from(body.data[0]!.embedding as string, "base64");
    assert.equal(bytes.length, 64 * 4);
    const floats = Array.from({ length: 64 }, (_, i) => bytes.readFloatLE(i * 4));
    const float = await client.embeddings.create({ model: "tiny", input: "the cat sat", encoding_format: "float" });
    assert.deepEqual(floats, float.data[0]!.embedding);
  });

  it("refuses dimensions other than the model's", async () => {
    await assert.rejects(client.embeddings.create({ model: "tiny", input: "x", dimensions: 32 }), (error: unknown) => {
      assert.ok(error instanceof OpenAI.APIError);
      assert.equal(error.status, 400);
      assert.equal(error.param, "dimensions");
      return true;
    });
  });

  it("lists the model", async () => {
    const list = await client.models.list();
    assert.deepEqual(
      list.data.map((m) => [m.id, m.object, m.owned_by]),
      [["tiny", "model", "slipway"]],
    );
    const one = await client.models.retrieve("tiny");
    assert.equal(one.id, "tiny");
  });
});
