import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { MlError } from "../core/errors.js";
import type { Label } from "../core/linear.js";
import type { CsrMatrix, DenseMatrix, Matrix } from "../core/matrix.js";
import { dense, denseFromRows, selectRows, toRows } from "../core/matrix.js";
import { Random } from "../core/random.js";
import { LogisticRegression } from "./logistic-regression.js";
import { irisX, irisY } from "./testing/iris.js";
import { logisticGradient, newtonLogistic } from "./testing/newton.js";
import type { NewtonProblem } from "./testing/newton.js";
import { throwsMl } from "../testing/assertions.js";

/*
 * Reference coefficients: scikit-learn 1.2.1's own objective (sklearn.linear_model._linear_loss.LinearModelLoss
 * with HalfBinomialLoss / HalfMultinomialLoss, sample weights times compute_class_weight) minimised by SciPy
 * L-BFGS-B started from LogisticRegression(...).fit(...) and polished by Newton steps to a gradient below 1e-13,
 * intercepts centred; i.e. scikit-learn's converged LogisticRegression(solver="lbfgs") solution.
 */
const SK_IRIS_MULTINOMIAL = {
  coef: [
    [-0.4235099201227137, 0.9673505795715522, -2.517152377609209, -1.0793366485007183],
    [0.534461508995922, -0.3215878551919349, -0.20639207129486967, -0.9442984653963364],
    [-0.11095158887321413, -0.6457627243796211, 2.7235444489040765, 2.0236351138970567],
  ],
  intercept: [9.849568050482123, 2.237205632203193, -12.086773682685315],
};
// iris rows of classes 1 and 2, C=0.5
const SK_IRIS_BINARY_C05 = {
  coef: [[-0.10208732347085456, -0.2625915224588584, 2.304020943592777, 1.7748768778428148]],
  intercept: [-12.842514153828706],
};
// first 130 iris rows, C=2, class_weight="balanced", sample_weight = SW_130
const SK_IRIS_BALANCED_SW = {
  coef: [
    [-0.45447388163015917, 1.3732624603429253, -3.323085345424098, -1.4496152634169137],
    [0.430281544684398, -0.1112668903418604, -0.2915362849207181, -1.3865306298309563],
    [0.024192336945726513, -1.261995570001092, 3.6146216303447933, 2.8361458932478594],
  ],
  intercept: [12.345563193476787, 3.9704154037630133, -16.3159785972398],
};
// numpy.random.RandomState(0).randint(0, 4, size=150)[:130]
const SW_130 = [
  0, 3, 1, 0, 3, 3, 3, 3, 1, 3, 1, 2, 0, 3, 2, 0, 0, 0, 2, 1, 2, 3, 3, 2, 0, 1, 1, 1, 1, 0, 1, 0, 3, 0, 3, 1, 2, 3, 3,
  0, 2, 3, 0, 1, 3, 1, 3, 3, 2, 3, 0, 1, 1, 1, 3, 0, 3, 2, 0, 3, 3, 2, 3, 2, 3, 0, 2, 0, 0, 0, 1, 1, 2, 0, 0, 1, 3, 0,
  1, 2, 2, 3, 0, 1, 1, 3, 1, 1, 3, 2, 3, 3, 2, 2, 3, 0, 2, 3, 1, 0, 1, 2, 0, 3, 0, 2, 0, 3, 3, 0, 3, 0, 0, 0, 0, 2, 3,
  0, 3, 2, 3, 3, 1, 1, 1, 0, 1, 1, 1, 3,
];
// all iris rows, y == 2 against the rest, fit_intercept=False
const SK_IRIS_BINARY_NO_INTERCEPT = {
  coef: [[-1.8639407797728378, -1.6471222664094056, 2.4784778349361667, 2.5936039218227838]],
  intercept: [0],
};
// all iris rows, C=0.3, class_weight={0: 1.0, 1: 2.5, 2: 0.5}
const SK_IRIS_CLASS_WEIGHT = {
  coef: [
    [-0.4095848045079705, 0.6515474545432651, -1.910727385514845, -0.7962856798299344],
    [0.20231094307673167, -0.46686343918715056, 0.05689202983636471, -0.4673981808088531],
    [0.2072738614312391, -0.18468401535611598, 1.8538353556784835, 1.2636838606387872],
  ],
  intercept: [7.951381403582566, 2.882870007749873, -10.83425141133244],
};

