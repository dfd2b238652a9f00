import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { MLmodelError } from "./errors.js";
import { checkAgainstSignature, checkValue, inferSchema, inferSignature } from "./signature-check.js";
import { parseSchemaJson, schemaToJson, type Schema } from "./signature.js";

describe("inferSignature", () => {
  it("types columns from plain objects: whole numbers long, others double, strings, booleans", () => {
    const signature = inferSignature(
      [
        { age: 31, income: 52000.5, name: "ada", member: true },
        { age: 45, income: 61000, name: "bob", member: false, note: "vip" },
      ],
      [0, 1],
    );
    assert.deepEqual(signature.inputs, {
      kind: "columns",
      columns: [
        { name: "age", type: "long", required: true },
        { name: "income", type: "double", required: true },
        { name: "name", type: "string", required: true },
        { name: "member", type: "boolean", required: true },
        { name: "note", type: "string", required: false },
      ],
    });
    assert.deepEqual(signature.outputs, { kind: "columns", columns: [{ type: "long", required: true }] });
    assert.equal(
      schemaToJson(signature.inputs),
      '[{"type": "long", "name": "age", "required": true}, {"type": "double", "name": "income", "required": true}, ' +
        '{"type": "string", "name": "name", "required": true}, {"type": "boolean", "name": "member", "required": true}, ' +
        '{"type": "string", "name": "note", "required": false}]',
    );
  });

  it("widens long to double, marks null columns optional, and types dates, bytes, lists and objects", () => {
    const schema = inferSchema([
      { x: 1, when: new Date(0), raw: new Uint8Array([1]), tags: ["a"], meta: { k: 1 } },
      { x: 1.5, when: null, raw: new Uint8Array([2]), tags: [], meta: { k: 2, j: "z" } },
    ]);
    assert.deepEqual(schema, {
      kind: "columns",
      columns: [
        { name: "x", type: "double", required: true },
        { name: "when", type: "datetime", required: false },
        { name: "raw", type: "binary", required: true },
        { name: "tags", type: { type: "array", items: "string" }, required: true },
        {
          name: "meta",
          type: {
            type: "object",
            properties: [
              { name: "j", type: "string", required: false },
              { name: "k", type: "long", required: true },
            ],
          },
          required: true,
        },
      ],
    });
  });

  it("names the row and column it cannot type", () => {
    const fails = (rows: unknown[], field: string, message: RegExp) =>
      assert.throws(
        () => inferSchema(rows),
        (e: unknown) => e instanceof MLmodelError && e.field === field && message.test(e.message),
      );
    fails([], "rows", /is empty/);
    fails([{ a: 1 }, "x"], "rows[1]", /must be a plain object, got a string/);
    fails([{ a: 1 }, { a: "one" }], "rows[1].a", /is string but earlier rows have long/);
    fails([{ a: null }, {}], "rows[*].a", /null in every row/);
    fails([{ a: [] }, { a: [null] }], "rows[*].a", /only empty lists/);
    fails([{ f: () => 1 }], "rows[0].f", /no signature can describe \(function\)/);
    assert.throws(() => inferSignature([{ a: 1 }], [1, "x"]), /outputs\[1\]: is string but earlier rows have long/);
  });
});

