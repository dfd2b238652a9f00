/** The upstream wire's pieces: SSE framing, chunks → events, request bodies, errors, balancing, Retry-After. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { DEFAULT_SAMPLING } from "../engine/llm-provider.contract.js";
import type { GenerationEvent } from "../engine/llm-provider.js";
import { SseDecoder } from "./sse-decoder.js";
import { retryAfterMs } from "./upstream-http.js";
import {
  ChunkDecoder,
  UpstreamProtocolError,
  UpstreamStreamError,
  chatBody,
  errorBody,
  eventsOfResponse,
  vectorsOfEmbeddings,
} from "./upstream-wire.js";
import { WeightedPicker } from "./weighted-picker.js";

describe("SseDecoder", () => {
  it("splits events anywhere, across chunks and multi-byte characters, with any line end", () => {
    const text =
      'data: {"a":1}\n\n: keep-alive\n\ndata: {"b":"é"}\r\n\r\nevent: error\ndata: line1\ndata: line2\r\rdata: [DONE]\n\n';
    const bytes = Buffer.from(text);
    for (const size of [1, 2, 3, 7, bytes.length]) {
      const decoder = new SseDecoder();
      const events = [];
      for (let i = 0; i < bytes.length; i += size) events.push(...decoder.push(bytes.subarray(i, i + size)));
      events.push(...decoder.end());
      assert.deepEqual(
        events,
        [
          { event: undefined, data: '{"a":1}' },
          { event: undefined, data: '{"b":"é"}' },
          { event: "error", data: "line1\nline2" },
          { event: undefined, data: "[DONE]" },
        ],
        `chunks of ${size}`,
      );
    }
  });

  it("dispatches an event left open at the end of the body", () => {
    const decoder = new SseDecoder();
    assert.deepEqual(decoder.push("data:x"), []);
    assert.deepEqual(decoder.end(), [{ event: undefined, data: "x" }]);
  });
});

describe("ChunkDecoder", () => {
  const chunk = (choices: unknown[], extra = {}) => JSON.stringify({ id: "c", choices, ...extra });

  it("turns chat chunks into text and finish events, holding usage for the end", () => {
    const decoder = new ChunkDecoder("chat", 2);
    const events: GenerationEvent[] = [];
    events.push(...decoder.events(chunk([{ index: 0, delta: { role: "assistant", content: "" } }])));
    events.push(...decoder.events(chunk([{ index: 1, delta: { content: "Hi" } }])));
    events.push(...decoder.events(chunk([{ index: 0, delta: { content: "Yo" }, finish_reason: null }])));
    events.push(
      ...decoder.events(
        chunk([{ index: 0, delta: {}, finish_reason: "length" }], {
          usage: { prompt_tokens: 7, completion_tokens: 2 },
        }),
      ),
    );
    events.push(...decoder.events(chunk([{ index: 1, delta: {}, finish_reason: "tool_calls" }])));
    events.push(...decoder.finish());
    assert.deepEqual(events, [
      { type: "text", choice: 1, text: "Hi" },
      { type: "text", choice: 0, text: "Yo" },
      { type: "finish", choice: 0, reason: "length" },
      { type: "finish", choice: 1, reason: "stop" },
      { type: "usage", usage: { promptTokens: 7, completionTokens: 2 } },
    ]);
    assert.equal(decoder.promptTokens, 7);
  });

  it("finishes open choices and counts chunks as tokens when the upstream sent no usage", () => {
    const decoder = new ChunkDecoder("completion", 1);
    assert.deepEqual(decoder.events(chunk([{ index: 0, text: "a" }])), [{ type: "text", choice: 0, text: "a" }]);
    decoder.events(chunk([{ index: 0, text: "b" }]));
    assert.deepEqual(decoder.finish(), [
      { type: "finish", choice: 0, reason: "stop" },
      { type: "usage", usage: { promptTokens: 0, completionTokens: 2 } },
    ]);
  });

  it("refuses what it cannot read, and reports an error event", () => {
    const decoder = new ChunkDecoder("chat", 1);
    assert.throws(() => decoder.events("{oops"), UpstreamProtocolError);
    assert.throws(
      () => decoder.events(chunk([{ index: 3, delta: { content: "x" } }])),
      /choice index 3 is outside 0…0/,
    );
    assert.throws(
      () => decoder.events(JSON.stringify({ error: { message: "model crashed", code: 500 } })),
      (error: unknown) => error instanceof UpstreamStreamError && error.body.code === "500",
    );
  });
});

describe("whole answers and errors", () => {
  it("events of a whole chat answer, usage last", () => {
    const { events } = eventsOfResponse(
      "chat",
      {
        choices: [
          { index: 1, message: { content: "b" }, finish_reason: "length" },
          { index: 0, message: { content: "a" }, finish_reason: "stop" },
        ],
        usage: { prompt_tokens: 5, completion_tokens: 9 },
      },
      2,
    );
    assert.deepEqual(events, [
      { type: "text", choice: 0, text: "a" },
      { type: "finish", choice: 0, reason: "stop" },
      { type: "text", choice: 1, text: "b" },
      { type: "finish", choice: 1, reason: "length" },
      { type: "usage", usage: { promptTokens: 5, completionTokens: 9 } },
    ]);
    assert.throws(() => eventsOfResponse("chat", { nope: 1 }, 1), /no 'choices' list/);
  });

  it("reads OpenAI's, vLLM's and plain error bodies", () => {
    assert.deepEqual(
      errorBody({ error: { message: "bad", type: "invalid_request_error", param: "n", code: "x" } }, "f"),
      {
        message: "bad",
        type: "invalid_request_error",
        param: "n",
        code: "x",
      },
    );
    assert.equal(errorBody({ detail: "Not Found" }, "f").message, "Not Found");
    assert.equal(errorBody({ error: "Input validation error" }, "f").message, "Input validation error");
    assert.equal(errorBody("<html>", "fallback").message, "fallback");
  });

  it("reads embeddings as floats or base64, in index order", () => {
    const b64 = Buffer.from(new Float32Array([0.5, -1]).buffer).toString("base64");
    const { vectors, promptTokens } = vectorsOfEmbeddings(
      {
        data: [
          { index: 1, embedding: b64 },
          { index: 0, embedding: [1, 2] },
        ],
        usage: { prompt_tokens: 4 },
      },
      2,
    );
    assert.deepEqual(
      vectors.map((v) => [...v]),
      [
        [1, 2],
        [0.5, -1],
      ],
    );
    assert.equal(promptTokens, 4);
    assert.throws(() => vectorsOfEmbeddings({ data: [{ index: 0, embedding: [1] }] }, 2), /no embedding for input 1/);
  });

  it("sends only what differs from OpenAI's defaults or was given, passes unknown fields, drops tool fields", () => {
    const body = JSON.parse(
      chatBody(
        {
          model: "big",
          messages: [{ role: "user", content: "hi" }],
          n: 1,
          sampling: { ...DEFAULT_SAMPLING, maxTokens: 5, seed: 3, stop: ["x"], ignoreEos: true },
          raw: { model: "big", temperature: 1, tools: [], chat_template_kwargs: { thinking: false }, stream: true },
        },
        "Qwen/Qwen2.5",
        true,
      ),
    ) as Record<string, unknown>;
    assert.deepEqual(body, {
      chat_template_kwargs: { thinking: false },
      model: "Qwen/Qwen2.5",
      messages: [{ role: "user", content: "hi" }],
      max_tokens: 5,
      temperature: 1,
      seed: 3,
      stop: ["x"],
      ignore_eos: true,
      stream: true,
      stream_options: { include_usage: true },
    });
  });
});

describe("WeightedPicker", () => {
  it("gives each candidate its weight's share, spread out, within one pick over any run", () => {
    const a = { weight: 3, name: "a" };
    const b = { weight: 1, name: "b" };
    const c = { weight: 2, name: "c" };
    const picker = new WeightedPicker<typeof a>();
    const picks = Array.from({ length: 600 }, () => picker.pick([a, b, c])!.name);
    for (let end = 1; end <= picks.length; end++) {
      const run = picks.slice(0, end);
      for (const t of [a, b, c]) {
        const share = (end * t.weight) / 6;
        assert.ok(Math.abs(run.filter((n) => n === t.name).length - share) <= 1, `${t.name} after ${end}`);
      }
    }
    assert.deepEqual(picks.slice(0, 6), ["a", "c", "a", "b", "c", "a"]);
    assert.equal(new WeightedPicker().pick([]), undefined);
  });
});

describe("retryAfterMs", () => {
  it("reads seconds and HTTP dates", () => {
    assert.equal(retryAfterMs("2"), 2000);
    assert.equal(retryAfterMs("0.5"), 500);
    assert.equal(retryAfterMs(new Date(10_000).toUTCString(), 4_000), 6000);
    assert.equal(retryAfterMs("soon"), undefined);
    assert.equal(retryAfterMs(undefined), undefined);
  });
});
