/**
 * Tool calling on `/v1/chat/completions` against a real server on the tiny random-weight model, with the
 * `openai` client. The model's choices are noise; the grammar guarantees the shape of a forced call, so
 * the checks are on shapes, schema conformance, streaming reassembly and errors — never on what it says.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import OpenAI from "openai";
import type { ChatCompletionTool } from "openai/resources/chat/completions";
import { startLlmTestServer, writeTinyModel, type LlmTestServer, type TinyModel } from "../testing/llm-test-server.js";

const WEATHER: ChatCompletionTool = {
  type: "function",
  function: {
    name: "get_weather",
    description: "The weather in a city",
    parameters: {
      type: "object",
      properties: {
        city: { type: "string", enum: ["Paris", "Oslo", "Lima"] },
        unit: { type: "string", enum: ["celsius", "fahrenheit"] },
        days: { type: "integer", enum: [1, 2, 3] },
      },
      required: ["city", "unit", "days"],
      additionalProperties: false,
    },
  },
};
const TIME: ChatCompletionTool = {
  type: "function",
  function: {
    name: "get_time",
    parameters: {
      type: "object",
      properties: { zone: { enum: ["UTC", "CET"] }, precise: { type: "boolean" } },
      required: ["zone", "precise"],
      additionalProperties: false,
    },
  },
};
const ASK = [{ role: "user" as const, content: "What is the weather in Paris?" }];

/** Checks arguments against the two tools' schemas above (all fields required, closed objects). */
function assertArguments(name: string, text: string): Record<string, unknown> {
  const args = JSON.parse(text) as Record<string, unknown>;
  if (name === "get_weather") {
    assert.deepEqual(Object.keys(args).sort(), ["city", "days", "unit"]);
    assert.ok(["Paris", "Oslo", "Lima"].includes(args.city as string), text);
    assert.ok(["celsius", "fahrenheit"].includes(args.unit as string), text);
    assert.ok([1, 2, 3].includes(args.days as number), text);
  } else {
    assert.equal(name, "get_time");
    assert.deepEqual(Object.keys(args).sort(), ["precise", "zone"]);
    assert.ok(["UTC", "CET"].includes(args.zone as string), text);
    assert.equal(typeof args.precise, "boolean");
  }
  return args;
}

