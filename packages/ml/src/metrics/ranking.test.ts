import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { auc, averagePrecisionScore, precisionRecallCurve, rocAucScore, rocCurve } from "./ranking.js";
import { P3, YT3 } from "./testing/three-classes.js";
import { throwsMl } from "../testing/assertions.js";

const nearAll = (a: ArrayLike<number>, b: readonly number[], tol = 1e-12): void => {
  assert.equal(a.length, b.length);
  for (let i = 0; i < b.length; i++) {
    assert.ok(Math.abs((a[i] as number) - (b[i] as number)) <= tol || a[i] === b[i], `[${i}] ${a[i]} vs ${b[i]}`);
  }
};
const near = (a: number, b: number, tol = 1e-12): void => assert.ok(Math.abs(a - b) <= tol, `${a} vs ${b}`);

// numpy RandomState(5): binary labels, scores rounded to 0.1 (many ties), weights (one 0); expectations from
// scikit-learn 1.2.1 (whose first ROC threshold is max + 1; ≥ 1.3 has +∞, as here)
const YT = [
  1, 0, 1, 1, 0, 0, 0, 1, 0, 0, 1, 0, 1, 0, 0, 0, 1, 0, 1, 1, 1, 1, 0, 1, 0, 1, 1, 1, 1, 0, 0, 0, 1, 0, 0, 1, 1, 0, 1,
  1,
];
const SC = [
  0.6, 0.3, 0.3, 0.3, 0.3, 0.1, 0.2, 1.0, 1.0, 0.2, 0.0, 0.2, 0.7, 0.8, 0.0, 0.6, 0.0, 0.5, 0.6, 1.0, 0.3, 0.8, 0.9,
  0.9, 0.0, 0.5, 1.0, 0.4, 0.8, 0.5, 0.8, 0.5, 0.0, 0.1, 0.1, 0.3, 1.0, 0.6, 0.8, 0.6,
];
const SW = [
  1.27, 1.62, 1.85, 0.0, 1.65, 0.19, 0.72, 0.07, 1.09, 1.59, 0.1, 0.38, 0.73, 0.49, 1.59, 0.7, 1.28, 0.99, 1.17, 1.88,
  1.89, 0.22, 1.69, 0.69, 0.2, 0.77, 1.02, 1.92, 0.74, 0.02, 1.72, 0.22, 0.96, 1.7, 1.03, 0.89, 1.6, 0.04, 1.15, 0.82,
];

