import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { MLmodelError } from "./errors.js";
import { parsePythonJson, pythonJson } from "./python-json.js";
import {
  describeColumnType,
  paramsToJson,
  parseParamsJson,
  parseSchemaJson,
  parseSignature,
  schemaToJson,
  signatureToBlock,
  type Schema,
} from "./signature.js";

function throwsField(fn: () => unknown, field: string, message: RegExp): void {
  assert.throws(fn, (error: unknown) => {
    assert.ok(error instanceof MLmodelError, `expected an MLmodelError, got ${String(error)}`);
    assert.equal(error.field, field);
    assert.match(error.message, message);
    return true;
  });
}

describe("schemas as JSON strings", () => {
  it("reads and writes column specs exactly as MLflow's Schema.to_json()", () => {
    const json =
      '[{"type": "double", "name": "sepal length (cm)", "required": true}, {"type": "string", "name": "note", "required": false}]';
    const schema = parseSchemaJson(json, "signature.inputs");
    assert.deepEqual(schema, {
      kind: "columns",
      columns: [
        { name: "sepal length (cm)", type: "double", required: true },
        { name: "note", type: "string", required: false },
      ],
    });
    assert.equal(schemaToJson(schema), json);
  });

  it("reads MLflow 1.x column specs (no `required`) as required", () => {
    const schema = parseSchemaJson('[{"name": "x", "type": "float"}]', "signature.inputs");
    assert.deepEqual(schema, { kind: "columns", columns: [{ name: "x", type: "float", required: true }] });
    assert.equal(schemaToJson(schema), '[{"type": "float", "name": "x", "required": true}]');
  });

  it("reads and writes tensor specs, named and unnamed", () => {
    const unnamed = '[{"type": "tensor", "tensor-spec": {"dtype": "float32", "shape": [-1, 28, 28, 1]}}]';
    assert.equal(schemaToJson(parseSchemaJson(unnamed, "f")!), unnamed);
    const named =
      '[{"name": "ids", "type": "tensor", "tensor-spec": {"dtype": "int64", "shape": [-1, 128]}}, {"name": "mask", "type": "tensor", "tensor-spec": {"dtype": "bool", "shape": [-1, 128]}}]';
    assert.equal(schemaToJson(parseSchemaJson(named, "f")!), named);
    assert.deepEqual(
      parseSchemaJson('[{"type": "tensor", "tensor-spec": {"dtype": "datetime64[ns]", "shape": [-1]}}]', "f"),
      {
        kind: "tensors",
        tensors: [{ dtype: "datetime64[ns]", shape: [-1] }],
      },
    );
  });

  it("reads and writes MLflow's composite column types (array, object, map, any)", () => {
    const json =
      '[{"type": "array", "items": {"type": "string"}, "name": "tags", "required": true}, ' +
      '{"type": "object", "properties": {"a": {"type": "long", "required": true}, "b": {"type": "array", "items": {"type": "double"}, "required": false}}, "name": "obj", "required": true}, ' +
      '{"type": "map", "values": {"type": "double"}, "name": "scores", "required": false}, ' +
      '{"type": "any", "name": "extra", "required": false}]';
    const schema = parseSchemaJson(json, "signature.inputs")!;
    assert.equal(schemaToJson(schema), json);
    assert.equal(schema.kind, "columns");
    const types = schema.kind === "columns" ? schema.columns.map((c) => describeColumnType(c.type)) : [];
    assert.deepEqual(types, ["array<string>", "object{a: long, b?: array<double>}", "map<double>", "any"]);
  });

  it("writes object properties sorted by name, as MLflow does", () => {
    const schema: Schema = {
      kind: "columns",
      columns: [
        {
          name: "o",
          required: true,
          type: {
            type: "object",
            properties: [
              { name: "z", type: "string", required: true },
              { name: "a", type: "long", required: false },
            ],
          },
        },
      ],
    };
    assert.equal(
      schemaToJson(schema),
      '[{"type": "object", "properties": {"a": {"type": "long", "required": false}, "z": {"type": "string", "required": true}}, "name": "o", "required": true}]',
    );
  });

  it("refuses schemas MLflow refuses, naming the entry", () => {
    throwsField(() => parseSchemaJson("[]", "signature.inputs"), "signature.inputs", /at least one/);
    throwsField(() => parseSchemaJson('{"type": "double"}', "signature.inputs"), "signature.inputs", /JSON list/);
    throwsField(() => parseSchemaJson("[1]", "signature.inputs"), "signature.inputs[0]", /got an integer/);
    throwsField(() => parseSchemaJson('[{"name": "x"}]', "signature.inputs"), "signature.inputs[0].type", /is missing/);
    throwsField(
      () =>
        parseSchemaJson(
          '[{"type": "double", "name": "x"}, {"type": "tensor", "tensor-spec": {"dtype": "int8", "shape": [-1]}}]',
          "s",
        ),
      "s",
      /mixes column specs and tensor specs/,
    );
    throwsField(
      () => parseSchemaJson('[{"type": "double", "name": "x"}, {"type": "double"}]', "s"),
      "s",
      /mixes named and unnamed/,
    );
    throwsField(
      () => parseSchemaJson('[{"type": "double", "name": "x"}, {"type": "long", "name": "x"}]', "s"),
      "s",
      /names 'x' twice/,
    );
    throwsField(
      () =>
        parseSchemaJson(
          '[{"type": "tensor", "tensor-spec": {"dtype": "int8", "shape": [-1]}}, {"type": "tensor", "tensor-spec": {"dtype": "int8", "shape": [-1]}}]',
          "s",
        ),
      "s",
      /several unnamed tensors/,
    );
    throwsField(() => parseSchemaJson('[{"type": "double", "required": false}]', "s"), "s", /optional unnamed column/);
    throwsField(
      () => parseSchemaJson('[{"type": "tensor", "tensor-spec": {"dtype": "float32"}}]', "s"),
      "s[0].tensor-spec.shape",
      /is missing/,
    );
    throwsField(
      () => parseSchemaJson('[{"type": "tensor", "tensor-spec": {"dtype": "float32", "shape": [-1, 2.5]}}]', "s"),
      "s[0].tensor-spec.shape[1]",
      /got 2\.5/,
    );
    throwsField(
      () => parseSchemaJson('[{"type": "array", "name": "a"}]', "s"),
      "s[0].items",
      /type spec of the array's items/,
    );
    throwsField(
      () => parseSchemaJson('[{"type": "array", "items": {"type": "str"}, "name": "a"}]', "s"),
      "s[0].items.type",
      /'str' is not an MLflow column type/,
    );
    throwsField(
      () => parseSchemaJson('[{"type": "double", "name": "x", "required": "yes"}]', "s"),
      "s[0].required",
      /true or false/,
    );
    throwsField(() => parseSchemaJson('[{"type": "double", "name": 3}]', "s"), "s[0].name", /must be a string/);
  });
});

