import assert from "node:assert/strict";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { LogisticRegression, TextClassifier, TfidfVectorizer, parseMLmodel, textClassifierPackage } from "@slipway/ml";
import { saveModelPackage } from "@slipway/sdk";
import { PredictorError, PredictorLoadError, type ColumnBatch, type InputBatch } from "./predictor.js";
import { loadTextClassifierPredictor } from "./text-classifier.js";
import { ThreadedPredictor } from "./threaded-predictor.js";

const scratch = await mkdtemp(join(tmpdir(), "slipway-threaded-predictor-"));
after(() => rm(scratch, { recursive: true, force: true }));

const texts = ["win a free prize now", "free money click here", "meeting moved to monday", "review the report"];
const classifier = new TextClassifier(new TfidfVectorizer(), new LogisticRegression({ C: 10 })).fit(texts, [
  "spam",
  "spam",
  "ham",
  "ham",
]);
const dir = join(scratch, "spam");
await saveModelPackage(dir, textClassifierPackage(classifier, { inputExample: ["free prize"] }));
const mlmodel = parseMLmodel(await readFile(join(dir, "MLmodel"), "utf8"));

function batch(values: string[]): ColumnBatch {
  return { kind: "columns", rows: values.length, columns: new Map([["text", { kind: "string", values }]]) };
}

test("big batches computed on the threads equal the calling thread's; small ones stay inline", async () => {
  const inline = await loadTextClassifierPredictor(dir, mlmodel);
  const reference = await loadTextClassifierPredictor(dir, mlmodel);
  const threaded = await ThreadedPredictor.start(inline, dir, mlmodel, { threads: 2, minRows: 4 });
  try {
    assert.equal(threaded.kind, "slipway/text-classifier");
    assert.equal(threaded.labelOutput, "label");
    assert.equal(threaded.liveThreads, 2);
    const rows = Array.from({ length: 40 }, (_, i) => `${texts[i % texts.length]} ${i}`);
    // several at once: spread over both threads, each answer matched to its own batch
    const slices = [rows.slice(0, 10), rows.slice(10, 25), rows.slice(25), rows.slice(0, 2)];
    const answers = await Promise.all(slices.map((s) => threaded.predict(batch(s))));
    assert.equal(threaded.threadedBatches, 3, "the 2-row batch ran inline");
    // 40 rows merged from 20 requests: 2 rows per request, small bodies: inline
    await threaded.predict(batch(rows), undefined, { requests: 20 });
    assert.equal(threaded.threadedBatches, 3);
    await threaded.predict(batch(rows), undefined, { requests: 5 });
    assert.equal(threaded.threadedBatches, 4);
    for (const [i, slice] of slices.entries()) {
      const expected = await reference.predict(batch(slice));
      assert.equal(answers[i]!.rows, slice.length);
      assert.deepEqual(answers[i]!.outputs.get("label")!.data, expected.outputs.get("label")!.data);
      assert.deepEqual(answers[i]!.outputs.get("probabilities")!.data, expected.outputs.get("probabilities")!.data);
    }
  } finally {
    await threaded.close();
    await reference.close();
  }
  assert.equal(threaded.liveThreads, 0);
});

test("a bad batch is the request's fault on a thread too (PredictorError), and the thread keeps serving", async () => {
  const threaded = await ThreadedPredictor.start(await loadTextClassifierPredictor(dir, mlmodel), dir, mlmodel, {
    threads: 1,
    minRows: 1,
  });
  try {
    const tensors: InputBatch = {
      kind: "tensors",
      rows: 2,
      tensors: new Map([["x", { dtype: "float32", shape: [2], data: new Float32Array(2) }]]),
    };
    await assert.rejects(threaded.predict(tensors), (error: unknown) => {
      assert.ok(error instanceof PredictorError, String(error));
      assert.match(error.message, /text column, not tensors/);
      return true;
    });
    const out = await threaded.predict(batch(["free prize", "monday meeting"]));
    assert.deepEqual(out.outputs.get("label")!.data, ["spam", "ham"]);
  } finally {
    await threaded.close();
  }
});

test("a thread that cannot load the package fails start with a load error", async () => {
  const inline = await loadTextClassifierPredictor(dir, mlmodel);
  const broken = {
    ...mlmodel,
    flavors: { ...mlmodel.flavors, slipway: { predictor: "text-classifier", version: 1, data: "missing.json" } },
  };
  await assert.rejects(ThreadedPredictor.start(inline, dir, broken, { threads: 2 }), PredictorLoadError);
  await assert.rejects(ThreadedPredictor.start(inline, dir, mlmodel, { threads: 0 }), RangeError);
});
