import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { leastSquares } from "./least-squares.js";
import { closeAll } from "../testing/assertions.js";

describe("leastSquares", () => {
  it("solves square and overdetermined systems and satisfies the normal equations (property)", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 6 }),
        fc.integer({ min: 0, max: 6 }),
        fc.array(fc.double({ min: -10, max: 10, noNaN: true }), { minLength: 200, maxLength: 200 }),
        (n, extra, values) => {
          const m = n + extra;
          const A = Float64Array.from(values.slice(0, m * n));
          const b = Float64Array.from(values.slice(100, 100 + m));
          const { x, rank } = leastSquares(A, m, n, b, 1);
          if (rank < n) return;
          // Aᵀ(Ax − b) = 0
          for (let j = 0; j < n; j++) {
            let g = 0;
            let scale = 0;
            for (let i = 0; i < m; i++) {
              let r = -(b[i] as number);
              for (let k = 0; k < n; k++) r += (A[i * n + k] as number) * (x[k] as number);
              g += (A[i * n + j] as number) * r;
              scale += Math.abs(A[i * n + j] as number) * (Math.abs(b[i] as number) + 1);
            }
            assert.ok(Math.abs(g) <= 1e-8 * scale * (1 + Math.max(...Array.from(x, Math.abs))), `gradient ${g}`);
          }
        },
      ),
      { numRuns: 100, seed: 11 },
    );
  });

  it("returns the minimum-norm solution of an underdetermined system", () => {
    // x + y + z = 3: minimum norm (1, 1, 1)
    const { x, rank } = leastSquares(Float64Array.from([1, 1, 1]), 1, 3, Float64Array.from([3]), 1);
    assert.equal(rank, 1);
    closeAll(x, [1, 1, 1], 1e-14);
  });

  it("returns zeros for a zero matrix", () => {
    const { x, rank } = leastSquares(new Float64Array(6), 3, 2, Float64Array.from([1, 2, 3]), 1);
    assert.equal(rank, 0);
    assert.deepEqual(Array.from(x), [0, 0]);
  });
});
