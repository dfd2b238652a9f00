import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { meanAbsoluteError, meanSquaredError, r2Score, rootMeanSquaredError } from "./regression.js";
import { throwsMl } from "../testing/assertions.js";

const near = (a: number, b: number, tol = 1e-12): void => assert.ok(Math.abs(a - b) <= tol, `${a} vs ${b}`);

const Y_TRUE = [3, -0.5, 2, 7];
const Y_PRED = [2.5, 0.0, 2, 8];

describe("regression metrics", () => {
  it("match the docstrings of mean_absolute_error, mean_squared_error, root_mean_squared_error, r2_score", () => {
    assert.equal(meanAbsoluteError(Y_TRUE, Y_PRED), 0.5);
    assert.equal(meanSquaredError(Y_TRUE, Y_PRED), 0.375);
    near(rootMeanSquaredError(Y_TRUE, Y_PRED), 0.6123724356957945); // 0.612...
    near(r2Score(Y_TRUE, Y_PRED), 0.9486081370449679); // 0.948...
    assert.equal(r2Score([1, 2, 3], [1, 2, 3]), 1);
    assert.equal(r2Score([1, 2, 3], [2, 2, 2]), 0);
    assert.equal(r2Score([1, 2, 3], [3, 2, 1]), -3);
  });

  it("handle a constant y as scikit-learn's force_finite=True", () => {
    // r2_score docstring: [-2, -2, -2] vs itself -> 1.0; vs [-2, -2, -2 + 1e-8] -> 0.0
    assert.equal(r2Score([-2, -2, -2], [-2, -2, -2]), 1);
    assert.equal(r2Score([-2, -2, -2], [-2, -2, -2 + 1e-8]), 0);
    assert.equal(r2Score([0.1, 0.1, 0.1], [0.1, 0.1, 0.1], { sampleWeight: [0.3, 0.3, 0.4] }), 1);
  });

  it("match scikit-learn 1.2.1 with sample weights [1, 2, 3, 4]", () => {
    const sampleWeight = [1, 2, 3, 4];
    near(r2Score(Y_TRUE, Y_PRED, { sampleWeight }), 0.9459613196814562);
    near(meanAbsoluteError(Y_TRUE, Y_PRED, { sampleWeight }), 0.55);
    near(meanSquaredError(Y_TRUE, Y_PRED, { sampleWeight }), 0.475);
  });

  it("R² is NaN with a warning for a single sample", () => {
    let warning = "";
    assert.ok(Number.isNaN(r2Score([1], [2], { onWarning: (m) => (warning = m) })), "NaN");
    assert.match(warning, /fewer than two samples/);
  });

  it("integer weights equal repeated samples (property)", () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.tuple(
            fc.double({ min: -100, max: 100, noNaN: true }),
            fc.double({ min: -100, max: 100, noNaN: true }),
            fc.integer({ min: 1, max: 3 }),
          ),
          {
            minLength: 2,
            maxLength: 30,
          },
        ),
        (rows) => {
          const t = rows.map(([a]) => a);
          const p = rows.map(([, b]) => b);
          const w = rows.map(([, , c]) => c);
          const rt = rows.flatMap(([a, , c]) => Array<number>(c).fill(a));
          const rp = rows.flatMap(([, b, c]) => Array<number>(c).fill(b));
          near(meanSquaredError(t, p, { sampleWeight: w }), meanSquaredError(rt, rp), 1e-9);
          near(meanAbsoluteError(t, p, { sampleWeight: w }), meanAbsoluteError(rt, rp), 1e-9);
          const a = r2Score(t, p, { sampleWeight: w });
          const b = r2Score(rt, rp);
          assert.ok(Math.abs(a - b) <= 1e-7 * Math.max(1, Math.abs(b)), `${a} vs ${b}`);
        },
      ),
      { numRuns: 100, seed: 12 },
    );
  });

  it("name bad input", () => {
    throwsMl(() => meanSquaredError([1, 2], [1]), /yTrue has 2 values but yPred has 1/);
    throwsMl(() => meanAbsoluteError([], []), /yTrue is empty/);
    throwsMl(() => r2Score([1, Number.NaN], [1, 2]), /yTrue has NaN at index 1/);
    throwsMl(() => meanSquaredError([1, 2], [1, 2], { sampleWeight: [0, 0] }), /sum to 0/);
  });
});
