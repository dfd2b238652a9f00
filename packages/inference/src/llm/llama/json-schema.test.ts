import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { LlmError } from "../errors.js";
import { toGrammarSchema } from "./json-schema.js";

function refused(schema: Record<string, unknown>, where: RegExp): void {
  assert.throws(
    () => toGrammarSchema(schema),
    (error: unknown) =>
      error instanceof LlmError &&
      error.status === 400 &&
      error.code === "invalid_json_schema" &&
      error.param === "response_format.json_schema.schema" &&
      where.test(error.message),
  );
}

describe("toGrammarSchema", () => {
  it("keeps what node-llama-cpp enforces and drops annotations", () => {
    assert.deepEqual(
      toGrammarSchema({
        $schema: "https://json-schema.org/draft/2020-12/schema",
        title: "Card",
        type: "object",
        properties: {
          name: { type: "string", maxLength: 8, description: "a name" },
          when: { type: "string", format: "date" },
          size: { enum: ["s", "m", 3, null] },
          kind: { const: "card" },
          tags: { type: "array", items: { type: "integer" }, minItems: 1, maxItems: 3 },
        },
        required: ["name"],
        additionalProperties: false,
      }),
      {
        type: "object",
        properties: {
          name: { type: "string", maxLength: 8 },
          when: { type: "string", format: "date" },
          size: { enum: ["s", "m", 3, null] },
          kind: { const: "card" },
          tags: { type: "array", items: { type: "integer" }, minItems: 1, maxItems: 3 },
        },
        required: ["name"],
        additionalProperties: false,
      },
    );
  });

  it("turns type lists, anyOf and nullable objects into what the compiler takes", () => {
    assert.deepEqual(toGrammarSchema({ type: ["string", "null"] }), { type: ["string", "null"] });
    assert.deepEqual(toGrammarSchema({ anyOf: [{ type: "string" }, { type: "number" }] }), {
      oneOf: [{ type: "string" }, { type: "number" }],
    });
    assert.deepEqual(toGrammarSchema({ type: ["object", "null"], properties: { a: { type: "boolean" } } }), {
      oneOf: [{ type: "object", properties: { a: { type: "boolean" } } }, { type: "null" }],
    });
  });

  it("moves definitions to $defs and checks references", () => {
    assert.deepEqual(
      toGrammarSchema({
        type: "object",
        properties: { p: { $ref: "#/definitions/Point" } },
        definitions: { Point: { type: "array", prefixItems: [{ type: "number" }, { type: "number" }] } },
      }),
      {
        type: "object",
        properties: { p: { $ref: "#/$defs/Point" } },
        $defs: { Point: { type: "array", prefixItems: [{ type: "number" }, { type: "number" }] } },
      },
    );
  });

  it("refuses what cannot be enforced, saying where", () => {
    refused({ type: "wizard" }, /'#\/type': unknown type 'wizard'/);
    refused({ type: "string", pattern: "^a$" }, /'#\/pattern': 'pattern' cannot be enforced/);
    refused({ type: "object", properties: { n: { type: "number", minimum: 0 } } }, /#\/properties\/n\/minimum/);
    refused({ allOf: [{ type: "string" }] }, /#\/allOf/);
    refused({ type: "string", format: "email" }, /format "email" cannot be enforced/);
    refused({ $ref: "#/$defs/missing" }, /names no definition/);
    refused({ $ref: "https://example.com/schema" }, /only references to/);
    refused({ type: "object", properties: { a: { type: "string" } }, required: ["b"] }, /'b' is required/);
    refused({ type: "array", minItems: 3, maxItems: 1 }, /minItems is larger than maxItems/);
    refused({ enum: [] }, /non-empty list/);
    refused({ enum: [{ a: 1 }] }, /only strings, numbers, booleans and null/);
    refused({ type: "string", maxLength: -1 }, /non-negative integer/);
    refused({ oneOf: 3 }, /non-empty list of schemas/);
  });

  it("refuses schemas nested too deep", () => {
    let schema: Record<string, unknown> = { type: "string" };
    for (let i = 0; i < 40; i++) schema = { type: "array", items: schema };
    refused(schema, /deeper than 32 levels/);
  });
});