const TIGHT = { tol: 1e-10, ftol: 0, maxIter: 1000 };

function rowsOf(values: Float64Array, cols: number): number[][] {
  return toRows(dense(values.length / cols, cols, values));
}

function assertClose(
  actual: readonly (readonly number[])[],
  expected: readonly (readonly number[])[],
  tol: number,
): void {
  assert.equal(actual.length, expected.length);
  actual.forEach((row, i) => {
    const want = expected[i] as readonly number[];
    assert.equal(row.length, want.length);
    row.forEach((v, j) => {
      const w = want[j] as number;
      assert.ok(Math.abs(v - w) <= tol, `[${i}][${j}]: ${v} vs ${w} (tol ${tol})`);
    });
  });
}

function toCsr(m: DenseMatrix): CsrMatrix {
  const indptr = new Int32Array(m.rows + 1);
  const indices: number[] = [];
  const data: number[] = [];
  for (let i = 0; i < m.rows; i++) {
    for (let j = 0; j < m.cols; j++) {
      const v = m.data[i * m.cols + j] as number;
      if (v !== 0) {
        indices.push(j);
        data.push(v);
      }
    }
    indptr[i + 1] = indices.length;
  }
  return {
    kind: "csr",
    rows: m.rows,
    cols: m.cols,
    indptr,
    indices: Int32Array.from(indices),
    data: Float64Array.from(data),
  };
}

/** Checks the fit against the reference, the Newton solver and the independent gradient. */
function checkAgainstReferences(
  model: LogisticRegression,
  problem: NewtonProblem,
  reference: { coef: number[][]; intercept: number[] },
): void {
  const coef = rowsOf(model.coef, model.nFeatures);
  const intercept = Array.from(model.intercept);
  assertClose(coef, reference.coef, 1e-6);
  assertClose([intercept], [reference.intercept], 1e-6);
  const newton = newtonLogistic(problem);
  assertClose(coef, newton.coef, 1e-6);
  assertClose([intercept], [newton.intercept], 1e-6);
  // the full gradient of C·Σ logloss + ½‖W‖², relative to C·Σweights: ~0 at the unique optimum
  const g = logisticGradient(problem, coef, intercept);
  const scale = problem.C * (problem.weights ?? problem.y.map(() => 1)).reduce((a, b) => a + b, 0);
  const worst = Math.max(...g.map(Math.abs)) / scale;
  assert.ok(worst < 1e-8, `relative gradient ${worst}`);
}

