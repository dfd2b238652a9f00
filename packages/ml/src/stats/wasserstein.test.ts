import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  energyDistance,
  energyDistanceFromSorted,
  normalizedWasserstein,
  normalizedWassersteinFromSorted,
  wassersteinDistance,
  wassersteinFromSorted,
} from "./wasserstein.js";
import { populationStd, sortedFinite } from "./sorted.js";
import { assertClose, num, numericCases } from "./testing/scipy-cases.js";
import { throwsMl } from "../testing/assertions.js";

describe("Wasserstein and energy distance against SciPy 1.10 / Evidently", () => {
  for (const c of numericCases()) {
    it(c.id, () => {
      const e = c.expected;
      // measured worst relative errors: W1 4.3e-16, std 1.4e-15, normed W1 6.3e-16, energy 4.0e-16
      assertClose(wassersteinDistance(c.ref, c.cur), num(e, "wasserstein"), 1e-9, "wasserstein");
      assertClose(populationStd(c.ref), num(e, "ref_std_ddof0"), 1e-9, "std");
      assertClose(normalizedWasserstein(c.ref, c.cur), num(e, "wasserstein_norm_evidently"), 1e-9, "normed");
      assertClose(energyDistance(c.ref, c.cur), num(e, "energy_distance"), 1e-9, "energy");
      const sr = sortedFinite(c.ref);
      const sc = sortedFinite(c.cur);
      assert.equal(wassersteinFromSorted(sr, sc), wassersteinDistance(c.ref, c.cur));
      assert.equal(energyDistanceFromSorted(sr, sc), energyDistance(c.ref, c.cur));
      assert.equal(normalizedWassersteinFromSorted(sr, sc), normalizedWasserstein(c.ref, c.cur));
    });
  }
});

describe("Wasserstein and energy distance by hand", () => {
  it("scipy docstring values", () => {
    assert.equal(wassersteinDistance([0, 1, 3], [5, 6, 8]), 5);
    assert.equal(wassersteinDistance([0, 1], [0, 1]), 0);
    // one point each: W1 = |a − b|, energy = √(2|a − b|)
    assert.equal(wassersteinDistance([0], [2]), 2);
    assertClose(energyDistance([0], [2]), 2, 1e-15, "energy of two points"); // SciPy: 2.0000000000000004
    // F_u − F_v = ½ on [0, 1) and on [1, 2): ∫|·| = 1, energy = √(2·(¼ + ¼)) = 1
    assertClose(wassersteinDistance([0, 1], [1, 2]), 1, 1e-15, "w");
    assertClose(energyDistance([0, 1], [1, 2]), 1, 1e-15, "energy");
  });

  it("is symmetric, shift-invariant and handles ties", () => {
    const u = [1, 1, 2, 5, 5, 5];
    const v = [0, 2, 2, 3];
    assertClose(wassersteinDistance(u, v), wassersteinDistance(v, u), 1e-15, "symmetric");
    assertClose(
      wassersteinDistance(
        u.map((x) => x + 10),
        v.map((x) => x + 10),
      ),
      wassersteinDistance(u, v),
      1e-14,
      "shift",
    );
    // F_u − F_v: [0,1): −¼, [1,2): ⅓−¼, [2,3): ½−¾, [3,5): ½−1 → ¼ + 1/12 + ¼ + 1 = 19/12
    assertClose(wassersteinDistance(u, v), 19 / 12, 1e-15, "value");
  });

  it("normalises by the population std of the reference, floored at 0.001", () => {
    assertClose(normalizedWasserstein([1, 3], [2, 4]), 1 / 1, 1e-15, "std 1");
    assertClose(normalizedWasserstein([2, 2, 2], [2, 3]), 0.5 / 0.001, 1e-12, "constant reference");
    assertClose(populationStd([2, 4, 4, 4, 5, 5, 7, 9]), 2, 1e-15, "std");
  });

  it("follows SciPy with infinite values", () => {
    assert.equal(wassersteinDistance([1, Infinity], [0, 2]), Infinity);
    assert.ok(Number.isNaN(wassersteinDistance([Infinity, Infinity], [0, 1])));
    // the pooled values ∞, ∞ have the difference ∞ − ∞ = NaN in SciPy
    assert.ok(Number.isNaN(wassersteinDistance([Infinity], [Infinity])));
    assert.ok(Number.isNaN(energyDistance([-Infinity, 0], [-Infinity, 1])));
  });

  it("rejects empty samples, NaN and unsorted input", () => {
    throwsMl(() => wassersteinDistance([], [1]), /non-empty/);
    throwsMl(() => energyDistance([1], []), /non-empty/);
    throwsMl(() => wassersteinDistance([1, NaN], [1]), /NaN/);
    throwsMl(() => populationStd([]), /empty/);
    throwsMl(() => wassersteinFromSorted(Float64Array.from([2, 1]), Float64Array.from([0])), /not sorted/);
    throwsMl(() => energyDistanceFromSorted(Float64Array.from([1, NaN]), Float64Array.from([0])), /NaN/);
  });

  it("sortedFinite drops NaN only", () => {
    assert.deepEqual(Array.from(sortedFinite([3, NaN, -Infinity, 1, Infinity, NaN, -0])), [
      -Infinity,
      -0,
      1,
      3,
      Infinity,
    ]);
  });
});
