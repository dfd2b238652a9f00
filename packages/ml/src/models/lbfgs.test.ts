import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { minimizeLbfgs, wolfeLineSearch } from "./lbfgs.js";
import type { Objective } from "./lbfgs.js";

/** The Rosenbrock function in n dimensions, minimum 0 at (1, …, 1). */
const rosenbrock: Objective = (x, g) => {
  g.fill(0);
  let f = 0;
  for (let i = 0; i + 1 < x.length; i++) {
    const a = x[i] as number;
    const b = x[i + 1] as number;
    f += 100 * (b - a * a) ** 2 + (1 - a) ** 2;
    g[i] = (g[i] as number) - 400 * a * (b - a * a) - 2 * (1 - a);
    g[i + 1] = (g[i + 1] as number) + 200 * (b - a * a);
  }
  return f;
};

/** ½ xᵀ diag(d) x − bᵀx. */
function quadratic(d: readonly number[], b: readonly number[]): Objective {
  return (x, g) => {
    let f = 0;
    for (let i = 0; i < x.length; i++) {
      const xi = x[i] as number;
      f += 0.5 * (d[i] as number) * xi * xi - (b[i] as number) * xi;
      g[i] = (d[i] as number) * xi - (b[i] as number);
    }
    return f;
  };
}

describe("minimizeLbfgs", () => {
  it("finds the Rosenbrock minimum from the classic start (−1.2, 1)", () => {
    const result = minimizeLbfgs(rosenbrock, Float64Array.from([-1.2, 1]), { pgtol: 1e-10, ftol: 0, maxIter: 500 });
    assert.equal(result.status, "gradient");
    assert.ok(result.converged, result.message);
    assert.ok(Math.abs((result.x[0] as number) - 1) < 1e-8, `x0 = ${result.x[0]}`);
    assert.ok(Math.abs((result.x[1] as number) - 1) < 1e-8, `x1 = ${result.x[1]}`);
    assert.ok(result.gradientNorm <= 1e-10, `gradient ${result.gradientNorm}`);
  });

  it("solves a 10-dimensional Rosenbrock", () => {
    const result = minimizeLbfgs(rosenbrock, new Float64Array(10), { pgtol: 1e-9, ftol: 0, maxIter: 1000 });
    assert.ok(result.converged, result.message);
    for (const v of result.x) assert.ok(Math.abs(v - 1) < 1e-6, `component ${v}`);
  });

  it("minimises quadratics with condition numbers up to 1e3 to the tolerance (property)", () => {
    fc.assert(
      fc.property(
        fc.array(fc.double({ min: 0.1, max: 100, noNaN: true }), { minLength: 1, maxLength: 30 }),
        fc.integer({ min: 0, max: 1000 }),
        (d, seed) => {
          const b = d.map((_, i) => Math.sin(seed + i) * 10);
          const result = minimizeLbfgs(quadratic(d, b), new Float64Array(d.length), {
            pgtol: 1e-9,
            ftol: 0,
            maxIter: 2000,
          });
          assert.ok(result.converged, result.message);
          d.forEach((di, i) => {
            const want = (b[i] as number) / di;
            const got = result.x[i] as number;
            assert.ok(Math.abs(got - want) <= (1e-9 / di) * 1.01 + 1e-12, `x[${i}] = ${got}, want ${want}`);
          });
        },
      ),
      { numRuns: 60, seed: 1 },
    );
  });

  it("keeps a history, reports iterations and stops at maxIter without converging", () => {
    const seen: number[] = [];
    const result = minimizeLbfgs(rosenbrock, Float64Array.from([-1.2, 1]), {
      maxIter: 5,
      pgtol: 0,
      onIteration: ({ iteration }) => seen.push(iteration),
    });
    assert.equal(result.status, "max-iter");
    assert.equal(result.converged, false);
    assert.deepEqual(seen, [1, 2, 3, 4, 5]);
    assert.equal(result.lossHistory.length, 6);
    assert.ok(Math.abs((result.lossHistory[0] as number) - 24.2) < 1e-12, "f(−1.2, 1) = 24.2");
    for (let i = 1; i < 6; i++) {
      assert.ok((result.lossHistory[i] as number) < (result.lossHistory[i - 1] as number), `iteration ${i}`);
    }
  });

  it("stops at once when the start is optimal, and on the relative reduction rule", () => {
    const at = minimizeLbfgs(quadratic([1, 2], [0, 0]), new Float64Array(2));
    assert.equal(at.nIter, 0);
    assert.equal(at.status, "gradient");
    // f = 1e12 + ½(x² + 4y²): the first step's decrease is ~1e-14 of f, below ftol = 64·2⁻⁵²
    const offset = quadratic([1, 4], [0, 0]);
    const flat = minimizeLbfgs((x, g) => 1e12 + offset(x, g), Float64Array.from([0.1, 0.1]), { pgtol: 1e-12 });
    assert.equal(flat.status, "relative-reduction");
    assert.ok(flat.converged, flat.message);
  });

  it("does not modify x0 and reports a non-finite start", () => {
    const x0 = Float64Array.from([3, 4]);
    minimizeLbfgs(quadratic([1, 1], [1, 1]), x0);
    assert.deepEqual(Array.from(x0), [3, 4]);
    const bad = minimizeLbfgs(() => Number.NaN, new Float64Array(1));
    assert.equal(bad.converged, false);
    assert.equal(bad.status, "line-search");
  });

  it("backs off from steps where the objective overflows", () => {
    // f = exp(x) + exp(−x) from x = 5: a unit step along −g overflows
    const f: Objective = (x, g) => {
      const v = x[0] as number;
      g[0] = Math.exp(v) - Math.exp(-v);
      return Math.exp(v) + Math.exp(-v);
    };
    const result = minimizeLbfgs(f, Float64Array.from([5]), { pgtol: 1e-10, ftol: 0 });
    assert.ok(result.converged, result.message);
    assert.ok(Math.abs(result.x[0] as number) < 1e-9, `x = ${result.x[0]}`);
  });
});

describe("wolfeLineSearch", () => {
  it("returns steps satisfying the strong Wolfe conditions (property)", () => {
    fc.assert(
      fc.property(
        fc.double({ min: -2, max: 2, noNaN: true }),
        fc.double({ min: -2, max: 2, noNaN: true }),
        fc.double({ min: 1e-4, max: 100, noNaN: true }),
        (a, b, alpha0) => {
          const x = Float64Array.from([a, b]);
          const g = new Float64Array(2);
          const f0 = rosenbrock(x, g);
          const direction = Float64Array.from([-(g[0] as number), -(g[1] as number)]);
          const d0 = -((g[0] as number) ** 2 + (g[1] as number) ** 2);
          if (!(d0 < -1e-8)) return;
          const step = wolfeLineSearch(rosenbrock, x, direction, { alpha0 });
          assert.ok(step !== undefined, "a step was found");
          const d =
            (step.gradient[0] as number) * (direction[0] as number) +
            (step.gradient[1] as number) * (direction[1] as number);
          assert.ok(step.f <= f0 + 1e-4 * step.alpha * d0, `sufficient decrease: ${step.f} vs ${f0}`);
          assert.ok(Math.abs(d) <= 0.9 * Math.abs(d0), `curvature: ${d} vs ${d0}`);
        },
      ),
      { numRuns: 200, seed: 3 },
    );
  });

  it("rejects a direction that does not descend", () => {
    const x = Float64Array.from([0]);
    assert.equal(wolfeLineSearch(quadratic([1], [1]), x, Float64Array.from([-1])), undefined);
  });
});