describe("LogisticRegression against scikit-learn's converged solution", () => {
  const X = irisX();
  const y = irisY();
  const rows = toRows(X);

  it("multinomial on iris (3 classes, C=1)", () => {
    const model = new LogisticRegression(TIGHT).fit(X, y);
    assert.ok(model.converged, model.convergenceWarning);
    assert.deepEqual(model.classes, [0, 1, 2]);
    checkAgainstReferences(model, { X: rows, y, nClasses: 3, C: 1, fitIntercept: true }, SK_IRIS_MULTINOMIAL);
    const sum = Array.from(model.intercept).reduce((a, b) => a + b, 0);
    assert.ok(Math.abs(sum) < 1e-12, "intercepts centred");
  });

  it("binary on iris classes 1 and 2 with string labels, C=0.5", () => {
    const index = y.flatMap((c, i) => (c > 0 ? [i] : []));
    const names = index.map((i) => (y[i] === 1 ? "versicolor" : "virginica"));
    const model = new LogisticRegression({ ...TIGHT, C: 0.5 }).fit(selectRows(X, index), names);
    assert.deepEqual(model.classes, ["versicolor", "virginica"]);
    assert.equal(model.coef.length, 4, "one weight row, scoring classes[1]");
    checkAgainstReferences(
      model,
      {
        X: index.map((i) => rows[i] as number[]),
        y: index.map((i) => (y[i] === 2 ? 1 : 0)),
        nClasses: 2,
        C: 0.5,
        fitIntercept: true,
      },
      SK_IRIS_BINARY_C05,
    );
  });

  it("multinomial with class_weight='balanced' and sample weights (zeros included), C=2", () => {
    const index = Array.from({ length: 130 }, (_, i) => i);
    const y130 = y.slice(0, 130);
    const model = new LogisticRegression({ ...TIGHT, C: 2, classWeight: "balanced" }).fit(selectRows(X, index), y130, {
      sampleWeight: SW_130,
    });
    // compute_class_weight("balanced"): 130 / (3 · count) with counts 50, 50, 30
    const cw = [130 / 150, 130 / 150, 130 / 90];
    checkAgainstReferences(
      model,
      {
        X: rows.slice(0, 130),
        y: y130,
        nClasses: 3,
        C: 2,
        fitIntercept: true,
        weights: y130.map((c, i) => (SW_130[i] as number) * (cw[c] as number)),
      },
      SK_IRIS_BALANCED_SW,
    );
  });

  it("binary without intercept", () => {
    const yb = y.map((c) => (c === 2 ? 1 : 0));
    const model = new LogisticRegression({ ...TIGHT, fitIntercept: false }).fit(X, yb);
    assert.deepEqual(Array.from(model.intercept), [0]);
    checkAgainstReferences(
      model,
      { X: rows, y: yb, nClasses: 2, C: 1, fitIntercept: false },
      SK_IRIS_BINARY_NO_INTERCEPT,
    );
  });

  it("multinomial with a class-weight record, C=0.3", () => {
    const classWeight = { "0": 1, "1": 2.5, "2": 0.5 };
    const model = new LogisticRegression({ ...TIGHT, C: 0.3, classWeight }).fit(X, y);
    const cw = [1, 2.5, 0.5];
    checkAgainstReferences(
      model,
      { X: rows, y, nClasses: 3, C: 0.3, fitIntercept: true, weights: y.map((c) => cw[c] as number) },
      SK_IRIS_CLASS_WEIGHT,
    );
  });

  it("reproduces the LogisticRegression docstring example on iris", () => {
    // scikit-learn's LogisticRegression docstring: clf = LogisticRegression(random_state=0).fit(X, y)
    // clf.predict(X[:2, :]) -> array([0, 0]); clf.predict_proba(X[:2, :]) ->
    // array([[9.8...e-01, 1.8...e-02, 1.4...e-08], [9.7...e-01, 2.8...e-02, ...e-08]]); clf.score(X, y) -> 0.97...
    const model = new LogisticRegression({ maxIter: 1000 }).fit(X, y);
    const first = selectRows(X, [0, 1]);
    assert.deepEqual(model.predict(first), [0, 0]);
    const p = model.predictProba(first);
    assert.equal(Math.floor((p[0] as number) * 100), 98);
    assert.equal(Math.floor((p[1] as number) * 1000), 18);
    assert.equal(Math.floor((p[2] as number) * 1e9), 14);
    assert.equal(Math.floor((p[3] as number) * 100), 97);
    assert.equal(Math.floor((p[4] as number) * 1000), 28);
    const predicted = model.predict(X);
    const accuracy = predicted.filter((c, i) => c === y[i]).length / y.length;
    assert.equal(Math.floor(accuracy * 100), 97);
  });
});

