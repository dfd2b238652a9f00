import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { ToolDefinition } from "../engine/llm-provider.js";
import { toolCallSchema } from "./tool-grammar.js";

const tool = (name: string, parameters: ToolDefinition["parameters"]): ToolDefinition => ({
  name,
  description: undefined,
  parameters,
});

describe("toolCallSchema", () => {
  const a = tool("a", { type: "object", properties: { x: { type: "integer" } }, required: ["x"] });
  const b = tool("b", {
    type: "object",
    properties: { p: { $ref: "#/$defs/point" } },
    $defs: { point: { type: "object", properties: { lat: { type: "number" } } } },
  });

  it("forces nothing for none and auto", () => {
    assert.equal(toolCallSchema([a], { type: "none" }), undefined);
    assert.equal(toolCallSchema([a], { type: "auto" }), undefined);
  });

  it("names the function first, then its arguments schema; closed object", () => {
    const schema = toolCallSchema([a, b], { type: "function", name: "a" }) as Record<string, unknown>;
    assert.deepEqual(schema, {
      type: "object",
      properties: {
        name: { const: "a" },
        arguments: { type: "object", properties: { x: { type: "integer" } }, required: ["x"] },
      },
      required: ["name", "arguments"],
      additionalProperties: false,
    });
    assert.deepEqual(Object.keys(schema.properties as object), ["name", "arguments"]);
  });

  it("offers one alternative per tool for required, with $defs hoisted and renamed", () => {
    const schema = toolCallSchema([a, b], { type: "required" }) as {
      oneOf: { properties: { name: unknown; arguments: { properties?: Record<string, unknown> } } }[];
      $defs: Record<string, unknown>;
    };
    assert.deepEqual(
      schema.oneOf.map((alt) => alt.properties.name),
      [{ const: "a" }, { const: "b" }],
    );
    assert.deepEqual(schema.oneOf[1]!.properties.arguments.properties!.p, { $ref: "#/$defs/b-point" });
    assert.deepEqual(Object.keys(schema.$defs), ["b-point"]);
  });
});
