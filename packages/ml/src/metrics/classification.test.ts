import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import {
  accuracyScore,
  confusionMatrix,
  f1Score,
  fbetaScore,
  precisionRecallFscore,
  precisionRecallFscoreSupport,
  precisionScore,
  recallScore,
} from "./classification.js";
import { throwsMl } from "../testing/assertions.js";

const near = (a: number, b: number, tol = 1e-12): void => assert.ok(Math.abs(a - b) <= tol, `${a} vs ${b}`);
const nearAll = (a: readonly number[], b: readonly number[], tol = 1e-12): void => {
  assert.equal(a.length, b.length);
  a.forEach((v, i) =>
    assert.ok(
      Math.abs(v - (b[i] as number)) <= tol || (Number.isNaN(v) && Number.isNaN(b[i])),
      `[${i}] ${v} vs ${b[i]}`,
    ),
  );
};

// the docstrings of f1_score, precision_score, recall_score and fbeta_score
const Y_TRUE = [0, 1, 2, 0, 1, 2];
const Y_PRED = [0, 2, 1, 0, 0, 1];

// numpy RandomState(5) draws (4 classes, 50 samples, weights rounded to 0.01); expectations from scikit-learn 1.2.1
const YTM = [
  1, 1, 0, 1, 1, 1, 3, 0, 2, 0, 1, 1, 1, 3, 0, 0, 1, 0, 3, 2, 3, 2, 1, 3, 0, 3, 0, 2, 3, 3, 0, 0, 2, 3, 2, 3, 2, 1, 0,
  1, 0, 1, 2, 3, 2, 1, 1, 1, 0, 3,
];
const YPM = [
  0, 0, 0, 0, 0, 3, 0, 2, 1, 1, 3, 2, 3, 0, 1, 2, 1, 1, 2, 2, 2, 2, 2, 1, 3, 0, 3, 2, 3, 1, 1, 2, 1, 3, 2, 0, 2, 3, 1,
  3, 3, 1, 1, 2, 2, 0, 0, 3, 1, 2,
];
const SWM = [
  1.94, 0.01, 0.39, 0.85, 1.79, 1.55, 0.47, 0.38, 1.92, 1.26, 1.51, 1.92, 0.66, 0.91, 0.73, 0.11, 0.06, 0.83, 0.14,
  0.33, 0.31, 0.69, 1.28, 0.81, 0.36, 0.19, 0.6, 1.16, 1.65, 0.62, 1.41, 1.03, 0.92, 0.08, 0.78, 0.06, 1.34, 1.4, 0.14,
  0.54, 1.9, 0.48, 1.14, 0.42, 0.42, 0.2, 1.05, 1.2, 1.58, 0.42,
];

