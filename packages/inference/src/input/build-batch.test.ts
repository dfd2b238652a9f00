import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { InferenceError } from "../errors.js";
import type { ColumnBatch, PredictorSignature, TensorBatch } from "../predictors/predictor.js";
import { compileBatchBuilder } from "./build-batch.js";
import { parseCsv } from "./csv.js";
import type { RawInput } from "./raw-input.js";

const textSignature: PredictorSignature = {
  inputs: { kind: "columns", columns: [{ name: "text", type: "string", required: true }] },
};

const tableSignature: PredictorSignature = {
  inputs: {
    kind: "columns",
    columns: [
      { name: "age", type: "long", required: true },
      { name: "income", type: "double", required: true },
      { name: "score", type: "float", required: false },
      { name: "member", type: "boolean", required: false },
      { name: "tags", type: { type: "array", items: "string" }, required: false },
      { name: "city", type: "string", required: false },
    ],
  },
};

const tensorSignature: PredictorSignature = {
  inputs: { kind: "tensors", tensors: [{ name: "input", dtype: "float32", shape: [-1, 4] }] },
};

const columns = (entries: Record<string, unknown[]>, text = false): RawInput => {
  const map = new Map(Object.entries(entries));
  const rows = map.values().next().value?.length ?? 0;
  return text ? { form: "columns", rows, columns: map, text } : { form: "columns", rows, columns: map };
};

function rejects(fn: () => unknown, message: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof InferenceError, `expected an InferenceError, got ${String(e)}`);
    assert.equal(e.status, 400);
    assert.equal(e.code, "BAD_REQUEST");
    assert.match(e.message, message);
    return true;
  });
}

