import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { CsrMatrix } from "../core/matrix.js";
import { dense, denseFromRows } from "../core/matrix.js";
import { LinearRegression } from "./linear-regression.js";
import { closeAll, throwsMl } from "../testing/assertions.js";

/*
 * Data: numpy RandomState(3): X30 = round(randn(30, 4) · 2, 3), Y30 = round(X30·[1.5, −2, 0.5, 3] + 4 + noise, 3),
 * SW30 = round(rand(30) · 3, 2), Y30B a second target; XW, YW a 5 × 8 problem (more features than rows).
 * SK: scikit-learn 1.2.1 coef_ / intercept_ of LinearRegression(...) and Ridge(...) fitted on them; the
 * rank-deficient design is [X30[:20, :2], 2 · X30[:20, 0], ones(20)].
 */
const X30 = [
  [3.577, 0.873, 0.193, -3.727],
  [-0.555, -0.71, -0.165, -1.254],
  [-0.088, -0.954, -2.628, 1.769],
  [1.763, 3.419, 0.1, -0.809],
  [-1.091, -3.093, 1.965, -2.202],
  [-2.37, -0.411, 2.972, 0.473],
  [-2.048, -1.426, 1.25, -0.321],
  [-1.538, -0.46, 1.49, 3.952],
  [-2.488, -1.253, -1.608, -4.838],
  [-1.848, -2.048, 2.248, -0.264],
  [-3.247, 1.293, -0.713, -3.486],
  [-1.193, -1.177, -1.748, 0.059],
  [-4.497, -0.536, 2.026, 1.706],
  [2.216, 2.239, 2.975, -2.237],
  [1.692, -3.722, -1.206, -3.829],
  [2.096, 2.667, -0.395, 3.549],
  [-1.349, 0.301, 0.306, -2.128],
  [0.876, 3.878, -2.05, 1.799],
  [-0.309, 3.539, 0.968, 1.352],
  [1.286, 0.498, -2.792, 2.783],
  [-2.741, 0.477, 1.228, -1.676],
  [0.29, 2.336, -0.048, -1.777],
  [-5.831, -1.944, -1.182, -1.033],
  [-1.92, 0.755, -1.149, -0.219],
  [1.358, -1.711, -0.6, 4.316],
  [1.749, -2.587, -0.159, 1.129],
  [2.467, 0.298, -1.061, -1.461],
  [1.29, 0.626, -1.033, -0.378],
  [-0.832, 1.449, -1.38, 0.973],
  [1.703, 0.972, -1.668, 2.69],
];
const Y30 = [
  -3.804, 0.956, 9.392, -3.443, 3.039, 4.316, 3.403, 15.352, -12.868, 5.287, -14.355, 4.822, 4.865, -2.637, 2.171,
  12.02, -5.085, 2.36, 0.736, 11.048, -5.933, -5.548, -4.484, -1.001, 21.749, 15.471, 2.404, 2.958, 2.501, 12.093,
];
const SW30 = [
  0.14, 0.17, 2.23, 0.91, 1.55, 0.47, 2.93, 1.51, 2.49, 0.22, 1.44, 0.19, 2.65, 1.34, 0.21, 0.23, 1.62, 0.23, 0.55,
  1.31, 1.49, 1.75, 1.86, 1.12, 1.86, 0.47, 0.83, 2.4, 0.46, 0.67,
];
const Y30B = [
  -3.706, -1.067, -1.148, -1.904, 2.13, 3.002, 3.777, 2.232, 1.977, 1.725, 1.217, 0.232, 3.477, -1.945, -1.044, -2.656,
  0.76, -2.423, 0.181, -1.038, 3.187, -1.073, 7.819, 3.115, -1.453, -2.276, -2.789, -1.139, 0.813, -1.219,
];
const XW = [
  [0.769, 1.366, 1.147, -0.11, 0.388, -0.387, -0.587, 1.911],
  [-0.46, 1.991, -0.349, 0.253, 1.089, 0.024, 0.393, -0.241],
  [-0.476, -0.166, -0.65, 1.631, -0.168, 1.723, -2.685, 0.018],
  [0.562, -0.294, 1.095, 0.64, -0.275, 0.435, 2.812, 0.252],
  [0.3, -0.44, 0.133, -1.289, -0.198, 2.458, 1.067, 0.641],
];
const YW = [1.104, 1.882, 0.594, 2.071, 1.07];
const SK = {
  ols: {
    coef: [[1.4650368908654738, -2.0376146242046715, 0.46474271103655695, 3.0146276462531514]],
    intercept: [3.973374148962594],
  },
  olsSw: {
    coef: [[1.4530323208995843, -2.0100973322397984, 0.5454449748511863, 3.0182771669428554]],
    intercept: [3.877207076935177],
  },
  olsNoIntercept: {
    coef: [[1.0674272837434038, -1.7786268859857335, 0.14496924775156306, 2.885389396677687]],
    intercept: [0.0],
  },
  olsMulti: {
    coef: [
      [1.4650368908654738, -2.0376146242046715, 0.46474271103655695, 3.0146276462531514],
      [-1.015941662316778, -0.1438769492760877, 0.13513944808591782, 0.03524285182583711],
    ],
    intercept: [3.973374148962594, -0.059495871286821655],
  },
  olsRankDeficient: {
    coef: [[0.15032065793972396, -0.7383953009927096, 0.3006413158794476, 0.0]],
    intercept: [2.328988153929932],
  },
  olsWide: {
    coef: [
      [
        -0.051049720604215226, 0.09535499734934572, -0.014061644748111002, 0.09591511597953409, 0.0663554375775878,
        -0.14306145524733194, 0.2768200136791704, -0.15836853873118573,
      ],
    ],
    intercept: [1.4237066106334144],
  },
  ridgeSw: {
    coef: [[1.4312533396649045, -1.968200822009323, 0.5296511927822672, 3.0021442969809073]],
    intercept: [3.8549604030366433],
  },
  ridgeNoIntercept: {
    coef: [[1.059920983987991, -1.762979182601587, 0.140765789235701, 2.8718940177193453]],
    intercept: [0.0],
  },
};

