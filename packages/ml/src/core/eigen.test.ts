import assert from "node:assert/strict";
import { test } from "node:test";
import { closeAll, throwsMl } from "../testing/assertions.js";
import { symmetricEigen } from "./eigen.js";
import { dense, denseFromRows, type DenseMatrix } from "./matrix.js";
import { Random } from "./random.js";

function column(m: DenseMatrix, j: number): number[] {
  return Array.from({ length: m.rows }, (_, i) => m.data[i * m.cols + j] as number);
}

function randomSymmetric(n: number, seed: number): DenseMatrix {
  const random = new Random(seed);
  const m = dense(n, n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      const v = random.normal();
      m.data[i * n + j] = v;
      m.data[j * n + i] = v;
    }
  }
  return m;
}

/** max |(VᵀV − I)_ij| and max |(V·diag(λ)·Vᵀ − A)_ij| / max(1, max|A|). */
function residuals(
  a: DenseMatrix,
  values: Float64Array,
  v: DenseMatrix,
): { orthogonality: number; reconstruction: number } {
  const n = a.rows;
  let orthogonality = 0;
  let reconstruction = 0;
  let scale = 1;
  for (const x of a.data) scale = Math.max(scale, Math.abs(x));
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      let dot = 0;
      let rebuilt = 0;
      for (let k = 0; k < n; k++) {
        dot += (v.data[k * n + i] as number) * (v.data[k * n + j] as number);
        rebuilt += (v.data[i * n + k] as number) * (values[k] as number) * (v.data[j * n + k] as number);
      }
      orthogonality = Math.max(orthogonality, Math.abs(dot - (i === j ? 1 : 0)));
      reconstruction = Math.max(reconstruction, Math.abs(rebuilt - (a.data[i * n + j] as number)) / scale);
    }
  }
  return { orthogonality, reconstruction };
}

test("a 2 × 2 matrix: [[2, 1], [1, 2]] has eigenvalues 3 and 1 with vectors (1, 1)/√2 and (1, −1)/√2", () => {
  const { values, vectors } = symmetricEigen(
    denseFromRows([
      [2, 1],
      [1, 2],
    ]),
  );
  closeAll(values, [3, 1], 1e-14);
  const r = Math.SQRT1_2;
  closeAll(column(vectors, 0), [r, r], 1e-14);
  // sign rule: the largest component (the first of two equal ones) is positive
  closeAll(column(vectors, 1), [r, -r], 1e-14);
});

test("a diagonal matrix: its sorted diagonal and unit vectors, also with repeated and negative values", () => {
  const { values, vectors } = symmetricEigen(
    denseFromRows([
      [1, 0, 0, 0],
      [0, -4, 0, 0],
      [0, 0, 7, 0],
      [0, 0, 0, 1],
    ]),
  );
  closeAll(values, [7, 1, 1, -4], 0);
  closeAll(column(vectors, 0), [0, 0, 1, 0], 0);
  closeAll(column(vectors, 3), [0, 1, 0, 0], 0);
});

test("a 3 × 3 matrix with known eigenvalues: the tridiagonal [[2, −1, 0], [−1, 2, −1], [0, −1, 2]]", () => {
  // eigenvalues 2 − 2·cos(kπ/4), k = 1..3: 2 + √2, 2, 2 − √2; eigenvector k ∝ sin(jkπ/4)
  const { values, vectors } = symmetricEigen(
    denseFromRows([
      [2, -1, 0],
      [-1, 2, -1],
      [0, -1, 2],
    ]),
  );
  closeAll(values, [2 + Math.SQRT2, 2, 2 - Math.SQRT2], 1e-14);
  // sign rule: the middle component is the largest, so it is the positive one
  closeAll(column(vectors, 0), [-0.5, Math.SQRT1_2, -0.5], 1e-14);
  closeAll(column(vectors, 1), [Math.SQRT1_2, 0, -Math.SQRT1_2], 1e-14);
  closeAll(column(vectors, 2), [0.5, Math.SQRT1_2, 0.5], 1e-14);
});

test("a dense 4 × 4 with a hand-checkable spectrum: J (all ones) has eigenvalues 4, 0, 0, 0", () => {
  const ones = dense(4, 4, new Float64Array(16).fill(1));
  const { values, vectors } = symmetricEigen(ones);
  closeAll(values, [4, 0, 0, 0], 1e-14);
  closeAll(column(vectors, 0), [0.5, 0.5, 0.5, 0.5], 1e-14);
  const r = residuals(ones, values, vectors);
  assert.ok(r.orthogonality < 1e-14 && r.reconstruction < 1e-14, JSON.stringify(r));
});