describe("ROC", () => {
  it("matches the roc_curve docstring (pos_label=2)", () => {
    const { fpr, tpr, thresholds } = rocCurve([1, 1, 2, 2], [0.1, 0.4, 0.35, 0.8], { posLabel: 2 });
    nearAll(fpr, [0, 0, 0.5, 0.5, 1]);
    nearAll(tpr, [0, 0.5, 0.5, 1, 1]);
    nearAll(thresholds, [Infinity, 0.8, 0.4, 0.35, 0.1]);
  });

  it("matches the roc_auc_score example: 0.75", () => {
    assert.equal(rocAucScore([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]), 0.75);
  });

  it("handles ties exactly as scikit-learn's trapezoid (weighted and unweighted)", () => {
    near(rocAucScore(YT, SC), 0.644110275689223);
    near(rocAucScore(YT, SC, { sampleWeight: SW }), 0.6482753102817023);
    const full = rocCurve(YT, SC, { dropIntermediate: false });
    nearAll(
      full.fpr,
      [
        0, 0.05263157894736842, 0.10526315789473684, 0.21052631578947367, 0.21052631578947367, 0.3157894736842105,
        0.47368421052631576, 0.47368421052631576, 0.5789473684210527, 0.7368421052631579, 0.8947368421052632, 1,
      ],
    );
    nearAll(
      full.tpr,
      [
        0, 0.19047619047619047, 0.23809523809523808, 0.38095238095238093, 0.42857142857142855, 0.5714285714285714,
        0.6190476190476191, 0.6666666666666666, 0.8571428571428571, 0.8571428571428571, 0.8571428571428571, 1,
      ],
    );
    nearAll(full.thresholds, [Infinity, 1, 0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1, 0]);
    const weighted = rocCurve(YT, SC, { sampleWeight: SW });
    nearAll(
      weighted.fpr,
      [
        0, 0.061826432217810555, 0.15768576290414069, 0.2830402722631878, 0.2830402722631878, 0.3250141803743619,
        0.39478162223482705, 0.39478162223482705, 0.5802609188882587, 0.7328417470221216, 0.8984685195689167, 1,
      ],
    );
    nearAll(
      weighted.tpr,
      [
        0, 0.21741198858230254, 0.2502378686964795, 0.3506184586108468, 0.38534728829686005, 0.5404376784015222,
        0.5770694576593719, 0.6684110371075165, 0.8886774500475736, 0.8886774500475736, 0.8886774500475736, 1,
      ],
    );
  });

  it("drops collinear points without changing the area", () => {
    const { fpr, tpr } = rocCurve([0, 0, 0, 1, 1, 1], [0.1, 0.2, 0.3, 0.7, 0.8, 0.9]);
    nearAll(fpr, [0, 0, 0, 1]);
    nearAll(tpr, [0, 1 / 3, 1, 1]);
  });

  it("equals the Mann–Whitney statistic with ties counted as 1/2 (property)", () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: 0, max: 1 }), fc.integer({ min: 0, max: 5 })), {
          minLength: 2,
          maxLength: 50,
        }),
        (pairs) => {
          const y = pairs.map(([t]) => t);
          if (new Set(y).size < 2) return;
          const s = pairs.map(([, v]) => v / 5);
          let wins = 0;
          let total = 0;
          pairs.forEach(([ti, vi]) =>
            pairs.forEach(([tj, vj]) => {
              if (ti === 1 && tj === 0) {
                total++;
                wins += vi > vj ? 1 : vi === vj ? 0.5 : 0;
              }
            }),
          );
          near(rocAucScore(y, s), wins / total, 1e-12);
        },
      ),
      { numRuns: 150, seed: 2 },
    );
  });

  it("uses the larger label as positive, and reads a 2-column matrix as its second column", () => {
    near(rocAucScore(["no", "no", "yes", "yes"], [0.1, 0.4, 0.35, 0.8]), 0.75);
    near(
      rocAucScore(
        [0, 0, 1, 1],
        [
          [0.9, 0.1],
          [0.6, 0.4],
          [0.65, 0.35],
          [0.2, 0.8],
        ],
      ),
      0.75,
    );
  });

  it("averages one-vs-rest over probability columns (macro and weighted)", () => {
    // scikit-learn 1.2.1: roc_auc_score(YT3, P3, multi_class="ovr"[, average="weighted"])
    near(rocAucScore(YT3, P3), 0.4837850729517396);
    near(rocAucScore(YT3, P3, { average: "weighted" }), 0.49496632996632994);
    near(rocAucScore(YT3, Float64Array.from(P3.flat())), 0.4837850729517396);
    // the average_precision_score multiclass docstring scores: ROC AUC ovr 0.8333 (scikit-learn 1.2.1)
    const ys = [
      [0.7, 0.2, 0.1],
      [0.4, 0.3, 0.3],
      [0.1, 0.8, 0.1],
      [0.2, 0.3, 0.5],
      [0.4, 0.4, 0.2],
      [0.1, 0.2, 0.7],
    ];
    near(rocAucScore([0, 0, 1, 1, 2, 2], ys), 0.8333333333333334);
  });

  it("names bad input", () => {
    throwsMl(() => rocAucScore([1, 1, 1], [0.1, 0.2, 0.3]), /Only one class present in yTrue/);
    throwsMl(() => rocCurve(["a", "b"], [0.1, 0.2]), /posLabel is not given/);
    throwsMl(() => rocCurve([0, 1, 2], [0.1, 0.2, 0.3]), /needs a binary yTrue/);
    throwsMl(() => rocCurve([0, 1], [0.1]), /yTrue has 2 values but yScore has 1/);
    throwsMl(() => rocCurve([0, 1], [0.1, Number.NaN]), /yScore has NaN at index 1/);
    throwsMl(
      () =>
        rocAucScore(
          YT3,
          P3.map(([a, b]) => [a as number, b as number, 0.5]),
        ),
      /row 0 sums to/,
    );
    throwsMl(
      () =>
        rocAucScore(
          YT3,
          P3.map((r) => r.slice(0, 2)).map(([a]) => [a as number, 1 - (a as number)]),
        ),
      /3 classes but yScore has 2 columns/,
    );
    throwsMl(
      () =>
        rocAucScore(
          [0, 1, 2],
          [
            [0.5, 0.5, 0],
            [0, 1, 0],
            [0, 0, 1],
          ],
          { labels: [2, 1, 0] },
        ),
      /sorted/,
    );
    throwsMl(
      () =>
        rocAucScore(
          [0, 1, 3],
          [
            [0.5, 0.5, 0],
            [0, 1, 0],
            [0, 0, 1],
          ],
          { labels: [0, 1, 2] },
        ),
      /contains 3/,
    );
    throwsMl(() => auc([0, 1, 0.5], [0, 1, 1]), /neither increasing nor decreasing/);
  });

  it("warns when a class is missing from the curve", () => {
    const { tpr, warnings } = rocCurve([0, 0], [0.2, 0.3]);
    assert.ok(Number.isNaN(tpr[1]), "NaN tpr");
    assert.match(warnings[0] ?? "", /No positive samples/);
  });
});