describe("LogisticRegression on sparse input", () => {
  it("gives the same fit on CSR as on dense", () => {
    const X = irisX();
    const y = irisY();
    // make it sparser: zero the small values so the CSR has holes
    const data = X.data.map((v) => (v < 1 ? 0 : v));
    const Xd = dense(X.rows, X.cols, data);
    const a = new LogisticRegression(TIGHT).fit(Xd, y);
    const b = new LogisticRegression(TIGHT).fit(toCsr(Xd), y);
    assertClose([Array.from(a.coef)], [Array.from(b.coef)], 1e-9);
    assertClose([Array.from(a.intercept)], [Array.from(b.intercept)], 1e-9);
    assertClose([Array.from(a.predictProba(Xd))], [Array.from(b.predictProba(toCsr(Xd)))], 1e-12);
  });

  it("fits a 3,000 × 20,000 sparse binary problem quickly and to a tiny gradient", () => {
    const rng = new Random(7);
    const rows = 3000;
    const cols = 20000;
    const truth = new Float64Array(cols).map(() => rng.normal());
    const indptr = new Int32Array(rows + 1);
    const indices: number[] = [];
    const values: number[] = [];
    const y: number[] = [];
    for (let i = 0; i < rows; i++) {
      const picked = new Set<number>();
      while (picked.size < 60) picked.add(rng.int(cols));
      const sorted = [...picked].sort((p, q) => p - q);
      let z = 0;
      for (const j of sorted) {
        const v = rng.next() * 0.3;
        indices.push(j);
        values.push(v);
        z += v * (truth[j] as number);
      }
      indptr[i + 1] = indices.length;
      y.push(rng.next() < 1 / (1 + Math.exp(-z)) ? 1 : 0);
    }
    const X: Matrix = {
      kind: "csr",
      rows,
      cols,
      indptr,
      indices: Int32Array.from(indices),
      data: Float64Array.from(values),
    };
    const start = performance.now();
    const model = new LogisticRegression({ C: 10, tol: 1e-8, ftol: 0, maxIter: 1000 }).fit(X, y);
    const seconds = (performance.now() - start) / 1000;
    assert.ok(model.converged, model.convergenceWarning);
    assert.ok(seconds < 2, `fit took ${seconds.toFixed(2)} s`);
  });
});

