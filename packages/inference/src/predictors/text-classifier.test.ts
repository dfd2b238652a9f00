import assert from "node:assert/strict";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import {
  LogisticRegression,
  TextClassifier,
  TfidfVectorizer,
  parseMLmodel,
  textClassifierPackage,
  type Label,
  type MLmodel,
} from "@slipway/ml";
import { saveModelPackage } from "@slipway/sdk";
import { PredictorError, PredictorLoadError, type ColumnBatch } from "./predictor.js";
import { loadTextClassifierPredictor } from "./text-classifier.js";

const scratch = await mkdtemp(join(tmpdir(), "slipway-text-predictor-"));
after(() => rm(scratch, { recursive: true, force: true }));

const texts = [
  "win a free prize now",
  "free money click here",
  "cheap pills free offer",
  "meeting moved to monday",
  "please review the attached report",
  "lunch on friday with the team",
];
const labels = ["spam", "spam", "spam", "ham", "ham", "ham"];

async function packageDir(name: string, classes: readonly Label[] = labels): Promise<string> {
  const classifier = new TextClassifier(new TfidfVectorizer(), new LogisticRegression({ C: 10 })).fit(texts, classes);
  const dir = join(scratch, name);
  await saveModelPackage(dir, textClassifierPackage(classifier, { inputExample: ["free prize"] }));
  return dir;
}

async function mlmodelOf(dir: string): Promise<MLmodel> {
  return parseMLmodel(await readFile(join(dir, "MLmodel"), "utf8"));
}

function batch(values: string[]): ColumnBatch {
  return { kind: "columns", rows: values.length, columns: new Map([["text", { kind: "string", values }]]) };
}

test("predicts labels and probabilities from the package, like the native pipeline", async () => {
  const dir = await packageDir("spam");
  const predictor = await loadTextClassifierPredictor(dir, await mlmodelOf(dir));
  assert.equal(predictor.kind, "slipway/text-classifier");
  assert.equal(predictor.signature.inputs.kind, "columns");
  await predictor.warmup();
  const out = await predictor.predict(batch(["free prize offer", "monday team meeting", ""]));
  assert.equal(out.rows, 3);
  const label = out.outputs.get("label")!;
  assert.deepEqual(label.data, ["spam", "ham", label.data[2]]);
  const probabilities = out.outputs.get("probabilities")!;
  assert.deepEqual(probabilities.shape, [3, 2]);
  const p = probabilities.data as Float64Array;
  for (let i = 0; i < 3; i++) assert.ok(Math.abs(p[2 * i]! + p[2 * i + 1]! - 1) < 1e-12);
  assert.ok(p[1]! > 0.5 && p[2]! > 0.5);
  await assert.rejects(
    predictor.predict({ kind: "tensors", rows: 1, tensors: new Map() }),
    (e) => e instanceof PredictorError && /takes a 'text' text column/.test(e.message),
  );
  await predictor.close();
});

test("integer classes come out as int64 labels", async () => {
  const dir = await packageDir("ints", [1, 1, 1, 0, 0, 0]);
  const predictor = await loadTextClassifierPredictor(dir, await mlmodelOf(dir));
  const out = await predictor.predict(batch(["free prize"]));
  assert.equal(out.outputs.get("label")!.dtype, "int64");
  assert.deepEqual([...(out.outputs.get("label")!.data as BigInt64Array)], [1n]);
});

test("a damaged package is refused with the reason", async () => {
  const dir = await packageDir("damaged");
  const mlmodel = await mlmodelOf(dir);
  await writeFile(join(dir, "pipeline.json"), '{"type": "TextClassifier", "version": 1}');
  await assert.rejects(
    loadTextClassifierPredictor(dir, mlmodel),
    (e) => e instanceof PredictorLoadError && /cannot load the text classifier from pipeline\.json/.test(e.message),
  );
  await writeFile(join(dir, "pipeline.json"), "not json");
  await assert.rejects(loadTextClassifierPredictor(dir, mlmodel), PredictorLoadError);
});