describe("accuracy and confusion matrix", () => {
  it("match the accuracy_score docstring", () => {
    // accuracy_score([0, 1, 2, 3], [0, 2, 1, 3]) -> 0.5; normalize=False -> 2
    assert.equal(accuracyScore([0, 1, 2, 3], [0, 2, 1, 3]), 0.5);
    assert.equal(accuracyScore([0, 1, 2, 3], [0, 2, 1, 3], { normalize: false }), 2);
    near(accuracyScore(YTM, YPM, { sampleWeight: SWM }), 0.1759656652360515); // scikit-learn 1.2.1
  });

  it("match the confusion_matrix docstring", () => {
    assert.deepEqual(confusionMatrix([2, 0, 2, 2, 0, 1], [0, 0, 2, 2, 0, 2]).matrix, [
      [2, 0, 0],
      [0, 0, 1],
      [1, 0, 2],
    ]);
    const yTrue = ["cat", "ant", "cat", "cat", "ant", "bird"];
    const yPred = ["ant", "ant", "cat", "cat", "ant", "cat"];
    assert.deepEqual(confusionMatrix(yTrue, yPred, { labels: ["ant", "bird", "cat"] }).matrix, [
      [2, 0, 0],
      [0, 0, 1],
      [1, 0, 2],
    ]);
    // tn, fp, fn, tp = confusion_matrix([0, 1, 0, 1], [1, 1, 1, 0]).ravel() -> (0, 2, 1, 1)
    assert.deepEqual(confusionMatrix([0, 1, 0, 1], [1, 1, 1, 0]).matrix.flat(), [0, 2, 1, 1]);
  });

  it("weights, orders, selects and normalises", () => {
    // scikit-learn 1.2.1: confusion_matrix(YTM, YPM, sample_weight=SWM)
    const expected = [
      [0.39, 5.949999999999999, 1.52, 2.86],
      [5.84, 0.54, 3.2, 6.86],
      [0, 3.9799999999999995, 4.72, 0],
      [1.63, 1.4300000000000002, 1.29, 1.73],
    ];
    const { labels, matrix } = confusionMatrix(YTM, YPM, { sampleWeight: SWM });
    assert.deepEqual(labels, [0, 1, 2, 3]);
    matrix.forEach((row, i) => nearAll(row, expected[i] as number[], 1e-12));
    const reordered = confusionMatrix([1, 2, 3, 9], [1, 3, 3, 1], { labels: [3, 1] });
    assert.deepEqual(reordered.matrix, [
      [1, 0],
      [0, 1],
    ]);
    const byRow = confusionMatrix([0, 0, 1, 1], [0, 1, 1, 1], { normalize: "true" }).matrix;
    assert.deepEqual(byRow, [
      [0.5, 0.5],
      [0, 1],
    ]);
    assert.deepEqual(confusionMatrix([0, 0, 1], [0, 0, 0], { normalize: "pred", labels: [0, 1] }).matrix, [
      [2 / 3, 0],
      [1 / 3, 0],
    ]);
    assert.deepEqual(confusionMatrix([0, 1], [0, 1], { normalize: "all" }).matrix, [
      [0.5, 0],
      [0, 0.5],
    ]);
  });

  it("has the (weighted) sample count as its total, and accuracy as its trace (property)", () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: 0, max: 4 }), fc.integer({ min: 0, max: 4 })), {
          minLength: 1,
          maxLength: 60,
        }),
        (pairs) => {
          const yt = pairs.map(([t]) => t);
          const yp = pairs.map(([, p]) => p);
          const { matrix } = confusionMatrix(yt, yp);
          assert.equal(
            matrix.flat().reduce((a, b) => a + b, 0),
            pairs.length,
          );
          const trace = matrix.reduce((acc, row, i) => acc + (row[i] as number), 0);
          near(trace / pairs.length, accuracyScore(yt, yp));
          // micro-averaged precision, recall and F1 all equal accuracy when every label is counted
          const micro = precisionRecallFscore(yt, yp, { average: "micro" });
          near(micro.precision, accuracyScore(yt, yp));
          near(micro.fScore, accuracyScore(yt, yp));
        },
      ),
      { numRuns: 100, seed: 4 },
    );
  });
});

