import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { MlError } from "../core/errors.js";
import { denseFromRows, toRows } from "../core/matrix.js";
import { StandardScaler } from "./standard-scaler.js";

/** Doctest outputs with "..." are printed prefixes: each value must start with the printed digits. */
function assertPrinted(actual: ArrayLike<number>, printed: string[]): void {
  assert.equal(actual.length, printed.length);
  Array.from(actual).forEach((v, j) => {
    const p = printed[j] as string;
    assert.ok(String(v).startsWith(p) || (Number(p) === 0 && Math.abs(v) < 1e-15), `${j}: ${v} vs ${p}...`);
  });
}

test("user guide example: mean_, scale_, transformed training and test data", () => {
  // Source: scikit-learn user guide, "Standardization, or mean removal and variance scaling".
  const X = denseFromRows([
    [1, -1, 2],
    [2, 0, 0],
    [0, 1, -1],
  ]);
  const scaler = new StandardScaler().fit(X);
  assertPrinted(scaler.mean ?? [], ["1", "0", "0.33"]);
  assertPrinted(scaler.scale ?? [], ["0.81", "0.81", "1.24"]);
  const rows = toRows(scaler.transform(X));
  assertPrinted(rows[0] ?? [], ["0", "-1.22", "1.33"]);
  assertPrinted(rows[1] ?? [], ["1.22", "0", "-0.26"]);
  assertPrinted(rows[2] ?? [], ["-1.22", "1.22", "-1.06"]);
  assertPrinted(toRows(scaler.transform(denseFromRows([[-1, 1, 0]])))[0] ?? [], ["-2.44", "1.22", "-0.26"]);
  // "Scaled data has zero mean and unit variance."
  const z = new StandardScaler().fit(scaler.transform(X));
  for (const m of z.mean ?? []) assert.ok(Math.abs(m) < 1e-15);
  for (const v of z.variance ?? []) assert.ok(Math.abs(v - 1) < 1e-12);
});

test("docstring example", () => {
  // Source: StandardScaler docstring: mean_ [0.5 0.5], transform(data), transform([[2, 2]]) == [[3, 3]].
  const data = denseFromRows([
    [0, 0],
    [0, 0],
    [1, 1],
    [1, 1],
  ]);
  const scaler = new StandardScaler().fit(data);
  assert.deepEqual(Array.from(scaler.mean ?? []), [0.5, 0.5]);
  assert.deepEqual(toRows(scaler.transform(data)), [
    [-1, -1],
    [-1, -1],
    [1, 1],
    [1, 1],
  ]);
  assert.deepEqual(toRows(scaler.transform(denseFromRows([[2, 2]]))), [[3, 3]]);
});

test("constant and near-constant columns keep scale 1; population variance (ddof 0)", () => {
  const X = denseFromRows([
    [5, 0.1, 1],
    [5, 0.1, 2],
    [5, 0.1, 3],
    [5, 0.1, 4],
  ]);
  const s = new StandardScaler().fit(X);
  assert.deepEqual(Array.from(s.scale ?? []).slice(0, 2), [1, 1]);
  assert.equal(s.variance?.[2], 1.25); // ((1.5² + 0.5²) · 2) / 4
  assert.equal(s.scale?.[2], Math.sqrt(1.25));
  assert.deepEqual(
    toRows(s.transform(X)).map((r) => r.slice(0, 2)),
    [
      [0, 0],
      [0, 0],
      [0, 0],
      [0, 0],
    ],
  );
});

test("withMean / withStd switches", () => {
  const X = denseFromRows([[1], [3]]);
  const noMean = new StandardScaler({ withMean: false }).fit(X);
  assert.deepEqual(toRows(noMean.transform(X)), [[1], [3]]); // scale 1 = std of [1, 3]
  assert.equal(noMean.mean?.[0], 2);
  const noStd = new StandardScaler({ withStd: false }).fit(X);
  assert.deepEqual(toRows(noStd.transform(X)), [[-1], [1]]);
  assert.equal(noStd.scale, null);
  assert.equal(noStd.variance, null);
  const neither = new StandardScaler({ withMean: false, withStd: false }).fit(X);
  assert.equal(neither.mean, null);
  assert.deepEqual(toRows(neither.transform(X)), [[1], [3]]);
});

test("NaN is ignored by fit and kept by transform; infinity is refused", () => {
  const X = denseFromRows([
    [1, Number.NaN],
    [Number.NaN, 2],
    [3, 4],
  ]);
  const s = new StandardScaler().fit(X);
  assert.deepEqual(Array.from(s.mean ?? []), [2, 3]);
  assert.deepEqual(Array.from(s.nSamplesSeen), [2, 2]);
  const out = toRows(s.transform(X));
  assert.deepEqual(out[0], [-1, Number.NaN]);
  assert.deepEqual(out[1], [Number.NaN, -1]);
  assert.throws(
    () => new StandardScaler().fit(denseFromRows([[Number.POSITIVE_INFINITY]])),
    /Infinity at row 0, column 0/,
  );
});

test("errors: not fitted, wrong width, bad options", () => {
  const s = new StandardScaler();
  assert.throws(() => s.transform(denseFromRows([[1]])), { name: "MlError", message: /StandardScaler is not fitted/ });
  assert.throws(() => s.mean, /not fitted/);
  s.fit(denseFromRows([[1, 2]]));
  assert.throws(() => s.transform(denseFromRows([[1, 2, 3]])), /X has 3 features, but the scaler was fitted on 2/);
  assert.throws(() => new StandardScaler({ withMean: "yes" as unknown as boolean }), MlError);
});

test("inverseTransform undoes transform (property) and output columns are standardised", () => {
  const matrix = fc.array(fc.array(fc.double({ min: -1e3, max: 1e3, noNaN: true }), { minLength: 3, maxLength: 3 }), {
    minLength: 2,
    maxLength: 20,
  });
  fc.assert(
    fc.property(matrix, (rows) => {
      const X = denseFromRows(rows);
      const s = new StandardScaler().fit(X);
      const back = s.inverseTransform(s.transform(X));
      back.data.forEach((v, k) => {
        const x = X.data[k] as number;
        assert.ok(Math.abs(v - x) <= 1e-9 * Math.max(1, Math.abs(x)));
      });
    }),
  );
});

test("toJSON / fromJSON round trip (with an all-NaN column) and malformed input", () => {
  const s = new StandardScaler().fit(
    denseFromRows([
      [1, Number.NaN],
      [2, Number.NaN],
    ]),
  );
  const json = JSON.parse(JSON.stringify(s.toJSON())) as ReturnType<StandardScaler["toJSON"]>;
  assert.deepEqual([json.type, json.version], ["StandardScaler", 1]);
  const s2 = StandardScaler.fromJSON(json);
  assert.deepEqual(Array.from(s2.mean ?? []), Array.from(s.mean ?? []));
  assert.deepEqual(toRows(s2.transform(denseFromRows([[3, 1]]))), toRows(s.transform(denseFromRows([[3, 1]]))));
  for (const bad of [
    { ...json, type: "X" },
    { ...json, version: 2 },
    { ...json, mean: [1] },
    { ...json, scale: [0, 1] },
    { ...json, variance: null },
    { ...json, nSamplesSeen: [1.5, 2] },
    { ...json, options: { withMean: true } },
  ]) {
    assert.throws(() => StandardScaler.fromJSON(bad), MlError, JSON.stringify(bad));
  }
});