describe("tool calling", () => {
  let model: TinyModel;
  let server: LlmTestServer;
  let client: OpenAI;

  before(async () => {
    model = await writeTinyModel();
    server = await startLlmTestServer({ modelPath: model.path, parallel: 2, contextSize: 1024 });
    client = new OpenAI({ baseURL: server.baseURL, apiKey: "unused", maxRetries: 0 });
  });
  after(async () => {
    await server.close();
    await model.remove();
  });

  it("calls the named function with arguments that match its schema", async () => {
    for (const seed of [1, 2, 3]) {
      const res: OpenAI.ChatCompletion = await client.chat.completions.create({
        model: "tiny",
        messages: ASK,
        tools: [WEATHER, TIME],
        tool_choice: { type: "function", function: { name: "get_weather" } },
        max_tokens: 200,
        seed,
      });
      const choice: OpenAI.ChatCompletion.Choice | undefined = res.choices[0];
      assert.equal(choice!.finish_reason, "tool_calls");
      assert.equal(choice!.message.content, null);
      const calls = choice!.message.tool_calls!;
      assert.equal(calls.length, 1);
      const call = calls[0]!;
      assert.equal(call.type, "function");
      assert.match(call.id, /^call_[0-9a-f]{24}$/);
      assert.ok(call.type === "function");
      assert.equal(call.function.name, "get_weather");
      assertArguments(call.function.name, call.function.arguments);
    }
  });

  it("compiles tools whose parameters use $defs", async () => {
    const res: OpenAI.ChatCompletion = await client.chat.completions.create({
      model: "tiny",
      messages: ASK,
      tools: [
        WEATHER,
        {
          type: "function",
          function: {
            name: "convert",
            parameters: {
              type: "object",
              properties: { from: { $ref: "#/$defs/unit" }, to: { $ref: "#/$defs/unit" } },
              required: ["from", "to"],
              additionalProperties: false,
              $defs: { unit: { enum: ["c", "f", "k"] } },
            },
          },
        },
      ],
      tool_choice: { type: "function", function: { name: "convert" } },
      max_tokens: 100,
      seed: 1,
    });
    const call = res.choices[0]!.message.tool_calls![0]!;
    assert.ok(call.type === "function");
    assert.equal(call.function.name, "convert");
    const args = JSON.parse(call.function.arguments) as { from: string; to: string };
    assert.deepEqual(Object.keys(args).sort(), ["from", "to"]);
    assert.ok(["c", "f", "k"].includes(args.from) && ["c", "f", "k"].includes(args.to), call.function.arguments);
  });

  it("with 'required', calls one of the tools", async () => {
    const names = new Set<string>();
    for (const seed of [1, 2, 3]) {
      const res: OpenAI.ChatCompletion = await client.chat.completions.create({
        model: "tiny",
        messages: ASK,
        tools: [WEATHER, TIME],
        tool_choice: "required",
        max_tokens: 200,
        seed,
        n: 2,
      });
      assert.equal(res.choices.length, 2);
      for (const choice of res.choices) {
        assert.equal(choice.finish_reason, "tool_calls");
        const call = choice.message.tool_calls![0]!;
        assert.ok(call.type === "function");
        names.add(call.function.name);
        assertArguments(call.function.name, call.function.arguments);
      }
    }
    assert.ok([...names].every((n) => n === "get_weather" || n === "get_time"));
  });

  it("streams tool-call deltas that reassemble to the same call as the whole response", async () => {
    const body = {
      model: "tiny",
      messages: ASK,
      tools: [WEATHER, TIME],
      tool_choice: "required" as const,
      max_tokens: 200,
      seed: 7,
      temperature: 0.8,
    };
    const whole = await client.chat.completions.create(body);
    const expected = whole.choices[0]!.message.tool_calls![0]!;
    const stream = await client.chat.completions.create({ ...body, stream: true });
    let id = "";
    let name = "";
    let args = "";
    let headers = 0;
    let argumentChunks = 0;
    let finish: string | null = null;
    for await (const chunk of stream) {
      const choice = chunk.choices[0];
      if (!choice) continue;
      for (const delta of choice.delta.tool_calls ?? []) {
        assert.equal(delta.index, 0);
        if (delta.id !== undefined) {
          headers++;
          id = delta.id;
          assert.equal(delta.type, "function");
          name = delta.function!.name!;
          assert.equal(delta.function!.arguments, "");
        } else {
          argumentChunks++;
          args += delta.function!.arguments;
        }
      }
      if (choice.finish_reason) finish = choice.finish_reason;
    }
    assert.equal(headers, 1);
    assert.ok(argumentChunks > 1, "arguments arrive in several pieces");
    assert.match(id, /^call_/);
    assert.equal(finish, "tool_calls");
    assert.ok(expected.type === "function");
    assert.equal(name, expected.function.name);
    assert.equal(args, expected.function.arguments);
    assertArguments(name, args);
  });

  it("accepts the tool's result in a follow-up conversation", async () => {
    const first = await client.chat.completions.create({
      model: "tiny",
      messages: ASK,
      tools: [WEATHER],
      tool_choice: "required",
      max_tokens: 200,
      seed: 3,
    });
    const call = first.choices[0]!.message.tool_calls![0]!;
    const followUp = await client.chat.completions.create({
      model: "tiny",
      messages: [
        ...ASK,
        { role: "assistant", content: null, tool_calls: [call] },
        { role: "tool", tool_call_id: call.id, content: '{"temperature": 21, "sky": "clear"}' },
      ],
      tools: [WEATHER],
      tool_choice: "none",
      max_tokens: 8,
      ignore_eos: true,
    } as OpenAI.ChatCompletionCreateParamsNonStreaming);
    const choice = followUp.choices[0]!;
    assert.equal(choice.finish_reason, "length");
    assert.equal(typeof choice.message.content, "string");
    assert.equal(choice.message.tool_calls, undefined);
    // the call and its result are in the prompt: longer than the question alone
    const plain = await client.chat.completions.create({ model: "tiny", messages: ASK, max_tokens: 1 });
    assert.ok(followUp.usage!.prompt_tokens > plain.usage!.prompt_tokens + 20);
  });

  it("with 'auto', answers either in text or with a well-formed call", async () => {
    for (const seed of [1, 2]) {
      const res: OpenAI.ChatCompletion = await client.chat.completions.create({
        model: "tiny",
        messages: ASK,
        tools: [WEATHER],
        max_tokens: 16,
        seed,
      });
      const message = res.choices[0]!.message;
      if (message.tool_calls) {
        assert.equal(res.choices[0]!.finish_reason, "tool_calls");
        assert.equal(message.content, null);
      } else {
        assert.equal(typeof message.content, "string");
        assert.notEqual(res.choices[0]!.finish_reason, "tool_calls");
      }
    }
  });

  it("answers bad tool fields with a 400 naming the field", async () => {
    const cases: [Record<string, unknown>, string, RegExp][] = [
      [{ tools: [WEATHER], tool_choice: { type: "function", function: { name: "nope" } } }, "tool_choice", /nope/],
      [{ tools: [WEATHER], tool_choice: "sometimes" }, "tool_choice", /sometimes/],
      [{ tool_choice: "required" }, "tool_choice", /only allowed when 'tools'/],
      [{ tools: {} }, "tools", /expected an array/],
      [{ tools: [{ type: "retrieval" }] }, "tools[0].type", /function/],
      [{ tools: [{ type: "function", function: { name: "bad name" } }] }, "tools[0].function.name", /pattern/],
      [
        { tools: [{ type: "function", function: { name: "f", parameters: { type: "string" } } }] },
        "tools[0].function.parameters",
        /type: "object"/,
      ],
      [
        {
          tools: [
            {
              type: "function",
              function: {
                name: "f",
                parameters: { type: "object", properties: { a: { type: "number", minimum: 1 } } },
              },
            },
          ],
        },
        "tools[0].function.parameters",
        /properties\/a\/minimum/,
      ],
      [{ tools: [WEATHER, WEATHER] }, "tools[1].function.name", /twice/],
      [
        { messages: [...ASK, { role: "tool", tool_call_id: "call_x", content: "1" }] },
        "messages[1].tool_call_id",
        /preceding message with 'tool_calls'/,
      ],
      [{ messages: [...ASK, { role: "tool", content: "1" }] }, "messages[1].tool_call_id", /Missing/],
      [
        {
          messages: [
            ...ASK,
            { role: "assistant", tool_calls: [{ id: "c", type: "function", function: { name: "f" } }] },
          ],
        },
        "messages[1].tool_calls[0].function.arguments",
        /Missing/,
      ],
    ];
    for (const [extra, param, message] of cases) {
      const res = await fetch(`${server.baseURL}/chat/completions`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ model: "tiny", messages: ASK, max_tokens: 4, ...extra }),
      });
      assert.equal(res.status, 400, JSON.stringify(extra));
      const body = (await res.json()) as { error: { param: string; message: string; type: string } };
      assert.equal(body.error.type, "invalid_request_error");
      assert.equal(body.error.param, param, body.error.message);
      assert.match(body.error.message, message);
    }
    // and the server still answers
    const ok = await client.chat.completions.create({ model: "tiny", messages: ASK, max_tokens: 2 });
    assert.equal(ok.choices.length, 1);
  });
});
