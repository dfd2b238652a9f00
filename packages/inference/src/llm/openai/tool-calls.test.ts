import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ToolCallDecoder, decodeToolChoice, type ToolDelta } from "./tool-calls.js";

const NAMES = new Set(["get_weather", "get_time"]);

/** Feeds `pieces` one by one and returns every delta, the finish's included. */
function feed(decoder: ToolCallDecoder, pieces: string[], reason: "stop" | "length" = "stop") {
  const deltas: ToolDelta[] = [];
  for (const piece of pieces) deltas.push(...decoder.push(piece));
  const end = decoder.finish(reason);
  return { deltas: [...deltas, ...end.deltas], reason: end.reason };
}

describe("ToolCallDecoder", () => {
  it("streams a forced call: header once the name is complete, then the arguments without the outer brace", () => {
    const decoder = new ToolCallDecoder("forced", NAMES);
    assert.deepEqual(decoder.push('{"name": "get_'), []);
    const header = decoder.push('weather", "arguments": {"city"');
    assert.equal(header[0]!.kind, "call");
    assert.ok(
      header[0]!.kind === "call" && header[0]!.name === "get_weather" && /^call_[0-9a-f]{24}$/.test(header[0]!.id),
    );
    assert.deepEqual(header.slice(1), [{ kind: "arguments", text: '{"city"' }]);
    // a closing brace is held back until it is known not to be the last
    assert.deepEqual(decoder.push(': "Oslo"}'), [{ kind: "arguments", text: ': "Oslo"' }]);
    assert.deepEqual(decoder.push(" }\n"), [{ kind: "arguments", text: "}" }]);
    assert.deepEqual(decoder.finish("stop"), { deltas: [], reason: "tool_calls" });
  });

  it("keeps 'length' and the partial arguments of a call cut short", () => {
    const { deltas, reason } = feed(
      new ToolCallDecoder("forced", NAMES),
      ['{"name":"get_time","arguments":{"zone":"U'],
      "length",
    );
    assert.equal(reason, "length");
    assert.equal(
      deltas
        .filter((d) => d.kind === "arguments")
        .map((d) => (d as { text: string }).text)
        .join(""),
      '{"zone":"U',
    );
  });

  it("in auto mode, streams text at once unless it starts with '{'", () => {
    const text = feed(new ToolCallDecoder("auto", NAMES), ["  ", "Hello", " {there}"]);
    assert.deepEqual(text.deltas, [
      { kind: "content", text: "  Hello" },
      { kind: "content", text: " {there}" },
    ]);
    assert.equal(text.reason, "stop");
    const call = decodeToolChoice("auto", NAMES, ' {"name": "get_time", "arguments": {"zone": "CET"}}', "stop");
    assert.equal(call.content, null);
    assert.equal(call.finish, "tool_calls");
    assert.equal(call.toolCalls[0]!.function.name, "get_time");
    assert.equal(call.toolCalls[0]!.function.arguments, '{"zone": "CET"}');
  });

  it("in auto mode, JSON that is not a call of a known tool is text", () => {
    for (const text of ['{"name": "other", "arguments": {}}', '{"name": "get_time"}', '{"a": 1', "{}"]) {
      const out = decodeToolChoice("auto", NAMES, text, "stop");
      assert.equal(out.content, text);
      assert.deepEqual(out.toolCalls, []);
      assert.equal(out.finish, "stop");
    }
  });
});