describe("column signatures", () => {
  const text = compileBatchBuilder(textSignature);
  const table = compileBatchBuilder(tableSignature);

  it("takes a column of strings as it is", () => {
    const values = ["free money", "see you at 5"];
    const batch = text(columns({ text: values })) as ColumnBatch;
    assert.equal(batch.kind, "columns");
    assert.equal(batch.rows, 2);
    const column = batch.columns.get("text")!;
    assert.equal(column.kind, "string");
    assert.equal(column.values, values, "no copy when every value is a string");
  });

  it("takes rows of scalars, and one-value lists, for a one-column model", () => {
    const a = text({ form: "rows", rows: ["a", "b"] }) as ColumnBatch;
    assert.deepEqual(a.columns.get("text")!.values, ["a", "b"]);
    const b = text({ form: "rows", rows: [["a"], ["b"]] }) as ColumnBatch;
    assert.deepEqual(b.columns.get("text")!.values, ["a", "b"]);
  });

  it("converts numbers, floats and booleans into typed arrays, nulls of optional columns into a mask", () => {
    const batch = table(
      columns({
        age: [30, 41],
        income: [1.5, 2],
        score: [0.25, null],
        member: [true, false],
        tags: [["a"], null],
        city: [null, "Oslo"],
      }),
    ) as ColumnBatch;
    const age = batch.columns.get("age")!;
    assert.equal(age.kind, "float64");
    assert.deepEqual([...age.values], [30, 41]);
    const score = batch.columns.get("score")!;
    assert.equal(score.kind, "float32");
    assert.ok(Number.isNaN(score.values[1]));
    assert.deepEqual([...(score as { missing: Uint8Array }).missing], [0, 1]);
    assert.deepEqual([...(batch.columns.get("member")!.values as Uint8Array)], [1, 0]);
    assert.deepEqual(batch.columns.get("tags"), { kind: "value", values: [["a"], null] });
    const city = batch.columns.get("city")!;
    assert.deepEqual(city.values, ["", "Oslo"]);
    assert.deepEqual([...(city as { missing: Uint8Array }).missing], [1, 0]);
  });

  it("leaves out optional columns that are absent, and ignores extra columns", () => {
    const batch = table(columns({ age: [1], income: [2], extra: ["x"] })) as ColumnBatch;
    assert.deepEqual([...batch.columns.keys()], ["age", "income"]);
  });

  it("names every column and row that does not fit", () => {
    rejects(
      () => table(columns({ age: [1, 2.5, "x"], income: [1, 2, 3] })),
      /column 'age' expects long but got a number with a fraction \(2\.5\) in row 1 \(1 of 3\); column 'age' expects long but got a string \('x'\) in row 2 \(1 of 3\)/,
    );
    rejects(() => table(columns({ age: [1, 2] })), /column 'income' \(double\) is required but missing/);
    rejects(
      () => table(columns({ age: [1, null], income: [1, 2] })),
      /column 'age' \(long\) is required but missing in row 1 \(1 of 2\)/,
    );
    rejects(() => text(columns({ text: ["a", 3] })), /column 'text' expects string but got an integer in row 1/);
    rejects(
      () => table(columns({ age: [1], income: [1], tags: [["a", 2]] })),
      /column 'tags' expects array<string> but got a list with an integer at \[1\] in row 0/,
    );
    rejects(
      () => table(columns({ age: [1], income: [1], member: ["yes"] })),
      /column 'member' expects boolean but got a string \('yes'\)/,
    );
  });

  it("lists at most five rows of one problem and counts the rest", () => {
    rejects(
      () => text({ form: "rows", rows: [1, 2, 3, 4, 5, 6, 7, "ok"] }),
      /rows 0, 1, 2, 3, 4 and 2 more \(7 of 8\)/,
    );
  });

  it("reads rows of lists by position for several columns", () => {
    const two = compileBatchBuilder({
      inputs: {
        kind: "columns",
        columns: [
          { name: "a", type: "double", required: true },
          { name: "b", type: "string", required: true },
        ],
      },
    });
    const batch = two({ form: "rows", rows: [[1, "x"]] }) as ColumnBatch;
    assert.deepEqual([...(batch.columns.get("a")!.values as Float64Array)], [1]);
    rejects(
      () => two({ form: "rows", rows: [[1]] }),
      /row 0 \(1 of 1\): each row must be a list of 2 values \(columns a, b\)/,
    );
    rejects(() => two({ form: "rows", rows: ["x"] }), /each row must be a list of 2 values.*got a string/);
  });

  it("parses CSV text by the column types, an empty field being null", () => {
    const batch = table(parseCsv("age,income,member,city\n3,1.5,True,\n4,NaN,0,Bergen\n")) as ColumnBatch;
    assert.deepEqual([...(batch.columns.get("age")!.values as Float64Array)], [3, 4]);
    assert.ok(Number.isNaN((batch.columns.get("income")!.values as Float64Array)[1]));
    assert.deepEqual([...(batch.columns.get("member")!.values as Uint8Array)], [1, 0]);
    assert.deepEqual(batch.columns.get("city")!.values, ["", "Bergen"]);
    rejects(() => table(parseCsv("age,income\nold,1\n")), /column 'age' expects long but got a string \('old'\)/);
  });

  it("takes KServe-style 1-D tensors as columns", () => {
    const batch = text({
      form: "tensors",
      tensors: new Map([["text", { datatype: "BYTES", shape: [2], data: ["a", "b"] }]]),
    }) as ColumnBatch;
    assert.deepEqual(batch.columns.get("text")!.values, ["a", "b"]);
    rejects(
      () =>
        text({ form: "tensors", tensors: new Map([["text", { datatype: "BYTES", shape: [1, 2], data: ["a", "b"] }]]) }),
      /input 'text' has shape \[1, 2\]; a column takes shape \[N\] or \[N, 1\]/,
    );
    rejects(
      () => text({ form: "tensors", tensors: new Map([["txt", { datatype: "BYTES", shape: [1], data: ["a"] }]]) }),
      /the model has no input 'txt' \(its inputs: text\)/,
    );
  });

  it("refuses an input without rows", () => {
    rejects(() => text({ form: "rows", rows: [] }), /The input has no rows/);
    rejects(() => text(columns({ text: [] })), /The input has no rows/);
  });
});