const close = (actual: ArrayLike<number>, expected: readonly number[], tol = 1e-10): void =>
  closeAll(actual, expected, tol);

const X = denseFromRows(X30);
const rankDeficient = denseFromRows(
  X30.slice(0, 20).map((r) => [r[0] as number, r[1] as number, 2 * (r[0] as number), 1]),
);

describe("LinearRegression against scikit-learn", () => {
  it("reproduces the docstring example: y = X·[1, 2] + 3", () => {
    // LinearRegression docstring: coef_ [1., 2.], intercept_ 3.0000..., predict([[3, 5]]) [16.], score 1.0
    const Xd = denseFromRows([
      [1, 1],
      [1, 2],
      [2, 2],
      [2, 3],
    ]);
    const model = new LinearRegression().fit(Xd, [6, 8, 9, 11]);
    close(model.coef, [1, 2], 1e-12);
    close(model.intercept, [3], 1e-12);
    close(model.predict(denseFromRows([[3, 5]])), [16], 1e-12);
  });

  const cases: [string, () => LinearRegression, { coef: number[][]; intercept: number[] }][] = [
    ["OLS", () => new LinearRegression().fit(X, Y30), SK.ols],
    ["OLS with sample weights", () => new LinearRegression().fit(X, Y30, { sampleWeight: SW30 }), SK.olsSw],
    ["OLS without intercept", () => new LinearRegression({ fitIntercept: false }).fit(X, Y30), SK.olsNoIntercept],
    [
      "OLS with two targets",
      () =>
        new LinearRegression().fit(
          X,
          Y30.map((v, i) => [v, Y30B[i] as number]),
        ),
      SK.olsMulti,
    ],
    [
      "OLS on a rank-deficient design (minimum norm)",
      () => new LinearRegression().fit(rankDeficient, Y30.slice(0, 20)),
      SK.olsRankDeficient,
    ],
    [
      "OLS with more features than rows (minimum norm)",
      () => new LinearRegression().fit(denseFromRows(XW), YW),
      SK.olsWide,
    ],
    [
      "Ridge(alpha=1.5) with sample weights",
      () => new LinearRegression({ alpha: 1.5 }).fit(X, Y30, { sampleWeight: SW30 }),
      SK.ridgeSw,
    ],
    [
      "Ridge(alpha=0.7) without intercept",
      () => new LinearRegression({ alpha: 0.7, fitIntercept: false }).fit(X, Y30),
      SK.ridgeNoIntercept,
    ],
  ];
  for (const [name, fit, reference] of cases) {
    it(name, () => {
      const model = fit();
      close(model.coef, reference.coef.flat(), 1e-9);
      close(model.intercept, reference.intercept, 1e-9);
    });
  }

  it("reports the rank as scikit-learn's rank_", () => {
    assert.equal(new LinearRegression().fit(X, Y30).rank, 4);
    assert.equal(new LinearRegression().fit(rankDeficient, Y30.slice(0, 20)).rank, 2);
    assert.equal(new LinearRegression().fit(denseFromRows(XW), YW).rank, 4);
  });
});