describe("checkAgainstSignature", () => {
  const schema = parseSchemaJson(
    '[{"type": "long", "name": "age", "required": true}, {"type": "double", "name": "income", "required": true}, ' +
      '{"type": "string", "name": "note", "required": false}, {"type": "array", "items": {"type": "string"}, "name": "tags", "required": false}]',
    "inputs",
  )!;

  it("accepts fitting rows (ints where doubles are expected, extra columns, absent optional ones)", () => {
    assert.deepEqual(
      checkAgainstSignature(
        [
          { age: 30, income: 1000, extra: "ignored" },
          { age: 31, income: 10.5, note: null, tags: ["a", "b"] },
        ],
        { inputs: schema },
      ),
      [],
    );
  });

  it("reports per column: missing required columns and wrong types, with every row", () => {
    const problems = checkAgainstSignature(
      [
        { age: 30, income: 1 },
        { income: 2 },
        { age: "31", income: 3 },
        { age: 32.5, income: 4 },
        { age: 33, income: 5, tags: ["a", 7] },
        { age: null },
        7,
      ],
      schema,
    );
    assert.deepEqual(
      problems.map((p) => [p.column, p.kind, p.rows, p.found]),
      [
        ["age", "missing", [1, 5], undefined],
        ["age", "wrong_type", [2], "a string ('31')"],
        ["age", "wrong_type", [3], "a number with a fraction (32.5)"],
        ["tags", "wrong_type", [4], "a list with an integer at [1]"],
        ["income", "missing", [5], undefined],
        ["*", "not_a_row", [6], "an integer"],
      ],
    );
    assert.equal(problems[0]!.message, "column 'age' (long) is required but missing in rows 1, 5 (2 of 7)");
    assert.equal(problems[1]!.message, "column 'age' expects long but got a string ('31') in row 2 (1 of 7)");
    assert.equal(
      problems[3]!.message,
      "column 'tags' expects array<string> but got a list with an integer at [1] in row 4 (1 of 7)",
    );
    assert.equal(problems[5]!.message, "row 6 (1 of 7): each row must be an object, got an integer");
  });

  it("summarises long row lists", () => {
    const rows = Array.from({ length: 9 }, () => ({ income: 1 }));
    const [problem] = checkAgainstSignature(rows, schema);
    assert.equal(
      problem!.message,
      "column 'age' (long) is required but missing in rows 0, 1, 2, 3, 4 and 4 more (9 of 9)",
    );
  });

  it("checks positional columns against arrays", () => {
    const positional = parseSchemaJson(
      '[{"type": "double", "required": true}, {"type": "string", "required": true}]',
      "s",
    )!;
    const problems = checkAgainstSignature([[1.5, "a"], [2, 3], { a: 1 }], positional);
    assert.deepEqual(
      problems.map((p) => p.message),
      [
        "column '#1' expects string but got an integer in row 1 (1 of 3)",
        "row 2 (1 of 3): each row must be a list of values, got a mapping",
      ],
    );
  });

  it("checks tensors: shape after the batch dimension, and element types", () => {
    const unnamed: Schema = { kind: "tensors", tensors: [{ dtype: "float32", shape: [-1, 2] }] };
    const problems = checkAgainstSignature([[1, 2.5], [1], [1, "x"], 3], unnamed);
    assert.deepEqual(
      problems.map((p) => p.found),
      ["a list of 1 where 2 values were expected", "a string ('x') at [1]", "an integer where a list was expected"],
    );
    assert.equal(problems[0]!.expected, "tensor<float32>[-1, 2]");
    const named: Schema = {
      kind: "tensors",
      tensors: [
        { name: "ids", dtype: "int64", shape: [-1, -1] },
        { name: "mask", dtype: "bool", shape: [-1, -1] },
      ],
    };
    assert.deepEqual(
      checkAgainstSignature([{ ids: [1, 2], mask: [true, false] }, { ids: [1.5] }], named).map((p) => p.message),
      [
        "column 'ids' expects tensor<int64>[-1, -1] but got a number with a fraction (1.5) at [0] in row 1 (1 of 2)",
        "column 'mask' (tensor<bool>[-1, -1]) is required but missing in row 1 (1 of 2)",
      ],
    );
  });

  it("checks every data type", () => {
    assert.equal(checkValue(2 ** 31, "integer"), "an integer beyond 32 bits (2147483648)");
    assert.equal(checkValue(2 ** 31, "long"), undefined);
    assert.equal(checkValue(true, "boolean"), undefined);
    assert.equal(checkValue("2024-06-20T09:12:33Z", "datetime"), undefined);
    assert.equal(checkValue("yesterday", "datetime"), "a string ('yesterday')");
    assert.equal(checkValue("aGVsbG8=", "binary"), undefined);
    assert.equal(checkValue({ a: 1, b: "x" }, { type: "map", values: "long" }), "a map with a string ('x') at 'b'");
    assert.equal(
      checkValue({ a: 1 }, { type: "object", properties: [{ name: "b", type: "string", required: true }] }),
      "an object without property 'b'",
    );
    assert.equal(checkValue([{}], { type: "any" }), undefined);
  });
});