describe("tensor signatures", () => {
  const build = compileBatchBuilder(tensorSignature);

  it("flattens rows of lists into a float32 tensor", () => {
    const batch = build({
      form: "rows",
      rows: [
        [1, 2, 3, 4],
        [5, 6, 7, 8],
      ],
    }) as TensorBatch;
    const t = batch.tensors.get("input")!;
    assert.equal(t.dtype, "float32");
    assert.deepEqual(t.shape, [2, 4]);
    assert.ok(t.data instanceof Float32Array);
    assert.deepEqual([...t.data], [1, 2, 3, 4, 5, 6, 7, 8]);
  });

  it("takes the columns of a data frame side by side, or a column of lists, or the tensor by name", () => {
    const side = build(columns({ a: [1, 5], b: [2, 6], c: [3, 7], d: [4, 8] })) as TensorBatch;
    assert.deepEqual([...side.tensors.get("input")!.data], [1, 2, 3, 4, 5, 6, 7, 8]);
    const named = build(columns({ input: [[1, 2, 3, 4]] })) as TensorBatch;
    assert.deepEqual([...named.tensors.get("input")!.data], [1, 2, 3, 4]);
    const csv = build(parseCsv("a,b,c,d\n1,2,3,4\n")) as TensorBatch;
    assert.deepEqual([...csv.tensors.get("input")!.data], [1, 2, 3, 4]);
  });

  it("names the row and the position of a bad element or a wrong shape", () => {
    rejects(
      () =>
        build({
          form: "rows",
          rows: [
            [1, 2, 3, 4],
            [1, 2, 3],
          ],
        }),
      /tensor 'input' expects tensor<float32>\[-1, 4\] but got a list of 3 where 4 values were expected in row 1 \(1 of 2\)/,
    );
    rejects(
      () => build({ form: "rows", rows: [[1, 2, "x", 4]] }),
      /tensor 'input' expects tensor<float32>\[-1, 4\] but got a string \('x'\) at \[2\] in row 0/,
    );
    rejects(() => build({ form: "rows", rows: [7] }), /an integer where a list was expected in row 0/);
  });

  it("checks integer dtypes and makes int64 tensors of bigints", () => {
    const ints = compileBatchBuilder({
      inputs: { kind: "tensors", tensors: [{ name: "ids", dtype: "int64", shape: [-1] }] },
    });
    const t = (ints({ form: "rows", rows: [1, 2] }) as TensorBatch).tensors.get("ids")!;
    assert.ok(t.data instanceof BigInt64Array);
    assert.deepEqual([...t.data], [1n, 2n]);
    rejects(() => ints({ form: "rows", rows: [1.5] }), /expects tensor<int64>\[-1\] but got a number with a fraction/);
    const bytes = compileBatchBuilder({
      inputs: { kind: "tensors", tensors: [{ name: "b", dtype: "uint8", shape: [-1] }] },
    });
    rejects(() => bytes({ form: "rows", rows: [256] }), /an integer out of uint8 range \(256\)/);
  });

  it("takes KServe tensors with their shape and converts numbers to the model's dtype", () => {
    const batch = build({
      form: "tensors",
      tensors: new Map([["input", { datatype: "FP64", shape: [1, 4], data: [1, 2, 3, 4] }]]),
    }) as TensorBatch;
    assert.ok(batch.tensors.get("input")!.data instanceof Float32Array);
    rejects(
      () =>
        build({
          form: "tensors",
          tensors: new Map([["input", { datatype: "FP32", shape: [2, 2], data: [1, 2, 3, 4] }]]),
        }),
      /input 'input' has shape \[2, 2\] where the model expects tensor<float32>\[-1, 4\]/,
    );
    rejects(
      () =>
        build({ form: "tensors", tensors: new Map([["x", { datatype: "FP32", shape: [1, 4], data: [1, 2, 3, 4] }]]) }),
      /the model has no input 'x'.*input 'input' \(tensor<float32>\[-1, 4\]\) is missing/,
    );
  });

  it("asks for names when the model has several tensors", () => {
    const two = compileBatchBuilder({
      inputs: {
        kind: "tensors",
        tensors: [
          { name: "a", dtype: "float32", shape: [-1] },
          { name: "b", dtype: "float32", shape: [-1] },
        ],
      },
    });
    rejects(() => two({ form: "rows", rows: [1] }), /The model takes 2 named tensors \(a, b\); give each by name/);
    const batch = two(columns({ a: [1, 2], b: [3, 4] })) as TensorBatch;
    assert.deepEqual([...batch.tensors.get("b")!.data], [3, 4]);
    rejects(() => two(columns({ a: [1, 2] })), /tensor 'b' \(tensor<float32>\[-1\]\) is required but missing/);
  });

  it("refuses a signature with a dtype it cannot take from JSON", () => {
    assert.throws(
      () =>
        compileBatchBuilder({ inputs: { kind: "tensors", tensors: [{ name: "x", dtype: "complex64", shape: [-1] }] } }),
      /input tensor 'x' has dtype complex64/,
    );
  });
});