describe("params", () => {
  it("reads and writes parameter specs as MLflow's ParamSchema.to_json()", () => {
    const json =
      '[{"name": "temperature", "default": 0.7, "shape": null, "type": "float"}, {"name": "stop", "default": ["\\n"], "shape": [-1], "type": "string"}]';
    const params = parseParamsJson(json, "signature.params")!;
    assert.deepEqual(params, [
      { name: "temperature", type: "float", default: 0.7, shape: null },
      { name: "stop", type: "string", default: ["\n"], shape: [-1] },
    ]);
    assert.equal(paramsToJson(params), json);
  });

  it("reads the older `dtype` spelling and refuses bad specs", () => {
    assert.deepEqual(parseParamsJson('[{"name": "k", "dtype": "long", "default": 3}]', "p"), [
      { name: "k", type: "long", default: 3, shape: null },
    ]);
    throwsField(
      () => parseParamsJson('[{"name": "k", "type": "binary", "default": ""}]', "p"),
      "p[0].type",
      /'binary' is not a parameter type/,
    );
    throwsField(() => parseParamsJson('[{"name": "k", "type": "long"}]', "p"), "p[0].default", /is missing/);
    throwsField(
      () => parseParamsJson('[{"name": "k", "type": "long", "default": 1, "shape": [2]}]', "p"),
      "p[0].shape",
      /null .* or \[-1\]/,
    );
    throwsField(
      () =>
        parseParamsJson(
          '[{"name": "k", "type": "long", "default": 1}, {"name": "k", "type": "long", "default": 2}]',
          "p",
        ),
      "p",
      /names parameter 'k' twice/,
    );
  });
});

describe("signature blocks", () => {
  it("reads inputs, outputs and params, and writes nulls for absent parts", () => {
    const block = {
      inputs: '[{"type": "string", "name": "text", "required": true}]',
      outputs: null,
      params: null,
    };
    const signature = parseSignature(block);
    assert.deepEqual(signature, {
      inputs: { kind: "columns", columns: [{ name: "text", type: "string", required: true }] },
    });
    assert.deepEqual(signatureToBlock(signature), block);
    throwsField(() => parseSignature("inputs"), "signature", /must be a mapping/);
  });
});

describe("Python-compatible JSON", () => {
  it("writes like json.dumps: spaced separators, ASCII escapes, NaN", () => {
    assert.equal(
      pythonJson({ a: [1, 2.5, null, true], é: "naïve ✓" }),
      '{"a": [1, 2.5, null, true], "\\u00e9": "na\\u00efve \\u2713"}',
    );
    assert.equal(pythonJson([NaN, Infinity, -Infinity, 1e-7]), "[NaN, Infinity, -Infinity, 1e-07]");
  });

  it("reads NaN and Infinity outside strings only", () => {
    const parsed = parsePythonJson('[NaN, -Infinity, "NaN, Infinity", {"x": Infinity}]') as unknown[];
    assert.ok(Number.isNaN(parsed[0]));
    assert.equal(parsed[1], -Infinity);
    assert.equal(parsed[2], "NaN, Infinity");
    assert.deepEqual(parsed[3], { x: Infinity });
    assert.throws(() => parsePythonJson("[NaNa]"), SyntaxError);
  });
});