describe("precision, recall and F-scores", () => {
  it("match the f1_score, precision_score, recall_score and fbeta_score docstrings", () => {
    near(f1Score(Y_TRUE, Y_PRED, { average: "macro" }), 0.26666666666666666);
    near(f1Score(Y_TRUE, Y_PRED, { average: "micro" }), 0.3333333333333333);
    near(f1Score(Y_TRUE, Y_PRED, { average: "weighted" }), 0.26666666666666666);
    nearAll(precisionRecallFscoreSupport(Y_TRUE, Y_PRED).fScore, [0.8, 0, 0]);
    near(precisionScore(Y_TRUE, Y_PRED, { average: "macro" }), 0.2222222222222222);
    near(precisionScore(Y_TRUE, Y_PRED, { average: "micro" }), 0.3333333333333333);
    near(precisionScore(Y_TRUE, Y_PRED, { average: "weighted" }), 0.2222222222222222);
    nearAll(precisionRecallFscoreSupport(Y_TRUE, Y_PRED).precision, [2 / 3, 0, 0]);
    near(recallScore(Y_TRUE, Y_PRED, { average: "macro" }), 1 / 3);
    near(recallScore(Y_TRUE, Y_PRED, { average: "micro" }), 1 / 3);
    near(recallScore(Y_TRUE, Y_PRED, { average: "weighted" }), 1 / 3);
    nearAll(precisionRecallFscoreSupport(Y_TRUE, Y_PRED).recall, [1, 0, 0]);
    near(fbetaScore(Y_TRUE, Y_PRED, 0.5, { average: "macro" }), 0.23809523809523805);
    near(fbetaScore(Y_TRUE, Y_PRED, 0.5, { average: "micro" }), 1 / 3);
    near(fbetaScore(Y_TRUE, Y_PRED, 0.5, { average: "weighted" }), 0.23809523809523805);
    nearAll(precisionRecallFscoreSupport(Y_TRUE, Y_PRED, { beta: 0.5 }).fScore, [0.7142857142857143, 0, 0]);
  });

  it("match the precision_recall_fscore_support docstring (string labels, label order)", () => {
    const yTrue = ["cat", "dog", "pig", "cat", "dog", "pig"];
    const yPred = ["cat", "pig", "dog", "cat", "cat", "dog"];
    const macro = precisionRecallFscore(yTrue, yPred, { average: "macro" });
    near(macro.precision, 2 / 9);
    near(macro.recall, 1 / 3);
    near(macro.fScore, 0.26666666666666666);
    const weighted = precisionRecallFscore(yTrue, yPred, { average: "weighted" });
    near(weighted.precision, 2 / 9);
    near(weighted.fScore, 0.26666666666666666);
    const per = precisionRecallFscoreSupport(yTrue, yPred, { labels: ["pig", "dog", "cat"] });
    nearAll(per.precision, [0, 0, 2 / 3]);
    nearAll(per.recall, [0, 0, 1]);
    nearAll(per.fScore, [0, 0, 0.8]);
    assert.deepEqual(per.support, [2, 2, 2]);
  });

  it("match scikit-learn 1.2.1 with sample weights and beta = 2", () => {
    const cases = {
      macro: [0.1714940847385137, 0.22407388041494675, 0.20834011589856413],
      micro: [0.17596566523605145, 0.17596566523605148, 0.17596566523605148],
      weighted: [0.14362398152793118, 0.17596566523605148, 0.16603212997843267],
    } as const;
    for (const [average, [p, r, f]] of Object.entries(cases)) {
      const s = precisionRecallFscore(YTM, YPM, { average: average as "macro", sampleWeight: SWM, beta: 2 });
      near(s.precision, p);
      near(s.recall, r);
      near(s.fScore, f);
    }
  });

  it("binary average scores posLabel only", () => {
    const yt = ["spam", "ham", "spam", "spam", "ham"];
    const yp = ["spam", "spam", "ham", "spam", "ham"];
    near(precisionScore(yt, yp, { posLabel: "spam" }), 2 / 3);
    near(recallScore(yt, yp, { posLabel: "spam" }), 2 / 3);
    near(precisionScore(yt, yp, { posLabel: "ham" }), 1 / 2);
    near(f1Score([1, 0, 1, 1], [1, 1, 0, 1]), 2 / 3);
    throwsMl(() => f1Score(yt, yp), /posLabel=1 is not a valid label: it should be one of \["ham","spam"\]/);
    throwsMl(() => f1Score(Y_TRUE, Y_PRED), /multiclass .* average is "binary"/);
  });

  it("follows zero_division: 0 with a warning by default, 1, or NaN skipped by averages", () => {
    // precision_score docstring: y_pred all 0 -> [0.33..., 0., 0.] with warnings; zero_division=1 -> [0.33..., 1., 1.]
    const allZero = [0, 0, 0, 0, 0, 0];
    const warned: string[] = [];
    const per = precisionRecallFscoreSupport(Y_TRUE, allZero, { onWarning: (m) => warned.push(m) });
    nearAll(per.precision, [1 / 3, 0, 0]);
    assert.equal(warned.length, 1);
    assert.match(warned[0] ?? "", /Precision is ill-defined and being set to 0\.0 in labels with no predicted samples/);
    assert.deepEqual(per.warnings, warned);
    nearAll(precisionRecallFscoreSupport(Y_TRUE, allZero, { zeroDivision: 1 }).precision, [1 / 3, 1, 1]);
    const nan = precisionRecallFscoreSupport(Y_TRUE, allZero, { zeroDivision: "nan" });
    nearAll(nan.precision, [1 / 3, Number.NaN, Number.NaN]);
    near(precisionScore(Y_TRUE, allZero, { average: "macro", zeroDivision: "nan" }), 1 / 3);
    // fbeta_score docstring: fbeta_score(y_true, y_pred_empty, average="macro", zero_division=np.nan, beta=0.5) -> 0.12...
    near(fbetaScore(Y_TRUE, allZero, 0.5, { average: "macro", zeroDivision: "nan" }), 0.38461538461538464 / 3, 1e-12);
    // f1_score docstring: all-negative y_true and y_pred with zero_division=1 -> 1.0
    assert.equal(f1Score([0, 0, 0], [0, 0, 0], { zeroDivision: 1 }), 1);
    let warning = "";
    assert.equal(f1Score([0, 0, 0], [0, 0, 0], { onWarning: (m) => (warning = m) }), 0);
    assert.match(warning, /F-score is ill-defined .* no true nor predicted samples/);
    // precision_score only warns about precision
    const onlyPrecision: string[] = [];
    precisionScore([1, 1], [0, 0], { onWarning: (m) => onlyPrecision.push(m) });
    assert.equal(onlyPrecision.length, 1);
    assert.match(onlyPrecision[0] ?? "", /^Precision/);
  });

  it("F-beta lies between precision and recall and F1 is their harmonic mean (property)", () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: 0, max: 1 }), fc.integer({ min: 0, max: 1 })), {
          minLength: 1,
          maxLength: 40,
        }),
        fc.double({ min: 0.1, max: 10, noNaN: true }),
        (pairs, beta) => {
          const yt = pairs.map(([t]) => t);
          const yp = pairs.map(([, p]) => p);
          const s = precisionRecallFscore(yt, yp, { beta, zeroDivision: 0 });
          const lo = Math.min(s.precision, s.recall);
          const hi = Math.max(s.precision, s.recall);
          if (s.precision > 0 && s.recall > 0)
            assert.ok(s.fScore >= lo - 1e-12 && s.fScore <= hi + 1e-12, "F between P and R");
          const f1 = precisionRecallFscore(yt, yp, { zeroDivision: 0 });
          if (f1.precision + f1.recall > 0)
            near(f1.fScore, (2 * f1.precision * f1.recall) / (f1.precision + f1.recall));
        },
      ),
      { numRuns: 100, seed: 8 },
    );
  });

  it("names bad input", () => {
    throwsMl(() => accuracyScore([1, 2], [1]), /yTrue has 2 values but yPred has 1/);
    throwsMl(() => accuracyScore([], []), /yTrue is empty/);
    throwsMl(() => accuracyScore([1, 2], ["1", "2"]), /yTrue holds numbers but yPred holds strings/);
    throwsMl(() => accuracyScore([1, 2], [1, 2], { sampleWeight: [1] }), /sampleWeight has 1 values, expected 2/);
    throwsMl(() => f1Score([1, 0], [1, 0], { sampleWeight: [1, -1] }), /must not be negative/);
    throwsMl(() => fbetaScore([1, 0], [1, 0], -1), /beta must be ≥ 0/);
    throwsMl(() => confusionMatrix([1, 2], [1, 2], { labels: [] }), /at least one label/);
    throwsMl(() => confusionMatrix([1, 2], [1, 2], { labels: [5] }), /none of the labels given occurs in yTrue/);
    throwsMl(() => f1Score([1, Number.NaN], [1, 1]), /NaN at index 1/);
  });
});
