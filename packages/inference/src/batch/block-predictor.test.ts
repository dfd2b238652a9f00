import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { parseMLmodel } from "@slipway/ml";
import { writeOnnxPackage, type OnnxPackage } from "../testing/onnx-package.js";
import { BlockPredictor } from "./block-predictor.js";
import type { BlockResult, InputBlock, InputPlan, OutputPlan } from "./block.js";
import { scratch, writeSpamPackage, type Scratch } from "./testing/fixtures.js";

let dir: Scratch;
let spam: BlockPredictor;
let onnx: OnnxPackage;
before(async () => {
  dir = await scratch();
  const pkg = await writeSpamPackage(dir.path("spam"));
  spam = await BlockPredictor.load({ dir: pkg, mlmodel: parseMLmodel(await readFile(join(pkg, "MLmodel"), "utf8")) });
  onnx = await writeOnnxPackage({ signature: "mlflow-tensor" });
});
after(async () => {
  await spam.close();
  await onnx.remove();
  await dir.remove();
});

function textBlock(format: "csv" | "jsonl", text: string, rows: number, firstRow = 0, firstLine = 2): InputBlock {
  return { kind: "text", format, index: 0, firstRow, rows, firstLine, bytes: new Uint8Array(Buffer.from(text)) };
}

const json: OutputPlan = { format: "jsonl", rowNumber: true, keep: ["id"], probabilities: "json" };

function lines(result: BlockResult): Record<string, unknown>[] {
  assert.equal(result.output.kind, "text");
  const text = result.output.kind === "text" ? Buffer.from(result.output.bytes).toString() : "";
  return text
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

test("a CSV block becomes output rows with the row number, the kept id, the label and probabilities", async () => {
  const input: InputPlan = { format: "csv", columns: ["id", "text"] };
  const result = await spam.process(textBlock("csv", '7,"free money, win"\n8,monday meeting\n', 2, 40), input, json);
  assert.deepEqual(result.columnNames, ["row", "id", "label", "probabilities"]);
  const [a, b] = lines(result);
  assert.deepEqual([a!.row, a!.id, a!.label, b!.row, b!.id, b!.label], [40, "7", "spam", 41, "8", "ham"]);
  assert.equal((a!.probabilities as number[]).length, 2);
  assert.deepEqual(result.errors, []);
});

test("bad rows come back with row, line, reason and input; the good ones in the same block are predicted", async () => {
  const input: InputPlan = { format: "jsonl", columns: ["id", "text"] };
  const text = ['{"id":1,"text":"free money"}', '{"id":2,"text":17}', "{oops", '{"id":4}', '{"id":5,"text":"hi"}'].join(
    "\n",
  );
  const result = await spam.process(textBlock("jsonl", `${text}\n`, 5, 100, 101), input, json);
  assert.deepEqual(
    lines(result).map((r) => r.id),
    [1, 5],
  );
  assert.equal(result.written, 2);
  assert.deepEqual(
    result.errors.map((e) => [e.row, e.line, e.message]),
    [
      [101, 102, "column 'text' expects string but got an integer"],
      [102, 103, result.errors[1]!.message],
      [103, 104, "column 'text' (string) is required but missing"],
    ],
  );
  assert.match(result.errors[1]!.message, /^not valid JSON/);
  assert.deepEqual(result.errors[0]!.input, { id: 2, text: 17 });
  assert.equal(result.errors[1]!.input, "{oops");
});

test("per-class columns are named after the package's classes", async () => {
  const input: InputPlan = { format: "csv", columns: ["text"] };
  const plan: OutputPlan = {
    format: "parquet",
    rowNumber: false,
    keep: [],
    probabilities: "columns",
    classes: ["ham", "spam"],
  };
  const result = await spam.process(textBlock("csv", "free money\n", 1), input, plan);
  assert.deepEqual(result.columnNames, ["label", "probabilities_ham", "probabilities_spam"]);
  assert.equal(result.output.kind, "columns");
  if (result.output.kind === "columns") {
    assert.deepEqual(
      result.output.columns.map((c) => c.type),
      ["STRING", "DOUBLE", "DOUBLE"],
    );
  }
});

test("an ONNX model with a tensor input reads the feature columns side by side (float32 written short)", async () => {
  const predictor = await BlockPredictor.load({ dir: onnx.dir, mlmodel: onnx.mlmodel });
  try {
    const input: InputPlan = { format: "csv", columns: ["id", "a", "b", "c", "d"] };
    const block = textBlock("csv", "x,1,0,0,0\ny,0,0,1,0\nz,0,oops,0,0\n", 3);
    const result = await predictor.process(block, input, { ...json, rowNumber: false });
    const rows = lines(result);
    assert.deepEqual(
      rows.map((r) => [r.id, r.label]),
      [
        ["x", 0],
        ["y", 2],
      ],
    );
    for (const p of rows[0]!.probabilities as number[]) assert.ok(String(p).length <= 12, String(p));
    assert.equal(result.errors.length, 1);
    assert.equal(result.errors[0]!.row, 2);
    assert.match(result.errors[0]!.message, /tensor/);
    // explicit features pick and order the columns
    const picked = await predictor.process(
      textBlock("csv", "x,9,0,1,0,0\n", 1),
      { format: "csv", columns: ["id", "noise", "a", "b", "c", "d"], features: ["a", "b", "c", "d"] },
      { ...json, rowNumber: false },
    );
    assert.equal(lines(picked)[0]!.label, 1);
  } finally {
    await predictor.close();
  }
});
