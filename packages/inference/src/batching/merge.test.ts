import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { ColumnBatch, PredictionBatch, TensorBatch } from "../predictors/predictor.js";
import { mergeBatches, mergeKey, sliceRows } from "./merge.js";

function tensors(rows: number[][]): TensorBatch {
  const width = rows[0]!.length;
  return {
    kind: "tensors",
    rows: rows.length,
    tensors: new Map([
      ["input", { dtype: "float32", shape: [rows.length, width], data: Float32Array.from(rows.flat()) }],
    ]),
  };
}

describe("mergeBatches", () => {
  it("concatenates tensors along the batch dimension, in order", () => {
    const merged = mergeBatches([
      tensors([[1, 2]]),
      tensors([
        [3, 4],
        [5, 6],
      ]),
    ]) as TensorBatch;
    assert.equal(merged.rows, 3);
    const t = merged.tensors.get("input")!;
    assert.deepEqual(t.shape, [3, 2]);
    assert.deepEqual([...t.data], [1, 2, 3, 4, 5, 6]);
  });

  it("gives tensors of different inner shapes different merge keys", () => {
    assert.equal(
      mergeKey(tensors([[1, 2]])),
      mergeKey(
        tensors([
          [3, 4],
          [5, 6],
        ]),
      ),
    );
    assert.notEqual(mergeKey(tensors([[1, 2]])), mergeKey(tensors([[1, 2, 3]])));
  });

  it("concatenates columns, filling an optional column one request left out as missing", () => {
    const a: ColumnBatch = {
      kind: "columns",
      rows: 1,
      columns: new Map([
        ["text", { kind: "string", values: ["a"] }],
        ["score", { kind: "float64", values: Float64Array.from([0.5]) }],
      ]),
    };
    const b: ColumnBatch = {
      kind: "columns",
      rows: 2,
      columns: new Map([["text", { kind: "string", values: ["b", "c"] }]]),
    };
    const merged = mergeBatches([a, b]) as ColumnBatch;
    assert.equal(merged.rows, 3);
    assert.deepEqual(merged.columns.get("text"), { kind: "string", values: ["a", "b", "c"] });
    const score = merged.columns.get("score")!;
    assert.equal(score.kind, "float64");
    assert.equal(score.values[0], 0.5);
    assert.ok(Number.isNaN(score.values[1]));
    assert.deepEqual([...(score as { missing: Uint8Array }).missing], [0, 1, 1]);
  });
});

describe("sliceRows", () => {
  const prediction: PredictionBatch = {
    rows: 3,
    outputs: new Map([
      ["label", { dtype: "str", shape: [3], data: ["a", "b", "c"] }],
      ["probabilities", { dtype: "float32", shape: [3, 2], data: Float32Array.from([1, 2, 3, 4, 5, 6]) }],
    ]),
  };

  it("gives each request its rows, as views of typed arrays", () => {
    const part = sliceRows(prediction, 1, 2);
    assert.equal(part.rows, 2);
    assert.deepEqual(part.outputs.get("label"), { dtype: "str", shape: [2], data: ["b", "c"] });
    const p = part.outputs.get("probabilities")!;
    assert.deepEqual(p.shape, [2, 2]);
    assert.deepEqual([...p.data], [3, 4, 5, 6]);
    assert.equal(
      (p.data as Float32Array).buffer,
      (prediction.outputs.get("probabilities")!.data as Float32Array).buffer,
    );
    assert.equal(sliceRows(prediction, 0, 3), prediction);
  });

  it("refuses an output whose first dimension is not the batch's rows", () => {
    const odd: PredictionBatch = {
      rows: 2,
      outputs: new Map([["x", { dtype: "float64", shape: [1], data: Float64Array.from([1]) }]]),
    };
    assert.throws(() => sliceRows(odd, 0, 1), /output 'x' has 1 rows for a batch of 2/);
  });
});
