import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { besselKScaled, cramerVonMises2, cramerVonMises2FromSorted, cvmLimitCdf } from "./cramer-von-mises.js";
import { sortedFinite } from "./sorted.js";
import { assertClose, num, numericCases } from "./testing/scipy-cases.js";
import { throwsMl } from "../testing/assertions.js";

// Samples of 20 / 21 / 20 values (exact vs asymptotic switch) and SciPy 1.17.1 results (same code as 1.10)
const A20 = [
  0.0, 2.975, -0.767, -2.777, 1.482, 2.395, -2.1, -1.854, 2.577, 1.19, -2.884, -0.447, 2.999, -0.326, -2.915, 1.077,
  2.638, -1.757, -2.185, 2.32,
];
const B20 = [
  3.5, 2.365, -0.182, -2.212, -2.19, -0.132, 2.404, 3.5, 2.325, -0.231, -2.233, -2.168, -0.083, 2.443, 3.498, 2.285,
  -0.279, -2.254, -2.144, -0.033,
];

describe("cramerVonMises2 against SciPy 1.10 cramervonmises_2samp", () => {
  for (const c of numericCases()) {
    it(c.id, () => {
      const e = c.expected;
      const r = cramerVonMises2(c.ref, c.cur);
      assert.equal(r.method, "asymptotic");
      // measured: the statistic is bit-identical (exact integer rank sums)
      assertClose(r.statistic, num(e, "cramervonmises_2samp.statistic"), 1e-9, "statistic");
      // p = 1 − CDF loses everything below ~1e-16 absolute. SciPy's kv(0.25, ·) (AMOS) is off by up to 7e-14
      // relative near q ≈ 2, which puts SciPy's p-values ~2e-15 (absolute) away from the exactly truncated
      // series (checked with 40-digit mpmath; this module is within 2e-16). So the p-values are compared with
      // atol 5e-15 on top of rtol 1e-9: measured worst absolute difference 2.4e-15, which is 1.7e-6 relative
      // for the smallest p (9.5e-10, num_scale_n5000) and below 1.4e-14 relative for p > 1e-3.
      assertClose(r.pvalue, num(e, "cramervonmises_2samp.pvalue"), 1e-9, "pvalue", 5e-15);
      assert.deepEqual(cramerVonMises2FromSorted(sortedFinite(c.ref), sortedFinite(c.cur)), r);
    });
  }
});

describe("cramerVonMises2 by hand and small samples", () => {
  it("complete separation of 5 and 5: exact p = 2/C(10,5)", () => {
    const r = cramerVonMises2([1, 2, 3, 4, 5], [6, 7, 8, 9, 10]);
    assert.equal(r.method, "exact");
    // ranks of x are 1…5 (r − i = 0), of y 6…10 (r − j = 5): U = 5·5·25 = 625, T = 625/250 − 99/60 = 0.85
    assertClose(r.statistic, 0.85, 1e-15, "T");
    assertClose(r.pvalue, 2 / 252, 1e-15, "p");
  });

  it("identical samples give T = 0 and p = 1", () => {
    const x = Array.from({ length: 30 }, (_, i) => i);
    assert.deepEqual(cramerVonMises2(x, x), { statistic: 0, pvalue: 1, method: "asymptotic" });
  });

  it("matches SciPy with ties (mid-ranks) and around the exact/asymptotic switch", () => {
    const cases: [number[], number[], number, number, "exact" | "asymptotic"][] = [
      [[1, 1, 2, 3, 3, 3, 4], [2, 2, 3, 5, 5, 1], 0.08379120879120894, 0.7546620046620046, "exact"],
      [
        [0.3, -1.2, 0.8, 2.2, 0.1, -0.4, 1.7, 0.9],
        [1.1, 2.5, 0.4, 3.0, 1.9, 2.2, 0.6, 1.4, 2.8, 0.2, 1.0],
        0.3892045454545454,
        0.0828371834563785,
        "exact",
      ],
      [A20, B20, 0.06812500000000021, 0.7847246963704864, "exact"],
      [[...A20, 1.587], B20, 0.06631823461091724, 0.8083789978785496, "asymptotic"],
    ];
    for (const [x, y, statistic, pvalue, method] of cases) {
      const r = cramerVonMises2(x, y);
      assert.equal(r.method, method);
      assertClose(r.statistic, statistic, 1e-12, `T (${x.length}, ${y.length})`);
      assertClose(r.pvalue, pvalue, 1e-12, `p (${x.length}, ${y.length})`);
    }
  });

  it("the limiting CDF is a distribution function", () => {
    assert.ok(cvmLimitCdf(0.01) < 1e-5 && cvmLimitCdf(0.01) > 0);
    assertClose(cvmLimitCdf(0.46136), 0.95, 1e-3, "95% quantile of ω²"); // tabulated 0.46136
    assert.ok(cvmLimitCdf(2) > 0.9999);
  });

  it("e^x K_{1/4}(x) matches 30-digit mpmath", () => {
    const values: [number, number][] = [
      [1e-6, 68.1072959969969],
      [0.01, 6.227707994041589],
      [0.25, 2.101960916165517],
      [1.0, 1.1708721016781378],
      [2.0, 0.8525365601750416],
      [7.5, 0.4522940908041791],
      [100.0, 0.12521455157193678],
    ];
    // measured worst relative error over 1e-8 … 1e4: 6.7e-16
    for (const [x, v] of values) assertClose(besselKScaled(0.25, x), v, 3e-15, `K(${x})`);
  });

  it("rejects samples with fewer than two values, NaN and unsorted input", () => {
    throwsMl(() => cramerVonMises2([1], [1, 2, 3]), /at least two/);
    throwsMl(() => cramerVonMises2([1, NaN], [1, 2, 3]), /NaN/);
    throwsMl(() => cramerVonMises2FromSorted(Float64Array.from([3, 1]), Float64Array.from([1, 2])), /sorted/);
  });
});