test("a rank-one covariance u·uᵀ: one eigenvalue ‖u‖² with vector u/‖u‖, the rest 0", () => {
  const u = [1, 2, 3, 4, 5];
  const m = dense(5, 5);
  u.forEach((a, i) => u.forEach((b, j) => (m.data[i * 5 + j] = a * b)));
  const { values, vectors } = symmetricEigen(m);
  closeAll(values, [55, 0, 0, 0, 0], 1e-13);
  closeAll(
    column(vectors, 0),
    u.map((x) => x / Math.sqrt(55)),
    1e-14,
  );
});

test("random symmetric matrices up to 120 × 120: orthonormal vectors, A = V·Λ·Vᵀ, the trace and sorted values", () => {
  for (const [n, seed] of [
    [1, 1],
    [2, 2],
    [3, 3],
    [10, 4],
    [37, 5],
    [120, 6],
  ] as const) {
    const a = randomSymmetric(n, seed);
    const { values, vectors } = symmetricEigen(a);
    const r = residuals(a, values, vectors);
    assert.ok(r.orthogonality < 1e-12, `n=${n}: VᵀV − I up to ${r.orthogonality}`);
    assert.ok(r.reconstruction < 1e-12, `n=${n}: V·Λ·Vᵀ − A up to ${r.reconstruction}`);
    let trace = 0;
    for (let i = 0; i < n; i++) trace += a.data[i * n + i] as number;
    assert.ok(Math.abs(values.reduce((s, x) => s + x, 0) - trace) < 1e-10 * n);
    for (let i = 1; i < n; i++) assert.ok((values[i - 1] as number) >= (values[i] as number));
  }
});

test("a covariance matrix XᵀX is positive semi-definite: no eigenvalue below −ε·λ_max", () => {
  const random = new Random(11);
  const n = 30;
  const x = Array.from({ length: 200 }, () => Array.from({ length: n }, () => random.normal()));
  // two exactly collinear columns make the matrix singular
  for (const row of x) row[1] = 2 * (row[0] as number);
  const c = dense(n, n);
  for (const row of x) {
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < n; j++)
        c.data[i * n + j] = (c.data[i * n + j] as number) + (row[i] as number) * (row[j] as number);
    }
  }
  const { values } = symmetricEigen(c);
  const min = values[n - 1] as number;
  assert.ok(Math.abs(min) < 1e-12 * (values[0] as number), `smallest eigenvalue ${min}`);
  assert.ok((values[n - 2] as number) > 1, "only one direction is degenerate");
});

test("a 300 × 300 matrix decomposes in well under a second", () => {
  const a = randomSymmetric(300, 99);
  const start = performance.now();
  const { values, vectors } = symmetricEigen(a);
  const ms = performance.now() - start;
  assert.ok(ms < 2000, `took ${ms.toFixed(0)} ms`);
  const r = residuals(a, values, vectors);
  assert.ok(r.orthogonality < 1e-11 && r.reconstruction < 1e-11, JSON.stringify(r));
});

test("the empty matrix and graded scales", () => {
  const empty = symmetricEigen(dense(0, 0));
  assert.equal(empty.values.length, 0);
  const graded = denseFromRows([
    [1e10, 1, 0],
    [1, 1, 1e-10],
    [0, 1e-10, 1e-20],
  ]);
  const { values, vectors } = symmetricEigen(graded);
  const r = residuals(graded, values, vectors);
  assert.ok(r.orthogonality < 1e-14 && r.reconstruction < 1e-14, JSON.stringify(r));
});

test("bad input: not square, not symmetric, not finite", () => {
  throwsMl(() => symmetricEigen(dense(2, 3)), /must be square, got 2 × 3/);
  throwsMl(
    () =>
      symmetricEigen(
        denseFromRows([
          [1, 2],
          [3, 1],
        ]),
      ),
    /not symmetric: entries \(0, 1\) and \(1, 0\) differ by 1/,
  );
  throwsMl(
    () =>
      symmetricEigen(
        denseFromRows([
          [1, Number.NaN],
          [Number.NaN, 1],
        ]),
      ),
    /NaN at row 0, column 1/,
  );
  // a round-off asymmetry is accepted and symmetrised
  const { values } = symmetricEigen(
    denseFromRows([
      [2, 1 + 1e-13],
      [1, 2],
    ]),
  );
  closeAll(values, [3, 1], 1e-12);
});