describe("LinearRegression behaviour", () => {
  it("gives the same fit on CSR input", () => {
    const rows = X30.map((r) => r.map((v) => (Math.abs(v) < 1 ? 0 : v)));
    const indptr = new Int32Array(rows.length + 1);
    const indices: number[] = [];
    const data: number[] = [];
    rows.forEach((row, i) => {
      row.forEach((v, j) => {
        if (v !== 0) {
          indices.push(j);
          data.push(v);
        }
      });
      indptr[i + 1] = indices.length;
    });
    const csr: CsrMatrix = {
      kind: "csr",
      rows: 30,
      cols: 4,
      indptr,
      indices: Int32Array.from(indices),
      data: Float64Array.from(data),
    };
    const a = new LinearRegression().fit(denseFromRows(rows), Y30);
    const b = new LinearRegression().fit(csr, Y30);
    close(b.coef, Array.from(a.coef), 1e-12);
    close(b.predict(csr), Array.from(a.predict(denseFromRows(rows))), 1e-12);
  });

  it("linearParams is the identity link and reproduces predict", () => {
    const model = new LinearRegression().fit(
      X,
      Y30.map((v, i) => [v, Y30B[i] as number]),
    );
    const params = model.linearParams();
    assert.equal(params.link, "identity");
    assert.equal(params.nOutputs, 2);
    assert.equal(params.classes, undefined);
    const predicted = model.predict(X);
    X30.forEach((row, i) => {
      for (let t = 0; t < 2; t++) {
        const z = row.reduce((acc, v, j) => acc + v * (params.weights[t * 4 + j] as number), params.bias[t] as number);
        assert.ok(Math.abs(z - (predicted[i * 2 + t] as number)) < 1e-12, `row ${i}`);
      }
    });
  });

  it("round-trips through JSON to identical predictions", () => {
    for (const model of [
      new LinearRegression({ alpha: 0.3 }).fit(X, Y30),
      new LinearRegression().fit(
        X,
        Y30.map((v, i) => [v, Y30B[i] as number]),
      ),
    ]) {
      const back = LinearRegression.fromJSON(JSON.parse(JSON.stringify(model.toJSON())));
      assert.deepEqual(back.predict(X), model.predict(X));
      assert.equal(back.alpha, model.alpha);
      assert.equal(back.nTargets, model.nTargets);
    }
    const good = new LinearRegression().fit(X, Y30).toJSON();
    throwsMl(() => LinearRegression.fromJSON({ ...good, coef: [[1, 2]] }), /coef\[0\] has 2 values, expected 4/);
    throwsMl(() => LinearRegression.fromJSON({ ...good, nTargets: 2 }), /one target expected/);
    throwsMl(() => LinearRegression.fromJSON({ ...good, version: "1" }), /version is "1"/);
    throwsMl(
      () => LinearRegression.fromJSON({ ...good, params: { fitIntercept: "yes", alpha: 0 } }),
      /fitIntercept must be a boolean/,
    );
  });

  it("names bad input", () => {
    throwsMl(() => new LinearRegression().fit(dense(0, 2), []), /empty training set/);
    throwsMl(() => new LinearRegression().fit(X, Y30.slice(2)), /X has 30 rows but y has 28 values/);
    throwsMl(
      () =>
        new LinearRegression().fit(
          X,
          Y30.map((v, i) => (i === 3 ? Number.NaN : v)),
        ),
      /y has NaN at index 3/,
    );
    throwsMl(() => new LinearRegression().fit(dense(1, 1, Float64Array.from([Infinity])), [1]), /X has Infinity/);
    throwsMl(() => new LinearRegression().fit(X, Y30, { sampleWeight: SW30.slice(1) }), /sampleWeight has 29 values/);
    throwsMl(() => new LinearRegression().fit(X, Y30, { sampleWeight: SW30.map(() => -1) }), /must not be negative/);
    throwsMl(() => new LinearRegression({ alpha: -1 }), /alpha must be/);
    throwsMl(() => new LinearRegression().predict(X), /not fitted yet/);
    throwsMl(
      () => new LinearRegression().fit(X, Y30).predict(dense(1, 3)),
      /X has 3 features, but the model was fitted with 4/,
    );
  });
});
