import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ANDERSON_SIGNIFICANCE_LEVELS, andersonKSample, andersonKSampleFromSorted } from "./anderson.js";
import { sortedFinite } from "./sorted.js";
import { assertClose, num, numericCases } from "./testing/scipy-cases.js";
import { throwsMl } from "../testing/assertions.js";

const A = [0.3, -1.2, 0.8, 2.2, 0.1, -0.4, 1.7, 0.9, 1.3, -0.2];
const B = [1.1, 2.5, 0.4, 3.0, 1.9, 2.2, 0.6, 1.4, 2.8, 0.2, 1.0];
const C = [0.5, 0.5, 1.5, -0.7, 2.0, 0.9, 0.1, 1.2];

describe("andersonKSample against SciPy 1.10 anderson_ksamp", () => {
  for (const c of numericCases()) {
    it(c.id, () => {
      const e = c.expected;
      const r = andersonKSample([c.ref, c.cur]);
      // measured worst relative error of the statistic: 8.5e-15 (num_same_n5000); p-values identical
      assertClose(r.statistic, num(e, "anderson_ksamp.statistic"), 1e-9, "statistic");
      assertClose(r.pvalue, num(e, "anderson_ksamp.pvalue_capped"), 1e-9, "pvalue");
      assert.equal(r.capped, r.pvalue === 0.25 ? "upper" : r.pvalue === 0.001 ? "lower" : null);
      assert.deepEqual(andersonKSampleFromSorted([sortedFinite(c.ref), sortedFinite(c.cur)]), r);
    });
  }
});

describe("andersonKSample by hand and k > 2", () => {
  it("matches SciPy on interpolated p-values, ties and three samples", () => {
    // [samples, statistic, p] from SciPy 1.17.1 (same code as 1.10)
    const cases: [number[][], number, number][] = [
      [[A, B], 2.1904794297127634, 0.040804956178591374],
      [[A, B, C], 1.1336770932736455, 0.11959669794149119],
      [[A, C], -1.0222557844475033, 0.25],
      [[B, C], 0.793525812325065, 0.15468491326281503],
      [
        [
          [1, 2],
          [3, 4],
        ],
        1.5427784316797186,
        0.07502559142197461,
      ],
      [
        [
          [1, 1, 2],
          [1, 2, 2, 2],
        ],
        0.07068162608739793,
        0.25,
      ],
    ];
    for (const [samples, statistic, pvalue] of cases) {
      const r = andersonKSample(samples);
      assertClose(r.statistic, statistic, 1e-12, `statistic k=${samples.length}`);
      assertClose(r.pvalue, pvalue, 1e-12, `pvalue k=${samples.length}`);
    }
  });

  it("returns Scholz–Stephens critical values (k = 2 and 3)", () => {
    const two = [0.325, 1.226, 1.961, 2.718, 3.752, 4.592, 6.546];
    andersonKSample([A, B]).criticalValues.forEach((v, i) => assertClose(v, two[i] as number, 1e-14, `cv ${i}`));
    const three = andersonKSample([A, B, C]).criticalValues;
    assertClose(three[0] as number, 0.44925883860929594, 1e-14, "k=3 cv 0");
    assertClose(three[6] as number, 5.564191013989369, 1e-14, "k=3 cv 6");
    assert.equal(ANDERSON_SIGNIFICANCE_LEVELS.length, 7);
  });

  it("rejects fewer than two samples, empty samples, a single distinct value and NaN", () => {
    throwsMl(() => andersonKSample([A]), /at least two samples/);
    throwsMl(() => andersonKSample([A, []]), /sample 1 is empty/);
    throwsMl(() => andersonKSample([[1, 1], [1]]), /more than one distinct/);
    throwsMl(() => andersonKSample([A, [1, NaN]]), /NaN/);
    throwsMl(() => andersonKSampleFromSorted([Float64Array.from([2, 1]), Float64Array.from([0, 3])]), /sorted/);
  });
});
