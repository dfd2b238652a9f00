import assert from "node:assert/strict";
import { test } from "node:test";
import { dense, denseFromRows, toRows, type DenseMatrix } from "../core/matrix.js";
import { Random } from "../core/random.js";
import { closeAll, throwsMl } from "../testing/assertions.js";
import { Pca } from "./pca.js";

// mean 0; covariance (ddof = 1) = diag(8/3, 2/3): ratios 0.8 and 0.2, axes x then y
const CROSS = denseFromRows([
  [2, 0],
  [-2, 0],
  [0, 1],
  [0, -1],
]);

function correlated(n: number, d: number, seed: number): DenseMatrix {
  const random = new Random(seed);
  const m = dense(n, d);
  for (let i = 0; i < n; i++) {
    const a = random.normal();
    const b = random.normal();
    for (let j = 0; j < d; j++) m.data[i * d + j] = (j + 1) * a + (j % 2 === 0 ? b : -b) + 0.1 * random.normal() + j;
  }
  return m;
}

test("a hand-checkable case: variances 8/3 and 2/3 along x and y", () => {
  const pca = Pca.fit(CROSS);
  assert.equal(pca.nComponents, 2);
  closeAll(pca.mean, [0, 0], 0);
  closeAll(pca.explainedVariance, [8 / 3, 2 / 3], 1e-15);
  closeAll(pca.explainedVarianceRatio, [0.8, 0.2], 1e-15);
  assert.deepEqual(toRows(pca.components), [
    [1, 0],
    [0, 1],
  ]);
  assert.deepEqual(toRows(pca.transform(denseFromRows([[3, -1]]))), [[3, -1]]);
});

test("varianceToKeep keeps the fewest components explaining more than the share, as scikit-learn", () => {
  assert.equal(Pca.fit(CROSS, { varianceToKeep: 0.75 }).nComponents, 1);
  assert.equal(Pca.fit(CROSS, { varianceToKeep: 0.85 }).nComponents, 2);
  assert.equal(Pca.fit(CROSS, { varianceToKeep: 1 }).nComponents, 2);
  assert.equal(Pca.fit(CROSS, { nComponents: 1 }).nComponents, 1);
  // five columns driven by two factors: two components explain almost everything
  const x = correlated(500, 5, 1);
  const pca = Pca.fit(x, { varianceToKeep: 0.95 });
  assert.equal(pca.nComponents, 2);
  const ratio = pca.explainedVarianceRatio;
  assert.ok((ratio[0] as number) + (ratio[1] as number) > 0.99);
});

test("with one component the reconstruction error of a row is its distance to the principal line", () => {
  const pca = Pca.fit(CROSS, { nComponents: 1 });
  const points = denseFromRows([
    [5, 0],
    [1, 3],
    [-2, -0.5],
  ]);
  closeAll(pca.reconstructionErrors(points), [0, 3, 0.5], 1e-15);
  assert.deepEqual(toRows(pca.inverseTransform(pca.transform(points))), [
    [5, 0],
    [1, 0],
    [-2, 0],
  ]);
});

test("properties on correlated data: orthonormal components, exact reconstruction with all of them", () => {
  const x = correlated(300, 6, 2);
  const full = Pca.fit(x);
  const c = full.components;
  for (let a = 0; a < 6; a++) {
    for (let b = 0; b < 6; b++) {
      let dot = 0;
      for (let j = 0; j < 6; j++) dot += (c.data[a * 6 + j] as number) * (c.data[b * 6 + j] as number);
      assert.ok(Math.abs(dot - (a === b ? 1 : 0)) < 1e-12);
    }
  }
  const errors = full.reconstructionErrors(x);
  assert.ok(
    errors.every((e) => e < 1e-10),
    "all components reconstruct exactly",
  );
  closeAll(full.inverseTransform(full.transform(x)).data, Array.from(x.data), 1e-12);
  // the variance of the scores along each component is its explained variance; the scores are uncorrelated
  const scores = full.transform(x);
  const variance = new Float64Array(6);
  for (let i = 0; i < x.rows; i++) {
    for (let k = 0; k < 6; k++)
      variance[k] = (variance[k] as number) + (scores.data[i * 6 + k] as number) ** 2 / (x.rows - 1);
  }
  closeAll(variance, Array.from(full.explainedVariance), 1e-10);

  // with fewer components, reconstructionErrors equals ‖x − inverse(transform(x))‖
  const two = Pca.fit(x, { nComponents: 2 });
  const rebuilt = two.inverseTransform(two.transform(x));
  const expected = Array.from({ length: x.rows }, (_, i) => {
    let s = 0;
    for (let j = 0; j < 6; j++) s += ((x.data[i * 6 + j] as number) - (rebuilt.data[i * 6 + j] as number)) ** 2;
    return Math.sqrt(s);
  });
  closeAll(two.reconstructionErrors(x), expected, 1e-12);
});

test("toJSON / fromJSON round-trip exactly; a bad JSON is refused with a precise error", () => {
  const x = correlated(200, 4, 3);
  const pca = Pca.fit(x, { varianceToKeep: 0.9 });
  const restored = Pca.fromJSON(JSON.parse(JSON.stringify(pca.toJSON())));
  assert.deepEqual(restored.reconstructionErrors(x), pca.reconstructionErrors(x));
  assert.deepEqual(restored.transform(x), pca.transform(x));
  assert.deepEqual(restored.explainedVarianceRatio, pca.explainedVarianceRatio);
  throwsMl(() => Pca.fromJSON({ ...pca.toJSON(), type: "SVD" }), /expects type "PCA"/);
  throwsMl(() => Pca.fromJSON({ ...pca.toJSON(), components: [[1, 2]] }), /"components" must be/);
});

test("bad input: NaN, too few rows, constant data, conflicting options, width mismatch", () => {
  throwsMl(
    () =>
      Pca.fit(
        denseFromRows([
          [1, Number.NaN],
          [2, 3],
        ]),
      ),
    /X has NaN at row 0, column 1 \(impute first\)/,
  );
  throwsMl(() => Pca.fit(denseFromRows([[1, 2]])), /at least 2 rows/);
  throwsMl(
    () =>
      Pca.fit(
        denseFromRows([
          [1, 2],
          [1, 2],
        ]),
      ),
    /every column of X is constant/,
  );
  throwsMl(() => Pca.fit(CROSS, { nComponents: 1, varianceToKeep: 0.5 }), /not both/);
  throwsMl(() => Pca.fit(CROSS, { nComponents: 3 }), /nComponents must be an integer in \[1, 2\], got 3/);
  throwsMl(() => Pca.fit(CROSS, { varianceToKeep: 0 }), /varianceToKeep must be in \(0, 1\], got 0/);
  throwsMl(() => Pca.fit(CROSS).transform(dense(1, 3)), /X has 3 columns, expected 2/);
});