describe("precision-recall and average precision", () => {
  it("match the precision_recall_curve and average_precision_score docstrings", () => {
    const { precision, recall, thresholds } = precisionRecallCurve([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]);
    nearAll(precision, [0.5, 2 / 3, 0.5, 1, 1]);
    nearAll(recall, [1, 1, 0.5, 0.5, 0]);
    nearAll(thresholds, [0.1, 0.35, 0.4, 0.8]);
    // average_precision_score([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]) -> 0.83...
    near(averagePrecisionScore([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]), 0.8333333333333333);
  });

  it("match scikit-learn 1.2.1 with ties and weights (step-wise, not trapezoid)", () => {
    near(averagePrecisionScore(YT, SC), 0.6601884176364794);
    near(averagePrecisionScore(YT, SC, { sampleWeight: SW }), 0.6686803599930875);
    const curve = precisionRecallCurve(YT, SC, { sampleWeight: SW });
    nearAll(
      curve.precision,
      [
        0.5438551099611901, 0.5411355735805331, 0.591139240506329, 0.6461432030439295, 0.6687291765825797,
        0.6354112100576217, 0.6647162083089526, 0.6187929717341482, 0.5962783171521036, 0.6542288557213931,
        0.8074204946996467, 1,
      ],
    );
    nearAll(curve.thresholds, [0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1]);
  });

  it("averages one-vs-rest for multiclass (average_precision_score docstring, scikit-learn ≥ 1.3: 0.77...)", () => {
    const ys = [
      [0.7, 0.2, 0.1],
      [0.4, 0.3, 0.3],
      [0.1, 0.8, 0.1],
      [0.2, 0.3, 0.5],
      [0.4, 0.4, 0.2],
      [0.1, 0.2, 0.7],
    ];
    near(averagePrecisionScore([0, 0, 1, 1, 2, 2], ys), 0.7777777777777777);
  });

  it("uses posLabel and rejects one that is not a label", () => {
    near(averagePrecisionScore(["a", "a", "b", "b"], [0.9, 0.6, 0.65, 0.2], { posLabel: "a" }), 0.8333333333333333);
    throwsMl(() => averagePrecisionScore(["a", "b"], [0.1, 0.2]), /posLabel=1 is not a valid label/);
  });

  it("is 1 for a perfect ranking and between 0 and 1 otherwise (property)", () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 1 }), { minLength: 2, maxLength: 40 }), (y) => {
        if (!y.includes(1)) return;
        near(
          averagePrecisionScore(
            y,
            y.map((v, i) => v + i * 1e-3),
          ),
          1,
        );
        const ap = averagePrecisionScore(
          y,
          y.map((_, i) => (i * 7919) % 13),
        );
        assert.ok(ap >= 0 && ap <= 1 + 1e-12, `ap ${ap}`);
      }),
      { numRuns: 100, seed: 6 },
    );
  });
});