describe("LogisticRegression behaviour", () => {
  const X = irisX();
  const y = irisY();

  it("reports iterations, a non-increasing loss history and calls onIteration", () => {
    const seen: number[] = [];
    const model = new LogisticRegression(TIGHT).fit(X, y, {
      onIteration: ({ iteration, loss, gradientNorm }) => {
        seen.push(iteration);
        assert.ok(Number.isFinite(loss) && gradientNorm >= 0, `iteration ${iteration}`);
      },
    });
    assert.equal(seen.length, model.nIter);
    assert.deepEqual(
      seen,
      Array.from({ length: model.nIter }, (_, i) => i + 1),
    );
    assert.equal(model.lossHistory.length, model.nIter + 1);
    assert.ok(Math.abs((model.lossHistory[0] as number) - Math.log(3)) < 1e-14, "the scaled loss at W = 0 is log(3)");
    // non-increasing, up to the rounding the approximate Wolfe steps of the last iterations allow
    for (let i = 1; i < model.lossHistory.length; i++) {
      const [before, after] = [model.lossHistory[i - 1] as number, model.lossHistory[i] as number];
      assert.ok(after <= before * (1 + 1e-12), `loss rose from ${before} to ${after} at iteration ${i}`);
    }
    assert.equal(model.convergenceWarning, undefined);
  });

  it("warns like sklearn's ConvergenceWarning when maxIter is reached", () => {
    const model = new LogisticRegression({ maxIter: 3 }).fit(X, y);
    assert.equal(model.converged, false);
    assert.equal(model.nIter, 3);
    assert.match(model.convergenceWarning ?? "", /failed to converge after 3 iterations/);
  });

  it("predicts probabilities that sum to 1 and classes that maximise them", () => {
    const model = new LogisticRegression().fit(X, y);
    const p = model.predictProba(X);
    const predicted = model.predict(X);
    for (let i = 0; i < X.rows; i++) {
      const row = [p[3 * i] as number, p[3 * i + 1] as number, p[3 * i + 2] as number];
      assert.ok(Math.abs(row[0]! + row[1]! + row[2]! - 1) < 1e-12, `row ${i}`);
      assert.equal(predicted[i], row.indexOf(Math.max(...row)));
    }
  });

  it("binary: predict_proba columns are [1 − p, p], decision function is the score of classes[1]", () => {
    const yb = y.map((c) => (c === 0 ? "setosa" : "other"));
    const model = new LogisticRegression().fit(X, yb);
    assert.deepEqual(model.classes, ["other", "setosa"]);
    const d = model.decisionFunction(X);
    const p = model.predictProba(X);
    assert.equal(d.length, X.rows);
    for (let i = 0; i < X.rows; i++) {
      assert.ok(Math.abs((p[2 * i + 1] as number) - 1 / (1 + Math.exp(-(d[i] as number)))) < 1e-15, `row ${i}`);
      assert.ok(Math.abs((p[2 * i] as number) + (p[2 * i + 1] as number) - 1) < 1e-15, `row ${i}`);
    }
    assert.deepEqual(model.predict(X), yb);
  });

  it("linearParams reproduce predictProba (sigmoid for 2 classes, softmax otherwise)", () => {
    for (const labels of [y, y.map((c) => (c === 1 ? 1 : 0))]) {
      const model = new LogisticRegression().fit(X, labels);
      const params = model.linearParams();
      const proba = model.predictProba(X);
      const k = model.classes.length;
      assert.equal(params.link, k === 2 ? "sigmoid" : "softmax");
      assert.equal(params.nOutputs, k === 2 ? 1 : k);
      assert.deepEqual(params.classes, model.classes);
      for (let i = 0; i < X.rows; i++) {
        const scores = Array.from({ length: params.nOutputs }, (_, o) => {
          let z = params.bias[o] as number;
          for (let j = 0; j < 4; j++) z += (params.weights[o * 4 + j] as number) * (X.data[i * 4 + j] as number);
          return z;
        });
        const probs =
          k === 2
            ? [1 - 1 / (1 + Math.exp(-scores[0]!)), 1 / (1 + Math.exp(-scores[0]!))]
            : scores.map((s) => Math.exp(s) / scores.reduce((a, b) => a + Math.exp(b), 0));
        probs.forEach((q, c) => assert.ok(Math.abs(q - (proba[i * k + c] as number)) < 1e-12, `row ${i}`));
      }
    }
  });

  it("integer sample weights equal repeated rows", () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 3 }), { minLength: 40, maxLength: 40 }), (weights) => {
        const index = Array.from({ length: 40 }, (_, i) => i * 3 + 10);
        const labels = index.map((i) => y[i] as number);
        if (new Set(labels.filter((_, i) => weights[i]! > 0)).size < 3) return;
        const repeated = index.flatMap((i, r) => Array.from({ length: weights[r]! }, () => i));
        const tight = { ...TIGHT, tol: 1e-12 };
        const a = new LogisticRegression(tight).fit(selectRows(X, index), labels, { sampleWeight: weights });
        const b = new LogisticRegression(tight).fit(
          selectRows(X, repeated),
          repeated.map((i) => y[i] as number),
        );
        assertClose([Array.from(a.coef), Array.from(a.intercept)], [Array.from(b.coef), Array.from(b.intercept)], 1e-6);
      }),
      { numRuns: 8, seed: 42 },
    );
  });

  it("stays finite on separable data with huge feature values", () => {
    const Xh = denseFromRows([
      [1e6, -1e6],
      [2e6, -3e6],
      [-1e6, 1e6],
      [-3e6, 2e6],
    ]);
    const model = new LogisticRegression({ C: 1e6 }).fit(Xh, [1, 1, 0, 0]);
    for (const v of model.lossHistory) assert.ok(Number.isFinite(v), "finite loss");
    const p = model.predictProba(Xh);
    for (const v of p) assert.ok(Number.isFinite(v) && v >= 0 && v <= 1, `probability ${v}`);
    assert.deepEqual(model.predict(Xh), [1, 1, 0, 0]);
  });

  it("is deterministic", () => {
    const a = new LogisticRegression().fit(X, y);
    const b = new LogisticRegression().fit(X, y);
    assert.deepEqual(a.coef, b.coef);
    assert.deepEqual(a.intercept, b.intercept);
  });
});

