import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { LlmError } from "../errors.js";
import { parseChatRequest } from "./chat-request.js";
import { parseCompletionRequest } from "./completion-request.js";
import { parseEmbeddingRequest } from "./embedding-request.js";

function fails(fn: () => unknown, param: string | null, code?: string): void {
  assert.throws(fn, (error: unknown) => {
    assert.ok(error instanceof LlmError, String(error));
    assert.equal(error.status, 400);
    assert.equal(error.type, "invalid_request_error");
    assert.equal(error.param, param);
    if (code !== undefined) assert.equal(error.code, code);
    return true;
  });
}

const chat = (extra: Record<string, unknown>) =>
  parseChatRequest({ model: "m", messages: [{ role: "user", content: "hi" }], ...extra });

describe("parseChatRequest", () => {
  it("applies OpenAI's defaults", () => {
    const parsed = chat({});
    assert.equal(parsed.stream, false);
    assert.equal(parsed.includeUsage, false);
    assert.equal(parsed.request.n, 1);
    assert.deepEqual(parsed.request.messages, [{ role: "user", content: "hi" }]);
    const s = parsed.request.sampling;
    assert.deepEqual(
      [s.maxTokens, s.temperature, s.topP, s.seed, s.stop, s.presencePenalty, s.frequencyPenalty, s.responseFormat],
      [undefined, 1, 1, undefined, [], 0, 0, { type: "text" }],
    );
    assert.deepEqual(parsed.ignored, []);
  });

  it("reads every parameter it honours", () => {
    const parsed = chat({
      max_completion_tokens: 9,
      max_tokens: 100,
      temperature: 0,
      top_p: 0.5,
      n: 3,
      stop: "x",
      seed: -4,
      presence_penalty: 1,
      frequency_penalty: -1,
      logit_bias: { "42": -100, "7": 2.5 },
      response_format: {
        type: "json_schema",
        json_schema: { name: "a-b_1", schema: { type: "object" }, strict: true },
      },
      stream: true,
      stream_options: { include_usage: true },
      top_k: -1,
      min_p: 0.1,
      repetition_penalty: 1.1,
      ignore_eos: true,
      user: "u",
      tools: [],
    });
    const s = parsed.request.sampling;
    assert.equal(s.maxTokens, 9);
    assert.deepEqual([s.temperature, s.topP, parsed.request.n, s.stop, s.seed], [0, 0.5, 3, ["x"], -4]);
    assert.deepEqual(
      [...s.logitBias],
      [
        [7, 2.5],
        [42, -100],
      ],
    );
    assert.deepEqual(s.responseFormat, {
      type: "json_schema",
      name: "a-b_1",
      schema: { type: "object" },
      strict: true,
    });
    assert.deepEqual([s.topK, s.minP, s.repetitionPenalty, s.ignoreEos], [0, 0.1, 1.1, true]);
    assert.deepEqual([parsed.stream, parsed.includeUsage], [true, true]);
    // tools are parsed now (tool-request.ts); an empty list means no tools
    assert.equal(parsed.request.tools, undefined);
    assert.deepEqual(parsed.ignored, []);
  });

  it("maps developer to system, joins text parts, allows empty assistant content", () => {
    const parsed = parseChatRequest({
      model: "m",
      messages: [
        { role: "developer", content: "rules" },
        {
          role: "user",
          content: [
            { type: "text", text: "a" },
            { type: "text", text: "b" },
          ],
        },
        { role: "assistant", content: null },
      ],
    });
    assert.deepEqual(parsed.request.messages, [
      { role: "system", content: "rules" },
      { role: "user", content: "a\nb" },
      { role: "assistant", content: "" },
    ]);
  });

  it("refuses bad bodies with the field named", () => {
    fails(() => parseChatRequest(null), null, "invalid_request_body");
    fails(() => parseChatRequest({ messages: [] }), "model", "missing_required_parameter");
    fails(() => chat({ model: 3 }), "model", "invalid_type");
    fails(() => chat({ n: 0 }), "n", "integer_below_min_value");
    fails(() => chat({ max_tokens: 0 }), "max_tokens", "integer_below_min_value");
    fails(() => chat({ temperature: "hot" }), "temperature", "invalid_type");
    fails(() => chat({ stop: [1] }), "stop[0]", "invalid_type");
    fails(() => chat({ logit_bias: { abc: 1 } }), "logit_bias", "invalid_value");
    fails(() => chat({ response_format: { type: "json_schema" } }), "response_format.json_schema");
    fails(
      () => chat({ response_format: { type: "json_schema", json_schema: { name: "bad name" } } }),
      "response_format.json_schema.name",
    );
    fails(() => chat({ stream_options: {} }), "stream_options");
    fails(
      () => chat({ messages: [{ role: "assistant", content: "x", tool_calls: "none" }] }),
      "messages[0].tool_calls",
    );
    fails(() => chat({ messages: [{ role: "function", content: "x" }] }), "messages[0].role");
  });
});

describe("parseCompletionRequest / parseEmbeddingRequest", () => {
  it("takes a string, strings, token ids, or lists of token ids", () => {
    assert.deepEqual(parseCompletionRequest({ model: "m", prompt: "a" }).request.prompts, ["a"]);
    assert.deepEqual(parseCompletionRequest({ model: "m", prompt: ["a", "b"] }).request.prompts, ["a", "b"]);
    assert.deepEqual(parseCompletionRequest({ model: "m", prompt: [1, 2] }).request.prompts, [[1, 2]]);
    assert.deepEqual(parseEmbeddingRequest({ model: "m", input: [[1], "x"] }).request.inputs, [[1], "x"]);
    fails(() => parseCompletionRequest({ model: "m", prompt: [] }), "prompt", "empty_array");
    fails(() => parseCompletionRequest({ model: "m", prompt: [[]] }), "prompt[0]", "empty_array");
    fails(() => parseCompletionRequest({ model: "m", prompt: [1.5] }), "prompt[0]", "invalid_type");
    fails(() => parseEmbeddingRequest({ model: "m" }), "input", "missing_required_parameter");
  });

  it("reads the embedding encoding (default float) and dimensions", () => {
    assert.equal(parseEmbeddingRequest({ model: "m", input: "x" }).encoding, "float");
    assert.equal(parseEmbeddingRequest({ model: "m", input: "x", encoding_format: "base64" }).encoding, "base64");
    assert.equal(parseEmbeddingRequest({ model: "m", input: "x", dimensions: 8 }).request.dimensions, 8);
    fails(() => parseEmbeddingRequest({ model: "m", input: "x", encoding_format: "int8" }), "encoding_format");
  });
});
