import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { eppsSingleton } from "./epps-singleton.js";
import { assertClose, num, numericCases } from "./testing/scipy-cases.js";
import { throwsMl } from "../testing/assertions.js";

describe("eppsSingleton against SciPy 1.10 epps_singleton_2samp", () => {
  for (const c of numericCases()) {
    it(c.id, () => {
      const e = c.expected;
      const r = eppsSingleton(c.ref, c.cur);
      // measured worst relative errors: statistic 8.1e-13 (num_same_n100000: the mean difference of the
      // characteristic functions cancels ~3 digits, and NumPy sums each column sequentially), p-value 8.4e-13
      const pvalue = num(e, "epps_singleton.pvalue");
      assertClose(r.statistic, num(e, "epps_singleton.statistic"), 1e-9, "statistic");
      assertClose(r.pvalue, pvalue, Math.abs(pvalue) < 1e-100 ? 1e-7 : 1e-9, "pvalue");
      // three distinct values: SciPy warns that the covariance is rank deficient and uses χ² with 2 dof
      assert.equal(r.rank, c.id === "num_3values_n800" ? 2 : 4);
    });
  }
});

describe("eppsSingleton by hand and degenerate data", () => {
  it("matches SciPy with the small-sample correction and with 1–3 degrees of freedom", () => {
    // [x, y, statistic, p, rank] from SciPy 1.17.1 (same code as 1.10); k distinct values give rank k − 1
    const cases: [number[], number[], number, number, number][] = [
      [
        [0.3, -1.2, 0.8, 2.2, 0.1, -0.4, 1.7],
        [1.1, 2.5, 0.4, 3.0, 1.9, 2.2, 0.6, 1.4],
        3.494691736110037,
        0.47868593660930925,
        4,
      ],
      [[0, 1, 0, 1, 1, 0, 1, 1, 0, 1], [1, 1, 0, 1, 1, 1, 1, 0, 1, 1, 1, 1], 0.9576290933955394, 0.3277849497389086, 1],
      [
        [0, 1, 2, 0, 1, 2, 2, 1, 0, 1, 2, 2],
        [0, 0, 0, 1, 0, 2, 0, 0, 1, 0, 0],
        4.74300010960551,
        0.09334060518657279,
        2,
      ],
      [[0, 1, 2, 3, 0, 1, 2, 3, 3, 3], [0, 0, 1, 0, 2, 0, 1, 3, 0, 0, 1, 0], 3.8869430047784035, 0.2739338779915803, 3],
    ];
    for (const [x, y, statistic, pvalue, rank] of cases) {
      const r = eppsSingleton(x, y);
      assert.equal(r.rank, rank);
      // measured worst relative error 1.1e-13 (small samples: condition of the 4×4 covariance)
      assertClose(r.statistic, statistic, 1e-11, `statistic rank ${rank}`);
      assertClose(r.pvalue, pvalue, 1e-11, `pvalue rank ${rank}`);
    }
  });

  it("rejects small samples, non-finite values and a zero interquartile range", () => {
    throwsMl(() => eppsSingleton([1, 2, 3, 4], [1, 2, 3, 4, 5]), /at least 5/);
    throwsMl(() => eppsSingleton([1, 2, 3, 4, NaN], [1, 2, 3, 4, 5]), /non-finite/);
    throwsMl(() => eppsSingleton([1, 2, 3, 4, 5], [1, 2, 3, 4, Infinity]), /non-finite/);
    throwsMl(() => eppsSingleton([1, 1, 1, 1, 1], [1, 1, 1, 1, 2]), /interquartile range/);
  });
});