describe("LogisticRegression JSON", () => {
  const X = irisX();
  const y = irisY();

  it("round-trips to identical predictions (multinomial and binary, through JSON text)", () => {
    for (const labels of [y as Label[], y.map((c) => (c === 2 ? "b" : "a"))]) {
      const model = new LogisticRegression({ C: 0.7, classWeight: "balanced" }).fit(X, labels);
      const json: unknown = JSON.parse(JSON.stringify(model.toJSON()));
      const back = LogisticRegression.fromJSON(json);
      assert.deepEqual(back.predictProba(X), model.predictProba(X));
      assert.deepEqual(back.predict(X), model.predict(X));
      assert.deepEqual(back.classes, model.classes);
      assert.equal(back.C, 0.7);
      assert.equal(back.classWeight, "balanced");
      assert.equal(back.nIter, model.nIter);
    }
  });

  it("rejects malformed objects with MlError naming the problem", () => {
    const good = new LogisticRegression().fit(X, y).toJSON();
    const cases: [unknown, RegExp][] = [
      [null, /expected an object/],
      [{ ...good, type: "MultinomialNB" }, /type is "MultinomialNB"/],
      [{ ...good, version: 2 }, /version is 2/],
      [{ ...good, classes: [0, 1] }, /coef has 3 rows, expected 1/],
      [{ ...good, classes: [2, 1, 0] }, /sorted/],
      [{ ...good, classes: [0, "1", 2] }, /mixes numbers and strings/],
      [{ ...good, coef: good.coef.map((r) => r.slice(1)) }, /coef\[0\] has 3 values, expected 4/],
      [{ ...good, intercept: [1, 2] }, /intercept has 2 values, expected 3/],
      [{ ...good, intercept: [1, "x", 2] }, /intercept\[1\] must be a finite number/],
      [{ ...good, nFeatures: 0 }, /nFeatures must be an integer ≥ 1/],
      [{ ...good, params: { ...good.params, C: -1 } }, /C must be a positive number/],
      [{ ...good, params: undefined }, /params must be an object/],
    ];
    for (const [value, message] of cases) {
      assert.throws(
        () => LogisticRegression.fromJSON(value),
        (e: unknown) => e instanceof MlError && message.test(e.message),
      );
    }
  });
});

describe("LogisticRegression input errors", () => {
  const X = irisX();
  const y = irisY();

  it("names each problem", () => {
    throwsMl(() => new LogisticRegression().fit(dense(0, 4), []), /empty training set/);
    throwsMl(
      () =>
        new LogisticRegression().fit(
          X,
          y.map(() => 1),
        ),
      /at least 2 classes.*only 1/,
    );
    const nan = dense(2, 1, Float64Array.from([1, Number.NaN]));
    throwsMl(() => new LogisticRegression().fit(nan, [0, 1]), /X has NaN at row 1, column 0/);
    const inf = dense(2, 1, Float64Array.from([Infinity, 1]));
    throwsMl(() => new LogisticRegression().fit(inf, [0, 1]), /X has Infinity at row 0/);
    throwsMl(() => new LogisticRegression().fit(X, y.slice(1)), /X has 150 rows but y has 149 values/);
    throwsMl(
      () => new LogisticRegression().fit(X, y, { sampleWeight: [1, 2] }),
      /sampleWeight has 2 values but X has 150 rows/,
    );
    const negative = y.map((_, i) => (i === 5 ? -1 : 1));
    throwsMl(() => new LogisticRegression().fit(X, y, { sampleWeight: negative }), /sampleWeight\[5\] is -1/);
    throwsMl(() => new LogisticRegression().fit(X, y, { sampleWeight: y.map(() => 0) }), /sums to 0/);
    throwsMl(() => new LogisticRegression({ classWeight: { "7": 2 } }).fit(X, y), /"7", which is not a class/);
    throwsMl(() => new LogisticRegression({ C: 0 }), /C must be a positive number/);
    throwsMl(() => new LogisticRegression().fit(X, [...y.slice(0, 149), "a"]), /mixes numbers and strings/);
    throwsMl(() => new LogisticRegression().predict(X), /not fitted yet/);
    throwsMl(() => new LogisticRegression().coef, /not fitted yet/);
    const model = new LogisticRegression().fit(X, y);
    throwsMl(() => model.predict(dense(2, 5)), /X has 5 features, but the model was fitted with 4/);
    throwsMl(() => model.predictProba(dense(1, 1, Float64Array.from([Number.NaN]))), /X has 1 features/);
    throwsMl(() => model.predict(dense(1, 4, Float64Array.from([1, 2, Number.NaN, 3]))), /X has NaN/);
  });
});
